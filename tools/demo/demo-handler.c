// SPDX-License-Identifier: GPL-2.0
/*
 * demo-handler CGROUP DELAY_MS LOG: the smallest OOM handler on the raw
 * memory.oom_notify ABI. Registers an eventfd, and on each episode writes
 * memory.stat to LOG, then kills the task of CGROUP with the largest RSS
 * with pidfd_send_signal + process_mrelease, before the kernel would.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int put(const char *cg, const char *file, const char *val)
{
	char p[512];
	int fd, ok;

	snprintf(p, sizeof(p), "%s/%s", cg, file);
	fd = open(p, O_WRONLY);
	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) > 0;
	close(fd);
	return ok ? 0 : -1;
}

static long rss_pages(int pid)
{
	char p[64], buf[128];
	long size = 0, rss = 0;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/statm", pid);
	f = fopen(p, "r");
	if (f && fgets(buf, sizeof(buf), f))
		sscanf(buf, "%ld %ld", &size, &rss);
	if (f)
		fclose(f);
	return rss;
}

int main(int argc, char **argv)
{
	static char buf[65536], path[512];
	int efd, log, pid, victim, pidfd;
	long best, r;
	uint64_t n;
	FILE *procs;
	ssize_t len;

	if (argc != 4) {
		fprintf(stderr, "usage: demo-handler CGROUP DELAY_MS LOG\n");
		return 2;
	}
	mlockall(MCL_CURRENT | MCL_FUTURE);
	efd = eventfd(0, 0);
	snprintf(buf, sizeof(buf), "%d", efd);
	if (put(argv[1], "memory.oom_delay_millisecs", argv[2]) ||
	    put(argv[1], "memory.oom_notify", buf)) {
		perror("demo-handler: registering on memory.oom_notify (is the kernel patched?)");
		return 1;
	}
	log = open(argv[3], O_WRONLY | O_CREAT | O_APPEND, 0644);
	for (;;) {
		if (read(efd, &n, sizeof(n)) != sizeof(n))
			return 1;
		/* Log first: memory.stat of the OOMing cgroup, in one write. */
		snprintf(path, sizeof(path), "%s/memory.stat", argv[1]);
		pid = open(path, O_RDONLY);
		len = read(pid, buf, sizeof(buf));
		close(pid);
		if (len > 0)
			write(log, buf, len);
		/* Then the largest task of the cgroup. */
		snprintf(path, sizeof(path), "%s/cgroup.procs", argv[1]);
		procs = fopen(path, "r");
		victim = -1;
		best = -1;
		while (procs && fscanf(procs, "%d", &pid) == 1) {
			r = rss_pages(pid);
			if (r > best) {
				best = r;
				victim = pid;
			}
		}
		if (procs)
			fclose(procs);
		if (victim < 0)
			continue;
		pidfd = syscall(SYS_pidfd_open, victim, 0);
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		syscall(SYS_process_mrelease, pidfd, 0);
		close(pidfd);
		printf("demo-handler: OOM in %s: killed pid %d (%ld MB), memory.stat logged\n",
		       argv[1], victim, best * 4 / 1024);
		fflush(stdout);
	}
}
