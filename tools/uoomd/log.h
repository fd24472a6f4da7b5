/* SPDX-License-Identifier: MIT */
/*
 * log.h - uoomd's log: the handling path never writes to the log sink.
 *
 * Records (episode records, daemon messages) are copied into a preallocated
 * ring of fixed-size slots; a logger thread writes each with one write(2).
 * libuoom's snapshot parts go to the write end of a non-blocking pipe that
 * the same thread drains. When the ring or the pipe is full the record is
 * dropped and counted, never waited for.
 */
#ifndef UOOMD_LOG_H
#define UOOMD_LOG_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uoom.h>
#include "config.h"

#define UOOMD_LOG_SLOTS		512	/* a storm of 200 episodes fits */
#define UOOMD_LOG_REC		2048	/* bytes per record, longer ones are cut */
#define UOOMD_SNAP_PIPE		(4u << 20)	/* asked for; 1 MiB without CAP_SYS_RESOURCE */
#define UOOMD_SNAP_BUF		(256u << 10)

/* syslog priorities for the journal's "<N>" prefixes */
enum { UOOMD_ERR = 3, UOOMD_WARNING = 4, UOOMD_NOTICE = 5, UOOMD_INFO = 6,
       UOOMD_DEBUG = 7 };

/* why a record was dropped (uoomd_log_dropped_total, by reason) */
enum uoomd_drop {
	UOOMD_DROP_RING = 0,	/* the ring was full */
	UOOMD_DROP_PIPE,	/* the snapshot pipe was (nearly) full */
	UOOMD_DROP_SNAPSHOT,	/* libuoom could not write a snapshot part */
	UOOMD_DROP_CUT,		/* a snapshot record arrived cut short */
	UOOMD_DROP_WRITE,	/* write(2) to the sink failed */
	UOOMD_DROP_N
};
extern const char *const uoomd_drop_names[UOOMD_DROP_N];

struct uoomd_log_slot {
	uint32_t len;
	uint8_t prio;
	uint8_t reopen;			/* switch the sink to data (a path) */
	char data[UOOMD_LOG_REC];
};

struct uoomd_log {
	/* set by uoomd_log_init, then owned by the logger thread */
	int out_fd;
	bool journal;
	bool own_fd;
	char path[UOOMD_PATH_LEN];
	/* read by the producer */
	enum uoom_format format;
	bool verbose;
	int wake_fd;			/* eventfd: records are waiting */
	int snap_rd, snap_wr;		/* snapshot pipe; snap_wr is O_NONBLOCK */
	size_t snap_pipe_size;
	struct uoomd_log_slot *slots;
	_Atomic uint64_t head;		/* next slot the producer fills */
	_Atomic uint64_t tail;		/* next slot the logger writes */
	atomic_bool stop;
	pthread_t thread;
	bool started;
	/* counters */
	_Atomic uint64_t records;	/* records written to the sink */
	_Atomic uint64_t dropped;	/* records not written (full, cut) */
	_Atomic uint64_t drop_why[UOOMD_DROP_N];
	_Atomic uint64_t write_errors;
	/* enqueue timing (producer only) */
	uint64_t enq_count, enq_sum_ns, enq_max_ns, enq_last_ns;
	/* logger thread's buffers */
	char *snap_buf;			/* partial lines read from the pipe */
	size_t snap_len;
	char *out_buf;
	uint64_t snap_episode;		/* tag for the snapshot records */
};

/* Open the sink described by @cfg and allocate everything. */
int uoomd_log_init(struct uoomd_log *l, const struct uoomd_config *cfg,
		   char *err, size_t errlen);
/* Start the logger thread (records enqueued before are kept). */
int uoomd_log_start(struct uoomd_log *l);
/* Write out what is queued, stop the thread, close. */
void uoomd_log_fini(struct uoomd_log *l);
/* Apply a new configuration's log settings (reload). */
int uoomd_log_reconfigure(struct uoomd_log *l, const struct uoomd_config *cfg);

/*
 * Handling path: copy one complete record (ending in '\n') into the ring and
 * wake the logger. Never blocks, never allocates; false when it was dropped.
 */
bool uoomd_log_enqueue(struct uoomd_log *l, int prio, const char *rec, size_t len);
/* Mark the snapshot records written next to @fd as episode @id's. */
void uoomd_log_snap_mark(struct uoomd_log *l, uint64_t id);
/* Write the snapshot pipe for a snapshot part that did not fit. */
void uoomd_log_count_drop(struct uoomd_log *l, enum uoomd_drop why);

/* Daemon messages (not on the handling path): "uoomd: ..." or JSON. */
void uoomd_log_msg(struct uoomd_log *l, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Wait until the logger has written everything queued so far (tests). */
void uoomd_log_flush(struct uoomd_log *l, int timeout_ms);

/* Helpers for record formatting into bounded buffers. */
struct uoomd_buf {
	char *p;
	size_t len, cap;
	bool over;
};
void ob_init(struct uoomd_buf *b, char *p, size_t cap);
void ob_add(struct uoomd_buf *b, const char *s, size_t n);
void ob_str(struct uoomd_buf *b, const char *s);
void ob_fmt(struct uoomd_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ob_json(struct uoomd_buf *b, const char *s);	/* quoted, escaped */
void ob_time(struct uoomd_buf *b, uint64_t realtime_ns);	/* ISO 8601 UTC */
uint64_t uoomd_now_ns(int clock);

#endif
