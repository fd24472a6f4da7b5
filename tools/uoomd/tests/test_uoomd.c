/* SPDX-License-Identifier: MIT */
/*
 * Host unit tests of uoomd (TAP): the config parser and its messages, the
 * value units, the log ring and snapshot pipe, the metrics exposition.
 * Built with ASan/UBSan. Numbering continues in tests/check.sh.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "settle.h"
#include "tap.h"

static struct uoomd_config cfg;
static char err[16384];

static int parse(const char *text)
{
	return uoomd_config_parse("test.conf", text, strlen(text), &cfg, err, sizeof(err));
}

/* "[watch w]\ncgroup = /x\nKEY = VALUE\n": the key is on line 3 */
static int parse_watch_kv(const char *k, const char *v)
{
	char buf[2048];

	snprintf(buf, sizeof(buf), "[watch w]\ncgroup = /x\n%s = %s\n", k, v);
	return parse(buf);
}

static int parse_daemon_kv(const char *k, const char *v)
{
	char buf[2048];

	snprintf(buf, sizeof(buf), "[daemon]\n%s = %s\n[watch w]\ncgroup = /x\n", k, v);
	return parse(buf);
}

/* ---- config: good values of every key ----------------------------------- */

static void test_good_values(void)
{
	const struct uoomd_watch_cfg *w = &cfg.watch[0];
#define GOOD(key, val, cond) do { \
	int r_ = parse_watch_kv(key, val); \
	tap_ok(!r_ && (cond), "watch key %s = %s%s%s", key, val, r_ ? ": " : "", r_ ? err : ""); \
} while (0)
	GOOD("backend", "auto", w->backends == 0);
	GOOD("backend", "kernel", w->backends == UOOM_BACKEND_MASK(UOOM_BACKEND_KERNEL));
	GOOD("backend", "events", w->backends == UOOM_BACKEND_MASK(UOOM_BACKEND_EVENTS));
	GOOD("settle", "0", w->settle_ms == 0);
	GOOD("settle", "1500ms", w->settle_ms == 1500);
	GOOD("delay", "0", w->delay_ms == 0);
	GOOD("delay", "500ms", w->delay_ms == 500);
	GOOD("delay", "2s", w->delay_ms == 2000);
	GOOD("delay", "1500", w->delay_ms == 1500);
	GOOD("delay", "60s", w->delay_ms == 60000);
	GOOD("reserve", "4096", w->reserve == 4096);
	GOOD("reserve", "64K", w->reserve == 65536);
	GOOD("reserve", "16M", w->reserve == 16u << 20);
	GOOD("reserve", "1G", w->reserve == 1u << 30);
	GOOD("reserve", "2MiB", w->reserve == 2u << 20);
	GOOD("psi_trigger", "full 50000 500000", !strcmp(w->psi_trigger, "full 50000 500000"));
	GOOD("policy", "largest-rss", w->policy == UOOM_POLICY_LARGEST_RSS);
	GOOD("policy", "largest-cgroup", w->policy == UOOM_POLICY_LARGEST_CGROUP);
	GOOD("policy", "priority", w->policy == UOOM_POLICY_PRIORITY);
	GOOD("action", "kill", w->action == UOOMD_ACT_KILL);
	GOOD("action", "kill-cgroup", w->action == UOOMD_ACT_KILL_CGROUP);
	GOOD("action", "throttle", w->action == UOOMD_ACT_THROTTLE);
	GOOD("action", "warn-kill", w->action == UOOMD_ACT_WARN_KILL && w->grace_ms == 500);
	GOOD("action", "log", w->action == UOOMD_ACT_LOG);
	GOOD("prefer", "leak* cmd:*python* /jobs/*", w->prefer.n == 3 &&
	     !strcmp(w->prefer.item[1], "cmd:*python*") && !w->prefer.item[3]);
	GOOD("avoid", "sshd", w->avoid.n == 1 && !strcmp(w->avoid.item[0], "sshd"));
	GOOD("protect", "init systemd", w->protect.n == 2);
	GOOD("priority", "chrom*=50 /batch/*=-3", w->nrules == 2 &&
	     !strcmp(w->rules[0].glob, "chrom*") && w->rules[0].priority == 50 &&
	     !strcmp(w->rules[1].glob, "/batch/*") && w->rules[1].priority == -3);
	GOOD("min_rss", "1M", w->min_rss == 1u << 20);
	GOOD("snapshot", "all", w->snapshot == UOOM_SNAP_ALL);
	GOOD("snapshot", "none", w->snapshot == 0);
	GOOD("snapshot", "vmstat psi tasks", w->snapshot ==
	     (UOOM_SNAP_VMSTAT | UOOM_SNAP_PSI | UOOM_SNAP_TASKS));
	GOOD("top", "0", w->top == 0);
	GOOD("top", "1000", w->top == 1000);
	GOOD("grant", "32M", w->grant == 32u << 20);
	GOOD("high", "1G", w->high == 1u << 30);
	GOOD("warn_signal", "SIGUSR1", w->warn_signal == SIGUSR1);
	GOOD("warn_signal", "TERM", w->warn_signal == SIGTERM);
	GOOD("warn_signal", "10", w->warn_signal == 10);
	GOOD("grace", "500ms", w->grace_ms == 500);
	GOOD("kill_timeout", "100ms", w->kill_timeout_ms == 100);
	GOOD("kill_timeout", "60s", w->kill_timeout_ms == 60000);
