/*
 * largest-cgroup PARENT: on an OOM in PARENT, kill its child cgroup that
 * uses the most memory (memory.current), every process in it at once
 * (cgroup.kill), instead of the single largest process: a job made of many
 * small processes goes as a whole, and a large lone service is spared.
 * Shows UOOM_POLICY_LARGEST_CGROUP and uoom_kill_cgroup().
 * Build: cc largest-cgroup.c $(pkg-config --cflags --libs uoom)
 */
#include <stdio.h>
#include <uoom.h>

static int on_oom(struct uoom_watch *w, const struct uoom_event *ev, void *data)
{
	const struct uoom_policy *pol = data;
	struct uoom_victim v;
	int ret;

	if (ev->kind == UOOM_EV_REMOVED)
		return uoom_stop(uoom_watch_ctx(w));
	if (!ev->stats.under_oom)
		return 0;	/* resolved since it was queued */
	if (!ev->snap || uoom_pick_victim(ev->snap, pol, &v))
		return 0;
	ret = uoom_kill_cgroup(uoom_watch_ctx(w), v.cgroup->path);
	fprintf(stderr, "largest-cgroup: killed %s (%llu MiB): %d\n",
		v.cgroup->path, (unsigned long long)(v.bytes >> 20), ret);
	return 0;
}

int main(int argc, char **argv)
{
	struct uoom_policy pol;
	struct uoom_params p;
	struct uoom_watch_opts o;
	struct uoom_ctx *ctx;
	struct uoom_watch *w;
	char err[256];

	if (argc < 2)
		return fprintf(stderr, "usage: largest-cgroup PARENT\n"), 1;
	uoom_policy_init(&pol);
	pol.kind = UOOM_POLICY_LARGEST_CGROUP;
	uoom_params_init(&p);
	p.flags = UOOM_F_MLOCKALL | UOOM_F_OOM_SCORE_ADJ;
	p.errbuf = err;
	p.errbuf_len = sizeof(err);
	if (uoom_ctx_new(&p, &ctx))
		return fprintf(stderr, "uoom: %s\n", err), 1;
	uoom_watch_opts_init(&o);
	o.cgroup = argv[1];
	o.handler = on_oom;
	o.data = &pol;
	o.delay_ms = 3000;
	o.snapshot = UOOM_SNAP_TASKS;
	o.backends = UOOM_BACKEND_MASK(UOOM_BACKEND_KERNEL);
	if (uoom_watch_add(ctx, &o, &w))
		return fprintf(stderr, "uoom: %s\n", uoom_ctx_error(ctx)), 1;
	fprintf(stderr, "largest-cgroup: %s\n", uoom_watch_reason(w));
	return uoom_run(ctx) ? 1 : 0;
}
