/* SPDX-License-Identifier: MIT */
/* Internal definitions shared by the libuoom sources (not installed). */
#ifndef UOOM_INTERNAL_H
#define UOOM_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <liburing.h>
#include "uoom.h"

#define UOOM_API __attribute__((visibility("default")))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define UOOM_ERR_LEN 256
#define UOOM_CMDLINE_LEN 256
#define UOOM_PSI_TRIGGER_DEFAULT "some 150000 1000000"
#define UOOM_VALUE_LEN 32
#define UOOM_CACHE_PIDFDS 8	/* cached snapshots: pidfds of the largest */

/* Bounded output buffer: appends never overflow, they set .over. */
struct ubuf {
	char *p;
	size_t len, cap;
	bool over;
};

void ub_init(struct ubuf *b, char *p, size_t cap);
void ub_putc(struct ubuf *b, char c);
void ub_putn(struct ubuf *b, const char *s, size_t n);
void ub_puts(struct ubuf *b, const char *s);
void ub_u64(struct ubuf *b, uint64_t v);
void ub_i64(struct ubuf *b, int64_t v);
void ub_centi(struct ubuf *b, uint32_t v);	/* 1234 -> "12.34" */
void ub_json_str(struct ubuf *b, const char *s, size_t n);

/* Files */
ssize_t uoom__read_at(int dirfd, const char *name, char *buf, size_t cap);
ssize_t uoom__pread_all(int fd, char *buf, size_t cap);
int uoom__write_at(int dirfd, const char *name, const char *s, size_t len);
int uoom__write_fd_all(int fd, const char *s, size_t len);

/* Parsers (parse.c) */
int uoom__parse_u64(const char **pos, const char *end, uint64_t *v);
int uoom__parse_max(const char *buf, size_t len, uint64_t *v); /* "max" -> UINT64_MAX */
int uoom__parse_flat(const char *buf, size_t len,
		     int (*cb)(void *arg, const char *key, size_t klen, uint64_t v),
		     void *arg);
struct uoom_proc_stat {
	char comm[UOOM_COMM_LEN];
	char state;
	uint64_t start_time;
};
int uoom__parse_proc_stat(const char *buf, size_t len, struct uoom_proc_stat *ps);
struct uoom_proc_status {
	uid_t uid;
	uint64_t rss, swap;	/* bytes */
	bool has_rss;
};
int uoom__parse_proc_status(const char *buf, size_t len, struct uoom_proc_status *st);
int uoom__parse_v1_oom_control(const char *buf, size_t len, struct uoom_oom_stats *st);
int uoom__parse_int(const char *buf, size_t len, int *v);

/* Syscalls (sys.c) */
int uoom__pidfd_open(pid_t pid);
int uoom__pidfd_send_signal(int pidfd, int sig);
int uoom__process_mrelease(int pidfd);
int uoom__pidfd_wait(int pidfd, unsigned int timeout_ms); /* 1 exited, 0 not */
uint64_t uoom__now_ns(int clock);

/* Event sources: [0] is the wake eventfd, then UOOM_SRC_PER_WATCH per watch. */
enum src_kind {
	SRC_NONE = 0,
	SRC_WAKE,
	SRC_KERNEL,	/* eventfd registered in memory.oom_notify */
	SRC_V1,		/* eventfd registered in cgroup.event_control */
	SRC_MEMEVENTS,	/* memory.events, POLLPRI */
	SRC_PSI,	/* PSI trigger fd, POLLPRI */
};
#define UOOM_SRC_PER_WATCH 2

struct uoom_src {
	int fd;
	enum src_kind kind;
	uint32_t poll;		/* POLLIN or POLLPRI */
	uint32_t gen;		/* bumped on every arm, in user_data */
	bool armed;
	struct uoom_watch *w;
};

struct uoom_watch {
	struct uoom_ctx *ctx;
	bool used;
	unsigned int idx;
	char cgroup[UOOM_CGROUP_PATH_MAX];	/* "/" or "/a/b" */
	int dirfd;				/* O_DIRECTORY of the cgroup */
	enum uoom_backend backend;
	struct uoom_watch_opts o;
	char psi_trigger[64];
	int efd;		/* eventfd (kernel, v1) */
	int stat_fd;		/* memory.oom_notify or memory.oom_control */
	int v1_ctl_fd;		/* v1: memory.oom_control kept open */
	int events_fd;		/* memory.events */
	int psi_fd;		/* PSI trigger */
	struct uoom_mem_events last_events;
	char reason[UOOM_ERR_LEN];
	char err[UOOM_ERR_LEN];
	/* throttle/freeze undo state */
	bool thr_active;
	int thr_dirfd;
	char thr_sub[UOOM_CGROUP_PATH_MAX];
	char thr_max[UOOM_VALUE_LEN];
	char thr_high[UOOM_VALUE_LEN];
	char thr_freeze[UOOM_VALUE_LEN];
	bool thr_max_set, thr_high_set, thr_freeze_set;
	/* UOOM_SNAP_CACHED: the watch's own snapshot, from uoom_snapshot_cache */
	struct uoom_snapshot csnap;
	struct uoom_task *ctasks;
	struct uoom_cgroup *ccgroups;
	bool cvalid;
	int cpidfd[UOOM_CACHE_PIDFDS];	/* pidfds of its first tasks, or -1 */
};

