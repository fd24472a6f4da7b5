/* SPDX-License-Identifier: MIT */
/*
 * Events backend for stock cgroup v2: memory.events (kernfs notifies with
 * POLLPRI|POLLERR on every change) and a PSI trigger on memory.pressure, so
 * the handler can act on pressure before the kernel OOM killer would.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

static int open_psi(struct uoom_watch *w)
{
	struct uoom_ctx *ctx = w->ctx;
	const char *where = "memory.pressure";
	size_t len = strlen(w->psi_trigger);
	int fd = openat(w->dirfd, "memory.pressure", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	char trig[sizeof(w->psi_trigger)];
	ssize_t n;

	if (fd < 0 && errno == ENOENT && !strcmp(w->cgroup, "/")) {
		where = "pressure/memory";
		fd = openat(ctx->proc_fd, "pressure/memory", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	}
	if (fd < 0) {
		if (errno == EACCES || errno == EPERM)
			return watch_err(w, -errno, "%s/%s is not writable", w->cgroup, where);
		return watch_err(w, -errno, "%s/%s (PSI)", w->cgroup, where);
	}
	/* the kernel replaces the last byte with NUL: end with a newline */
	memcpy(trig, w->psi_trigger, len);
	trig[len++] = '\n';
	n = write(fd, trig, len);
	if (n != (ssize_t)len) {
		int err = n < 0 ? -errno : -EIO;

		close(fd);
		return watch_err(w, err, "writing PSI trigger \"%s\" to %s/%s",
				 w->psi_trigger, w->cgroup, where);
	}
	w->psi_fd = fd;
	return 0;
}

int uoom__events_open(struct uoom_watch *w)
{
	struct uoom_ctx *ctx = w->ctx;

	w->events_fd = openat(w->dirfd, "memory.events", O_RDONLY | O_CLOEXEC);
	if (w->events_fd >= 0) {
		ssize_t n = uoom__pread_all(w->events_fd, ctx->rbuf, ctx->rcap);
		int ret = n < 0 ? (int)n :
			  uoom_parse_mem_events(ctx->rbuf, (size_t)n, &w->last_events);

		if (ret)
			return watch_err(w, ret, "%s/memory.events", w->cgroup);
	} else if (errno != ENOENT || strcmp(w->cgroup, "/")) {
		return watch_err(w, -errno, "%s/memory.events", w->cgroup);
	}
	return open_psi(w);
}

static uint64_t d(uint64_t now, uint64_t then)
{
	return now >= then ? now - then : now;
}

int uoom__events_handle(struct uoom_watch *w, enum src_kind k, struct uoom_event *ev)
{
	struct uoom_ctx *ctx = w->ctx;
	struct uoom_mem_events cur = w->last_events;
	ssize_t n;
	int ret;

	if (w->events_fd >= 0) {
		n = uoom__pread_all(w->events_fd, ctx->rbuf, ctx->rcap);
		if (n == -ENODEV || n == -ENOENT) {
			ev->kind = UOOM_EV_REMOVED;
			return 1;
		}
		ret = n < 0 ? (int)n : uoom_parse_mem_events(ctx->rbuf, (size_t)n, &cur);
		if (ret)
			watch_err(w, ret, "%s/memory.events", w->cgroup);
	}
	ev->events = cur;
	ev->delta.low = d(cur.low, w->last_events.low);
	ev->delta.high = d(cur.high, w->last_events.high);
	ev->delta.max = d(cur.max, w->last_events.max);
	ev->delta.oom = d(cur.oom, w->last_events.oom);
	ev->delta.oom_kill = d(cur.oom_kill, w->last_events.oom_kill);
	ev->delta.oom_group_kill = d(cur.oom_group_kill, w->last_events.oom_group_kill);
	w->last_events = cur;
	if (k == SRC_PSI) {
		ev->kind = UOOM_EV_PRESSURE;
		ev->count = 1;
		return 1;
	}
	ev->kind = UOOM_EV_MEM_EVENTS;
	ev->count = ev->delta.high + ev->delta.max + ev->delta.oom +
		    ev->delta.oom_kill + ev->delta.oom_group_kill;
	/* "low" moves alone when memory.low protection is breached: not ours */
	return ev->count ? 1 : 0;
}
