/* SPDX-License-Identifier: MIT */
/*
 * config.c - parse and validate uoomd.conf (libinih), as a pure function.
 *
 * libinih hands the callback a section, key and value but no line number,
 * so the buffer is fed to ini_parse_stream() through our own line reader,
 * which counts lines, sees section headers (also empty ones) and catches the
 * syntax errors itself so every message can name FILE:LINE.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ini.h>
#include "config.h"

enum key {
	/* [daemon] */
	K_LOG, K_LOG_FORMAT, K_METRICS, K_METRICS_INTERVAL, K_RESCAN,
	K_CGROUP_ROOT, K_PROC_ROOT, K_DRY_RUN,
	/* [watch NAME] */
	K_CGROUP, K_BACKEND, K_DELAY, K_RESERVE, K_PSI_TRIGGER, K_POLICY,
	K_ACTION, K_PREFER, K_AVOID, K_PROTECT, K_PRIORITY, K_MIN_RSS,
	K_SNAPSHOT, K_TOP, K_GRANT, K_HIGH, K_WARN_SIGNAL, K_GRACE,
	K_KILL_TIMEOUT, K_SETTLE,
	K_NKEYS
};

static const char *const key_names[K_NKEYS] = {
	[K_LOG] = "log", [K_LOG_FORMAT] = "log_format", [K_METRICS] = "metrics",
	[K_METRICS_INTERVAL] = "metrics_interval", [K_RESCAN] = "rescan",
	[K_CGROUP_ROOT] = "cgroup_root", [K_PROC_ROOT] = "proc_root",
	[K_DRY_RUN] = "dry_run",
	[K_CGROUP] = "cgroup", [K_BACKEND] = "backend", [K_DELAY] = "delay",
	[K_RESERVE] = "reserve", [K_PSI_TRIGGER] = "psi_trigger",
	[K_POLICY] = "policy", [K_ACTION] = "action", [K_PREFER] = "prefer",
	[K_AVOID] = "avoid", [K_PROTECT] = "protect", [K_PRIORITY] = "priority",
	[K_MIN_RSS] = "min_rss", [K_SNAPSHOT] = "snapshot", [K_TOP] = "top",
	[K_GRANT] = "grant", [K_HIGH] = "high", [K_WARN_SIGNAL] = "warn_signal",
	[K_GRACE] = "grace", [K_KILL_TIMEOUT] = "kill_timeout",
	[K_SETTLE] = "settle",
};

#define FIRST_WATCH_KEY K_CGROUP
#define SEC_NONE	(-1)	/* before any section */
#define SEC_DAEMON	(-2)
#define SEC_UNKNOWN	(-3)	/* an unknown section: its keys are skipped */

struct pstate {
	struct uoomd_config *cfg;
	const char *name;
	const char *buf;
	size_t len, pos;
	unsigned int line;
	bool cont;		/* this line continues the previous key */
	bool have_prev;		/* a key was seen since the last header */
	bool bad_line;		/* the reader already reported this line */
	int sec;		/* watch index, or SEC_* */
	unsigned int keyline[UOOMD_MAX_SECTIONS + 1][K_NKEYS];
	unsigned int daemon_line;
	char *err;
	size_t errlen, errpos;
	unsigned int nerr;
};

