// SPDX-License-Identifier: GPL-2.0
/*
 * The baseline every uoom test builds on: with no handler, a memcg that goes
 * over memory.max gets the kernel OOM killer. The hog dies by SIGKILL, the
 * cgroup empties, and memory.events counts exactly one oom and one oom_kill.
 */
#include <signal.h>
#include <stdint.h>

#include "kselftest_harness.h"
#include "cgroup_helpers.h"

#define MB (1024 * 1024)

FIXTURE(memcg) {
	char path[256];
};

FIXTURE_SETUP(memcg)
{
	ASSERT_EQ(0, cg_create("uoom_oom_kill", self->path, sizeof(self->path)));
	ASSERT_LT(0, cg_write(self->path, "memory.max", "32M"));
	ASSERT_LT(0, cg_write(self->path, "memory.swap.max", "0"));
}

FIXTURE_TEARDOWN(memcg)
{
	cg_destroy(self->path);
}

TEST_F(memcg, hog_is_killed_and_counted)
{
	pid_t pid;

	pid = cg_spawn(self->path, alloc_anon, (void *)(uintptr_t)(128 * MB));
	ASSERT_LT(0, pid);
	EXPECT_EQ(128 + SIGKILL, cg_wait(pid));
	EXPECT_EQ(0, cg_nr_procs(self->path));
	EXPECT_EQ(1, cg_read_key(self->path, "memory.events", "oom"));
	EXPECT_EQ(1, cg_read_key(self->path, "memory.events", "oom_kill"));
}

TEST_F(memcg, under_limit_is_not_killed)
{
	pid_t pid;

	pid = cg_spawn(self->path, alloc_anon, (void *)(uintptr_t)(16 * MB));
	ASSERT_LT(0, pid);
	EXPECT_EQ(0, cg_wait(pid));
	EXPECT_EQ(0, cg_read_key(self->path, "memory.events", "oom"));
	EXPECT_EQ(0, cg_read_key(self->path, "memory.events", "oom_kill"));
}

TEST_HARNESS_MAIN
