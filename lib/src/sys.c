/* SPDX-License-Identifier: MIT */
/* pidfd and process_mrelease wrappers; numbers from <sys/syscall.h>. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

/* The numbers are the same on every architecture since the unified table. */
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_process_mrelease
#define SYS_process_mrelease 448
#endif

int uoom__pidfd_open(pid_t pid)
{
	long fd = syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : (int)fd;
}

int uoom__pidfd_send_signal(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

int uoom__process_mrelease(int pidfd)
{
	return syscall(SYS_process_mrelease, pidfd, 0) < 0 ? -errno : 0;
}

uint64_t uoom__now_ns(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A pidfd polls readable once the process has exited. */
int uoom__pidfd_wait(int pidfd, unsigned int timeout_ms)
{
	uint64_t deadline = uoom__now_ns(CLOCK_MONOTONIC) +
			    (uint64_t)timeout_ms * 1000000ull;

	for (;;) {
		struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
		uint64_t now = uoom__now_ns(CLOCK_MONOTONIC);
		int left = now >= deadline ? 0 :
			   (int)((deadline - now + 999999) / 1000000);
		int n = poll(&pfd, 1, left);

		if (n > 0)
			return 1;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}
