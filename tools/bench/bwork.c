// SPDX-License-Identifier: MIT
/*
 * bwork: one OOM episode of make bench, with its measurements.
 *
 *   bwork -w bomb|leak|many|cache -s cg|sys -c CONTENDER -r RUN [-T SECS]
 *
 * Expects the cgroups that bench-vm made under /sys/fs/cgroup/bench:
 *   prot      the protected latency-sensitive heartbeat (memory.min)
 *   work      the watched cgroup (memory.max for -s cg, none for -s sys)
 *   work/job  the workload's allocating processes (and the cache writer)
 *   work/by   an idle 2 MiB bystander that should survive
 * The contender (kernel only, earlyoom, oomd, uoom handler) runs already.
 *
 * Every allocating process writes CLOCK_MONOTONIC to its slot of a shared
 * page immediately before each page touch, so the victim's slot holds the
 * time of the touch during which it was stopped ("the limit hit"). The
 * harness waits on every child's pidfd (poll, 1 ms timeout) and reads
 * memory.current (cg) or /proc/meminfo (sys) after every wake-up.
 *
 * Metrics (one "bench" line each):
 *   hit_to_exit_ms   victim's last touch -> its exit seen on its pidfd
 *   hit_to_freed_ms  victim's last touch -> the first 1 ms sample where the
 *                    charge fell by >= 1.5 MiB (cg; 8 MiB of MemTotal -
 *                    MemAvailable for sys) below its peak (a drop that
 *                    refills before any death is page-cache reclaim and
 *                    does not count)
 *   start_to_exit_ms workload start -> first death
 *   hb_p50_ms hb_p99_ms hb_max_ms  lateness of the 10 ms heartbeat from the
 *                    workload start to the end of the episode
 *   right_victim     1 if the first process to die was an allocating one
 *   collateral       deaths outside the job (bystander, heartbeat)
 *   deaths           all deaths of workload processes in the episode
 *   kernel_kills     oom_kill counter delta (memory.events or /proc/vmstat)
 *   timeout          1 if nobody died within -T seconds
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "bench.h"

#define BENCH_CG "/sys/fs/cgroup/bench"
#define MAXP 40
#define HB_MAX 16384
#define HB_PERIOD_NS 10000000ull

enum role { R_ALLOC = 1, R_WRITER, R_BYSTANDER, R_HEARTBEAT };

struct slot {
	volatile pid_t pid;
	volatile uint64_t last_ns;
};

struct shm {
	struct slot s[MAXP];
	volatile int stop;
	volatile uint32_t hb_n;
	uint64_t hb_t[HB_MAX];		/* target time of each beat */
	uint64_t hb_late[HB_MAX];	/* wake-up minus target, ns */
};

struct child {
	pid_t pid;
	int pidfd;
	enum role role;
	int slot;
	uint64_t died_ns;
	int sig;
};

struct alloc_spec {
	size_t chunk;		/* bytes per step */
	unsigned int gap_us;	/* pause after each step, 0: none */
};

static struct shm *shm;

/* Touch pages forever, writing the time before each touch. */
static void run_alloc(int slot, const struct alloc_spec *a)
{
	const size_t region = 512 * MIB;
	long pg = sysconf(_SC_PAGESIZE);
	char *p = NULL;
	size_t off = region, i;

	for (;;) {
		if (off + a->chunk > region) {
			p = mmap(NULL, region, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
			if (p == MAP_FAILED)
				_exit(3);
			off = 0;
		}
		for (i = 0; i < a->chunk; i += pg) {
			shm->s[slot].last_ns = now_ns();
			p[off + i] = 1;
		}
		off += a->chunk;
		if (a->gap_us)
			usleep(a->gap_us);
	}
}

/* Page-cache-heavy I/O: write a 96 MiB file in 1 MiB blocks, read it back. */
static void run_writer(void)
{
	static char buf[1 << 20];
	char path[64];
	int fd, i;

	memset(buf, 'c', sizeof(buf));
	snprintf(path, sizeof(path), "/mnt/scratch/bench-cache.%d", getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		_exit(3);
	unlink(path);
	for (;;) {
		for (i = 0; i < 96; i++)
			if (pwrite(fd, buf, sizeof(buf), (off_t)i << 20) < 0)
				_exit(3);
		for (i = 0; i < 96; i++)
			if (pread(fd, buf, sizeof(buf), (off_t)i << 20) < 0)
				_exit(3);
	}
}

static void run_heartbeat(void)
{
	struct timespec ts;
	uint64_t t = now_ns(), n;

	while (!shm->stop) {
		t += HB_PERIOD_NS;
		ts.tv_sec = t / 1000000000ull;
		ts.tv_nsec = t % 1000000000ull;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		n = shm->hb_n;
		if (n >= HB_MAX)
			continue;
		shm->hb_t[n] = t;
		shm->hb_late[n] = now_ns() - t;
		shm->hb_n = n + 1;
	}
	_exit(0);
}

static void run_bystander(void)
{
	size_t n = 2 * MIB, i;
	/* volatile: a memset of memory never read again may be elided */
	volatile char *p = malloc(n);

	for (i = 0; p && i < n; i += 4096)
		p[i] = 'b';
	for (;;)
		pause();
}

static int spawn(struct child *c, enum role role, int slot, const char *cg,
		 int adj, const struct alloc_spec *a)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (cg_enter(cg))
			_exit(4);
		set_oom_adj(adj);
		shm->s[slot].pid = getpid();
		shm->s[slot].last_ns = now_ns();
		switch (role) {
		case R_ALLOC: run_alloc(slot, a); break;
		case R_WRITER: run_writer(); break;
		case R_BYSTANDER: run_bystander(); break;
		case R_HEARTBEAT: run_heartbeat(); break;
		}
		_exit(0);
	}
	c->pid = pid;
	c->pidfd = pidfd_open(pid);
	c->role = role;
	c->slot = slot;
	c->died_ns = 0;
	return c->pidfd < 0 ? -errno : 0;
}

