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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kill_pid),
		cmocka_unit_test(kill_victim_checks_start_time),
		cmocka_unit_test(kill_timeout),
		cmocka_unit_test(kill_cgroup),
	};

	return cmocka_run_group_tests_name("kill", tests, NULL, NULL);
}
