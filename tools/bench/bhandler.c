// SPDX-License-Identifier: MIT
/*
 * bhandler: the smallest libuoom OOM handler, a stand-in for uoomd in make
 * bench until the daemon exists (and a check of the library on its own).
 *
 *   bhandler -b kernel|events -c CGROUP [-d DELAY_MS]
 *
 * Watches CGROUP (relative to /sys/fs/cgroup, "/" = system OOM) with the
 * chosen backend: kernel = memory.oom_notify with DELAY_MS (default 1000)
 * before the kernel falls back; events = memory.events + the default PSI
 * trigger. On an OOM (kernel) or a pressure event (events) it kills the
 * task with the largest RSS through libuoom (pidfd + process_mrelease) and
 * prints one line per episode. Exits 0 on SIGTERM.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "uoom.h"

struct hstate {
	unsigned long episodes, kills;
};

static struct uoom_ctx *g_ctx;

static void on_term(int sig)
{
	(void)sig;
	uoom_stop(g_ctx);
}

static int handler(struct uoom_watch *w, const struct uoom_event *ev, void *data)
{
	struct hstate *st = data;
	const struct uoom_snapshot *snap;
	struct uoom_kill_result res;
	struct uoom_policy pol;
	struct uoom_victim v;
	struct timespec ts;
	long long us;
	int err;

	if (ev->kind == UOOM_EV_REMOVED)
		return 0;
	/* events backend: act on pressure, or an OOM the kernel did not
	 * resolve by itself; memory.events "max" alone is not a reason. */
	if (ev->kind == UOOM_EV_MEM_EVENTS &&
	    !(ev->delta.oom > ev->delta.oom_kill))
		return 0;
	st->episodes++;
	err = uoom_snapshot_take(w, &snap);
	if (err)
		goto fail;
	uoom_policy_init(&pol);
	err = uoom_pick_victim(snap, &pol, &v);
	if (err)
		goto fail;
	/* What the policy saw: the three largest tasks of the snapshot. */
	for (size_t i = 0; i < snap->ntasks && i < 3; i++)
		fprintf(stderr, "bhandler: candidate %zu/%zu: pid %d %s %llu KiB adj %d %s%s\n",
			i + 1, snap->ntasks, (int)snap->tasks[i].pid, snap->tasks[i].comm,
			(unsigned long long)(snap->tasks[i].rss >> 10),
			snap->tasks[i].oom_score_adj, snap->cgroups[snap->tasks[i].cgroup].path,
			snap->truncated ? " (truncated)" : "");
	err = uoom_kill(uoom_watch_ctx(w), &v, 2000, &res);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	us = ((long long)ts.tv_sec * 1000000000LL + ts.tv_nsec -
	      (long long)ev->time_ns - (long long)res.elapsed_ns) / 1000;
	st->kills += res.signalled;
	fprintf(stderr, "bhandler: %s event %d: killed pid %d (%s, %llu KiB) wake_to_kill_us %lld kill_to_exit_us %llu%s\n",
		uoom_backend_name(ev->backend), ev->kind, (int)res.pid,
		v.task->comm, (unsigned long long)(v.task->rss >> 10), us,
		(unsigned long long)(res.elapsed_ns / 1000),
		err ? " (error)" : "");
	return 0;
fail:
	fprintf(stderr, "bhandler: episode %lu: no kill: %s (%d) %s\n",
		st->episodes, strerror(-err), err, uoom_watch_error(w));
	return 0;
}

int main(int argc, char **argv)
{
	const char *backend = "kernel", *cg = NULL;
	struct uoom_watch_opts wo;
	struct uoom_params p;
	struct uoom_watch *w = NULL;
	struct hstate st = { 0 };
	char err[256] = "";
	unsigned int delay = 1000;
	int o, rc;

	while ((o = getopt(argc, argv, "b:c:d:")) != -1) {
		switch (o) {
		case 'b': backend = optarg; break;
		case 'c': cg = optarg; break;
		case 'd': delay = (unsigned int)atoi(optarg); break;
		default:
			fprintf(stderr, "usage: bhandler -b kernel|events -c CGROUP [-d DELAY_MS]\n");
			return 2;
		}
	}
	if (!cg || (strcmp(backend, "kernel") && strcmp(backend, "events"))) {
		fprintf(stderr, "usage: bhandler -b kernel|events -c CGROUP [-d DELAY_MS]\n");
		return 2;
	}
	uoom_params_init(&p);
	p.flags = UOOM_F_MLOCKALL | UOOM_F_OOM_SCORE_ADJ;
	p.errbuf = err;
	p.errbuf_len = sizeof(err);
	rc = uoom_ctx_new(&p, &g_ctx);
	if (rc) {
		fprintf(stderr, "bhandler: uoom_ctx_new: %s\n", err);
		return 1;
	}
	uoom_watch_opts_init(&wo);
	wo.cgroup = cg;
	wo.handler = handler;
	wo.data = &st;
	wo.backends = UOOM_BACKEND_MASK(strcmp(backend, "kernel") ?
					UOOM_BACKEND_EVENTS : UOOM_BACKEND_KERNEL);
	wo.delay_ms = delay;
	wo.reserve_bytes = 8 * 1024 * 1024;
	wo.snapshot = 0;
	wo.log_fd = -1;
	rc = uoom_watch_add(g_ctx, &wo, &w);
	if (rc) {
		fprintf(stderr, "bhandler: watching %s with the %s backend: %s (%s)\n",
			cg, backend, strerror(-rc), w ? uoom_watch_reason(w) : "");
		return 1;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	fprintf(stderr, "bhandler: watching %s: %s backend, %s loop\n", cg,
		uoom_backend_name(uoom_watch_backend(w)), uoom_ctx_loop(g_ctx));
	rc = uoom_run(g_ctx);
	fprintf(stderr, "bhandler: %lu episodes, %lu kills\n", st.episodes, st.kills);
	uoom_ctx_free(g_ctx);
	return rc < 0 ? 1 : 0;
}
