/* SPDX-License-Identifier: MIT */
/* Warn a process with a signal and give it a bounded grace period. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include "internal.h"

UOOM_API int uoom_warn(struct uoom_ctx *ctx, pid_t pid, int sig, unsigned int grace_ms)
{
	int pidfd, ret;

	if (!ctx || sig < 0 || sig >= NSIG)
		return -EINVAL;
	if (pid <= 1 || pid == ctx->self)
		return ctx_err(ctx, -EPERM, "refusing to signal pid %d", (int)pid);
	pidfd = uoom__pidfd_open(pid);
	if (pidfd < 0)
		return ctx_err(ctx, pidfd, "pidfd_open(%d)", (int)pid);
	ret = uoom__pidfd_send_signal(pidfd, sig);
	if (ret) {
		close(pidfd);
		return ctx_err(ctx, ret, "pidfd_send_signal(%d, %d)", (int)pid, sig);
	}
	ret = grace_ms ? uoom__pidfd_wait(pidfd, grace_ms) : 0;
	close(pidfd);
	if (ret < 0)
		return ctx_err(ctx, ret, "waiting for pid %d", (int)pid);
	return ret;
}
