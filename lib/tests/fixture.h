/* SPDX-License-Identifier: MIT */
/* Fixture procfs/cgroupfs trees built in a temporary directory. */
#ifndef UOOM_TEST_FIXTURE_H
#define UOOM_TEST_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "uoom.h"

struct fx {
	char root[256];		/* temp dir */
	char proc[300];		/* root/proc */
	char cg[300];		/* root/cg */
};

void fx_init(struct fx *f);		/* proc with vmstat, meminfo, ... */
void fx_fini(struct fx *f);
void fx_write(const char *dir, const char *rel, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* returns length, content NUL-terminated */
size_t fx_read(const char *dir, const char *rel, char *buf, size_t cap);
void fx_cgroup_v2(struct fx *f, const char *cg);	/* stock v2 memcg */
void fx_cgroup_kernel(struct fx *f, const char *cg);	/* + uoom files */
void fx_cgroup_v1(struct fx *f, const char *cg);
void fx_task(struct fx *f, const char *cg, int pid, const char *comm,
	     unsigned long rss_kb, int adj, const char *cmdline);
struct uoom_ctx *fx_ctx(struct fx *f, unsigned int flags);
/* Run fn(arg) unprivileged (a child as nobody when root) with @path made
 * read-only; returns fn's result. */
int fx_unprivileged(const char *path, int (*fn)(void *), void *arg);
const char *fx_static(const char *name);	/* path in tests/fixtures */

#endif
