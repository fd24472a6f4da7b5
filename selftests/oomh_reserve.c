// SPDX-License-Identifier: GPL-2.0
/*
 * memory.oom_reserve_in_bytes: during an episode, a handler inside the
 * OOMing memcg may charge up to the reserve above memory.max; beyond it the
 * kernel OOM killer runs; other tasks never get it; and the reserve cannot
 * be lowered under what is charged against it (EBUSY).
 */
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "oomh_helpers.h"

#define MB (1024 * 1024)

FIXTURE(res) {
	char cg[256];
	int ready[2];
};

FIXTURE_SETUP(res)
{
	ASSERT_EQ(0, cg_create("uoom_reserve", self->cg, sizeof(self->cg)));
	ASSERT_LT(0, cg_write(self->cg, "memory.max", "32M"));
	ASSERT_LT(0, cg_write(self->cg, "memory.swap.max", "0"));
	ASSERT_LT(0, cg_write(self->cg, "memory.oom_delay_millisecs", "30000"));
	ASSERT_LT(0, cg_write(self->cg, "memory.oom_reserve_in_bytes", "8M"));
	ASSERT_EQ(0, pipe(self->ready));
}

FIXTURE_TEARDOWN(res)
{
	cg_destroy(self->cg);
}

static int touch(size_t bytes)
{
	volatile char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i;

	if (p == MAP_FAILED)
		return -1;
	for (i = 0; i < bytes; i += 4096)
		p[i] = 1;
	return 0;
}

/*
 * A handler living in the OOMing memcg: registers, joins, says ready, waits
 * for the episode, allocates `mb` MB, then reports through its exit code:
 * bit 0 the allocation finished, bit 1 lowering the reserve to 1M gave
 * EBUSY, bit 2 reserve_charged was above zero, bit 3 the allocation took
 * under a second (the reserve is granted without reclaim first: through
 * 16 reclaim passes per page, 4 MB took 18.7 s on the debug kernel),
 * bit 4 the kernel had killed nobody while the handler was there (once it
 * exits, the episode has no handler left and ends by fallback at once).
 */
/* Register on cg, join it and say ready: the handler's eventfd, or -1. */
static int join_as_handler(const char *cg, int ready)
{
	int efd = oomh_new_handler(cg);

	if (efd < 0 || cg_enter(cg, getpid()) || write(ready, "r", 1) != 1)
		return -1;
	return efd;
}

/* Bit 4: it charged against the reserve; bit 16: no kernel kill. */
static int reserve_bits(const char *cg)
{
	return (oomh_stat(cg, "reserve_charged") > 0 ? 4 : 0) |
	       (cg_read_key(cg, "memory.events", "oom_kill") == 0 ? 16 : 0);
}

static int inside_handler(const char *cg, int ready, size_t mb)
{
	int efd = join_as_handler(cg, ready), rc = 0;
	long long t0;

	if (efd < 0)
		return 100;
	if (oomh_wait(efd, 10000) != 1)
		return 101;
	t0 = now_ms();
	if (!touch(mb * MB))
		rc |= 1;
	t0 = now_ms() - t0;
	fprintf(stderr, "# handler: %zu MB touched in %lld ms\n", mb, t0);
	if (t0 < 1000)
		rc |= 8;
	if (cg_write(cg, "memory.oom_reserve_in_bytes", "1M") == -EBUSY)
		rc |= 2;
	rc |= reserve_bits(cg);
	/* End the episode: kill everything else in the cgroup. */
	return rc;
}

typedef int (*handler_fn)(const char *cg, int ready, size_t mb);

static pid_t start(struct __test_metadata *_metadata, handler_fn fn,
		   const char *cg, int ready[2], size_t mb)
{
	pid_t pid = fork();
	char c;

	if (pid == 0)
		_exit(fn(cg, ready[1], mb));
	EXPECT_EQ(1, read(ready[0], &c, 1));
	return pid;
}

