/* SPDX-License-Identifier: MIT */
/*
 * action.c - the handling path: what uoomd does when libuoom reports an
 * OOM episode (kernel backend) or pressure (events backend).
 *
 * Runs on the main thread inside uoom_dispatch(). It allocates nothing and
 * never touches the log sink: the snapshot goes to the non-blocking log pipe
 * (skipped, and counted, when the pipe lacks room for it), the episode record
 * is formatted into d->rec and copied into the log ring.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include "uoomd.h"

#define SNAP_ROOM	(128u << 10)	/* free pipe space a snapshot needs */

static char snap_out[64 << 10];		/* the tasks record (main thread only) */

static const char *event_name(enum uoom_event_kind k)
{
	switch (k) {
	case UOOM_EV_OOM: return "oom";
	case UOOM_EV_PRESSURE: return "pressure";
	case UOOM_EV_MEM_EVENTS: return "mem_events";
	default: return "removed";
	}
}

/* The top tasks of the snapshot libuoom took, as one log record. */
static size_t tasks_record(const struct uoomd_daemon *d, const struct uoom_snapshot *s,
			   const char *cg, unsigned int top)
{
	struct uoomd_buf b;
	size_t n = s->ntasks < top ? s->ntasks : top;
	bool json = d->log.format == UOOM_FMT_JSON;

	ob_init(&b, snap_out, sizeof(snap_out) - 64);
	if (json) {
		ob_fmt(&b, "{\"type\":\"tasks\",\"time_ns\":%llu,\"cgroup\":",
		       (unsigned long long)s->time_ns);
		ob_json(&b, cg);
		ob_fmt(&b, ",\"data\":{\"ntasks\":%zu,\"top\":[", s->ntasks);
	} else {
		ob_fmt(&b, "uoom tasks cgroup=%s time_ns=%llu\nntasks=%zu\n      pid          rss   adj comm cgroup\n",
		       cg, (unsigned long long)s->time_ns, s->ntasks);
	}
	for (size_t i = 0; i < n; i++) {
		const struct uoom_task *t = &s->tasks[i];
		const char *tcg = t->cgroup >= 0 && (size_t)t->cgroup < s->ncgroups ?
				  s->cgroups[t->cgroup].path : "?";
		size_t save = b.len;

		if (json) {
			ob_fmt(&b, "%s{\"pid\":%d,\"comm\":", i ? "," : "", (int)t->pid);
			ob_json(&b, t->comm);
			ob_fmt(&b, ",\"rss\":%llu,\"swap\":%llu,\"oom_score_adj\":%d,\"uid\":%u,\"cgroup\":",
			       (unsigned long long)t->rss, (unsigned long long)t->swap,
			       t->oom_score_adj, (unsigned int)t->uid);
			ob_json(&b, tcg);
			ob_str(&b, "}");
		} else {
			ob_fmt(&b, "%9d %12llu %5d %s %s\n", (int)t->pid,
			       (unsigned long long)t->rss, t->oom_score_adj, t->comm, tcg);
		}
		if (b.over) {
			b.len = save;
			b.over = false;
			break;
		}
	}
	b.cap = sizeof(snap_out);
	ob_str(&b, json ? "]}}\n" : "\n");
	return b.len;
}

/* Snapshot parts to the log pipe, tagged with the episode; microseconds. */
static uint64_t write_snapshot(struct uoomd_daemon *d, struct uoom_watch *w,
			       const struct uoom_event *ev, const struct uoomd_watch_cfg *s,
			       uint64_t id)
{
	uint64_t t0 = uoomd_now_ns(CLOCK_MONOTONIC);
	unsigned int parts = s->snapshot & ~UOOM_SNAP_TASKS;
	int queued = 0;

	if (!s->snapshot)
		return 0;
	/* records larger than PIPE_BUF could be split by a full pipe: check first */
	if (ioctl(d->log.snap_rd, FIONREAD, &queued) || queued < 0 ||
	    d->log.snap_pipe_size < (size_t)queued + SNAP_ROOM) {
		uoomd_log_count_drop(&d->log, UOOMD_DROP_PIPE);
		return (uoomd_now_ns(CLOCK_MONOTONIC) - t0) / 1000;
	}
	uoomd_log_snap_mark(&d->log, id);
	if (parts && uoom_snapshot_write(w, d->log.snap_wr, parts, d->log.format,
					 s->top) < 0) {
		uoomd_log_count_drop(&d->log, UOOMD_DROP_SNAPSHOT);
		uoomd_log_msg(&d->log, UOOMD_DEBUG, "snapshot: %s", uoom_watch_error(w));
	}
	if ((s->snapshot & UOOM_SNAP_TASKS) && ev->snap) {
		size_t n = tasks_record(d, ev->snap, uoom_watch_cgroup(w), s->top);

		if (write(d->log.snap_wr, snap_out, n) != (ssize_t)n)
			uoomd_log_count_drop(&d->log, UOOMD_DROP_PIPE);
	}
	return (uoomd_now_ns(CLOCK_MONOTONIC) - t0) / 1000;
}

