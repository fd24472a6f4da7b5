// SPDX-License-Identifier: GPL-2.0
/*
 * memory.oom_notify, memory.oom_delay_millisecs, memory.oom_reserve_in_bytes:
 * they exist on the root and on child memcgs with their defaults, every bad
 * write fails with its exact errno and leaves the state as it was, and a
 * registration ends when its eventfd is closed, its process exits, or its
 * cgroup is removed.
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "oomh_helpers.h"

FIXTURE(abi) {
	char cg[256];
};

FIXTURE_SETUP(abi)
{
	ASSERT_EQ(0, cg_create("uoom_abi", self->cg, sizeof(self->cg)));
}

FIXTURE_TEARDOWN(abi)
{
	cg_destroy(self->cg);
}

static void expect_defaults(struct __test_metadata *_metadata, const char *cg)
{
	static const char * const keys[] = {
		"handlers", "under_oom", "delay_left_ms", "oom_episodes",
		"oom_resolved", "oom_fallback", "reserve_charged",
	};
	unsigned int i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		long long v = oomh_stat(cg, keys[i]);

		if (v)
			TH_LOG("%s/memory.oom_notify: %s %lld", cg, keys[i], v);
		EXPECT_EQ(0, v);
	}
	EXPECT_EQ(0, cg_read_num(cg, "memory.oom_delay_millisecs"));
	EXPECT_EQ(0, cg_read_num(cg, "memory.oom_reserve_in_bytes"));
}

TEST_F(abi, files_and_defaults_on_child)
{
	expect_defaults(_metadata, self->cg);
}

/*
 * The root's episode counters are cumulative over the boot (an earlier test
 * may have run a system OOM): on the root only the state that every test
 * starts from is a default (tools/vm/uoom-run resets the knobs and ends the
 * processes of earlier tests).
 */
TEST(files_and_defaults_on_root)
{
	static const char * const cumulative[] = {
		"oom_episodes", "oom_resolved", "oom_fallback",
	};
	unsigned int i;

	EXPECT_EQ(0, oomh_stat(CG_ROOT, "handlers"));
	EXPECT_EQ(0, oomh_stat(CG_ROOT, "under_oom"));
	EXPECT_EQ(0, oomh_stat(CG_ROOT, "delay_left_ms"));
	EXPECT_EQ(0, oomh_stat(CG_ROOT, "reserve_charged"));
	for (i = 0; i < sizeof(cumulative) / sizeof(cumulative[0]); i++)
		EXPECT_LE(0, oomh_stat(CG_ROOT, cumulative[i])) {
			TH_LOG("root memory.oom_notify has no key %s", cumulative[i]);
		}
	EXPECT_EQ(0, cg_read_num(CG_ROOT, "memory.oom_delay_millisecs"));
	EXPECT_EQ(0, cg_read_num(CG_ROOT, "memory.oom_reserve_in_bytes"));
}

struct bad_write {
	const char *file;
	const char *val;
	int err;
};

static const struct bad_write bad_writes[] = {
	{ "memory.oom_notify", "\n", EINVAL },
	{ "memory.oom_notify", "abc", EINVAL },
	{ "memory.oom_notify", "3x", EINVAL },
	{ "memory.oom_notify", "3 4", EINVAL },
	{ "memory.oom_notify", "99999999999999", EINVAL },
	{ "memory.oom_notify", "-1", EBADF },
	{ "memory.oom_notify", "1000", EBADF },
	{ "memory.oom_delay_millisecs", "\n", EINVAL },
	{ "memory.oom_delay_millisecs", "-1", EINVAL },
	{ "memory.oom_delay_millisecs", "abc", EINVAL },
	{ "memory.oom_delay_millisecs", "10ms", EINVAL },
	{ "memory.oom_delay_millisecs", "60001", EINVAL },
	{ "memory.oom_delay_millisecs", "18446744073709551616", EINVAL },
	{ "memory.oom_reserve_in_bytes", "\n", EINVAL },
	{ "memory.oom_reserve_in_bytes", "M", EINVAL },
	{ "memory.oom_reserve_in_bytes", "16000000T", EINVAL },
	{ "memory.oom_reserve_in_bytes", "-1", EINVAL },
	{ "memory.oom_reserve_in_bytes", "abc", EINVAL },
	{ "memory.oom_reserve_in_bytes", "1Q", EINVAL },
	{ "memory.oom_reserve_in_bytes", "max", EINVAL },
	{ "memory.oom_reserve_in_bytes", "99999999999999999999", EINVAL },
};

