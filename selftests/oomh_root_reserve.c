// SPDX-License-Identifier: GPL-2.0
/*
 * The root reserve at work: during a system OOM episode a root handler
 * faults in new pages, which only the reserve can give (free memory is
 * below the min watermark: that is why the episode started). With a root
 * reserve its allocations succeed, reserve_charged shows them, and the
 * handler resolves the episode with no kernel kill. The VM needs 1G: on a
 * 256M one the quarter of the min watermark that ALLOC_OOMH may take (about
 * 100 pages) can be gone before the episode starts, taken by the per-cpu
 * page list refills of the task that ran out; on the KASAN + kmemleak kernel
 * their metadata allocations empty it even at 3G. When that happens the test
 * skips, naming the gap, rather than pass. Without a reserve the
 * same handler has failed, and the kernel falls back at once: the control
 * that shows the first test depends on the reserve path.
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
#define PAGE 4096

static long long read_all(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n, off = 0;

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf + off, len - 1 - off)) > 0)
		off += n;
	close(fd);
	buf[off] = 0;
	return off;
}

static long long vmstat(const char *key)
{
	static char buf[32768];
	char *p;

	if (read_all("/proc/vmstat", buf, sizeof(buf)) <= 0)
		return -1;
	p = strstr(buf, key);
	return p ? atoll(p + strlen(key) + 1) : -1;
}

/* The min watermark of zone DMA32 in pages (where the VM's memory is). */
static long long dma32_min(void)
{
	static char buf[65536];
	char *p;

	if (read_all("/proc/zoneinfo", buf, sizeof(buf)) <= 0)
		return -1;
	p = strstr(buf, "zone    DMA32");
	if (!p)
		return -1;
	p = strstr(p, "        min ");
	return p ? atoll(p + strlen("        min ")) : -1;
}

static long long mem_total(void)
{
	static char buf[4096];

	if (read_all("/proc/meminfo", buf, sizeof(buf)) <= 0)
		return -1;
	return atoll(buf + strlen("MemTotal:")) * 1024;
}

static int alloc_in_chunks(void *bytes)
{
	size_t want = (size_t)(uintptr_t)bytes, done;

	for (done = 0; done < want; done += 8 * MB)
		if (alloc_anon_and_keep(8 * MB))
			return 1;
	return 0;
}

FIXTURE(rr) {
	char cg[256];
	int efd;
	char *buf;		/* 2 MB aligned: one page table covers it */
	long long npages;	/* what the handler touches in the episode */
	long long kills;
	long long charged;	/* reserve_charged during the episode */
};

FIXTURE_SETUP(rr)
{
	long long min = dma32_min();
	char *p;

	ASSERT_LT(0, min);
	/* Well inside the quarter of min that ALLOC_OOMH may take. */
	self->npages = min / 4 / 4;
	if (self->npages > 64)
		self->npages = 64;
	ASSERT_LT(0, self->npages);
	p = mmap(NULL, 4 * MB, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	self->buf = (char *)(((uintptr_t)p + 2 * MB - 1) & ~(2UL * MB - 1));
	/* Page by page: a huge page now would leave nothing to allocate. */
	madvise(p, 4 * MB, MADV_NOHUGEPAGE);
	/* The page table now; the data pages only during the episode. */
	self->buf[0] = 1;
	/* Locked as faulted, not populated now. */
	ASSERT_EQ(0, mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT));
	ASSERT_EQ(0, cg_create("uoom_root_reserve", self->cg, sizeof(self->cg)));
	ASSERT_LT(0, cg_write(CG_ROOT, "memory.oom_delay_millisecs", "30000"));
	self->efd = oomh_new_handler(CG_ROOT);
	ASSERT_LE(0, self->efd);
	self->kills = vmstat("oom_kill");
	TH_LOG("DMA32 min watermark %lld pages; the handler touches %lld",
	       min, self->npages);
}

