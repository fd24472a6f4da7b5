/*
 * system-oom: handle a system-wide OOM from the root cgroup: when the whole
 * machine runs out of memory, kill the task with the largest RSS (8 MiB or
 * more) before the kernel's global OOM killer would (it waits up to 10 s).
 * At that point almost nothing may be allocated, not even to read /proc:
 * the handler is locked in memory (mlockall), has a root reserve of 8 MiB,
 * and takes its task list *before* the OOM, twice a second, so that the
 * handling path is only pidfd_open, SIGKILL and process_mrelease; under
 * 32 MiB free it keeps its last list (reading /proc allocates, and a
 * handler OOM before any episode began has failed: the kernel kills).
 * Build: cc system-oom.c $(pkg-config --cflags --libs uoom)
 */
#include <stdio.h>
#include <sys/sysinfo.h>
#include <uoom.h>

struct state {
	struct uoom_policy pol;
	const struct uoom_snapshot *last;	/* taken outside the episode */
};

static int on_oom(struct uoom_watch *w, const struct uoom_event *ev, void *data)
{
	struct state *st = data;
	struct uoom_kill_result r;
	struct uoom_victim v;
	int ret;

	if (ev->kind != UOOM_EV_OOM || !ev->stats.under_oom || !st->last ||
	    uoom_pick_victim(st->last, &st->pol, &v))
		return 0;	/* nothing to kill: the kernel falls back */
	ret = uoom_kill(uoom_watch_ctx(w), &v, 2000, &r);
	/* After the kill: memory is back, printing is safe now. */
	fprintf(stderr, "system-oom: killed pid %d (%s, %llu MiB): %d\n",
		(int)v.task->pid, v.task->comm,
		(unsigned long long)(v.bytes >> 20), ret);
	return 0;
}

int main(void)
{
	struct state st = { .last = NULL };
	struct uoom_params p;
	struct uoom_watch_opts o;
	struct uoom_ctx *ctx;
	struct uoom_watch *w;
	char err[256];
	struct sysinfo si;

	uoom_policy_init(&st.pol);
	st.pol.min_rss = 8 << 20;	/* shells and daemons: the kernel's call */
	uoom_params_init(&p);
	/* Locked in memory and never chosen by the kernel's OOM killer. */
	p.flags = UOOM_F_MLOCKALL | UOOM_F_OOM_SCORE_ADJ;
	p.errbuf = err;
	p.errbuf_len = sizeof(err);
	if (uoom_ctx_new(&p, &ctx))
		return fprintf(stderr, "uoom: %s\n", err), 1;
	uoom_watch_opts_init(&o);
	o.cgroup = "/";			/* the root: system OOM */
	o.handler = on_oom;
	o.data = &st;
	o.delay_ms = 10000;
	o.reserve_bytes = 8 << 20;
	o.backends = UOOM_BACKEND_MASK(UOOM_BACKEND_KERNEL);
	if (uoom_watch_add(ctx, &o, &w))
		return fprintf(stderr, "uoom: %s\n", uoom_ctx_error(ctx)), 1;
	fprintf(stderr, "system-oom: %s (%s)\n", uoom_watch_reason(w),
		uoom_ctx_loop(ctx));
	for (;;) {
		if (uoom_dispatch(ctx, 500) < 0)
			return 1;
		/* Near the OOM, keep the last list: allocate nothing. */
		if (st.last && !sysinfo(&si) &&
		    (unsigned long long)si.freeram * si.mem_unit < 32 << 20)
			continue;
		if (uoom_snapshot_take(w, &st.last))
			st.last = NULL;
	}
}
