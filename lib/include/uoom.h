/* SPDX-License-Identifier: MIT */
/*
 * uoom.h - libuoom, a library for userspace OOM handler daemons.
 *
 * All functions return 0 (or a non-negative count) on success and a negative
 * errno value on failure. Objects are opaque, owned by the caller through
 * explicit new/free calls, and carry no global state: distinct contexts may be
 * used from distinct threads; one context must not be used by two threads at
 * once (except uoom_stop(), which is async-signal- and thread-safe).
 *
 * Handling path: everything reachable from a handler callback and every
 * action below is allocation-free and reads no /proc/PID file that takes the
 * victim's mmap_lock. Buffers are sized by uoom_ctx_new() and
 * uoom_watch_add().
 */
#ifndef UOOM_H
#define UOOM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UOOM_VERSION_MAJOR 0
#define UOOM_VERSION_MINOR 2

struct uoom_ctx;
struct uoom_watch;

/* ---- context ---------------------------------------------------------- */

/* uoom_params.flags */
#define UOOM_F_MLOCKALL		(1u << 0) /* mlockall(CURRENT|FUTURE|ONFAULT) */
#define UOOM_F_OOM_SCORE_ADJ	(1u << 1) /* write params.oom_score_adj */
#define UOOM_F_LOOP_EPOLL	(1u << 2) /* force the epoll loop */
#define UOOM_F_LOOP_URING	(1u << 3) /* require io_uring, fail if absent */

struct uoom_params {
	const char *proc_root;		/* default "/proc" */
	const char *cgroup_root;	/* default "/sys/fs/cgroup" */
	unsigned int flags;		/* UOOM_F_* */
	int oom_score_adj;		/* with UOOM_F_OOM_SCORE_ADJ; default -1000 */
	unsigned int max_watches;	/* default 16 */
	unsigned int max_tasks;		/* tasks per snapshot, default 4096 */
	unsigned int max_cgroups;	/* cgroups per snapshot, default 512 */
	unsigned int cmdline_cache;	/* cached cmdlines, default 1024 */
	size_t read_buf_size;		/* largest file read, default 128 KiB */
	unsigned int refresh_ms;	/* idle cmdline-cache refresh, default
					   5000, 0 = only uoom_refresh() */
	char *errbuf;			/* optional: gets the message when */
	size_t errbuf_len;		/* uoom_ctx_new() fails */
};

void uoom_params_init(struct uoom_params *p);
int uoom_ctx_new(const struct uoom_params *p, struct uoom_ctx **out);
void uoom_ctx_free(struct uoom_ctx *ctx);
/* Message describing the last failure of a ctx-level call ("" if none). */
const char *uoom_ctx_error(const struct uoom_ctx *ctx);
/* "io_uring" or "epoll". */
const char *uoom_ctx_loop(const struct uoom_ctx *ctx);

/* ---- statistics --------------------------------------------------------- */

/* Read side of memory.oom_notify (patched kernel). */
struct uoom_oom_stats {
	uint64_t handlers;
	uint64_t under_oom;
	uint64_t oom_episodes;
	uint64_t oom_resolved;
	uint64_t oom_fallback;
	uint64_t reserve_charged;	/* bytes */
};

/* memory.events (cgroup v2). */
struct uoom_mem_events {
	uint64_t low, high, max, oom, oom_kill, oom_group_kill;
};

/* One line of a PSI file; averages are in hundredths of a percent. */
struct uoom_psi_line {
	uint32_t avg10, avg60, avg300;
	uint64_t total_us;
};

struct uoom_psi {
	struct uoom_psi_line some, full;
};

/* Parse the flat keyed text of memory.oom_notify. Unknown keys are ignored;
 * missing required keys give -ENODATA, malformed lines or values -EINVAL,
 * values above UINT64_MAX -ERANGE. */
int uoom_parse_oom_stats(const char *buf, size_t len, struct uoom_oom_stats *st);
int uoom_parse_mem_events(const char *buf, size_t len, struct uoom_mem_events *ev);
int uoom_parse_psi(const char *buf, size_t len, struct uoom_psi *psi);

