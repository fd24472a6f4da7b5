/* SPDX-License-Identifier: MIT */
/*
 * Victim selection: pure functions of a snapshot and a policy.
 * Order: eligibility (never self, never oom_score_adj -1000, never a
 * protected task), then prefer > neutral > avoid, then (PRIORITY) priority,
 * then size. LARGEST_CGROUP first picks the largest child cgroup.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <string.h>
#include "internal.h"

UOOM_API void uoom_policy_init(struct uoom_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->kind = UOOM_POLICY_LARGEST_RSS;
}

static bool pat_match(const char *pat, const struct uoom_snapshot *s,
		      const struct uoom_task *t)
{
	if (pat[0] == '/')
		return !fnmatch(pat, s->cgroups[t->cgroup].path, 0);
	if (!strncmp(pat, "cmd:", 4))
		return !fnmatch(pat + 4, t->cmdline ? t->cmdline : "", 0);
	return !fnmatch(pat, t->comm, 0);
}

static bool list_match(const char *const *list, const struct uoom_snapshot *s,
		       const struct uoom_task *t)
{
	for (; list && *list; list++)
		if (pat_match(*list, s, t))
			return true;
	return false;
}

static bool eligible(const struct uoom_snapshot *s, const struct uoom_policy *p,
		     const struct uoom_task *t)
{
	if ((t->flags & (UOOM_TASK_SELF | UOOM_TASK_UNKILLABLE)) ||
	    t->pid == s->self || t->oom_score_adj <= -1000 || t->pid <= 1)
		return false;
	if (!t->rss || t->rss < p->min_rss)
		return false;
	return !list_match(p->protect, s, t);
}

static int task_class(const struct uoom_snapshot *s, const struct uoom_policy *p,
		      const struct uoom_task *t)
{
	if (list_match(p->prefer, s, t))
		return 2;
	if (list_match(p->avoid, s, t))
		return 0;
	return 1;
}

static int task_priority(const struct uoom_snapshot *s, const struct uoom_policy *p,
			 const struct uoom_task *t)
{
	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].glob && pat_match(p->rules[i].glob, s, &t[0]))
			return p->rules[i].priority;
	return s->cgroups[t->cgroup].priority;
}

static bool in_subtree(const struct uoom_snapshot *s, int cg, int root)
{
	for (; cg >= 0; cg = s->cgroups[cg].parent)
		if (cg == root)
			return true;
	return false;
}

struct rank {
	int cls, prio;
	uint64_t size;
};

static bool rank_better(const struct rank *a, const struct rank *b)
{
	if (a->cls != b->cls)
		return a->cls > b->cls;
	if (a->prio != b->prio)
		return a->prio > b->prio;
	return a->size > b->size;
}

/* Best task within cgroup subtree @root (-1: anywhere). */
static const struct uoom_task *best_task(const struct uoom_snapshot *s,
					 const struct uoom_policy *p, int root,
					 struct rank *out)
{
	const struct uoom_task *best = NULL;
	struct rank br = { 0 };

	for (size_t i = 0; i < s->ntasks; i++) {
		const struct uoom_task *t = &s->tasks[i];
		struct rank r;

		if (t->cgroup < 0 || (size_t)t->cgroup >= s->ncgroups ||
		    (root >= 0 && !in_subtree(s, t->cgroup, root)) || !eligible(s, p, t))
			continue;
		r.cls = task_class(s, p, t);
		r.prio = p->kind == UOOM_POLICY_PRIORITY ? task_priority(s, p, t) : 0;
		r.size = t->rss;
		/* ties keep the earlier task: snapshots are sorted by rss */
		if (!best || rank_better(&r, &br)) {
			best = t;
			br = r;
		}
	}
	if (best && out)
		*out = br;
	return best;
}

static uint64_t subtree_rss(const struct uoom_snapshot *s, int root)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < s->ncgroups; i++)
		if (in_subtree(s, (int)i, root))
			sum += s->cgroups[i].tasks_rss;
	return sum;
}

UOOM_API int uoom_pick_victim(const struct uoom_snapshot *s, const struct uoom_policy *p,
			      struct uoom_victim *v)
{
	static const struct uoom_policy defaults;
	const struct uoom_task *t = NULL;
	const struct uoom_cgroup *cg = NULL;
	struct rank r = { 0 };

	if (!s || !v || (s->ntasks && !s->tasks) || !s->ncgroups || !s->cgroups)
		return -EINVAL;
	if (!p)
		p = &defaults;
	if (p->kind == UOOM_POLICY_LARGEST_CGROUP) {
		struct rank best = { 0 };

		for (size_t i = 0; i < s->ncgroups; i++) {
			const struct uoom_cgroup *c = &s->cgroups[i];
			const struct uoom_task *ct;
			struct rank cr;

			if (c->depth != 1)
				continue;
			ct = best_task(s, p, (int)i, &cr);
			if (!ct)
				continue;
			/* the cgroup's rank: its best task's class, its own size */
			cr.prio = c->priority;
			cr.size = c->current ? c->current : subtree_rss(s, (int)i);
			if (!cg || rank_better(&cr, &best)) {
				cg = c;
				t = ct;
				best = cr;
			}
		}
		if (cg) {
			v->task = t;
			v->cgroup = cg;
			v->priority = cg->priority;
			v->bytes = best.size;
			return 0;
		}
		/* no child holds a candidate: tasks of the cgroup itself */
	}
	t = best_task(s, p, -1, &r);
	if (!t)
		return -ESRCH;
	v->task = t;
	v->cgroup = &s->cgroups[t->cgroup];
	v->priority = p->kind == UOOM_POLICY_PRIORITY ? r.prio : v->cgroup->priority;
	v->bytes = t->rss;
	return 0;
}
