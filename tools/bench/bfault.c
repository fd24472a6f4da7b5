// SPDX-License-Identifier: MIT
/*
 * bfault: the cost of a page fault and its memcg charge, with and without a
 * registered OOM handler on the cgroup (and, booted on the unpatched kernel,
 * without the series at all).
 *
 *   bfault -k KERNEL -M MIB -r REPS
 *
 * In /sys/fs/cgroup/bench/fault (memory.max 4x MIB: never OOM), a child maps
 * MIB of anonymous memory, writes one byte per page, unmaps it, REPS times,
 * and reports nanoseconds per page for each repetition. The modes alternate
 * repetition by repetition so drift in the (TCG) machine hits both alike:
 *   none     no handler
 *   handler  another process registered an eventfd on memory.oom_notify
 *            (skipped when the file does not exist: unpatched kernel)
 * Prints "bench fault KERNEL-MODE REP ns_per_page V".
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "bench.h"

#define FAULT_CG "/sys/fs/cgroup/bench/fault"

/* One repetition in a child inside the cgroup; ns per page, 0 on error. */
static double one_rep(size_t len, const int fd[2])
{
	long pg = sysconf(_SC_PAGESIZE);
	double v = 0;
	pid_t pid;
	int st;

	pid = fork();
	if (pid == 0) {
		uint64_t t;
		size_t i;
		char *p;

		if (cg_enter(FAULT_CG))
			_exit(4);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(3);
		t = now_ns();
		for (i = 0; i < len; i += pg)
			p[i] = 1;
		munmap(p, len);
		t = now_ns() - t;
		v = (double)t / (double)(len / pg);
		if (write(fd[1], &v, sizeof(v)) != sizeof(v))
			_exit(3);
		_exit(0);
	}
	if (read(fd[0], &v, sizeof(v)) != sizeof(v))
		v = 0;
	waitpid(pid, &st, 0);
	return v;
}

/* A process outside the cgroup registered as its OOM handler; its pid. */
static pid_t start_handler(void)
{
	int ready[2];
	char c = 0;
	pid_t pid;

	if (pipe(ready))
		return -1;
	pid = fork();
	if (pid == 0) {
		char buf[16];
		int efd = eventfd(0, 0);

		snprintf(buf, sizeof(buf), "%d", efd);
		c = file_put(FAULT_CG, "memory.oom_notify", buf) ? 'e' : 'k';
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	if (read(ready[0], &c, 1) != 1 || c != 'k') {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(ready[0]);
	close(ready[1]);
	return pid;
}

int main(int argc, char **argv)
{
	const char *kern = "patched";
	int mib = 64, reps = 30, o, r, m, pipefd[2], patched;
	char tag[64];
	pid_t h = -1;
	double v;

	while ((o = getopt(argc, argv, "k:M:r:")) != -1) {
		switch (o) {
		case 'k': kern = optarg; break;
		case 'M': mib = atoi(optarg); break;
		case 'r': reps = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: bfault -k KERNEL -M MIB -r REPS\n");
			return 2;
		}
	}
	if (pipe(pipefd))
		return 1;
	patched = access(FAULT_CG "/memory.oom_notify", F_OK) == 0;
	/* One untimed warm-up. */
	one_rep((size_t)mib * MIB, pipefd);
	for (r = 0; r < reps; r++) {
		for (m = 0; m < 1 + patched; m++) {
			if (m == 1 && h < 0) {
				h = start_handler();
				if (h < 0) {
					fprintf(stderr, "bfault: cannot register on %s/memory.oom_notify\n", FAULT_CG);
					return 1;
				}
			}
			if (m == 0 && h > 0) {
				kill(h, SIGKILL);
				waitpid(h, NULL, 0);
				h = -1;
			}
			v = one_rep((size_t)mib * MIB, pipefd);
			snprintf(tag, sizeof(tag), "%s-%s", kern, m ? "handler" : "none");
			if (v > 0)
				emit("fault", tag, r, "ns_per_page", "%.1f", v);
		}
	}
	if (h > 0) {
		kill(h, SIGKILL);
		waitpid(h, NULL, 0);
	}
	return 0;
}
