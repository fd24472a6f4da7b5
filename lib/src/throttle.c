/* SPDX-License-Identifier: MIT */
/*
 * Throttle: grant headroom (memory.max += grant), set memory.high, or
 * freeze; the original values are kept in the watch for the undo.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

/* Open (or reuse) the throttle target <watch cgroup>/<sub>. */
static int target(struct uoom_watch *w, const char *sub)
{
	char rel[UOOM_CGROUP_PATH_MAX], norm[UOOM_CGROUP_PATH_MAX];
	int n, fd;

	n = snprintf(rel, sizeof(rel), "%s/%s", w->cgroup, sub ? sub : "");
	if (n < 0 || (size_t)n >= sizeof(rel))
		return watch_err(w, -ENAMETOOLONG, "throttle target %s/%s", w->cgroup, sub);
	fd = uoom__open_cgroup(w->ctx, rel, norm, 0);
	if (fd < 0)
		return watch_err(w, fd, "throttle target %s", rel);
	if (w->thr_active) {
		close(fd);
		if (strcmp(norm, w->thr_sub))
			return watch_err(w, -EBUSY, "%s is throttled: undo it first", w->thr_sub);
		return 0;
	}
	w->thr_dirfd = fd;
	strcpy(w->thr_sub, norm);
	w->thr_active = true;
	return 0;
}

/* Read a one-value file, keeping its text (for the undo) and its value. */
static int read_value(struct uoom_watch *w, const char *name, char *save, bool *saved,
		      uint64_t *v)
{
	char buf[UOOM_VALUE_LEN];
	ssize_t n = uoom__read_at(w->thr_dirfd, name, buf, sizeof(buf) - 1);
	int ret;

	if (n < 0)
		return watch_err(w, (int)n, "%s/%s", w->thr_sub, name);
	buf[n] = '\0';
	ret = uoom__parse_max(buf, (size_t)n, v);
	if (ret)
		return watch_err(w, ret, "%s/%s: \"%s\"", w->thr_sub, name, buf);
	if (!*saved) {
		while (n && buf[n - 1] == '\n')
			buf[--n] = '\0';
		memcpy(save, buf, (size_t)n + 1);
		*saved = true;
	}
	return 0;
}

static int write_value(struct uoom_watch *w, const char *name, uint64_t v)
{
	char buf[UOOM_VALUE_LEN];
	int n = v == UINT64_MAX ? snprintf(buf, sizeof(buf), "max\n") :
		snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)v);
	int ret = uoom__write_at(w->thr_dirfd, name, buf, (size_t)n);

	if (ret == -EACCES || ret == -EPERM)
		return watch_err(w, ret, "%s/%s is not writable", w->thr_sub, name);
	if (ret)
		return watch_err(w, ret, "writing %s/%s", w->thr_sub, name);
	return 0;
}

UOOM_API int uoom_throttle(struct uoom_watch *w, const char *sub, uint64_t grant,
			   uint64_t high)
{
	uint64_t cur;
	int ret;

	if (!w || !w->used || (!grant && !high))
		return -EINVAL;
	ret = target(w, sub);
	if (ret)
		return ret;
	if (grant) {
		ret = read_value(w, "memory.max", w->thr_max, &w->thr_max_set, &cur);
		if (ret)
			return ret;
		/* "max" has no limit to raise */
		if (cur != UINT64_MAX) {
			ret = write_value(w, "memory.max",
					  cur > UINT64_MAX - 1 - grant ? UINT64_MAX : cur + grant);
			if (ret)
				return ret;
		}
	}
	if (high) {
		ret = read_value(w, "memory.high", w->thr_high, &w->thr_high_set, &cur);
		if (ret)
			return ret;
		ret = write_value(w, "memory.high", high);
	}
	return ret;
}

UOOM_API int uoom_freeze(struct uoom_watch *w, const char *sub)
{
	uint64_t cur;
	int ret;

	if (!w || !w->used)
		return -EINVAL;
	ret = target(w, sub);
	if (ret)
		return ret;
	ret = read_value(w, "cgroup.freeze", w->thr_freeze, &w->thr_freeze_set, &cur);
	if (ret)
		return ret;
	return write_value(w, "cgroup.freeze", 1);
}

static int restore(struct uoom_watch *w, const char *name, char *val, bool *set)
{
	char buf[UOOM_VALUE_LEN + 1];
	size_t n;
	int ret;

	if (!*set)
		return 0;
	n = strlen(val);
	memcpy(buf, val, n);
	buf[n++] = '\n';
	ret = uoom__write_at(w->thr_dirfd, name, buf, n);
	if (ret)
		return watch_err(w, ret, "restoring %s/%s to %s", w->thr_sub, name, val);
	*set = false;
	return 0;
}

/*
 * May memory.max go back to its saved value now? Writing a memory.max
 * below the usage makes the kernel reclaim and then OOM-kill at once, with
 * no episode for any handler (memory_max_write()): the undo must not be
 * the OOM kill the throttle held off. -EAGAIN while the usage is above it.
 */
static int max_restorable(struct uoom_watch *w)
{
	char buf[UOOM_VALUE_LEN];
	uint64_t orig, cur;
	ssize_t n;

	if (!w->thr_max_set || uoom__parse_max(w->thr_max, strlen(w->thr_max), &orig) ||
	    orig == UINT64_MAX)
		return 0;
	n = uoom__read_at(w->thr_dirfd, "memory.current", buf, sizeof(buf) - 1);
	if (n < 0)
		return watch_err(w, (int)n, "%s/memory.current", w->thr_sub);
	buf[n] = '\0';
	if (uoom__parse_max(buf, (size_t)n, &cur))
		return watch_err(w, -EINVAL, "%s/memory.current: \"%s\"", w->thr_sub, buf);
	if (cur > orig)
		return watch_err(w, -EAGAIN,
				 "%s: memory.current %llu is above the memory.max to restore (%s): the kernel would OOM-kill at once, with no episode; undo again once the usage is under it",
				 w->thr_sub, (unsigned long long)cur, w->thr_max);
	return 0;
}

UOOM_API int uoom_throttle_undo(struct uoom_watch *w)
{
	int ret = 0, r;

	if (!w || !w->thr_active)
		return w ? 0 : -EINVAL;
	/* thaw first, then the limits in reverse order of change */
	r = restore(w, "cgroup.freeze", w->thr_freeze, &w->thr_freeze_set);
	ret = ret ? ret : r;
	r = restore(w, "memory.high", w->thr_high, &w->thr_high_set);
	ret = ret ? ret : r;
	r = max_restorable(w);
	if (!r)
		r = restore(w, "memory.max", w->thr_max, &w->thr_max_set);
	ret = ret ? ret : r;
	if (!ret) {
		close(w->thr_dirfd);
		w->thr_dirfd = -1;
		w->thr_active = false;
		w->thr_sub[0] = '\0';
	}
	return ret;
}