#undef GOOD
#define GOOD(key, val, cond) do { \
	int r_ = parse_daemon_kv(key, val); \
	tap_ok(!r_ && (cond), "daemon key %s = %s%s%s", key, val, r_ ? ": " : "", r_ ? err : ""); \
} while (0)
	GOOD("log", "stderr", cfg.log == UOOMD_LOG_STDERR);
	GOOD("log", "journal", cfg.log == UOOMD_LOG_JOURNAL);
	GOOD("log", "/var/log/uoomd.log", cfg.log == UOOMD_LOG_FILE &&
	     !strcmp(cfg.log_path, "/var/log/uoomd.log"));
	GOOD("log_format", "json", cfg.log_format == UOOM_FMT_JSON);
	GOOD("log_format", "text", cfg.log_format == UOOM_FMT_TEXT);
	GOOD("metrics", "/run/uoomd.prom", !strcmp(cfg.metrics, "/run/uoomd.prom"));
	GOOD("metrics_interval", "10s", cfg.metrics_interval_ms == 10000);
	GOOD("rescan", "0", cfg.rescan_ms == 0);
	GOOD("rescan", "250ms", cfg.rescan_ms == 250);
	GOOD("cgroup_root", "/tmp/cg", !strcmp(cfg.cgroup_root, "/tmp/cg"));
	GOOD("proc_root", "/tmp/proc", !strcmp(cfg.proc_root, "/tmp/proc"));
	GOOD("dry_run", "yes", cfg.dry_run);
	GOOD("dry_run", "no", !cfg.dry_run);
	GOOD("dry_run", "true", cfg.dry_run);
	GOOD("dry_run", "0", !cfg.dry_run);
#undef GOOD
}

/* ---- config: bad values, each message names file:line, key, value ------- */

static void test_bad_values(void)
{
	static const struct { const char *k, *v, *what; } bad[] = {
		{ "backend", "v1", "use auto, kernel or events" },
		{ "delay", "70s", "is out of range 0..60s" },
		{ "delay", "60001", "is out of range 0..60s" },
		{ "delay", "2h", "is not a duration" },
		{ "delay", "-1", "is not a duration" },
		{ "delay", "99999999999999999999", "is out of range 0..60s" },
		{ "reserve", "1X", "is not a size" },
		{ "reserve", "2T", "is out of range 0..1T" },
		{ "reserve", "M", "is not a size" },
		{ "psi_trigger", "some 1 2", "out of range 500000..10000000" },
		{ "psi_trigger", "some 2000000 1000000", "has stall 2000000 us, out of range" },
		{ "psi_trigger", "half 1000 1000000", "is not a PSI trigger" },
		{ "policy", "oldest", "is not a policy" },
		{ "action", "reboot", "is not an action" },
		{ "priority", "foo", "is not PATTERN=N" },
		{ "priority", "foo=2000", "out of range -1000..1000" },
		{ "min_rss", "lots", "is not a size" },
		{ "snapshot", "vmstat bogus", "unknown part 'bogus'" },
		{ "top", "1001", "is out of range 0..1000" },
		{ "top", "1K", "is out of range 0..1000" },
		{ "grant", "-5", "is not a size" },
		{ "high", "x", "is not a size" },
		{ "warn_signal", "SIGFOO", "is not a signal" },
		{ "warn_signal", "99", "is not a signal" },
		{ "grace", "61s", "is out of range 0..60s" },
		{ "kill_timeout", "50ms", "is out of range 100ms..60s" },
		{ "cgroup", "/a/../b", "is not a cgroup glob" },
	};
	static const struct { const char *k, *v, *what; } dbad[] = {
		{ "log", "syslog", "use stderr, journal or an absolute file path" },
		{ "log_format", "xml", "use text or json" },
		{ "metrics", "relative.prom", "is not an absolute path" },
		{ "metrics_interval", "10ms", "is out of range 100ms..1h" },
		{ "rescan", "3601s", "is out of range 0..1h" },
		{ "cgroup_root", "sys/fs/cgroup", "is not an absolute path" },
		{ "proc_root", "proc", "is not an absolute path" },
		{ "dry_run", "maybe", "is not a boolean" },
	};
	char want[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse_watch_kv(bad[i].k, bad[i].v);
		unsigned int line = strcmp(bad[i].k, "cgroup") ? 3 : 2;

		if (!strcmp(bad[i].k, "cgroup")) {
			snprintf(want, sizeof(want), "[watch w]\ncgroup = %s\n", bad[i].v);
			r = parse(want);
		}
		snprintf(want, sizeof(want), "test.conf:%u: key '%s': value '%s'", line,
			 bad[i].k, bad[i].v);
		tap_ok(r == -EINVAL && !strncmp(err, want, strlen(want)) && strstr(err, bad[i].what),
		       "bad %s = %s: \"%.*s\"", bad[i].k, bad[i].v, (int)strcspn(err, "\n"), err);
	}
	for (size_t i = 0; i < sizeof(dbad) / sizeof(dbad[0]); i++) {
		int r = parse_daemon_kv(dbad[i].k, dbad[i].v);

		snprintf(want, sizeof(want), "test.conf:2: key '%s': value '%s'", dbad[i].k, dbad[i].v);
		tap_ok(r == -EINVAL && !strncmp(err, want, strlen(want)) && strstr(err, dbad[i].what),
		       "bad daemon %s = %s: \"%.*s\"", dbad[i].k, dbad[i].v,
		       (int)strcspn(err, "\n"), err);
	}
	/* the exact message the brief asks for */
	parse_watch_kv("delay", "70s");
	tap_ok(!strcmp(err, "test.conf:3: key 'delay': value '70s' is out of range 0..60s\n"),
	       "message is exactly FILE:LINE: key 'delay': value '70s' is out of range 0..60s");
}

