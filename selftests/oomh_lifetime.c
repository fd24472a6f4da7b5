// SPDX-License-Identifier: GPL-2.0
/*
 * The lifetime of what a failed charge leaves on the task: a user fault
 * whose charge fails during an episode records the memcg to wait for at the
 * end of the fault, with a css reference. A fault whose failed charge does
 * not end in VM_FAULT_OOM (a THP charge that falls back to small pages) must
 * not leave it behind, fork() must not copy it, and the memcg must be freed
 * once removed (cgroup.stat nr_dying_descendants back to 0). A THP charge
 * that falls back is not an OOM: no episode, no memory.events "oom".
 *
 * A removed memcg may also be pinned by a CPU's charge stock, which is
 * upstream's and no leak: see flush_charge_stocks().
 *
 * Run on the debug kernel (KASAN), a leaked or doubly dropped reference is a
 * kernel report as well as a failed assertion.
 */
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "oomh_helpers.h"

#define MB (1024 * 1024)
#define HPAGE (2 * MB)
/*
 * A removed memcg with no page left, once the CPUs' charge stocks let go
 * of it (flush_charge_stocks()), is freed within this (RCU, workqueue):
 * 45-76 ms measured in 16 runs; on the debug kernel 62-93 ms. It was 10 s
 * while the stocks could pin the memcg (9463-9806 ms seen): the bound was
 * waiting for a CPU to happen to charge another memcg.
 */
#define FREE_BOUND_MS 2000

FIXTURE(lt) {
	char parent[256];
	char cg[256 + 8];	/* parent + "/job" */
	char other[256 + 8];	/* parent + "/other": see flush_charge_stocks() */
	int efd;
};

FIXTURE_SETUP(lt)
{
	/* Every test kernel has THP (vm_sanity checks it). */
	ASSERT_EQ(0, access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK));
	ASSERT_EQ(0, cg_create("uoom_lifetime", self->parent, sizeof(self->parent)));
	ASSERT_LT(0, cg_write(self->parent, "cgroup.subtree_control", "+memory"));
	snprintf(self->cg, sizeof(self->cg), "%s/job", self->parent);
	ASSERT_EQ(0, mkdir(self->cg, 0755));
	snprintf(self->other, sizeof(self->other), "%s/other", self->parent);
	ASSERT_EQ(0, mkdir(self->other, 0755));
	ASSERT_LT(0, cg_write(self->cg, "memory.max", "32M"));
	ASSERT_LT(0, cg_write(self->cg, "memory.swap.max", "0"));
	ASSERT_LT(0, cg_write(self->cg, "memory.oom_delay_millisecs", "10000"));
	self->efd = oomh_new_handler(self->cg);
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN(lt)
{
	close(self->efd);
	cg_destroy(self->cg);
	cg_destroy(self->other);
	cg_destroy(self->parent);
}

/* A 2 MiB-aligned region of n huge pages, MADV_HUGEPAGE, untouched. */
static char *thp_region(size_t n)
{
	char *p = mmap(NULL, (n + 1) * HPAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	p = (char *)(((uintptr_t)p + HPAGE - 1) & ~(uintptr_t)(HPAGE - 1));
	if (madvise(p, n * HPAGE, MADV_HUGEPAGE))
		return NULL;
	return p;
}

/* Set our memcg's memory.max to what it uses now plus margin bytes. */
static int leave_margin(const char *cg, long long margin)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", cg_read_num(cg, "memory.current") + margin);
	return cg_write(cg, "memory.max", buf) < 0;
}

struct thp_args {
	const char *cg;
	int fork_after;	/* fork, then both processes fault past the limit */
};

/*
 * In the memcg: leave 1 MiB of room, touch one byte of a huge page (its 2 MiB
 * charge fails, the fault falls back to a small page and succeeds), then
 * optionally fork and make both processes fault until the limit.
 */
static int thp_fallback_fault(void *arg)
{
	struct thp_args *a = arg;
	char *p = thp_region(4);
	size_t i;

	if (!p || leave_margin(a->cg, MB))
		return 2;
	p[0] = 1;
	if (!a->fork_after)
		return 0;
	if (fork() < 0)
		return 3;
	/* Parent and child: fault until the handler (the test) kills us. */
	for (i = 4096; i < 4 * HPAGE; i += 4096)
		p[i] = 1;
	return 0;
}

static long long dying(const char *cg)
{
	return cg_read_key(cg, "cgroup.stat", "nr_dying_descendants");
}

/*
 * Make every CPU's charge stock let go of the memcgs it caches: a task on
 * each CPU charges 64 pages to another memcg, and the stock switches to it.
 * Each CPU keeps a batch of pre-charged pages for the last memcg it charged
 * (memcg_stock), with a css reference. At a memcg's limit the batch is used
 * up and the stock keeps the memcg with 0 pages, which drain_all_stock()
 * skips, also when the memcg goes offline: upstream 6.12, series or not.
 * The memcg then stays dying until that CPU charges another memcg: measured
 * in 2 of 8 runs of the fork test, not freed after 1 s (once 9.6 s, by
 * chance just inside the bound), and freed 20 ms after this. A reference
 * the series leaks survives it.
 */
