/* SPDX-License-Identifier: MIT */
/* io_uring loop: one multishot poll per source; the ring fd is uoom_fd(). */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include "internal.h"

int uoom__uring_init(struct uoom_ctx *ctx)
{
	unsigned int entries = 8;
	int ret;

	while (entries < ctx->nsrcs * 2)
		entries <<= 1;
	ret = io_uring_queue_init(entries, &ctx->ring, 0);
	if (ret)
		return ret;
	/* multishot poll is 5.13; IORING_FEAT_RSRC_TAGS is the 5.13 marker */
	if (!(ctx->ring.features & IORING_FEAT_RSRC_TAGS)) {
		io_uring_queue_exit(&ctx->ring);
		return -ENOTSUP;
	}
	ctx->ring_ok = true;
	ctx->loop = LOOP_URING;
	return 0;
}

void uoom__uring_exit(struct uoom_ctx *ctx)
{
	if (ctx->ring_ok)
		io_uring_queue_exit(&ctx->ring);
	ctx->ring_ok = false;
}

static struct io_uring_sqe *get_sqe(struct uoom_ctx *ctx)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ctx->ring);

	if (!sqe) {
		io_uring_submit(&ctx->ring);
		sqe = io_uring_get_sqe(&ctx->ring);
	}
	return sqe;
}

static uint64_t udata(const struct uoom_src *s, unsigned int si)
{
	return (uint64_t)s->gen << 32 | si;
}

int uoom__uring_arm(struct uoom_ctx *ctx, unsigned int si)
{
	struct uoom_src *s = &ctx->srcs[si];
	struct io_uring_sqe *sqe = get_sqe(ctx);
	int ret;

	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_multishot(sqe, s->fd, s->poll);
	io_uring_sqe_set_data64(sqe, udata(s, si));
	ret = io_uring_submit(&ctx->ring);
	return ret < 0 ? ret : 0;
}

int uoom__uring_disarm(struct uoom_ctx *ctx, unsigned int si)
{
	struct uoom_src *s = &ctx->srcs[si];
	struct io_uring_sqe *sqe = get_sqe(ctx);
	int ret;

	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_remove(sqe, udata(s, si));
	io_uring_sqe_set_data64(sqe, UINT64_MAX);
	ret = io_uring_submit(&ctx->ring);
	return ret < 0 ? ret : 0;
}

int uoom__uring_wait(struct uoom_ctx *ctx, int timeout_ms)
{
	struct io_uring_cqe *cqe;
	int ret, handled = 0;

	if (timeout_ms < 0) {
		ret = io_uring_wait_cqe(&ctx->ring, &cqe);
	} else if (timeout_ms == 0) {
		ret = io_uring_peek_cqe(&ctx->ring, &cqe);
	} else {
		struct __kernel_timespec ts = {
			.tv_sec = timeout_ms / 1000,
			.tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
		};

		ret = io_uring_wait_cqe_timeout(&ctx->ring, &cqe, &ts);
	}
	if (ret == -ETIME || ret == -EAGAIN || ret == -EINTR)
		return 0;
	if (ret < 0)
		return ret;

	/* consume one CQE at a time: handlers may arm or disarm sources */
	while (io_uring_peek_cqe(&ctx->ring, &cqe) == 0) {
		uint64_t ud = io_uring_cqe_get_data64(cqe);
		int res = cqe->res;
		bool more = cqe->flags & IORING_CQE_F_MORE;
		unsigned int si = (uint32_t)ud;
		struct uoom_src *s;

		io_uring_cqe_seen(&ctx->ring, cqe);
		if (ud == UINT64_MAX || si >= ctx->nsrcs)
			continue;
		s = &ctx->srcs[si];
		if (!s->armed || s->gen != (uint32_t)(ud >> 32))
			continue;	/* stale: disarmed or re-armed since */
		if (res < 0) {
			s->armed = false;
			if (s->w)
				watch_err(s->w, res, "poll on fd %d failed", s->fd);
			continue;
		}
		if (!more)	/* multishot ended (e.g. CQ overflow): re-arm */
			uoom__src_arm(ctx, si);
		if (uoom__src_ready(ctx, si, (uint32_t)res) > 0)
			handled++;
	}
	return handled;
}
