/* SPDX-License-Identifier: MIT */
/* Watches: open a cgroup, pick a backend, arm its event sources. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

UOOM_API void uoom_watch_opts_init(struct uoom_watch_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->cgroup = "/";
	o->psi_trigger = UOOM_PSI_TRIGGER_DEFAULT;
	o->log_fd = -1;
	o->log_format = UOOM_FMT_JSON;
	o->top_n = 10;
}

UOOM_API const char *uoom_backend_name(enum uoom_backend b)
{
	switch (b) {
	case UOOM_BACKEND_KERNEL:
		return "kernel";
	case UOOM_BACKEND_EVENTS:
		return "events";
	case UOOM_BACKEND_V1:
		return "v1";
	default:
		return "none";
	}
}

/*
 * Normalise @rel ("", "/", "a/b", "/a//b/") into "/" or "/a/b" (@norm has
 * UOOM_CGROUP_PATH_MAX bytes); returns its length, 0 for "/".
 * ".." components are refused.
 */
int uoom__norm_cgroup(const char *rel, char *norm)
{
	size_t n = 0;
	const char *s = rel ? rel : "";

	norm[0] = '/';
	norm[1] = '\0';
	while (*s) {
		const char *c;
		size_t l;

		while (*s == '/')
			s++;
		c = s;
		while (*s && *s != '/')
			s++;
		l = (size_t)(s - c);
		if (!l || (l == 1 && c[0] == '.'))
			continue;
		if (l == 2 && c[0] == '.' && c[1] == '.')
			return -EINVAL;
		if (n + 1 + l >= UOOM_CGROUP_PATH_MAX)
			return -ENAMETOOLONG;
		norm[n++] = '/';
		memcpy(norm + n, c, l);
		n += l;
		norm[n] = '\0';
	}
	return (int)n;
}

/* Normalise @rel into @norm and open it below the cgroup root. */
int uoom__open_cgroup(struct uoom_ctx *ctx, const char *rel, char *norm, int flags)
{
	int n = uoom__norm_cgroup(rel, norm), fd;

	if (n < 0)
		return n;
	fd = openat(ctx->cg_fd, n ? norm + 1 : ".",
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC | flags);
	return fd < 0 ? -errno : fd;
}

static bool has(int dirfd, const char *name)
{
	return faccessat(dirfd, name, F_OK, 0) == 0;
}

void uoom__close_cache_pidfds(struct uoom_watch *w)
{
	for (unsigned int i = 0; i < UOOM_CACHE_PIDFDS; i++) {
		if (w->cpidfd[i] >= 0)
			close(w->cpidfd[i]);
		w->cpidfd[i] = -1;
	}
}

static void watch_free_cache(struct uoom_watch *w)
{
	uoom__close_cache_pidfds(w);
	free(w->ctasks);
	free(w->ccgroups);
	w->ctasks = NULL;
	w->ccgroups = NULL;
	w->cvalid = false;
}

static void watch_reset(struct uoom_watch *w)
{
	unsigned int idx = w->idx;
	struct uoom_ctx *ctx = w->ctx;

	memset(w, 0, sizeof(*w));
	w->idx = idx;
	w->ctx = ctx;
	w->dirfd = w->efd = w->stat_fd = w->v1_ctl_fd = -1;
	w->events_fd = w->psi_fd = w->thr_dirfd = -1;
	for (unsigned int i = 0; i < UOOM_CACHE_PIDFDS; i++)
		w->cpidfd[i] = -1;
}