static void perr(struct pstate *st, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void perr(struct pstate *st, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	st->nerr++;
	if (!st->err || st->errpos + 1 >= st->errlen)
		return;
	if (line)
		n = snprintf(st->err + st->errpos, st->errlen - st->errpos, "%s:%u: ",
			     st->name, line);
	else
		n = snprintf(st->err + st->errpos, st->errlen - st->errpos, "%s: ",
			     st->name);
	if (n > 0)
		st->errpos = st->errpos + (size_t)n >= st->errlen ? st->errlen - 1 :
								 st->errpos + (size_t)n;
	va_start(ap, fmt);
	n = vsnprintf(st->err + st->errpos, st->errlen - st->errpos, fmt, ap);
	va_end(ap);
	if (n > 0)
		st->errpos = st->errpos + (size_t)n >= st->errlen ? st->errlen - 1 :
								 st->errpos + (size_t)n;
	if (st->errpos + 1 < st->errlen) {
		st->err[st->errpos++] = '\n';
		st->err[st->errpos] = '\0';
	}
}

/* ---- value parsers ------------------------------------------------------ */

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static int parse_u64(const char *s, uint64_t *v, const char **end)
{
	uint64_t x = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	while (isdigit((unsigned char)*s)) {
		unsigned int d = (unsigned int)(*s - '0');

		if (x > (UINT64_MAX - d) / 10)
			return -ERANGE;
		x = x * 10 + d;
		s++;
	}
	*v = x;
	*end = s;
	return 0;
}

int uoomd_parse_size(const char *s, uint64_t *out)
{
	uint64_t v, mul = 1;
	const char *e;
	int ret = parse_u64(s, &v, &e);

	if (ret)
		return ret;
	switch (toupper((unsigned char)*e)) {
	case 'K': mul = 1ull << 10; e++; break;
	case 'M': mul = 1ull << 20; e++; break;
	case 'G': mul = 1ull << 30; e++; break;
	case 'T': mul = 1ull << 40; e++; break;
	default: break;
	}
	if (mul > 1 && (*e == 'i' || *e == 'I') && (e[1] == 'B' || e[1] == 'b'))
		e += 2;
	else if (*e == 'B' || *e == 'b')
		e++;
	if (*e)
		return -EINVAL;
	if (v > UINT64_MAX / mul)
		return -ERANGE;
	*out = v * mul;
	return 0;
}

int uoomd_parse_duration(const char *s, uint64_t *ms)
{
	uint64_t v, mul = 1;
	const char *e;
	int ret = parse_u64(s, &v, &e);

	if (ret)
		return ret;
	if (!strcmp(e, "ms") || !*e)
		mul = 1;
	else if (!strcmp(e, "s"))
		mul = 1000;
	else if (!strcmp(e, "m") || !strcmp(e, "min"))
		mul = 60000;
	else
		return -EINVAL;
	if (v > UINT64_MAX / mul)
		return -ERANGE;
	*ms = v * mul;
	return 0;
}

int uoomd_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i]))
			return *out = true, 0;
		if (!strcasecmp(s, no[i]))
			return *out = false, 0;
	}
	return -EINVAL;
}

static const struct { const char *name; int sig; } signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM },
	{ "CONT", SIGCONT }, { "PWR", SIGPWR }, { "XCPU", SIGXCPU },
	{ "KILL", SIGKILL },
};

int uoomd_parse_signal(const char *s, int *sig)
{
	uint64_t v;
	const char *e;

	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		if (!strcasecmp(s, signals[i].name))
			return *sig = signals[i].sig, 0;
	}
	if (!parse_u64(s, &v, &e) && !*e && v >= 1 && v <= 64)
		return *sig = (int)v, 0;
	return -EINVAL;
}

const char *uoomd_signal_name(int sig)
{
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		if (signals[i].sig == sig)
			return signals[i].name;
	}
	return "?";
}

static const char *const action_names[] = {
	[UOOMD_ACT_KILL] = "kill", [UOOMD_ACT_KILL_CGROUP] = "kill-cgroup",
	[UOOMD_ACT_THROTTLE] = "throttle", [UOOMD_ACT_WARN_KILL] = "warn-kill",
	[UOOMD_ACT_LOG] = "log",
};

static const char *const policy_names[] = {
	[UOOM_POLICY_LARGEST_RSS] = "largest-rss",
	[UOOM_POLICY_LARGEST_CGROUP] = "largest-cgroup",
	[UOOM_POLICY_PRIORITY] = "priority",
};

const char *uoomd_action_name(enum uoomd_action a)
{
	return (unsigned int)a < 5 ? action_names[a] : "?";
}

const char *uoomd_policy_name(enum uoom_policy_kind p)
{
	return (unsigned int)p < 3 ? policy_names[p] : "?";
}

