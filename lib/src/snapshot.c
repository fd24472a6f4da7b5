/* SPDX-License-Identifier: MIT */
/*
 * Snapshots: the watched cgroup subtree with its tasks (for policies) and
 * whole-record logging of vmstat, meminfo, slabinfo, memory.stat,
 * memory.events, PSI and the top tasks, as text or JSON lines. Every record
 * is built in the context's pre-sized buffer and written with one write().
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

#define CLOSE_RESERVE 64

struct take_arg {
	struct uoom_snapshot *s;
	size_t cap;
	int cg;
};

static int add_task(struct uoom_ctx *ctx, pid_t pid, void *arg)
{
	struct take_arg *a = arg;
	struct uoom_snapshot *s = a->s;
	struct uoom_task *t;

	if (s->ntasks >= a->cap) {
		s->truncated = 1;
		return 0;
	}
	t = &s->tasks[s->ntasks];
	if (uoom__read_task(ctx, pid, t))
		return 0;	/* gone, or a kernel thread */
	t->cgroup = a->cg;
	s->cgroups[a->cg].tasks_rss += t->rss;
	s->ntasks++;
	return 0;
}

static void read_cgroup_info(struct uoom_ctx *ctx, int fd, struct uoom_cgroup *c,
			     const struct uoom_cgroup *parent)
{
	char buf[32];
	ssize_t n;
	int prio;

	n = uoom__read_at(fd, "memory.current", buf, sizeof(buf));
	if (n <= 0 || uoom__parse_max(buf, (size_t)n, &c->current))
		c->current = 0;
	n = fgetxattr(fd, "user.uoom.priority", buf, sizeof(buf));
	if (n > 0 && !uoom__parse_int(buf, (size_t)n, &prio))
		c->priority = prio;
	else
		c->priority = parent ? parent->priority : 0;
	(void)ctx;
}

/* Append the sub-directories of @fd (cgroup @ci) to the cgroup list. */
static void add_children(struct uoom_ctx *ctx, struct uoom_snapshot *s, int fd, int ci)
{

	for (;;) {
		long n = syscall(SYS_getdents64, fd, ctx->dents, ctx->dcap);

		if (n <= 0)
			return;
		for (long off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(ctx->dents + off);
			const struct uoom_cgroup *p = &s->cgroups[ci];
			size_t pl = strlen(p->path), nl = strlen(d->d_name);

			off += d->d_reclen;
			if (d->d_type != DT_DIR || !strcmp(d->d_name, ".") ||
			    !strcmp(d->d_name, ".."))
				continue;
			if (s->ncgroups >= ctx->p.max_cgroups ||
			    pl + 1 + nl >= UOOM_CGROUP_PATH_MAX) {
				s->truncated = 1;
				continue;
			}
			struct uoom_cgroup *c = &s->cgroups[s->ncgroups++];

			memset(c, 0, sizeof(*c));
			memcpy(c->path, p->path, pl);
			if (pl == 1)
				pl = 0;	/* root "/" */
			c->path[pl] = '/';
			memcpy(c->path + pl + 1, d->d_name, nl + 1);
			c->parent = ci;
			c->depth = p->depth + 1;
		}
	}
}

/* Swap-free heap sort, largest RSS first (glibc's qsort may malloc). */
static bool task_less(const struct uoom_task *a, const struct uoom_task *b)
{
	/* "less" ranks later: smaller rss, then larger pid */
	return a->rss != b->rss ? a->rss < b->rss : a->pid > b->pid;
}

static void sift(struct uoom_task *t, size_t i, size_t n)
{
	for (;;) {
		size_t m = i, l = 2 * i + 1, r = l + 1;

		/* min-heap on "less": the root is the element to put last */
		if (l < n && task_less(&t[l], &t[m]))
			m = l;
		if (r < n && task_less(&t[r], &t[m]))
			m = r;
		if (m == i)
			return;
		struct uoom_task tmp = t[i];

		t[i] = t[m];
		t[m] = tmp;
		i = m;
	}
}

static void sort_tasks(struct uoom_task *t, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift(t, i, n);
	for (size_t end = n; end > 1; end--) {
		struct uoom_task tmp = t[0];

		t[0] = t[end - 1];
		t[end - 1] = tmp;
		sift(t, 0, end - 1);
	}
}

static int open_psi_ro(struct uoom_watch *w, char *buf, size_t cap)
{
	ssize_t n = uoom__read_at(w->dirfd, "memory.pressure", buf, cap);

	if (n == -ENOENT && !strcmp(w->cgroup, "/"))
		n = uoom__read_at(w->ctx->proc_fd, "pressure/memory", buf, cap);
	return (int)n;
}

