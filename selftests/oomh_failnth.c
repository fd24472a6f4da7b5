// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection (debug kernel; skipped where /sys/kernel/debug/failslab is
 * absent): /proc/thread-self/fail-nth fails, one by one, every allocation
 * in a write to memory.oom_notify, memory.oom_delay_millisecs and
 * memory.oom_reserve_in_bytes, and in a read of memory.oom_notify. Each
 * injected failure must give ENOMEM and change nothing (value, handlers,
 * counters). The notification path (charge failure, episode start, eventfd
 * signal, wait) must need no allocation at all. kmemleak finds nothing at
 * the end.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "oomh_helpers.h"

#define DBG "/sys/kernel/debug"
#define MAX_NTH 1000

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* Fail every GFP_KERNEL slab and page allocation fail-nth points at. */
static int failnth_setup(void)
{
	if (access(DBG "/failslab", F_OK))
		return -ENOENT;
	if (write_str(DBG "/failslab/ignore-gfp-wait", "N") ||
	    write_str(DBG "/failslab/verbose", "0") ||
	    write_str(DBG "/fail_page_alloc/ignore-gfp-wait", "N") ||
	    write_str(DBG "/fail_page_alloc/min-order", "0") ||
	    write_str(DBG "/fail_page_alloc/verbose", "0"))
		return -EIO;
	return 0;
}

static void failnth_set(int fd, int nth)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%d", nth);

	if (pwrite(fd, buf, n, 0) != n)
		abort();
}

/* Was the failure injected (fail-nth counted down to 0)? Resets it. */
static bool failnth_hit(int fd)
{
	char buf[16] = "";
	bool hit;

	if (pread(fd, buf, sizeof(buf) - 1, 0) <= 0)
		abort();
	hit = atoi(buf) == 0;
	failnth_set(fd, 0);
	return hit;
}

/* What must not change when an operation fails. */
struct snap {
	long long handlers, episodes, resolved, fallback, delay, reserve;
};

static void take(const char *cg, struct snap *s)
{
	s->handlers = oomh_stat(cg, "handlers");
	s->episodes = oomh_stat(cg, "oom_episodes");
	s->resolved = oomh_stat(cg, "oom_resolved");
	s->fallback = oomh_stat(cg, "oom_fallback");
	s->delay = cg_read_num(cg, "memory.oom_delay_millisecs");
	s->reserve = cg_read_num(cg, "memory.oom_reserve_in_bytes");
}

FIXTURE(fi) {
	char cg[256];
	int nth;	/* /proc/thread-self/fail-nth */
};

FIXTURE_SETUP(fi)
{
	int err = failnth_setup();

	if (err == -ENOENT)
		SKIP(return, "no %s/failslab: not a fault-injection kernel", DBG);
	ASSERT_EQ(0, err);
	self->nth = open("/proc/thread-self/fail-nth", O_RDWR);
	ASSERT_LE(0, self->nth);
	ASSERT_EQ(0, cg_create("uoom_failnth", self->cg, sizeof(self->cg)));
	ASSERT_LT(0, cg_write(self->cg, "memory.max", "8M"));
	ASSERT_LT(0, cg_write(self->cg, "memory.swap.max", "0"));
}

FIXTURE_TEARDOWN(fi)
{
	if (self->nth >= 0)
		close(self->nth);
	cg_destroy(self->cg);
}

enum op { OP_NOTIFY, OP_DELAY, OP_RESERVE, OP_READ };

static const char *const op_file[] = {
	[OP_NOTIFY] = "memory.oom_notify",
	[OP_DELAY] = "memory.oom_delay_millisecs",
	[OP_RESERVE] = "memory.oom_reserve_in_bytes",
	[OP_READ] = "memory.oom_notify",
};

/*
 * Fail the 1st, 2nd, ... allocation of one operation until it runs with no
 * failure injected. Returns the number of points, or -1 on a bad outcome.
 */