static const char *const snap_names[] = {
	"vmstat", "meminfo", "slabinfo", "memstat", "events", "psi", "tasks",
};

/* ---- defaults ------------------------------------------------------------- */

void uoomd_watch_defaults(struct uoomd_watch_cfg *w)
{
	memset(w, 0, sizeof(*w));
	w->delay_ms = 1000;
	w->reserve = 8ull << 20;
	strcpy(w->psi_trigger, "some 150000 1000000");
	w->policy = UOOM_POLICY_LARGEST_RSS;
	w->action = UOOMD_ACT_KILL;
	w->min_rss = 0;
	w->snapshot = UOOM_SNAP_MEMSTAT | UOOM_SNAP_EVENTS | UOOM_SNAP_PSI |
		      UOOM_SNAP_TASKS;
	w->top = 10;
	w->grant = 32ull << 20;
	w->warn_signal = SIGTERM;
	w->grace_ms = 2000;
	w->kill_timeout_ms = 5000;
	w->settle_ms = 1000;
	for (unsigned int i = 0; i <= UOOMD_MAX_LIST; i++)
		w->cgroup.item[i] = w->prefer.item[i] = w->avoid.item[i] =
			w->protect.item[i] = w->priority.item[i] = NULL;
}

void uoomd_config_defaults(struct uoomd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->log = UOOMD_LOG_STDERR;
	cfg->log_format = UOOM_FMT_TEXT;
	cfg->metrics_interval_ms = 10000;
	cfg->rescan_ms = 1000;
	strcpy(cfg->cgroup_root, "/sys/fs/cgroup");
	strcpy(cfg->proc_root, "/proc");
}

/* ---- keys ------------------------------------------------------------------ */

