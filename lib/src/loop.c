/* SPDX-License-Identifier: MIT */
/* Loop-independent dispatch: a ready source becomes a handler call. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

int uoom__src_arm(struct uoom_ctx *ctx, unsigned int si)
{
	struct uoom_src *s = &ctx->srcs[si];
	int ret;

	if (s->fd < 0)
		return 0;
	s->gen++;
	ret = ctx->loop == LOOP_URING ? uoom__uring_arm(ctx, si) :
					uoom__epoll_arm(ctx, si);
	s->armed = !ret;
	return ret;
}

void uoom__src_disarm(struct uoom_ctx *ctx, unsigned int si)
{
	struct uoom_src *s = &ctx->srcs[si];

	if (!s->armed)
		return;
	if (ctx->loop == LOOP_URING)
		uoom__uring_disarm(ctx, si);
	else
		uoom__epoll_disarm(ctx, si);
	s->armed = false;
	s->gen++;	/* completions still in flight are now stale */
}

static void watch_disarm(struct uoom_watch *w)
{
	unsigned int base = 1 + UOOM_SRC_PER_WATCH * w->idx;

	for (unsigned int i = 0; i < UOOM_SRC_PER_WATCH; i++)
		uoom__src_disarm(w->ctx, base + i);
}

/* Returns 1 if a handler ran, 0 if nothing was due. Never allocates. */
int uoom__src_ready(struct uoom_ctx *ctx, unsigned int si, uint32_t revents)
{
	struct uoom_src *s = &ctx->srcs[si];
	struct uoom_watch *w = s->w;
	struct uoom_event ev;
	int ret;

	(void)revents;
	if (s->kind == SRC_WAKE) {
		uint64_t v;

		if (read(s->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return -errno;
		return 0;
	}
	if (!w || !w->used)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.backend = w->backend;
	switch (s->kind) {
	case SRC_KERNEL:
		ret = uoom__kernel_handle(w, &ev);
		break;
	case SRC_V1:
		ret = uoom__v1_handle(w, &ev);
		break;
	case SRC_MEMEVENTS:
	case SRC_PSI:
		ret = uoom__events_handle(w, s->kind, &ev);
		break;
	default:
		return 0;
	}
	if (ret <= 0)
		return ret;
	ev.time_ns = uoom__now_ns(CLOCK_MONOTONIC);
	if (ev.kind == UOOM_EV_REMOVED) {
		watch_disarm(w);
		watch_err(w, -ENODEV, "cgroup %s was removed", w->cgroup);
	} else if (w->o.snapshot) {
		if (w->o.log_fd >= 0) {
			ret = uoom_snapshot_write(w, w->o.log_fd, w->o.snapshot,
						  w->o.log_format, w->o.top_n);
			if (ret < 0)
				watch_err(w, ret, "writing the snapshot to fd %d", w->o.log_fd);
			if (w->o.snapshot & UOOM_SNAP_TASKS)
				ev.snap = (w->o.snapshot & UOOM_SNAP_CACHED) ?
					  (w->cvalid ? &w->csnap : NULL) : &ctx->snap;
		} else if (w->o.snapshot & UOOM_SNAP_TASKS) {
			ev.snap = uoom__event_snapshot(w);
		}
	}
	w->o.handler(w, &ev, w->o.data);
	return 1;
}

static int refresh_due(struct uoom_ctx *ctx, uint64_t now)
{
	uint64_t next;

	if (!ctx->p.refresh_ms)
		return -1;
	next = ctx->last_refresh_ns + (uint64_t)ctx->p.refresh_ms * 1000000ull;
	return now >= next ? 0 : (int)((next - now + 999999) / 1000000);
}

UOOM_API int uoom_dispatch(struct uoom_ctx *ctx, int timeout_ms)
{
	uint64_t now;
	int due, ret;

	if (!ctx)
		return -EINVAL;
	if (ctx->in_dispatch)
		return -EBUSY;
	now = uoom__now_ns(CLOCK_MONOTONIC);
	due = refresh_due(ctx, now);
	if (due >= 0 && (timeout_ms < 0 || due < timeout_ms))
		timeout_ms = due;
	ctx->in_dispatch = true;
	ret = ctx->loop == LOOP_URING ? uoom__uring_wait(ctx, timeout_ms) :
					uoom__epoll_wait(ctx, timeout_ms);
	ctx->in_dispatch = false;
	/* only when idle: cmdline reads may block on a task's mmap_lock */
	if (ret == 0 && refresh_due(ctx, uoom__now_ns(CLOCK_MONOTONIC)) == 0)
		uoom_refresh(ctx);
	return ret;
}

UOOM_API int uoom_run(struct uoom_ctx *ctx)
{
	int ret = 0;

	if (!ctx)
		return -EINVAL;
	while (!ctx->stop) {
		ret = uoom_dispatch(ctx, -1);
		if (ret < 0 && ret != -EINTR)
			break;
		ret = 0;
	}
	ctx->stop = 0;
	return ret;
}

UOOM_API int uoom_stop(struct uoom_ctx *ctx)
{
	uint64_t one = 1;

	if (!ctx)
		return -EINVAL;
	ctx->stop = 1;
	return write(ctx->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN ? -errno : 0;
}

UOOM_API int uoom_fd(const struct uoom_ctx *ctx)
{
	if (!ctx)
		return -EINVAL;
	return ctx->loop == LOOP_URING ? ctx->ring.ring_fd : ctx->epfd;
}