static void expect_err(const char *text, const char *msg, const char *desc)
{
	int r = parse(text);

	tap_ok(r == -EINVAL && strstr(err, msg), "%s: \"%.*s\"", desc,
	       (int)strcspn(err, "\n"), err);
}

static void test_structure(void)
{
	expect_err("[watch w]\ncgroup = /x\nfoo = 1\n",
		   "test.conf:3: unknown key 'foo' in [watch w]: known keys are cgroup", "unknown watch key");
	expect_err("[daemon]\ndelay = 1s\n[watch w]\ncgroup=/x\n",
		   "test.conf:2: unknown key 'delay' in [daemon]", "watch key in [daemon]");
	expect_err("[global]\nx = 1\n[watch w]\ncgroup=/x\n",
		   "test.conf:1: unknown section [global]: use [daemon] or [watch NAME]", "unknown section");
	expect_err("[watch a]\ncgroup=/x\n[watch a]\ncgroup=/y\n",
		   "test.conf:3: duplicate watch 'a' (first at line 1)", "duplicate watch");
	expect_err("[daemon]\nlog = stderr\n\n[watch a]\ndelay = 1s\n",
		   "test.conf:4: [watch a]: no 'cgroup' key", "missing cgroup names the section's line");
	expect_err("delay = 1s\n[watch a]\ncgroup=/x\n",
		   "test.conf:1: key 'delay' outside any section", "key before any section");
	expect_err("[watch a]\ncgroup=/x\ndelay=1s\ndelay=2s\n",
		   "test.conf:4: key 'delay': value '2s': the key is already set at line 3", "duplicate key");
	expect_err("[daemon]\n[daemon]\n[watch a]\ncgroup=/x\n",
		   "test.conf:2: section [daemon] repeats the one at line 1", "repeated [daemon]");
	expect_err("[watch a]\ncgroup=/x\njust some words\n",
		   "test.conf:3: 'just some words' is not 'key = value', a [section] or a comment",
		   "line without =");
	expect_err("[watch a\ncgroup=/x\n", "test.conf:1: section header without ']'",
		   "unterminated section header");
	expect_err("[watch]\ncgroup=/x\n", "test.conf:1: section [watch] needs a name", "[watch] without a name");
	expect_err("[daemon]\nlog = stderr\n", "test.conf: no [watch NAME] section", "no watch section");
	expect_err("[watch a]\ncgroup=/x\ndelay = 1s\n  2s\n",
		   "test.conf:4: key 'delay': value '2s': an indented line continues", "continuation of a scalar key");
	expect_err("[watch a]\ncgroup=\n", "test.conf:2: key 'cgroup': empty value", "empty cgroup");
	{
		char buf[600] = "[watch a]\ncgroup = /x\nprefer = ";
		size_t l = strlen(buf);

		memset(buf + l, 'a', 300);
		strcpy(buf + l + 300, "\n");
		expect_err(buf, "test.conf:3: line longer than", "line too long");
	}
	{
		static const char nul[] = "[watch a]\ncgroup = /x\nde\0lay = 1s\n";

		int r = uoomd_config_parse("test.conf", nul, sizeof(nul) - 1, &cfg, err, sizeof(err));

		tap_ok(r == -EINVAL &&
		       strstr(err, "test.conf:3: the line contains a NUL byte"), "NUL byte: \"%.*s\"",
		       (int)strcspn(err, "\n"), err);
	}
	{
		char buf[1024] = "[watch a]\ncgroup = /x\navoid = a\n";

		for (int i = 0; i < 33; i++)
			strcat(buf, "  p\n");
		expect_err(buf, "test.conf:3: key 'avoid': more than 32 items", "too many list items");
	}
	/* several errors are all reported, each on its own line */
	parse("[watch a]\ndelay = 70s\nreserve = 1X\n");
	tap_ok(strstr(err, "test.conf:2: key 'delay'") && strstr(err, "test.conf:3: key 'reserve'") &&
	       strstr(err, "test.conf:1: [watch a]: no 'cgroup' key"), "every error is reported");
	/* valid structure */
	tap_ok(!parse("# comment\n; comment\n[daemon]\nlog = stderr ; inline\n\n[watch a]\ncgroup = /a/* /b\n"
		      "  /c\nprefer = x\n  y z\n[watch b]\ncgroup = /\n") &&
	       cfg.nwatches == 2 && cfg.watch[0].cgroup.n == 3 &&
	       !strcmp(cfg.watch[0].cgroup.item[2], "/c") && cfg.watch[0].prefer.n == 3 &&
	       cfg.watch[0].line == 6 && !strcmp(cfg.watch[1].cgroup.item[0], "/"),
	       "comments, inline comments, list continuations, two watches: %s", err);
	tap_ok(!parse("[watch a]\ncgroup = /x\n") && cfg.watch[0].delay_ms == 1000 &&
	       cfg.watch[0].reserve == 8u << 20 && cfg.watch[0].action == UOOMD_ACT_KILL &&
	       cfg.rescan_ms == 1000 && !strcmp(cfg.cgroup_root, "/sys/fs/cgroup") &&
	       cfg.log == UOOMD_LOG_STDERR && cfg.log_format == UOOM_FMT_TEXT,
	       "defaults as documented");
	tap_ok(!parse("\xEF\xBB\xBF[watch a]\r\ncgroup = /x\r\n"), "BOM and CRLF line ends: %s", err);
	expect_err("[watch a]\ncgroup=/x\ndelay=2s\naction=warn-kill\ngrace=3s\n",
		   "test.conf:5: [watch a]: grace 3000ms is not below delay 2000ms", "grace >= delay");
}

