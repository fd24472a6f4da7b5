// SPDX-License-Identifier: GPL-2.0
/*
 * Load on the episode machinery: 200 tasks running into one episode at once
 * (all wait, one kill resolves it, nobody is left stuck), and 1000 episodes
 * back to back with a new registration each time, checked for leaks through
 * /proc/slabinfo and, on a kernel with kmemleak, a kmemleak scan.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "oomh_helpers.h"

#define KB 1024
#define MB (1024 * 1024)

#define NR_TASKS	200
#define TASK_BYTES	(128 * KB)
/* Tasks that fit in the room the holder leaves. */
#define TASK_ROOM	(1024 * KB / TASK_BYTES)
#define NR_EPISODES	1000

/* The state letter of /proc/PID/stat, or 0 if the task is gone. */
static char task_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] ? p[2] : 0;
}

static void touch(size_t bytes)
{
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i;

	if (p == MAP_FAILED)
		_exit(2);
	for (i = 0; i < bytes; i += 4096)
		p[i] = 1;
}

FIXTURE(st) {
	int unused;
};

FIXTURE_SETUP(st)
{
}

FIXTURE_TEARDOWN(st)
{
}

/*
 * 6. NR_TASKS tasks in one memcg run into one episode together: a holder
 * has the cgroup nearly full, all but a few of them wait; the handler kills
 * the holder, and every task gets its memory, reports, and exits when told.
 */
