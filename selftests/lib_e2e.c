// SPDX-License-Identifier: GPL-2.0
/*
 * libuoom end to end, in the VM: a handler built on the library resolves a
 * memcg OOM before the kernel OOM killer (kernel backend: log a snapshot,
 * kill the largest task; or throttle: grant headroom), and on the events
 * backend (the patches unused) acts on pressure before the kernel would.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "oomh_helpers.h"
#include "uoom.h"

#define MB (1024 * 1024)

struct e2e {
	int log_fd;
	int killed;
	int throttled;
	int events;
	int err;
	long long wake_to_kill_us;
	enum { ACT_KILL, ACT_THROTTLE } act;
};

static int handler(struct uoom_watch *w, const struct uoom_event *ev, void *data)
{
	struct e2e *e = data;
	const struct uoom_snapshot *snap;
	struct uoom_kill_result res;
	struct uoom_policy pol;
	struct uoom_victim v;
	struct timespec ts;

	if (ev->kind == UOOM_EV_REMOVED)
		return 0;
	e->events++;
	if (e->act == ACT_THROTTLE) {
		e->err = uoom_throttle(w, NULL, 256ull * MB, 0);
		e->throttled += !e->err;
		return 0;
	}
	e->err = uoom_snapshot_take(w, &snap);
	if (e->err)
		return 0;
	uoom_policy_init(&pol);
	e->err = uoom_pick_victim(snap, &pol, &v);
	if (e->err)
		return 0;
	e->err = uoom_kill(uoom_watch_ctx(w), &v, 2000, &res);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	e->killed += res.signalled;
	e->wake_to_kill_us = ((long long)ts.tv_sec * 1000000000LL + ts.tv_nsec -
			      (long long)ev->time_ns - (long long)res.elapsed_ns) / 1000;
	return 0;
}

FIXTURE(lib) {
	char cg[256];
	char log[64];
	struct uoom_ctx *ctx;
	struct uoom_watch *w;
	struct e2e e;
};

FIXTURE_SETUP(lib)
{
	struct uoom_params p;
	char err[256] = "";

	ASSERT_EQ(0, cg_create("uoom_lib", self->cg, sizeof(self->cg)));
	ASSERT_LT(0, cg_write(self->cg, "memory.swap.max", "0"));
	memset(&self->e, 0, sizeof(self->e));
	strcpy(self->log, "/tmp/uoom-lib-e2e.log");
	self->e.log_fd = open(self->log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	ASSERT_LE(0, self->e.log_fd);
	uoom_params_init(&p);
	p.flags = UOOM_F_MLOCKALL;
	p.errbuf = err;
	p.errbuf_len = sizeof(err);
	ASSERT_EQ(0, uoom_ctx_new(&p, &self->ctx)) TH_LOG("%s", err);
}

FIXTURE_TEARDOWN(lib)
{
	uoom_ctx_free(self->ctx);
	close(self->e.log_fd);
	cg_destroy(self->cg);
}

static int add_watch(FIXTURE_DATA(lib) *self, unsigned int backend)
{
	struct uoom_watch_opts o;

	uoom_watch_opts_init(&o);
	o.cgroup = "uoom_lib";
	o.handler = handler;
	o.data = &self->e;
	o.backends = UOOM_BACKEND_MASK(backend);
	o.delay_ms = 10000;
	o.snapshot = UOOM_SNAP_ALL;
	o.log_fd = self->e.log_fd;
	o.log_format = UOOM_FMT_JSON;
	return uoom_watch_add(self->ctx, &o, &self->w);
}

/* Dispatch until the hog is gone or ms pass; returns the hog's status. */
static int run_until_exit(struct uoom_ctx *ctx, pid_t hog, int ms)
{
	long long end = now_ms() + ms;
	int status;

	while (now_ms() < end) {
		uoom_dispatch(ctx, 50);
		if (waitpid(hog, &status, WNOHANG) == hog)
			return WIFSIGNALED(status) ? 128 + WTERMSIG(status) :
						    WEXITSTATUS(status);
	}
	kill(hog, SIGKILL);
	return -1;
}