static void test_example_file(void)
{
	int r = uoomd_config_load("uoomd.conf", &cfg, err, sizeof(err));

	tap_ok(!r && cfg.nwatches == 2 && cfg.log == UOOMD_LOG_JOURNAL,
	       "the example uoomd.conf is valid%s%s", r ? ": " : "", r ? err : "");
	r = uoomd_config_load("/nonexistent/uoomd.conf", &cfg, err, sizeof(err));
	tap_ok(r == -ENOENT && strstr(err, "/nonexistent/uoomd.conf: cannot open"),
	       "a missing file is named: %.*s", (int)strcspn(err, "\n"), err);
}

/* Robustness: random and mutated inputs never crash (ASan/UBSan watch). */
static void test_random_inputs(void)
{
	static const char seed[] = "[daemon]\nlog = /x\nrescan = 1s\n[watch a]\ncgroup = /a/*\n"
				   "delay = 2s\npriority = a=1 b=2\nsnapshot = all\n";
	char buf[512];
	unsigned int s = 12345, errors = 0;

	for (int i = 0; i < 20000; i++) {
		size_t n = sizeof(seed) - 1;

		memcpy(buf, seed, n);
		for (int k = 0; k < 1 + i % 8; k++) {
			s = s * 1103515245u + 12345u;
			buf[(s >> 8) % n] = (char)(s >> 16);
		}
		errors += uoomd_config_parse("f", buf, n, &cfg, err, sizeof(err)) != 0;
	}
	tap_ok(1, "20000 mutated configs parsed without a crash (%u rejected)", errors);
}

static void test_units(void)
{
	static const struct { const char *s; int ret; uint64_t v; } sizes[] = {
		{ "0", 0, 0 }, { "4096", 0, 4096 }, { "64K", 0, 65536 }, { "64k", 0, 65536 },
		{ "16M", 0, 16u << 20 }, { "1G", 0, 1u << 30 }, { "1T", 0, 1ull << 40 },
		{ "3KiB", 0, 3072 }, { "10B", 0, 10 }, { "", -EINVAL, 0 }, { "K", -EINVAL, 0 },
		{ "1.5M", -EINVAL, 0 }, { "1 M", -EINVAL, 0 }, { "-1", -EINVAL, 0 },
		{ "99999999999999999999", -ERANGE, 0 }, { "20000000000000T", -ERANGE, 0 },
	};
	static const struct { const char *s; int ret; uint64_t v; } durs[] = {
		{ "0", 0, 0 }, { "1500", 0, 1500 }, { "500ms", 0, 500 }, { "2s", 0, 2000 },
		{ "1m", 0, 60000 }, { "", -EINVAL, 0 }, { "2h", -EINVAL, 0 }, { "1.5s", -EINVAL, 0 },
		{ "s", -EINVAL, 0 }, { "2 s", -EINVAL, 0 },
	};
	int bad = 0;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t v = 0;
		int r = uoomd_parse_size(sizes[i].s, &v);

		if (r != sizes[i].ret || (!r && v != sizes[i].v)) {
			tap_note("size '%s': ret %d value %llu", sizes[i].s, r, (unsigned long long)v);
			bad++;
		}
	}
	tap_ok(!bad, "sizes: bytes, K/M/G/T (KiB, B), malformed and overflowing ones");
	bad = 0;
	for (size_t i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
		uint64_t v = 0;
		int r = uoomd_parse_duration(durs[i].s, &v);

		if (r != durs[i].ret || (!r && v != durs[i].v)) {
			tap_note("duration '%s': ret %d value %llu", durs[i].s, r, (unsigned long long)v);
			bad++;
		}
	}
	tap_ok(!bad, "durations: bare ms, ms, s, m; malformed ones");
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* ---- log ---------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
	static char buf[1 << 20];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	*len = n > 0 ? (size_t)n : 0;
	buf[*len] = '\0';
	return buf;
}

static size_t count_lines(const char *s, const char *pat)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, pat)); p++)
		n++;
	return n;
}

static void log_cfg(struct uoomd_config *c, const char *path, enum uoom_format f)
{
	uoomd_config_defaults(c);
	c->log = UOOMD_LOG_FILE;
	snprintf(c->log_path, sizeof(c->log_path), "%s", path);
	c->log_format = f;
}

