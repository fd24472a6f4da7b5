/* SPDX-License-Identifier: MIT */
/* Parsers for the kernel's text files. Pure, bounded, allocation-free. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include "internal.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Decimal u64; -EINVAL without digits, -ERANGE above UINT64_MAX. */
int uoom__parse_u64(const char **pos, const char *end, uint64_t *v)
{
	const char *s = *pos;
	uint64_t x = 0;

	if (s >= end || *s < '0' || *s > '9')
		return -EINVAL;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		unsigned int d = (unsigned int)(*s - '0');

		if (x > (UINT64_MAX - d) / 10)
			return -ERANGE;
		x = x * 10 + d;
	}
	*pos = s;
	*v = x;
	return 0;
}

static const char *skip_ws(const char *s, const char *end)
{
	while (s < end && is_space(*s))
		s++;
	return s;
}

/* A single value file: "123\n" or "max\n". */
int uoom__parse_max(const char *buf, size_t len, uint64_t *v)
{
	const char *s = buf, *end = buf + len;
	uint64_t x;
	int ret;

	while (end > s && (end[-1] == '\n' || is_space(end[-1])))
		end--;
	if (end - s == 3 && !memcmp(s, "max", 3)) {
		*v = UINT64_MAX;
		return 0;
	}
	ret = uoom__parse_u64(&s, end, &x);
	if (ret)
		return ret;
	if (s != end)
		return -EINVAL;	/* @v untouched, as on every error */
	*v = x;
	return 0;
}

int uoom__parse_int(const char *buf, size_t len, int *v)
{
	const char *s = buf, *end = buf + len;
	bool neg = false;
	uint64_t x;
	int ret;

	while (end > s && (end[-1] == '\n' || is_space(end[-1])))
		end--;
	s = skip_ws(s, end);
	if (s < end && (*s == '-' || *s == '+'))
		neg = *s++ == '-';
	ret = uoom__parse_u64(&s, end, &x);
	if (ret)
		return ret;
	if (s != end)
		return -EINVAL;
	if (x > (uint64_t)INT_MAX + neg)
		return -ERANGE;
	*v = neg ? (int)(0 - x) : (int)x;
	return 0;
}

/*
 * Strict flat keyed format: every line is "key value" with a decimal u64.
 * The last line may lack its newline; a line cut anywhere else, junk after
 * the value or an empty key is -EINVAL.
 */
int uoom__parse_flat(const char *buf, size_t len,
		     int (*cb)(void *arg, const char *key, size_t klen, uint64_t v),
		     void *arg)
{
	const char *s = buf, *end = buf + len;

	while (s < end) {
		const char *key = s, *eol = memchr(s, '\n', (size_t)(end - s));
		uint64_t v;
		int ret;

		if (!eol)
			eol = end;
		while (s < eol && !is_space(*s))
			s++;
		if (s == key || s == eol)
			return -EINVAL;
		const char *ke = s;

		s = skip_ws(s, eol);
		ret = uoom__parse_u64(&s, eol, &v);
		if (ret)
			return ret;
		if (skip_ws(s, eol) != eol)
			return -EINVAL;
		ret = cb(arg, key, (size_t)(ke - key), v);
		if (ret)
			return ret;
		s = eol < end ? eol + 1 : eol;
	}
	return 0;
}

static bool key_is(const char *k, size_t klen, const char *want)
{
	return strlen(want) == klen && !memcmp(k, want, klen);
}

struct stats_acc {
	struct uoom_oom_stats *st;
	unsigned int seen;
};

static int stats_cb(void *arg, const char *k, size_t kl, uint64_t v)
{
	static const char *const keys[] = {
		"handlers", "under_oom", "oom_episodes",
		"oom_resolved", "oom_fallback", "reserve_charged",
	};
	struct stats_acc *a = arg;
	uint64_t *fields[] = {
		&a->st->handlers, &a->st->under_oom, &a->st->oom_episodes,
		&a->st->oom_resolved, &a->st->oom_fallback, &a->st->reserve_charged,
	};

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (key_is(k, kl, keys[i])) {
			*fields[i] = v;
			a->seen |= 1u << i;
		}
	}
	return 0;
}

