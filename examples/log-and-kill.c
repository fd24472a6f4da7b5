/*
 * log-and-kill CGROUP: on an OOM in CGROUP (relative to /sys/fs/cgroup; "/"
 * for the whole machine), log a snapshot of vmstat, meminfo, slabinfo,
 * memory.stat, PSI and the top tasks to stdout, then kill the task with the
 * largest RSS, within 1 s of the kernel holding off its own OOM killer.
 * Build: cc log-and-kill.c $(pkg-config --cflags --libs uoom)
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <uoom.h>

static int on_oom(struct uoom_watch *w, const struct uoom_event *ev, void *data)
{
	const struct uoom_snapshot *s = ev->snap;
	struct uoom_kill_result r;
	struct uoom_victim v;

	(void)data;
	if (ev->kind == UOOM_EV_REMOVED)
		return uoom_stop(uoom_watch_ctx(w));
	if (s && uoom_pick_victim(s, NULL, &v) == 0)
		uoom_kill(uoom_watch_ctx(w), &v, 1000, &r);
	return 0;
}

int main(int argc, char **argv)
{
	struct uoom_params p;
	struct uoom_watch_opts o;
	struct uoom_ctx *ctx;
	struct uoom_watch *w;
	char err[256];

	uoom_params_init(&p);
	p.flags = UOOM_F_MLOCKALL | UOOM_F_OOM_SCORE_ADJ;
	p.errbuf = err;
	p.errbuf_len = sizeof(err);
	if (uoom_ctx_new(&p, &ctx))
		return fprintf(stderr, "uoom: %s\n", err), 1;
	uoom_watch_opts_init(&o);
	o.cgroup = argc > 1 ? argv[1] : "/";
	o.handler = on_oom;
	o.delay_ms = 1000;
	o.snapshot = UOOM_SNAP_ALL;
	o.log_fd = STDOUT_FILENO;
	if (uoom_watch_add(ctx, &o, &w))
		return fprintf(stderr, "uoom: %s\n", uoom_ctx_error(ctx)), 1;
	fprintf(stderr, "%s (%s)\n", uoom_watch_reason(w), uoom_ctx_loop(ctx));
	return uoom_run(ctx) ? 1 : 0;
}
