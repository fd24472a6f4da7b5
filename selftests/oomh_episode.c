// SPDX-License-Identifier: GPL-2.0
/*
 * OOM episodes on a child memcg: the handler hears of the OOM before any
 * kill; what it does (kill, raise memory.max, free memory) resolves the
 * episode with no kernel OOM kill; doing nothing gets the kernel kill after
 * the delay, within a stated bound; and waiting tasks stay killable and
 * readable through /proc.
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "oomh_helpers.h"

#define MB (1024 * 1024)
/*
 * Kernel kill after the delay, measured from the episode's start as the
 * kernel sees it (delay_left_ms): 1030-1073 ms for a 1000 ms delay on the
 * 2-vCPU normal kernel, 1191 ms on the debug kernel. The slack is scaled
 * there (5000 ms): the issue measured 2854 ms from the wake-up on a
 * debug kernel with a loaded host, over the 1000 ms it had then.
 */
#define FALLBACK_SLACK_MS 1000

FIXTURE(ep) {
	char cg[256];
	int efd;
};

FIXTURE_SETUP(ep)
{
	ASSERT_EQ(0, cg_create("uoom_episode", self->cg, sizeof(self->cg)));
	ASSERT_LT(0, cg_write(self->cg, "memory.max", "32M"));
	ASSERT_LT(0, cg_write(self->cg, "memory.swap.max", "0"));
	self->efd = oomh_new_handler(self->cg);
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN(ep)
{
	close(self->efd);
	cg_destroy(self->cg);
}

static pid_t spawn_hog(const char *cg, size_t mb)
{
	return cg_spawn(cg, alloc_anon, (void *)(uintptr_t)(mb * MB));
}

static int pid_alive(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == 0;
}

TEST_F(ep, notified_before_any_kill_and_kill_resolves)
{
	pid_t hog;

	ASSERT_LT(0, cg_write(self->cg, "memory.oom_delay_millisecs", "10000"));
	hog = spawn_hog(self->cg, 128);
	ASSERT_EQ(1, oomh_wait(self->efd, 10000));
	/* Told first: nobody killed yet, the hog waits. */
	EXPECT_EQ(0, cg_read_key(self->cg, "memory.events", "oom_kill"));
	/* memory.events still counts the OOM, for monitors that watch it. */
	EXPECT_EQ(1, cg_read_key(self->cg, "memory.events", "oom"));
	EXPECT_EQ(1, oomh_stat(self->cg, "under_oom"));
	EXPECT_EQ(1, oomh_stat(self->cg, "oom_episodes"));
	/* What the handler has left of the 10 s delay: most of it. */
	EXPECT_LT(5000, oomh_stat(self->cg, "delay_left_ms"));
	EXPECT_GE(10000, oomh_stat(self->cg, "delay_left_ms"));
	EXPECT_TRUE(pid_alive(hog));
	/* The handler kills the hog itself. */
	ASSERT_EQ(0, kill(hog, SIGKILL));
	EXPECT_EQ(128 + SIGKILL, cg_wait(hog));
	EXPECT_EQ(1, oomh_stat_wait(self->cg, "oom_resolved", 1, 2000));
	EXPECT_EQ(0, oomh_stat(self->cg, "oom_fallback"));
	EXPECT_EQ(0, oomh_stat(self->cg, "under_oom"));
	EXPECT_EQ(0, cg_read_key(self->cg, "memory.events", "oom_kill"));
}

TEST_F(ep, raising_memory_max_resolves)
{
	pid_t hog;

	ASSERT_LT(0, cg_write(self->cg, "memory.oom_delay_millisecs", "10000"));
	hog = spawn_hog(self->cg, 64);
	ASSERT_EQ(1, oomh_wait(self->efd, 10000));
	ASSERT_LT(0, cg_write(self->cg, "memory.max", "256M"));
	EXPECT_EQ(0, cg_wait(hog));
	EXPECT_EQ(1, oomh_stat(self->cg, "oom_resolved"));
	EXPECT_EQ(0, oomh_stat(self->cg, "oom_fallback"));
	EXPECT_EQ(0, cg_read_key(self->cg, "memory.events", "oom_kill"));
}

TEST_F(ep, freeing_memory_resolves)
{
	pid_t holder, hog;

	ASSERT_LT(0, cg_write(self->cg, "memory.oom_delay_millisecs", "10000"));
	holder = cg_spawn(self->cg, alloc_anon_and_hold, (void *)(uintptr_t)(20 * MB));
	while (cg_read_num(self->cg, "memory.current") < 20 * MB)
		usleep(10000);
	hog = spawn_hog(self->cg, 20);
	ASSERT_EQ(1, oomh_wait(self->efd, 10000));
	/* Free memory by ending another job of the cgroup. */
	ASSERT_EQ(0, kill(holder, SIGKILL));
	EXPECT_EQ(128 + SIGKILL, cg_wait(holder));
	EXPECT_EQ(0, cg_wait(hog));
	EXPECT_EQ(1, oomh_stat(self->cg, "oom_resolved"));
	EXPECT_EQ(0, cg_read_key(self->cg, "memory.events", "oom_kill"));
}

TEST_F(ep, idle_handler_gets_kernel_kill_after_delay)
{
	long long t0, dt;
	pid_t hog;

	ASSERT_LT(0, cg_write(self->cg, "memory.oom_delay_millisecs", "1000"));
	hog = spawn_hog(self->cg, 128);
	ASSERT_EQ(1, oomh_wait(self->efd, 10000));
	t0 = oomh_episode_start_ms(self->cg);
	ASSERT_LE(0, t0);
	EXPECT_EQ(128 + SIGKILL, cg_wait(hog));
	dt = now_ms() - t0;
	TH_LOG("kernel kill %lld ms after the episode started (delay 1000, slack %lld)",
	       dt, oomh_slack_ms(FALLBACK_SLACK_MS));
	/* Never early: one 4 ms jiffy of rounding in delay_left_ms. */
	EXPECT_LE(1000 - 5, dt);
	EXPECT_GE(1000 + oomh_slack_ms(FALLBACK_SLACK_MS), dt);
	EXPECT_EQ(1, cg_read_key(self->cg, "memory.events", "oom_kill"));
	/* One OOM, one "oom" event: the episode and its fallback are one. */
	EXPECT_EQ(1, cg_read_key(self->cg, "memory.events", "oom"));
	EXPECT_LE(1, oomh_stat(self->cg, "oom_fallback"));
	EXPECT_EQ(0, oomh_stat(self->cg, "oom_resolved"));
}

TEST_F(ep, delay_zero_notifies_and_kills_at_once)
{
	long long ms;
	pid_t hog;

	hog = spawn_hog(self->cg, 128);
	EXPECT_EQ(128 + SIGKILL, oomh_wait_from_oom(self->cg, hog, &ms));
	TH_LOG("hog killed %lld ms after its OOM", ms);
	ASSERT_LE(0, ms) TH_LOG("the hog died before its OOM was seen");
	EXPECT_GE(oomh_slack_ms(FALLBACK_SLACK_MS), ms);
	EXPECT_EQ(1, oomh_wait(self->efd, 1000));
	EXPECT_EQ(1, cg_read_key(self->cg, "memory.events", "oom_kill"));
	/* As without a handler: one OOM, one "oom" event (oomd counts them). */
	EXPECT_EQ(1, cg_read_key(self->cg, "memory.events", "oom"));
	EXPECT_LE(1, oomh_stat(self->cg, "oom_episodes"));
	EXPECT_EQ(oomh_stat(self->cg, "oom_episodes"),
		  oomh_stat(self->cg, "oom_fallback"));
}

TEST_F(ep, no_handler_left_means_no_delay)
{
	long long ms;
	pid_t hog;

	close(self->efd);
	self->efd = eventfd(0, 0);
	ASSERT_EQ(0, oomh_stat_wait(self->cg, "handlers", 0, 2000));
	ASSERT_LT(0, cg_write(self->cg, "memory.oom_delay_millisecs", "30000"));
	hog = spawn_hog(self->cg, 128);
	EXPECT_EQ(128 + SIGKILL, oomh_wait_from_oom(self->cg, hog, &ms));
	/* As delay_zero_notifies_and_kills_at_once: no 30 s wait. */
	TH_LOG("hog killed %lld ms after its OOM", ms);
	ASSERT_LE(0, ms) TH_LOG("the hog died before its OOM was seen");
	EXPECT_GE(oomh_slack_ms(FALLBACK_SLACK_MS), ms);
	EXPECT_EQ(1, cg_read_key(self->cg, "memory.events", "oom_kill"));
	EXPECT_EQ(0, oomh_stat(self->cg, "oom_episodes"));
}

TEST_F(ep, waiting_task_leaves_at_once_on_sigkill)
{
	long long t0, dt;
	pid_t hog;

	ASSERT_LT(0, cg_write(self->cg, "memory.oom_delay_millisecs", "30000"));
	hog = spawn_hog(self->cg, 128);
	ASSERT_EQ(1, oomh_wait(self->efd, 10000));
	t0 = now_ms();
	ASSERT_EQ(0, kill(hog, SIGKILL));
	EXPECT_EQ(128 + SIGKILL, cg_wait(hog));
	dt = now_ms() - t0;
	TH_LOG("waiting task gone %lld ms after SIGKILL", dt);
	/*
	 * Measured: 18 ms; debug kernel 100-211 ms, and 1178 ms once on a
	 * loaded host (the run), over the 1000 ms this bound had:
	 * hence the debug factor.
	 */
	EXPECT_GE(oomh_slack_ms(1000), dt);
}

/* Write arg bytes to a memfd with write(): shmem charges in kernel context. */
static int write_memfd(void *arg)
{
	static char chunk[64 * 1024];
	size_t left = (uintptr_t)arg;
	int fd = memfd_create("uoom_writer", 0);

	if (fd < 0)
		return 2;
	memset(chunk, 1, sizeof(chunk));
	for (; left; left -= sizeof(chunk))
		if (write(fd, chunk, sizeof(chunk)) != sizeof(chunk))
			return 3;
	return 0;
}

/*
 * A task waiting in a kernel-context charge (here shmem, in write()) sleeps
 * until the episode ends: it does not retry reclaim every slice, which
 * would take the CPU the handler needs. Each reclaim attempt counts in
 * memory.events "max".
 */
TEST_F(ep, kernel_context_waiter_does_not_retry_reclaim)
{
	long long max0, max1;
	pid_t holder, writer;

	ASSERT_LT(0, cg_write(self->cg, "memory.oom_delay_millisecs", "10000"));
	holder = cg_spawn(self->cg, alloc_anon_and_hold, (void *)(uintptr_t)(28 * MB));
	while (cg_read_num(self->cg, "memory.current") < 28 * MB)
		usleep(10000);
	writer = cg_spawn(self->cg, write_memfd, (void *)(uintptr_t)(8 * MB));
	ASSERT_EQ(1, oomh_wait(self->efd, 10000));
	usleep(200000);
	max0 = cg_read_key(self->cg, "memory.events", "max");
	usleep(1000000);
	max1 = cg_read_key(self->cg, "memory.events", "max");
	TH_LOG("memory.events max went from %lld to %lld in 1 s of the episode",
	       max0, max1);
	EXPECT_EQ(1, oomh_stat(self->cg, "under_oom"));
	EXPECT_GE(2, max1 - max0);
	/* Room resolves it, and the writer finishes. */
	ASSERT_EQ(0, kill(holder, SIGKILL));
	EXPECT_EQ(128 + SIGKILL, cg_wait(holder));
	EXPECT_EQ(0, cg_wait(writer));
	EXPECT_EQ(1, oomh_stat(self->cg, "oom_resolved"));
	EXPECT_EQ(0, cg_read_key(self->cg, "memory.events", "oom_kill"));
}

static int read_file_ms(const char *path, long long *ms)
{
	char buf[4096];
	long long t0 = now_ms();
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	*ms = now_ms() - t0;
	return n < 0 ? -errno : (int)n;
}

TEST_F(ep, handler_reads_proc_of_waiting_task)
{
	char path[64];
	long long ms;
	pid_t hog;

	ASSERT_LT(0, cg_write(self->cg, "memory.oom_delay_millisecs", "10000"));
	hog = spawn_hog(self->cg, 128);
	ASSERT_EQ(1, oomh_wait(self->efd, 10000));
	snprintf(path, sizeof(path), "/proc/%d/cmdline", hog);
	EXPECT_LT(0, read_file_ms(path, &ms));
	EXPECT_GE(500, ms) TH_LOG("cmdline took %lld ms", ms);
	snprintf(path, sizeof(path), "/proc/%d/status", hog);
	EXPECT_LT(0, read_file_ms(path, &ms));
	EXPECT_GE(500, ms) TH_LOG("status took %lld ms", ms);
	snprintf(path, sizeof(path), "/proc/%d/maps", hog);
	EXPECT_LE(0, read_file_ms(path, &ms));
	EXPECT_GE(500, ms) TH_LOG("maps took %lld ms", ms);
	EXPECT_EQ(1, oomh_stat(self->cg, "under_oom"));
	kill(hog, SIGKILL);
	cg_wait(hog);
}

TEST_F(ep, many_tasks_one_increment_per_episode)
{
	pid_t hogs[16];
	int i;

	ASSERT_LT(0, cg_write(self->cg, "memory.oom_delay_millisecs", "10000"));
	for (i = 0; i < 16; i++)
		hogs[i] = spawn_hog(self->cg, 16);
	ASSERT_EQ(1, oomh_wait(self->efd, 10000));
	/* The others hit the same episode: no second signal. */
	EXPECT_EQ(0, oomh_wait(self->efd, 500));
	EXPECT_EQ(1, oomh_stat(self->cg, "oom_episodes"));
	ASSERT_LT(0, cg_write(self->cg, "cgroup.kill", "1"));
	for (i = 0; i < 16; i++)
		cg_wait(hogs[i]);
	EXPECT_EQ(1, oomh_stat_wait(self->cg, "oom_resolved", 1, 2000));
	EXPECT_EQ(0, oomh_stat(self->cg, "oom_fallback"));
	EXPECT_EQ(0, cg_read_key(self->cg, "memory.events", "oom_kill"));
}

/*
 * Fault in size bytes, then stop: a parent that sees it stopped knows it
 * holds them all and charges nothing more (waiting for memory.current
 * raced the last page faults, and a fault over the lowered limit is an OOM
 * of its own, with an episode).
 */
static int alloc_anon_then_stop(void *size)
{
	if (alloc_anon_and_keep((size_t)(uintptr_t)size))
		return 1;
	for (;;)
		raise(SIGSTOP);
}

/*
 * Lowering memory.max below the usage starts no episode (cgroup-v2.rst):
 * the writer asked for the memory back, so the kernel reclaims and kills
 * in the writer's context at once, whatever the delay, and the handler is
 * not told. libuoom's throttle undo waits for the usage for that reason.
 */
TEST_F(ep, lowering_max_below_usage_is_no_episode)
{
	long long t0, dt;
	pid_t holder;
	int st;

	ASSERT_LT(0, cg_write(self->cg, "memory.oom_delay_millisecs", "30000"));
	holder = cg_spawn(self->cg, alloc_anon_then_stop,
			  (void *)(uintptr_t)(24 * MB));
	ASSERT_EQ(holder, waitpid(holder, &st, WUNTRACED));
	ASSERT_TRUE(WIFSTOPPED(st));
	ASSERT_LE(24 * MB, cg_read_num(self->cg, "memory.current"));
	t0 = now_ms();
	EXPECT_LT(0, cg_write(self->cg, "memory.max", "8M"));
	EXPECT_EQ(128 + SIGKILL, cg_wait(holder));
	dt = now_ms() - t0;
	TH_LOG("holder killed %lld ms after memory.max went under its usage", dt);
	/* Measured: 32 ms (debug kernel 106-242). */
	EXPECT_GE(5000, dt);
	EXPECT_EQ(0, oomh_wait(self->efd, 200));
	EXPECT_EQ(0, oomh_stat(self->cg, "oom_episodes"));
	EXPECT_EQ(1, cg_read_key(self->cg, "memory.events", "oom_kill"));
}

TEST_HARNESS_MAIN
