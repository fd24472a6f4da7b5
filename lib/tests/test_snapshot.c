/* SPDX-License-Identifier: MIT */
/* Snapshot collection and the record format: whole records, valid JSON. */
#define _GNU_SOURCE
#include "fixture.h"
#include "internal.h"
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

/* ---- a strict little JSON checker ---- */
static const char *jv(const char *s);

static const char *ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static const char *jstr(const char *s)
{
	if (*s++ != '"')
		return NULL;
	while (*s && *s != '"') {
		if ((unsigned char)*s < 0x20)
			return NULL;
		if (*s == '\\') {
			s++;
			if (*s == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdef", s[i]))
						return NULL;
				s += 4;
			} else if (!strchr("\"\\/bfnrt", *s)) {
				return NULL;
			}
		}
		s++;
	}
	return *s == '"' ? s + 1 : NULL;
}

static const char *jv(const char *s)
{
	s = ws(s);
	if (*s == '"')
		return jstr(s);
	if (*s == '{' || *s == '[') {
		char close = *s == '{' ? '}' : ']';
		bool obj = *s == '{';

		s = ws(s + 1);
		if (*s == close)
			return s + 1;
		for (;;) {
			if (obj) {
				s = jstr(ws(s));
				if (!s || *(s = ws(s)) != ':')
					return NULL;
				s++;
			}
			s = jv(s);
			if (!s)
				return NULL;
			s = ws(s);
			if (*s == close)
				return s + 1;
			if (*s++ != ',')
				return NULL;
		}
	}
	if (!strncmp(s, "true", 4) || !strncmp(s, "null", 4))
		return s + 4;
	if (!strncmp(s, "false", 5))
		return s + 5;
	char *e;

	strtod(s, &e);
	return e == s ? NULL : e;
}

static bool json_line(const char *rec, size_t len)
{
	char buf[65536];
	const char *e;

	if (len == 0 || len >= sizeof(buf) || rec[len - 1] != '\n')
		return false;
	memcpy(buf, rec, len - 1);
	buf[len - 1] = '\0';
	if (memchr(buf, '\n', len - 1))
		return false;
	e = jv(buf);
	return e && *ws(e) == '\0';
}

/* ---- fixtures ---- */
static int nop(struct uoom_watch *w, const struct uoom_event *ev, void *d)
{
	(void)w, (void)ev, (void)d;
	return 0;
}

static struct uoom_watch *setup_tree(struct fx *f, struct uoom_ctx **ctx, size_t rbuf)
{
	struct uoom_params p;
	struct uoom_watch_opts o;
	struct uoom_watch *w;

	fx_init(f);
	fx_cgroup_kernel(f, "job");
	fx_cgroup_v2(f, "job/a");
	fx_cgroup_v2(f, "job/a/deep");
	fx_cgroup_v2(f, "job/b");
	fx_write(f->cg, "job/a/memory.current", "700000000\n");
	fx_task(f, "job", 10, "sh", 1000, 0, "sh -c run");
	fx_task(f, "job/a", 11, "big\"q\\", 90000, 0, "big --x");
	fx_task(f, "job/a/deep", 12, "deep", 50000, -1000, NULL);
	fx_task(f, "job/b", 13, "mid", 60000, 200, NULL);
	/* a vanished pid and a kernel thread are skipped */
	fx_write(f->cg, "job/b/cgroup.procs", "13\n999\n2\n");
	fx_write(f->proc, "2/stat", "2 (kthreadd) S 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n");
	fx_write(f->proc, "2/status", "Name:\tkthreadd\nUid:\t0\t0\t0\t0\n");
	uoom_params_init(&p);
	p.proc_root = f->proc;
	p.cgroup_root = f->cg;
	p.read_buf_size = rbuf;
	p.refresh_ms = 0;
	assert_int_equal(uoom_ctx_new(&p, ctx), 0);
	uoom_watch_opts_init(&o);
	o.cgroup = "job";
	o.handler = nop;
	assert_int_equal(uoom_watch_add(*ctx, &o, &w), 0);
	return w;
}

