// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_helpers.h"

int cg_create(const char *name, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", CG_ROOT, name);
	cg_destroy(path);
	if (mkdir(path, 0755))
		return -errno;
	return 0;
}

int cg_destroy(const char *path)
{
	char sub[512];
	struct dirent *de;
	DIR *d;
	int i;

	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		cg_destroy(sub);
	}
	closedir(d);
	for (i = 0; i < 500; i++) {
		cg_write(path, "cgroup.kill", "1");
		if (!rmdir(path) || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -errno;
		usleep(10000);
	}
	return -EBUSY;
}

int cg_write(const char *path, const char *file, const char *val)
{
	char p[512];
	ssize_t n;
	int fd, err;

	snprintf(p, sizeof(p), "%s/%s", path, file);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	err = errno;
	close(fd);
	return n < 0 ? -err : (int)n;
}

int cg_read(const char *path, const char *file, char *buf, size_t len)
{
	char p[512];
	ssize_t n;
	int fd, err;

	snprintf(p, sizeof(p), "%s/%s", path, file);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	return (int)n;
}

long long cg_read_key(const char *path, const char *file, const char *key)
{
	char buf[4096], *line, *save = NULL;
	size_t klen = strlen(key);
	int n;

	n = cg_read(path, file, buf, sizeof(buf));
	if (n < 0)
		return n;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, key, klen) && line[klen] == ' ')
			return strtoll(line + klen + 1, NULL, 10);
	}
	return -ENOENT;
}

long long cg_read_num(const char *path, const char *file)
{
	char buf[64];
	int n;

	n = cg_read(path, file, buf, sizeof(buf));
	if (n < 0)
		return n;
	if (!strncmp(buf, "max", 3))
		return -1;
	return strtoll(buf, NULL, 10);
}

int cg_enter(const char *path, pid_t pid)
{
	char v[32];
	int n;

	snprintf(v, sizeof(v), "%d", pid);
	n = cg_write(path, "cgroup.procs", v);
	return n < 0 ? n : 0;
}

int cg_nr_procs(const char *path)
{
	char buf[4096];
	int n, i, lines = 0;

	n = cg_read(path, "cgroup.procs", buf, sizeof(buf));
	if (n < 0)
		return n;
	for (i = 0; i < n; i++)
		lines += buf[i] == '\n';
	return lines;
}

pid_t cg_spawn(const char *path, int (*fn)(void *arg), void *arg)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	if (cg_enter(path, getpid()))
		_exit(126);
	_exit(fn(arg));
}

int cg_wait(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int alloc_anon_and_keep(size_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	volatile char *p;
	size_t i;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	for (i = 0; i < size; i += page)
		p[i] = 1;
	return 0;
}

int alloc_anon(void *size_bytes)
{
	/* The mapping goes with the process: callers exit right after. */
	return alloc_anon_and_keep((size_t)(uintptr_t)size_bytes);
}

int alloc_anon_and_hold(void *size_bytes)
{
	if (alloc_anon_and_keep((size_t)(uintptr_t)size_bytes))
		return 1;
	for (;;)
		pause();
}

long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}
