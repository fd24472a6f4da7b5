/*
 * warn-then-kill CGROUP [GRACE_MS]: on an OOM in CGROUP, send the largest
 * task SIGTERM so it can save its state and exit by itself (uoom_warn);
 * only if it is still running after GRACE_MS (default 2000) kill it. The
 * kernel's own OOM killer waits GRACE_MS + 3 s before it falls back.
 * The warned process should free memory before it writes its state: the
 * page cache of that write is charged to the same full cgroup.
 * Build: cc warn-then-kill.c $(pkg-config --cflags --libs uoom)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <uoom.h>

static int on_oom(struct uoom_watch *w, const struct uoom_event *ev, void *data)
{
	unsigned int grace = *(unsigned int *)data;
	struct uoom_ctx *ctx = uoom_watch_ctx(w);
	struct uoom_kill_result r;
	struct uoom_oom_stats st;
	struct uoom_victim v;
	int ret;

	if (ev->kind == UOOM_EV_REMOVED)
		return uoom_stop(ctx);
	if (!ev->stats.under_oom)
		return 0;	/* resolved since it was queued */
	if (!ev->snap || uoom_pick_victim(ev->snap, NULL, &v))
		return 0;
	ret = uoom_warn(ctx, v.task->pid, SIGTERM, grace);
	if (ret == 1) {
		fprintf(stderr, "warn-then-kill: pid %d (%s) saved and exited\n",
			(int)v.task->pid, v.task->comm);
		return 0;
	}
	/* It did not listen; kill it only if the OOM is still there. */
	if (uoom_watch_stats(w, &st) == 0 && !st.under_oom)
		return 0;
	ret = uoom_kill(ctx, &v, 2000, &r);
	fprintf(stderr, "warn-then-kill: pid %d (%s) ignored SIGTERM for %u ms: "
		"killed (%d)\n", (int)v.task->pid, v.task->comm, grace, ret);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int grace = argc > 2 ? (unsigned int)atoi(argv[2]) : 2000;
	struct uoom_params p;
	struct uoom_watch_opts o;
	struct uoom_ctx *ctx;
	struct uoom_watch *w;
	char err[256];

	if (argc < 2)
		return fprintf(stderr, "usage: warn-then-kill CGROUP [GRACE_MS]\n"), 1;
	uoom_params_init(&p);
	p.flags = UOOM_F_MLOCKALL | UOOM_F_OOM_SCORE_ADJ;
	p.errbuf = err;
	p.errbuf_len = sizeof(err);
	if (uoom_ctx_new(&p, &ctx))
		return fprintf(stderr, "uoom: %s\n", err), 1;
	uoom_watch_opts_init(&o);
	o.cgroup = argv[1];
	o.handler = on_oom;
	o.data = &grace;
	o.delay_ms = grace + 3000;	/* the grace, and time to kill after it */
	o.snapshot = UOOM_SNAP_TASKS;
	o.backends = UOOM_BACKEND_MASK(UOOM_BACKEND_KERNEL);
	if (uoom_watch_add(ctx, &o, &w))
		return fprintf(stderr, "uoom: %s\n", uoom_ctx_error(ctx)), 1;
	fprintf(stderr, "warn-then-kill: %s\n", uoom_watch_reason(w));
	return uoom_run(ctx) ? 1 : 0;
}