#define BAD(fmt, ...) \
	perr(st, st->line, "key '%s': value '%s' " fmt, key_names[k], v, ##__VA_ARGS__)

static bool dur_key(struct pstate *st, enum key k, const char *v, uint64_t min,
		    uint64_t max, const char *range, unsigned int *out)
{
	uint64_t ms;
	int ret = uoomd_parse_duration(v, &ms);

	if (ret == -EINVAL) {
		BAD("is not a duration: use e.g. 500ms or 2s (a bare number is milliseconds), range %s",
		    range);
		return false;
	}
	if (ret || ms < min || ms > max) {
		BAD("is out of range %s", range);
		return false;
	}
	*out = (unsigned int)ms;
	return true;
}

static bool size_key(struct pstate *st, enum key k, const char *v, uint64_t max,
		     const char *range, uint64_t *out)
{
	uint64_t b;
	int ret = uoomd_parse_size(v, &b);

	if (ret == -EINVAL) {
		BAD("is not a size: use bytes or a K, M, G or T suffix (4096, 64K, 16M, 1G), range %s",
		    range);
		return false;
	}
	if (ret || b > max) {
		BAD("is out of range %s", range);
		return false;
	}
	*out = b;
	return true;
}

static bool path_key(struct pstate *st, enum key k, const char *v, char *dst)
{
	if (v[0] != '/') {
		BAD("is not an absolute path: it must start with '/'");
		return false;
	}
	if (strlen(v) >= UOOMD_PATH_LEN) {
		BAD("is too long (at most %d characters)", UOOMD_PATH_LEN - 1);
		return false;
	}
	strcpy(dst, v);
	return true;
}

static void list_set(struct pstate *st, enum key k, struct uoomd_list *l,
		     const char *v, bool append)
{
	size_t cur = append ? strlen(l->text) : 0;
	size_t n = strlen(v);

	if (cur + (cur ? 1 : 0) + n >= sizeof(l->text)) {
		perr(st, st->line, "key '%s': the list is too long (at most %zu characters)",
		     key_names[k], sizeof(l->text) - 1);
		return;
	}
	if (cur)
		l->text[cur++] = ' ';
	memcpy(l->text + cur, v, n + 1);
}

static bool is_list_key(enum key k)
{
	return k == K_CGROUP || k == K_PREFER || k == K_AVOID || k == K_PROTECT ||
	       k == K_PRIORITY || k == K_SNAPSHOT;
}

static struct uoomd_list *list_of(struct uoomd_watch_cfg *w, enum key k)
{
	switch (k) {
	case K_CGROUP: return &w->cgroup;
	case K_PREFER: return &w->prefer;
	case K_AVOID: return &w->avoid;
	case K_PROTECT: return &w->protect;
	case K_PRIORITY: return &w->priority;
	default: return NULL;
	}
}

static void psi_key(struct pstate *st, enum key k, const char *v,
		    struct uoomd_watch_cfg *w)
{
	char kind[8];
	unsigned long long stall, win;
	int end = 0;

	if (sscanf(v, "%7s %llu %llu%n", kind, &stall, &win, &end) != 3 ||
	    v[end] != '\0' || (strcmp(kind, "some") && strcmp(kind, "full"))) {
		BAD("is not a PSI trigger: use \"some|full STALL_US WINDOW_US\", e.g. \"some 150000 1000000\"");
		return;
	}
	if (win < 500000 || win > 10000000) {
		BAD("has window %llu us, out of range 500000..10000000 us", win);
		return;
	}
	if (stall == 0 || stall > win) {
		BAD("has stall %llu us, out of range 1..window (%llu us)", stall, win);
		return;
	}
	snprintf(w->psi_trigger, sizeof(w->psi_trigger), "%s %llu %llu", kind, stall, win);
}

static void snapshot_key(struct pstate *st, enum key k, const char *v,
			 struct uoomd_watch_cfg *w, bool append)
{
	char tmp[UOOMD_LIST_LEN];
	unsigned int mask = append ? w->snapshot : 0;
	char *save = NULL;

	if (strlen(v) >= sizeof(tmp)) {
		BAD("is too long");
		return;
	}
	strcpy(tmp, v);
	for (char *t = strtok_r(tmp, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
		size_t i;

		if (!strcmp(t, "all")) {
			mask |= UOOM_SNAP_ALL;
			continue;
		}
		if (!strcmp(t, "none"))
			continue;
		for (i = 0; i < sizeof(snap_names) / sizeof(snap_names[0]); i++)
			if (!strcmp(t, snap_names[i]))
				break;
		if (i == sizeof(snap_names) / sizeof(snap_names[0])) {
			perr(st, st->line, "key '%s': value '%s': unknown part '%s': use vmstat meminfo slabinfo memstat events psi tasks, all or none",
			     key_names[k], v, t);
			return;
		}
		mask |= 1u << i;
	}
	w->snapshot = mask;
}

static void watch_key(struct pstate *st, enum key k, const char *v, bool cont)
{
	struct uoomd_watch_cfg *w = &st->cfg->watch[st->sec];
	unsigned int u;
	uint64_t x;

	if (is_list_key(k) && k != K_SNAPSHOT) {
		list_set(st, k, list_of(w, k), v, cont);
		return;
	}
	switch (k) {
	case K_SNAPSHOT:
		snapshot_key(st, k, v, w, cont);
		break;
	case K_BACKEND:
		if (!strcmp(v, "auto"))
			w->backends = 0;
		else if (!strcmp(v, "kernel"))
			w->backends = UOOM_BACKEND_MASK(UOOM_BACKEND_KERNEL);
		else if (!strcmp(v, "events"))
			w->backends = UOOM_BACKEND_MASK(UOOM_BACKEND_EVENTS);
		else
			BAD("is not a backend: use auto, kernel or events");
		break;
	case K_DELAY:
		dur_key(st, k, v, 0, 60000, "0..60s", &w->delay_ms);
		break;
	case K_RESERVE:
		size_key(st, k, v, 1ull << 40, "0..1T", &w->reserve);
		break;
	case K_PSI_TRIGGER:
		psi_key(st, k, v, w);
		break;
	case K_POLICY:
		for (u = 0; u < 3; u++)
			if (!strcmp(v, policy_names[u]))
				break;
		if (u == 3)
			BAD("is not a policy: use largest-rss, largest-cgroup or priority");
		else
			w->policy = (enum uoom_policy_kind)u;
		break;
	case K_ACTION:
		for (u = 0; u < 5; u++)
			if (!strcmp(v, action_names[u]))
				break;
		if (u == 5)
			BAD("is not an action: use kill, kill-cgroup, throttle, warn-kill or log");
		else
			w->action = (enum uoomd_action)u;
		break;
	case K_MIN_RSS:
		size_key(st, k, v, 1ull << 40, "0..1T", &w->min_rss);
		break;
	case K_TOP:
		if (uoomd_parse_size(v, &x) || x > 1000 || !isdigit((unsigned char)v[strlen(v) - 1]))
			BAD("is out of range 0..1000 (tasks in the logged snapshot)");
		else
			w->top = (unsigned int)x;
		break;
	case K_GRANT:
		size_key(st, k, v, 1ull << 40, "0..1T", &w->grant);
		break;
	case K_HIGH:
		size_key(st, k, v, 1ull << 50, "0..1P", &w->high);
		break;
	case K_WARN_SIGNAL:
		if (uoomd_parse_signal(v, &w->warn_signal))
			BAD("is not a signal: use a name like SIGTERM, SIGUSR1, or a number 1..64");
		break;
	case K_GRACE:
		dur_key(st, k, v, 0, 60000, "0..60s", &w->grace_ms);
		break;
	case K_KILL_TIMEOUT:
		dur_key(st, k, v, 100, 60000, "100ms..60s", &w->kill_timeout_ms);
		break;
	case K_SETTLE:
		dur_key(st, k, v, 0, 600000, "0..600s", &w->settle_ms);
		break;
	default:
		break;
	}
}

static void daemon_key(struct pstate *st, enum key k, const char *v)
{
	struct uoomd_config *c = st->cfg;

	switch (k) {
	case K_LOG:
		if (!strcmp(v, "stderr")) {
			c->log = UOOMD_LOG_STDERR;
		} else if (!strcmp(v, "journal")) {
			c->log = UOOMD_LOG_JOURNAL;
		} else if (v[0] == '/') {
			if (path_key(st, k, v, c->log_path))
				c->log = UOOMD_LOG_FILE;
		} else {
			BAD("is not a log destination: use stderr, journal or an absolute file path");
		}
		break;
	case K_LOG_FORMAT:
		if (!strcmp(v, "text"))
			c->log_format = UOOM_FMT_TEXT;
		else if (!strcmp(v, "json"))
			c->log_format = UOOM_FMT_JSON;
		else
			BAD("is not a log format: use text or json");
		break;
	case K_METRICS:
		path_key(st, k, v, c->metrics);
		break;
	case K_METRICS_INTERVAL:
		dur_key(st, k, v, 100, 3600000, "100ms..1h", &c->metrics_interval_ms);
		break;
	case K_RESCAN:
		dur_key(st, k, v, 0, 3600000, "0..1h (0: never)", &c->rescan_ms);
		break;
	case K_CGROUP_ROOT:
		path_key(st, k, v, c->cgroup_root);
		break;
	case K_PROC_ROOT:
		path_key(st, k, v, c->proc_root);
		break;
	case K_DRY_RUN:
		if (uoomd_parse_bool(v, &c->dry_run))
			BAD("is not a boolean: use yes or no");
		break;
	default:
		break;
	}
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct pstate *st = user;
	bool cont = st->cont;
	int k, first, last, slot;

	(void)section;
	st->have_prev = true;
	if (st->bad_line || st->sec == SEC_UNKNOWN)
		return 1;
	if (st->sec == SEC_NONE) {
		perr(st, st->line, "key '%s' outside any section: put it under [daemon] or a [watch NAME]",
		     name);
		return 1;
	}
	first = st->sec == SEC_DAEMON ? 0 : FIRST_WATCH_KEY;
	last = st->sec == SEC_DAEMON ? FIRST_WATCH_KEY : K_NKEYS;
	for (k = first; k < last; k++)
		if (!strcmp(name, key_names[k]))
			break;
	if (k == last) {
		char known[512];
		size_t n = 0;

		for (int i = first; i < last && n + 24 < sizeof(known); i++)
			n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s",
					      i == first ? "" : " ", key_names[i]);
		perr(st, st->line, "unknown key '%s' in [%s%s]: known keys are %s", name,
		     st->sec == SEC_DAEMON ? "daemon" : "watch ",
		     st->sec == SEC_DAEMON ? "" : st->cfg->watch[st->sec].name, known);
		return 1;
	}
	slot = st->sec == SEC_DAEMON ? UOOMD_MAX_SECTIONS : st->sec;
	if (cont) {
		if (!is_list_key(k)) {
			perr(st, st->line, "key '%s': value '%s': an indented line continues the previous key, and only list keys (cgroup prefer avoid protect priority snapshot) take more lines: remove the indentation",
			     name, value);
			return 1;
		}
	} else if (st->keyline[slot][k]) {
		perr(st, st->line, "key '%s': value '%s': the key is already set at line %u: keep one",
		     name, value, st->keyline[slot][k]);
		return 1;
	} else {
		st->keyline[slot][k] = st->line;
	}
	if (!*value && k != K_METRICS && k != K_PREFER && k != K_AVOID &&
	    k != K_PROTECT && k != K_PRIORITY) {
		perr(st, st->line, "key '%s': empty value", name);
		return 1;
	}
	if (st->sec == SEC_DAEMON)
		daemon_key(st, (enum key)k, value);
	else
		watch_key(st, (enum key)k, value, cont);
	return 1;
}

/* A section header line "[...]": start the section it names. */
static void section_header(struct pstate *st, const char *s, size_t n)
{
	struct uoomd_config *c = st->cfg;
	char name[UOOMD_NAME_LEN + 16];
	const char *close = memchr(s, ']', n);
	size_t l;

	st->have_prev = false;
	st->sec = SEC_UNKNOWN;
	if (!close) {
		perr(st, st->line, "section header without ']': write [daemon] or [watch NAME]");
		st->bad_line = true;
		return;
	}
	s++;
	while (s < close && (*s == ' ' || *s == '\t'))
		s++;
	l = (size_t)(close - s);
	while (l && (s[l - 1] == ' ' || s[l - 1] == '\t'))
		l--;
	if (l >= sizeof(name)) {
		perr(st, st->line, "section name too long (at most %d characters)",
		     UOOMD_NAME_LEN - 1);
		return;
	}
	memcpy(name, s, l);
	name[l] = '\0';
	if (!strcmp(name, "daemon")) {
		if (st->daemon_line) {
			perr(st, st->line, "section [daemon] repeats the one at line %u: merge them",
			     st->daemon_line);
			return;
		}
		st->daemon_line = st->line;
		st->sec = SEC_DAEMON;
		return;
	}
	if (strncmp(name, "watch", 5) || (name[5] && name[5] != ' ' && name[5] != '\t')) {
		perr(st, st->line, "unknown section [%s]: use [daemon] or [watch NAME]", name);
		return;
	}
	const char *wn = skip_ws(name + 5);

	if (!*wn) {
		perr(st, st->line, "section [watch] needs a name: [watch NAME]");
		return;
	}
	if (strlen(wn) >= UOOMD_NAME_LEN) {
		perr(st, st->line, "watch name '%s' too long (at most %d characters)", wn,
		     UOOMD_NAME_LEN - 1);
		return;
	}
	for (const char *p = wn; *p; p++) {
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) {
			perr(st, st->line, "watch name '%s': quotes, backslashes and control characters are not allowed",
			     wn);
			return;
		}
	}
	for (unsigned int i = 0; i < c->nwatches; i++) {
		if (!strcmp(c->watch[i].name, wn)) {
			perr(st, st->line, "duplicate watch '%s' (first at line %u): give each [watch NAME] its own name",
			     wn, c->watch[i].line);
			return;
		}
	}
	if (c->nwatches == UOOMD_MAX_SECTIONS) {
		perr(st, st->line, "too many [watch] sections (at most %d)", UOOMD_MAX_SECTIONS);
		return;
	}
	struct uoomd_watch_cfg *w = &c->watch[c->nwatches];

	uoomd_watch_defaults(w);
	strcpy(w->name, wn);
	w->line = st->line;
	memset(st->keyline[c->nwatches], 0, sizeof(st->keyline[0]));
	st->sec = (int)c->nwatches++;
}

