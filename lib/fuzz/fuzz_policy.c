/* SPDX-License-Identifier: MIT */
/*
 * Victim selection (uoom_pick_victim) over snapshots of the shape the
 * library takes (cgroups breadth first, parents before children, tasks in
 * known cgroups) with fuzzed tasks, cgroup priorities, patterns (fnmatch
 * on cgroup path, "cmd:" cmdline, comm) and policies.
 *
 * -ESRCH exactly when no task is eligible; a victim is eligible (not self,
 * not oom_score_adj -1000, not pid 1, not protected, at least min_rss) and
 * no eligible task outranks it: class (prefer > neutral > avoid), then the
 * priority with PRIORITY, then RSS. LARGEST_CGROUP picks a task inside the
 * chosen child.
 */
#include <errno.h>
#include <fnmatch.h>
#include "fuzz.h"
#include "internal.h"

#define MAXT 16
#define MAXC 8

static const char *const pool[] = {
	"/a*", "/a/b", "/*/*", "cmd:x*", "cmd:*--big*", "big", "b?g", "*",
	"[a-c]*", "[!a]*", "\\", "[", "/", "cmd:", "", "s*",
};

static bool pat_match(const char *pat, const struct uoom_snapshot *s, const struct uoom_task *t)
{
	if (pat[0] == '/')
		return !fnmatch(pat, s->cgroups[t->cgroup].path, 0);
	if (!strncmp(pat, "cmd:", 4))
		return !fnmatch(pat + 4, t->cmdline ? t->cmdline : "", 0);
	return !fnmatch(pat, t->comm, 0);
}

static bool any(const char *const *l, const struct uoom_snapshot *s, const struct uoom_task *t)
{
	for (; l && *l; l++)
		if (pat_match(*l, s, t))
			return true;
	return false;
}

static bool ok(const struct uoom_snapshot *s, const struct uoom_policy *p, const struct uoom_task *t)
{
	return !(t->flags & (UOOM_TASK_SELF | UOOM_TASK_UNKILLABLE)) && t->pid != s->self &&
	       t->oom_score_adj > -1000 && t->pid > 1 && t->rss && t->rss >= p->min_rss &&
	       !any(p->protect, s, t);
}

static int cls(const struct uoom_snapshot *s, const struct uoom_policy *p, const struct uoom_task *t)
{
	return any(p->prefer, s, t) ? 2 : any(p->avoid, s, t) ? 0 : 1;
}

static int prio(const struct uoom_snapshot *s, const struct uoom_policy *p, const struct uoom_task *t)
{
	for (size_t i = 0; i < p->nrules; i++)
		if (pat_match(p->rules[i].glob, s, t))
			return p->rules[i].priority;
	return s->cgroups[t->cgroup].priority;
}

static bool below(const struct uoom_snapshot *s, int cg, int root)
{
	for (; cg >= 0; cg = s->cgroups[cg].parent)
		if (cg == root)
			return true;
	return false;
}

