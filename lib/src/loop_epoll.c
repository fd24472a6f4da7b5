/* SPDX-License-Identifier: MIT */
/* epoll fallback loop, for kernels without (multishot) io_uring. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "internal.h"

#define EPOLL_BATCH 16

int uoom__epoll_init(struct uoom_ctx *ctx)
{
	ctx->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ctx->epfd < 0)
		return -errno;
	ctx->loop = LOOP_EPOLL;
	return 0;
}

void uoom__epoll_exit(struct uoom_ctx *ctx)
{
	if (ctx->epfd >= 0)
		close(ctx->epfd);
	ctx->epfd = -1;
}

int uoom__epoll_arm(struct uoom_ctx *ctx, unsigned int si)
{
	struct uoom_src *s = &ctx->srcs[si];
	struct epoll_event ev = {
		.events = s->poll == POLLPRI ? EPOLLPRI : EPOLLIN,
		.data.u64 = (uint64_t)s->gen << 32 | si,
	};

	return epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, s->fd, &ev) ? -errno : 0;
}

int uoom__epoll_disarm(struct uoom_ctx *ctx, unsigned int si)
{
	return epoll_ctl(ctx->epfd, EPOLL_CTL_DEL, ctx->srcs[si].fd, NULL) ? -errno : 0;
}

int uoom__epoll_wait(struct uoom_ctx *ctx, int timeout_ms)
{
	struct epoll_event evs[EPOLL_BATCH];
	int n, handled = 0;

	n = epoll_wait(ctx->epfd, evs, EPOLL_BATCH, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		unsigned int si = (uint32_t)evs[i].data.u64;
		uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);

		/* an earlier handler of this batch may have removed the source */
		if (si >= ctx->nsrcs || !ctx->srcs[si].armed || ctx->srcs[si].gen != gen)
			continue;
		if (uoom__src_ready(ctx, si, evs[i].events) > 0)
			handled++;
	}
	return handled;
}