TEST_F_TIMEOUT(st, many_tasks_one_episode, 300)
{
	int start[2], quit[2], efd, i, waited = 0;
	long ndone;
	/*
	 * Tasks count themselves done in shared memory, not through a pipe:
	 * a task writing to a pipe may fail its charge and wait holding
	 * pipe->mutex (a kernel-context charge waits up to the delay), and
	 * a handler reading that pipe would then sleep on the mutex until the
	 * kernel falls back. Seen once in 13 runs on the debug kernel: a
	 * fallback kill with a 60 s delay while the test saw 3 s go by; the
	 * counters (2 episodes, 1 resolved, 1 fallback) fit a read() that
	 * slept on the mutex until the deadline.
	 */
	_Atomic long *ndone_shared;
	static pid_t pids[NR_TASKS];
	static char seen_d[NR_TASKS];
	long long t0, t_resolve, t_exit, episodes, bound;
	char cg[256], c;
	pid_t holder;

	ASSERT_EQ(0, cg_create("uoom_stress", cg, sizeof(cg)));
	ASSERT_LT(0, cg_write(cg, "memory.max", "48M"));
	ASSERT_LT(0, cg_write(cg, "memory.swap.max", "0"));
	ASSERT_LT(0, cg_write(cg, "memory.oom_delay_millisecs", "60000"));
	efd = oomh_new_handler(cg);
	ASSERT_LE(0, efd);

	/*
	 * The holder is spawned before the pipes: holding the write end of
	 * "start" it would keep every task from starting. It leaves about
	 * 1M of room and must not be in an episode itself.
	 */
	holder = cg_spawn(cg, alloc_anon_and_hold, (void *)(uintptr_t)(47 * MB));
	while (cg_read_num(cg, "memory.current") < 46 * MB + 512 * KB)
		usleep(10000);
	usleep(200000);
	ASSERT_EQ(0, oomh_stat(cg, "oom_episodes"));
	ndone_shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ndone_shared);
	*ndone_shared = 0;
	ASSERT_EQ(0, pipe(start));
	ASSERT_EQ(0, pipe(quit));

	/* Forked outside, then moved in: their fork costs stay out of cg. */
	for (i = 0; i < NR_TASKS; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i]) {
			close(start[1]);
			close(quit[1]);
			if (read(start[0], &c, 1) != 0)
				_exit(3);
			touch(TASK_BYTES);
			(*ndone_shared)++;
			if (read(quit[0], &c, 1) != 0)
				_exit(5);
			_exit(0);
		}
		ASSERT_EQ(0, cg_enter(cg, pids[i]));
	}
	close(start[0]);
	close(quit[0]);

	t0 = now_ms();
	close(start[1]);
	/* 200 tasks in reclaim on a KASAN kernel under TCG: be patient. */
	if (oomh_wait(efd, 120000) != 1) {
		int st[128] = { 0 };

		for (i = 0; i < NR_TASKS; i++)
			st[(unsigned char)task_state(pids[i]) & 127]++;
		TH_LOG("no episode: memory.current %lld, events max %lld oom %lld, episodes %lld under_oom %lld handlers %lld; tasks R %d S %d D %d Z %d gone %d",
		       cg_read_num(cg, "memory.current"),
		       cg_read_key(cg, "memory.events", "max"),
		       cg_read_key(cg, "memory.events", "oom"),
		       oomh_stat(cg, "oom_episodes"), oomh_stat(cg, "under_oom"),
		       oomh_stat(cg, "handlers"), st['R'], st['S'], st['D'], st['Z'], st[0]);
		ASSERT_TRUE(0);
	}
	TH_LOG("episode %lld ms after the start", now_ms() - t0);
	/*
	 * Give every task time to run into the limit; then all of them are
	 * still there, and at most the few that fit in the room the holder
	 * left (about 1M) got their memory: the rest wait for the episode.
	 */
	for (t0 = now_ms(); now_ms() - t0 < 3000;) {
		for (i = 0; i < NR_TASKS; i++) {
			c = task_state(pids[i]);
			ASSERT_NE(0, c) TH_LOG("task %d gone", pids[i]);
			ASSERT_NE('Z', c);
			if (c == 'D')
				seen_d[i] = 1;
		}
		usleep(100 * 1000);
	}
	for (i = 0; i < NR_TASKS; i++)
		waited += seen_d[i];
	ndone = *ndone_shared;
	TH_LOG("before the kill: %ld tasks done, %d seen in D (waiting)",
	       ndone, waited);
	EXPECT_GE(TASK_ROOM, ndone);
	EXPECT_EQ(1, oomh_stat(cg, "under_oom"));
	EXPECT_EQ(1, oomh_stat(cg, "oom_episodes"));
	EXPECT_EQ(0, oomh_stat(cg, "oom_resolved"));

	/*
	 * The handler's kill resolves it: every task gets its memory. 2.4 s
	 * measured under TCG; the KASAN + kmemleak kernel takes ten times
	 * that (23 s; 40 s once with kernel builds beside it), so its bound
	 * is 90 s instead of 20 s.
	 */
	bound = oomh_debug_kernel() ? 90000 : 20000;
	t0 = now_ms();
	ASSERT_EQ(0, kill(holder, SIGKILL));
	while ((ndone = *ndone_shared) < NR_TASKS && now_ms() - t0 < 2 * bound)
		usleep(10000);
	t_resolve = now_ms() - t0;
	TH_LOG("all %ld tasks got their memory %lld ms after the kill",
	       ndone, t_resolve);
	EXPECT_EQ(NR_TASKS, ndone);
	EXPECT_GE(bound, t_resolve);
	EXPECT_EQ(128 + SIGKILL, cg_wait(holder));
	/*
	 * The holder's memory is freed while it exits: a task may find room
	 * early, and the next ones start another episode, which the rest of
	 * the freeing resolves. Every episode resolves, none falls back.
	 */
	episodes = oomh_stat(cg, "oom_episodes");
	TH_LOG("%lld episodes in all", episodes);
	EXPECT_LE(1, episodes);
	EXPECT_EQ(episodes, oomh_stat(cg, "oom_resolved"));
	EXPECT_EQ(0, oomh_stat(cg, "oom_fallback"));
	EXPECT_EQ(0, oomh_stat(cg, "under_oom"));
	EXPECT_EQ(0, cg_read_key(cg, "memory.events", "oom_kill"));
	/* Nobody is left in D. */
	for (i = 0; i < NR_TASKS; i++)
		EXPECT_NE('D', task_state(pids[i])) TH_LOG("task %d stuck", pids[i]);

	/* All exit when told, in bounded time. */
	t0 = now_ms();
	close(quit[1]);
	for (i = 0; i < NR_TASKS; i++)
		EXPECT_EQ(0, cg_wait(pids[i]));
	t_exit = now_ms() - t0;
	TH_LOG("all exited %lld ms after told", t_exit);
	/*
	 * 200 exits: 82-146 ms on the normal kernel, 1376 ms on the debug one
	 * (27 s once with two kernel builds beside it, over the unscaled
	 * 20 s bound it had).
	 */
	EXPECT_GE(oomh_slack_ms(20000), t_exit);
	EXPECT_EQ(0, cg_nr_procs(cg));
	munmap((void *)ndone_shared, 4096);
	close(efd);
	cg_destroy(cg);
}