/* Collect @w's subtree into @s, backed by @tasks and @cgroups. */
static int take_into(struct uoom_watch *w, struct uoom_snapshot *s,
		     struct uoom_task *tasks, struct uoom_cgroup *cgroups)
{
	struct uoom_ctx *ctx = w->ctx;
	char buf[512];
	ssize_t n;

	memset(s, 0, sizeof(*s));
	s->tasks = tasks;
	s->cgroups = cgroups;
	s->self = ctx->self;
	s->time_ns = uoom__now_ns(CLOCK_REALTIME);
	memset(&s->cgroups[0], 0, sizeof(s->cgroups[0]));
	strcpy(s->cgroups[0].path, w->cgroup);
	s->cgroups[0].parent = -1;
	s->ncgroups = 1;

	/* breadth first: the list is its own queue */
	for (size_t i = 0; i < s->ncgroups; i++) {
		struct uoom_cgroup *c = &s->cgroups[i];
		struct take_arg a = { s, ctx->p.max_tasks, (int)i };
		int fd = openat(ctx->cg_fd, c->path[1] ? c->path + 1 : ".",
				O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0) {
			if (i == 0)
				return watch_err(w, -errno, "opening cgroup %s", c->path);
			continue;	/* removed meanwhile */
		}
		read_cgroup_info(ctx, fd, c, c->parent >= 0 ? &s->cgroups[c->parent] : NULL);
		if (uoom__for_each_pid(ctx, fd, add_task, &a) == 1)
			s->truncated = 1;	/* cgroup.procs larger than rbuf */
		add_children(ctx, s, fd, (int)i);
		close(fd);
	}
	sort_tasks(s->tasks, s->ntasks);

	n = uoom__read_at(w->dirfd, "memory.events", buf, sizeof(buf));
	if (n > 0)
		uoom_parse_mem_events(buf, (size_t)n, &s->events);
	n = open_psi_ro(w, buf, sizeof(buf));
	if (n > 0)
		uoom_parse_psi(buf, (size_t)n, &s->psi);
	return 0;
}

UOOM_API int uoom_snapshot_take(struct uoom_watch *w, const struct uoom_snapshot **out)
{
	int ret;

	if (!w || !w->used || !out)
		return -EINVAL;
	ret = take_into(w, &w->ctx->snap, w->ctx->tasks, w->ctx->cgroups);
	if (!ret)
		*out = &w->ctx->snap;
	return ret;
}

UOOM_API int uoom_snapshot_cache(struct uoom_watch *w, const struct uoom_snapshot **out)
{
	int ret;

	if (!w || !w->used || !out)
		return -EINVAL;
	if (!(w->o.snapshot & UOOM_SNAP_CACHED) || !w->ctasks)
		return watch_err(w, -EINVAL, "uoom_snapshot_cache: watch %s was added without UOOM_SNAP_CACHED",
				 w->cgroup);
	w->cvalid = false;	/* a failed take leaves no half snapshot */
	uoom__close_cache_pidfds(w);
	ret = take_into(w, &w->csnap, w->ctasks, w->ccgroups);
	if (ret)
		return ret;
	/* pidfds of the largest tasks, checked against their start time now:
	 * uoom_kill of one of them then needs no /proc lookup */
	for (size_t i = 0; i < w->csnap.ntasks && i < UOOM_CACHE_PIDFDS; i++) {
		const struct uoom_task *t = &w->ctasks[i];
		struct uoom_proc_stat ps;
		char path[32];
		ssize_t n;
		int fd;

		if (t->flags & (UOOM_TASK_SELF | UOOM_TASK_UNKILLABLE))
			continue;
		fd = uoom__pidfd_open(t->pid);
		if (fd < 0)
			continue;
		snprintf(path, sizeof(path), "%d/stat", (int)t->pid);
		n = uoom__read_at(w->ctx->proc_fd, path, w->ctx->rbuf, w->ctx->rcap);
		if (n < 0 || uoom__parse_proc_stat(w->ctx->rbuf, (size_t)n, &ps) ||
		    ps.start_time != t->start_time) {
			close(fd);
			continue;
		}
		w->cpidfd[i] = fd;
	}
	w->cvalid = true;
	*out = &w->csnap;
	return 0;
}

/* The snapshot an event of @w carries: the cached one or NULL (cached
 * watches never read /proc here), else a fresh one in the context. */
