/* SPDX-License-Identifier: MIT */
/*
 * Proof that the handling path allocates nothing: this program interposes
 * malloc and friends (which also catches allocations made inside glibc,
 * since libc calls them through the PLT) and fails if any happens between
 * the event arriving and the handler's return - for both loops, with a
 * logged snapshot, a policy decision, a kill, a warn, a throttle/freeze and
 * their undo. Built WITHOUT ASan: ASan replaces malloc itself.
 */
#define _GNU_SOURCE
#include "fixture.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static volatile int armed;
static volatile int allocs;

static void count(void)
{
	if (armed)
		allocs++;
}

void *malloc(size_t n)
{
	count();
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t s)
{
	count();
	return __libc_calloc(n, s);
}

void *realloc(void *p, size_t n)
{
	count();
	return __libc_realloc(p, n);
}

void *memalign(size_t a, size_t n)
{
	count();
	return __libc_memalign(a, n);
}

void *aligned_alloc(size_t a, size_t n)
{
	count();
	return __libc_memalign(a, n);
}

int posix_memalign(void **p, size_t a, size_t n)
{
	count();
	*p = __libc_memalign(a, n);
	return *p ? 0 : ENOMEM;
}

void free(void *p)
{
	/* freeing is not allocating, but the path should not do it either */
	count();
	__libc_free(p);
}

struct result {
	int ran, snap_ret, pick_ret, kill_ret, warn_ret, thr_ret, undo_ret;
	int freeze_ret, unfreeze_ret, stats_ret, write_ret, cgkill_ret;
	pid_t victim;
	int allocs_in_handler;
};

struct hctx {
	pid_t kill_pid, warn_pid;
	int log_fd;
	struct result r;
};

static int handler(struct uoom_watch *w, const struct uoom_event *ev, void *data)
{
	static const char *const protect[] = { "sshd", "/system.slice/*", NULL };
	static const char *const prefer[] = { "cmd:*--batch*", NULL };
	struct hctx *h = data;
	struct uoom_ctx *ctx = uoom_watch_ctx(w);
	const struct uoom_snapshot *s;
	struct uoom_policy pol;
	struct uoom_victim v;
	struct uoom_kill_result kr;
	struct uoom_oom_stats st;

	(void)ev;
	h->r.ran++;
	h->r.snap_ret = uoom_snapshot_take(w, &s);
	uoom_policy_init(&pol);
	pol.kind = UOOM_POLICY_LARGEST_CGROUP;
	pol.protect = protect;
	pol.prefer = prefer;
	h->r.pick_ret = uoom_pick_victim(s, &pol, &v);
	if (!h->r.pick_ret)
		h->r.victim = v.task->pid;
	h->r.write_ret = uoom_snapshot_write(w, h->log_fd, UOOM_SNAP_ALL, UOOM_FMT_TEXT, 5);
	h->r.stats_ret = uoom_watch_stats(w, &st);
	h->r.thr_ret = uoom_throttle(w, NULL, 1 << 20, 4 << 20);
	h->r.freeze_ret = uoom_freeze(w, NULL);
	h->r.undo_ret = uoom_throttle_undo(w);
	h->r.warn_ret = uoom_warn(ctx, h->warn_pid, SIGTERM, 2000);
	h->r.kill_ret = uoom_kill_pid(ctx, h->kill_pid, 2000, &kr);
	h->r.cgkill_ret = uoom_kill_cgroup(ctx, "job/batch");
	h->r.allocs_in_handler = allocs;
	return 0;
}