TEST_F(abi, bad_writes_fail_with_exact_errno_and_change_nothing)
{
	unsigned int i;

	ASSERT_LT(0, cg_write(self->cg, "memory.oom_delay_millisecs", "250"));
	ASSERT_LT(0, cg_write(self->cg, "memory.oom_reserve_in_bytes", "1M"));
	for (i = 0; i < sizeof(bad_writes) / sizeof(bad_writes[0]); i++) {
		const struct bad_write *b = &bad_writes[i];

		EXPECT_EQ(-b->err, cg_write(self->cg, b->file, b->val))
			TH_LOG("write '%s' to %s", b->val, b->file);
		EXPECT_EQ(250, cg_read_num(self->cg, "memory.oom_delay_millisecs"));
		EXPECT_EQ(1 << 20, cg_read_num(self->cg, "memory.oom_reserve_in_bytes"));
		EXPECT_EQ(0, oomh_stat(self->cg, "handlers"));
	}
}

TEST_F(abi, good_writes_read_back)
{
	ASSERT_LT(0, cg_write(self->cg, "memory.oom_delay_millisecs", "60000"));
	EXPECT_EQ(60000, cg_read_num(self->cg, "memory.oom_delay_millisecs"));
	ASSERT_LT(0, cg_write(self->cg, "memory.oom_delay_millisecs", "0\n"));
	EXPECT_EQ(0, cg_read_num(self->cg, "memory.oom_delay_millisecs"));
	ASSERT_LT(0, cg_write(self->cg, "memory.oom_reserve_in_bytes", "2M"));
	EXPECT_EQ(2 << 20, cg_read_num(self->cg, "memory.oom_reserve_in_bytes"));
	ASSERT_LT(0, cg_write(self->cg, "memory.oom_reserve_in_bytes", "4097"));
	EXPECT_EQ(8192, cg_read_num(self->cg, "memory.oom_reserve_in_bytes"));
}

TEST_F(abi, registration_errors)
{
	int efd, other, regular, i, fds[8];

	regular = open("/proc/self/status", O_RDONLY);
	ASSERT_LE(0, regular);
	efd = oomh_new_handler(self->cg);
	ASSERT_LE(0, efd);
	EXPECT_EQ(1, oomh_stat(self->cg, "handlers"));

	/* Not an eventfd. */
	EXPECT_EQ(-EINVAL, oomh_register(self->cg, regular));
	/* The same eventfd twice, also through a dup. */
	EXPECT_EQ(-EEXIST, oomh_register(self->cg, efd));
	other = dup(efd);
	EXPECT_EQ(-EEXIST, oomh_register(self->cg, other));
	close(other);
	/* A closed fd (high, so that no open() below reuses it). */
	other = dup2(efd, 900);
	close(other);
	EXPECT_EQ(-EBADF, oomh_register(self->cg, other));
	EXPECT_EQ(1, oomh_stat(self->cg, "handlers"));

	/* Up to 8 registrations, then ENOSPC. */
	for (i = 0; i < 7; i++) {
		fds[i] = oomh_new_handler(self->cg);
		EXPECT_LE(0, fds[i]);
	}
	EXPECT_EQ(8, oomh_stat(self->cg, "handlers"));
	EXPECT_EQ(-ENOSPC, oomh_new_handler(self->cg));
	EXPECT_EQ(8, oomh_stat(self->cg, "handlers"));
	for (i = 0; i < 7; i++)
		close(fds[i]);
	close(efd);
	close(regular);
	EXPECT_EQ(0, oomh_stat_wait(self->cg, "handlers", 0, 2000));
}

