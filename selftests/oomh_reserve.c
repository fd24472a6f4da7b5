// SPDX-License-Identifier: GPL-2.0
/*
 * memory.oom_reserve_in_bytes: during an episode, a handler inside the
 * OOMing memcg may charge up to the reserve above memory.max; beyond it the
 * kernel OOM killer runs; other tasks never get it; and the reserve cannot
 * be lowered under what is charged against it (EBUSY).
 */
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

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
static int inside_handler(const char *cg, int ready, size_t mb)
{
	int efd = oomh_new_handler(cg), rc = 0;
	long long t0;

	if (efd < 0 || cg_enter(cg, getpid()) || write(ready, "r", 1) != 1)
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
	if (oomh_stat(cg, "reserve_charged") > 0)
		rc |= 4;
	if (cg_read_key(cg, "memory.events", "oom_kill") == 0)
		rc |= 16;
	/* End the episode: kill everything else in the cgroup. */
	return rc;
}

static pid_t start_handler(struct __test_metadata *_metadata,
			   const char *cg, int ready[2], size_t mb)
{
	pid_t pid = fork();
	char c;

	if (pid == 0)
		_exit(inside_handler(cg, ready[1], mb));
	EXPECT_EQ(1, read(ready[0], &c, 1));
	return pid;
}

TEST_F(res, handler_allocates_within_reserve)
{
	pid_t handler, hog;
	long long cur;

	handler = start_handler(_metadata, self->cg, self->ready, 4);
	hog = cg_spawn(self->cg, alloc_anon, (void *)(uintptr_t)(128 * MB));
	EXPECT_EQ(1 | 2 | 4 | 8 | 16, cg_wait(handler));
	cur = cg_read_num(self->cg, "memory.peak");
	TH_LOG("memory.peak %lld MB", cur / MB);
	EXPECT_GE(32 * MB + 8 * MB, cur);
	/* The handler is gone: the kernel may have killed the hog already. */
	kill(hog, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, cg_wait(hog));
}

TEST_F(res, handler_beyond_reserve_gets_kernel_kill)
{
	pid_t handler, hog;

	handler = start_handler(_metadata, self->cg, self->ready, 24);
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

TEST_HARNESS_MAIN