struct outcome {
	const char *result;		/* killed timeout gone throttled dry-run logged error */
	char would[160];
	char error[200];
	const char *target_cgroup;
	bool have_victim, signalled;
	bool gated;			/* stale or settle: no action taken */
	struct uoom_victim v;
	pid_t pid;
	char comm[UOOM_COMM_LEN];
	uint64_t rss;
	uint64_t wake_to_kill_ns, kill_to_exit_ns;
};

static void kill_victim(struct uoomd_daemon *d, const struct uoomd_watch_cfg *s,
			struct outcome *o, uint64_t wake_ns)
{
	struct uoom_kill_result res;
	uint64_t t1;
	int ret;

	memset(&res, 0, sizeof(res));
	ret = uoom_kill(d->ctx, &o->v, s->kill_timeout_ms, &res);
	t1 = uoomd_now_ns(CLOCK_MONOTONIC);
	if (res.signalled) {
		o->signalled = true;
		o->kill_to_exit_ns = res.elapsed_ns;
		o->wake_to_kill_ns = t1 - res.elapsed_ns - wake_ns;
	}
	if (!ret) {
		o->result = "killed";
	} else if (ret == -ETIMEDOUT) {
		o->result = "timeout";
	} else if (ret == -ESRCH) {
		o->result = "gone";
	} else {
		o->result = "error";
		snprintf(o->error, sizeof(o->error), "kill pid %d: %s", (int)o->pid,
			 strerror(-ret));
	}
}

/* Choose the victim from the event's snapshot into @o. */
static int pick(struct uoomd_entry *e, const struct uoom_event *ev, struct outcome *o)
{
	int ret = ev->snap ? uoom_pick_victim(ev->snap, &e->pol, &o->v) : -ENODATA;

	if (ret)
		return ret;
	o->pid = o->v.task->pid;
	o->rss = o->v.task->rss;
	memcpy(o->comm, o->v.task->comm, sizeof(o->comm));
	o->comm[sizeof(o->comm) - 1] = '\0';
	return 0;
}

static void act(struct uoomd_daemon *d, struct uoomd_entry *e, struct uoom_watch *w,
		const struct uoom_event *ev, const struct uoomd_watch_cfg *s,
		struct outcome *o)
{
	bool dry = uoomd_dry_run(d);
	int ret;