static void test_log_ring(const char *dir)
{
	static struct uoomd_log l;
	static struct uoomd_config c;
	char path[256], rec[3000];
	size_t len;
	char *out;
	bool ok = true;

	snprintf(path, sizeof(path), "%s/ring.log", dir);
	log_cfg(&c, path, UOOM_FMT_JSON);
	tap_ok(!uoomd_log_init(&l, &c, err, sizeof(err)) && !uoomd_log_start(&l), "log: init + thread");
	for (int i = 0; i < 300; i++) {
		int n = snprintf(rec, sizeof(rec), "{\"type\":\"episode\",\"episode\":%d,\"pad\":\"%*s\"}\n",
				 i, i * 5, "");

		ok &= uoomd_log_enqueue(&l, UOOMD_WARNING, rec, (size_t)n);
	}
	uoomd_log_flush(&l, 5000);
	tap_ok(ok && atomic_load(&l.records) == 300 && atomic_load(&l.dropped) == 0,
	       "log: 300 records enqueued and written, none dropped");
	uoomd_log_fini(&l);
	out = slurp(path, &len);
	ok = count_lines(out, "\n") == 300 && count_lines(out, "\"type\":\"episode\"") == 300;
	for (int i = 0; i < 300 && ok; i++) {
		char want[64];

		snprintf(want, sizeof(want), "{\"type\":\"episode\",\"episode\":%d,", i);
		ok = strstr(out, want) != NULL;
	}
	tap_ok(ok, "log: exactly one whole line per record, in order");

	/* full ring: the logger not started, so nothing drains */
	snprintf(path, sizeof(path), "%s/full.log", dir);
	log_cfg(&c, path, UOOM_FMT_TEXT);
	uoomd_log_init(&l, &c, err, sizeof(err));
	int accepted = 0;

	for (int i = 0; i < UOOMD_LOG_SLOTS + 88; i++) {
		int n = snprintf(rec, sizeof(rec), "record %d\n", i);

		accepted += uoomd_log_enqueue(&l, UOOMD_WARNING, rec, (size_t)n);
	}
	tap_ok(accepted == UOOMD_LOG_SLOTS && atomic_load(&l.dropped) == 88,
	       "log: a full ring drops and counts (%d accepted, %llu dropped)", accepted,
	       (unsigned long long)atomic_load(&l.dropped));
	uoomd_log_fini(&l);	/* writes what was queued */
	out = slurp(path, &len);
	tap_ok(count_lines(out, "\n") == UOOMD_LOG_SLOTS && strstr(out, "record 0\n") &&
	       !strstr(out, "record 512\n"), "log: the queued records are written on exit");

	/* a record longer than a slot is cut but stays one line */
	snprintf(path, sizeof(path), "%s/long.log", dir);
	log_cfg(&c, path, UOOM_FMT_TEXT);
	uoomd_log_init(&l, &c, err, sizeof(err));
	memset(rec, 'y', sizeof(rec));
	rec[sizeof(rec) - 1] = '\n';
	uoomd_log_enqueue(&l, UOOMD_WARNING, rec, sizeof(rec));
	uoomd_log_fini(&l);
	out = slurp(path, &len);
	tap_ok(len == UOOMD_LOG_REC && count_lines(out, "\n") == 1 && out[len - 1] == '\n',
	       "log: an over-long record is cut to %d bytes and ends its line", UOOMD_LOG_REC);
}

/* Snapshot records from the pipe are tagged with their episode and precede it. */
static void test_log_snapshot(const char *dir)
{
	static struct uoomd_log l;
	static struct uoomd_config c;
	static const char js[] = "{\"type\":\"memory.stat\",\"time_ns\":1,\"cgroup\":\"/a\",\"data\":{\"anon\":1}}\n";
	static const char tx[] = "uoom memory.stat cgroup=/a time_ns=1\nanon 1\nfile 2\n\n";
	static const char ep[] = "{\"type\":\"episode\",\"episode\":7}\n";
	char path[256];
	size_t len;
	char *out, *a, *b;

	snprintf(path, sizeof(path), "%s/snap.log", dir);
	log_cfg(&c, path, UOOM_FMT_JSON);
	uoomd_log_init(&l, &c, err, sizeof(err));
	uoomd_log_start(&l);
	uoomd_log_snap_mark(&l, 7);
	tap_ok(write(l.snap_wr, js, sizeof(js) - 1) == sizeof(js) - 1, "snapshot pipe takes a record");
	uoomd_log_enqueue(&l, UOOMD_WARNING, ep, sizeof(ep) - 1);
	uoomd_log_flush(&l, 2000);
	uoomd_log_fini(&l);
	out = slurp(path, &len);
	a = strstr(out, "{\"episode\":7,\"type\":\"memory.stat\"");
	b = strstr(out, "{\"type\":\"episode\",\"episode\":7}");
	tap_ok(a && b && a < b && count_lines(out, "\n") == 2,
	       "JSON snapshot record tagged \"episode\":7, written before its episode record");

	snprintf(path, sizeof(path), "%s/snaptext.log", dir);
	log_cfg(&c, path, UOOM_FMT_TEXT);
	uoomd_log_init(&l, &c, err, sizeof(err));
	uoomd_log_start(&l);
	uoomd_log_snap_mark(&l, 3);
	tap_ok(write(l.snap_wr, tx, sizeof(tx) - 1) == sizeof(tx) - 1, "snapshot pipe takes a text record");
	uoomd_log_enqueue(&l, UOOMD_WARNING, "uoomd: episode=3\n", 17);
	uoomd_log_flush(&l, 2000);
	uoomd_log_fini(&l);
	out = slurp(path, &len);
	a = strstr(out, "uoom episode=3 memory.stat cgroup=/a");
	b = strstr(out, "uoomd: episode=3\n");
	tap_ok(a && b && a < b && strstr(out, "file 2\n\n"),
	       "text snapshot record tagged episode=3, whole, before its episode record");
	tap_ok(l.snap_pipe_size >= 65536, "snapshot pipe is %zu KiB", l.snap_pipe_size >> 10);
}