static pid_t child(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void run(unsigned int flags)
{
	struct uoom_watch_opts o;
	struct uoom_watch *w;
	struct uoom_ctx *ctx;
	struct hctx h = { 0 };
	struct fx f;
	int p[2], efd, status;
	uint64_t one = 1;
	char buf[64];

	fx_init(&f);
	fx_cgroup_kernel(&f, "job");
	fx_cgroup_v2(&f, "job/batch");
	fx_cgroup_v2(&f, "job/web");
	fx_cgroup_v2(&f, "job/system.slice");
	fx_write(f.cg, "job/memory.max", "104857600\n");
	fx_task(&f, "job", 100, "shell", 1000, 0, "bash");
	fx_task(&f, "job/batch", 200, "worker", 50000, 0, "worker --batch 7");
	fx_task(&f, "job/web", 300, "nginx", 30000, 0, NULL);
	fx_task(&f, "job/system.slice", 400, "sshd", 90000, 0, NULL);
	fx_task(&f, "job/web", 500, "init-like", 99999, -1000, NULL);
	ctx = fx_ctx(&f, flags);
	assert_int_equal(uoom_refresh(ctx), 0);	/* no watches yet */
	assert_int_equal(pipe(p), 0);
	h.log_fd = p[1];
	h.kill_pid = child();
	h.warn_pid = child();
	uoom_watch_opts_init(&o);
	o.cgroup = "job";
	o.handler = handler;
	o.data = &h;
	o.snapshot = UOOM_SNAP_ALL;
	o.log_fd = p[1];
	o.log_format = UOOM_FMT_JSON;
	assert_int_equal(uoom_watch_add(ctx, &o, &w), 0);
	assert_true(uoom_refresh(ctx) >= 4);	/* cmdlines cached before the OOM */
	fx_read(f.cg, "job/memory.oom_notify", buf, sizeof(buf));
	efd = atoi(buf);
	fx_write(f.cg, "job/memory.oom_notify", "handlers 1\nunder_oom 1\noom_episodes 1\n"
		 "oom_resolved 0\noom_fallback 0\nreserve_charged 0\n");

	allocs = 0;
	armed = 1;
	/* the event arrives ... */
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		armed = 0;
	int n = uoom_dispatch(ctx, 2000);
	/* ... and the handler has returned */
	armed = 0;

	assert_int_equal(n, 1);
	assert_int_equal(h.r.ran, 1);
	assert_int_equal(h.r.snap_ret, 0);
	assert_int_equal(h.r.pick_ret, 0);
	assert_int_equal(h.r.victim, 200);	/* largest child, sshd protected */
	assert_true(h.r.write_ret >= 6);
	assert_int_equal(h.r.stats_ret, 0);
	assert_int_equal(h.r.thr_ret, 0);
	assert_int_equal(h.r.freeze_ret, 0);
	assert_int_equal(h.r.undo_ret, 0);
	assert_int_equal(h.r.warn_ret, 1);
	assert_int_equal(h.r.kill_ret, 0);
	assert_int_equal(h.r.cgkill_ret, 0);
	if (allocs)
		fail_msg("%d allocation(s) on the handling path", allocs);
	assert_int_equal(h.r.allocs_in_handler, 0);

	assert_int_equal(waitpid(h.kill_pid, &status, 0), h.kill_pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_int_equal(waitpid(h.warn_pid, &status, 0), h.warn_pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	uoom_ctx_free(ctx);
	close(p[0]);
	close(p[1]);
	fx_fini(&f);
}

/* The interposer works: a plain malloc while armed is counted. */
static void interposer_counts(void **state)
{
	void *volatile p;

	(void)state;
	allocs = 0;
	armed = 1;
	p = malloc(16);
	armed = 0;
	free(p);
	assert_int_equal(allocs, 1);
}

static void no_alloc_uring(void **state)
{
	(void)state;
	run(UOOM_F_LOOP_URING);
}

static void no_alloc_epoll(void **state)
{
	(void)state;
	run(UOOM_F_LOOP_EPOLL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(interposer_counts),
		cmocka_unit_test(no_alloc_uring),
		cmocka_unit_test(no_alloc_epoll),
	};

	return cmocka_run_group_tests_name("alloc", tests, NULL, NULL);
}
