/* SPDX-License-Identifier: MIT */
/* Warn: a signal, then a bounded grace period on the pidfd. */
#define _GNU_SOURCE
#include "fixture.h"
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void on_usr1(int sig)
{
	(void)sig;
	_exit(7);	/* "state saved" */
}

static pid_t child(bool cooperative)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGUSR1, cooperative ? on_usr1 : SIG_IGN);
		for (;;)
			pause();
	}
	usleep(100 * 1000);
	return pid;
}

static struct uoom_ctx *ctx_new(void)
{
	struct uoom_ctx *ctx;

	assert_int_equal(uoom_ctx_new(NULL, &ctx), 0);
	return ctx;
}

static void warn_cooperative(void **state)
{
	struct uoom_ctx *ctx = ctx_new();
	pid_t pid = child(true);
	int status;

	(void)state;
	assert_int_equal(uoom_warn(ctx, pid, SIGUSR1, 5000), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 7);
	uoom_ctx_free(ctx);
}

static void warn_grace_expires(void **state)
{
	struct uoom_ctx *ctx = ctx_new();
	pid_t pid = child(false);
	struct timespec a, b;
	struct uoom_kill_result r;
	int status;
	long ms;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(uoom_warn(ctx, pid, SIGUSR1, 200), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	assert_true(ms >= 190 && ms < 2000);
	/* then the kill */
	assert_int_equal(uoom_kill_pid(ctx, pid, 5000, &r), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	uoom_ctx_free(ctx);
}

static void warn_errors(void **state)
{
	struct uoom_ctx *ctx = ctx_new();
	pid_t pid = child(false);
	int status;

	(void)state;
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(uoom_warn(ctx, pid, SIGUSR1, 10), -ESRCH);
	assert_int_equal(uoom_warn(ctx, getpid(), SIGUSR1, 10), -EPERM);
	assert_int_equal(uoom_warn(ctx, 1234, -1, 10), -EINVAL);
	assert_int_equal(uoom_warn(NULL, 1234, SIGUSR1, 10), -EINVAL);
	uoom_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(warn_cooperative),
		cmocka_unit_test(warn_grace_expires),
		cmocka_unit_test(warn_errors),
	};

	return cmocka_run_group_tests_name("warn", tests, NULL, NULL);
}
