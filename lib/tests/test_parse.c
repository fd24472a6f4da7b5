/* SPDX-License-Identifier: MIT */
/* Parsers: the memory.oom_notify ABI, memory.events, PSI, /proc/PID files. */
#define _GNU_SOURCE
#include "fixture.h"
#include <errno.h>
#include <string.h>
#include "internal.h"

static size_t load(const char *name, char *buf, size_t cap)
{
	return fx_read(fx_static(""), name, buf, cap);
}

#define S(x) x, sizeof(x) - 1

static void oom_stats_fixture(void **state)
{
	struct uoom_oom_stats st;
	char buf[512];
	size_t n = load("cgroup/memory.oom_notify", buf, sizeof(buf));

	(void)state;
	assert_true(n > 0);
	assert_int_equal(uoom_parse_oom_stats(buf, n, &st), 0);
	assert_int_equal(st.handlers, 2);
	assert_int_equal(st.under_oom, 1);
	assert_int_equal(st.oom_episodes, 7);
	assert_int_equal(st.oom_resolved, 5);
	assert_int_equal(st.oom_fallback, 1);
	assert_int_equal(st.reserve_charged, 1048576);
}

static void oom_stats_huge_value(void **state)
{
	struct uoom_oom_stats st = { .handlers = 99 };
	char buf[512];
	size_t n = load("cgroup/memory.oom_notify.huge", buf, sizeof(buf));

	(void)state;
	assert_int_equal(uoom_parse_oom_stats(buf, n, &st), -ERANGE);
	assert_int_equal(st.handlers, 99);	/* untouched on error */
	assert_int_equal(uoom_parse_oom_stats(S("handlers 18446744073709551615\nunder_oom 0\n"
						"oom_episodes 0\noom_resolved 0\noom_fallback 0\n"
						"reserve_charged 0\n"), &st), 0);
	assert_true(st.handlers == UINT64_MAX);
}

static void oom_stats_truncated(void **state)
{
	struct uoom_oom_stats st;
	char buf[512];
	size_t n = load("cgroup/memory.oom_notify.truncated", buf, sizeof(buf));

	(void)state;
	assert_int_equal(uoom_parse_oom_stats(buf, n, &st), -EINVAL);
	assert_int_equal(uoom_parse_oom_stats(S("handlers 1\nunder_oom"), &st), -EINVAL);
	assert_int_equal(uoom_parse_oom_stats(S("handlers 1\n"), &st), -ENODATA);
	assert_int_equal(uoom_parse_oom_stats(S(""), &st), -ENODATA);
}

static void oom_stats_malformed(void **state)
{
	static const char *const bad[] = {
		"handlers 1x\n", "handlers -1\n", "handlers\t\n", " 1\n",
		"handlers 1 2\n", "handlers 0x10\n", "\n",
	};
	struct uoom_oom_stats st;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(uoom_parse_oom_stats(bad[i], strlen(bad[i]), &st), -EINVAL);
	assert_int_equal(uoom_parse_oom_stats(NULL, 0, &st), -EINVAL);
	/* unknown keys are ignored, order does not matter, last line may end early */
	assert_int_equal(uoom_parse_oom_stats(S("reserve_charged 4096\nfuture_key 9\nhandlers 3\n"
						"oom_fallback 2\noom_resolved 1\nunder_oom 0\n"
						"oom_episodes 3"), &st), 0);
	assert_int_equal(st.handlers, 3);
	assert_int_equal(st.reserve_charged, 4096);
	assert_int_equal(st.oom_episodes, 3);
}

static void mem_events(void **state)
{
	struct uoom_mem_events ev;
	char buf[512];
	size_t n = load("cgroup/memory.events", buf, sizeof(buf));

	(void)state;
	assert_int_equal(uoom_parse_mem_events(buf, n, &ev), 0);
	assert_int_equal(ev.high, 12);
	assert_int_equal(ev.max, 3);
	assert_int_equal(ev.oom, 1);
	assert_int_equal(ev.oom_kill, 1);
	assert_int_equal(uoom_parse_mem_events(S("oom 99999999999999999999\n"), &ev), -ERANGE);
	assert_int_equal(uoom_parse_mem_events(S("oom\n"), &ev), -EINVAL);
}

