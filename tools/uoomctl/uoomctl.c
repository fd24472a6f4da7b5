// SPDX-License-Identifier: MIT
/*
 * uoomctl - inspect and set the uoom knobs of memory cgroups, watch OOM
 * episodes without registering as a handler.
 *
 *   uoomctl [status] [-j|--json] [PATH...]
 *   uoomctl set PATH delay=DURATION reserve=SIZE
 *   uoomctl watch [--count N] [--timeout SECS] [--interval MS] [PATH...]
 *
 * Global option: --cgroup-root DIR (default /sys/fs/cgroup).
 * Exit status: 0 ok, 1 bad input or a failed write, 2 the kernel or the
 * cgroup mount cannot do it (no uoom patches, no cgroup v2).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <uoom.h>

#define OOM_NOTIFY	"memory.oom_notify"
#define F_DELAY		"memory.oom_delay_millisecs"
#define F_RESERVE	"memory.oom_reserve_in_bytes"
#define MAX_DELAY_MS	60000
#define NONE		UINT64_MAX	/* a file that is absent or says "max" */

static const char *root = "/sys/fs/cgroup";

struct cg {
	char *path;			/* "/" or "/a/b", relative to root */
	struct uoom_oom_stats st;
	uint64_t delay, reserve, current, max;
	bool has_current, has_events;
	struct uoom_mem_events ev;
	/* watch */
	int events_fd;
	struct uoom_mem_events last_ev;
};

struct cglist {
	struct cg *v;
	size_t n, cap;
};

static void die_oom(void)
{
	fputs("uoomctl: out of memory\n", stderr);
	exit(1);
}

/* root + rel + "/" + file; rel is "/" or "/a/b". */
static void cg_file(char *buf, size_t len, const char *rel, const char *file)
{
	snprintf(buf, len, "%s%s%s%s", root, strcmp(rel, "/") ? rel : "",
		 file ? "/" : "", file ? file : "");
}

static ssize_t read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return n;
}

/* A one-value file: a number or "max" (NONE). */
static int read_u64(const char *rel, const char *file, uint64_t *v)
{
	char path[PATH_MAX], buf[64], *end;
	ssize_t n;

	cg_file(path, sizeof(path), rel, file);
	n = read_text(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	if (!strncmp(buf, "max", 3)) {
		*v = NONE;
		return 0;
	}
	errno = 0;
	*v = strtoull(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n'))
		return -EINVAL;
	return 0;
}

static bool has_file(const char *rel, const char *file)
{
	char path[PATH_MAX];

	cg_file(path, sizeof(path), rel, file);
	return access(path, F_OK) == 0;
}

/* Read everything status shows; -errno naming nothing (caller names). */
static int cg_read(struct cg *c)
{
	char path[PATH_MAX], buf[4096];
	ssize_t n;
	int ret;

	cg_file(path, sizeof(path), c->path, OOM_NOTIFY);
	n = read_text(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	ret = uoom_parse_oom_stats(buf, (size_t)n, &c->st);
	if (ret)
		return ret;
	if (read_u64(c->path, F_DELAY, &c->delay))
		c->delay = NONE;
	if (read_u64(c->path, F_RESERVE, &c->reserve))
		c->reserve = NONE;
	c->has_current = !read_u64(c->path, "memory.current", &c->current);
	if (read_u64(c->path, "memory.max", &c->max))
		c->max = NONE;
	cg_file(path, sizeof(path), c->path, "memory.events");
	n = read_text(path, buf, sizeof(buf));
	c->has_events = n >= 0 &&
		!uoom_parse_mem_events(buf, (size_t)n, &c->ev);
	return 0;
}

static void list_add(struct cglist *l, const char *rel)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			die_oom();
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	l->v[l->n].path = strdup(rel);
	l->v[l->n].events_fd = -1;
	if (!l->v[l->n].path)
		die_oom();
	l->n++;
}

static bool list_has(const struct cglist *l, const char *rel)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].path, rel))
			return true;
	return false;
}