/* ---- snapshots ---------------------------------------------------------- */

#define UOOM_SNAP_VMSTAT	(1u << 0)
#define UOOM_SNAP_MEMINFO	(1u << 1)
#define UOOM_SNAP_SLABINFO	(1u << 2)	/* skipped when unreadable */
#define UOOM_SNAP_MEMSTAT	(1u << 3)	/* cgroup memory.stat */
#define UOOM_SNAP_EVENTS	(1u << 4)	/* cgroup memory.events */
#define UOOM_SNAP_PSI		(1u << 5)	/* cgroup memory.pressure */
#define UOOM_SNAP_TASKS		(1u << 6)	/* top tasks by RSS */
#define UOOM_SNAP_ALL		0x7fu
/* uoom_watch_opts.snapshot only, with UOOM_SNAP_TASKS: hand the handler the
 * watch's own snapshot last taken by uoom_snapshot_cache() (outside any
 * episode) instead of reading /proc during the episode. For root watches:
 * a system OOM handler may allocate only within the root reserve. */
#define UOOM_SNAP_CACHED	(1u << 7)

enum uoom_format {
	UOOM_FMT_TEXT = 0,
	UOOM_FMT_JSON = 1,	/* one JSON object per line */
};

#define UOOM_COMM_LEN 16
#define UOOM_CGROUP_PATH_MAX 256

/* uoom_task.flags */
#define UOOM_TASK_SELF		(1u << 0)	/* the handler process */
#define UOOM_TASK_UNKILLABLE	(1u << 1)	/* oom_score_adj == -1000 */

struct uoom_task {
	pid_t pid;
	uid_t uid;
	int oom_score_adj;
	unsigned int flags;
	uint64_t rss;			/* bytes (VmRSS) */
	uint64_t swap;			/* bytes (VmSwap) */
	uint64_t start_time;		/* clock ticks since boot */
	int cgroup;			/* index into uoom_snapshot.cgroups */
	char comm[UOOM_COMM_LEN];
	const char *cmdline;		/* from the cache, args joined by ' ';
					   "" when not seen before the OOM */
};

struct uoom_cgroup {
	char path[UOOM_CGROUP_PATH_MAX];	/* "/" or "/a/b", relative to
						   the cgroup root */
	int parent;			/* index, -1 for the watched cgroup */
	int depth;			/* 0 for the watched cgroup */
	int priority;			/* xattr user.uoom.priority, default 0 */
	uint64_t current;		/* memory.current (0 if absent) */
	uint64_t tasks_rss;		/* sum of its own tasks' RSS */
};

struct uoom_snapshot {
	uint64_t time_ns;		/* CLOCK_REALTIME */
	pid_t self;
	size_t ntasks;
	struct uoom_task *tasks;	/* sorted by rss, largest first */
	size_t ncgroups;
	struct uoom_cgroup *cgroups;	/* [0] is the watched cgroup */
	unsigned int truncated;		/* tasks or cgroups did not fit */
	struct uoom_mem_events events;
	struct uoom_psi psi;
};

/* Collect the watched cgroup's tasks and sub-cgroups into the context's
 * snapshot (valid until the next uoom_snapshot_take on this context). */
int uoom_snapshot_take(struct uoom_watch *w, const struct uoom_snapshot **out);
/* Watches opened with UOOM_SNAP_CACHED: collect the tasks now into the
 * watch's own snapshot (valid until the next uoom_snapshot_cache on this
 * watch), the one the next OOM event carries. Reads /proc: call it when idle,
 * never from a handler. -EINVAL without UOOM_SNAP_CACHED. */
int uoom_snapshot_cache(struct uoom_watch *w, const struct uoom_snapshot **out);
/* Write the parts selected by @what to @fd, one record per write(2).
 * Returns the number of records written. @top_n bounds the task list. */
int uoom_snapshot_write(struct uoom_watch *w, int fd, unsigned int what,
			enum uoom_format fmt, unsigned int top_n);

/* ---- policies (pure functions over a snapshot) -------------------------- */

