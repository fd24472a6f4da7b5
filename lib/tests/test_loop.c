/* SPDX-License-Identifier: MIT */
/* Both event loops, driven by the real eventfd a watch registered. */
#define _GNU_SOURCE
#include "fixture.h"
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct seen {
	int calls;
	struct uoom_event last;
	int stop_after;
};

static int handler(struct uoom_watch *w, const struct uoom_event *ev, void *data)
{
	struct seen *s = data;

	s->calls++;
	s->last = *ev;
	if (s->stop_after && s->calls >= s->stop_after)
		uoom_stop(uoom_watch_ctx(w));
	return 0;
}

/* The fixture file holds the eventfd number the library wrote into it. */
static int registered_fd(struct fx *f, const char *file)
{
	char buf[64];

	fx_read(f->cg, file, buf, sizeof(buf));
	return atoi(buf);
}

static void fire(int efd)
{
	uint64_t one = 1;

	assert_int_equal(write(efd, &one, sizeof(one)), sizeof(one));
}

static void kernel_backend_loop(unsigned int flags, const char *loop)
{
	struct uoom_watch_opts o;
	struct uoom_watch *w;
	struct uoom_ctx *ctx;
	struct seen s = { 0 };
	struct pollfd pfd;
	struct fx f;
	int efd;

	fx_init(&f);
	fx_cgroup_kernel(&f, "job");
	ctx = fx_ctx(&f, flags);
	assert_string_equal(uoom_ctx_loop(ctx), loop);
	uoom_watch_opts_init(&o);
	o.cgroup = "job";
	o.handler = handler;
	o.data = &s;
	assert_int_equal(uoom_watch_add(ctx, &o, &w), 0);
	assert_int_equal(uoom_watch_backend(w), UOOM_BACKEND_KERNEL);
	efd = registered_fd(&f, "job/memory.oom_notify");
	assert_true(efd > 2);

	/* nothing pending */
	assert_int_equal(uoom_dispatch(ctx, 0), 0);
	assert_int_equal(s.calls, 0);

	/* the kernel would now report the episode in memory.oom_notify */
	fx_write(f.cg, "job/memory.oom_notify", "handlers 1\nunder_oom 1\noom_episodes 1\n"
		 "oom_resolved 0\noom_fallback 0\nreserve_charged 8192\n");
	fire(efd);
	pfd.fd = uoom_fd(ctx);
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 2000), 1);	/* embeddable */
	assert_int_equal(uoom_dispatch(ctx, 0), 1);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.last.kind, UOOM_EV_OOM);
	assert_int_equal(s.last.backend, UOOM_BACKEND_KERNEL);
	assert_int_equal(s.last.count, 1);
	assert_int_equal(s.last.stats.under_oom, 1);
	assert_int_equal(s.last.stats.reserve_charged, 8192);
	assert_null(s.last.snap);

	/* two signals before dispatch coalesce in the eventfd counter */
	fire(efd);
	fire(efd);
	assert_int_equal(uoom_dispatch(ctx, 2000), 1);
	assert_int_equal(s.calls, 2);
	assert_int_equal(s.last.count, 2);

	/* multishot keeps going: run() until the handler stops it */
	s.stop_after = 3;
	fire(efd);
	assert_int_equal(uoom_run(ctx), 0);
	assert_int_equal(s.calls, 3);

	/* removed watch: no more calls */
	assert_int_equal(uoom_watch_remove(w), 0);
	{
		uint64_t one = 1;	/* closed by the library: EBADF */

		assert_int_equal(write(efd, &one, sizeof(one)), -1);
	}
	assert_int_equal(uoom_dispatch(ctx, 50), 0);
	assert_int_equal(s.calls, 3);
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

static void loop_uring(void **state)
{
	(void)state;
	kernel_backend_loop(UOOM_F_LOOP_URING, "io_uring");
}

static void loop_epoll(void **state)
{
	(void)state;
	kernel_backend_loop(UOOM_F_LOOP_EPOLL, "epoll");
}