	if (s->action != UOOMD_ACT_THROTTLE) {
		ret = pick(e, ev, o);
		if (ret) {
			o->result = "error";
			snprintf(o->error, sizeof(o->error), "%s",
				 ret == -ESRCH ? "no task qualifies as a victim (all protected, unkillable or below min_rss)" :
						 "no task snapshot");
			return;
		}
		o->have_victim = true;
		o->target_cgroup = o->v.cgroup ? o->v.cgroup->path : uoom_watch_cgroup(w);
	}
	switch (s->action) {
	case UOOMD_ACT_KILL:
	case UOOMD_ACT_LOG:
		snprintf(o->would, sizeof(o->would), "kill pid %d (%s) %llu MiB", (int)o->pid,
			 o->comm, (unsigned long long)(o->rss >> 20));
		break;
	case UOOMD_ACT_KILL_CGROUP:
		snprintf(o->would, sizeof(o->would), "kill cgroup %s (pid %d (%s) %llu MiB)",
			 o->target_cgroup, (int)o->pid, o->comm,
			 (unsigned long long)(o->rss >> 20));
		break;
	case UOOMD_ACT_THROTTLE:
		snprintf(o->would, sizeof(o->would), "throttle %s: memory.max +%llu MiB%s",
			 uoom_watch_cgroup(w), (unsigned long long)(s->grant >> 20),
			 s->high ? ", memory.high set" : "");
		break;
	case UOOMD_ACT_WARN_KILL:
		snprintf(o->would, sizeof(o->would), "warn pid %d (%s) %llu MiB with SIG%s, kill after %u ms",
			 (int)o->pid, o->comm, (unsigned long long)(o->rss >> 20),
			 uoomd_signal_name(s->warn_signal), s->grace_ms);
		break;
	}
	if (dry) {
		o->result = "dry-run";
		return;
	}
	switch (s->action) {
	case UOOMD_ACT_LOG:
		o->result = "logged";
		break;
	case UOOMD_ACT_KILL:
		kill_victim(d, s, o, ev->time_ns);
		/* a cached (idle) snapshot may name a task that exited since:
		 * uoom_kill saw that by its start time; take the next one */
		for (int retry = 0; e->cached && !strcmp(o->result, "gone") &&
		     !o->signalled && retry < 3; retry++) {
			((struct uoom_task *)o->v.task)->flags |= UOOM_TASK_UNKILLABLE;
			if (pick(e, ev, o))
				break;
			kill_victim(d, s, o, ev->time_ns);
		}
		break;
	case UOOMD_ACT_KILL_CGROUP:
		if (!strcmp(o->target_cgroup, "/")) {
			o->result = "error";
			snprintf(o->error, sizeof(o->error), "the root cgroup cannot be killed: use action = kill");
			break;
		}
		ret = uoom_kill_cgroup(d->ctx, o->target_cgroup);
		if (ret) {
			o->result = "error";
			snprintf(o->error, sizeof(o->error), "cgroup.kill of %s: %s",
				 o->target_cgroup, strerror(-ret));
		} else {
			o->result = "killed";
			o->signalled = true;
			o->wake_to_kill_ns = uoomd_now_ns(CLOCK_MONOTONIC) - ev->time_ns;
		}
		break;
	case UOOMD_ACT_THROTTLE:
		ret = uoom_throttle(w, NULL, s->grant, s->high);
		if (ret) {
			o->result = "error";
			snprintf(o->error, sizeof(o->error), "throttle: %s", uoom_watch_error(w));
		} else {
			o->result = "throttled";
		}
		break;
	case UOOMD_ACT_WARN_KILL:
		ret = uoom_warn(d->ctx, o->pid, s->warn_signal, s->grace_ms);
		if (ret == 1) {
			o->result = "gone";	/* it exited on the warning */
		} else if (ret == 0) {
			kill_victim(d, s, o, ev->time_ns);
		} else {
			o->result = ret == -ESRCH ? "gone" : "error";
			if (ret != -ESRCH)
				snprintf(o->error, sizeof(o->error), "warn pid %d: %s",
					 (int)o->pid, strerror(-ret));
		}
		break;
	}
}

