/* SPDX-License-Identifier: MIT */
/* Backend detection, what each backend writes, and the error paths. */
#define _GNU_SOURCE
#include "fixture.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

static int nop(struct uoom_watch *w, const struct uoom_event *ev, void *d)
{
	(void)w, (void)ev, (void)d;
	return 0;
}

static int add(struct uoom_ctx *ctx, const char *cg, struct uoom_watch **w)
{
	struct uoom_watch_opts o;

	uoom_watch_opts_init(&o);
	o.cgroup = cg;
	o.handler = nop;
	o.delay_ms = 2500;
	o.reserve_bytes = 8 << 20;
	return uoom_watch_add(ctx, &o, w);
}

static void kernel_backend(void **state)
{
	struct uoom_watch *w;
	struct uoom_oom_stats st;
	struct uoom_ctx *ctx;
	struct fx f;
	char buf[256];

	(void)state;
	fx_init(&f);
	fx_cgroup_kernel(&f, "a/b");
	ctx = fx_ctx(&f, 0);
	assert_int_equal(add(ctx, "a/b", &w), 0);
	assert_int_equal(uoom_watch_backend(w), UOOM_BACKEND_KERNEL);
	assert_string_equal(uoom_backend_name(uoom_watch_backend(w)), "kernel");
	assert_non_null(strstr(uoom_watch_reason(w), "memory.oom_notify present"));
	fx_read(f.cg, "a/b/memory.oom_delay_millisecs", buf, sizeof(buf));
	assert_string_equal(buf, "2500\n");
	fx_read(f.cg, "a/b/memory.oom_reserve_in_bytes", buf, sizeof(buf));
	assert_string_equal(buf, "8388608\n");
	fx_read(f.cg, "a/b/memory.oom_notify", buf, sizeof(buf));
	assert_true(atoi(buf) > 2);
	assert_int_equal(buf[strlen(buf) - 1], '\n');
	/* the read side, as the kernel would present it */
	fx_write(f.cg, "a/b/memory.oom_notify", "handlers 1\nunder_oom 0\noom_episodes 4\n"
		 "oom_resolved 3\noom_fallback 1\nreserve_charged 0\n");
	assert_int_equal(uoom_watch_stats(w, &st), 0);
	assert_int_equal(st.oom_episodes, 4);
	assert_int_equal(st.oom_fallback, 1);
	fx_write(f.cg, "a/b/memory.oom_notify", "handlers 1\nunder_oom 0\noom_epi");
	assert_int_equal(uoom_watch_stats(w, &st), -EINVAL);
	assert_non_null(strstr(uoom_watch_error(w), "memory.oom_notify"));
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

static void events_backend(void **state)
{
	struct uoom_watch_opts o;
	struct uoom_watch *w;
	struct uoom_ctx *ctx;
	struct fx f;
	char buf[256];
	int ret;

	(void)state;
	fx_init(&f);
	fx_cgroup_v2(&f, "svc");
	/* regular files are not pollable: epoll says so, clearly */
	ctx = fx_ctx(&f, UOOM_F_LOOP_EPOLL);
	uoom_watch_opts_init(&o);
	o.cgroup = "svc";
	o.handler = nop;
	o.psi_trigger = "some 70000 1000000";
	assert_int_equal(uoom_watch_add(ctx, &o, &w), -EPERM);
	assert_non_null(strstr(uoom_ctx_error(ctx), "cannot poll memory.events"));
	uoom_ctx_free(ctx);

	/* io_uring accepts the poll; drive the sources by hand */
	ctx = fx_ctx(&f, UOOM_F_LOOP_URING);
	ret = uoom_watch_add(ctx, &o, &w);
	if (ret) {
		uoom_ctx_free(ctx);
		fx_fini(&f);
		skip();
	}
	assert_int_equal(uoom_watch_backend(w), UOOM_BACKEND_EVENTS);
	assert_non_null(strstr(uoom_watch_reason(w), "no memory.oom_notify"));
	assert_non_null(strstr(uoom_watch_reason(w), "some 70000 1000000"));
	fx_read(f.cg, "svc/memory.pressure", buf, sizeof(buf));
	assert_int_equal(strncmp(buf, "some 70000 1000000\n", 19), 0);

	struct uoom_event ev = { 0 };

	fx_write(f.cg, "svc/memory.events", "low 0\nhigh 4\nmax 2\noom 1\noom_kill 1\noom_group_kill 0\n");
	assert_int_equal(uoom__events_handle(w, SRC_MEMEVENTS, &ev), 1);
	assert_int_equal(ev.kind, UOOM_EV_MEM_EVENTS);
	assert_int_equal(ev.delta.high, 3);
	assert_int_equal(ev.delta.oom, 1);
	assert_int_equal(ev.events.oom_kill, 1);
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(uoom__events_handle(w, SRC_MEMEVENTS, &ev), 0);	/* no change */
	assert_int_equal(uoom__events_handle(w, SRC_PSI, &ev), 1);
	assert_int_equal(ev.kind, UOOM_EV_PRESSURE);
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

static void root_system_oom(void **state)
{
	struct uoom_watch *w;
	struct uoom_ctx *ctx;
	struct fx f;

	(void)state;
	fx_init(&f);
	fx_cgroup_kernel(&f, ".");
	ctx = fx_ctx(&f, 0);
	assert_int_equal(add(ctx, "", &w), 0);
	assert_int_equal(uoom_watch_backend(w), UOOM_BACKEND_KERNEL);
	assert_string_equal(uoom_watch_cgroup(w), "/");
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

static void backend_mask(void **state)
{
	struct uoom_watch_opts o;
	struct uoom_watch *w;
	struct uoom_ctx *ctx;
	struct fx f;

	(void)state;
	fx_init(&f);
	fx_cgroup_kernel(&f, "k");
	ctx = fx_ctx(&f, 0);
	uoom_watch_opts_init(&o);
	o.cgroup = "k";
	o.handler = nop;
	o.backends = UOOM_BACKEND_MASK(UOOM_BACKEND_V1);
	assert_int_equal(uoom_watch_add(ctx, &o, &w), -ENOTSUP);
	assert_non_null(strstr(uoom_ctx_error(ctx), "not in the allowed set"));
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

static void errors(void **state)
{
	struct uoom_watch_opts o;
	struct uoom_watch *w = (void *)1;
	struct uoom_ctx *ctx;
	struct fx f;

	(void)state;
	fx_init(&f);
	fx_cgroup_kernel(&f, "ok");
	fx_write(f.cg, "nomem/cgroup.controllers", "cpu\n");
	fx_write(f.cg, "plain/somefile", "x\n");
	ctx = fx_ctx(&f, 0);

	assert_int_equal(add(ctx, "missing", &w), -ENOENT);
	assert_null(w);
	assert_non_null(strstr(uoom_ctx_error(ctx), "no such cgroup"));
	assert_int_equal(add(ctx, "nomem", &w), -ENOTSUP);
	assert_non_null(strstr(uoom_ctx_error(ctx), "not a memory cgroup"));
	assert_int_equal(add(ctx, "plain", &w), -ENOTSUP);
	assert_int_equal(add(ctx, "plain/somefile", &w), -ENOTDIR);
	assert_int_equal(add(ctx, "../etc", &w), -EINVAL);
	uoom_watch_opts_init(&o);
	o.cgroup = "ok";
	assert_int_equal(uoom_watch_add(ctx, &o, &w), -EINVAL);	/* no handler */
	o.handler = nop;
	o.delay_ms = 60001;
	assert_int_equal(uoom_watch_add(ctx, &o, &w), -EINVAL);
	assert_non_null(strstr(uoom_ctx_error(ctx), "0..60000"));
	/* out of slots */
	o.delay_ms = 0;
	for (int i = 0; i < 16; i++)
		if (uoom_watch_add(ctx, &o, &w))
			fail_msg("watch %d: %s", i, uoom_ctx_error(ctx));
	struct uoom_watch *last = w;

	assert_int_equal(uoom_watch_add(ctx, &o, &w), -ENOSPC);
	assert_null(w);
	assert_int_equal(uoom_watch_remove(last), 0);
	assert_int_equal(uoom_watch_remove(last), -EINVAL);
	assert_int_equal(uoom_watch_add(ctx, &o, &w), 0);
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

static struct fx *perm_fx;

static int try_register(void *arg)
{
	struct uoom_ctx *ctx = fx_ctx(perm_fx, 0);
	struct uoom_watch *w;
	int ret = add(ctx, arg, &w);

	if (ret != -EACCES || !strstr(uoom_ctx_error(ctx), "not writable"))
		ret = ret ? -EBADMSG : -EEXIST;
	uoom_ctx_free(ctx);
	return ret;
}

static void not_writable(void **state)
{
	struct fx f;
	char path[600];

	(void)state;
	fx_init(&f);
	perm_fx = &f;
	fx_cgroup_kernel(&f, "ro");
	fx_write(f.cg, "ro/memory.oom_delay_millisecs", "0\n");
	snprintf(path, sizeof(path), "%s/ro/memory.oom_delay_millisecs", f.cg);
	assert_int_equal(fx_unprivileged(path, try_register, "ro"), -EACCES);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kernel_backend),
		cmocka_unit_test(events_backend),
		cmocka_unit_test(root_system_oom),
		cmocka_unit_test(backend_mask),
		cmocka_unit_test(errors),
		cmocka_unit_test(not_writable),
	};

	return cmocka_run_group_tests_name("watch", tests, NULL, NULL);
}