/* --- 7. Episodes back to back, checked for leaks ----------------------- */

#define MAX_CACHES 512

struct slabs {
	int n;
	char name[MAX_CACHES][40];
	long long active[MAX_CACHES];
	long long objsize[MAX_CACHES];
};

static int read_slabs(struct slabs *s)
{
	static char buf[1 << 18];
	char *line, *save;
	ssize_t n, off = 0;
	int fd = open("/proc/slabinfo", O_RDONLY);

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf + off, sizeof(buf) - 1 - off)) > 0)
		off += n;
	close(fd);
	buf[off] = 0;
	s->n = 0;
	for (line = strtok_r(buf, "\n", &save); line && s->n < MAX_CACHES;
	     line = strtok_r(NULL, "\n", &save)) {
		long long active, num, size;
		char name[40];

		if (sscanf(line, "%39s %lld %lld %lld", name, &active, &num,
			   &size) != 4)
			continue;
		strcpy(s->name[s->n], name);
		s->active[s->n] = active;
		s->objsize[s->n] = size;
		s->n++;
	}
	return s->n;
}

static long long meminfo(const char *key)
{
	char buf[4096], *p;
	int fd = open("/proc/meminfo", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	p = strstr(buf, key);
	return p ? atoll(p + strlen(key) + 1) : -1;
}

static int kmemleak_write(const char *cmd)
{
	int fd = open("/sys/kernel/debug/kmemleak", O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, cmd, strlen(cmd));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* Bytes of kmemleak's report (0: no leak), or -errno. */
static long kmemleak_report(char *buf, size_t len)
{
	int fd = open("/sys/kernel/debug/kmemleak", O_RDONLY);
	ssize_t n, off = 0;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf + off, len - 1 - off)) > 0)
		off += n;
	close(fd);
	buf[off] = 0;
	return off;
}

/*
 * The allocator: each byte on go makes it touch 2x memory.max of new anon
 * memory (an episode), free it, and answer on done.
 */
static int allocator(int go, int done, size_t bytes)
{
	char c;

	while (read(go, &c, 1) == 1) {
		char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		size_t i;

		if (p == MAP_FAILED)
			return 2;
		for (i = 0; i < bytes; i += 4096)
			p[i] = 1;
		munmap(p, bytes);
		if (write(done, "d", 1) != 1)
			return 3;
	}
	return 0;
}

/* One episode: a new handler registration, resolved by raising the limit. */
static int one_episode(const char *cg, int go, int done)
{
	int efd = oomh_new_handler(cg);
	char c;

	if (efd < 0)
		return efd;
	if (write(go, "g", 1) != 1 || oomh_wait(efd, 10000) != 1 ||
	    cg_write(cg, "memory.max", "2M") < 0 ||
	    read(done, &c, 1) != 1 || cg_write(cg, "memory.max", "512K") < 0) {
		close(efd);
		return -EIO;
	}
	close(efd);
	return 0;
}