/*
 * The sink blocks (a FIFO whose reader does not read): enqueueing must not
 * wait, nothing is lost while the ring has room, and everything comes out
 * when the reader starts. This is the measurement of the enqueue time.
 */
static void test_log_blocked(const char *dir)
{
	static struct uoomd_log l;
	static struct uoomd_config c;
	char path[256], rec[600], buf[65536];
	int holder, ok = 1, n;
	uint64_t t0, worst = 0, sum = 0, d[200];
	size_t got = 0, lines = 0;


	snprintf(path, sizeof(path), "%s/fifo", dir);
	if (mkfifo(path, 0600)) {
		tap_ok(0, "mkfifo %s: %s", path, strerror(errno));
		return;
	}
	holder = open(path, O_RDWR | O_NONBLOCK);	/* a reader that does not read */
	memset(buf, 'x', sizeof(buf));
	for (int i = 63; i < (int)sizeof(buf); i += 64)
		buf[i] = '\n';
	n = (int)write(holder, buf, sizeof(buf));	/* fill it: the logger blocks at once */
	log_cfg(&c, path, UOOM_FMT_JSON);
	uoomd_log_init(&l, &c, err, sizeof(err));
	uoomd_log_start(&l);
	for (int i = 0; i < 200; i++) {
		int len = snprintf(rec, sizeof(rec), "{\"type\":\"episode\",\"episode\":%d,\"pad\":\"%400s\"}\n",
				   i, "");

		t0 = uoomd_now_ns(CLOCK_MONOTONIC);
		ok &= uoomd_log_enqueue(&l, UOOMD_WARNING, rec, (size_t)len);
		t0 = uoomd_now_ns(CLOCK_MONOTONIC) - t0;
		d[i] = t0;
		sum += t0;
		if (t0 > worst)
			worst = t0;
	}
	tap_ok(n > 0 && ok && atomic_load(&l.dropped) == 0,
	       "blocked sink: 200 records of 430 bytes queued, none dropped");
	qsort(d, 200, sizeof(d[0]), cmp_u64);
	tap_note("enqueue with the sink blocked (200 records): mean %llu ns, median %llu ns, p99 %llu ns, max %llu ns",
		 (unsigned long long)(sum / 200), (unsigned long long)d[100],
		 (unsigned long long)d[197], (unsigned long long)worst);
	/* a write to the blocked sink would never return: any bound shows
	 * none happened; the median shows the usual cost (a busy host may
	 * preempt a single call, hence no tight bound on the max) */
	tap_ok(d[100] < 50000 && worst < 100000000,
	       "blocked sink: enqueue never waits (median %llu ns < 50 us, max %llu ns < 100 ms)",
	       (unsigned long long)d[100], (unsigned long long)worst);
	tap_ok(atomic_load(&l.records) == 0, "blocked sink: the logger is stuck in write(2), nothing written yet");
	/* the reader starts: drain the FIFO until all 200 records came */
	fcntl(holder, F_SETFL, 0);
	uint64_t end = uoomd_now_ns(CLOCK_MONOTONIC) + 10000000000ull;
	static char all[1 << 20];
	size_t eps = 0;

	while (eps < 200 && got < sizeof(all) - 1 && uoomd_now_ns(CLOCK_MONOTONIC) < end) {
		ssize_t r = read(holder, all + got, sizeof(all) - 1 - got);

		if (r <= 0)
			break;
		got += (size_t)r;
		all[got] = '\0';
		eps = count_lines(all, "\"type\":\"episode\"");
	}
	lines = count_lines(all, "\n");
	tap_ok(eps == 200 && lines == 1024 + 200,
	       "blocked sink: after the reader starts all 200 records arrive whole (%zu records, %zu lines)",
	       eps, lines);
	uoomd_log_fini(&l);
	close(holder);
	unlink(path);
}

/*
 * The snapshot pipe is the fd libuoom writes snapshots to from the handling
 * path: when nobody drains it, writes must fail at once (EAGAIN), counted.
 */
static void test_snap_pipe_full(const char *dir)
{
	static struct uoomd_log l;
	static struct uoomd_config c;
	static char junk[65536];
	char path[256];
	size_t filled = 0;
	uint64_t t0;
	ssize_t n;
	int e;

	snprintf(path, sizeof(path), "%s/pipefull.log", dir);
	log_cfg(&c, path, UOOM_FMT_JSON);
	uoomd_log_init(&l, &c, err, sizeof(err));	/* no thread: nobody drains */
	memset(junk, 'j', sizeof(junk));
	while ((n = write(l.snap_wr, junk, sizeof(junk))) > 0)
		filled += (size_t)n;
	e = errno;
	t0 = uoomd_now_ns(CLOCK_MONOTONIC);
	uoomd_log_snap_mark(&l, 1);
	n = write(l.snap_wr, "{\"type\":\"vmstat\"}\n", 18);
	t0 = uoomd_now_ns(CLOCK_MONOTONIC) - t0;
	tap_ok(e == EAGAIN && n < 0 && errno == EAGAIN && t0 < 100000000,
	       "snapshot pipe full (%zu KiB): writes fail with EAGAIN at once (%llu ns), no stall",
	       filled >> 10, (unsigned long long)t0);
	tap_ok(atomic_load(&l.dropped) == 1 && atomic_load(&l.drop_why[UOOMD_DROP_PIPE]) == 1,
	       "snapshot pipe full: the lost marker is counted as dropped (pipe_full)");
	l.snap_len = 0;
	uoomd_log_fini(&l);
}