static int sweep(struct __test_metadata *_metadata, const char *cg, int nth,
		 enum op op)
{
	char path[512], val[32], buf[256];
	struct snap s0, s1;
	int i, fd, efd = -1;
	ssize_t n;
	bool hit;

	snprintf(path, sizeof(path), "%s/%s", cg, op_file[op]);
	for (i = 1; i <= MAX_NTH; i++) {
		take(cg, &s0);
		fd = open(path, op == OP_READ ? O_RDONLY : O_WRONLY);
		if (fd < 0)
			return -1;
		switch (op) {
		case OP_NOTIFY:
			efd = eventfd(0, EFD_CLOEXEC);
			snprintf(val, sizeof(val), "%d", efd);
			break;
		case OP_DELAY:
			snprintf(val, sizeof(val), "%d", 100 + i);
			break;
		case OP_RESERVE:
			snprintf(val, sizeof(val), "%dK", 4 * i);
			break;
		case OP_READ:
			break;
		}
		failnth_set(nth, i);
		if (op == OP_READ)
			n = read(fd, buf, sizeof(buf));
		else
			n = write(fd, val, strlen(val));
		n = n < 0 ? -errno : n;
		hit = failnth_hit(nth);
		close(fd);
		take(cg, &s1);

		if (!hit) {
			/* Past the last point: it must have worked. */
			EXPECT_LT(0, n) TH_LOG("%s: %zd with nothing injected",
					       op_file[op], n);
			if (op == OP_NOTIFY)
				EXPECT_EQ(s0.handlers + 1, s1.handlers);
			if (efd >= 0)
				close(efd);
			return i - 1;
		}
		if (n >= 0) {
			/* The failure was absorbed: then it must have worked. */
			TH_LOG("%s: point %d absorbed", op_file[op], i);
			if (op == OP_NOTIFY)
				EXPECT_EQ(s0.handlers + 1, s1.handlers);
		} else {
			EXPECT_EQ(-ENOMEM, n) TH_LOG("%s: point %d: %s",
						     op_file[op], i,
						     strerror(-n));
			EXPECT_EQ(s0.handlers, s1.handlers);
			EXPECT_EQ(s0.delay, s1.delay);
			EXPECT_EQ(s0.reserve, s1.reserve);
		}
		EXPECT_EQ(s0.episodes, s1.episodes);
		EXPECT_EQ(s0.resolved, s1.resolved);
		EXPECT_EQ(s0.fallback, s1.fallback);
		if (efd >= 0) {
			close(efd);
			efd = -1;
			EXPECT_EQ(0, oomh_stat_wait(cg, "handlers", 0, 2000));
		}
	}
	return -1;
}

TEST_F_TIMEOUT(fi, every_allocation_of_the_knobs_fails_cleanly, 200)
{
	static const char *const what[] = {
		"oom_notify write", "oom_delay_millisecs write",
		"oom_reserve_in_bytes write", "oom_notify read",
	};
	int op, pts, total = 0;

	for (op = OP_NOTIFY; op <= OP_READ; op++) {
		pts = sweep(_metadata, self->cg, self->nth, op);
		TH_LOG("%s: %d injection points, each ENOMEM, nothing changed",
		       what[op], pts);
		EXPECT_LE(1, pts);
		total += pts > 0 ? pts : 0;
	}
	TH_LOG("%d injection points in all", total);
	/* And the handler can still register and count afterwards. */
	EXPECT_LE(0, oomh_new_handler(self->cg));
	EXPECT_EQ(1, oomh_stat(self->cg, "handlers"));
}

/*
 * The notification path: a task fills its cgroup to one page under the
 * limit, arms fail-nth = 1 and touches the next pages. Its charge fails,
 * the episode starts, the handler is signalled, the task waits and is let
 * through when the handler raises the limit. No fault site may be met on
 * the way: fail-nth is still armed when it comes back.
 */
static long long pread_num(int fd)
{
	char buf[32] = "";

	if (pread(fd, buf, sizeof(buf) - 1, 0) <= 0)
		return -1;
	return atoll(buf);
}