TEST_F(res, handler_allocates_within_reserve)
{
	pid_t handler, hog;
	long long cur;

	handler = start(_metadata, inside_handler, self->cg, self->ready, 4);
	hog = cg_spawn(self->cg, alloc_anon, (void *)(uintptr_t)(128 * MB));
	EXPECT_EQ(1 | 2 | 4 | 8 | 16, cg_wait(handler));
	cur = cg_read_num(self->cg, "memory.peak");
	TH_LOG("memory.peak %lld MB", cur / MB);
	EXPECT_GE(32 * MB + 8 * MB, cur);
	/* The handler is gone: the kernel may have killed the hog already. */
	kill(hog, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, cg_wait(hog));
}

/*
 * A handler whose own charge is the first to fail, with no episode
 * pending: that is the OOM it handles. The episode starts (the handler is
 * told, like any handler), and its charge is retried from the reserve, as
 * during any episode. It used to count as "the handler is out of memory",
 * and the kernel killed at once: here, the handler itself.
 */
static int first_oom_handler(const char *cg, int ready, size_t mb)
{
	int efd = join_as_handler(cg, ready), rc = 0;

	if (efd < 0)
		return 100;
	if (!touch(mb * MB))
		rc |= 1;
	if (oomh_wait(efd, 0) == 1)
		rc |= 2;
	return rc | reserve_bits(cg);
}

TEST_F(res, handler_first_out_of_memory_starts_the_episode)
{
	pid_t pid = start(_metadata, first_oom_handler, self->cg,
			  self->ready, 36);

	/*
	 * Bits: 1 its 36M were touched, 2 it was told of the episode, 4 it
	 * charged against the reserve, 16 the kernel killed nothing.
	 */
	EXPECT_EQ(1 | 2 | 4 | 16, cg_wait(pid));
	EXPECT_EQ(1, oomh_stat(self->cg, "oom_episodes"));
	EXPECT_EQ(0, cg_read_key(self->cg, "memory.events", "oom_kill"));
	EXPECT_GE(32 * MB + 8 * MB, cg_read_num(self->cg, "memory.peak"));
}

TEST_F(res, handler_beyond_reserve_gets_kernel_kill)
{
	pid_t handler, hog;

	handler = start(_metadata, inside_handler, self->cg, self->ready, 24);
	hog = cg_spawn(self->cg, alloc_anon, (void *)(uintptr_t)(128 * MB));
	cg_wait(handler);
	cg_wait(hog);
	EXPECT_LE(1, cg_read_key(self->cg, "memory.events", "oom_kill"));
	EXPECT_LE(1, oomh_stat(self->cg, "oom_fallback"));
	EXPECT_GE(32 * MB + 8 * MB, cg_read_num(self->cg, "memory.peak"));
}

TEST_F(res, other_tasks_never_get_the_reserve)
{
	int efd = oomh_new_handler(self->cg);
	pid_t hog;

	ASSERT_LE(0, efd);
	hog = cg_spawn(self->cg, alloc_anon, (void *)(uintptr_t)(128 * MB));
	ASSERT_EQ(1, oomh_wait(efd, 10000));
	usleep(300000);
	EXPECT_GE(32 * MB, cg_read_num(self->cg, "memory.current"));
	EXPECT_EQ(0, oomh_stat(self->cg, "reserve_charged"));
	kill(hog, SIGKILL);
	cg_wait(hog);
	close(efd);
}

/*
 * A reserve never lets a memcg escape an ancestor's memory.max. The
 * reserve file needs only write access, which a delegatee (a user manager,
 * a rootless container) has on the children it creates: here an
 * unprivileged handler sets 64M of reserve on its child of a 32M subtree
 * and allocates 20M there during an episode. The subtree's memory.peak must
 * stay within its 32M.
 */