static int dir_filter(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* rel and every cgroup below it that has memory.oom_notify, sorted. */
static void walk(struct cglist *l, const char *rel)
{
	char path[PATH_MAX], sub[PATH_MAX];
	struct dirent **ents;
	struct stat sb;
	int n;

	if (has_file(rel, OOM_NOTIFY) && !list_has(l, rel))
		list_add(l, rel);
	cg_file(path, sizeof(path), rel, NULL);
	n = scandir(path, &ents, dir_filter, alphasort);
	if (n < 0)
		return;
	for (int i = 0; i < n; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", strcmp(rel, "/") ? rel : "",
			 ents[i]->d_name);
		cg_file(path, sizeof(path), sub, NULL);
		if (!stat(path, &sb) && S_ISDIR(sb.st_mode))
			walk(l, sub);
		free(ents[i]);
	}
	free(ents);
}

/* "/sys/fs/cgroup/a", "/a", "a" -> "/a"; the root -> "/". */
static int norm_path(const char *arg, char *out, size_t len)
{
	size_t rl = strlen(root);
	const char *p = arg;

	if (!strncmp(arg, root, rl) && (arg[rl] == '/' || !arg[rl]))
		p = arg + rl;
	while (*p == '/')
		p++;
	snprintf(out, len, "/%s", p);
	for (size_t i = strlen(out); i > 1 && out[i - 1] == '/'; i--)
		out[i - 1] = '\0';
	if (strstr(out, "/../") || !strcmp(out, "/..") ||
	    (strlen(out) >= 3 && !strcmp(out + strlen(out) - 3, "/.."))) {
		fprintf(stderr, "uoomctl: %s: '..' is not allowed in a cgroup path\n",
			arg);
		return -EINVAL;
	}
	return 0;
}

/* A PATH argument that must name a cgroup with the uoom files. */
static int check_cgroup(const char *arg, char *rel, size_t len)
{
	char path[PATH_MAX];

	if (norm_path(arg, rel, len))
		return 1;
	cg_file(path, sizeof(path), rel, NULL);
	if (access(path, F_OK)) {
		fprintf(stderr, "uoomctl: %s: no such cgroup (%s does not exist)\n",
			arg, path);
		return 1;
	}
	if (!has_file(rel, OOM_NOTIFY)) {
		cg_file(path, sizeof(path), rel, OOM_NOTIFY);
		fprintf(stderr, "uoomctl: %s: %s does not exist: enable the memory "
			"controller for it (+memory in its parent's "
			"cgroup.subtree_control)\n", arg, path);
		return 1;
	}
	return 0;
}

/* Exit 2 unless root is a cgroup v2 hierarchy on a uoom kernel. */
static void check_kernel(void)
{
	char path[PATH_MAX];
	struct utsname u;

	cg_file(path, sizeof(path), "/", "cgroup.controllers");
	if (access(path, F_OK)) {
		fprintf(stderr, "uoomctl: cgroup v2 is not mounted at %s (%s does "
			"not exist): mount it with 'mount -t cgroup2 none %s', or "
			"give --cgroup-root\n", root, path, root);
		exit(2);
	}
	cg_file(path, sizeof(path), "/", OOM_NOTIFY);
	if (access(path, F_OK)) {
		if (uname(&u))
			strcpy(u.release, "unknown");
		fprintf(stderr, "uoomctl: this kernel (%s) has no uoom patches: %s "
			"does not exist; see kernel-patches/ in the uoom sources "
			"(apply the series, enable CONFIG_MEMCG_OOM_HANDLER)\n",
			u.release, path);
		exit(2);
	}
}

/* Collect PATHs (and what is below them), or the whole tree. */
static int collect(struct cglist *l, int argc, char **argv)
{
	char rel[PATH_MAX];

	if (argc == 0) {
		walk(l, "/");
		return 0;
	}
	for (int i = 0; i < argc; i++) {
		if (check_cgroup(argv[i], rel, sizeof(rel)))
			return 1;
		walk(l, rel);
	}
	return 0;
}

/* ---- status ------------------------------------------------------------ */