/* Charged bytes of the watched scope: memory.current, or used RAM. */
static long long charge(int sys)
{
	long long tot, avail;

	if (!sys)
		return num_get(BENCH_CG "/work/memory.current");
	tot = key_get("/proc/meminfo", "MemTotal");
	avail = key_get("/proc/meminfo", "MemAvailable");
	return (tot - avail) * 1024;
}

static long long oom_kills(int sys)
{
	return sys ? key_get("/proc/vmstat", "oom_kill") :
		     key_get(BENCH_CG "/work/memory.events", "oom_kill");
}

static void usage(void)
{
	fprintf(stderr, "usage: bwork -w bomb|leak|many|cache -s cg|sys -c CONTENDER -r RUN [-T SECS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *wl = NULL, *who = "?", *scope = "cg";
	struct child ch[MAXP];
	struct pollfd pfd[MAXP];
	struct alloc_spec a = { 0 };
	int nch = 0, nalloc = 1, writer = 0, run = 0, sys, i, o, n, right = 0;
	int collateral = 0, deaths = 0, first = -1, timeout_s = 60, timed_out;
	uint64_t t0, t_end, t_first = 0, t_freed = 0, t_hit = 0, deadline;
	uint64_t *late;
	long long peak = 0, cur, drop, kk0;
	char wlname[48];
	siginfo_t si;
	size_t nl;

	while ((o = getopt(argc, argv, "w:s:c:r:T:")) != -1) {
		switch (o) {
		case 'w': wl = optarg; break;
		case 's': scope = optarg; break;
		case 'c': who = optarg; break;
		case 'r': run = atoi(optarg); break;
		case 'T': timeout_s = atoi(optarg); break;
		default: usage();
		}
	}
	if (!wl || (strcmp(scope, "cg") && strcmp(scope, "sys")))
		usage();
	sys = !strcmp(scope, "sys");
	/* Rates: the cgroup limit is 64 MiB; the machine has ~10x that. */
	if (!strcmp(wl, "bomb")) {
		a.chunk = 64 * MIB;
	} else if (!strcmp(wl, "leak")) {
		a.chunk = sys ? 4 * MIB : MIB;	/* 64 or 16 MiB/s */
		a.gap_us = 60000;
	} else if (!strcmp(wl, "many")) {
		nalloc = 16;
		a.chunk = sys ? 512 * 1024 : 64 * 1024;
		a.gap_us = 20000;
	} else if (!strcmp(wl, "cache")) {
		a.chunk = sys ? 4 * MIB : MIB;
		a.gap_us = 60000;
		writer = 1;
	} else {
		usage();
	}
	snprintf(wlname, sizeof(wlname), "%s-%s", wl, scope);
	drop = sys ? 8 * MIB : 3 * MIB / 2;

	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (shm == MAP_FAILED) {
		perror("bwork: mmap");
		return 1;
	}
	memset(shm, 0, sizeof(*shm));
	set_oom_adj(-1000);
	kk0 = oom_kills(sys);

	if (spawn(&ch[nch++], R_HEARTBEAT, MAXP - 1, BENCH_CG "/prot", -1000, NULL) ||
	    spawn(&ch[nch++], R_BYSTANDER, MAXP - 2, BENCH_CG "/work/by", 0, NULL)) {
		perror("bwork: fork");
		return 1;
	}
	usleep(300000);
	t0 = now_ns();
	for (i = 0; i < nalloc; i++)
		if (spawn(&ch[nch++], R_ALLOC, i, BENCH_CG "/work/job", 0, &a)) {
			perror("bwork: fork");
			return 1;
		}
	if (writer && spawn(&ch[nch++], R_WRITER, MAXP - 3, BENCH_CG "/work/job", 0, NULL)) {
		perror("bwork: fork");
		return 1;
	}

	deadline = t0 + (uint64_t)timeout_s * 1000000000ull;
	for (;;) {
		for (i = 0; i < nch; i++) {
			pfd[i].fd = ch[i].died_ns ? -1 : ch[i].pidfd;
			pfd[i].events = POLLIN;
		}
		n = poll(pfd, nch, 1);
		for (i = 0; n > 0 && i < nch; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			ch[i].died_ns = now_ns();
			memset(&si, 0, sizeof(si));
			waitid(P_PIDFD, ch[i].pidfd, &si, WEXITED);
			ch[i].sig = si.si_code == CLD_KILLED ? si.si_status : 0;
			deaths++;
			if (ch[i].role == R_BYSTANDER || ch[i].role == R_HEARTBEAT)
				collateral++;
			if (first < 0) {
				first = i;
				t_first = ch[i].died_ns;
			}
		}
		cur = charge(sys);
		if (cur > peak)
			peak = cur;
		else if (!t_freed && cur >= 0 && peak - cur >= drop)
			t_freed = now_ns();
		/* Before any death, a drop that refills was reclaim of page
		 * cache, not a victim's memory: forget it. */
		if (t_freed && first < 0 && peak - cur < drop / 2)
			t_freed = 0;
		if (first >= 0 && t_freed &&
		    now_ns() > (t_first > t_freed ? t_first : t_freed) + 500000000ull)
			break;
		if (now_ns() > deadline)
			break;
	}
	t_end = now_ns();
	timed_out = first < 0;
	shm->stop = 1;
	for (i = 0; i < nch; i++)
		if (!ch[i].died_ns && ch[i].role != R_HEARTBEAT)
			pidfd_kill(ch[i].pidfd, SIGKILL);
	for (i = 0; i < nch; i++)
		if (!ch[i].died_ns)
			waitid(P_PIDFD, ch[i].pidfd, &si, WEXITED);

	if (first >= 0) {
		right = ch[first].role == R_ALLOC;
		/* The victim's own last touch; for another victim, the latest
		 * touch of any allocator (the limit was hit by then). */
		if (right) {
			t_hit = shm->s[ch[first].slot].last_ns;
		} else {
			for (i = 0; i < nalloc; i++)
				if (shm->s[i].last_ns > t_hit && shm->s[i].last_ns < t_first)
					t_hit = shm->s[i].last_ns;
		}
		emit(wlname, who, run, "hit_to_exit_ms", "%.3f", (t_first - t_hit) / 1e6);
		if (t_freed)
			emit(wlname, who, run, "hit_to_freed_ms", "%.3f",
			     ((double)t_freed - (double)t_hit) / 1e6);
		emit(wlname, who, run, "start_to_exit_ms", "%.3f", (t_first - t0) / 1e6);
	}
	/* Heartbeat lateness over the workload's life. */
	late = malloc(HB_MAX * sizeof(*late));
	nl = 0;
	for (i = 0; late && i < (int)shm->hb_n; i++)
		if (shm->hb_t[i] >= t0 && shm->hb_t[i] <= t_end)
			late[nl++] = shm->hb_late[i];
	qsort(late, nl, sizeof(*late), cmp_u64);
	if (nl) {
		emit(wlname, who, run, "hb_p50_ms", "%.3f", quantile(late, nl, 0.5) / 1e6);
		emit(wlname, who, run, "hb_p99_ms", "%.3f", quantile(late, nl, 0.99) / 1e6);
		emit(wlname, who, run, "hb_max_ms", "%.3f", late[nl - 1] / 1e6);
	}
	emit(wlname, who, run, "right_victim", "%d", right);
	emit(wlname, who, run, "collateral", "%d", collateral);
	emit(wlname, who, run, "deaths", "%d", deaths);
	emit(wlname, who, run, "kernel_kills", "%lld", oom_kills(sys) - kk0);
	emit(wlname, who, run, "timeout", "%d", timed_out);
	fprintf(stderr, "bwork %s %s run %d: %s victim=%s deaths=%d peak=%lld KiB %.1f s\n",
		wlname, who, run, timed_out ? "TIMEOUT" : "ok",
		first < 0 ? "-" : ch[first].role == R_ALLOC ? "alloc" :
		ch[first].role == R_WRITER ? "writer" :
		ch[first].role == R_BYSTANDER ? "bystander" : "heartbeat",
		deaths, peak / 1024, (t_end - t0) / 1e9);
	fflush(stdout);
	return 0;
}