static void v1_loop(unsigned int flags)
{
	struct uoom_watch_opts o;
	struct uoom_watch *w;
	struct uoom_ctx *ctx;
	struct seen s = { 0 };
	struct fx f;
	char buf[64];
	int efd, cfd;

	fx_init(&f);
	fx_cgroup_v1(&f, "v1grp");
	ctx = fx_ctx(&f, flags);
	uoom_watch_opts_init(&o);
	o.cgroup = "/v1grp/";
	o.handler = handler;
	o.data = &s;
	assert_int_equal(uoom_watch_add(ctx, &o, &w), 0);
	assert_int_equal(uoom_watch_backend(w), UOOM_BACKEND_V1);
	assert_string_equal(uoom_watch_cgroup(w), "/v1grp");
	fx_read(f.cg, "v1grp/cgroup.event_control", buf, sizeof(buf));
	assert_int_equal(sscanf(buf, "%d %d", &efd, &cfd), 2);
	fx_write(f.cg, "v1grp/memory.oom_control", "oom_kill_disable 0\nunder_oom 1\noom_kill 0\n");
	fire(efd);
	assert_int_equal(uoom_dispatch(ctx, 2000), 1);
	assert_int_equal(s.last.kind, UOOM_EV_OOM);
	assert_int_equal(s.last.backend, UOOM_BACKEND_V1);
	assert_int_equal(s.last.stats.under_oom, 1);

	/* cgroup removal: v1 signals once more; the control file is gone */
	char path[600];

	snprintf(path, sizeof(path), "%s/v1grp/memory.oom_control", f.cg);
	unlink(path);
	fire(efd);
	assert_int_equal(uoom_dispatch(ctx, 2000), 1);
	assert_int_equal(s.last.kind, UOOM_EV_REMOVED);
	assert_non_null(strstr(uoom_watch_error(w), "removed"));
	fire(efd);	/* disarmed */
	assert_int_equal(uoom_dispatch(ctx, 50), 0);
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

static void v1_uring(void **state)
{
	(void)state;
	v1_loop(UOOM_F_LOOP_URING);
}

static void v1_epoll(void **state)
{
	(void)state;
	v1_loop(UOOM_F_LOOP_EPOLL);
}

static void stop_from_outside(void **state)
{
	struct fx f;
	struct uoom_ctx *ctx;

	(void)state;
	fx_init(&f);
	ctx = fx_ctx(&f, 0);
	/* a stop requested before run() makes run() return at once */
	assert_int_equal(uoom_stop(ctx), 0);
	assert_int_equal(uoom_run(ctx), 0);
	assert_int_equal(uoom_dispatch(ctx, 0), 0);
	assert_true(uoom_fd(ctx) >= 0);
	assert_int_equal(uoom_fd(NULL), -EINVAL);
	assert_int_equal(uoom_dispatch(NULL, 0), -EINVAL);
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

/*
 * UOOM_SNAP_CACHED: the event carries the watch's snapshot taken when idle by
 * uoom_snapshot_cache(), not a fresh one: /proc is not read during the
 * episode (a system OOM handler may allocate only within the root reserve).
 */
static void cached_snapshot(void **state)
{
	const struct uoom_snapshot *cs, *ts;
	struct uoom_watch_opts o;
	struct uoom_watch *w, *plain;
	struct uoom_ctx *ctx;
	struct seen s = { 0 };
	struct fx f;
	char cmd[700];
	int efd;

	(void)state;
	fx_init(&f);
	fx_cgroup_kernel(&f, "job");
	fx_cgroup_kernel(&f, "other");
	fx_task(&f, "job", 11, "hog", 90000, 0, NULL);
	fx_task(&f, "job", 12, "by", 2000, 0, NULL);
	ctx = fx_ctx(&f, UOOM_F_LOOP_EPOLL);
	uoom_watch_opts_init(&o);
	o.cgroup = "job";
	o.handler = handler;
	o.data = &s;
	o.snapshot = UOOM_SNAP_CACHED;	/* needs UOOM_SNAP_TASKS */
	assert_int_equal(uoom_watch_add(ctx, &o, &w), -EINVAL);
	o.snapshot = UOOM_SNAP_TASKS | UOOM_SNAP_CACHED;
	assert_int_equal(uoom_watch_add(ctx, &o, &w), 0);
	efd = registered_fd(&f, "job/memory.oom_notify");
	fx_write(f.cg, "job/memory.oom_notify", "handlers 1\nunder_oom 1\noom_episodes 1\n"
		 "oom_resolved 0\noom_fallback 0\nreserve_charged 0\n");

	/* no cached snapshot yet: the event has none, /proc is not read */
	fire(efd);
	assert_int_equal(uoom_dispatch(ctx, 2000), 1);
	assert_int_equal(s.calls, 1);
	assert_null(s.last.snap);

	assert_int_equal(uoom_snapshot_cache(w, &cs), 0);
	assert_int_equal(cs->ntasks, 2);
	assert_int_equal(cs->tasks[0].pid, 11);

	/* the hog exits and a new task appears: a fresh take would see that,
	 * the event must still carry the cached view */
	snprintf(cmd, sizeof(cmd), "rm -rf %s/11", f.proc);
	assert_int_equal(system(cmd), 0);
	fx_task(&f, "job", 13, "new", 5000, 0, NULL);
	fx_write(f.cg, "job/cgroup.procs", "12\n13\n");
	fire(efd);
	assert_int_equal(uoom_dispatch(ctx, 2000), 1);
	assert_int_equal(s.calls, 2);
	assert_ptr_equal(s.last.snap, cs);
	assert_int_equal(s.last.snap->ntasks, 2);
	assert_int_equal(s.last.snap->tasks[0].pid, 11);
	assert_string_equal(s.last.snap->tasks[0].comm, "hog");

	/* the context's snapshot does not overwrite the watch's */
	assert_int_equal(uoom_snapshot_take(w, &ts), 0);
	assert_ptr_not_equal(ts, cs);
	assert_int_equal(ts->ntasks, 2);
	assert_int_equal(ts->tasks[0].pid, 13);
	assert_int_equal(cs->tasks[0].pid, 11);

	/* the next idle refresh sees the change */
	assert_int_equal(uoom_snapshot_cache(w, &cs), 0);
	assert_int_equal(cs->tasks[0].pid, 13);

	/* only for watches added with UOOM_SNAP_CACHED */
	o.cgroup = "other";
	o.snapshot = UOOM_SNAP_TASKS;
	assert_int_equal(uoom_watch_add(ctx, &o, &plain), 0);
	assert_int_equal(uoom_snapshot_cache(plain, &cs), -EINVAL);
	assert_int_equal(uoom_snapshot_cache(NULL, &cs), -EINVAL);
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loop_uring),
		cmocka_unit_test(loop_epoll),
		cmocka_unit_test(v1_uring),
		cmocka_unit_test(v1_epoll),
		cmocka_unit_test(stop_from_outside),
		cmocka_unit_test(cached_snapshot),
	};

	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