enum uoom_policy_kind {
	UOOM_POLICY_LARGEST_RSS = 0,	/* largest task in the cgroup */
	UOOM_POLICY_LARGEST_CGROUP,	/* largest child cgroup (memory.current),
					   then its largest task */
	UOOM_POLICY_PRIORITY,		/* highest priority, then largest RSS */
};

struct uoom_prio_rule {
	const char *glob;		/* see pattern syntax below */
	int priority;			/* higher is killed first */
};

/*
 * Pattern syntax for prefer/avoid/protect/rules (fnmatch(3), no flags):
 * "/..." matches the task's cgroup path, "cmd:..." the cached cmdline,
 * anything else the comm. Lists are NULL-terminated arrays or NULL.
 */
struct uoom_policy {
	enum uoom_policy_kind kind;
	const char *const *prefer;
	const char *const *avoid;
	const char *const *protect;
	const struct uoom_prio_rule *rules;	/* override cgroup xattrs */
	size_t nrules;
	uint64_t min_rss;			/* ignore smaller tasks */
};

struct uoom_victim {
	const struct uoom_task *task;		/* never NULL on success */
	const struct uoom_cgroup *cgroup;	/* the task's, or the chosen child
						   with LARGEST_CGROUP */
	int priority;
	uint64_t bytes;				/* task RSS or cgroup current */
};

void uoom_policy_init(struct uoom_policy *p);
/* 0 and *v filled, or -ESRCH when no task qualifies. */
int uoom_pick_victim(const struct uoom_snapshot *s, const struct uoom_policy *p,
		     struct uoom_victim *v);

/* ---- actions ------------------------------------------------------------ */

struct uoom_kill_result {
	pid_t pid;
	int signalled;			/* SIGKILL was sent */
	int exited;			/* exit observed within the timeout */
	int mrelease_err;		/* 0 or -errno of process_mrelease */
	uint64_t freed;			/* victim RSS just before the kill */
	uint64_t elapsed_ns;		/* kill to exit (or timeout) */
};

/* SIGKILL the victim task through a pidfd (checked against its start time),
 * reap its memory with process_mrelease and wait up to @timeout_ms for it to
 * exit. -ESRCH if it is gone or its pid was reused, -ETIMEDOUT if it did not
 * exit in time (the result is still filled). */
int uoom_kill(struct uoom_ctx *ctx, const struct uoom_victim *v,
	      unsigned int timeout_ms, struct uoom_kill_result *res);
int uoom_kill_pid(struct uoom_ctx *ctx, pid_t pid, unsigned int timeout_ms,
		  struct uoom_kill_result *res);
/* Write "1" to <cgroup>/cgroup.kill (path relative to the cgroup root). */
int uoom_kill_cgroup(struct uoom_ctx *ctx, const char *cgroup);

/* Raise memory.max of <watch cgroup>/<sub> (sub NULL: the watch's cgroup) by
 * @grant bytes and, if @high is non-zero, set memory.high to @high. The
 * previous values are saved in the watch for uoom_throttle_undo(). */
int uoom_throttle(struct uoom_watch *w, const char *sub, uint64_t grant,
		  uint64_t high);
/* Write 1 to cgroup.freeze (saved for undo). */
int uoom_freeze(struct uoom_watch *w, const char *sub);
/* Restore what uoom_throttle/uoom_freeze changed. memory.max is restored
 * only once memory.current is under the saved value (the kernel OOM-kills
 * at once, with no episode, when memory.max is written below the usage):
 * until then -EAGAIN, with the rest restored; call it again later. */
int uoom_throttle_undo(struct uoom_watch *w);

/* Send @sig and wait up to @grace_ms for the process to exit: 1 if it
 * exited, 0 if it is still running, negative errno on failure. */
int uoom_warn(struct uoom_ctx *ctx, pid_t pid, int sig, unsigned int grace_ms);

/* ---- watches -------------------------------------------------------------- */