static size_t format_record(struct uoomd_daemon *d, const struct uoomd_watch_cfg *s,
			    struct uoom_watch *w, const struct uoom_event *ev,
			    const struct outcome *o, uint64_t id, uint64_t snap_us)
{
	struct uoomd_buf b;
	bool dry = uoomd_dry_run(d);
	const char *cg = uoom_watch_cgroup(w);

	ob_init(&b, d->rec, sizeof(d->rec) - 2);
	if (d->log.format == UOOM_FMT_JSON) {
		ob_str(&b, "{\"time\":\"");
		ob_time(&b, uoomd_now_ns(CLOCK_REALTIME));
		ob_fmt(&b, "\",\"type\":\"episode\",\"episode\":%llu,\"watch\":",
		       (unsigned long long)id);
		ob_json(&b, s->name);
		ob_str(&b, ",\"cgroup\":");
		ob_json(&b, cg);
		ob_fmt(&b, ",\"backend\":\"%s\",\"event\":\"%s\",\"action\":\"%s\",\"policy\":\"%s\",\"victim\":",
		       uoom_backend_name(ev->backend), event_name(ev->kind),
		       uoomd_action_name(s->action), uoomd_policy_name(s->policy));
		if (o->have_victim) {
			ob_fmt(&b, "{\"pid\":%d,\"comm\":", (int)o->pid);
			ob_json(&b, o->comm);
			ob_fmt(&b, ",\"rss\":%llu,\"cgroup\":", (unsigned long long)o->rss);
			ob_json(&b, o->target_cgroup ? o->target_cgroup : cg);
			ob_str(&b, "}");
		} else {
			ob_str(&b, "null");
		}
		ob_fmt(&b, ",\"result\":\"%s\",\"wake_to_kill_us\":", o->result);
		if (o->signalled)
			ob_fmt(&b, "%llu", (unsigned long long)(o->wake_to_kill_ns / 1000));
		else
			ob_str(&b, "null");
		ob_str(&b, ",\"kill_to_exit_us\":");
		if (o->signalled && s->action != UOOMD_ACT_KILL_CGROUP)
			ob_fmt(&b, "%llu", (unsigned long long)(o->kill_to_exit_ns / 1000));
		else
			ob_str(&b, "null");
		ob_fmt(&b, ",\"dry_run\":%s,\"would\":", dry ? "true" : "false");
		ob_json(&b, o->would);
		ob_fmt(&b, ",\"snapshot_us\":%llu", (unsigned long long)snap_us);
		if (ev->backend == UOOM_BACKEND_KERNEL)
			ob_fmt(&b, ",\"oom_episodes\":%llu,\"delay_ms\":%u",
			       (unsigned long long)ev->stats.oom_episodes, s->delay_ms);
		if (o->error[0]) {
			ob_str(&b, ",\"error\":");
			ob_json(&b, o->error);
		}
		ob_str(&b, "}");
	} else {
		if (!d->log.journal) {
			ob_time(&b, uoomd_now_ns(CLOCK_REALTIME));
			ob_str(&b, " ");
		}
		ob_fmt(&b, "uoomd: episode=%llu watch=\"%s\" cgroup=%s backend=%s event=%s action=%s",
		       (unsigned long long)id, s->name, cg, uoom_backend_name(ev->backend),
		       event_name(ev->kind), uoomd_action_name(s->action));
		if (o->have_victim)
			ob_fmt(&b, " victim=%d comm=%s rss=%llu", (int)o->pid, o->comm,
			       (unsigned long long)o->rss);
		ob_fmt(&b, " result=%s", o->result);
		if (o->signalled) {
			ob_fmt(&b, " wake_to_kill_us=%llu", (unsigned long long)(o->wake_to_kill_ns / 1000));
			if (s->action != UOOMD_ACT_KILL_CGROUP)
				ob_fmt(&b, " kill_to_exit_us=%llu",
				       (unsigned long long)(o->kill_to_exit_ns / 1000));
		}
		ob_fmt(&b, " dry_run=%s", dry ? "yes" : "no");
		if (o->would[0] && (dry || s->action == UOOMD_ACT_LOG || o->gated))
			ob_fmt(&b, " would=\"%s\"", o->would);
		if (ev->backend == UOOM_BACKEND_KERNEL)
			ob_fmt(&b, " oom_episodes=%llu", (unsigned long long)ev->stats.oom_episodes);
		if (o->error[0])
			ob_fmt(&b, " error=\"%s\"", o->error);
	}
	b.p[b.len++] = '\n';
	return b.len;
}

static void count(struct uoomd_daemon *d, const struct uoomd_watch_cfg *s,
		  const char *cg, const struct outcome *o)
{
	char name[160], cge[300], labels[UOOMD_LABELS_LEN];

	uoomd_label_escape(name, sizeof(name), s->name);
	uoomd_label_escape(cge, sizeof(cge), cg);
	snprintf(labels, sizeof(labels), "watch=\"%s\",cgroup=\"%s\"", name, cge);
	uoomd_metric_add(&d->metrics, M_EPISODES, labels, 1);
	snprintf(labels, sizeof(labels), "watch=\"%s\",action=\"%s\",result=\"%s\"", name,
		 uoomd_action_name(s->action), o->result);
	uoomd_metric_add(&d->metrics, M_ACTIONS, labels, 1);
	if (o->signalled) {
		snprintf(labels, sizeof(labels), "watch=\"%s\"", name);
		uoomd_metric_set(&d->metrics, M_WAKE_TO_KILL, labels, o->wake_to_kill_ns);
	}
}