UOOM_API int uoom_parse_oom_stats(const char *buf, size_t len, struct uoom_oom_stats *st)
{
	struct uoom_oom_stats tmp = { 0 };
	struct stats_acc a = { &tmp, 0 };
	int ret;

	if (!buf || !st)
		return -EINVAL;
	ret = uoom__parse_flat(buf, len, stats_cb, &a);
	if (ret)
		return ret;
	if (a.seen != 0x3f)
		return -ENODATA;
	*st = tmp;
	return 0;
}

static int events_cb(void *arg, const char *k, size_t kl, uint64_t v)
{
	struct uoom_mem_events *ev = arg;

	if (key_is(k, kl, "low"))
		ev->low = v;
	else if (key_is(k, kl, "high"))
		ev->high = v;
	else if (key_is(k, kl, "max"))
		ev->max = v;
	else if (key_is(k, kl, "oom"))
		ev->oom = v;
	else if (key_is(k, kl, "oom_kill"))
		ev->oom_kill = v;
	else if (key_is(k, kl, "oom_group_kill"))
		ev->oom_group_kill = v;
	return 0;
}

UOOM_API int uoom_parse_mem_events(const char *buf, size_t len, struct uoom_mem_events *ev)
{
	struct uoom_mem_events tmp = { 0 };
	int ret;

	if (!buf || !ev)
		return -EINVAL;
	ret = uoom__parse_flat(buf, len, events_cb, &tmp);
	if (!ret)
		*ev = tmp;
	return ret;
}

/* "avg10=1.23" -> 123; at most two decimals are kept. */
static int parse_centi(const char **pos, const char *end, uint32_t *v)
{
	uint64_t ip, frac = 0;
	unsigned int nd = 0;
	int ret = uoom__parse_u64(pos, end, &ip);

	if (ret)
		return ret;
	if (*pos < end && **pos == '.') {
		(*pos)++;
		while (*pos < end && **pos >= '0' && **pos <= '9') {
			if (nd < 2) {
				frac = frac * 10 + (uint64_t)(**pos - '0');
				nd++;
			}
			(*pos)++;
		}
	}
	while (nd++ < 2)
		frac *= 10;
	if (ip > 100)
		return -ERANGE;
	*v = (uint32_t)(ip * 100 + frac);
	return 0;
}

static int parse_psi_line(const char *s, const char *eol, struct uoom_psi_line *l)
{
	static const char *const names[] = { "avg10=", "avg60=", "avg300=", "total=" };
	uint32_t *avgs[] = { &l->avg10, &l->avg60, &l->avg300 };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		size_t n = strlen(names[i]);
		int ret;

		s = skip_ws(s, eol);
		if ((size_t)(eol - s) < n || memcmp(s, names[i], n))
			return -EINVAL;
		s += n;
		ret = i < 3 ? parse_centi(&s, eol, avgs[i]) :
			      uoom__parse_u64(&s, eol, &l->total_us);
		if (ret)
			return ret;
	}
	return skip_ws(s, eol) == eol ? 0 : -EINVAL;
}

UOOM_API int uoom_parse_psi(const char *buf, size_t len, struct uoom_psi *psi)
{
	struct uoom_psi tmp = { 0 };
	const char *s = buf, *end = buf + len;
	bool some = false;

	if (!buf || !psi)
		return -EINVAL;
	while (s < end) {
		const char *eol = memchr(s, '\n', (size_t)(end - s));
		struct uoom_psi_line *l;
		int ret;

		if (!eol)
			eol = end;
		if (eol - s >= 5 && !memcmp(s, "some ", 5))
			l = &tmp.some, some = true;
		else if (eol - s >= 5 && !memcmp(s, "full ", 5))
			l = &tmp.full;
		else
			return -EINVAL;
		ret = parse_psi_line(s + 5, eol, l);
		if (ret)
			return ret;
		s = eol < end ? eol + 1 : eol;
	}
	if (!some)
		return -ENODATA;
	*psi = tmp;
	return 0;
}

