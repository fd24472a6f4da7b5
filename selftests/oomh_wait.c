// SPDX-License-Identifier: GPL-2.0
/*
 * How tasks wait in an episode, as seen from outside: a task waiting at the
 * end of its fault can be frozen (cgroup.freeze, the action a handler may
 * take instead of a kill) and thawed to go on waiting; and waiting is a
 * memory stall, so memory.pressure keeps rising while the episode lasts,
 * for the handler and for every PSI monitor.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "kselftest_harness.h"
#include "oomh_helpers.h"

#define MB (1024 * 1024)
/* A cgroup of tasks that can be frozen is frozen well within this. */
#define FREEZE_BOUND_MS 1000

FIXTURE(wt) {
	char cg[256];
	int efd;
};

FIXTURE_SETUP(wt)
{
	ASSERT_EQ(0, cg_create("uoom_wait", self->cg, sizeof(self->cg)));
	ASSERT_LT(0, cg_write(self->cg, "memory.max", "32M"));
	ASSERT_LT(0, cg_write(self->cg, "memory.swap.max", "0"));
	ASSERT_LT(0, cg_write(self->cg, "memory.oom_delay_millisecs", "30000"));
	self->efd = oomh_new_handler(self->cg);
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN(wt)
{
	close(self->efd);
	cg_write(self->cg, "cgroup.freeze", "0");
	cg_destroy(self->cg);
}

/* Wait up to ms for cgroup.events "frozen" to read want; the time, or -1. */
static long long wait_frozen(const char *cg, int want, int ms)
{
	long long t0 = now_ms();

	while (now_ms() - t0 <= ms) {
		if (cg_read_key(cg, "cgroup.events", "frozen") == want)
			return now_ms() - t0;
		usleep(10000);
	}
	return -1;
}

TEST_F(wt, waiting_tasks_can_be_frozen_and_thawed)
{
	long long ms;
	pid_t hog;

	hog = cg_spawn(self->cg, alloc_anon, (void *)(uintptr_t)(128 * MB));
	ASSERT_EQ(1, oomh_wait(self->efd, 10000));
	usleep(200000);
	ASSERT_LT(0, cg_write(self->cg, "cgroup.freeze", "1"));
	ms = wait_frozen(self->cg, 1, FREEZE_BOUND_MS);
	TH_LOG("frozen %lld ms after cgroup.freeze (-1: not within %d ms)", ms, FREEZE_BOUND_MS);
	EXPECT_LE(0, ms);
	/* Frozen is not resolved: the episode goes on. */
	EXPECT_EQ(1, oomh_stat(self->cg, "under_oom"));
	ASSERT_LT(0, cg_write(self->cg, "cgroup.freeze", "0"));
	EXPECT_LE(0, wait_frozen(self->cg, 0, FREEZE_BOUND_MS));
	/* Thawed, it waits again, still killable; the handler kills it. */
	usleep(200000);
	EXPECT_EQ(1, oomh_stat(self->cg, "under_oom"));
	ASSERT_EQ(0, kill(hog, SIGKILL));
	EXPECT_EQ(128 + SIGKILL, cg_wait(hog));
	EXPECT_EQ(0, cg_read_key(self->cg, "memory.events", "oom_kill"));
}

/* "full avg10=... total=N" of memory.pressure: N, in microseconds. */
static long long full_total(const char *cg)
{
	char buf[256], *p;

	if (cg_read(cg, "memory.pressure", buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, "full ");
	p = p ? strstr(p, "total=") : NULL;
	return p ? strtoll(p + 6, NULL, 10) : -1;
}

TEST_F(wt, waiting_is_a_memory_stall)
{
	long long t0, t1;
	pid_t hog;

	hog = cg_spawn(self->cg, alloc_anon, (void *)(uintptr_t)(128 * MB));
	ASSERT_EQ(1, oomh_wait(self->efd, 10000));
	usleep(100000);
	t0 = full_total(self->cg);
	usleep(2000000);
	t1 = full_total(self->cg);
	TH_LOG("memory.pressure full total: +%lld us in 2 s of the episode", t1 - t0);
	EXPECT_EQ(1, oomh_stat(self->cg, "under_oom"));
	/* The only task of the cgroup waits all along: nearly all 2 s. */
	EXPECT_LE(1000000, t1 - t0);
	kill(hog, SIGKILL);
	cg_wait(hog);
}

TEST_HARNESS_MAIN
