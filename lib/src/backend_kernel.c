/* SPDX-License-Identifier: MIT */
/* Kernel backend: memory.oom_notify eventfd registration (uoom series). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "internal.h"

static int write_knob(struct uoom_watch *w, const char *name, uint64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)v);
	int ret = uoom__write_at(w->dirfd, name, buf, (size_t)n);

	if (ret == -EACCES || ret == -EPERM)
		return watch_err(w, ret, "%s/%s is not writable", w->cgroup, name);
	if (ret)
		return watch_err(w, ret, "writing %llu to %s/%s",
				 (unsigned long long)v, w->cgroup, name);
	return 0;
}

/* A zero delay or reserve leaves the memcg's current setting alone. */
int uoom__kernel_open(struct uoom_watch *w)
{
	char buf[16];
	int n, ret;

	if (w->o.delay_ms) {
		ret = write_knob(w, "memory.oom_delay_millisecs", w->o.delay_ms);
		if (ret)
			return ret;
	}
	if (w->o.reserve_bytes) {
		ret = write_knob(w, "memory.oom_reserve_in_bytes", w->o.reserve_bytes);
		if (ret)
			return ret;
	}
	w->stat_fd = openat(w->dirfd, "memory.oom_notify", O_RDONLY | O_CLOEXEC);
	if (w->stat_fd < 0)
		return watch_err(w, -errno, "%s/memory.oom_notify", w->cgroup);
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0)
		return watch_err(w, -errno, "eventfd");
	n = snprintf(buf, sizeof(buf), "%d\n", w->efd);
	ret = uoom__write_at(w->dirfd, "memory.oom_notify", buf, (size_t)n);
	switch (ret) {
	case 0:
		return 0;
	case -EACCES:
		return watch_err(w, ret, "%s/memory.oom_notify is not writable", w->cgroup);
	case -EPERM:
		return watch_err(w, ret, "registering on %s/memory.oom_notify (the root needs CAP_SYS_RESOURCE)",
				 w->cgroup);
	case -ENOSPC:
		return watch_err(w, ret, "%s/memory.oom_notify: too many handlers", w->cgroup);
	default:
		return watch_err(w, ret, "registering eventfd %d on %s/memory.oom_notify",
				 w->efd, w->cgroup);
	}
}

/*
 * Consume the watch's eventfd into @ev (an OOM, with the counters): 1 when
 * it fired, 0 when it had not, or -errno. *stats_ret gets what reading the
 * counters returned: a removed cgroup's files fail with ENODEV or ENOENT.
 * Shared by the kernel and v1 backends, which both signal an eventfd.
 */
int uoom__eventfd_event(struct uoom_watch *w, struct uoom_event *ev, int *stats_ret)
{
	uint64_t cnt = 0;

	if (read(w->efd, &cnt, sizeof(cnt)) != sizeof(cnt)) {
		if (errno == EAGAIN)
			return 0;
		return watch_err(w, -errno, "reading the eventfd");
	}
	ev->kind = UOOM_EV_OOM;
	ev->count = cnt;
	*stats_ret = uoom_watch_stats(w, &ev->stats);
	return 1;
}

/* The eventfd fired: an episode started, or the cgroup went away. */
int uoom__kernel_handle(struct uoom_watch *w, struct uoom_event *ev)
{
	int stats, ret = uoom__eventfd_event(w, ev, &stats);

	if (ret == 1 && (stats == -ENODEV || stats == -ENOENT))
		ev->kind = UOOM_EV_REMOVED;
	return ret;
}
