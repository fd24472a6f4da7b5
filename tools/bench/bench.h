/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the make bench programs (run inside the VM): clocks,
 * cgroup files, pidfds and the framed result lines the host aggregates:
 *   bench<TAB>WORKLOAD<TAB>CONTENDER<TAB>RUN<TAB>METRIC<TAB>VALUE
 */
#ifndef UOOM_BENCH_H
#define UOOM_BENCH_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024ull * 1024)

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static inline int pidfd_open(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

static inline int pidfd_kill(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* Write @val to @dir/@file; 0 or -errno. */
static inline int file_put(const char *dir, const char *file, const char *val)
{
	char p[512];
	int fd, err = 0;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* Read @path into @buf (NUL-terminated); length or -errno. */
static inline ssize_t file_get(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = 0;
	close(fd);
	return n;
}

/* The value after "@key " in a flat keyed file; -1 if absent. */
static inline long long key_get(const char *path, const char *key)
{
	char buf[4096], *p;
	size_t kl = strlen(key);

	if (file_get(path, buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, kl) && (p[kl] == ' ' || p[kl] == ':'))
			return strtoll(p + kl + 1, NULL, 10);
	return -1;
}

/* A number from a one-value file (memory.current), or -1. */
static inline long long num_get(const char *path)
{
	char buf[64];

	if (file_get(path, buf, sizeof(buf)) <= 0)
		return -1;
	return strtoll(buf, NULL, 10);
}

static inline void set_oom_adj(int adj)
{
	char v[16];

	snprintf(v, sizeof(v), "%d", adj);
	file_put("/proc/self", "oom_score_adj", v);
}

/* Move the calling process into the cgroup directory @cg. */
static inline int cg_enter(const char *cg)
{
	return file_put(cg, "cgroup.procs", "0");
}

/* One result line; the run is -1 for per-episode series (wake-up). */
static inline void emit(const char *wl, const char *who, int run,
			const char *metric, const char *fmt, ...)
{
	char v[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	printf("bench\t%s\t%s\t%d\t%s\t%s\n", wl, who, run, metric, v);
}

static inline int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The @q quantile (0..1) of @n sorted values, nearest rank. */
static inline uint64_t quantile(const uint64_t *v, size_t n, double q)
{
	size_t i;

	if (!n)
		return 0;
	i = (size_t)(q * (double)n);
	if (i >= n)
		i = n - 1;
	return v[i];
}

#endif