TEST_F(res, reserve_never_escapes_an_ancestor_limit)
{
	char child[300], path[400], c;
	long long peak;
	pid_t handler, hog;
	int ready[2];

	ASSERT_LT(0, cg_write(self->cg, "memory.oom_reserve_in_bytes", "0"));
	ASSERT_LT(0, cg_write(self->cg, "memory.max", "max"));
	ASSERT_LT(0, cg_write(self->cg, "cgroup.subtree_control", "+memory"));
	/* The delegated subtree: 32M, its child given to uid 65534. */
	snprintf(child, sizeof(child), "%s/sub", self->cg);
	ASSERT_EQ(0, mkdir(child, 0755));
	ASSERT_LT(0, cg_write(child, "memory.max", "32M"));
	ASSERT_LT(0, cg_write(child, "memory.swap.max", "0"));
	ASSERT_LT(0, cg_write(child, "cgroup.subtree_control", "+memory"));
	snprintf(child, sizeof(child), "%s/sub/job", self->cg);
	ASSERT_EQ(0, mkdir(child, 0755));
	ASSERT_LT(0, cg_write(child, "memory.max", "24M"));
	ASSERT_LT(0, cg_write(child, "memory.oom_delay_millisecs", "10000"));
	snprintf(path, sizeof(path), "%s/memory.oom_reserve_in_bytes", child);
	ASSERT_EQ(0, chown(path, 65534, 65534));
	snprintf(path, sizeof(path), "%s/memory.oom_notify", child);
	ASSERT_EQ(0, chown(path, 65534, 65534));
	ASSERT_EQ(0, pipe(ready));
	handler = fork();
	ASSERT_LE(0, handler);
	if (handler == 0) {
		int efd;

		if (cg_enter(child, getpid()) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(100);
		if (cg_write(child, "memory.oom_reserve_in_bytes", "64M") < 0)
			_exit(101);
		efd = oomh_new_handler(child);
		if (efd < 0 || write(ready[1], "r", 1) != 1)
			_exit(102);
		if (oomh_wait(efd, 10000) != 1)
			_exit(103);
		touch(20 * MB);
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	hog = cg_spawn(child, alloc_anon, (void *)(uintptr_t)(128 * MB));
	cg_wait(handler);
	kill(hog, SIGKILL);
	cg_wait(hog);
	snprintf(path, sizeof(path), "%s/sub", self->cg);
	peak = cg_read_num(path, "memory.peak");
	TH_LOG("subtree memory.peak %lld KB (memory.max 32M), job's %lld KB (24M + 64M reserve)",
	       peak / 1024, cg_read_num(child, "memory.peak") / 1024);
	EXPECT_GE(32 * MB, peak);
	cg_destroy(child);
	cg_destroy(path);
}

/*
 * reserve_charged is what handlers charged against the reserve, not any
 * usage above memory.max: lowering memory.max under the usage of a task
 * the OOM killer may not kill leaves an overage that is nobody's reserve,
 * and the reserve can still be set to 0.
 */
TEST_F(res, overage_without_a_handler_is_not_reserve)
{
	pid_t holder;

	ASSERT_LT(0, cg_write(self->cg, "memory.oom_reserve_in_bytes", "8M"));
	holder = fork();
	ASSERT_LE(0, holder);
	if (holder == 0) {
		FILE *f = fopen("/proc/self/oom_score_adj", "w");

		if (!f || fprintf(f, "-1000\n") < 0 || fclose(f))
			_exit(100);
		if (cg_enter(self->cg, getpid()))
			_exit(101);
		_exit(alloc_anon_and_hold((void *)(uintptr_t)(20 * MB)));
	}
	while (cg_read_num(self->cg, "memory.current") < 20 * MB)
		usleep(10000);
	/* Nothing to reclaim (no swap), nobody the OOM killer may pick. */
	ASSERT_LT(0, cg_write(self->cg, "memory.max", "10M"));
	EXPECT_LT(10 * MB, cg_read_num(self->cg, "memory.current"));
	EXPECT_EQ(0, oomh_stat(self->cg, "reserve_charged"));
	EXPECT_LT(0, cg_write(self->cg, "memory.oom_reserve_in_bytes", "0"));
	EXPECT_EQ(0, cg_read_num(self->cg, "memory.oom_reserve_in_bytes"));
	kill(holder, SIGKILL);
	cg_wait(holder);
}

TEST_HARNESS_MAIN