/* 8388608 -> "8M", 1610612736 -> "1.5G", 1000 -> "1000". */
static void human(char *buf, size_t len, uint64_t v)
{
	static const char units[] = "KMGTPE";
	double d = (double)v;
	int u = -1;

	if (v == NONE) {
		snprintf(buf, len, "max");
		return;
	}
	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%" PRIu64, v);
	else if (v % (1ull << (10 * (u + 1))) == 0)
		snprintf(buf, len, "%.0f%c", d, units[u]);
	else
		snprintf(buf, len, "%.1f%c", d, units[u]);
}

#define NCOL 14
static const char *const heads[NCOL] = {
	"PATH", "HANDLERS", "UNDER_OOM", "EPISODES", "RESOLVED", "FALLBACK",
	"DELAY", "RESERVE", "CHARGED", "CURRENT", "MAX", "OOM", "OOM_KILL", "",
};

static void print_table(const struct cglist *l)
{
	char (*cell)[NCOL][32] = calloc(l->n + 1, sizeof(*cell));
	size_t w[NCOL] = { 0 };
	int ncol = NCOL - 1;

	if (!cell)
		die_oom();
	for (int c = 0; c < ncol; c++)
		snprintf(cell[0][c], sizeof(cell[0][c]), "%s", heads[c]);
	for (size_t i = 0; i < l->n; i++) {
		const struct cg *g = &l->v[i];
		char (*r)[32] = cell[i + 1];

		snprintf(r[1], 32, "%" PRIu64, g->st.handlers);
		snprintf(r[2], 32, "%" PRIu64, g->st.under_oom);
		snprintf(r[3], 32, "%" PRIu64, g->st.oom_episodes);
		snprintf(r[4], 32, "%" PRIu64, g->st.oom_resolved);
		snprintf(r[5], 32, "%" PRIu64, g->st.oom_fallback);
		if (g->delay == NONE)
			snprintf(r[6], 32, "-");
		else
			snprintf(r[6], 32, "%" PRIu64 "ms", g->delay);
		if (g->reserve == NONE)
			snprintf(r[7], 32, "-");
		else
			human(r[7], 32, g->reserve);
		human(r[8], 32, g->st.reserve_charged);
		if (g->has_current)
			human(r[9], 32, g->current);
		else
			snprintf(r[9], 32, "-");
		if (!strcmp(g->path, "/"))
			snprintf(r[10], 32, "-");
		else
			human(r[10], 32, g->max);
		if (g->has_events) {
			snprintf(r[11], 32, "%" PRIu64, g->ev.oom);
			snprintf(r[12], 32, "%" PRIu64, g->ev.oom_kill);
		} else {
			snprintf(r[11], 32, "-");
			snprintf(r[12], 32, "-");
		}
	}
	for (size_t i = 0; i <= l->n; i++)
		for (int c = 1; c < ncol; c++)
			if (strlen(cell[i][c]) > w[c])
				w[c] = strlen(cell[i][c]);
	w[0] = 4;
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->v[i].path) > w[0])
			w[0] = strlen(l->v[i].path);
	for (size_t i = 0; i <= l->n; i++) {
		printf("%-*s", (int)w[0], i ? l->v[i - 1].path : heads[0]);
		for (int c = 1; c < ncol; c++)
			printf("  %*s", (int)w[c], cell[i][c]);
		putchar('\n');
	}
	free(cell);
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void json_u64(const char *key, uint64_t v, bool valid)
{
	if (valid && v != NONE)
		printf(", \"%s\": %" PRIu64, key, v);
	else
		printf(", \"%s\": null", key);
}

/* One array; every object has every key, null when the file is absent
 * (memory_max null: no limit). */