struct uoom_cmd_entry {
	pid_t pid;		/* 0: free */
	uint64_t start_time;
	uint32_t seen;		/* refresh generation */
	char cmd[UOOM_CMDLINE_LEN];
};

enum loop_kind { LOOP_EPOLL = 1, LOOP_URING = 2 };

struct uoom_ctx {
	struct uoom_params p;
	char proc_root[PATH_MAX];
	char cgroup_root[PATH_MAX];
	int proc_fd, cg_fd;
	pid_t self;
	enum loop_kind loop;
	int epfd;
	struct io_uring ring;
	bool ring_ok;
	int wake_fd;
	volatile int stop;
	bool in_dispatch;
	uint64_t last_refresh_ns;

	struct uoom_watch *watches;
	struct uoom_src *srcs;
	unsigned int nsrcs;

	char *rbuf;		/* file reads */
	size_t rcap;
	char *obuf;		/* one output record */
	size_t ocap;
	char *dents;		/* getdents64 */
	size_t dcap;

	struct uoom_snapshot snap;
	struct uoom_task *tasks;
	struct uoom_cgroup *cgroups;

	struct uoom_cmd_entry *cmds;
	unsigned int ncmds;
	uint32_t cmd_gen;

	char err[UOOM_ERR_LEN];
};

int uoom__set_err(char *dst, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define ctx_err(ctx, e, ...) uoom__set_err((ctx)->err, (e), __VA_ARGS__)
#define watch_err(w, e, ...) uoom__set_err((w)->err, (e), __VA_ARGS__)
int uoom__open_cgroup(struct uoom_ctx *ctx, const char *rel, char *norm, int flags);

/* Loops (loop_*.c) */
int uoom__uring_init(struct uoom_ctx *ctx);
void uoom__uring_exit(struct uoom_ctx *ctx);
int uoom__uring_arm(struct uoom_ctx *ctx, unsigned int si);
int uoom__uring_disarm(struct uoom_ctx *ctx, unsigned int si);
int uoom__uring_wait(struct uoom_ctx *ctx, int timeout_ms);
int uoom__epoll_init(struct uoom_ctx *ctx);
void uoom__epoll_exit(struct uoom_ctx *ctx);
int uoom__epoll_arm(struct uoom_ctx *ctx, unsigned int si);
int uoom__epoll_disarm(struct uoom_ctx *ctx, unsigned int si);
int uoom__epoll_wait(struct uoom_ctx *ctx, int timeout_ms);
/* loop.c */
int uoom__src_arm(struct uoom_ctx *ctx, unsigned int si);
void uoom__src_disarm(struct uoom_ctx *ctx, unsigned int si);
int uoom__src_ready(struct uoom_ctx *ctx, unsigned int si, uint32_t revents);

/* Backends: open/register; handle one ready source; close. */
int uoom__kernel_open(struct uoom_watch *w);
int uoom__eventfd_event(struct uoom_watch *w, struct uoom_event *ev, int *stats_ret);
int uoom__kernel_handle(struct uoom_watch *w, struct uoom_event *ev);
int uoom__v1_open(struct uoom_watch *w);
int uoom__v1_handle(struct uoom_watch *w, struct uoom_event *ev);
int uoom__events_open(struct uoom_watch *w);
int uoom__events_handle(struct uoom_watch *w, enum src_kind k, struct uoom_event *ev);
void uoom__watch_close_fds(struct uoom_watch *w);

/* snapshot.c */
void uoom__close_cache_pidfds(struct uoom_watch *w);	/* watch.c */
const struct uoom_snapshot *uoom__event_snapshot(struct uoom_watch *w);

/* proc.c */
int uoom__read_task(struct uoom_ctx *ctx, pid_t pid, struct uoom_task *t);
const char *uoom__cmd_lookup(struct uoom_ctx *ctx, pid_t pid, uint64_t start);
int uoom__for_each_pid(struct uoom_ctx *ctx, int cgfd,
		       int (*cb)(struct uoom_ctx *, pid_t, void *), void *arg);
int uoom__parse_pids(struct uoom_ctx *ctx, const char *buf, size_t len, bool full,
		     int (*cb)(struct uoom_ctx *, pid_t, void *), void *arg);

/* snapshot.c: one record of part (UOOM_SNAP_* bit number, not the tasks) */
ssize_t uoom__format_record(char *out, size_t ocap, const char *cgroup,
			    unsigned int part, enum uoom_format fmt, uint64_t ts,
			    const char *in, size_t n, bool trunc);

ssize_t uoom__format_tasks(char *out, size_t ocap, const char *cgroup,
			   const struct uoom_snapshot *s, enum uoom_format fmt,
			   unsigned int top_n, uint64_t ts);

/* watch.c: "a//b/" -> "/a/b"; its length (0 for "/"), or -errno */
int uoom__norm_cgroup(const char *rel, char *norm);

#endif