static int read_stats(void *arg, struct uoom_oom_stats *st)
{
	return uoom_watch_stats(arg, st);
}

static uint64_t mono_now(void)
{
	return uoomd_now_ns(CLOCK_MONOTONIC);
}

/*
 * Kernel-backend OOM events that must not kill: a stale one (the episode is
 * over), or one in the settle window after a kill (wait for it to resolve,
 * bounded inside the kernel delay; the kernel's fallback remains). True when
 * @o holds the outcome and nothing more is to be done.
 */
static bool gate(struct uoomd_daemon *d, struct uoomd_entry *e, struct uoom_watch *w,
		 const struct uoom_event *ev, const struct uoomd_watch_cfg *s,
		 struct outcome *o)
{
	bool kernel_oom = ev->backend == UOOM_BACKEND_KERNEL && ev->kind == UOOM_EV_OOM;
	uint64_t now = uoomd_now_ns(CLOCK_MONOTONIC), budget;

	o->gated = true;
	switch (uoomd_gate(kernel_oom, &ev->stats, now, e->settle_until_ns)) {
	case UOOMD_GATE_STALE:
		o->result = "stale";
		snprintf(o->would, sizeof(o->would), "stale, no action: under_oom 0 at dispatch");
		return true;
	case UOOMD_GATE_SETTLE:
		budget = uoomd_settle_budget_ns(s->delay_ms, ev->time_ns, now);
		if (uoomd_settle_wait(read_stats, w, budget, 10, mono_now)) {
			o->result = "settled";
			snprintf(o->would, sizeof(o->would),
				 "resolved within the settle window after the last kill, no action");
		} else {
			o->result = "settling";
			snprintf(o->would, sizeof(o->would),
				 "still under OOM %llu ms into the settle window: left to the kernel's fallback",
				 (unsigned long long)((uoomd_now_ns(CLOCK_MONOTONIC) - ev->time_ns) / 1000000));
		}
		return true;
	default:
		(void)d;
		o->gated = false;
		return false;
	}
}

int uoomd_handle(struct uoom_watch *w, const struct uoom_event *ev, void *data)
{
	struct uoomd_entry *e = data;
	struct uoomd_daemon *d = e->d;
	const struct uoomd_watch_cfg *s = &d->cfg->watch[e->sec];
	struct outcome o;
	uint64_t id, snap_us;
	size_t n;

	if (ev->kind == UOOM_EV_REMOVED) {
		e->gone = true;
		return 0;
	}
	if (ev->kind == UOOM_EV_MEM_EVENTS && !(ev->delta.oom > ev->delta.oom_kill))
		return 0;	/* limit hits without an unresolved OOM: pressure decides */
	if (ev->kind == UOOM_EV_PRESSURE && e->last_act_ns &&
	    ev->time_ns - e->last_act_ns < 1000000000ull)
		return 0;	/* the same stall, still in its window */
	e->last_act_ns = ev->time_ns;

	memset(&o, 0, sizeof(o));
	o.result = "error";
	id = ++d->episode_seq;
	if (gate(d, e, w, ev, s, &o)) {
		snap_us = 0;	/* nothing done: no snapshot either */
	} else if (e->cached) {
		/* a system OOM: the kill first, within the root reserve; the
		 * log parts read /proc (vmstat, meminfo) after it */
		act(d, e, w, ev, s, &o);
		snap_us = write_snapshot(d, w, ev, s, id);
	} else {
		snap_us = write_snapshot(d, w, ev, s, id);
		act(d, e, w, ev, s, &o);
	}
	if (o.signalled && s->settle_ms)
		e->settle_until_ns = uoomd_now_ns(CLOCK_MONOTONIC) +
				     (uint64_t)s->settle_ms * 1000000ull;
	count(d, s, uoom_watch_cgroup(w), &o);
	n = format_record(d, s, w, ev, &o, id, snap_us);
	uoomd_log_enqueue(&d->log, o.error[0] ? UOOMD_ERR : UOOMD_WARNING, d->rec, n);
	d->metrics_dirty = true;
	return 0;
}
