// SPDX-License-Identifier: GPL-2.0
/*
 * ex_hog MB [STATEFILE|-]: a process for the shell VM tests (examples_e2e,
 * uoomctl_e2e): allocate and touch MB megabytes, 1 MB every 10 ms, then
 * sleep until killed. With STATEFILE, SIGTERM makes it write "saved <pid>"
 * there and exit 0 (a process that saves its state when warned). It frees
 * its memory first: during a memcg OOM, the page cache of that write is
 * charged to the same full cgroup and would wait for the episode to end.
 * It frees with MADV_DONTNEED, not munmap: the 1 MB mappings are merged into
 * one VMA, and unmapping part of it allocates a new VMA, charged to the full
 * cgroup: munmap would wait for the episode too.
 * With "-", it ignores SIGTERM (a process that does not cooperate).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_MB 4096
static const char *state;
static char *chunk[MAX_MB];
static long nchunks;

static void on_term(int sig)
{
	char buf[32];
	int fd, n;

	(void)sig;
	for (long i = 0; i < nchunks; i++)
		madvise(chunk[i], 1 << 20, MADV_DONTNEED);
	fd = open(state, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	n = snprintf(buf, sizeof(buf), "saved %d\n", (int)getpid());
	if (fd >= 0 && write(fd, buf, n) == n && fsync(fd) == 0)
		_exit(0);
	_exit(3);
}

int main(int argc, char **argv)
{
	long mb = argc > 1 ? atol(argv[1]) : 0;

	if (argc > 2 && !strcmp(argv[2], "-")) {
		signal(SIGTERM, SIG_IGN);
	} else if (argc > 2) {
		state = argv[2];
		signal(SIGTERM, on_term);
	}
	for (long i = 0; i < mb; i++) {
		char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			return 1;
		memset(p, 1, 1 << 20);
		if (nchunks < MAX_MB)
			chunk[nchunks++] = p;
		usleep(10000);
	}
	for (;;)
		pause();
}
