/* SPDX-License-Identifier: MIT */
/* Policies are pure: exercised on hand-built snapshots. */
#define _GNU_SOURCE
#include "fixture.h"
#include <errno.h>
#include <string.h>

static struct uoom_cgroup cgs[4];
static struct uoom_task tasks[6];
static struct uoom_snapshot snap;

static void task(int i, pid_t pid, const char *comm, uint64_t rss_mb, int cg)
{
	memset(&tasks[i], 0, sizeof(tasks[i]));
	tasks[i].pid = pid;
	strcpy(tasks[i].comm, comm);
	tasks[i].rss = rss_mb << 20;
	tasks[i].cgroup = cg;
	tasks[i].cmdline = "";
}

static int setup(void **state)
{
	(void)state;
	memset(cgs, 0, sizeof(cgs));
	strcpy(cgs[0].path, "/job");
	cgs[0].parent = -1;
	strcpy(cgs[1].path, "/job/a");
	strcpy(cgs[2].path, "/job/b");
	strcpy(cgs[3].path, "/job/b/deep");
	cgs[1].parent = cgs[2].parent = 0;
	cgs[1].depth = cgs[2].depth = 1;
	cgs[3].parent = 2;
	cgs[3].depth = 2;
	cgs[1].current = 300 << 20;
	cgs[2].current = 500 << 20;
	/* sorted by rss like a real snapshot */
	task(0, 10, "big", 250, 1);
	task(1, 11, "small-b", 120, 2);
	task(2, 12, "deep", 110, 3);
	task(3, 13, "root-task", 100, 0);
	task(4, 14, "worker", 60, 1);
	task(5, 15, "tiny", 1, 2);
	tasks[4].cmdline = "worker --batch";
	snap.tasks = tasks;
	snap.ntasks = 6;
	snap.cgroups = cgs;
	snap.ncgroups = 4;
	snap.self = 99999;
	return 0;
}

static pid_t pick(const struct uoom_policy *p)
{
	struct uoom_victim v;
	int ret = uoom_pick_victim(&snap, p, &v);

	return ret ? ret : v.task->pid;
}

static void largest_rss(void **state)
{
	struct uoom_policy p;

	(void)state;
	uoom_policy_init(&p);
	assert_int_equal(pick(&p), 10);
	assert_int_equal(pick(NULL), 10);
}

static void never_self_or_unkillable(void **state)
{
	struct uoom_policy p;

	(void)state;
	uoom_policy_init(&p);
	snap.self = 10;
	assert_int_equal(pick(&p), 11);
	snap.self = 99999;
	tasks[0].oom_score_adj = -1000;
	assert_int_equal(pick(&p), 11);
	tasks[0].oom_score_adj = 0;
	tasks[0].flags = UOOM_TASK_SELF;
	assert_int_equal(pick(&p), 11);
	tasks[0].flags = 0;
}

static void protect_prefer_avoid(void **state)
{
	static const char *const protect[] = { "bi?", NULL };
	static const char *const protect_cg[] = { "/job/a", NULL };
	static const char *const avoid[] = { "small-*", NULL };
	static const char *const prefer[] = { "cmd:*--batch*", NULL };
	static const char *const prefer_cg[] = { "/job/b/*", NULL };
	struct uoom_policy p;

	(void)state;
	uoom_policy_init(&p);
	p.protect = protect;
	assert_int_equal(pick(&p), 11);
	p.avoid = avoid;
	assert_int_equal(pick(&p), 12);
	p.protect = protect_cg;
	assert_int_equal(pick(&p), 12);	/* 10 and 14 protected, 11 avoided */
	p.prefer = prefer;
	p.protect = NULL;
	assert_int_equal(pick(&p), 14);	/* preferred beats bigger */
	p.prefer = prefer_cg;
	assert_int_equal(pick(&p), 12);
	p.min_rss = 200ull << 20;
	p.prefer = NULL;
	p.avoid = NULL;
	assert_int_equal(pick(&p), 10);
	p.min_rss = 1ull << 40;
	assert_int_equal(pick(&p), -ESRCH);
}

static void priority(void **state)
{
	static const struct uoom_prio_rule rules[] = {
		{ "root-*", 50 }, { "/job/b*", 10 },
	};
	struct uoom_policy p;

	(void)state;
	uoom_policy_init(&p);
	p.kind = UOOM_POLICY_PRIORITY;
	assert_int_equal(pick(&p), 10);	/* all priority 0: size */
	cgs[2].priority = 5;		/* as from user.uoom.priority */
	assert_int_equal(pick(&p), 11);
	p.rules = rules;
	p.nrules = 2;
	assert_int_equal(pick(&p), 13);	/* caller rule beats xattr */
	cgs[2].priority = 0;
}

static void largest_cgroup(void **state)
{
	static const char *const protect[] = { "small-b", "deep", "tiny", NULL };
	struct uoom_policy p;
	struct uoom_victim v;

	(void)state;
	uoom_policy_init(&p);
	p.kind = UOOM_POLICY_LARGEST_CGROUP;
	assert_int_equal(uoom_pick_victim(&snap, &p, &v), 0);
	assert_string_equal(v.cgroup->path, "/job/b");	/* 500M > 300M */
	assert_int_equal(v.task->pid, 11);		/* its largest task */
	assert_int_equal(v.bytes, 500 << 20);
	/* a child with nothing killable is skipped */
	p.protect = protect;
	assert_int_equal(uoom_pick_victim(&snap, &p, &v), 0);
	assert_string_equal(v.cgroup->path, "/job/a");
	/* no memory.current: the sum of the tasks' RSS decides */
	p.protect = NULL;
	cgs[1].current = cgs[2].current = 0;
	cgs[1].tasks_rss = 310 << 20;
	cgs[2].tasks_rss = 121 << 20;
	cgs[3].tasks_rss = 110 << 20;
	assert_int_equal(uoom_pick_victim(&snap, &p, &v), 0);
	assert_string_equal(v.cgroup->path, "/job/a");
	setup(NULL);
}

static void empty_and_invalid(void **state)
{
	struct uoom_snapshot e = { 0 };
	struct uoom_victim v;

	(void)state;
	assert_int_equal(uoom_pick_victim(NULL, NULL, &v), -EINVAL);
	assert_int_equal(uoom_pick_victim(&snap, NULL, NULL), -EINVAL);
	assert_int_equal(uoom_pick_victim(&e, NULL, &v), -EINVAL);
	e.cgroups = cgs;
	e.ncgroups = 1;
	assert_int_equal(uoom_pick_victim(&e, NULL, &v), -ESRCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(largest_rss, setup),
		cmocka_unit_test_setup(never_self_or_unkillable, setup),
		cmocka_unit_test_setup(protect_prefer_avoid, setup),
		cmocka_unit_test_setup(priority, setup),
		cmocka_unit_test_setup(largest_cgroup, setup),
		cmocka_unit_test_setup(empty_and_invalid, setup),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