static void print_json(const struct cglist *l)
{
	printf("[");
	for (size_t i = 0; i < l->n; i++) {
		const struct cg *g = &l->v[i];

		printf("%s\n  {\"path\": ", i ? "," : "");
		json_str(g->path);
		json_u64("handlers", g->st.handlers, true);
		json_u64("under_oom", g->st.under_oom, true);
		json_u64("oom_episodes", g->st.oom_episodes, true);
		json_u64("oom_resolved", g->st.oom_resolved, true);
		json_u64("oom_fallback", g->st.oom_fallback, true);
		json_u64("delay_ms", g->delay, true);
		json_u64("reserve", g->reserve, true);
		json_u64("reserve_charged", g->st.reserve_charged, true);
		json_u64("memory_current", g->current, g->has_current);
		json_u64("memory_max", g->max, strcmp(g->path, "/"));
		json_u64("oom", g->ev.oom, g->has_events);
		json_u64("oom_kill", g->ev.oom_kill, g->has_events);
		printf("}");
	}
	printf("%s]\n", l->n ? "\n" : "");
}

static int cmd_status(int argc, char **argv, bool json)
{
	struct cglist l = { 0 };
	char path[PATH_MAX];
	int ret;

	if (collect(&l, argc, argv))
		return 1;
	for (size_t i = 0; i < l.n; i++) {
		ret = cg_read(&l.v[i]);
		if (ret) {
			cg_file(path, sizeof(path), l.v[i].path, OOM_NOTIFY);
			fprintf(stderr, "uoomctl: %s: %s\n", path, strerror(-ret));
			return 1;
		}
	}
	if (json)
		print_json(&l);
	else
		print_table(&l);
	return 0;
}

/* ---- set ------------------------------------------------------------------ */

/* "500ms", "2s", "1500" (ms). */
static int parse_duration(const char *s, uint64_t *ms)
{
	char *end;
	uint64_t v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	if (!strcmp(end, "s")) {
		if (v > UINT64_MAX / 1000)
			return -ERANGE;
		v *= 1000;
	} else if (*end && strcmp(end, "ms")) {
		return -EINVAL;
	}
	*ms = v;
	return 0;
}

/* "8388608", "64K", "8M", "1G" (powers of 1024, case-insensitive). */
static int parse_size(const char *s, uint64_t *bytes)
{
	const char *units = "kmgt";
	char *end, *u;
	uint64_t v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	if (*end) {
		u = strchr(units, end[0] | 0x20);
		if (!u || end[1])
			return -EINVAL;
		for (long i = 0; i <= u - units; i++) {
			if (v > UINT64_MAX / 1024)
				return -ERANGE;
			v *= 1024;
		}
	}
	*bytes = v;
	return 0;
}

struct setting {
	const char *file;
	char value[32];
	uint64_t v;
};

static int parse_setting(const char *arg, struct setting *s)
{
	const char *eq = strchr(arg, '=');
	const char *val = eq ? eq + 1 : "";
	size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);
	int ret;

	if (!eq || !*val) {
		fprintf(stderr, "uoomctl: %s: expected KEY=VALUE (delay=1s, "
			"reserve=8M)\n", arg);
		return 1;
	}
	if (klen == 5 && !strncmp(arg, "delay", 5)) {
		s->file = F_DELAY;
		ret = parse_duration(val, &s->v);
		if (ret) {
			fprintf(stderr, "uoomctl: %s: not a duration (use "
				"milliseconds or a ms/s suffix: 500ms, 2s)\n", arg);
			return 1;
		}
		if (s->v > MAX_DELAY_MS) {
			fprintf(stderr, "uoomctl: %s: %" PRIu64 " ms is out of "
				"range (%s takes 0..%d ms)\n", arg, s->v,
				F_DELAY, MAX_DELAY_MS);
			return 1;
		}
	} else if (klen == 7 && !strncmp(arg, "reserve", 7)) {
		s->file = F_RESERVE;
		if (!strcmp(val, "max")) {
			fprintf(stderr, "uoomctl: %s: the reserve must be a size, "
				"\"max\" is not allowed (e.g. reserve=8M)\n", arg);
			return 1;
		}
		ret = parse_size(val, &s->v);
		if (ret) {
			fprintf(stderr, "uoomctl: %s: %s (use bytes or a K, M, G "
				"suffix: 8M)\n", arg, ret == -ERANGE ?
				"too large" : "not a size");
			return 1;
		}
	} else {
		fprintf(stderr, "uoomctl: %s: unknown setting '%.*s' (use "
			"delay=DURATION or reserve=SIZE)\n", arg, (int)klen, arg);
		return 1;
	}
	snprintf(s->value, sizeof(s->value), "%" PRIu64, s->v);
	return 0;
}

