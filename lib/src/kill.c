/* SPDX-License-Identifier: MIT */
/* Kill a task by pidfd (+ process_mrelease), or a whole cgroup. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

/* RSS from status (no mmap_lock) and, if asked, that the pid was not reused. */
static int check_task(struct uoom_ctx *ctx, pid_t pid, uint64_t start, uint64_t *rss)
{
	char path[32], buf[4096];
	struct uoom_proc_stat ps;
	struct uoom_proc_status st;
	ssize_t n;

	if (start) {
		snprintf(path, sizeof(path), "%d/stat", (int)pid);
		n = uoom__read_at(ctx->proc_fd, path, buf, sizeof(buf));
		if (n < 0 || uoom__parse_proc_stat(buf, (size_t)n, &ps) ||
		    ps.start_time != start)
			return -ESRCH;
	}
	snprintf(path, sizeof(path), "%d/status", (int)pid);
	n = uoom__read_at(ctx->proc_fd, path, buf, sizeof(buf));
	*rss = n > 0 && !uoom__parse_proc_status(buf, (size_t)n, &st) ? st.rss : 0;
	return 0;
}

static int signal_wait(struct uoom_ctx *ctx, int pidfd, pid_t pid,
		       unsigned int timeout_ms, struct uoom_kill_result *res, bool own);

static int kill_task(struct uoom_ctx *ctx, pid_t pid, uint64_t start,
		     unsigned int timeout_ms, struct uoom_kill_result *res)
{
	int pidfd, ret;

	memset(res, 0, sizeof(*res));
	res->pid = pid;
	if (pid <= 1 || pid == ctx->self)
		return ctx_err(ctx, -EPERM, "refusing to kill pid %d", (int)pid);
	pidfd = uoom__pidfd_open(pid);
	if (pidfd < 0)
		return ctx_err(ctx, pidfd, "pidfd_open(%d)", (int)pid);
	/* the pidfd pins the process: check it is still the one we chose */
	ret = check_task(ctx, pid, start, &res->freed);
	if (ret) {
		close(pidfd);
		return ctx_err(ctx, ret, "pid %d was reused", (int)pid);
	}
	return signal_wait(ctx, pidfd, pid, timeout_ms, res, true);
}

/* SIGKILL through @pidfd, reap, wait; closes @pidfd if @own. */
static int signal_wait(struct uoom_ctx *ctx, int pidfd, pid_t pid,
		       unsigned int timeout_ms, struct uoom_kill_result *res, bool own)
{
	uint64_t t0;
	int ret;

	t0 = uoom__now_ns(CLOCK_MONOTONIC);
	ret = uoom__pidfd_send_signal(pidfd, SIGKILL);
	if (ret) {
		if (own)
			close(pidfd);
		return ctx_err(ctx, ret, "pidfd_send_signal(%d, SIGKILL)", (int)pid);
	}
	res->signalled = 1;
	/* reap the address space now instead of at the victim's exit */
	res->mrelease_err = uoom__process_mrelease(pidfd);
	ret = uoom__pidfd_wait(pidfd, timeout_ms);
	res->elapsed_ns = uoom__now_ns(CLOCK_MONOTONIC) - t0;
	if (own)
		close(pidfd);
	if (ret < 0)
		return ctx_err(ctx, ret, "waiting for pid %d", (int)pid);
	res->exited = ret;
	if (!ret)
		return ctx_err(ctx, -ETIMEDOUT, "pid %d did not exit within %u ms",
			       (int)pid, timeout_ms);
	return 0;
}

UOOM_API int uoom_kill(struct uoom_ctx *ctx, const struct uoom_victim *v,
		       unsigned int timeout_ms, struct uoom_kill_result *res)
{
	struct uoom_kill_result tmp;

	if (!ctx || !v || !v->task)
		return -EINVAL;
	/* a task of a cached snapshot whose pidfd was opened when idle: no
	 * /proc lookup (which allocates inodes) during the episode */
	for (unsigned int i = 0; i < ctx->p.max_watches; i++) {
		struct uoom_watch *w = &ctx->watches[i];
		size_t k;

		if (!w->used || !w->cvalid || v->task < w->ctasks ||
		    v->task >= w->ctasks + w->csnap.ntasks)
			continue;
		k = (size_t)(v->task - w->ctasks);
		if (k >= UOOM_CACHE_PIDFDS || w->cpidfd[k] < 0 ||
		    v->task->pid <= 1 || v->task->pid == ctx->self)
			break;
		res = res ? res : &tmp;
		memset(res, 0, sizeof(*res));
		res->pid = v->task->pid;
		res->freed = v->task->rss;	/* as of the snapshot */
		return signal_wait(ctx, w->cpidfd[k], v->task->pid, timeout_ms, res, false);
	}
	return kill_task(ctx, v->task->pid, v->task->start_time, timeout_ms,
			 res ? res : &tmp);
}

UOOM_API int uoom_kill_pid(struct uoom_ctx *ctx, pid_t pid, unsigned int timeout_ms,
			   struct uoom_kill_result *res)
{
	struct uoom_kill_result tmp;

	if (!ctx)
		return -EINVAL;
	return kill_task(ctx, pid, 0, timeout_ms, res ? res : &tmp);
}

UOOM_API int uoom_kill_cgroup(struct uoom_ctx *ctx, const char *cgroup)
{
	char norm[UOOM_CGROUP_PATH_MAX];
	int fd, ret;

	if (!ctx || !cgroup)
		return -EINVAL;
	fd = uoom__open_cgroup(ctx, cgroup, norm, 0);
	if (fd < 0)
		return ctx_err(ctx, fd, "cgroup %s", cgroup);
	if (!strcmp(norm, "/")) {
		close(fd);
		return ctx_err(ctx, -EPERM, "refusing to kill the root cgroup");
	}
	ret = uoom__write_at(fd, "cgroup.kill", "1\n", 2);
	close(fd);
	if (ret)
		return ctx_err(ctx, ret, "%s/cgroup.kill", norm);
	return 0;
}