/* log = journal: stderr with a <N> priority prefix on every line */
static void test_log_journal(const char *dir)
{
	static struct uoomd_log l;
	static struct uoomd_config c;
	char path[256];
	int saved = dup(2), fd;
	size_t len;
	char *out;

	snprintf(path, sizeof(path), "%s/journal.log", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	fflush(stderr);
	dup2(fd, 2);
	uoomd_config_defaults(&c);
	c.log = UOOMD_LOG_JOURNAL;
	uoomd_log_init(&l, &c, err, sizeof(err));
	uoomd_log_start(&l);
	uoomd_log_enqueue(&l, UOOMD_WARNING, "uoomd: episode=1 result=killed\n", 31);
	uoomd_log_msg(&l, UOOMD_ERR, "bad config:\nf:1: one\nf:2: two");
	uoomd_log_flush(&l, 2000);
	uoomd_log_fini(&l);
	dup2(saved, 2);
	close(saved);
	close(fd);
	out = slurp(path, &len);
	if (!tap_ok(!strcmp(out, "<4>uoomd: episode=1 result=killed\n<3>uoomd: error: bad config:\n"
				 "<3>uoomd: error: f:1: one\n<3>uoomd: error: f:2: two\n"),
		    "journal: <N> priority prefixes, one record per line, no timestamps"))
		tap_note("got: %s", out);
}

/* ---- metrics ------------------------------------------------------------ */

static void test_metrics(const char *dir)
{
	static struct uoomd_metrics m;
	static char buf[65536];
	struct uoomd_watch_gauge g[] = { { "jobs", "/jobs/a", "kernel" },
					 { "we\"ird", "/x\\y", "events" } };
	char path[256], lab[256], esc[64];
	int n;

	memset(&m, 0, sizeof(m));
	uoomd_metric_add(&m, M_EPISODES, "watch=\"jobs\",cgroup=\"/jobs/a\"", 1);
	uoomd_metric_add(&m, M_EPISODES, "watch=\"jobs\",cgroup=\"/jobs/a\"", 1);
	uoomd_metric_add(&m, M_ACTIONS, "watch=\"jobs\",action=\"kill\",result=\"killed\"", 2);
	uoomd_metric_set(&m, M_WAKE_TO_KILL, "watch=\"jobs\"", 1234567);
	uoomd_metric_add(&m, M_RELOADS, "result=\"success\"", 3);
	m.log_records = 10;
	m.log_dropped = 1;
	m.enq_count = 4;
	m.enq_sum_ns = 4000;
	m.enq_max_ns = 2500;
	m.last_reload_ok_s = 1700000000;
	n = uoomd_metrics_format(&m, g, 2, buf, sizeof(buf));
	tap_ok(n > 0 && (size_t)n == strlen(buf), "metrics: formatted %d bytes", n);
	const char *want[] = {
		"uoomd_up 1\n",
		"# TYPE uoomd_episodes_total counter\n",
		"uoomd_watches{watch=\"jobs\",cgroup=\"/jobs/a\",backend=\"kernel\"} 1\n",
		"uoomd_watches{watch=\"we\\\"ird\",cgroup=\"/x\\\\y\",backend=\"events\"} 1\n",
		"uoomd_episodes_total{watch=\"jobs\",cgroup=\"/jobs/a\"} 2\n",
		"uoomd_actions_total{watch=\"jobs\",action=\"kill\",result=\"killed\"} 2\n",
		"uoomd_last_wake_to_kill_seconds{watch=\"jobs\"} 0.001234567\n",
		"uoomd_reloads_total{result=\"success\"} 3\n",
		"uoomd_config_last_reload_success_timestamp_seconds 1700000000\n",
		"uoomd_log_records_total 10\n",
		"uoomd_log_dropped_total 1\n",
		"uoomd_log_enqueue_seconds_sum 0.000004000\n",
		"uoomd_log_enqueue_seconds_count 4\n",
		"uoomd_log_enqueue_max_seconds 0.000002500\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		tap_ok(strstr(buf, want[i]) != NULL, "metrics: has %.*s", (int)strcspn(want[i], "\n"),
		       want[i]);
	/* every sample line is NAME{labels} VALUE or NAME VALUE */
	int badl = 0;

	for (char *p = buf; *p; p = strchr(p, '\n') + 1) {
		if (*p != '#' && !strstr(p, " ") ) badl++;
		if (!strchr(p, '\n'))
			break;
	}
	tap_ok(!badl && buf[n - 1] == '\n', "metrics: every line complete");
	uoomd_label_escape(esc, sizeof(esc), "a\"b\\c\nd");
	tap_ok(!strcmp(esc, "a\\\"b\\\\c\\nd"), "label values escaped: %s", esc);
	tap_ok(uoomd_metrics_format(&m, g, 2, buf, 100) == -ENOBUFS, "metrics: too small a buffer is -ENOBUFS");
	snprintf(path, sizeof(path), "%s/m.prom", dir);
	n = uoomd_metrics_format(&m, g, 2, buf, sizeof(buf));
	tap_ok(!uoomd_metrics_write(path, buf, (size_t)n), "metrics written to %s", path);
	snprintf(lab, sizeof(lab), "%s.tmp", path);
	struct stat st;

	tap_ok(!stat(path, &st) && st.st_size == n && stat(lab, &st) && errno == ENOENT,
	       "metrics: whole file, no temp file left (tmp + rename)");
	tap_ok(uoomd_metrics_write("/nonexistent/dir/m.prom", buf, (size_t)n) == -ENOENT,
	       "metrics: a missing directory is -ENOENT");
	/* the table is bounded: no allocation, overflow is counted */
	memset(&m, 0, sizeof(m));
	for (int i = 0; i < UOOMD_MAX_COUNTERS + 5; i++) {
		snprintf(lab, sizeof(lab), "watch=\"w%d\"", i);
		uoomd_metric_add(&m, M_WAKE_TO_KILL, lab, 1);
	}
	tap_ok(m.n == UOOMD_MAX_COUNTERS && m.overflow == 5, "metrics: a full table counts overflow");
}

/* ---- stale events and the settle window (settle.c) ----------------------- */

struct fake_oom {
	int reads, resolve_at;	/* under_oom drops to 0 at this read (0: never) */
	uint64_t t;		/* fake clock, ns; each read advances 10 ms */
};

static struct fake_oom *fake;

static uint64_t fake_now(void)
{
	return fake->t;
}

static int fake_read(void *arg, struct uoom_oom_stats *st)
{
	struct fake_oom *f = arg;

	memset(st, 0, sizeof(*st));
	f->reads++;
	f->t += 10000000ull;
	st->handlers = 1;
	st->oom_episodes = 2;
	st->under_oom = !(f->resolve_at && f->reads >= f->resolve_at);
	return 0;
}

static void test_settle(void)
{
	struct uoom_oom_stats live = { .handlers = 1, .under_oom = 1, .oom_episodes = 3 };
	struct uoom_oom_stats over = { .handlers = 1, .under_oom = 0, .oom_episodes = 3 };
	struct uoom_oom_stats unread = { 0 };
	const uint64_t s = 1000000000ull;
	struct fake_oom f = { 0 };

	tap_ok(uoomd_gate(true, &live, 5 * s, 0) == UOOMD_GATE_GO,
	       "settle: a live OOM event outside any window is acted on");
	tap_ok(uoomd_gate(true, &over, 5 * s, 0) == UOOMD_GATE_STALE,
	       "settle: under_oom 0 at dispatch: the event is stale, no action");
	tap_ok(uoomd_gate(true, &over, 5 * s, 6 * s) == UOOMD_GATE_STALE,
	       "settle: a stale event in the window is still just stale");
	tap_ok(uoomd_gate(true, &unread, 5 * s, 0) == UOOMD_GATE_GO,
	       "settle: counters not read (oom_episodes 0): not taken for stale");
	tap_ok(uoomd_gate(false, &unread, 5 * s, 6 * s) == UOOMD_GATE_GO,
	       "settle: events-backend events are not gated");
	tap_ok(uoomd_gate(true, &live, 5 * s, 5 * s + 1) == UOOMD_GATE_SETTLE,
	       "settle: a live OOM within the window after a kill waits instead of killing");
	tap_ok(uoomd_gate(true, &live, 5 * s, 5 * s) == UOOMD_GATE_GO,
	       "settle: at the end of the window uoomd acts again");
	tap_ok(uoomd_settle_budget_ns(1000, 10 * s, 10 * s + 100000000ull) == 650000000ull,
	       "settle: the wait ends at 3/4 of the kernel delay after the event");
	tap_ok(uoomd_settle_budget_ns(1000, 10 * s, 11 * s) == 0 &&
	       uoomd_settle_budget_ns(0, 10 * s, 10 * s) == 0,
	       "settle: no wait budget past 3/4 of the delay, or with no delay");

	fake = &f;
	f.resolve_at = 5;
	bool r = uoomd_settle_wait(fake_read, &f, 700000000ull, 0, fake_now);

	tap_ok(r && f.reads == 5,
	       "settle: the wait returns as soon as the episode resolves (%d reads)", f.reads);
	memset(&f, 0, sizeof(f));
	r = uoomd_settle_wait(fake_read, &f, 300000000ull, 0, fake_now);
	tap_ok(!r && f.t >= 300000000ull && f.t <= 320000000ull,
	       "settle: an episode that does not resolve ends the wait at the budget (%llu ms)",
	       (unsigned long long)(f.t / 1000000));
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/uoomd-test.XXXXXX";

	if (argc > 1 && chdir(argv[1]))
		return 2;
	if (!mkdtemp(dir))
		return 2;
	test_good_values();
	test_bad_values();
	test_structure();
	test_example_file();
	test_units();
	test_random_inputs();
	test_log_ring(dir);
	test_log_snapshot(dir);
	test_log_blocked(dir);
	test_log_journal(dir);
	test_snap_pipe_full(dir);
	test_metrics(dir);
	test_settle();
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		tap_note("could not remove %s", dir);
	return tap_done();
}