static void take(void **state)
{
	const struct uoom_snapshot *s;
	struct uoom_ctx *ctx;
	struct uoom_watch *w;
	struct fx f;
	char path[600];

	(void)state;
	w = setup_tree(&f, &ctx, 0);
	snprintf(path, sizeof(path), "%s/job/a", f.cg);
	bool xattr = setxattr(path, "user.uoom.priority", "7", 1, 0) == 0;

	assert_int_equal(uoom_refresh(ctx), 4);
	assert_int_equal(uoom_snapshot_take(w, &s), 0);
	assert_int_equal(s->ncgroups, 4);
	assert_string_equal(s->cgroups[0].path, "/job");
	assert_int_equal(s->ntasks, 4);
	assert_int_equal(s->tasks[0].pid, 11);	/* sorted by RSS */
	assert_int_equal(s->tasks[1].pid, 13);
	assert_int_equal(s->tasks[2].pid, 12);
	assert_int_equal(s->tasks[3].pid, 10);
	assert_int_equal(s->tasks[0].rss, 90000 * 1024);
	assert_int_equal(s->tasks[0].swap, 4096);
	assert_int_equal(s->tasks[0].uid, 1000);
	assert_string_equal(s->tasks[0].cmdline, "big --x");	/* from the cache */
	assert_true(s->tasks[2].flags & UOOM_TASK_UNKILLABLE);
	assert_int_equal(s->tasks[1].oom_score_adj, 200);
	assert_string_equal(s->cgroups[s->tasks[2].cgroup].path, "/job/a/deep");
	assert_int_equal(s->cgroups[s->tasks[0].cgroup].current, 700000000);
	assert_int_equal(s->events.max, 2);
	assert_int_equal(s->psi.some.avg10, 300);
	if (xattr) {
		/* inherited by the child cgroup */
		assert_int_equal(s->cgroups[s->tasks[0].cgroup].priority, 7);
		assert_int_equal(s->cgroups[s->tasks[2].cgroup].priority, 7);
		assert_int_equal(s->cgroups[s->tasks[1].cgroup].priority, 0);
	}
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

/* One write() per record: a SEQPACKET socket keeps write boundaries. */
static int records(struct uoom_watch *w, unsigned int what, enum uoom_format fmt,
		   char recs[][65536], size_t *lens, int max)
{
	int sv[2], n, got = 0;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	int sz = 1 << 20;

	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	n = uoom_snapshot_write(w, sv[0], what, fmt, 3);
	close(sv[0]);
	for (;;) {
		ssize_t r = recv(sv[1], recs[got], 65536, 0);

		if (r <= 0)
			break;
		assert_true(got < max);
		lens[got++] = (size_t)r;
	}
	close(sv[1]);
	assert_int_equal(n, got);
	return got;
}

static char recs[8][65536];
static size_t lens[8];

static void json_records(void **state)
{
	struct uoom_ctx *ctx;
	struct uoom_watch *w;
	struct fx f;
	int n;

	(void)state;
	w = setup_tree(&f, &ctx, 0);
	n = records(w, UOOM_SNAP_ALL, UOOM_FMT_JSON, recs, lens, 8);
	/* slabinfo is a fixture file here: readable, so 7 records */
	assert_int_equal(n, 7);
	for (int i = 0; i < n; i++) {
		recs[i][lens[i]] = '\0';
		if (!json_line(recs[i], lens[i]))
			fail_msg("record %d is not one JSON line: %s", i, recs[i]);
	}
	assert_non_null(strstr(recs[0], "\"type\":\"vmstat\""));
	assert_non_null(strstr(recs[0], "\"oom_kill\":3"));
	assert_non_null(strstr(recs[1], "\"MemTotal\":8192000000"));	/* kB -> bytes */
	assert_non_null(strstr(recs[1], "\"HugePages_Total\":0"));
	assert_non_null(strstr(recs[3], "\"anon\":1000"));
	assert_non_null(strstr(recs[5], "\"some\":{\"avg10\":3.00"));
	assert_non_null(strstr(recs[6], "\"ntasks\":4"));
	assert_non_null(strstr(recs[6], "\"comm\":\"big\\\"q\\\\\""));
	assert_null(strstr(recs[6], "\"pid\":10,"));	/* top 3 only */
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

static void text_records(void **state)
{
	struct uoom_ctx *ctx;
	struct uoom_watch *w;
	struct fx f;
	char path[600];
	int n;

	(void)state;
	w = setup_tree(&f, &ctx, 0);
	snprintf(path, sizeof(path), "%s/slabinfo", f.proc);
	unlink(path);	/* unreadable/absent slabinfo is skipped */
	n = records(w, UOOM_SNAP_ALL, UOOM_FMT_TEXT, recs, lens, 8);
	assert_int_equal(n, 6);
	for (int i = 0; i < n; i++) {
		recs[i][lens[i]] = '\0';
		assert_int_equal(strncmp(recs[i], "uoom ", 5), 0);
		assert_int_equal(recs[i][lens[i] - 1], '\n');
	}
	assert_non_null(strstr(recs[5], "ntasks=4"));
	assert_non_null(strstr(recs[5], "       11"));
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

static void truncation_keeps_records_whole(void **state)
{
	struct uoom_ctx *ctx;
	struct uoom_watch *w;
	struct fx f;
	char big[20000];
	size_t o = 0;
	int n;

	(void)state;
	w = setup_tree(&f, &ctx, 4096);	/* smallest read buffer */
	for (int i = 0; o < sizeof(big) - 64; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "counter_%d %d\n", i, i);
	fx_write(f.proc, "vmstat", "%s", big);
	n = records(w, UOOM_SNAP_VMSTAT | UOOM_SNAP_MEMINFO, UOOM_FMT_JSON, recs, lens, 8);
	assert_int_equal(n, 2);
	recs[0][lens[0]] = '\0';
	assert_true(json_line(recs[0], lens[0]));
	assert_non_null(strstr(recs[0], "\"truncated\":true"));
	assert_non_null(strstr(recs[0], "\"counter_0\":0"));
	n = records(w, UOOM_SNAP_VMSTAT, UOOM_FMT_TEXT, recs, lens, 8);
	recs[0][lens[0]] = '\0';
	assert_non_null(strstr(recs[0], "... truncated\n"));
	assert_int_equal(uoom_snapshot_write(w, -1, UOOM_SNAP_ALL, UOOM_FMT_JSON, 3), -EINVAL);
	assert_int_equal(uoom_snapshot_write(w, 1, UOOM_SNAP_ALL, 7, 3), -EINVAL);
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

static void bad_files(void **state)
{
	struct uoom_ctx *ctx;
	struct uoom_watch *w;
	struct fx f;
	int sv[2];

	(void)state;
	w = setup_tree(&f, &ctx, 0);
	fx_write(f.cg, "job/memory.pressure", "some avg10=garbage\n");
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(uoom_snapshot_write(w, sv[0], UOOM_SNAP_PSI, UOOM_FMT_JSON, 3), -EINVAL);
	assert_non_null(strstr(uoom_watch_error(w), "memory.pressure"));
	/* a closed reader: the write error is reported */
	close(sv[1]);
	assert_int_equal(uoom_snapshot_write(w, sv[0], UOOM_SNAP_MEMINFO, UOOM_FMT_JSON, 3), -EPIPE);
	close(sv[0]);
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

/*
 * Found by fuzz_task_record: a comm is any 15 bytes (prctl PR_SET_NAME);
 * one with a newline split its row in a text record and could forge a
 * whole record ("x\nuoom tasks ...") in a text log. Control characters
 * are now shown as '?' in text; JSON escapes them.
 */
static void text_task_row_with_newline_comm(void **state)
{
	struct uoom_task t = { .pid = 42, .rss = 4096, .cgroup = 0 };
	struct uoom_cgroup cg = { .path = "/job", .parent = -1 };
	struct uoom_snapshot s = { .ntasks = 1, .tasks = &t, .ncgroups = 1, .cgroups = &cg };
	char out[1024];
	ssize_t n;

	(void)state;
	memcpy(t.comm, "x\nuoom\ttasks", 13);
	t.cmdline = "";
	n = uoom__format_tasks(out, sizeof(out), "/job", &s, UOOM_FMT_TEXT, 3, 1);
	assert_true(n > 0);
	out[n] = '\0';
	assert_non_null(strstr(out, " x?uoom?tasks /job\n"));
	assert_null(strstr(out, "\nuoom\t"));
	n = uoom__format_tasks(out, sizeof(out), "/job", &s, UOOM_FMT_JSON, 3, 1);
	assert_true(n > 0);
	out[n] = '\0';
	assert_non_null(strstr(out, "\"comm\":\"x\\nuoom\\ttasks\""));
}

/*
 * A cgroup.procs larger than the read buffer: its cut last line ("13" of
 * "13999") is not a pid of this cgroup. It was taken as pid 13 (a task of
 * job/b) and counted in job/a: the wrong task in the wrong cgroup, a victim
 * outside the watched cgroup in the worst case.
 */
static void cgroup_procs_cut_mid_pid(void **state)
{
	const struct uoom_snapshot *s;
	struct uoom_ctx *ctx;
	struct uoom_watch *w;
	struct fx f;
	char procs[4200];
	size_t n = 0;

	(void)state;
	w = setup_tree(&f, &ctx, 4096);	/* smallest read buffer */
	n += (size_t)snprintf(procs, sizeof(procs), "11\n");
	while (n + 7 <= 4094 - 3)	/* vanished pids as padding */
		n += (size_t)snprintf(procs + n, sizeof(procs) - n, "999999\n");
	memset(procs + n, '9', 4094 - 1 - n);
	n = 4094;
	procs[n - 1] = '\n';
	snprintf(procs + n, sizeof(procs) - n, "13999\n");	/* cut after "13" */
	fx_write(f.cg, "job/a/cgroup.procs", "%s", procs);
	assert_int_equal(uoom_snapshot_take(w, &s), 0);
	assert_int_equal(s->ntasks, 4);
	for (size_t i = 0; i < s->ntasks; i++)
		if (s->tasks[i].pid == 13)
			assert_string_equal(s->cgroups[s->tasks[i].cgroup].path, "/job/b");
	assert_true(s->truncated);
	uoom_ctx_free(ctx);
	fx_fini(&f);
}

/*
 * Found by fuzz_records: with no room for the header, the content's roll
 * back of a pair that did not fit cleared the overflow flag, and a record
 * of only "}" and the truncation mark came out instead of -ENOBUFS.
 */
static void record_header_that_does_not_fit(void **state)
{
	static const char events[] = "low 0\nhigh 12\nmax 3\n";
	char out[200], cg[40];
	ssize_t n;

	(void)state;
	memset(cg, 'a', sizeof(cg) - 1);
	cg[0] = '/';
	cg[sizeof(cg) - 1] = '\0';
	for (unsigned int part = 0; part < 6; part++) {
		for (int fmt = 0; fmt < 2; fmt++) {
			n = uoom__format_record(out, 65, cg, part, fmt, 1, events,
						sizeof(events) - 1, false);
			assert_int_equal(n, -ENOBUFS);
		}
	}
	/* enough room: the same input gives a whole record */
	n = uoom__format_record(out, sizeof(out), "/job", 4, UOOM_FMT_JSON, 1,
				events, sizeof(events) - 1, false);
	assert_true(n > 0);
	out[n] = '\0';
	assert_string_equal(out, "{\"type\":\"memory.events\",\"time_ns\":1,"
			    "\"cgroup\":\"/job\",\"data\":{\"low\":0,\"high\":12,"
			    "\"max\":3}}\n");
	assert_int_equal(uoom__format_record(out, 64, "/", 0, UOOM_FMT_TEXT, 1, "", 0, false),
			 -EINVAL);
}

/*
 * Found by fuzz_records: the header fits exactly but the data's "{" does
 * not; the roll-back of the first pair hid that, giving "data":} (invalid
 * JSON). One byte more: an empty object marked truncated.
 */
static void record_brace_that_does_not_fit(void **state)
{
	static const char hdr[] = "{\"type\":\"memory.events\",\"time_ns\":1,"
				  "\"cgroup\":\"/job\",\"data\":";
	static const char events[] = "low 0\nhigh 12\n";
	char out[300];
	ssize_t n;

	(void)state;
	n = uoom__format_record(out, sizeof(hdr) - 1 + 64, "/job", 4, UOOM_FMT_JSON, 1,
				events, sizeof(events) - 1, false);
	assert_int_equal(n, -ENOBUFS);
	n = uoom__format_record(out, sizeof(hdr) - 1 + 65, "/job", 4, UOOM_FMT_JSON, 1,
				events, sizeof(events) - 1, false);
	assert_true(n > 0);
	out[n] = '\0';
	assert_string_equal(out + sizeof(hdr) - 1, "{},\"truncated\":true}\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(take),
		cmocka_unit_test(json_records),
		cmocka_unit_test(text_records),
		cmocka_unit_test(truncation_keeps_records_whole),
		cmocka_unit_test(bad_files),
		cmocka_unit_test(cgroup_procs_cut_mid_pid),
		cmocka_unit_test(text_task_row_with_newline_comm),
		cmocka_unit_test(record_header_that_does_not_fit),
		cmocka_unit_test(record_brace_that_does_not_fit),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("snapshot", tests, NULL, NULL);
}