static void explain(int err, const struct setting *s, const char *rel)
{
	struct cg c = { .path = (char *)rel };

	switch (err) {
	case EBUSY:
		if (cg_read(&c) == 0)
			fprintf(stderr, "  %" PRIu64 " bytes of the reserve are "
				"charged by the OOM episode in progress "
				"(reserve_charged in %s): the reserve cannot go "
				"below that until the episode ends\n",
				c.st.reserve_charged, OOM_NOTIFY);
		else
			fprintf(stderr, "  the reserve is in use by an OOM "
				"episode: retry when it has ended\n");
		break;
	case EINVAL:
		fprintf(stderr, "  the kernel rejected %s for %s\n", s->value,
			s->file);
		break;
	case EACCES:
	case EPERM:
		fprintf(stderr, "  run as root (CAP_SYS_RESOURCE for the root "
			"cgroup)\n");
		break;
	}
}

static int cmd_set(int argc, char **argv)
{
	struct setting set[8];
	char rel[PATH_MAX], path[PATH_MAX];
	int n = argc - 1, fails = 0;
	struct cg c;

	if (argc < 2) {
		fprintf(stderr, "uoomctl: usage: uoomctl set PATH delay=DURATION "
			"reserve=SIZE\n");
		return 1;
	}
	if (n > (int)(sizeof(set) / sizeof(set[0]))) {
		fprintf(stderr, "uoomctl: set: too many settings\n");
		return 1;
	}
	/* Validate everything before writing anything. */
	for (int i = 0; i < n; i++)
		if (parse_setting(argv[i + 1], &set[i]))
			return 1;
	if (check_cgroup(argv[0], rel, sizeof(rel)))
		return 1;
	memset(&c, 0, sizeof(c));
	c.path = rel;
	for (int i = 0; i < n; i++) {
		if (strcmp(set[i].file, F_RESERVE) || cg_read(&c))
			continue;
		if (set[i].v < c.st.reserve_charged) {
			fprintf(stderr, "uoomctl: %s: %" PRIu64 " bytes of the "
				"reserve are charged by the OOM episode in "
				"progress (reserve_charged in %s); the kernel "
				"refuses a lower reserve (EBUSY): retry when the "
				"episode has ended\n", argv[i + 1],
				c.st.reserve_charged, OOM_NOTIFY);
			return 1;
		}
	}
	for (int i = 0; i < n; i++) {
		ssize_t len = (ssize_t)strlen(set[i].value);
		int fd, err = 0;

		cg_file(path, sizeof(path), rel, set[i].file);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			err = errno;
		else if (write(fd, set[i].value, (size_t)len) != len)
			err = errno ? errno : EIO;
		if (fd >= 0 && close(fd) && !err)
			err = errno;
		if (err) {
			fprintf(stderr, "uoomctl: writing \"%s\" to %s: %s (%s)\n",
				set[i].value, path, strerror(err),
				strerrorname_np(err) ? strerrorname_np(err) : "?");
			explain(err, &set[i], rel);
			fails++;
		}
	}
	/* Read back what the kernel has now. */
	for (int i = 0; i < n; i++) {
		char h[32];
		uint64_t v;

		cg_file(path, sizeof(path), rel, set[i].file);
		if (read_u64(rel, set[i].file, &v)) {
			fprintf(stderr, "uoomctl: reading back %s failed\n", path);
			fails++;
			continue;
		}
		if (!strcmp(set[i].file, F_DELAY)) {
			printf("%s: %s %" PRIu64 " (ms)\n", rel, set[i].file, v);
		} else {
			human(h, sizeof(h), v);
			printf("%s: %s %" PRIu64 " (%s)\n", rel, set[i].file, v, h);
		}
	}
	return fails ? 1 : 0;
}

