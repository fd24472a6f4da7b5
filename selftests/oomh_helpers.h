/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the memory.oom_notify selftests: register an eventfd, wait for
 * it with a bound, and read the counters of memory.oom_notify.
 */
#ifndef UOOM_OOMH_HELPERS_H
#define UOOM_OOMH_HELPERS_H

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup_helpers.h"

static inline int oomh_register(const char *cg, int efd)
{
	char buf[32];
	int n;

	snprintf(buf, sizeof(buf), "%d", efd);
	n = cg_write(cg, "memory.oom_notify", buf);
	return n < 0 ? n : 0;
}

/* A new eventfd registered on cg, or -errno. */
static inline int oomh_new_handler(const char *cg)
{
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int err;

	if (efd < 0)
		return -errno;
	err = oomh_register(cg, efd);
	if (err) {
		close(efd);
		return err;
	}
	return efd;
}

/* Wait up to ms for the eventfd; its counter (>0), 0 on timeout, -errno. */
static inline long long oomh_wait(int efd, int ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t v;
	int n;

	n = poll(&p, 1, ms);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return -errno;
	return (long long)v;
}

static inline long long oomh_stat(const char *cg, const char *key)
{
	return cg_read_key(cg, "memory.oom_notify", key);
}

/* Wait up to ms for a counter of memory.oom_notify to reach want. */
static inline long long oomh_stat_wait(const char *cg, const char *key,
				       long long want, int ms)
{
	long long v = -1;
	int i;

	for (i = 0; i <= ms / 10; i++) {
		v = oomh_stat(cg, key);
		if (v == want)
			break;
		usleep(10000);
	}
	return v;
}

/*
 * The debug kernel (KASAN, kmemleak, lockdep) runs ten to a hundred times
 * slower under TCG: timing bounds that must hold there are looser.
 */
static inline int oomh_debug_kernel(void)
{
	return access("/sys/kernel/debug/kmemleak", F_OK) == 0;
}

/*
 * Timing bounds. Each test states the slack that holds on the normal
 * kernel, with what was measured beside it; on the debug kernel the slack
 * is OOMH_DEBUG_SLACK_SCALE times that. This is the one place for the
 * factor. Lower bounds take no slack: the kernel must never act early.
 */
#define OOMH_DEBUG_SLACK_SCALE 5

static inline long long oomh_slack_ms(long long ms)
{
	return oomh_debug_kernel() ? ms * OOMH_DEBUG_SLACK_SCALE : ms;
}

/*
 * When the pending episode of cg started, on the clock of now_ms(), as
 * the kernel sees it: memory.oom_delay_millisecs minus delay_left_ms ago.
 * Bounds measured from here do not depend on when the test woke up.
 * Returns -1 when no episode is pending.
 */
static inline long long oomh_episode_start_ms(const char *cg)
{
	long long now = now_ms();
	long long left = oomh_stat(cg, "delay_left_ms");
	long long delay = cg_read_num(cg, "memory.oom_delay_millisecs");

	if (left < 0 || delay < 0 || oomh_stat(cg, "under_oom") != 1)
		return -1;
	return now - (delay - left);
}

/*
 * Wait for the hog to die; *ms gets the milliseconds from the cgroup's
 * first "oom" event (memory.events, read every millisecond) to its death,
 * -1 if no OOM came first. Returns what cg_wait() would. "Killed at once"
 * is measured from the OOM, not from the hog's start: filling 32M takes
 * seconds on the debug kernel when the host is busy, and says nothing of
 * a delay.
 */
static inline int oomh_wait_from_oom(const char *cg, pid_t hog, long long *ms)
{
	long long t_oom = -1;
	int status;

	*ms = -1;
	for (;;) {
		if (t_oom < 0 && cg_read_key(cg, "memory.events", "oom") > 0)
			t_oom = now_ms();
		if (waitpid(hog, &status, WNOHANG) == hog)
			break;
		usleep(1000);
	}
	if (t_oom >= 0)
		*ms = now_ms() - t_oom;
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

#endif