/* libinih's reader: one line per call, classified before libinih sees it. */
static char *reader(char *str, int num, void *stream)
{
	struct pstate *st = stream;
	size_t start = st->pos, end, n, cap = (size_t)num - 1;
	const char *nl, *s;
	bool indented;

	if (st->pos >= st->len)
		return NULL;
	nl = memchr(st->buf + start, '\n', st->len - start);
	end = nl ? (size_t)(nl - st->buf) + 1 : st->len;
	st->pos = end;
	st->line++;
	st->cont = false;
	st->bad_line = false;
	n = end - start;
	s = st->buf + start;
	if (memchr(s, '\0', n)) {
		perr(st, st->line, "the line contains a NUL byte");
		st->bad_line = true;
		str[0] = '\n';
		str[1] = '\0';
		return str;
	}
	if (n > cap) {
		perr(st, st->line, "line longer than %zu characters: split a long list over indented continuation lines",
		     cap - 1);
		st->bad_line = true;
		str[0] = '\n';
		str[1] = '\0';
		return str;
	}
	memcpy(str, s, n);
	str[n] = '\0';

	/* classify like libinih does */
	const char *p = str;

	if (st->line == 1 && n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
		p += 3;
	indented = *p == ' ' || *p == '\t';
	p = skip_ws(p);
	if (*p == '\r' || *p == '\n' || !*p || *p == ';' || *p == '#')
		return str;
	if (indented && st->have_prev) {
		st->cont = true;
		return str;
	}
	if (*p == '[') {
		section_header(st, p, strlen(p));
		return str;
	}
	if (!strpbrk(p, "=:")) {
		size_t l = strcspn(p, "\r\n");

		perr(st, st->line, "'%.*s' is not 'key = value', a [section] or a comment",
		     (int)(l > 60 ? 60 : l), p);
		st->bad_line = true;
	}
	return str;
}

/* Split a list's text into items; false when there are too many. */
static bool list_split(struct uoomd_list *l)
{
	char *save = NULL, *t;

	l->n = 0;
	for (t = strtok_r(l->text, " \t", &save); t && l->n < UOOMD_MAX_LIST;
	     t = strtok_r(NULL, " \t", &save))
		l->item[l->n++] = t;
	l->item[l->n] = NULL;
	return !t;
}

static void split_key(struct pstate *st, struct uoomd_list *l, unsigned int idx, enum key k)
{
	if (!list_split(l))
		perr(st, st->keyline[idx][k], "key '%s': more than %d items: split the watch in two",
		     key_names[k], UOOMD_MAX_LIST);
}

static void finish_watch(struct pstate *st, struct uoomd_watch_cfg *w, unsigned int idx)
{
	unsigned int kl;

	if (!st->keyline[idx][K_CGROUP]) {
		perr(st, w->line, "[watch %s]: no 'cgroup' key: add e.g. cgroup = /jobs/* (globs relative to cgroup_root; / is the whole system)",
		     w->name);
	}
	kl = st->keyline[idx][K_CGROUP];
	split_key(st, &w->cgroup, idx, K_CGROUP);
	if (kl && !w->cgroup.n)
		perr(st, kl, "key 'cgroup': empty value");
	for (unsigned int i = 0; i < w->cgroup.n; i++) {
		const char *g = w->cgroup.item[i];

		if (strstr(g, "..") || strlen(g) >= UOOM_CGROUP_PATH_MAX)
			perr(st, kl, "key 'cgroup': value '%s' is not a cgroup glob under cgroup_root: no '..', at most %d characters",
			     g, UOOM_CGROUP_PATH_MAX - 1);
	}
	split_key(st, &w->prefer, idx, K_PREFER);
	split_key(st, &w->avoid, idx, K_AVOID);
	split_key(st, &w->protect, idx, K_PROTECT);
	split_key(st, &w->priority, idx, K_PRIORITY);
	kl = st->keyline[idx][K_PRIORITY];
	w->nrules = 0;
	for (unsigned int i = 0; i < w->priority.n; i++) {
		const char *r = w->priority.item[i];
		const char *eq = strrchr(r, '=');
		char *e;
		long v;

		if (!eq || eq == r) {
			perr(st, kl, "key 'priority': value '%s' is not PATTERN=N (N in -1000..1000)", r);
			continue;
		}
		errno = 0;
		v = strtol(eq + 1, &e, 10);
		if (errno || *e || e == eq + 1 || v < -1000 || v > 1000) {
			perr(st, kl, "key 'priority': value '%s' has a priority out of range -1000..1000", r);
			continue;
		}
		if ((size_t)(eq - r) >= sizeof(w->rule_glob[0])) {
			perr(st, kl, "key 'priority': value '%s': pattern too long", r);
			continue;
		}
		memcpy(w->rule_glob[w->nrules], r, (size_t)(eq - r));
		w->rule_glob[w->nrules][eq - r] = '\0';
		w->rules[w->nrules].glob = w->rule_glob[w->nrules];
		w->rules[w->nrules].priority = (int)v;
		w->nrules++;
	}
	if (w->action == UOOMD_ACT_WARN_KILL && w->backends != UOOM_BACKEND_MASK(UOOM_BACKEND_EVENTS) &&
	    w->grace_ms >= w->delay_ms && w->delay_ms && !st->keyline[idx][K_GRACE])
		w->grace_ms = w->delay_ms / 2;	/* the default must fit the delay */
	else if (w->action == UOOMD_ACT_WARN_KILL && w->backends != UOOM_BACKEND_MASK(UOOM_BACKEND_EVENTS) &&
	    w->grace_ms >= w->delay_ms && w->delay_ms)
		perr(st, st->keyline[idx][K_GRACE] ? st->keyline[idx][K_GRACE] : w->line,
		     "[watch %s]: grace %ums is not below delay %ums: the kernel would kill before the grace ends",
		     w->name, w->grace_ms, w->delay_ms);
}

int uoomd_config_parse(const char *name, const char *buf, size_t len,
		       struct uoomd_config *cfg, char *err, size_t errlen)
{
	struct pstate *st;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	uoomd_config_defaults(cfg);
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->cfg = cfg;
	st->name = name ? name : "(config)";
	st->buf = buf;
	st->len = len;
	st->sec = SEC_NONE;
	st->err = err;
	st->errlen = errlen;
	snprintf(cfg->file, sizeof(cfg->file), "%s", st->name);

	ret = ini_parse_stream(reader, st, handler, st);
	if (ret > 0 && !st->nerr)
		perr(st, (unsigned int)ret, "syntax error");
	else if (ret < 0)
		perr(st, 0, "cannot parse (libinih error %d)", ret);
	for (unsigned int i = 0; i < cfg->nwatches; i++)
		finish_watch(st, &cfg->watch[i], i);
	if (!cfg->nwatches && !st->nerr)
		perr(st, 0, "no [watch NAME] section: nothing to watch (see uoomd.conf(5))");
	ret = st->nerr ? -EINVAL : 0;
	free(st);
	return ret;
}

int uoomd_config_load(const char *path, struct uoomd_config *cfg, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot open: %s\n", path, strerror(errno));
		return ret;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb;

			if (cap >= (1u << 20)) {
				snprintf(err, errlen, "%s: larger than 1 MiB: is it the right file?\n", path);
				free(buf);
				close(fd);
				return -EFBIG;
			}
			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			snprintf(err, errlen, "%s: read: %s\n", path, strerror(errno));
			free(buf);
			close(fd);
			return ret;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	close(fd);
	ret = uoomd_config_parse(path, buf ? buf : "", len, cfg, err, errlen);
	free(buf);
	return ret;
}