static void list(struct fuzz_in *in, const char **l, unsigned int max)
{
	unsigned int n = fuzz_take(in) % (max + 1);

	for (unsigned int i = 0; i < n; i++)
		l[i] = pool[fuzz_take(in) % ARRAY_SIZE(pool)];
	l[n] = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char cmds[MAXT][16];
	struct uoom_task tasks[MAXT];
	struct uoom_cgroup cgs[MAXC];
	struct uoom_snapshot s;
	struct uoom_policy p;
	struct uoom_prio_rule rules[4];
	const char *prefer[4], *avoid[4], *protect[4];
	struct uoom_victim v;
	struct fuzz_in in = { data, size };
	unsigned int nc, nt, nr;
	int ret;

	memset(&s, 0, sizeof(s));
	memset(tasks, 0, sizeof(tasks));
	memset(cgs, 0, sizeof(cgs));
	uoom_policy_init(&p);
	p.kind = (enum uoom_policy_kind)(fuzz_take(&in) % 3);
	p.min_rss = (uint64_t)(fuzz_take(&in) % 4) << 20;
	nc = 1 + fuzz_take(&in) % MAXC;
	nt = fuzz_take(&in) % (MAXT + 1);
	s.self = (pid_t)(fuzz_take(&in) % 8);
	strcpy(cgs[0].path, "/");
	cgs[0].parent = -1;
	for (unsigned int i = 1; i < nc; i++) {
		int par = (int)(fuzz_take(&in) % i);

		cgs[i].parent = par;
		cgs[i].depth = cgs[par].depth + 1;
		snprintf(cgs[i].path, sizeof(cgs[i].path), "%s%s%c",
			 cgs[par].path, par ? "/" : "", 'a' + (int)(fuzz_take(&in) % 4));
		cgs[i].priority = (int)(fuzz_take(&in) % 5) - 2;
		cgs[i].current = (uint64_t)(fuzz_take(&in) % 4) << 20;
	}
	for (unsigned int i = 0; i < nt; i++) {
		struct uoom_task *t = &tasks[i];
		unsigned int f = fuzz_take(&in), clen = fuzz_take(&in) % 6;

		t->pid = (pid_t)(fuzz_take(&in) % 12);
		t->oom_score_adj = f & 1 ? -1000 : (int)(fuzz_take(&in) % 3) * 300 - 300;
		t->flags = (f >> 1) & 3;
		t->rss = (uint64_t)(fuzz_take(&in) % 8) << 19;
		t->cgroup = (int)(fuzz_take(&in) % nc);
		for (unsigned int k = 0; k < clen; k++)
			t->comm[k] = (char)(fuzz_take(&in) % 4 ? 'a' + fuzz_take(&in) % 26 : '?');
		snprintf(cmds[i], sizeof(cmds[i]), "%s --%s", t->comm, f & 8 ? "big" : "x");
		t->cmdline = f & 16 ? NULL : cmds[i];
		cgs[t->cgroup].tasks_rss += t->rss;
	}
	list(&in, prefer, 3);
	list(&in, avoid, 3);
	list(&in, protect, 3);
	nr = fuzz_take(&in) % 5;
	for (unsigned int i = 0; i < nr; i++) {
		rules[i].glob = pool[fuzz_take(&in) % ARRAY_SIZE(pool)];
		rules[i].priority = (int)(fuzz_take(&in) % 7) - 3;
	}
	p.prefer = prefer;
	p.avoid = avoid;
	p.protect = protect;
	p.rules = rules;
	p.nrules = nr;
	s.tasks = tasks;
	s.ntasks = nt;
	s.cgroups = cgs;
	s.ncgroups = nc;

	ret = uoom_pick_victim(&s, &p, &v);
	bool some = false;

	for (unsigned int i = 0; i < nt; i++)
		some |= ok(&s, &p, &tasks[i]);
	FUZZ_CHECK(ret == 0 || ret == -ESRCH, "ret %d", ret);
	FUZZ_CHECK((ret == -ESRCH) == !some, "ret %d with%s eligible tasks", ret, some ? "" : " no");
	if (ret)
		return 0;
	const struct uoom_task *t = v.task;

	FUZZ_CHECK(t >= tasks && t < tasks + nt, "victim outside the tasks");
	FUZZ_CHECK(ok(&s, &p, t), "victim pid %d not eligible", (int)t->pid);
	if (p.kind == UOOM_POLICY_LARGEST_CGROUP && v.cgroup != &cgs[t->cgroup]) {
		int ci = (int)(v.cgroup - cgs);

		FUZZ_CHECK(ci >= 0 && ci < (int)nc && cgs[ci].depth == 1, "chosen cgroup %d", ci);
		FUZZ_CHECK(below(&s, t->cgroup, ci), "victim outside the chosen child");
		return 0;
	}
	FUZZ_CHECK(v.cgroup == &cgs[t->cgroup] || p.kind == UOOM_POLICY_LARGEST_CGROUP,
		   "victim's cgroup");
	if (p.kind == UOOM_POLICY_LARGEST_CGROUP)
		return 0;	/* ranked within a child: checked above */
	FUZZ_CHECK(v.bytes == t->rss, "bytes");
	for (unsigned int i = 0; i < nt; i++) {
		const struct uoom_task *o = &tasks[i];
		int oc, vc, op, vp;

		if (!ok(&s, &p, o))
			continue;
		oc = cls(&s, &p, o);
		vc = cls(&s, &p, t);
		FUZZ_CHECK(oc <= vc, "pid %d has class %d above the victim's %d", (int)o->pid, oc, vc);
		if (oc < vc)
			continue;
		if (p.kind == UOOM_POLICY_PRIORITY) {
			op = prio(&s, &p, o);
			vp = prio(&s, &p, t);
			FUZZ_CHECK(op <= vp, "priority %d above the victim's %d", op, vp);
			if (op < vp)
				continue;
			FUZZ_CHECK(v.priority == vp, "reported priority %d, not %d", v.priority, vp);
		}
		FUZZ_CHECK(o->rss <= t->rss, "a larger task of the same rank");
	}
	return 0;
}