FIXTURE_TEARDOWN(rr)
{
	close(self->efd);
	cg_write(CG_ROOT, "memory.oom_delay_millisecs", "0");
	cg_write(CG_ROOT, "memory.oom_reserve_in_bytes", "0");
	cg_destroy(self->cg);
	munlockall();
}

/*
 * Run a system OOM; once told, touch npages new pages, then kill the hog.
 * Returns how long the touching took (ms), or -1 if no episode came.
 */
static long long episode_with_allocation(struct __test_metadata *_metadata,
					 FIXTURE_DATA(rr) *self)
{
	long long i, t0;
	pid_t hog;

	hog = cg_spawn(self->cg, alloc_in_chunks,
		       (void *)(uintptr_t)(2 * mem_total()));
	if (oomh_wait(self->efd, 60000) != 1) {
		kill(hog, SIGKILL);
		cg_wait(hog);
		return -1;
	}
	t0 = now_ms();
	for (i = 1; i <= self->npages; i++)
		self->buf[i * PAGE] = 1;
	t0 = now_ms() - t0;
	/* Read while pending (the read's own buffer comes from it too). */
	self->charged = oomh_stat(CG_ROOT, "reserve_charged");
	kill(hog, SIGKILL);
	cg_wait(hog);
	return t0;
}

TEST_F_TIMEOUT(rr, root_handler_allocates_from_reserve, 180)
{
	long long fb0 = oomh_stat(CG_ROOT, "oom_fallback");
	long long res0 = oomh_stat(CG_ROOT, "oom_resolved");
	long long ms;

	ASSERT_LT(0, cg_write(CG_ROOT, "memory.oom_reserve_in_bytes", "8M"));
	ms = episode_with_allocation(_metadata, self);
	ASSERT_LE(0, ms);
	TH_LOG("%lld pages touched in the episode in %lld ms", self->npages, ms);
	/*
	 * Known gap: ALLOC_OOMH is a share of the min watermark, not memory
	 * set aside. Per-cpu list refills of the task that ran out (and on
	 * the debug kernel KASAN and kmemleak metadata) may have taken free
	 * memory below 3/4 of min before the episode starts; then the
	 * handler gets nothing and the kernel falls back. Seen in about one
	 * run in three on a 1G VM, always on the debug kernel.
	 */
	if (!self->charged)
		SKIP(return, "known gap: the root reserve was empty at episode start");
	/* No kernel kill: the handler's pages came from the reserve. */
	EXPECT_EQ(self->kills, vmstat("oom_kill"));
	EXPECT_EQ(fb0, oomh_stat(CG_ROOT, "oom_fallback"));
	EXPECT_EQ(res0 + 1,
		  oomh_stat_wait(CG_ROOT, "oom_resolved", res0 + 1, 5000));
	TH_LOG("reserve_charged %lld bytes during the episode", self->charged);
	EXPECT_LE(self->npages * PAGE, self->charged);
	/* A grant ends with its episode: the reserve can be lowered again. */
	EXPECT_EQ(0, oomh_stat(CG_ROOT, "reserve_charged"));
	EXPECT_LT(0, cg_write(CG_ROOT, "memory.oom_reserve_in_bytes", "0"));
}

/* The control: no reserve, the same allocations end the episode at once. */
TEST_F_TIMEOUT(rr, without_reserve_handler_allocation_falls_back, 180)
{
	long long fb0 = oomh_stat(CG_ROOT, "oom_fallback");
	long long ms;

	ASSERT_LT(0, cg_write(CG_ROOT, "memory.oom_reserve_in_bytes", "0"));
	ms = episode_with_allocation(_metadata, self);
	ASSERT_LE(0, ms);
	TH_LOG("%lld pages touched in %lld ms", self->npages, ms);
	EXPECT_LT(fb0, oomh_stat(CG_ROOT, "oom_fallback"));
	EXPECT_LT(self->kills, vmstat("oom_kill"));
}

TEST_HARNESS_MAIN
