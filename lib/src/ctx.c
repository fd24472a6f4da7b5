/* SPDX-License-Identifier: MIT */
/* Context: parameters, every buffer of the handling path, self-protection. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include "internal.h"

#define DENTS_SIZE (64u << 10)

UOOM_API void uoom_params_init(struct uoom_params *p)
{
	memset(p, 0, sizeof(*p));
	p->proc_root = "/proc";
	p->cgroup_root = "/sys/fs/cgroup";
	p->oom_score_adj = -1000;
	p->max_watches = 16;
	p->max_tasks = 4096;
	p->max_cgroups = 512;
	p->cmdline_cache = 1024;
	p->read_buf_size = 128u << 10;
	p->refresh_ms = 5000;
}

/* Allocate and touch, so the handling path never faults in fresh pages. */
static void *alloc_touched(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (p)
		memset(p, 0, (n ? n : 1) * size);
	return p;
}

static int open_root(struct uoom_ctx *ctx, const char *path, char *copy, int *fd)
{
	if (strlen(path) >= PATH_MAX)
		return ctx_err(ctx, -ENAMETOOLONG, "%.64s...", path);
	strcpy(copy, path);
	*fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0)
		return ctx_err(ctx, -errno, "%s", path);
	return 0;
}

static int set_oom_score_adj(struct uoom_ctx *ctx, int adj)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%d\n", adj);
	int ret = uoom__write_at(ctx->proc_fd, "self/oom_score_adj", buf, (size_t)n);

	if (ret)
		return ctx_err(ctx, ret, "%s/self/oom_score_adj", ctx->proc_root);
	return 0;
}

static int ctx_setup(struct uoom_ctx *ctx, const struct uoom_params *in)
{
	struct uoom_params *p = &ctx->p;
	int ret;

	uoom_params_init(p);
	if (in) {
		if (in->proc_root)
			p->proc_root = in->proc_root;
		if (in->cgroup_root)
			p->cgroup_root = in->cgroup_root;
		p->flags = in->flags;
		p->oom_score_adj = in->oom_score_adj;
		if (in->max_watches)
			p->max_watches = in->max_watches;
		if (in->max_tasks)
			p->max_tasks = in->max_tasks;
		if (in->max_cgroups)
			p->max_cgroups = in->max_cgroups;
		if (in->cmdline_cache)
			p->cmdline_cache = in->cmdline_cache;
		if (in->read_buf_size)
			p->read_buf_size = in->read_buf_size;
		p->refresh_ms = in->refresh_ms;
	}
	if ((p->flags & UOOM_F_LOOP_EPOLL) && (p->flags & UOOM_F_LOOP_URING))
		return ctx_err(ctx, -EINVAL, "UOOM_F_LOOP_EPOLL and UOOM_F_LOOP_URING exclude each other");
	if (p->max_watches > 4096 || p->max_tasks > (1u << 20) ||
	    p->max_cgroups > (1u << 16) || p->read_buf_size < 4096 ||
	    p->read_buf_size > (64u << 20))
		return ctx_err(ctx, -EINVAL, "uoom_params out of range");
	ctx->self = getpid();

	ret = open_root(ctx, p->proc_root, ctx->proc_root, &ctx->proc_fd);
	if (ret)
		return ret;
	ret = open_root(ctx, p->cgroup_root, ctx->cgroup_root, &ctx->cg_fd);
	if (ret)
		return ret;
	p->proc_root = ctx->proc_root;
	p->cgroup_root = ctx->cgroup_root;

	ctx->nsrcs = 1 + UOOM_SRC_PER_WATCH * p->max_watches;
	ctx->rcap = p->read_buf_size;
	/* JSON escaping of a full read buffer plus the task table */
	ctx->ocap = 2 * ctx->rcap + 64 * 1024;
	ctx->dcap = DENTS_SIZE;
	ctx->watches = alloc_touched(p->max_watches, sizeof(*ctx->watches));
	ctx->srcs = alloc_touched(ctx->nsrcs, sizeof(*ctx->srcs));
	ctx->rbuf = alloc_touched(ctx->rcap, 1);
	ctx->obuf = alloc_touched(ctx->ocap, 1);
	ctx->dents = alloc_touched(ctx->dcap, 1);
	ctx->tasks = alloc_touched(p->max_tasks, sizeof(*ctx->tasks));
	ctx->cgroups = alloc_touched(p->max_cgroups, sizeof(*ctx->cgroups));
	ctx->ncmds = p->cmdline_cache;
	ctx->cmds = alloc_touched(ctx->ncmds, sizeof(*ctx->cmds));
	if (!ctx->watches || !ctx->srcs || !ctx->rbuf || !ctx->obuf ||
	    !ctx->dents || !ctx->tasks || !ctx->cgroups || !ctx->cmds)
		return ctx_err(ctx, -ENOMEM, "allocating buffers");
	for (unsigned int i = 0; i < ctx->nsrcs; i++)
		ctx->srcs[i].fd = -1;
	for (unsigned int i = 0; i < p->max_watches; i++)
		ctx->watches[i].idx = i;

	ctx->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ctx->wake_fd < 0)
		return ctx_err(ctx, -errno, "eventfd");
	ctx->srcs[0].fd = ctx->wake_fd;
	ctx->srcs[0].kind = SRC_WAKE;
	ctx->srcs[0].poll = POLLIN;

	ret = -ENOTSUP;
	if (!(p->flags & UOOM_F_LOOP_EPOLL)) {
		ret = uoom__uring_init(ctx);
		if (ret && (p->flags & UOOM_F_LOOP_URING))
			return ctx_err(ctx, ret, "io_uring required but unavailable");
	}
	if (ret) {
		ret = uoom__epoll_init(ctx);
		if (ret)
			return ctx_err(ctx, ret, "epoll_create1");
	}
	ret = uoom__src_arm(ctx, 0);
	if (ret)
		return ctx_err(ctx, ret, "arming the wake eventfd");

	if (p->flags & UOOM_F_OOM_SCORE_ADJ) {
		ret = set_oom_score_adj(ctx, p->oom_score_adj);
		if (ret)
			return ret;
	}
	if ((p->flags & UOOM_F_MLOCKALL) &&
	    mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT))
		return ctx_err(ctx, -errno, "mlockall");
	return 0;
}

