// SPDX-License-Identifier: GPL-2.0
/*
 * System-wide OOM through the root memcg: a memory hog with no cgroup limit
 * exhausts the VM; a handler registered on the root hears of it before the
 * global OOM killer and resolves it; a handler that does nothing gets the
 * kernel kill after the root delay; and with panic_on_oom=1 a handler that
 * resolves in time keeps the machine up.
 *
 * The handler (this process) runs as a real one must: mlockall() and a root
 * reserve for what it still allocates during the episode (page tables, the
 * seq_file buffers of the files it reads). A handler that needs memory
 * beyond its reserve has failed, and the kernel falls back at once.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "oomh_helpers.h"

#define MB (1024 * 1024)

static long long vmstat(const char *key)
{
	char buf[32768], *p;
	int fd = open("/proc/vmstat", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strstr(buf, key);
	return p ? atoll(p + strlen(key) + 1) : -1;
}

static long long mem_total(void)
{
	char buf[256];
	int fd = open("/proc/meminfo", O_RDONLY);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);

	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return atoll(buf + strlen("MemTotal:")) * 1024;
}

FIXTURE(sys) {
	int efd;
	long long kills;
	char cg[256];
};

FIXTURE_SETUP(sys)
{
	ASSERT_EQ(0, cg_create("uoom_system", self->cg, sizeof(self->cg)));
	ASSERT_EQ(0, mlockall(MCL_CURRENT | MCL_FUTURE));
	ASSERT_LT(0, cg_write(CG_ROOT, "memory.oom_reserve_in_bytes", "8M"));
	self->efd = oomh_new_handler(CG_ROOT);
	ASSERT_LE(0, self->efd);
	self->kills = vmstat("oom_kill");
}

FIXTURE_TEARDOWN(sys)
{
	close(self->efd);
	cg_write(CG_ROOT, "memory.oom_delay_millisecs", "0");
	cg_write(CG_ROOT, "memory.oom_reserve_in_bytes", "0");
	system("echo 0 > /proc/sys/vm/panic_on_oom");
	cg_destroy(self->cg);
}

/*
 * Touch memory 8 MB at a time (one mapping of it all would fail the
 * overcommit heuristic) until `bytes`.
 */
static int alloc_in_chunks(void *bytes)
{
	size_t want = (size_t)(uintptr_t)bytes, done;

	for (done = 0; done < want; done += 8 * MB)
		if (alloc_anon_and_keep(8 * MB))
			return 1;
	return 0;
}

static pid_t spawn_system_hog(const char *cg)
{
	/* Twice the VM's memory, in a cgroup with no limit. */
	return cg_spawn(cg, alloc_in_chunks, (void *)(uintptr_t)(2 * mem_total()));
}

TEST_F_TIMEOUT(sys, root_handler_resolves_system_oom, 120)
{
	long long ep0 = oomh_stat(CG_ROOT, "oom_episodes");
	long long res0 = oomh_stat(CG_ROOT, "oom_resolved");
	long long fb0 = oomh_stat(CG_ROOT, "oom_fallback");
	pid_t hog;

	ASSERT_LT(0, cg_write(CG_ROOT, "memory.oom_delay_millisecs", "20000"));
	hog = spawn_system_hog(self->cg);
	ASSERT_EQ(1, oomh_wait(self->efd, 60000));
	/*
	 * Act first, allocating nothing: what a root handler allocates in
	 * the episode comes from the root reserve (oomh_root_reserve tests
	 * that), and the system test should not depend on it.
	 */
	ASSERT_EQ(0, kill(hog, SIGKILL));
	EXPECT_EQ(128 + SIGKILL, cg_wait(hog));
	EXPECT_EQ(self->kills, vmstat("oom_kill"));
	EXPECT_EQ(ep0 + 1, oomh_stat(CG_ROOT, "oom_episodes"));
	/* Resolved by the handler: the kernel never fell back. */
	EXPECT_EQ(fb0, oomh_stat(CG_ROOT, "oom_fallback"));
	EXPECT_EQ(0, oomh_stat(CG_ROOT, "under_oom"));
	EXPECT_EQ(res0 + 1, oomh_stat_wait(CG_ROOT, "oom_resolved", res0 + 1, 5000));
}

TEST_F_TIMEOUT(sys, idle_root_handler_gets_kernel_kill_after_delay, 120)
{
	long long fb0 = oomh_stat(CG_ROOT, "oom_fallback");
	long long t0, dt;
	pid_t hog;

	ASSERT_LT(0, cg_write(CG_ROOT, "memory.oom_delay_millisecs", "1000"));
	hog = spawn_system_hog(self->cg);
	ASSERT_EQ(1, oomh_wait(self->efd, 60000));
	t0 = oomh_episode_start_ms(CG_ROOT);
	ASSERT_LE(0, t0);
	EXPECT_EQ(128 + SIGKILL, cg_wait(hog));
	dt = now_ms() - t0;
	/* Measured: 1053-1054 ms on the 2-vCPU normal kernel, 2334 ms on debug. */
	TH_LOG("global OOM kill %lld ms after the episode started (delay 1000, slack %lld)",
	       dt, oomh_slack_ms(1000));
	EXPECT_LE(1000 - 5, dt);
	EXPECT_GE(1000 + oomh_slack_ms(1000), dt);
	EXPECT_LT(self->kills, vmstat("oom_kill"));
	EXPECT_LT(fb0, oomh_stat(CG_ROOT, "oom_fallback"));
}

TEST_F_TIMEOUT(sys, handler_averts_panic_on_oom, 120)
{
	pid_t hog;

	ASSERT_LT(0, cg_write(CG_ROOT, "memory.oom_delay_millisecs", "20000"));
	ASSERT_EQ(0, system("echo 1 > /proc/sys/vm/panic_on_oom"));
	hog = spawn_system_hog(self->cg);
	ASSERT_EQ(1, oomh_wait(self->efd, 60000));
	ASSERT_EQ(0, kill(hog, SIGKILL));
	EXPECT_EQ(128 + SIGKILL, cg_wait(hog));
	/* Still here: the kernel did not panic. */
	EXPECT_EQ(self->kills, vmstat("oom_kill"));
}

TEST_HARNESS_MAIN
