/* SPDX-License-Identifier: MIT */
/* Kill against real forked children; cgroup.kill against a fixture. */
#define _GNU_SOURCE
#include "fixture.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t child(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		/* touch some memory so there is RSS to report */
		char *volatile p = malloc(4 << 20);

		memset(p, 1, 4 << 20);
		for (;;)
			pause();
	}
	usleep(100 * 1000);
	return pid;
}

static struct uoom_ctx *real_proc_ctx(struct fx *f)
{
	struct uoom_params p;
	struct uoom_ctx *ctx;

	uoom_params_init(&p);
	p.cgroup_root = f->cg;
	p.refresh_ms = 0;
	assert_int_equal(uoom_ctx_new(&p, &ctx), 0);
	return ctx;
}

static void kill_pid(void **state)
{
	struct uoom_kill_result r;
	struct uoom_ctx *ctx;
	struct fx f;
	pid_t pid;
	int status;

	(void)state;
	fx_init(&f);
	ctx = real_proc_ctx(&f);
	pid = child();
	assert_int_equal(uoom_kill_pid(ctx, pid, 5000, &r), 0);
	assert_int_equal(r.pid, pid);
	assert_true(r.signalled);
	assert_true(r.exited);
	assert_true(r.freed >= 4 << 20);
	assert_true(r.elapsed_ns < 5000000000ull);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* gone now */
	assert_int_equal(uoom_kill_pid(ctx, pid, 100, &r), -ESRCH);
	/* never ourselves, never init */
	assert_int_equal(uoom_kill_pid(ctx, getpid(), 100, &r), -EPERM);
	assert_int_equal(uoom_kill_pid(ctx, 1, 100, &r), -EPERM);
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

static void kill_victim_checks_start_time(void **state)
{
	struct uoom_kill_result r;
	struct uoom_task t = { 0 };
	struct uoom_victim v = { .task = &t };
	struct uoom_ctx *ctx;
	struct fx f;
	pid_t pid;
	int status;

	(void)state;
	fx_init(&f);
	ctx = real_proc_ctx(&f);
	pid = child();
	t.pid = pid;
	t.start_time = 1;	/* not this process: a reused pid */
	assert_int_equal(uoom_kill(ctx, &v, 1000, &r), -ESRCH);
	assert_int_equal(waitpid(pid, &status, WNOHANG), 0);	/* still alive */
	{
		char path[64], buf[1024];
		unsigned long long st = 0;
		char *p;

		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		fx_read("", path, buf, sizeof(buf));
		p = strrchr(buf, ')');
		/* field 22 */
		for (int i = 0; i < 20; i++)
			p = strchr(p + 1, ' ');
		st = strtoull(p + 1, NULL, 10);
		t.start_time = st;
	}
	assert_int_equal(uoom_kill(ctx, &v, 5000, &r), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(uoom_kill(ctx, NULL, 0, &r), -EINVAL);
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

static void kill_timeout(void **state)
{
	struct uoom_kill_result r;
	struct uoom_ctx *ctx;
	struct fx f;
	pid_t pid;
	int status;

	(void)state;
	fx_init(&f);
	ctx = real_proc_ctx(&f);
	pid = child();
	/* stop it: SIGKILL still works, so a tiny timeout either sees the exit
	 * or reports ETIMEDOUT with the result filled in */
	int ret = uoom_kill_pid(ctx, pid, 0, &r);

	assert_true(ret == 0 || ret == -ETIMEDOUT);
	assert_true(r.signalled);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

static void kill_cgroup(void **state)
{
	struct uoom_ctx *ctx;
	struct fx f;
	char buf[16];

	(void)state;
	fx_init(&f);
	fx_cgroup_v2(&f, "job/leaf");
	ctx = fx_ctx(&f, 0);
	assert_int_equal(uoom_kill_cgroup(ctx, "/job/leaf"), 0);
	fx_read(f.cg, "job/leaf/cgroup.kill", buf, sizeof(buf));
	assert_string_equal(buf, "1\n");
	assert_int_equal(uoom_kill_cgroup(ctx, "/"), -EPERM);
	assert_int_equal(uoom_kill_cgroup(ctx, "job/nope"), -ENOENT);
	assert_non_null(strstr(uoom_ctx_error(ctx), "job/nope"));
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

static int nop(struct uoom_watch *w, const struct uoom_event *ev, void *d)
{
	(void)w, (void)ev, (void)d;
	return 0;
}

/*
 * A victim from a cached (UOOM_SNAP_CACHED) snapshot is killed through the
 * pidfd opened when the snapshot was taken: no /proc lookup during the
 * episode (the fixture's /proc entry is removed first, which makes the
 * ordinary path fail), and a task that exited since gives -ESRCH.
 */
static void kill_cached_victim(void **state)
{
	const struct uoom_snapshot *s;
	struct uoom_watch_opts o;
	struct uoom_kill_result r;
	struct uoom_victim v;
	struct uoom_policy pol;
	struct uoom_watch *w;
	struct uoom_ctx *ctx;
	struct fx f;
	pid_t a, b;
	int status;
	char cmd[700];

	(void)state;
	fx_init(&f);
	fx_cgroup_kernel(&f, "job");
	a = child();
	b = child();
	fx_task(&f, "job", a, "big", 8192, 0, NULL);
	fx_task(&f, "job", b, "next", 4096, 0, NULL);
	ctx = fx_ctx(&f, 0);
	uoom_watch_opts_init(&o);
	o.cgroup = "job";
	o.handler = nop;
	o.snapshot = UOOM_SNAP_TASKS | UOOM_SNAP_CACHED;
	assert_int_equal(uoom_watch_add(ctx, &o, &w), 0);
	assert_int_equal(uoom_snapshot_cache(w, &s), 0);
	assert_int_equal(s->ntasks, 2);
	uoom_policy_init(&pol);
	assert_int_equal(uoom_pick_victim(s, &pol, &v), 0);
	assert_int_equal(v.task->pid, a);

	snprintf(cmd, sizeof(cmd), "rm -rf %s/%d %s/%d", f.proc, (int)a, f.proc, (int)b);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(uoom_kill(ctx, &v, 5000, &r), 0);
	assert_int_equal(r.pid, a);
	assert_true(r.signalled && r.exited);
	assert_int_equal(r.freed, 8192 * 1024);	/* as of the snapshot */
	assert_int_equal(waitpid(a, &status, 0), a);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	/* the next one exited since the snapshot: -ESRCH, nothing signalled */
	v.task = &s->tasks[1];
	assert_int_equal(v.task->pid, b);
	kill(b, SIGKILL);
	assert_int_equal(waitpid(b, &status, 0), b);
	assert_int_equal(uoom_kill(ctx, &v, 1000, &r), -ESRCH);
	assert_false(r.signalled);
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kill_pid),
		cmocka_unit_test(kill_victim_checks_start_time),
		cmocka_unit_test(kill_timeout),
		cmocka_unit_test(kill_cgroup),
		cmocka_unit_test(kill_cached_victim),
	};

	return cmocka_run_group_tests_name("kill", tests, NULL, NULL);
}
