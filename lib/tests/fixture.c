/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "fixture.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * cmocka's TAP goes to a file under make check: line-buffer it, so that a
 * test that crashes leaves the lines of the tests before it (the plan then
 * names where the binary stopped) and a forked child has nothing to reprint.
 */
__attribute__((constructor)) static void fx_line_buffered(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

static void mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	}
	mkdir(path, 0755);
}

void fx_write(const char *dir, const char *rel, const char *fmt, ...)
{
	char path[1024], *slash;
	va_list ap;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	mkdirs(path);
	*slash = '/';
	fp = fopen(path, "w");
	assert_non_null(fp);
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	fclose(fp);
}

size_t fx_read(const char *dir, const char *rel, char *buf, size_t cap)
{
	char path[1024];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		buf[0] = '\0';
		return 0;
	}
	n = read(fd, buf, cap - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return n < 0 ? 0 : (size_t)n;
}

void fx_init(struct fx *f)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(f->root, sizeof(f->root), "%s/uoom-test-XXXXXX", tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->root));
	chmod(f->root, 0755);
	snprintf(f->proc, sizeof(f->proc), "%s/proc", f->root);
	snprintf(f->cg, sizeof(f->cg), "%s/cg", f->root);
	mkdir(f->proc, 0755);
	mkdir(f->cg, 0755);
	fx_write(f->proc, "vmstat", "nr_free_pages 1000\nnr_anon_pages 2000\noom_kill 3\n");
	fx_write(f->proc, "meminfo",
		 "MemTotal:        8000000 kB\nMemFree:          100000 kB\n"
		 "MemAvailable:     200000 kB\nHugePages_Total:       0\n");
	fx_write(f->proc, "slabinfo",
		 "slabinfo - version: 2.1\n# name <active_objs> <num_objs>\n"
		 "kmalloc-64 \"q\" 100 128 64 64 1 : tunables 0 0 0\n");
	fx_write(f->proc, "pressure/memory",
		 "some avg10=1.50 avg60=0.25 avg300=0.00 total=12345\n"
		 "full avg10=0.00 avg60=0.00 avg300=0.00 total=100\n");
	fx_write(f->proc, "self/oom_score_adj", "0\n");
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p);
}

void fx_fini(struct fx *f)
{
	nftw(f->root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void cgfile(struct fx *f, const char *cg, const char *name, const char *val)
{
	char rel[512];

	snprintf(rel, sizeof(rel), "%s/%s", cg, name);
	fx_write(f->cg, rel, "%s", val);
}

void fx_cgroup_v2(struct fx *f, const char *cg)
{
	cgfile(f, cg, "cgroup.controllers", "cpu memory pids\n");
	cgfile(f, cg, "cgroup.procs", "");
	cgfile(f, cg, "cgroup.freeze", "0\n");
	cgfile(f, cg, "cgroup.kill", "");
	cgfile(f, cg, "memory.current", "4096000\n");
	cgfile(f, cg, "memory.max", "max\n");
	cgfile(f, cg, "memory.high", "max\n");
	cgfile(f, cg, "memory.stat", "anon 1000\nfile 2000\nkernel 300\n");
	cgfile(f, cg, "memory.events", "low 0\nhigh 1\nmax 2\noom 0\noom_kill 0\noom_group_kill 0\n");
	cgfile(f, cg, "memory.pressure",
	       "some avg10=3.00 avg60=1.00 avg300=0.50 total=999\n"
	       "full avg10=1.00 avg60=0.10 avg300=0.01 total=42\n");
}

void fx_cgroup_kernel(struct fx *f, const char *cg)
{
	fx_cgroup_v2(f, cg);
	cgfile(f, cg, "memory.oom_notify",
	       "handlers 0\nunder_oom 0\noom_episodes 0\noom_resolved 0\n"
	       "oom_fallback 0\nreserve_charged 0\n");
	cgfile(f, cg, "memory.oom_delay_millisecs", "0\n");
	cgfile(f, cg, "memory.oom_reserve_in_bytes", "0\n");
}

void fx_cgroup_v1(struct fx *f, const char *cg)
{
	cgfile(f, cg, "cgroup.procs", "");
	cgfile(f, cg, "cgroup.event_control", "");
	cgfile(f, cg, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
	cgfile(f, cg, "memory.usage_in_bytes", "4096\n");
}

void fx_task(struct fx *f, const char *cg, int pid, const char *comm,
	     unsigned long rss_kb, int adj, const char *cmdline)
{
	char rel[512], procs[4096];
	size_t n;

	snprintf(rel, sizeof(rel), "%d/stat", pid);
	fx_write(f->proc, rel,
		 "%d (%s) S 1 %d %d 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 %d 10000000 %lu 18446744073709551615\n",
		 pid, comm, pid, pid, 1000 + pid, rss_kb / 4);
	snprintf(rel, sizeof(rel), "%d/status", pid);
	fx_write(f->proc, rel,
		 "Name:\t%s\nState:\tS (sleeping)\nPid:\t%d\nUid:\t%d\t%d\t%d\t%d\n"
		 "VmRSS:\t%8lu kB\nVmSwap:\t       4 kB\n",
		 comm, pid, 1000, 1000, 1000, 1000, rss_kb);
	snprintf(rel, sizeof(rel), "%d/oom_score_adj", pid);
	fx_write(f->proc, rel, "%d\n", adj);
	snprintf(rel, sizeof(rel), "%d/cmdline", pid);
	{
		char path[1024];
		FILE *fp;

		snprintf(path, sizeof(path), "%s/%s", f->proc, rel);
		fp = fopen(path, "w");
		assert_non_null(fp);
		/* NUL-separated: spaces in the test string become NULs */
		for (const char *c = cmdline ? cmdline : comm; *c; c++)
			fputc(*c == ' ' ? '\0' : *c, fp);
		fputc('\0', fp);
		fclose(fp);
	}
	snprintf(rel, sizeof(rel), "%s/cgroup.procs", cg);
	n = fx_read(f->cg, rel, procs, sizeof(procs));
	snprintf(procs + n, sizeof(procs) - n, "%d\n", pid);
	fx_write(f->cg, rel, "%s", procs);
}

struct uoom_ctx *fx_ctx(struct fx *f, unsigned int flags)
{
	struct uoom_params p;
	struct uoom_ctx *ctx = NULL;
	char err[256];

	uoom_params_init(&p);
	p.proc_root = f->proc;
	p.cgroup_root = f->cg;
	p.flags = flags;
	p.refresh_ms = 0;
	p.errbuf = err;
	p.errbuf_len = sizeof(err);
	if (uoom_ctx_new(&p, &ctx))
		fail_msg("uoom_ctx_new: %s", err);
	return ctx;
}

int fx_unprivileged(const char *path, int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	chmod(path, 0444);
	if (geteuid() != 0)
		return fn(arg);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(255);
		_exit(-fn(arg) & 0xff);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return -WEXITSTATUS(status);
}

const char *fx_static(const char *name)
{
	static char path[1024];
	const char *dir = getenv("UOOM_FIXTURES");

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/fixtures", name);
	return path;
}