const struct uoom_snapshot *uoom__event_snapshot(struct uoom_watch *w)
{
	const struct uoom_snapshot *s = NULL;

	if (w->o.snapshot & UOOM_SNAP_CACHED)
		return w->cvalid ? &w->csnap : NULL;
	return uoom_snapshot_take(w, &s) ? NULL : s;
}

/* ---- records ------------------------------------------------------------ */

enum part { P_VMSTAT, P_MEMINFO, P_SLABINFO, P_MEMSTAT, P_EVENTS, P_PSI, P_TASKS };

static const char *const part_names[] = {
	"vmstat", "meminfo", "slabinfo", "memory.stat", "memory.events",
	"memory.pressure", "tasks",
};

static void rec_begin(struct ubuf *b, const char *cgroup, enum part p,
		      enum uoom_format fmt, uint64_t ts)
{
	if (fmt == UOOM_FMT_JSON) {
		ub_puts(b, "{\"type\":\"");
		ub_puts(b, part_names[p]);
		ub_puts(b, "\",\"time_ns\":");
		ub_u64(b, ts);
		ub_puts(b, ",\"cgroup\":");
		ub_json_str(b, cgroup, strlen(cgroup));
		ub_puts(b, ",\"data\":");
	} else {
		ub_puts(b, "uoom ");
		ub_puts(b, part_names[p]);
		ub_puts(b, " cgroup=");
		ub_puts(b, cgroup);
		ub_puts(b, " time_ns=");
		ub_u64(b, ts);
		ub_putc(b, '\n');
	}
}

/* Close the record in the reserved tail; the content never used it. */
static void rec_end(struct ubuf *b, size_t ocap, enum uoom_format fmt,
		    bool trunc)
{
	b->cap = ocap;
	if (fmt == UOOM_FMT_JSON) {
		if (trunc)
			ub_puts(b, ",\"truncated\":true");
		ub_puts(b, "}\n");
	} else {
		if (trunc)
			ub_puts(b, "... truncated\n");
		ub_puts(b, "\n");
	}
}

/*
 * Convert "key value [unit]" / "Key: value kB" lines to a JSON object.
 * A line that does not fit is dropped whole and the record marked truncated.
 */
static bool json_keyed(struct ubuf *b, const char *s, size_t len, bool meminfo)
{
	const char *end = s + len;
	bool first = true;

	ub_putc(b, '{');
	if (b->over)	/* not even the brace: the roll-back below must not hide it */
		return false;
	while (s < end) {
		const char *eol = memchr(s, '\n', (size_t)(end - s)), *k = s, *p;
		size_t save = b->len;
		uint64_t v;

		if (!eol)
			eol = end;
		p = k;
		while (p < eol && *p != ' ' && *p != '\t' && *p != ':')
			p++;
		const char *ke = p;

		if (p < eol && *p == ':')
			p++;
		while (p < eol && (*p == ' ' || *p == '\t'))
			p++;
		if (ke > k && !uoom__parse_u64(&p, eol, &v)) {
			if (meminfo && eol - p >= 3 && !memcmp(p, " kB", 3) &&
			    v <= UINT64_MAX / 1024)
				v *= 1024;
			if (!first)
				ub_putc(b, ',');
			ub_json_str(b, k, (size_t)(ke - k));
			ub_putc(b, ':');
			ub_u64(b, v);
			if (b->over) {
				b->len = save;
				b->over = false;
				return true;
			}
			first = false;
		}
		s = eol < end ? eol + 1 : eol;
	}
	return false;
}

static void json_psi_line(struct ubuf *b, const char *name, const struct uoom_psi_line *l)
{
	ub_putc(b, '"');
	ub_puts(b, name);
	ub_puts(b, "\":{\"avg10\":");
	ub_centi(b, l->avg10);
	ub_puts(b, ",\"avg60\":");
	ub_centi(b, l->avg60);
	ub_puts(b, ",\"avg300\":");
	ub_centi(b, l->avg300);
	ub_puts(b, ",\"total\":");
	ub_u64(b, l->total_us);
	ub_putc(b, '}');
}

/* Raw text, cut at the last whole line that fits. */
static bool text_raw(struct ubuf *b, const char *s, size_t len)
{
	size_t room = b->cap - b->len;

	if (len > room) {
		const char *cut = memrchr(s, '\n', room);

		len = cut ? (size_t)(cut - s) + 1 : 0;
		ub_putn(b, s, len);
		return true;
	}
	ub_putn(b, s, len);
	if (len && s[len - 1] != '\n')
		ub_putc(b, '\n');
	return false;
}