static int one_page_over(void *arg)
{
	int nth = open("/proc/thread-self/fail-nth", O_RDWR);
	size_t lim = (size_t)(uintptr_t)arg, len = lim + (2 << 20), i, end;
	char path[300], *p;
	long long cur;
	int cfd;

	/* One open file: its seq_file buffer is allocated once, here. */
	snprintf(path, sizeof(path), "%s/memory.current", getenv("UOOM_CG"));
	cfd = open(path, O_RDONLY);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || nth < 0 || cfd < 0 || pread_num(cfd) < 0)
		return 2;
	/* Base pages only: a huge page would skip the limit by 2 MB. */
	madvise(p, len, MADV_NOHUGEPAGE);
	/* Page tables first, so that only data pages are charged below. */
	for (i = 0; i < len; i += 2 << 20)
		p[i] = 1;
	for (i = 0; i < len; i += 4096) {
		cur = pread_num(cfd);
		if (cur < 0)
			return 3;
		if ((size_t)cur + 2 * 4096 > lim)
			break;
		p[i] = 1;
	}
	if (pwrite(nth, "1", 1, 0) != 1)
		return 4;
	/*
	 * Over the limit: no reclaim possible, the episode starts. 1 MB, as
	 * memory.current counts the per-cpu charge stock (up to 64 pages)
	 * that pages are taken from before the limit is met. Data pages of
	 * a mapping with its page tables in place meet no fault site.
	 */
	for (end = i + (1 << 20); i < end && i < len; i += 4096)
		p[i] = 1;
	cur = pread_num(nth);
	pwrite(nth, "0", 1, 0);
	return cur == 1 ? 0 : 10;
}

TEST_F_TIMEOUT(fi, notification_path_allocates_nothing, 120)
{
	pid_t pid;
	int efd;

	ASSERT_LT(0, cg_write(self->cg, "memory.oom_delay_millisecs", "20000"));
	efd = oomh_new_handler(self->cg);
	ASSERT_LE(0, efd);
	setenv("UOOM_CG", self->cg, 1);
	pid = cg_spawn(self->cg, one_page_over, (void *)(uintptr_t)(8 << 20));
	if (oomh_wait(efd, 30000) != 1) {
		kill(pid, SIGKILL);
		ASSERT_TRUE(0) TH_LOG("no episode; the task exited %d",
				      cg_wait(pid));
	}
	EXPECT_EQ(1, oomh_stat(self->cg, "under_oom"));
	ASSERT_LT(0, cg_write(self->cg, "memory.max", "16M"));
	/* 10: a fault site was met between the charge failure and the wait. */
	EXPECT_EQ(0, cg_wait(pid));
	EXPECT_EQ(1, oomh_stat(self->cg, "oom_episodes"));
	EXPECT_EQ(1, oomh_stat(self->cg, "oom_resolved"));
	EXPECT_EQ(0, oomh_stat(self->cg, "oom_fallback"));
	close(efd);
}

TEST_F_TIMEOUT(fi, kmemleak_finds_nothing, 120)
{
	static char buf[1 << 16];
	ssize_t n, off = 0;
	int fd;

	if (access(DBG "/kmemleak", F_OK))
		SKIP(return, "no kmemleak on this kernel");
	/* Objects must be 5s old and seen unreferenced in two scans. */
	sleep(6);
	ASSERT_EQ(0, write_str(DBG "/kmemleak", "scan"));
	ASSERT_EQ(0, write_str(DBG "/kmemleak", "scan"));
	fd = open(DBG "/kmemleak", O_RDONLY);
	ASSERT_LE(0, fd);
	while ((n = read(fd, buf + off, sizeof(buf) - 1 - off)) > 0)
		off += n;
	close(fd);
	buf[off] = 0;
	EXPECT_EQ(0, off) TH_LOG("kmemleak:\n%.4000s", buf);
}

TEST_HARNESS_MAIN