UOOM_API int uoom_ctx_new(const struct uoom_params *p, struct uoom_ctx **out)
{
	struct uoom_ctx *ctx;
	int ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->proc_fd = ctx->cg_fd = ctx->epfd = ctx->wake_fd = -1;
	ret = ctx_setup(ctx, p);
	if (ret) {
		if (p && p->errbuf && p->errbuf_len)
			snprintf(p->errbuf, p->errbuf_len, "%s", ctx->err);
		uoom_ctx_free(ctx);
		return ret;
	}
	*out = ctx;
	return 0;
}

UOOM_API void uoom_ctx_free(struct uoom_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->watches) {
		for (unsigned int i = 0; i < ctx->p.max_watches; i++)
			if (ctx->watches[i].used)
				uoom_watch_remove(&ctx->watches[i]);
	}
	if (ctx->loop == LOOP_URING)
		uoom__uring_exit(ctx);
	else if (ctx->loop == LOOP_EPOLL)
		uoom__epoll_exit(ctx);
	if (ctx->wake_fd >= 0)
		close(ctx->wake_fd);
	if (ctx->proc_fd >= 0)
		close(ctx->proc_fd);
	if (ctx->cg_fd >= 0)
		close(ctx->cg_fd);
	free(ctx->watches);
	free(ctx->srcs);
	free(ctx->rbuf);
	free(ctx->obuf);
	free(ctx->dents);
	free(ctx->tasks);
	free(ctx->cgroups);
	free(ctx->cmds);
	free(ctx);
}

UOOM_API const char *uoom_ctx_error(const struct uoom_ctx *ctx)
{
	return ctx ? ctx->err : "";
}

UOOM_API const char *uoom_ctx_loop(const struct uoom_ctx *ctx)
{
	return ctx && ctx->loop == LOOP_URING ? "io_uring" : "epoll";
}