static int flush_charge_stocks(const char *other)
{
	int cpu, n = sysconf(_SC_NPROCESSORS_ONLN), rc = 0;

	for (cpu = 0; cpu < n; cpu++) {
		pid_t pid = fork();

		if (pid < 0)
			return -1;
		if (pid == 0) {
			volatile char *p;
			cpu_set_t set;
			int i;

			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			if (sched_setaffinity(0, sizeof(set), &set) ||
			    cg_enter(other, getpid()))
				_exit(1);
			p = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				_exit(1);
			for (i = 0; i < 64; i++)
				p[i * 4096] = 1;
			_exit(0);
		}
		rc |= cg_wait(pid);
	}
	return rc ? -1 : 0;
}

/*
 * Remove cg and wait for its memcg to be freed, with the CPUs' charge
 * stocks flushed; the time it took, -1 if not within the bound.
 */
static long long rmdir_and_wait_freed(const char *parent, const char *cg,
				      const char *other)
{
	long long t0 = now_ms();

	if (cg_destroy(cg))
		return -2;
	if (flush_charge_stocks(other))
		return -3;
	while (now_ms() - t0 < oomh_slack_ms(FREE_BOUND_MS)) {
		if (dying(parent) == 0)
			return now_ms() - t0;
		usleep(20000);
	}
	return -1;
}

/* A counter of /proc/vmstat, or -1. */
static long long vmstat(const char *key)
{
	size_t klen = strlen(key);
	long long v = -1;
	char line[128];
	FILE *f = fopen("/proc/vmstat", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ' ') {
			v = strtoll(line + klen + 1, NULL, 10);
			break;
		}
	if (f)
		fclose(f);
	return v;
}

TEST_F(lt, thp_fallback_is_no_oom_and_leaves_nothing_behind)
{
	struct thp_args a = { .cg = self->cg };
	long long ms, fb;
	pid_t pid;

	fb = vmstat("thp_fault_fallback_charge");
	pid = cg_spawn(self->cg, thp_fallback_fault, &a);
	ASSERT_EQ(0, cg_wait(pid));
	/* The scenario: a huge page was allocated, and its charge failed. */
	ASSERT_LE(fb + 1, vmstat("thp_fault_fallback_charge"));
	/* Falling back to small pages is what a THP fault does: not an OOM. */
	EXPECT_EQ(0, oomh_stat(self->cg, "oom_episodes"));
	EXPECT_EQ(0, cg_read_key(self->cg, "memory.events", "oom"));
	EXPECT_EQ(0, oomh_wait(self->efd, 200));
	EXPECT_EQ(0, oomh_stat(self->cg, "under_oom"));
	ms = rmdir_and_wait_freed(self->parent, self->cg, self->other);
	TH_LOG("removed memcg freed after %lld ms (-1: not within %lld ms)", ms,
	       oomh_slack_ms(FREE_BOUND_MS));
	EXPECT_LE(0, ms);
}

TEST_F(lt, fork_after_thp_fallback_then_oom_in_both)
{
	struct thp_args a = { .cg = self->cg, .fork_after = 1 };
	long long ms, fb;
	pid_t pid;

	fb = vmstat("thp_fault_fallback_charge");
	/*
	 * The forked child is orphaned when both die: it must come back to us
	 * to be reaped, not to init, which leaves zombies (and their css_set,
	 * so the memcg) alone.
	 */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	pid = cg_spawn(self->cg, thp_fallback_fault, &a);
	/* Both processes end up waiting in an episode: kill them. */
	EXPECT_EQ(1, oomh_wait(self->efd, 10000));
	usleep(300000);
	ASSERT_LT(0, cg_write(self->cg, "cgroup.kill", "1"));
	EXPECT_EQ(128 + SIGKILL, cg_wait(pid));
	while (cg_nr_procs(self->cg) > 0)
		usleep(10000);
	/* Reap the orphan (and anything else of ours). */
	while (waitpid(-1, NULL, 0) > 0)
		;
	ASSERT_LE(fb + 1, vmstat("thp_fault_fallback_charge"));
	EXPECT_EQ(1, oomh_stat_wait(self->cg, "oom_resolved", 1, 2000));
	EXPECT_EQ(0, cg_read_key(self->cg, "memory.events", "oom_kill"));
	/* What is still charged once every task is gone (when it is not freed). */
	TH_LOG("no task left: memory.current %lld, anon %lld, file %lld, kernel %lld, anon_thp %lld",
	       cg_read_num(self->cg, "memory.current"),
	       cg_read_key(self->cg, "memory.stat", "anon"),
	       cg_read_key(self->cg, "memory.stat", "file"),
	       cg_read_key(self->cg, "memory.stat", "kernel"),
	       cg_read_key(self->cg, "memory.stat", "anon_thp"));
	ms = rmdir_and_wait_freed(self->parent, self->cg, self->other);
	TH_LOG("removed memcg freed after %lld ms (-1: not within %lld ms)", ms,
	       oomh_slack_ms(FREE_BOUND_MS));
	EXPECT_LE(0, ms);
}

TEST_HARNESS_MAIN
