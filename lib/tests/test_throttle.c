/* SPDX-License-Identifier: MIT */
/* Throttle/freeze write the right values into fixture files; undo restores. */
#define _GNU_SOURCE
#include "fixture.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int nop(struct uoom_watch *w, const struct uoom_event *ev, void *d)
{
	(void)w, (void)ev, (void)d;
	return 0;
}

static struct uoom_watch *watch(struct uoom_ctx *ctx, const char *cg)
{
	struct uoom_watch_opts o;
	struct uoom_watch *w;

	uoom_watch_opts_init(&o);
	o.cgroup = cg;
	o.handler = nop;
	assert_int_equal(uoom_watch_add(ctx, &o, &w), 0);
	return w;
}

static void expect(struct fx *f, const char *rel, const char *want)
{
	char buf[64];

	fx_read(f->cg, rel, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void grant_and_high(void **state)
{
	struct uoom_ctx *ctx;
	struct uoom_watch *w;
	struct fx f;

	(void)state;
	fx_init(&f);
	fx_cgroup_kernel(&f, "job");
	fx_write(f.cg, "job/memory.max", "1048576\n");
	fx_write(f.cg, "job/memory.current", "1048576\n");	/* at the limit */
	ctx = fx_ctx(&f, 0);
	w = watch(ctx, "job");
	assert_int_equal(uoom_throttle(w, NULL, 4096, 524288), 0);
	expect(&f, "job/memory.max", "1052672\n");
	expect(&f, "job/memory.high", "524288\n");
	/* a second grant builds on the first; undo still restores the original */
	assert_int_equal(uoom_throttle(w, NULL, 4096, 0), 0);
	expect(&f, "job/memory.max", "1056768\n");
	assert_int_equal(uoom_throttle_undo(w), 0);
	expect(&f, "job/memory.max", "1048576\n");
	expect(&f, "job/memory.high", "max\n");
	assert_int_equal(uoom_throttle_undo(w), 0);	/* idempotent */
	assert_int_equal(uoom_throttle(w, NULL, 0, 0), -EINVAL);
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

/*
 * memory.max written below the usage OOM-kills at once, with no episode:
 * the undo leaves the limit raised (-EAGAIN) until the usage is under it,
 * and restores the rest meanwhile.
 */
static void undo_never_lowers_below_usage(void **state)
{
	struct uoom_ctx *ctx;
	struct uoom_watch *w;
	struct fx f;

	(void)state;
	fx_init(&f);
	fx_cgroup_kernel(&f, "job");
	fx_write(f.cg, "job/memory.max", "1048576\n");
	ctx = fx_ctx(&f, 0);
	w = watch(ctx, "job");
	assert_int_equal(uoom_throttle(w, NULL, 1 << 20, 524288), 0);
	assert_int_equal(uoom_freeze(w, NULL), 0);
	/* the handler's grant was used: usage is above the old limit */
	fx_write(f.cg, "job/memory.current", "1572864\n");
	assert_int_equal(uoom_throttle_undo(w), -EAGAIN);
	assert_non_null(strstr(uoom_watch_error(w), "memory.current 1572864 is above the memory.max to restore (1048576)"));
	expect(&f, "job/memory.max", "2097152\n");
	expect(&f, "job/memory.high", "max\n");
	expect(&f, "job/cgroup.freeze", "0\n");
	/* still throttled: a new throttle of another target is refused */
	fx_cgroup_v2(&f, "job/other");
	assert_int_equal(uoom_freeze(w, "other"), -EBUSY);
	/* usage back under it: the limit is restored */
	fx_write(f.cg, "job/memory.current", "1048576\n");
	assert_int_equal(uoom_throttle_undo(w), 0);
	expect(&f, "job/memory.max", "1048576\n");
	assert_int_equal(uoom_throttle_undo(w), 0);
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

static void unlimited_and_overflow(void **state)
{
	struct uoom_ctx *ctx;
	struct uoom_watch *w;
	struct fx f;

	(void)state;
	fx_init(&f);
	fx_cgroup_kernel(&f, "job");
	ctx = fx_ctx(&f, 0);
	w = watch(ctx, "job");
	assert_int_equal(uoom_throttle(w, NULL, 4096, 0), 0);
	expect(&f, "job/memory.max", "max\n");	/* nothing to raise */
	assert_int_equal(uoom_throttle_undo(w), 0);
	fx_write(f.cg, "job/memory.max", "18446744073709551000\n");
	assert_int_equal(uoom_throttle(w, NULL, 4096, 0), 0);
	expect(&f, "job/memory.max", "max\n");	/* saturates */
	assert_int_equal(uoom_throttle_undo(w), 0);
	expect(&f, "job/memory.max", "18446744073709551000\n");
	fx_write(f.cg, "job/memory.max", "18446744073709551616\n");
	assert_int_equal(uoom_throttle(w, NULL, 4096, 0), -ERANGE);
	assert_non_null(strstr(uoom_watch_error(w), "memory.max"));
	fx_write(f.cg, "job/memory.max", "garbage\n");
	assert_int_equal(uoom_throttle(w, NULL, 4096, 0), -EINVAL);
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

static void freeze_child(void **state)
{
	struct uoom_ctx *ctx;
	struct uoom_watch *w;
	struct fx f;

	(void)state;
	fx_init(&f);
	fx_cgroup_kernel(&f, "job");
	fx_cgroup_v2(&f, "job/batch");
	fx_cgroup_v2(&f, "job/web");
	ctx = fx_ctx(&f, 0);
	w = watch(ctx, "job");
	assert_int_equal(uoom_freeze(w, "batch"), 0);
	expect(&f, "job/batch/cgroup.freeze", "1\n");
	expect(&f, "job/cgroup.freeze", "0\n");
	/* one throttled cgroup per watch at a time */
	assert_int_equal(uoom_freeze(w, "web"), -EBUSY);
	assert_int_equal(uoom_throttle(w, "batch", 0, 1 << 20), 0);
	expect(&f, "job/batch/memory.high", "1048576\n");
	assert_int_equal(uoom_throttle_undo(w), 0);
	expect(&f, "job/batch/cgroup.freeze", "0\n");
	expect(&f, "job/batch/memory.high", "max\n");
	assert_int_equal(uoom_freeze(w, "missing"), -ENOENT);
	/* remove() undoes what is still active */
	assert_int_equal(uoom_freeze(w, "web"), 0);
	assert_int_equal(uoom_watch_remove(w), 0);
	expect(&f, "job/web/cgroup.freeze", "0\n");
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

static struct fx *perm_fx;

static int try_throttle(void *arg)
{
	struct uoom_ctx *ctx = fx_ctx(perm_fx, 0);
	struct uoom_watch *w = watch(ctx, "job");
	int ret = uoom_throttle(w, NULL, 4096, 0);

	(void)arg;
	if (ret == -EACCES && !strstr(uoom_watch_error(w), "not writable"))
		ret = -EBADMSG;
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
	fx_cgroup_kernel(&f, "job");
	fx_write(f.cg, "job/memory.max", "1048576\n");
	snprintf(path, sizeof(path), "%s/job/memory.oom_notify", f.cg);
	chmod(path, 0666);	/* the watch itself may register */
	snprintf(path, sizeof(path), "%s/job/memory.max", f.cg);
	assert_int_equal(fx_unprivileged(path, try_throttle, NULL), -EACCES);
	expect(&f, "job/memory.max", "1048576\n");
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(grant_and_high),
		cmocka_unit_test(undo_never_lowers_below_usage),
		cmocka_unit_test(unlimited_and_overflow),
		cmocka_unit_test(freeze_child),
		cmocka_unit_test(not_writable),
	};

	return cmocka_run_group_tests_name("throttle", tests, NULL, NULL);
}
