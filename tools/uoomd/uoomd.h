/* SPDX-License-Identifier: MIT */
/* uoomd.h - the daemon's state, shared by watch.c, action.c and main.c. */
#ifndef UOOMD_H
#define UOOMD_H

#include <uoom.h>
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "settle.h"

#define UOOMD_MAX_WATCHES	256	/* concrete cgroups watched at once */
#define UOOMD_REC_LEN		2048	/* one episode record */
#define UOOMD_METRICS_LEN	(256u << 10)
#define UOOMD_CACHE_MS		250	/* root watches: idle task snapshot */

/* One concrete cgroup a [watch] section's globs matched. */
struct uoomd_entry {
	bool used;
	bool gone;			/* UOOM_EV_REMOVED: drop it */
	bool mark;			/* rescan: still matched */
	char cgroup[UOOM_CGROUP_PATH_MAX];	/* "/" or "/a/b" */
	unsigned int sec;		/* index into d->cfg->watch */
	struct uoom_watch *w;
	struct uoom_policy pol;
	unsigned int delay_ms;		/* applied to the cgroup */
	uint64_t reserve;
	unsigned int backends;
	char psi[64];			/* PSI trigger the watch uses */
	uint64_t last_act_ns;		/* events backend: last action */
	uint64_t settle_until_ns;	/* CLOCK_MONOTONIC end of the window
					   after a kill: no new victim before */
	bool cached;			/* root: the watch's snapshot is taken
					   when idle (UOOM_SNAP_CACHED) */
	struct uoomd_daemon *d;
};

struct uoomd_daemon {
	struct uoomd_config *cfg;
	char cfg_path[UOOMD_PATH_LEN];
	bool dry_run_cli;		/* -n */
	bool verbose;
	struct uoom_ctx *ctx;
	struct uoomd_log log;
	struct uoomd_metrics metrics;
	struct uoomd_entry e[UOOMD_MAX_WATCHES];
	uint64_t episode_seq;
	bool metrics_dirty;
	char rec[UOOMD_REC_LEN];	/* the episode record being formatted */
	char *metrics_buf;
	struct uoomd_watch_gauge gauges[UOOMD_MAX_WATCHES];
};

static inline bool uoomd_dry_run(const struct uoomd_daemon *d)
{
	return d->dry_run_cli || d->cfg->dry_run;
}

/* watch.c */
int uoomd_rescan(struct uoomd_daemon *d);
void uoomd_entry_apply(struct uoomd_daemon *d, struct uoomd_entry *e);
void uoomd_drop_gone(struct uoomd_daemon *d);
void uoomd_unwatch_all(struct uoomd_daemon *d);
unsigned int uoomd_nwatched(const struct uoomd_daemon *d);

/* action.c: the libuoom handler */
int uoomd_handle(struct uoom_watch *w, const struct uoom_event *ev, void *data);

/* Take the cached snapshots of root watches (idle only). */
void uoomd_cache_snapshots(struct uoomd_daemon *d);
unsigned int uoomd_ncached(const struct uoomd_daemon *d);

/* main.c */
void uoomd_write_metrics(struct uoomd_daemon *d);

#endif
