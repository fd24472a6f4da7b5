/* SPDX-License-Identifier: MIT */
/*
 * watch.c - expand the [watch] globs into libuoom watches and keep them in
 * step with the cgroup tree (rescan) and the configuration (reload).
 *
 * A cgroup keeps its entry, and so its live memory.oom_notify registration,
 * for as long as some section still wants it: a reload or rescan only
 * changes its settings in place. A changed backend or PSI trigger needs a
 * new libuoom watch; the new one is added before the old one is removed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>
#include "uoomd.h"

static struct uoomd_entry *find_entry(struct uoomd_daemon *d, const char *cg)
{
	for (unsigned int i = 0; i < UOOMD_MAX_WATCHES; i++)
		if (d->e[i].used && !strcmp(d->e[i].cgroup, cg))
			return &d->e[i];
	return NULL;
}

unsigned int uoomd_nwatched(const struct uoomd_daemon *d)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < UOOMD_MAX_WATCHES; i++)
		n += d->e[i].used && d->e[i].w;
	return n;
}

/* Write a memcg knob of @e's cgroup; 0 or -errno. */
static int write_knob(struct uoomd_daemon *d, const struct uoomd_entry *e,
		      const char *file, unsigned long long v)
{
	char path[UOOMD_PATH_LEN + UOOM_CGROUP_PATH_MAX + 64], val[32];
	int fd, n, ret = 0;

	snprintf(path, sizeof(path), "%s%s/%s", d->cfg->cgroup_root,
		 strcmp(e->cgroup, "/") ? e->cgroup : "", file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(val, sizeof(val), "%llu\n", v);
	if (write(fd, val, (size_t)n) != n)
		ret = -errno;
	close(fd);
	return ret;
}

static void build_policy(struct uoomd_entry *e, const struct uoomd_watch_cfg *s)
{
	uoom_policy_init(&e->pol);
	e->pol.kind = s->policy;
	e->pol.prefer = s->prefer.n ? s->prefer.item : NULL;
	e->pol.avoid = s->avoid.n ? s->avoid.item : NULL;
	e->pol.protect = s->protect.n ? s->protect.item : NULL;
	e->pol.rules = s->nrules ? s->rules : NULL;
	e->pol.nrules = s->nrules;
	e->pol.min_rss = s->min_rss;
	if (!s->min_rss && !strcmp(e->cgroup, "/")) {
		struct sysinfo si;

		/* A system OOM is not caused by a task holding less than 1/64
		 * of RAM: when the idle snapshot has none larger (the culprit
		 * started after it), leave the episode to the kernel rather
		 * than kill an idle bystander. */
		if (!sysinfo(&si))
			e->pol.min_rss = (uint64_t)si.totalram * si.mem_unit / 64;
	}
}

static int add_watch(struct uoomd_daemon *d, struct uoomd_entry *e,
		     const struct uoomd_watch_cfg *s, struct uoom_watch **out)
{
	struct uoom_watch_opts o;

	uoom_watch_opts_init(&o);
	o.cgroup = e->cgroup;
	o.handler = uoomd_handle;
	o.data = e;
	o.backends = s->backends;
	o.delay_ms = s->delay_ms;
	o.reserve_bytes = s->reserve;
	o.psi_trigger = s->psi_trigger;
	/* libuoom collects the tasks before calling us; the other snapshot
	 * parts are written by the handler (action.c) to the log pipe */
	o.snapshot = UOOM_SNAP_TASKS;
	/* A system OOM handler may allocate only within the root reserve:
	 * reading /proc for every task during the episode costs dentries and
	 * inodes per task and may go beyond it, and the kernel then ends the
	 * episode by its own kill. The root's tasks are collected when idle
	 * (uoomd_cache_snapshots) and the event carries that snapshot. */
	if (!strcmp(e->cgroup, "/"))
		o.snapshot |= UOOM_SNAP_CACHED;
	e->cached = o.snapshot & UOOM_SNAP_CACHED;
	o.log_fd = -1;
	o.log_format = d->cfg->log_format;
	o.top_n = s->top ? s->top : 1;
	return uoom_watch_add(d->ctx, &o, out);
}

/*
 * Bring @e in line with its section: policy, delay and reserve in place; a
 * new libuoom watch only when the backend or the PSI trigger changed.
 */
void uoomd_entry_apply(struct uoomd_daemon *d, struct uoomd_entry *e)
{
	const struct uoomd_watch_cfg *s = &d->cfg->watch[e->sec];
	int ret;

	build_policy(e, s);
	if (!e->w) {
		/* failed before (not a memory cgroup yet?): try again quietly */
		struct uoom_watch *nw;

		if (add_watch(d, e, s, &nw))
			return;
		e->w = nw;
		e->backends = s->backends;
		snprintf(e->psi, sizeof(e->psi), "%s", s->psi_trigger);
		e->delay_ms = s->delay_ms ? s->delay_ms : ~0u;
		e->reserve = s->reserve ? s->reserve : ~0ull;
		uoomd_log_msg(&d->log, UOOMD_INFO, "watch %s: cgroup %s: %s", s->name,
			      e->cgroup, uoom_watch_reason(nw));
		d->metrics_dirty = true;
	}
	if (e->w && (e->backends != s->backends ||
		     (uoom_watch_backend(e->w) == UOOM_BACKEND_EVENTS &&
		      strcmp(e->psi, s->psi_trigger)))) {
		struct uoom_watch *nw;

		ret = add_watch(d, e, s, &nw);
		if (ret) {
			uoomd_log_msg(&d->log, UOOMD_ERR,
				      "watch %s: cgroup %s: cannot switch backend, keeping the old one: %s",
				      s->name, e->cgroup, uoom_ctx_error(d->ctx));
		} else {
			uoom_watch_remove(e->w);
			e->w = nw;
			e->backends = s->backends;
			snprintf(e->psi, sizeof(e->psi), "%s", s->psi_trigger);
			e->delay_ms = s->delay_ms ? s->delay_ms : ~0u;
			e->reserve = s->reserve ? s->reserve : ~0ull;
			uoomd_log_msg(&d->log, UOOMD_INFO, "watch %s: cgroup %s: now %s",
				      s->name, e->cgroup, uoom_watch_reason(nw));
		}
	}
	if (!e->w || uoom_watch_backend(e->w) != UOOM_BACKEND_KERNEL)
		return;
	if (e->delay_ms != s->delay_ms) {
		ret = write_knob(d, e, "memory.oom_delay_millisecs", s->delay_ms);
		if (ret)
			uoomd_log_msg(&d->log, UOOMD_ERR, "watch %s: %s%s/memory.oom_delay_millisecs: writing %u: %s",
				      s->name, d->cfg->cgroup_root, e->cgroup, s->delay_ms,
				      strerror(-ret));
		else
			e->delay_ms = s->delay_ms;
	}
	if (e->reserve != s->reserve) {
		ret = write_knob(d, e, "memory.oom_reserve_in_bytes", s->reserve);
		if (ret)
			uoomd_log_msg(&d->log, UOOMD_ERR, "watch %s: %s%s/memory.oom_reserve_in_bytes: writing %llu: %s%s",
				      s->name, d->cfg->cgroup_root, e->cgroup,
				      (unsigned long long)s->reserve, strerror(-ret),
				      ret == -EBUSY ? " (more is charged against it right now; retried at the next rescan)" : "");
		else
			e->reserve = s->reserve;
	}
}

static void new_entry(struct uoomd_daemon *d, const char *cg, unsigned int sec)
{
	const struct uoomd_watch_cfg *s = &d->cfg->watch[sec];
	struct uoomd_entry *e = NULL;
	struct uoom_watch *w;
	int ret;

	for (unsigned int i = 0; i < UOOMD_MAX_WATCHES; i++) {
		if (!d->e[i].used) {
			e = &d->e[i];
			break;
		}
	}
	if (!e) {
		uoomd_log_msg(&d->log, UOOMD_ERR, "watch %s: cgroup %s: not watched, uoomd watches at most %d cgroups",
			      s->name, cg, UOOMD_MAX_WATCHES);
		return;
	}
	memset(e, 0, sizeof(*e));
	snprintf(e->cgroup, sizeof(e->cgroup), "%s", cg);
	e->sec = sec;
	e->d = d;
	e->used = true;
	e->mark = true;
	ret = add_watch(d, e, s, &w);
	if (ret) {
		/* kept without a watch, retried at every rescan */
		uoomd_log_msg(&d->log, UOOMD_ERR, "watch %s: cgroup %s: %s (retried at each rescan)",
			      s->name, cg, uoom_ctx_error(d->ctx));
		return;
	}
	e->w = w;
	e->backends = s->backends;
	snprintf(e->psi, sizeof(e->psi), "%s", s->psi_trigger);
	/* libuoom writes a non-zero delay/reserve; a zero one we write */
	e->delay_ms = s->delay_ms ? s->delay_ms : ~0u;
	e->reserve = s->reserve ? s->reserve : ~0ull;
	uoomd_entry_apply(d, e);
	uoomd_log_msg(&d->log, UOOMD_INFO, "watch %s: cgroup %s: %s", s->name, cg,
		      uoom_watch_reason(w));
	d->metrics_dirty = true;
}

static void drop_entry(struct uoomd_daemon *d, struct uoomd_entry *e, const char *why)
{
	uoomd_log_msg(&d->log, UOOMD_INFO, "watch %s: cgroup %s: %s",
		      e->sec < d->cfg->nwatches ? d->cfg->watch[e->sec].name : "?",
		      e->cgroup, why);
	if (e->w)
		uoom_watch_remove(e->w);
	memset(e, 0, sizeof(*e));
	d->metrics_dirty = true;
}

void uoomd_drop_gone(struct uoomd_daemon *d)
{
	for (unsigned int i = 0; i < UOOMD_MAX_WATCHES; i++)
		if (d->e[i].used && d->e[i].gone)
			drop_entry(d, &d->e[i], "removed");
}

void uoomd_unwatch_all(struct uoomd_daemon *d)
{
	for (unsigned int i = 0; i < UOOMD_MAX_WATCHES; i++) {
		if (d->e[i].used) {
			if (d->e[i].w)
				uoom_watch_remove(d->e[i].w);
			memset(&d->e[i], 0, sizeof(d->e[i]));
		}
	}
}

unsigned int uoomd_ncached(const struct uoomd_daemon *d)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < UOOMD_MAX_WATCHES; i++)
		n += d->e[i].used && d->e[i].w && d->e[i].cached;
	return n;
}

