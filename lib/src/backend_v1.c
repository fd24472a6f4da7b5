/* SPDX-License-Identifier: MIT */
/* cgroup v1 backend: OOM eventfd via cgroup.event_control + memory.oom_control. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "internal.h"

int uoom__v1_open(struct uoom_watch *w)
{
	char buf[32];
	int n, ret;

	w->stat_fd = openat(w->dirfd, "memory.oom_control", O_RDONLY | O_CLOEXEC);
	if (w->stat_fd < 0)
		return watch_err(w, -errno, "%s/memory.oom_control", w->cgroup);
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0)
		return watch_err(w, -errno, "eventfd");
	n = snprintf(buf, sizeof(buf), "%d %d\n", w->efd, w->stat_fd);
	ret = uoom__write_at(w->dirfd, "cgroup.event_control", buf, (size_t)n);
	if (ret == -EACCES || ret == -EPERM)
		return watch_err(w, ret, "%s/cgroup.event_control is not writable", w->cgroup);
	if (ret)
		return watch_err(w, ret, "registering on %s/cgroup.event_control", w->cgroup);
	return 0;
}

/* v1 signals the eventfd on OOM and once more when the cgroup is removed. */
int uoom__v1_handle(struct uoom_watch *w, struct uoom_event *ev)
{
	int stats, ret = uoom__eventfd_event(w, ev, &stats);

	if (ret == 1 && (stats == -ENODEV || stats == -ENOENT ||
			 faccessat(w->dirfd, "memory.oom_control", F_OK, 0)))
		ev->kind = UOOM_EV_REMOVED;
	return ret;
}