/* ---- watch ---------------------------------------------------------------- */

static volatile sig_atomic_t stop_sig;

static void on_signal(int sig)
{
	stop_sig = sig;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void stamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);

	snprintf(buf + n, len - n, ".%03dZ", (int)(ts.tv_nsec / 1000000));
}

/* memory.events.local (this cgroup's own kills), else memory.events. */
static int open_events(const char *rel)
{
	char path[PATH_MAX];
	int fd;

	cg_file(path, sizeof(path), rel, "memory.events.local");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cg_file(path, sizeof(path), rel, "memory.events");
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	return fd;
}

static bool read_events(int fd, struct uoom_mem_events *ev)
{
	char buf[1024];
	ssize_t n;

	if (fd < 0)
		return false;
	n = pread(fd, buf, sizeof(buf) - 1, 0);	/* also re-arms POLLPRI */
	return n > 0 && !uoom_parse_mem_events(buf, (size_t)n, ev);
}

struct change {
	const char *what;
	uint64_t old, now;
};

/* Compare c's counters with fresh ones; print one line per change.
 * Returns the number of events printed, -1 when the cgroup is gone. */
static int poll_cg(struct cg *c)
{
	struct uoom_oom_stats st;
	struct uoom_mem_events ev = c->last_ev;
	char path[PATH_MAX], buf[4096], ts[40];
	struct change ch[4];
	int nch = 0, printed = 0;
	ssize_t n;

	cg_file(path, sizeof(path), c->path, OOM_NOTIFY);
	n = read_text(path, buf, sizeof(buf));
	/* Gone with its cgroup: stop watching it. */
	if (n == -ENOENT || n == -ENODEV)
		return -1;
	/* Anything else (a read caught mid-rewrite): keep the old counters
	 * and look again next round, so that no change is lost. */
	if (n < 0 || uoom_parse_oom_stats(buf, (size_t)n, &st))
		return 0;
	if (c->events_fd >= 0)
		read_events(c->events_fd, &ev);
	ch[nch++] = (struct change){ "episode started", c->st.oom_episodes,
				     st.oom_episodes };
	ch[nch++] = (struct change){ "episode resolved", c->st.oom_resolved,
				     st.oom_resolved };
	ch[nch++] = (struct change){ "fallback: the kernel OOM killer ran",
				     c->st.oom_fallback, st.oom_fallback };
	ch[nch++] = (struct change){ "oom_kill", c->last_ev.oom_kill,
				     ev.oom_kill };
	for (int i = 0; i < nch; i++) {
		if (ch[i].now <= ch[i].old)
			continue;
		stamp(ts, sizeof(ts));
		printf("%s %s %s (%" PRIu64 " -> %" PRIu64 ") handlers %" PRIu64
		       " under_oom %" PRIu64 "\n", ts, c->path, ch[i].what,
		       ch[i].old, ch[i].now, st.handlers, st.under_oom);
		printed++;
	}
	fflush(stdout);
	c->st = st;
	c->last_ev = ev;
	return printed;
}

static void watch_add(struct cglist *l, const char *rel)
{
	struct cg *c;

	list_add(l, rel);
	c = &l->v[l->n - 1];
	c->events_fd = open_events(rel);
	read_events(c->events_fd, &c->last_ev);
	if (cg_read(c))
		memset(&c->st, 0, sizeof(c->st));
}

