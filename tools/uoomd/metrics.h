/* SPDX-License-Identifier: MIT */
/* metrics.h - counters and their Prometheus text exposition. */
#ifndef UOOMD_METRICS_H
#define UOOMD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define UOOMD_MAX_COUNTERS	1024
#define UOOMD_LABELS_LEN	400

enum uoomd_metric {
	M_EPISODES = 0,		/* uoomd_episodes_total{watch,cgroup} */
	M_ACTIONS,		/* uoomd_actions_total{watch,action,result} */
	M_WAKE_TO_KILL,		/* uoomd_last_wake_to_kill_seconds{watch} (gauge, ns) */
	M_RELOADS,		/* uoomd_reloads_total{result} */
	M_NMETRICS
};

struct uoomd_counter {
	enum uoomd_metric metric;
	char labels[UOOMD_LABELS_LEN];	/* already escaped: watch="a",cgroup="/x" */
	uint64_t value;
};

/* One watched cgroup, for uoomd_watches{watch,cgroup,backend}. */
struct uoomd_watch_gauge {
	const char *watch, *cgroup, *backend;
};

struct uoomd_metrics {
	struct uoomd_counter c[UOOMD_MAX_COUNTERS];
	unsigned int n;
	uint64_t overflow;		/* label sets that did not fit */
	/* filled by the caller before formatting */
	uint64_t log_records, log_dropped;
	uint64_t log_drop_why[8];
	const char *const *drop_names;
	unsigned int ndrop;
	uint64_t enq_count, enq_sum_ns, enq_max_ns;
	uint64_t last_reload_ok_s;	/* CLOCK_REALTIME seconds */
	uint64_t start_s;
};

/* Escape @s as a Prometheus label value into @dst. */
void uoomd_label_escape(char *dst, size_t cap, const char *s);
/* Add @v to the counter (@metric, @labels) (set it for gauges). No alloc. */
void uoomd_metric_add(struct uoomd_metrics *m, enum uoomd_metric metric,
		      const char *labels, uint64_t v);
void uoomd_metric_set(struct uoomd_metrics *m, enum uoomd_metric metric,
		      const char *labels, uint64_t v);
uint64_t uoomd_metric_get(const struct uoomd_metrics *m, enum uoomd_metric metric,
			  const char *labels);
/* Render everything; returns the length or -ENOBUFS. */
int uoomd_metrics_format(const struct uoomd_metrics *m,
			 const struct uoomd_watch_gauge *g, size_t ng,
			 char *buf, size_t cap);
/* Write @len bytes to @path atomically (@path.tmp + rename). */
int uoomd_metrics_write(const char *path, const char *buf, size_t len);

#endif