/*
 * Refresh the idle snapshots of the cached (root) watches, called from the
 * main loop every UOOMD_CACHE_MS. Not while the cgroup is under OOM: that
 * would be the very /proc reading the cache is there to avoid; the event
 * then uses the last snapshot taken before the episode.
 */
void uoomd_cache_snapshots(struct uoomd_daemon *d)
{
	for (unsigned int i = 0; i < UOOMD_MAX_WATCHES; i++) {
		struct uoomd_entry *e = &d->e[i];
		const struct uoom_snapshot *s;
		struct uoom_oom_stats st;

		if (!e->used || !e->w || !e->cached || e->gone)
			continue;
		if (!uoom_watch_stats(e->w, &st) && st.under_oom)
			continue;
		if (uoom_snapshot_cache(e->w, &s))
			uoomd_log_msg(&d->log, UOOMD_DEBUG, "watch cgroup %s: idle snapshot: %s",
				      e->cgroup, uoom_watch_error(e->w));
	}
}

/* One matched directory: its path relative to the cgroup root. */
static void matched(struct uoomd_daemon *d, const char *rel, unsigned int sec)
{
	struct uoomd_entry *e = find_entry(d, rel);

	if (!e) {
		new_entry(d, rel, sec);
		return;
	}
	if (e->mark)	/* an earlier section has it: the first one wins */
		return;
	e->mark = true;
	e->sec = sec;
	if (!e->gone)
		uoomd_entry_apply(d, e);
}

