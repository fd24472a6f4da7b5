/* SPDX-License-Identifier: MIT */
/* metrics.c - Prometheus text format, written atomically. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "metrics.h"

void uoomd_label_escape(char *dst, size_t cap, const char *s)
{
	size_t n = 0;

	for (; *s && n + 3 < cap; s++) {
		if (*s == '\\' || *s == '"') {
			dst[n++] = '\\';
			dst[n++] = *s;
		} else if (*s == '\n') {
			dst[n++] = '\\';
			dst[n++] = 'n';
		} else {
			dst[n++] = *s;
		}
	}
	dst[n] = '\0';
}

static struct uoomd_counter *find(struct uoomd_metrics *m, enum uoomd_metric metric,
				  const char *labels, int create)
{
	for (unsigned int i = 0; i < m->n; i++)
		if (m->c[i].metric == metric && !strcmp(m->c[i].labels, labels))
			return &m->c[i];
	if (!create)
		return NULL;
	if (m->n == UOOMD_MAX_COUNTERS || strlen(labels) >= UOOMD_LABELS_LEN) {
		m->overflow++;
		return NULL;
	}
	struct uoomd_counter *c = &m->c[m->n++];

	c->metric = metric;
	strcpy(c->labels, labels);
	c->value = 0;
	return c;
}

void uoomd_metric_add(struct uoomd_metrics *m, enum uoomd_metric metric,
		      const char *labels, uint64_t v)
{
	struct uoomd_counter *c = find(m, metric, labels, 1);

	if (c)
		c->value += v;
}

void uoomd_metric_set(struct uoomd_metrics *m, enum uoomd_metric metric,
		      const char *labels, uint64_t v)
{
	struct uoomd_counter *c = find(m, metric, labels, 1);

	if (c)
		c->value = v;
}

uint64_t uoomd_metric_get(const struct uoomd_metrics *m, enum uoomd_metric metric,
			  const char *labels)
{
	struct uoomd_counter *c = find((struct uoomd_metrics *)m, metric, labels, 0);

	return c ? c->value : 0;
}

struct out {
	char *p;
	size_t len, cap;
	int over;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->over = 1;
	else
		o->len += (size_t)n;
}

static void ns_seconds(struct out *o, uint64_t ns)
{
	put(o, "%llu.%09llu", (unsigned long long)(ns / 1000000000ull),
	    (unsigned long long)(ns % 1000000000ull));
}

int uoomd_metrics_format(const struct uoomd_metrics *m,
			 const struct uoomd_watch_gauge *g, size_t ng,
			 char *buf, size_t cap)
{
	static const struct {
		const char *name, *type, *help;
	} meta[M_NMETRICS] = {
		[M_EPISODES] = { "uoomd_episodes_total", "counter",
				 "OOM episodes (or pressure events) handled per watched cgroup" },
		[M_ACTIONS] = { "uoomd_actions_total", "counter",
				"Actions taken, by action and result" },
		[M_WAKE_TO_KILL] = { "uoomd_last_wake_to_kill_seconds", "gauge",
				     "Wake-up to SIGKILL sent, last episode of the watch" },
		[M_RELOADS] = { "uoomd_reloads_total", "counter",
				"Configuration reloads (SIGHUP) by result" },
	};
	struct out o = { buf, 0, cap, 0 };
	char esc[3][UOOMD_LABELS_LEN];

	put(&o, "# HELP uoomd_up 1 while uoomd runs\n# TYPE uoomd_up gauge\nuoomd_up 1\n");
	put(&o, "# HELP uoomd_start_time_seconds When uoomd started\n# TYPE uoomd_start_time_seconds gauge\nuoomd_start_time_seconds %llu\n",
	    (unsigned long long)m->start_s);
	put(&o, "# HELP uoomd_watches Watched cgroups and their backend\n# TYPE uoomd_watches gauge\n");
	for (size_t i = 0; i < ng; i++) {
		uoomd_label_escape(esc[0], sizeof(esc[0]), g[i].watch);
		uoomd_label_escape(esc[1], sizeof(esc[1]), g[i].cgroup);
		uoomd_label_escape(esc[2], sizeof(esc[2]), g[i].backend);
		put(&o, "uoomd_watches{watch=\"%s\",cgroup=\"%s\",backend=\"%s\"} 1\n",
		    esc[0], esc[1], esc[2]);
	}
	for (int k = 0; k < M_NMETRICS; k++) {
		put(&o, "# HELP %s %s\n# TYPE %s %s\n", meta[k].name, meta[k].help,
		    meta[k].name, meta[k].type);
		for (unsigned int i = 0; i < m->n; i++) {
			const struct uoomd_counter *c = &m->c[i];

			if ((int)c->metric != k)
				continue;
			put(&o, "%s{%s} ", meta[k].name, c->labels);
			if (k == M_WAKE_TO_KILL)
				ns_seconds(&o, c->value);
			else
				put(&o, "%llu", (unsigned long long)c->value);
			put(&o, "\n");
		}
	}
	put(&o, "# HELP uoomd_config_last_reload_success_timestamp_seconds When the configuration was last loaded\n"
		"# TYPE uoomd_config_last_reload_success_timestamp_seconds gauge\n"
		"uoomd_config_last_reload_success_timestamp_seconds %llu\n",
	    (unsigned long long)m->last_reload_ok_s);
	put(&o, "# HELP uoomd_log_records_total Log records written\n# TYPE uoomd_log_records_total counter\n"
		"uoomd_log_records_total %llu\n", (unsigned long long)m->log_records);
	put(&o, "# HELP uoomd_log_dropped_total Log records dropped (queue or pipe full, write errors)\n"
		"# TYPE uoomd_log_dropped_total counter\nuoomd_log_dropped_total %llu\n",
	    (unsigned long long)m->log_dropped);
	if (m->drop_names) {
		put(&o, "# HELP uoomd_log_dropped_reason_total Log records dropped, by reason\n"
			"# TYPE uoomd_log_dropped_reason_total counter\n");
		for (unsigned int i = 0; i < m->ndrop && i < 8; i++)
			put(&o, "uoomd_log_dropped_reason_total{reason=\"%s\"} %llu\n",
			    m->drop_names[i], (unsigned long long)m->log_drop_why[i]);
	}
	put(&o, "# HELP uoomd_log_enqueue_seconds Time the handling path spent queueing log records\n"
		"# TYPE uoomd_log_enqueue_seconds summary\nuoomd_log_enqueue_seconds_sum ");
	ns_seconds(&o, m->enq_sum_ns);
	put(&o, "\nuoomd_log_enqueue_seconds_count %llu\n", (unsigned long long)m->enq_count);
	put(&o, "# HELP uoomd_log_enqueue_max_seconds Longest time one enqueue took\n"
		"# TYPE uoomd_log_enqueue_max_seconds gauge\nuoomd_log_enqueue_max_seconds ");
	ns_seconds(&o, m->enq_max_ns);
	put(&o, "\n# HELP uoomd_metrics_overflow_total Label sets that did not fit the table\n"
		"# TYPE uoomd_metrics_overflow_total counter\nuoomd_metrics_overflow_total %llu\n",
	    (unsigned long long)m->overflow);
	return o.over ? -ENOBUFS : (int)o.len;
}

int uoomd_metrics_write(const char *path, const char *buf, size_t len)
{
	char tmp[4200];
	int fd, ret = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			break;
		}
		buf += n;
		len -= (size_t)n;
	}
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}