/* v1 memory.oom_control: "oom_kill_disable 0\nunder_oom 1\noom_kill 3\n" */
static int v1_cb(void *arg, const char *k, size_t kl, uint64_t v)
{
	struct uoom_oom_stats *st = arg;

	if (key_is(k, kl, "under_oom"))
		st->under_oom = v;
	else if (key_is(k, kl, "oom_kill"))
		st->oom_fallback = v;
	return 0;
}

int uoom__parse_v1_oom_control(const char *buf, size_t len, struct uoom_oom_stats *st)
{
	struct uoom_oom_stats tmp = { 0 };
	int ret = uoom__parse_flat(buf, len, v1_cb, &tmp);

	if (!ret)
		*st = tmp;
	return ret;
}

/* /proc/PID/stat: "pid (comm) S ppid ... starttime(22) ..." */
int uoom__parse_proc_stat(const char *buf, size_t len, struct uoom_proc_stat *ps)
{
	const char *end = buf + len, *l = memchr(buf, '(', len), *r = NULL;
	const char *s;
	size_t n;

	for (const char *p = end; p > buf; p--) {
		if (p[-1] == ')') {
			r = p - 1;
			break;
		}
	}
	if (!l || !r || r < l)
		return -EINVAL;
	n = (size_t)(r - l - 1);
	if (n >= UOOM_COMM_LEN)
		n = UOOM_COMM_LEN - 1;
	memcpy(ps->comm, l + 1, n);
	ps->comm[n] = '\0';
	s = skip_ws(r + 1, end);
	if (s >= end)
		return -EINVAL;
	ps->state = *s;
	/* field 3 is the state; skip to field 22 */
	for (int field = 3; field < 22; field++) {
		while (s < end && !is_space(*s))
			s++;
		s = skip_ws(s, end);
		if (s >= end)
			return -EINVAL;
	}
	return uoom__parse_u64(&s, end, &ps->start_time);
}

static int status_kb(const char *s, const char *eol, uint64_t *bytes)
{
	uint64_t kb;
	int ret;

	s = skip_ws(s, eol);
	ret = uoom__parse_u64(&s, eol, &kb);
	if (ret)
		return ret;
	if (kb > UINT64_MAX / 1024)
		return -ERANGE;
	*bytes = kb * 1024;
	return 0;
}

int uoom__parse_proc_status(const char *buf, size_t len, struct uoom_proc_status *st)
{
	const char *s = buf, *end = buf + len;
	bool uid = false;

	memset(st, 0, sizeof(*st));
	while (s < end) {
		const char *eol = memchr(s, '\n', (size_t)(end - s));
		int ret = 0;

		if (!eol)
			eol = end;
		if (eol - s > 4 && !memcmp(s, "Uid:", 4)) {
			const char *p = skip_ws(s + 4, eol);
			uint64_t v;

			ret = uoom__parse_u64(&p, eol, &v);
			if (!ret && v > UINT32_MAX)
				ret = -ERANGE;
			st->uid = (uid_t)v;
			uid = !ret;
		} else if (eol - s > 6 && !memcmp(s, "VmRSS:", 6)) {
			ret = status_kb(s + 6, eol, &st->rss);
			st->has_rss = !ret;
		} else if (eol - s > 7 && !memcmp(s, "VmSwap:", 7)) {
			ret = status_kb(s + 7, eol, &st->swap);
		}
		if (ret)
			return ret;
		s = eol < end ? eol + 1 : eol;
	}
	return uid ? 0 : -ENODATA;
}