enum uoom_backend {
	UOOM_BACKEND_NONE = 0,
	UOOM_BACKEND_KERNEL = 1,	/* memory.oom_notify (patched kernel) */
	UOOM_BACKEND_EVENTS = 2,	/* memory.events + PSI trigger */
	UOOM_BACKEND_V1 = 3,		/* cgroup.event_control + oom_control */
};

#define UOOM_BACKEND_MASK(b)	(1u << (b))

enum uoom_event_kind {
	UOOM_EV_OOM = 1,		/* kernel/v1: an OOM episode started */
	UOOM_EV_PRESSURE,		/* events: PSI trigger fired */
	UOOM_EV_MEM_EVENTS,		/* events: memory.events max/oom moved */
	UOOM_EV_REMOVED,		/* the cgroup is gone; watch disarmed */
};

struct uoom_event {
	enum uoom_event_kind kind;
	enum uoom_backend backend;
	uint64_t count;			/* eventfd counter or number of changes */
	uint64_t time_ns;		/* CLOCK_MONOTONIC at dispatch */
	struct uoom_oom_stats stats;	/* kernel backend; v1: under_oom */
	struct uoom_mem_events events;	/* events backend: current counters */
	struct uoom_mem_events delta;	/* ... and the change since the last */
	const struct uoom_snapshot *snap; /* with UOOM_SNAP_TASKS, else NULL */
};

typedef int (*uoom_handler_fn)(struct uoom_watch *w, const struct uoom_event *ev,
			       void *data);

struct uoom_watch_opts {
	const char *cgroup;		/* relative to cgroup root; "" or "/" is
					   the root (system OOM) */
	uoom_handler_fn handler;
	void *data;
	unsigned int backends;		/* UOOM_BACKEND_MASK()s allowed, 0: any */
	unsigned int delay_ms;		/* memory.oom_delay_millisecs */
	uint64_t reserve_bytes;		/* memory.oom_reserve_in_bytes */
	const char *psi_trigger;	/* default "some 150000 1000000" */
	unsigned int snapshot;		/* UOOM_SNAP_* taken before the handler */
	int log_fd;			/* where that snapshot goes, -1: nowhere */
	enum uoom_format log_format;
	unsigned int top_n;		/* tasks in logged snapshots, default 10 */
};

void uoom_watch_opts_init(struct uoom_watch_opts *o);
int uoom_watch_add(struct uoom_ctx *ctx, const struct uoom_watch_opts *o,
		   struct uoom_watch **out);
int uoom_watch_remove(struct uoom_watch *w);
enum uoom_backend uoom_watch_backend(const struct uoom_watch *w);
/* Why this backend was chosen (or why none could be). */
const char *uoom_watch_reason(const struct uoom_watch *w);
/* Last error on this watch during handling ("" if none). */
const char *uoom_watch_error(const struct uoom_watch *w);
const char *uoom_watch_cgroup(const struct uoom_watch *w);
struct uoom_ctx *uoom_watch_ctx(const struct uoom_watch *w);
/* Read memory.oom_notify (kernel backend) or memory.oom_control (v1). */
int uoom_watch_stats(struct uoom_watch *w, struct uoom_oom_stats *st);
const char *uoom_backend_name(enum uoom_backend b);

/* ---- event loop ------------------------------------------------------- */

/* An fd that polls readable when uoom_dispatch() has work. */
int uoom_fd(const struct uoom_ctx *ctx);
/* Wait up to @timeout_ms (-1: forever, 0: not at all) and handle what is
 * ready. Returns the number of events handled. */
int uoom_dispatch(struct uoom_ctx *ctx, int timeout_ms);
/* Dispatch until uoom_stop(). */
int uoom_run(struct uoom_ctx *ctx);
/* Make uoom_run() return; safe from signal handlers and other threads. */
int uoom_stop(struct uoom_ctx *ctx);
/* Fill the cmdline cache for newly seen tasks of all watches. Reads
 * /proc/PID/cmdline: never call this from a handler. -EAGAIN, reading
 * nothing, while under 32 MiB of RAM is free (near a system OOM). */
int uoom_refresh(struct uoom_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif /* UOOM_H */
