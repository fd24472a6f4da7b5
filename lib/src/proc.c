/* SPDX-License-Identifier: MIT */
/*
 * Per-task facts from /proc/PID/{stat,status,oom_score_adj} (safe during an
 * OOM: none takes the task's mmap_lock) and the cmdline cache, filled only
 * outside OOM handling by uoom_refresh().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/sysinfo.h>
#include "internal.h"

#define CMD_PROBE 16

int uoom__read_task(struct uoom_ctx *ctx, pid_t pid, struct uoom_task *t)
{
	char path[32], buf[4096];
	struct uoom_proc_stat ps;
	struct uoom_proc_status st;
	ssize_t n;
	int ret, adj = 0;

	snprintf(path, sizeof(path), "%d/stat", (int)pid);
	n = uoom__read_at(ctx->proc_fd, path, buf, sizeof(buf));
	if (n < 0)
		return n == -ENOENT ? -ESRCH : (int)n;
	ret = uoom__parse_proc_stat(buf, (size_t)n, &ps);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%d/status", (int)pid);
	n = uoom__read_at(ctx->proc_fd, path, buf, sizeof(buf));
	if (n < 0)
		return n == -ENOENT ? -ESRCH : (int)n;
	ret = uoom__parse_proc_status(buf, (size_t)n, &st);
	if (ret)
		return ret;
	if (!st.has_rss)
		return -ENODATA;	/* kernel thread or zombie */
	snprintf(path, sizeof(path), "%d/oom_score_adj", (int)pid);
	n = uoom__read_at(ctx->proc_fd, path, buf, sizeof(buf));
	if (n > 0 && uoom__parse_int(buf, (size_t)n, &adj))
		adj = 0;

	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->uid = st.uid;
	t->oom_score_adj = adj;
	t->rss = st.rss;
	t->swap = st.swap;
	t->start_time = ps.start_time;
	memcpy(t->comm, ps.comm, sizeof(t->comm));
	if (pid == ctx->self)
		t->flags |= UOOM_TASK_SELF;
	if (adj <= -1000)
		t->flags |= UOOM_TASK_UNKILLABLE;
	t->cmdline = uoom__cmd_lookup(ctx, pid, ps.start_time);
	return 0;
}

/*
 * Call @cb for each pid of the cgroup.procs text @buf. @full: the read
 * filled the buffer, so a last line without its newline may be a pid cut
 * short ("123" of "12345", someone else's pid) and is dropped. Returns 1
 * when a line was dropped, 0, or @cb's error.
 */
int uoom__parse_pids(struct uoom_ctx *ctx, const char *buf, size_t len, bool full,
		     int (*cb)(struct uoom_ctx *, pid_t, void *), void *arg)
{
	const char *s = buf, *end = buf + len;
	int cut = 0;

	if (full && len && buf[len - 1] != '\n') {
		const char *nl = memrchr(buf, '\n', len);

		end = nl ? nl + 1 : buf;
		cut = 1;
	}
	while (s < end) {
		uint64_t v;

		if (uoom__parse_u64(&s, end, &v) == 0 && v && v <= INT32_MAX) {
			int ret = cb(ctx, (pid_t)v, arg);

			if (ret)
				return ret;
		}
		while (s < end && *s++ != '\n')
			;
	}
	return cut;
}

/* Call @cb for each pid in the cgroup.procs of the open cgroup @cgfd;
 * 1 if it did not fit the read buffer (some pids were not seen). */
int uoom__for_each_pid(struct uoom_ctx *ctx, int cgfd,
		       int (*cb)(struct uoom_ctx *, pid_t, void *), void *arg)
{
	ssize_t n = uoom__read_at(cgfd, "cgroup.procs", ctx->rbuf, ctx->rcap);

	if (n < 0)
		return (int)n;
	return uoom__parse_pids(ctx, ctx->rbuf, (size_t)n, (size_t)n == ctx->rcap,
				cb, arg);
}

static struct uoom_cmd_entry *cmd_find(struct uoom_ctx *ctx, pid_t pid, uint64_t start)
{
	if (!ctx->ncmds)
		return NULL;
	for (unsigned int i = 0; i < CMD_PROBE && i < ctx->ncmds; i++) {
		struct uoom_cmd_entry *e = &ctx->cmds[((unsigned int)pid + i) % ctx->ncmds];

		if (e->pid == pid && e->start_time == start)
			return e;
	}
	return NULL;
}

const char *uoom__cmd_lookup(struct uoom_ctx *ctx, pid_t pid, uint64_t start)
{
	struct uoom_cmd_entry *e = cmd_find(ctx, pid, start);

	return e ? e->cmd : "";
}

static void cmd_insert(struct uoom_ctx *ctx, const struct uoom_task *t)
{
	struct uoom_cmd_entry *e = cmd_find(ctx, t->pid, t->start_time), *victim = NULL;
	char path[32], buf[UOOM_CMDLINE_LEN];
	ssize_t n;

	if (e) {
		e->seen = ctx->cmd_gen;
		return;
	}
	if (!ctx->ncmds)
		return;
	for (unsigned int i = 0; i < CMD_PROBE && i < ctx->ncmds; i++) {
		e = &ctx->cmds[((unsigned int)t->pid + i) % ctx->ncmds];
		if (!e->pid) {
			victim = e;
			break;
		}
		if (!victim || e->seen < victim->seen)
			victim = e;
	}
	snprintf(path, sizeof(path), "%d/cmdline", (int)t->pid);
	n = uoom__read_at(ctx->proc_fd, path, buf, sizeof(buf) - 1);
	if (n < 0)
		return;
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	victim->pid = t->pid;
	victim->start_time = t->start_time;
	victim->seen = ctx->cmd_gen;
	memcpy(victim->cmd, buf, (size_t)n + 1);
}

/* Under this much free RAM, uoom_refresh() reads nothing. */
#define UOOM_REFRESH_MIN_FREE (32ull << 20)

UOOM_API int uoom_refresh(struct uoom_ctx *ctx)
{
	struct sysinfo si;
	int count = 0;

	if (!ctx)
		return -EINVAL;
	if (ctx->in_dispatch)
		return -EBUSY;	/* never from a handler */
	/*
	 * Reading /proc allocates (dentries, inodes): near a system OOM keep
	 * the last snapshot. A root handler's own first OOM starts the
	 * episode and takes from the root reserve (series patch 5), but a
	 * refresh would spend the reserve the handler needs, and with none
	 * the kernel kills at once (seen before patch 5: "uoomd invoked
	 * oom-killer ... __GFP_RECLAIMABLE" in uoomd_e2e's system OOM).
	 */
	if (!sysinfo(&si) && (uint64_t)si.freeram * si.mem_unit < UOOM_REFRESH_MIN_FREE)
		return -EAGAIN;
	ctx->cmd_gen++;
	for (unsigned int i = 0; i < ctx->p.max_watches; i++) {
		struct uoom_watch *w = &ctx->watches[i];
		const struct uoom_snapshot *s;

		if (!w->used || uoom_snapshot_take(w, &s) < 0)
			continue;
		for (size_t j = 0; j < s->ntasks; j++, count++)
			cmd_insert(ctx, &s->tasks[j]);
	}
	/* forget processes no watch has seen this round */
	for (unsigned int i = 0; i < ctx->ncmds; i++)
		if (ctx->cmds[i].pid && ctx->cmds[i].seen != ctx->cmd_gen)
			ctx->cmds[i].pid = 0;
	ctx->snap.ntasks = 0;	/* its cmdline pointers may have moved */
	ctx->last_refresh_ns = uoom__now_ns(CLOCK_MONOTONIC);
	return count;
}