TEST_F_TIMEOUT(st, thousand_episodes_no_leak, 500)
{
	int go[2], done[2], i, leak_caches = 0;
	static struct slabs before, after;
	static char report[1 << 16];
	long long t0, dt, avail0, slab0;
	bool kmemleak;
	char cg[256];
	pid_t pid;

	ASSERT_EQ(0, cg_create("uoom_stress", cg, sizeof(cg)));
	ASSERT_LT(0, cg_write(cg, "memory.swap.max", "0"));
	ASSERT_LT(0, cg_write(cg, "memory.oom_delay_millisecs", "10000"));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(go[1]);
		close(done[0]);
		_exit(allocator(go[0], done[1], 1 * MB));
	}
	close(go[0]);
	close(done[1]);
	ASSERT_EQ(0, cg_enter(cg, pid));
	ASSERT_LT(0, cg_write(cg, "memory.max", "512K"));

	/* Warm up the caches, then take the baseline. */
	for (i = 0; i < 50; i++)
		ASSERT_EQ(0, one_episode(cg, go[1], done[0]));
	kmemleak = !kmemleak_write("clear");
	sleep(1);
	ASSERT_LT(0, read_slabs(&before));
	avail0 = meminfo("MemAvailable");
	slab0 = meminfo("Slab");

	t0 = now_ms();
	for (i = 0; i < NR_EPISODES; i++)
		ASSERT_EQ(0, one_episode(cg, go[1], done[0]))
			TH_LOG("episode %d failed", i);
	dt = now_ms() - t0;
	TH_LOG("%d episodes in %lld ms (%lld ms each)", NR_EPISODES, dt,
	       dt / NR_EPISODES);
	EXPECT_EQ(50 + NR_EPISODES, oomh_stat(cg, "oom_episodes"));
	EXPECT_EQ(50 + NR_EPISODES, oomh_stat(cg, "oom_resolved"));
	EXPECT_EQ(0, oomh_stat(cg, "oom_fallback"));
	EXPECT_EQ(0, cg_read_key(cg, "memory.events", "oom_kill"));

	close(go[1]);
	EXPECT_EQ(0, cg_wait(pid));
	close(done[0]);
	/* Registrations are freed from a work item after an RCU grace period. */
	EXPECT_EQ(0, oomh_stat_wait(cg, "handlers", 0, 2000));
	sleep(2);

	ASSERT_LT(0, read_slabs(&after));
	for (i = 0; i < after.n; i++) {
		int j;

		for (j = 0; j < before.n; j++)
			if (!strcmp(before.name[j], after.name[i]))
				break;
		if (j == before.n)
			continue;
		if (after.active[i] - before.active[j] >= 8)
			TH_LOG("slab %s: %+lld objects (%lld bytes each)",
			       after.name[i], after.active[i] - before.active[j],
			       after.objsize[i]);
		/* Anything leaked per episode grows by NR_EPISODES. */
		if (after.active[i] - before.active[j] >= NR_EPISODES / 2)
			leak_caches++;
	}
	TH_LOG("Slab %+lld kB, MemAvailable %+lld kB", meminfo("Slab") - slab0,
	       meminfo("MemAvailable") - avail0);
	cg_destroy(cg);
	if (!kmemleak) {
		EXPECT_EQ(0, leak_caches);
		/* A leaked registration, eventfd and file: ~0.5 MB for 1000. */
		EXPECT_GE(256, meminfo("Slab") - slab0);
		TH_LOG("no kmemleak on this kernel: slab counts only");
		return;
	}
	/*
	 * The kmemleak kernel has KASAN, whose quarantine keeps freed objects
	 * counted as active in slabinfo: the counts above are for reading,
	 * kmemleak gives the verdict.
	 */
	/* kmemleak reports objects older than 5s, seen unreferenced twice. */
	sleep(6);
	ASSERT_EQ(0, kmemleak_write("scan"));
	ASSERT_EQ(0, kmemleak_write("scan"));
	EXPECT_EQ(0, kmemleak_report(report, sizeof(report)))
		TH_LOG("kmemleak:\n%.4000s", report);
	TH_LOG("kmemleak scan: %s", report[0] ? "leaks" : "no leaks");
}

TEST_HARNESS_MAIN