static void psi(void **state)
{
	struct uoom_psi p;
	char buf[512];
	size_t n = load("cgroup/memory.pressure", buf, sizeof(buf));

	(void)state;
	assert_int_equal(uoom_parse_psi(buf, n, &p), 0);
	assert_int_equal(p.some.avg10, 1234);
	assert_int_equal(p.some.avg60, 500);
	assert_int_equal(p.some.avg300, 7);
	assert_int_equal(p.some.total_us, 8822344);
	assert_int_equal(p.full.avg10, 100);
	assert_int_equal(p.full.total_us, 120000);
	/* /proc/pressure/memory on old kernels has no "full" line */
	assert_int_equal(uoom_parse_psi(S("some avg10=0.1 avg60=0.00 avg300=0.00 total=0\n"), &p), 0);
	assert_int_equal(p.some.avg10, 10);
	assert_int_equal(uoom_parse_psi(S("some avg10=0.00 avg60=0.00 avg300=0.00\n"), &p), -EINVAL);
	assert_int_equal(uoom_parse_psi(S("some avg10=0.00 avg60=0.00 avg300=0.00 total=18446744073709551616\n"), &p), -ERANGE);
	assert_int_equal(uoom_parse_psi(S("full avg10=0.00 avg60=0.00 avg300=0.00 total=1\n"), &p), -ENODATA);
	assert_int_equal(uoom_parse_psi(S("bogus\n"), &p), -EINVAL);
}

static void proc_stat(void **state)
{
	struct uoom_proc_stat ps;
	char buf[1024];
	size_t n = load("proc/4242/stat", buf, sizeof(buf));

	(void)state;
	assert_int_equal(uoom__parse_proc_stat(buf, n, &ps), 0);
	assert_string_equal(ps.comm, "tricky) name)");
	assert_int_equal(ps.state, 'R');
	assert_int_equal(ps.start_time, 987654);
	assert_int_equal(uoom__parse_proc_stat(S("1 (init) S 1 1"), &ps), -EINVAL);
	assert_int_equal(uoom__parse_proc_stat(S("1 init S"), &ps), -EINVAL);
	/* comm longer than TASK_COMM_LEN is cut, never overflows */
	assert_int_equal(uoom__parse_proc_stat(S("5 (aaaaaaaaaaaaaaaaaaaaaaaa) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 77 1\n"), &ps), 0);
	assert_int_equal(strlen(ps.comm), UOOM_COMM_LEN - 1);
	assert_int_equal(ps.start_time, 77);
}

static void proc_status(void **state)
{
	struct uoom_proc_status st;
	char buf[1024];
	size_t n = load("proc/4242/status", buf, sizeof(buf));

	(void)state;
	assert_int_equal(uoom__parse_proc_status(buf, n, &st), 0);
	assert_int_equal(st.uid, 1001);
	assert_true(st.has_rss);
	assert_int_equal(st.rss, 12000 * 1024);
	assert_int_equal(st.swap, 512 * 1024);
	/* kernel thread: no VmRSS */
	assert_int_equal(uoom__parse_proc_status(S("Name:\tkthreadd\nUid:\t0\t0\t0\t0\n"), &st), 0);
	assert_false(st.has_rss);
	assert_int_equal(uoom__parse_proc_status(S("VmRSS:\t1 kB\n"), &st), -ENODATA);
	assert_int_equal(uoom__parse_proc_status(S("Uid:\t0\nVmRSS:\t18446744073709551615 kB\n"), &st), -ERANGE);
}

static void v1_and_values(void **state)
{
	struct uoom_oom_stats st;
	uint64_t v;
	int i;
	char buf[512];
	size_t n = load("cgroup/memory.oom_control", buf, sizeof(buf));

	(void)state;
	assert_int_equal(uoom__parse_v1_oom_control(buf, n, &st), 0);
	assert_int_equal(st.under_oom, 1);
	assert_int_equal(st.oom_fallback, 4);
	assert_int_equal(uoom__parse_max(S("max\n"), &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(uoom__parse_max(S("1048576\n"), &v), 0);
	assert_int_equal(v, 1048576);
	assert_int_equal(uoom__parse_max(S("18446744073709551616\n"), &v), -ERANGE);
	assert_int_equal(uoom__parse_max(S("12k\n"), &v), -EINVAL);
	assert_int_equal(uoom__parse_int(S("-1000\n"), &i), 0);
	assert_int_equal(i, -1000);
	assert_int_equal(uoom__parse_int(S("2147483648"), &i), -ERANGE);
	assert_int_equal(uoom__parse_int(S("-2147483648"), &i), 0);
	assert_int_equal(uoom__parse_int(S("5 6"), &i), -EINVAL);
}

/* Found by fuzz_values: the digits before the junk were stored. */
static void parse_max_untouched_on_error(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(uoom__parse_max(S("8844217728\n44217728\n"), &v), -EINVAL);
	assert_int_equal(v, 7);
	assert_int_equal(uoom__parse_max(S("12k\n"), &v), -EINVAL);
	assert_int_equal(v, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(oom_stats_fixture),
		cmocka_unit_test(oom_stats_huge_value),
		cmocka_unit_test(oom_stats_truncated),
		cmocka_unit_test(oom_stats_malformed),
		cmocka_unit_test(mem_events),
		cmocka_unit_test(psi),
		cmocka_unit_test(proc_stat),
		cmocka_unit_test(proc_status),
		cmocka_unit_test(v1_and_values),
		cmocka_unit_test(parse_max_untouched_on_error),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