/*
 * Expand every glob of every section; watch what is new, re-apply what is
 * kept (cheap: only changed knobs are written), drop what no longer matches.
 */
int uoomd_rescan(struct uoomd_daemon *d)
{
	const struct uoomd_config *c = d->cfg;
	size_t rootlen = strlen(c->cgroup_root);

	while (rootlen > 1 && c->cgroup_root[rootlen - 1] == '/')
		rootlen--;
	for (unsigned int i = 0; i < UOOMD_MAX_WATCHES; i++)
		d->e[i].mark = false;
	for (unsigned int s = 0; s < c->nwatches; s++) {
		for (unsigned int g = 0; g < c->watch[s].cgroup.n; g++) {
			const char *pat = c->watch[s].cgroup.item[g];
			char full[UOOMD_PATH_LEN + UOOM_CGROUP_PATH_MAX + 8];
			glob_t gl;

			while (*pat == '/')
				pat++;
			if (!*pat) {
				matched(d, "/", s);
				continue;
			}
			snprintf(full, sizeof(full), "%.*s/%s", (int)rootlen, c->cgroup_root, pat);
			if (glob(full, GLOB_ONLYDIR | GLOB_NOSORT, NULL, &gl))
				continue;
			for (size_t k = 0; k < gl.gl_pathc; k++) {
				const char *p = gl.gl_pathv[k];
				struct stat sb;
				char rel[UOOM_CGROUP_PATH_MAX];
				size_t l;

				if (stat(p, &sb) || !S_ISDIR(sb.st_mode))
					continue;
				l = strlen(p);
				while (l > rootlen + 1 && p[l - 1] == '/')
					l--;
				if (l <= rootlen || l - rootlen >= sizeof(rel))
					continue;
				memcpy(rel, p + rootlen, l - rootlen);
				rel[l - rootlen] = '\0';
				matched(d, rel, s);
			}
			globfree(&gl);
		}
	}
	for (unsigned int i = 0; i < UOOMD_MAX_WATCHES; i++)
		if (d->e[i].used && !d->e[i].mark)
			drop_entry(d, &d->e[i], d->e[i].gone ? "removed" :
				   "no longer matched: unwatched");
	return 0;
}
