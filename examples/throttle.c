/*
 * throttle CGROUP [GRANT_MB]: on an OOM in CGROUP, kill nobody: raise its
 * memory.max by GRANT_MB (default 32) and set memory.high to what it uses
 * now, so the kernel reclaims and slows the cgroup down at its old size
 * instead of killing. Shows uoom_throttle(); uoom_throttle_undo() would put
 * both limits back once the pressure is gone.
 * Build: cc throttle.c $(pkg-config --cflags --libs uoom)
 */
#include <stdio.h>
#include <stdlib.h>
#include <uoom.h>

struct cfg {
	uint64_t grant;
};

static int on_oom(struct uoom_watch *w, const struct uoom_event *ev, void *data)
{
	const struct cfg *c = data;
	const struct uoom_snapshot *s;
	uint64_t high;

	if (ev->kind == UOOM_EV_REMOVED)
		return uoom_stop(uoom_watch_ctx(w));
	if (!ev->stats.under_oom)
		return 0;	/* resolved since it was queued */
	if (uoom_snapshot_take(w, &s))
		return 0;
	/* Hold the cgroup where it is: memory.high at its current usage. */
	high = s->cgroups[0].current;
	if (uoom_throttle(w, NULL, c->grant, high))
		fprintf(stderr, "throttle: %s\n", uoom_watch_error(w));
	else
		fprintf(stderr, "throttle: %s: memory.max +%llu MiB, memory.high "
			"%llu MiB\n", uoom_watch_cgroup(w),
			(unsigned long long)(c->grant >> 20),
			(unsigned long long)(high >> 20));
	return 0;
}

int main(int argc, char **argv)
{
	struct cfg c = { .grant = 32ull << 20 };
	struct uoom_params p;
	struct uoom_watch_opts o;
	struct uoom_ctx *ctx;
	struct uoom_watch *w;
	char err[256];

	if (argc < 2)
		return fprintf(stderr, "usage: throttle CGROUP [GRANT_MB]\n"), 1;
	if (argc > 2)
		c.grant = strtoull(argv[2], NULL, 10) << 20;
	uoom_params_init(&p);
	p.flags = UOOM_F_MLOCKALL | UOOM_F_OOM_SCORE_ADJ;
	p.errbuf = err;
	p.errbuf_len = sizeof(err);
	if (uoom_ctx_new(&p, &ctx))
		return fprintf(stderr, "uoom: %s\n", err), 1;
	uoom_watch_opts_init(&o);
	o.cgroup = argv[1];
	o.handler = on_oom;
	o.data = &c;
	o.delay_ms = 5000;
	o.backends = UOOM_BACKEND_MASK(UOOM_BACKEND_KERNEL);
	if (uoom_watch_add(ctx, &o, &w))
		return fprintf(stderr, "uoom: %s\n", uoom_ctx_error(ctx)), 1;
	fprintf(stderr, "throttle: %s\n", uoom_watch_reason(w));
	return uoom_run(ctx) ? 1 : 0;
}