/* A line of /proc/self/status, e.g. "VmRSS:", in kB. */
static long status_kb(const char *key)
{
	char buf[4096], *p;
	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);

	close(fd);
	buf[n > 0 ? n : 0] = 0;
	p = strstr(buf, key);
	return p ? atol(p + strlen(key)) : -1;
}

/* Every line of the log is one whole JSON object. */
static int log_records(const char *path, int *bad)
{
	char buf[1 << 16], *line, *save = NULL;
	int fd = open(path, O_RDONLY), n, records = 0;

	*bad = 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		records++;
		if (line[0] != '{' || line[strlen(line) - 1] != '}')
			(*bad)++;
	}
	return records;
}

TEST_F(lib, kernel_backend_logs_and_kills_before_the_kernel)
{
	int bad, records;
	pid_t hog;

	ASSERT_LT(0, cg_write(self->cg, "memory.max", "32M"));
	ASSERT_EQ(0, add_watch(self, UOOM_BACKEND_KERNEL)) TH_LOG("%s", self->w ? uoom_watch_reason(self->w) : "no watch");
	EXPECT_EQ((int)UOOM_BACKEND_KERNEL, (int)uoom_watch_backend(self->w));
	hog = cg_spawn(self->cg, alloc_anon, (void *)(uintptr_t)(128 * MB));
	EXPECT_EQ(128 + SIGKILL, run_until_exit(self->ctx, hog, 20000));
	EXPECT_EQ(1, self->e.killed) TH_LOG("handler error %d: %s", self->e.err,
					    uoom_watch_error(self->w));
	TH_LOG("eventfd wake-up to SIGKILL: %lld us", self->e.wake_to_kill_us);
	TH_LOG("handler VmRSS %ld kB (VmLck %ld kB)", status_kb("VmRSS:"), status_kb("VmLck:"));
	EXPECT_EQ(0, cg_read_key(self->cg, "memory.events", "oom_kill"));
	EXPECT_EQ(1, oomh_stat_wait(self->cg, "oom_resolved", 1, 2000));
	records = log_records(self->log, &bad);
	TH_LOG("%d log records", records);
	EXPECT_LE(3, records);
	EXPECT_EQ(0, bad);
}

TEST_F(lib, kernel_backend_throttle_resolves_without_kill)
{
	pid_t hog;

	self->e.act = ACT_THROTTLE;
	ASSERT_LT(0, cg_write(self->cg, "memory.max", "32M"));
	ASSERT_EQ(0, add_watch(self, UOOM_BACKEND_KERNEL));
	hog = cg_spawn(self->cg, alloc_anon, (void *)(uintptr_t)(64 * MB));
	EXPECT_EQ(0, run_until_exit(self->ctx, hog, 20000));
	EXPECT_LE(1, self->e.throttled) TH_LOG("throttle error %d", self->e.err);
	EXPECT_EQ(0, cg_read_key(self->cg, "memory.events", "oom_kill"));
	EXPECT_EQ(1, oomh_stat(self->cg, "oom_resolved"));
}

TEST_F(lib, events_backend_acts_on_pressure)
{
	pid_t hog;

	/* memory.high throttles the hog (pressure) well below memory.max. */
	ASSERT_LT(0, cg_write(self->cg, "memory.high", "24M"));
	ASSERT_LT(0, cg_write(self->cg, "memory.max", "64M"));
	ASSERT_EQ(0, add_watch(self, UOOM_BACKEND_EVENTS)) TH_LOG("%s", self->w ? uoom_watch_reason(self->w) : "no watch");
	EXPECT_EQ((int)UOOM_BACKEND_EVENTS, (int)uoom_watch_backend(self->w));
	hog = cg_spawn(self->cg, alloc_anon, (void *)(uintptr_t)(48 * MB));
	EXPECT_EQ(128 + SIGKILL, run_until_exit(self->ctx, hog, 60000));
	EXPECT_LE(1, self->e.killed) TH_LOG("handler error %d: %s", self->e.err,
					    uoom_watch_error(self->w));
	EXPECT_EQ(0, cg_read_key(self->cg, "memory.events", "oom_kill"));
}

TEST_HARNESS_MAIN