/*
 * A comm (any bytes, from prctl(PR_SET_NAME)) or cgroup name in a text
 * row: control characters become '?', so that none can end the row early
 * or forge another record in a text log.
 */
static void put_printable(struct ubuf *b, const char *s)
{
	for (; *s; s++)
		ub_putc(b, (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static void task_record(struct ubuf *b, const struct uoom_snapshot *s,
			enum uoom_format fmt, unsigned int top_n, bool *trunc)
{
	size_t n = s->ntasks < top_n ? s->ntasks : top_n;

	if (fmt == UOOM_FMT_JSON) {
		ub_puts(b, "{\"ntasks\":");
		ub_u64(b, s->ntasks);
		ub_puts(b, ",\"top\":[");
	} else {
		ub_puts(b, "ntasks=");
		ub_u64(b, s->ntasks);
		ub_puts(b, "\n      pid          rss         swap   adj    uid comm cgroup\n");
	}
	if (b->over)	/* the per-task roll-back must not hide it */
		return;
	for (size_t i = 0; i < n; i++) {
		const struct uoom_task *t = &s->tasks[i];
		const char *cg = s->cgroups[t->cgroup].path;
		size_t save = b->len;

		if (fmt == UOOM_FMT_JSON) {
			if (i)
				ub_putc(b, ',');
			ub_puts(b, "{\"pid\":");
			ub_i64(b, t->pid);
			ub_puts(b, ",\"comm\":");
			ub_json_str(b, t->comm, strlen(t->comm));
			ub_puts(b, ",\"rss\":");
			ub_u64(b, t->rss);
			ub_puts(b, ",\"swap\":");
			ub_u64(b, t->swap);
			ub_puts(b, ",\"oom_score_adj\":");
			ub_i64(b, t->oom_score_adj);
			ub_puts(b, ",\"uid\":");
			ub_u64(b, t->uid);
			ub_puts(b, ",\"cgroup\":");
			ub_json_str(b, cg, strlen(cg));
			ub_putc(b, '}');
		} else {
			char num[24];
			struct ubuf nb;
			const int64_t vals[] = { t->pid, (int64_t)t->rss, (int64_t)t->swap,
						 t->oom_score_adj, t->uid };
			const int widths[] = { 9, 13, 13, 6, 7 };

			for (size_t k = 0; k < ARRAY_SIZE(vals); k++) {
				ub_init(&nb, num, sizeof(num));
				ub_i64(&nb, vals[k]);
				for (int pad = widths[k] - (int)nb.len; pad > 0; pad--)
					ub_putc(b, ' ');
				ub_putn(b, num, nb.len);
			}
			ub_putc(b, ' ');
			put_printable(b, t->comm);
			ub_putc(b, ' ');
			put_printable(b, cg);
			ub_putc(b, '\n');
		}
		if (b->over) {
			b->len = save;
			b->over = false;
			*trunc = true;
			break;
		}
	}
	if (fmt == UOOM_FMT_JSON && !b->over) {
		b->cap += CLOSE_RESERVE / 2;	/* ends the content */
		ub_puts(b, "]}");
	}
}

/*
 * The record of part @p (not the tasks) from the file text @in (@n bytes;
 * @trunc: the read filled its buffer) into @out (@ocap bytes, more than
 * CLOSE_RESERVE). Returns the record's length or a negative errno.
 */
ssize_t uoom__format_record(char *out, size_t ocap, const char *cgroup,
			    unsigned int p, enum uoom_format fmt, uint64_t ts,
			    const char *in, size_t n, bool trunc)
{
	struct ubuf b;

	if (p >= P_TASKS || ocap <= CLOSE_RESERVE)
		return -EINVAL;
	ub_init(&b, out, ocap - CLOSE_RESERVE);
	rec_begin(&b, cgroup, p, fmt, ts);
	/* before the content's roll-backs can clear .over */
	if (b.over)
		return -ENOBUFS;
	if (fmt == UOOM_FMT_TEXT) {
		trunc |= text_raw(&b, in, n);
	} else if (p == P_PSI) {
		struct uoom_psi psi;
		int ret = uoom_parse_psi(in, n, &psi);

		if (ret)
			return ret;
		ub_putc(&b, '{');
		json_psi_line(&b, "some", &psi.some);
		ub_putc(&b, ',');
		json_psi_line(&b, "full", &psi.full);
		ub_putc(&b, '}');
	} else if (p == P_SLABINFO) {
		size_t len = n;

		/* escaping may grow it: keep whole lines that fit */
		while (len) {
			size_t save = b.len;

			ub_json_str(&b, in, len);
			if (!b.over)
				break;
			b.len = save;
			b.over = false;
			trunc = true;
			const char *cut = memrchr(in, '\n', len - 1);

			len = cut ? (size_t)(cut - in) + 1 : 0;
		}
		if (!len)
			ub_puts(&b, "\"\"");
	} else {
		trunc |= json_keyed(&b, in, n, p == P_MEMINFO);
		if (!b.over) {
			b.cap = ocap;
			ub_putc(&b, '}');
		}
	}
	if (b.over)	/* only the fixed header could not fit */
		return -ENOBUFS;
	rec_end(&b, ocap, fmt, trunc);
	return (ssize_t)b.len;
}

/* The task record of snapshot @s, as uoom__format_record. */
ssize_t uoom__format_tasks(char *out, size_t ocap, const char *cgroup,
			   const struct uoom_snapshot *s, enum uoom_format fmt,
			   unsigned int top_n, uint64_t ts)
{
	struct ubuf b;
	bool trunc = false;

	if (ocap <= CLOSE_RESERVE)
		return -EINVAL;
	ub_init(&b, out, ocap - CLOSE_RESERVE);
	rec_begin(&b, cgroup, P_TASKS, fmt, ts);
	if (b.over)	/* the header alone does not fit */
		return -ENOBUFS;
	task_record(&b, s, fmt, top_n, &trunc);
	if (b.over)
		return -ENOBUFS;
	rec_end(&b, ocap, fmt, trunc);
	return (ssize_t)b.len;
}

static int write_part(struct uoom_watch *w, int fd, enum part p,
		      enum uoom_format fmt, unsigned int top_n, uint64_t ts)
{
	struct uoom_ctx *ctx = w->ctx;
	bool trunc = false;
	ssize_t n = 0;

	if (p == P_TASKS) {
		const struct uoom_snapshot *snap = uoom__event_snapshot(w);

		if (!snap)
			return (w->o.snapshot & UOOM_SNAP_CACHED) ? -ENODATA : -EIO;
		n = uoom__format_tasks(ctx->obuf, ctx->ocap, w->cgroup, snap, fmt, top_n, ts);
		if (n < 0)
			return (int)n;
	} else {
		/* The file behind each part: under /proc, or the watched cgroup. */
		static const struct { const char *file; bool proc; } src[] = {
			[P_VMSTAT] = { "vmstat", true },
			[P_MEMINFO] = { "meminfo", true },
			[P_SLABINFO] = { "slabinfo", true },
			[P_MEMSTAT] = { "memory.stat", false },
			[P_EVENTS] = { "memory.events", false },
		};

		if (p == P_PSI)
			n = open_psi_ro(w, ctx->rbuf, ctx->rcap);
		else if ((unsigned int)p < sizeof(src) / sizeof(src[0]))
			n = uoom__read_at(src[p].proc ? ctx->proc_fd : w->dirfd,
					  src[p].file, ctx->rbuf, ctx->rcap);
		else
			return -EINVAL;
		/* slabinfo is root-only, the root cgroup has no memory.events */
		if (n == -EACCES || n == -EPERM || n == -ENOENT)
			return 0;
		if (n < 0)
			return (int)n;
		trunc = (size_t)n == ctx->rcap;
		n = uoom__format_record(ctx->obuf, ctx->ocap, w->cgroup, p, fmt, ts,
					ctx->rbuf, (size_t)n, trunc);
		if (n < 0)
			return (int)n;
	}
	n = uoom__write_fd_all(fd, ctx->obuf, (size_t)n);
	return n ? (int)n : 1;
}

UOOM_API int uoom_snapshot_write(struct uoom_watch *w, int fd, unsigned int what,
				 enum uoom_format fmt, unsigned int top_n)
{
	uint64_t ts;
	int count = 0, err = 0;

	if (!w || !w->used || fd < 0 || (fmt != UOOM_FMT_TEXT && fmt != UOOM_FMT_JSON))
		return -EINVAL;
	ts = uoom__now_ns(CLOCK_REALTIME);
	for (int p = P_VMSTAT; p <= P_TASKS; p++) {
		int ret;

		if (!(what & (1u << p)))
			continue;
		ret = write_part(w, fd, (enum part)p, fmt, top_n, ts);
		if (ret < 0) {
			watch_err(w, ret, "snapshot %s", part_names[p]);
			err = ret;
		} else {
			count += ret;
		}
	}
	return count ? count : err;
}
