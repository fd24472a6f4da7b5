/* SPDX-License-Identifier: MIT */
/* Context creation: defaults, roots, self-protection, errors. */
#define _GNU_SOURCE
#include "fixture.h"
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

static void defaults(void **state)
{
	struct uoom_params p;
	struct uoom_ctx *ctx;

	(void)state;
	uoom_params_init(&p);
	assert_string_equal(p.proc_root, "/proc");
	assert_string_equal(p.cgroup_root, "/sys/fs/cgroup");
	assert_int_equal(p.max_watches, 16);
	assert_int_equal(p.oom_score_adj, -1000);
	assert_int_equal(uoom_ctx_new(NULL, &ctx), 0);
	assert_string_equal(uoom_ctx_error(ctx), "");
	uoom_ctx_free(ctx);
	uoom_ctx_free(NULL);
	assert_int_equal(uoom_ctx_new(NULL, NULL), -EINVAL);
}

static void missing_roots(void **state)
{
	struct uoom_params p;
	struct uoom_ctx *ctx = (void *)1;
	char err[256] = "";

	(void)state;
	uoom_params_init(&p);
	p.cgroup_root = "/nonexistent/cgroup";
	p.errbuf = err;
	p.errbuf_len = sizeof(err);
	assert_int_equal(uoom_ctx_new(&p, &ctx), -ENOENT);
	assert_null(ctx);
	assert_non_null(strstr(err, "/nonexistent/cgroup"));
	p.cgroup_root = NULL;
	p.proc_root = "/nonexistent/proc";
	assert_int_equal(uoom_ctx_new(&p, &ctx), -ENOENT);
	p.proc_root = NULL;
	p.flags = UOOM_F_LOOP_EPOLL | UOOM_F_LOOP_URING;
	assert_int_equal(uoom_ctx_new(&p, &ctx), -EINVAL);
	p.flags = 0;
	p.read_buf_size = 100;
	assert_int_equal(uoom_ctx_new(&p, &ctx), -EINVAL);
}

static void oom_score_adj_and_mlock(void **state)
{
	struct uoom_params p;
	struct uoom_ctx *ctx;
	struct fx f;
	char buf[32];
	int ret;

	(void)state;
	fx_init(&f);
	uoom_params_init(&p);
	p.proc_root = f.proc;
	p.cgroup_root = f.cg;
	p.flags = UOOM_F_OOM_SCORE_ADJ | UOOM_F_LOOP_EPOLL;
	p.oom_score_adj = -900;
	assert_int_equal(uoom_ctx_new(&p, &ctx), 0);
	assert_string_equal(uoom_ctx_loop(ctx), "epoll");
	fx_read(f.proc, "self/oom_score_adj", buf, sizeof(buf));
	assert_string_equal(buf, "-900\n");
	uoom_ctx_free(ctx);
	/* mlockall may be refused without CAP_IPC_LOCK and a low RLIMIT_MEMLOCK */
	p.flags = UOOM_F_MLOCKALL;
	ret = uoom_ctx_new(&p, &ctx);
	assert_true(ret == 0 || ret == -ENOMEM || ret == -EPERM);
	if (!ret) {
		munlockall();
		uoom_ctx_free(ctx);
	}
	fx_fini(&f);
}

static int nop(struct uoom_watch *w, const struct uoom_event *ev, void *d)
{
	(void)w, (void)ev, (void)d;
	return 0;
}

static void refresh_cache(void **state)
{
	struct uoom_params p;
	struct uoom_watch_opts o;
	struct uoom_watch *w;
	const struct uoom_snapshot *s;
	struct uoom_ctx *ctx;
	struct fx f;

	(void)state;
	fx_init(&f);
	fx_cgroup_kernel(&f, "job");
	fx_task(&f, "job", 10, "a", 100, 0, "a --one");
	fx_task(&f, "job", 11, "b", 200, 0, "b --two");
	uoom_params_init(&p);
	p.proc_root = f.proc;
	p.cgroup_root = f.cg;
	p.cmdline_cache = 1;	/* bounded: one entry */
	p.refresh_ms = 0;
	assert_int_equal(uoom_ctx_new(&p, &ctx), 0);
	uoom_watch_opts_init(&o);
	o.cgroup = "job";
	o.handler = nop;
	assert_int_equal(uoom_watch_add(ctx, &o, &w), 0);
	assert_int_equal(uoom_snapshot_take(w, &s), 0);
	assert_string_equal(s->tasks[0].cmdline, "");	/* never seen */
	assert_int_equal(uoom_refresh(ctx), 2);
	assert_int_equal(uoom_snapshot_take(w, &s), 0);
	/* one slot: exactly one of the two is cached */
	assert_true(!strcmp(s->tasks[0].cmdline, "b --two") ||
		    !strcmp(s->tasks[1].cmdline, "a --one"));
	assert_true(!s->tasks[0].cmdline[0] || !s->tasks[1].cmdline[0]);
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(missing_roots),
		cmocka_unit_test(oom_score_adj_and_mlock),
		cmocka_unit_test(refresh_cache),
	};

	return cmocka_run_group_tests_name("ctx", tests, NULL, NULL);
}