void uoom__watch_close_fds(struct uoom_watch *w)
{
	int *fds[] = { &w->efd, &w->stat_fd, &w->v1_ctl_fd, &w->events_fd,
		       &w->psi_fd, &w->thr_dirfd, &w->dirfd };

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

static int choose_backend(struct uoom_watch *w)
{
	struct uoom_ctx *ctx = w->ctx;
	unsigned int allow = w->o.backends ? w->o.backends : ~0u;
	bool root = !strcmp(w->cgroup, "/");
	bool kernel = has(w->dirfd, "memory.oom_notify");
	bool v2 = has(w->dirfd, root ? "memory.stat" : "memory.events") &&
		  has(w->dirfd, "cgroup.controllers");
	bool v1 = has(w->dirfd, "memory.oom_control") &&
		  has(w->dirfd, "cgroup.event_control");
	int ret;

	if (kernel && (allow & UOOM_BACKEND_MASK(UOOM_BACKEND_KERNEL))) {
		w->backend = UOOM_BACKEND_KERNEL;
		snprintf(w->reason, sizeof(w->reason),
			 "kernel: %.64s%.64s/memory.oom_notify present (patched kernel), delay %u ms, reserve %llu bytes",
			 ctx->cgroup_root, root ? "" : w->cgroup, w->o.delay_ms,
			 (unsigned long long)w->o.reserve_bytes);
		return uoom__kernel_open(w);
	}
	if (v2 && (allow & UOOM_BACKEND_MASK(UOOM_BACKEND_EVENTS))) {
		w->backend = UOOM_BACKEND_EVENTS;
		ret = uoom__events_open(w);
		if (!ret)
			snprintf(w->reason, sizeof(w->reason),
				 "events: %s; %smemory.events and PSI trigger \"%s\" (acts on pressure, the kernel OOM killer still runs at OOM)",
				 kernel ? "memory.oom_notify not allowed" :
					  "no memory.oom_notify (kernel without the uoom series)",
				 w->events_fd >= 0 ? "" : "no ", w->psi_trigger);
		return ret;
	}
	if (v1 && (allow & UOOM_BACKEND_MASK(UOOM_BACKEND_V1))) {
		w->backend = UOOM_BACKEND_V1;
		snprintf(w->reason, sizeof(w->reason),
			 "v1: cgroup v1 memory controller, cgroup.event_control + memory.oom_control");
		return uoom__v1_open(w);
	}
	if (kernel || v2 || v1)
		return watch_err(w, -ENOTSUP, "cgroup %s: its backend (%s) is not in the allowed set",
				 w->cgroup, kernel ? "kernel" : v2 ? "events" : "v1");
	if (has(w->dirfd, "cgroup.controllers"))
		return watch_err(w, -ENOTSUP,
				 "cgroup %s is not a memory cgroup (memory not in the parent's cgroup.subtree_control)",
				 w->cgroup);
	return watch_err(w, -ENOTSUP, "%.64s%.64s is not a memory cgroup", ctx->cgroup_root,
			 root ? "" : w->cgroup);
}

UOOM_API int uoom_watch_add(struct uoom_ctx *ctx, const struct uoom_watch_opts *o,
			    struct uoom_watch **out)
{
	struct uoom_watch *w = NULL;
	int ret;

	if (!ctx || !o || !o->handler)
		return ctx ? ctx_err(ctx, -EINVAL, "uoom_watch_add: no handler") : -EINVAL;
	if (out)
		*out = NULL;
	for (unsigned int i = 0; i < ctx->p.max_watches; i++) {
		if (!ctx->watches[i].used) {
			w = &ctx->watches[i];
			break;
		}
	}
	if (!w)
		return ctx_err(ctx, -ENOSPC, "all %u watches in use", ctx->p.max_watches);
	w->ctx = ctx;
	watch_reset(w);
	w->o = *o;
	if (!w->o.top_n)
		w->o.top_n = 10;
	if (o->delay_ms > 60000)
		return ctx_err(ctx, -EINVAL, "delay_ms %u out of range 0..60000", o->delay_ms);
	if (o->psi_trigger && strlen(o->psi_trigger) >= sizeof(w->psi_trigger) - 1)
		return ctx_err(ctx, -EINVAL, "psi_trigger too long");
	strcpy(w->psi_trigger, o->psi_trigger ? o->psi_trigger : UOOM_PSI_TRIGGER_DEFAULT);
	w->o.psi_trigger = w->psi_trigger;
	w->o.cgroup = w->cgroup;
	if ((o->snapshot & UOOM_SNAP_CACHED) && !(o->snapshot & UOOM_SNAP_TASKS))
		return ctx_err(ctx, -EINVAL, "UOOM_SNAP_CACHED needs UOOM_SNAP_TASKS");
	if (o->snapshot & UOOM_SNAP_CACHED) {
		/* the watch's own snapshot; allocated now, never during an episode */
		w->ctasks = calloc(ctx->p.max_tasks, sizeof(*w->ctasks));
		w->ccgroups = calloc(ctx->p.max_cgroups, sizeof(*w->ccgroups));
		if (!w->ctasks || !w->ccgroups) {
			watch_free_cache(w);
			return ctx_err(ctx, -ENOMEM, "no memory for the watch's cached snapshot");
		}
	}

	ret = uoom__open_cgroup(ctx, o->cgroup, w->cgroup, 0);
	if (ret < 0) {
		watch_free_cache(w);
		if (ret == -ENOENT)
			return ctx_err(ctx, ret, "cgroup %s: no such cgroup under %s",
				       o->cgroup ? o->cgroup : "/", ctx->cgroup_root);
		return ctx_err(ctx, ret, "cgroup %s", o->cgroup ? o->cgroup : "/");
	}
	w->dirfd = ret;
	ret = choose_backend(w);
	if (!ret) {
		unsigned int base = 1 + UOOM_SRC_PER_WATCH * w->idx;
		int fds[UOOM_SRC_PER_WATCH] = { -1, -1 };
		enum src_kind kinds[UOOM_SRC_PER_WATCH] = { SRC_NONE, SRC_NONE };

		if (w->backend == UOOM_BACKEND_KERNEL)
			fds[0] = w->efd, kinds[0] = SRC_KERNEL;
		else if (w->backend == UOOM_BACKEND_V1)
			fds[0] = w->efd, kinds[0] = SRC_V1;
		else
			fds[0] = w->events_fd, kinds[0] = SRC_MEMEVENTS,
			fds[1] = w->psi_fd, kinds[1] = SRC_PSI;
		w->used = true;
		for (unsigned int i = 0; i < UOOM_SRC_PER_WATCH && !ret; i++) {
			struct uoom_src *s = &ctx->srcs[base + i];

			s->fd = fds[i];
			s->kind = kinds[i];
			s->w = w;
			s->poll = kinds[i] == SRC_MEMEVENTS || kinds[i] == SRC_PSI ?
				  POLLPRI : POLLIN;
			if (fds[i] >= 0) {
				ret = uoom__src_arm(ctx, base + i);
				if (ret)
					watch_err(w, ret, "cannot poll %s",
						  kinds[i] == SRC_PSI ? "the PSI trigger" :
						  kinds[i] == SRC_MEMEVENTS ? "memory.events" :
						  "the eventfd");
			}
		}
		if (ret)
			w->used = true; /* so remove() disarms what was armed */
	}
	if (ret) {
		ctx_err(ctx, 0, "%s", w->err);
		if (w->used) {
			uoom_watch_remove(w);
		} else {
			uoom__watch_close_fds(w);
			watch_free_cache(w);
		}
		return ret;
	}
	ctx->err[0] = '\0';
	if (out)
		*out = w;
	return 0;
}

UOOM_API int uoom_watch_remove(struct uoom_watch *w)
{
	struct uoom_ctx *ctx;
	unsigned int base;

	if (!w || !w->used)
		return -EINVAL;
	ctx = w->ctx;
	base = 1 + UOOM_SRC_PER_WATCH * w->idx;
	for (unsigned int i = 0; i < UOOM_SRC_PER_WATCH; i++) {
		uoom__src_disarm(ctx, base + i);
		ctx->srcs[base + i].fd = -1;
		ctx->srcs[base + i].kind = SRC_NONE;
		ctx->srcs[base + i].w = NULL;
	}
	if (w->thr_active)
		uoom_throttle_undo(w);
	uoom__watch_close_fds(w);
	watch_free_cache(w);
	w->used = false;
	return 0;
}

UOOM_API enum uoom_backend uoom_watch_backend(const struct uoom_watch *w)
{
	return w ? w->backend : UOOM_BACKEND_NONE;
}

UOOM_API const char *uoom_watch_reason(const struct uoom_watch *w)
{
	return w ? w->reason : "";
}

UOOM_API const char *uoom_watch_error(const struct uoom_watch *w)
{
	return w ? w->err : "";
}

UOOM_API const char *uoom_watch_cgroup(const struct uoom_watch *w)
{
	return w ? w->cgroup : "";
}

UOOM_API struct uoom_ctx *uoom_watch_ctx(const struct uoom_watch *w)
{
	return w ? w->ctx : NULL;
}

UOOM_API int uoom_watch_stats(struct uoom_watch *w, struct uoom_oom_stats *st)
{
	ssize_t n;
	int ret;

	if (!w || !st || !w->used)
		return -EINVAL;
	if (w->stat_fd < 0)
		return -EOPNOTSUPP;
	n = uoom__pread_all(w->stat_fd, w->ctx->rbuf, w->ctx->rcap);
	if (n < 0)
		return watch_err(w, (int)n, "reading %s",
				 w->backend == UOOM_BACKEND_V1 ? "memory.oom_control" :
								 "memory.oom_notify");
	if (w->backend == UOOM_BACKEND_V1)
		ret = uoom__parse_v1_oom_control(w->ctx->rbuf, (size_t)n, st);
	else
		ret = uoom_parse_oom_stats(w->ctx->rbuf, (size_t)n, st);
	if (ret)
		watch_err(w, ret, "parsing %s", w->backend == UOOM_BACKEND_V1 ?
			  "memory.oom_control" : "memory.oom_notify");
	return ret;
}