TEST(root_registration_needs_cap_sys_resource)
{
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct d[2];
		int efd = eventfd(0, 0);

		if (syscall(SYS_capget, &h, d))
			_exit(2);
		d[0].effective &= ~(1u << CAP_SYS_RESOURCE);
		if (syscall(SYS_capset, &h, d))
			_exit(3);
		_exit(oomh_register(CG_ROOT, efd) == -EPERM ? 0 : 1);
	}
	EXPECT_EQ(0, cg_wait(pid));
	EXPECT_EQ(0, oomh_stat(CG_ROOT, "handlers"));
}

TEST(root_registration_with_cap_sys_resource)
{
	int efd = oomh_new_handler(CG_ROOT);

	ASSERT_LE(0, efd);
	EXPECT_EQ(1, oomh_stat(CG_ROOT, "handlers"));
	close(efd);
	EXPECT_EQ(0, oomh_stat_wait(CG_ROOT, "handlers", 0, 2000));
}

TEST_F(abi, closing_the_eventfd_unregisters)
{
	int efd = oomh_new_handler(self->cg);

	ASSERT_LE(0, efd);
	EXPECT_EQ(1, oomh_stat(self->cg, "handlers"));
	close(efd);
	EXPECT_EQ(0, oomh_stat_wait(self->cg, "handlers", 0, 2000));
}

TEST_F(abi, handler_exit_unregisters)
{
	int pipefd[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Inherited eventfds stay open in the parent: make our own. */
		_exit(oomh_new_handler(self->cg) < 0 ||
		      write(pipefd[1], "r", 1) != 1);
	}
	/* A child that fails exits: then the read sees EOF, not a hang. */
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	EXPECT_EQ(0, cg_wait(pid));
	EXPECT_EQ(0, oomh_stat_wait(self->cg, "handlers", 0, 2000));
}

TEST_F(abi, dead_process_with_shared_eventfd_is_not_a_handler)
{
	int pipefd[2], efd;
	pid_t pid;
	char c;

	/* The child registers an eventfd the parent also holds open. */
	efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(oomh_register(self->cg, efd) || write(pipefd[1], "r", 1) != 1);
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	EXPECT_EQ(0, cg_wait(pid));
	EXPECT_EQ(0, oomh_stat(self->cg, "handlers"));
	close(efd);
}

/*
 * A registration ends when its process exits, and frees its slot, even
 * while its eventfd lives on elsewhere: eight registrants that exited must
 * not make the ninth registration fail with ENOSPC.
 */
TEST_F(abi, dead_registrants_free_their_slots)
{
	int efds[8], pipefd[2], i, efd;
	pid_t pid;
	char c;

	for (i = 0; i < 8; i++) {
		efds[i] = eventfd(0, EFD_NONBLOCK);
		ASSERT_LE(0, efds[i]);
		ASSERT_EQ(0, pipe(pipefd));
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			_exit(oomh_register(self->cg, efds[i]) ||
			      write(pipefd[1], "r", 1) != 1);
		close(pipefd[1]);
		ASSERT_EQ(1, read(pipefd[0], &c, 1));
		close(pipefd[0]);
		EXPECT_EQ(0, cg_wait(pid));
	}
	EXPECT_EQ(0, oomh_stat(self->cg, "handlers"));
	efd = oomh_new_handler(self->cg);
	EXPECT_LE(0, efd) TH_LOG("a ninth registration failed: %d", efd);
	EXPECT_EQ(1, oomh_stat(self->cg, "handlers"));
	if (efd >= 0)
		close(efd);
	for (i = 0; i < 8; i++)
		close(efds[i]);
}

TEST_F(abi, rmdir_signals_and_unregisters)
{
	int efd = oomh_new_handler(self->cg);

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, rmdir(self->cg));
	EXPECT_EQ(1, oomh_wait(efd, 2000));
	close(efd);
}

TEST_HARNESS_MAIN