static int cmd_watch(int argc, char **argv, long count, long timeout_s,
		     long interval_ms)
{
	struct cglist found = { 0 }, l = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t deadline = timeout_s > 0 ? now_ms() + 1000 * (uint64_t)timeout_s : 0;
	uint64_t next_scan = 0;
	struct pollfd *pfd = NULL;
	long seen = 0;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!stop_sig) {
		size_t np = 0;
		uint64_t t = now_ms();
		int ms = (int)interval_ms;

		if (t >= next_scan) {	/* cgroups created since are watched */
			found.n = 0;
			if (collect(&found, argc, argv))
				return 1;
			for (size_t i = 0; i < found.n; i++) {
				if (!list_has(&l, found.v[i].path))
					watch_add(&l, found.v[i].path);
				free(found.v[i].path);
			}
			if (!next_scan)
				fprintf(stderr, "uoomctl: watching %zu cgroup%s "
					"(read-only: not registered as a "
					"handler)\n", l.n, l.n == 1 ? "" : "s");
			next_scan = t + 1000;
			free(pfd);
			pfd = calloc(l.n + 1, sizeof(*pfd));
			if (!pfd)
				die_oom();
		}
		for (size_t i = 0; i < l.n; i++) {
			if (l.v[i].events_fd < 0)
				continue;
			pfd[np].fd = l.v[i].events_fd;
			pfd[np++].events = POLLPRI;
		}
		if (deadline && deadline - t < (uint64_t)ms)
			ms = (int)(deadline > t ? deadline - t : 0);
		poll(pfd, np, ms);
		for (size_t i = 0; i < l.n; i++) {
			int r = poll_cg(&l.v[i]);

			if (r < 0) {	/* removed: stop watching it */
				if (l.v[i].events_fd >= 0)
					close(l.v[i].events_fd);
				free(l.v[i].path);
				l.v[i--] = l.v[--l.n];
				continue;
			}
			seen += r;
		}
		if (count > 0 && seen >= count)
			return 0;
		if (deadline && now_ms() >= deadline) {
			if (count > 0) {
				fprintf(stderr, "uoomctl: watch: timeout after "
					"%ld s with %ld of %ld events\n",
					timeout_s, seen, count);
				return 1;
			}
			return 0;
		}
	}
	return 0;
}

/* ---- main ------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fputs("usage: uoomctl [--cgroup-root DIR] [status] [-j|--json] [PATH...]\n"
	      "       uoomctl [--cgroup-root DIR] set PATH [delay=DURATION] "
	      "[reserve=SIZE]\n"
	      "       uoomctl [--cgroup-root DIR] watch [--count N] "
	      "[--timeout SECS] [--interval MS] [PATH...]\n"
	      "See uoomctl(8).\n", f);
}

static long num_arg(const char *opt, const char *s, long min)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min) {
		fprintf(stderr, "uoomctl: %s %s: expected a whole number >= %ld\n",
			opt, s, min);
		exit(1);
	}
	return v;
}

struct ctl_opts {
	long count, timeout_s, interval_ms;
	bool json;
};

/*
 * The options of argv[1..] up to the first non-option word; returns -1 to go
 * on, or the exit status (--help, a bad option).
 */
static int parse_opts(int argc, char **argv, struct ctl_opts *op)
{
	static const struct option opts[] = {
		{ "cgroup-root", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "interval", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	while ((o = getopt_long(argc, argv, "+jh", opts, NULL)) != -1) {
		switch (o) {
		case 'r': root = optarg; break;
		case 'j': op->json = true; break;
		case 'c': op->count = num_arg("--count", optarg, 1); break;
		case 't': op->timeout_s = num_arg("--timeout", optarg, 1); break;
		case 'i': op->interval_ms = num_arg("--interval", optarg, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct ctl_opts op = { .interval_ms = 200 };
	const char *cmd = "status";
	int rc;

	rc = parse_opts(argc, argv, &op);
	if (rc >= 0)
		return rc;
	if (optind < argc && (!strcmp(argv[optind], "status") ||
			      !strcmp(argv[optind], "set") ||
			      !strcmp(argv[optind], "watch")))
		cmd = argv[optind++];
	/* Options may also follow the command. */
	optind--;
	argv[optind] = (char *)cmd;
	argc -= optind;
	argv += optind;
	optind = 1;
	rc = parse_opts(argc, argv, &op);
	if (rc >= 0)
		return rc;
	argc -= optind;
	argv += optind;
	check_kernel();
	if (!strcmp(cmd, "set"))
		return cmd_set(argc, argv);
	if (!strcmp(cmd, "watch"))
		return cmd_watch(argc, argv, op.count, op.timeout_s, op.interval_ms);
	return cmd_status(argc, argv, op.json);
}
