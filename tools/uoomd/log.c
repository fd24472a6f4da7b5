/* SPDX-License-Identifier: MIT */
/*
 * log.c - the logger thread, its ring and the snapshot pipe.
 *
 * Why a ring and a pipe: the handling path must not wait for the sink (a
 * file on a slow disk, a full journal, a FIFO nobody reads). Episode records
 * are small and must never be lost to a snapshot flood, so they get a ring
 * of their own (UOOMD_LOG_SLOTS fixed slots, single producer = the main
 * thread, single consumer = the logger thread). libuoom writes snapshot
 * parts straight to an fd; we give it the O_NONBLOCK write end of a pipe
 * (F_SETPIPE_SZ as large as allowed) so a full pipe is an EAGAIN, counted,
 * not a stall. The logger reads the pipe, tags each snapshot record with the
 * episode it belongs to (a marker line the handler writes first) and writes
 * every record with one write(2).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include "log.h"

#define MARK '\x1e'	/* snapshot pipe: "\x1e<episode id>\n" */

const char *const uoomd_drop_names[UOOMD_DROP_N] = {
	[UOOMD_DROP_RING] = "ring_full", [UOOMD_DROP_PIPE] = "pipe_full",
	[UOOMD_DROP_SNAPSHOT] = "snapshot_error", [UOOMD_DROP_CUT] = "cut",
	[UOOMD_DROP_WRITE] = "write_error",
};

static void drop(struct uoomd_log *l, enum uoomd_drop why)
{
	atomic_fetch_add(&l->dropped, 1);
	atomic_fetch_add(&l->drop_why[why], 1);
}

uint64_t uoomd_now_ns(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- bounded formatting ---------------------------------------------------- */

void ob_init(struct uoomd_buf *b, char *p, size_t cap)
{
	b->p = p;
	b->len = 0;
	b->cap = cap;
	b->over = false;
	if (cap)
		p[0] = '\0';
}

void ob_add(struct uoomd_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->over = true;
		n = b->cap > b->len + 1 ? b->cap - b->len - 1 : 0;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	if (b->cap)
		b->p[b->len] = '\0';
}

void ob_str(struct uoomd_buf *b, const char *s)
{
	ob_add(b, s, strlen(s));
}

void ob_fmt(struct uoomd_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->len + 1 >= b->cap) {
		b->over = true;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		b->over = true;
		b->len = b->cap - 1;
	} else {
		b->len += (size_t)n;
	}
}

void ob_json(struct uoomd_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	ob_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

		if (c == '"' || c == '\\') {
			e[1] = (char)c;
			ob_add(b, e, 2);
		} else if (c < 0x20 || c == 0x7f) {
			ob_add(b, e, 6);
		} else {
			ob_add(b, s, 1);
		}
	}
	ob_add(b, "\"", 1);
}

void ob_time(struct uoomd_buf *b, uint64_t ns)
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&t, &tm);
	ob_fmt(b, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
	       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	       (unsigned int)(ns / 1000000u % 1000u));
}

/* ---- sink ---------------------------------------------------------------- */

static int open_sink(const struct uoomd_config *cfg, int *fd, bool *journal, bool *own)
{
	*journal = cfg->log == UOOMD_LOG_JOURNAL;
	*own = false;
	if (cfg->log != UOOMD_LOG_FILE) {
		*fd = STDERR_FILENO;
		return 0;
	}
	/* O_NONBLOCK only for the open itself: a FIFO with no reader yet */
	*fd = open(cfg->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
		   0640);
	if (*fd < 0)
		return -errno;
	*own = true;
	return 0;
}

/* One record, one write(2); short writes (pipes, FIFOs) are continued. */
static void sink_write(struct uoomd_log *l, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(l->out_fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = l->out_fd, .events = POLLOUT };

			poll(&pfd, 1, 1000);
			continue;
		}
		if (w < 0 && errno == EPIPE && !atomic_load(&l->stop)) {
			/* a FIFO between readers: wait for the next one */
			struct timespec ts = { 0, 100000000 };

			nanosleep(&ts, NULL);
			continue;
		}
		if (w <= 0) {
			atomic_fetch_add(&l->write_errors, 1);
			drop(l, UOOMD_DROP_WRITE);
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Emit a record, adding "<N>" to each line for the journal. */
static void emit(struct uoomd_log *l, int prio, const char *p, size_t n)
{
	if (!l->journal) {
		sink_write(l, p, n);
	} else {
		struct uoomd_buf b;
		const char *s = p, *end = p + n;

		ob_init(&b, l->out_buf + 2 * UOOMD_SNAP_BUF, 2 * UOOMD_SNAP_BUF);
		while (s < end) {
			const char *nl = memchr(s, '\n', (size_t)(end - s));
			size_t ln = nl ? (size_t)(nl - s) + 1 : (size_t)(end - s);

			ob_fmt(&b, "<%d>", prio);
			ob_add(&b, s, ln);
			s += ln;
		}
		sink_write(l, b.p, b.len);
	}
	atomic_fetch_add(&l->records, 1);
}

/*
 * Snapshot records from the pipe: JSON ones are single lines; text ones
 * start with a "uoom PART ..." header and end with an empty line. Tag each
 * with the episode and write it whole.
 */
static void snap_record(struct uoomd_log *l, const char *p, size_t n)
{
	char *out = l->out_buf;
	struct uoomd_buf b;

	ob_init(&b, out, UOOMD_SNAP_BUF * 2);
	if (n && p[0] == '{') {
		ob_fmt(&b, "{\"episode\":%llu,", (unsigned long long)l->snap_episode);
		ob_add(&b, p + 1, n - 1);
	} else if (n > 5 && !memcmp(p, "uoom ", 5)) {
		ob_fmt(&b, "uoom episode=%llu ", (unsigned long long)l->snap_episode);
		ob_add(&b, p + 5, n - 5);
	} else {
		ob_add(&b, p, n);
	}
	emit(l, UOOMD_DEBUG, b.p, b.len);
}

/* Split the bytes read from the snapshot pipe into records. */
static void snap_drain(struct uoomd_log *l)
{
	for (;;) {
		ssize_t n;

		if (l->snap_len == UOOMD_SNAP_BUF) {
			/* a record larger than the buffer: cannot be whole */
			drop(l, UOOMD_DROP_CUT);
			l->snap_len = 0;
		}
		n = read(l->snap_rd, l->snap_buf + l->snap_len, UOOMD_SNAP_BUF - l->snap_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		l->snap_len += (size_t)n;

		/* consume complete records */
		size_t pos = 0;

		while (pos < l->snap_len) {
			char *s = l->snap_buf + pos;
			size_t avail = l->snap_len - pos;
			char *nl = memchr(s, '\n', avail);
			size_t reclen;

			if (!nl)
				break;
			if (s[0] == MARK) {
				l->snap_episode = strtoull(s + 1, NULL, 10);
				pos += (size_t)(nl - s) + 1;
				continue;
			}
			char *m = memchr(s, MARK, (size_t)(nl - s));

			if (m) {	/* a record cut short by a full pipe */
				drop(l, UOOMD_DROP_CUT);
				pos += (size_t)(m - s);
				continue;
			}
			if (s[0] == '{') {
				reclen = (size_t)(nl - s) + 1;
			} else {
				/* text: up to and including the empty line */
				char *e = memmem(s, avail, "\n\n", 2);

				if (!e)
					break;
				m = memchr(s, MARK, (size_t)(e - s));
				if (m) {
					drop(l, UOOMD_DROP_CUT);
					pos += (size_t)(m - s);
					continue;
				}
				reclen = (size_t)(e - s) + 2;
			}
			snap_record(l, s, reclen);
			pos += reclen;
		}
		memmove(l->snap_buf, l->snap_buf + pos, l->snap_len - pos);
		l->snap_len -= pos;
	}
}

static void ring_drain(struct uoomd_log *l, uint64_t upto)
{
	uint64_t t = atomic_load_explicit(&l->tail, memory_order_relaxed);

	for (; t < upto; t++) {
		struct uoomd_log_slot *s = &l->slots[t % UOOMD_LOG_SLOTS];

		if (s->reopen) {
			int fd = open(s->data, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
				      O_NOCTTY, 0640);

			if (fd >= 0) {
				if (l->own_fd)
					close(l->out_fd);
				l->out_fd = fd;
				l->own_fd = true;
				l->journal = false;
			}
		} else if (s->len) {
			emit(l, s->prio, s->data, s->len);
		}
		atomic_store_explicit(&l->tail, t + 1, memory_order_seq_cst);
	}
}

static void *logger_main(void *arg)
{
	struct uoomd_log *l = arg;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = l->wake_fd, .events = POLLIN },
			{ .fd = l->snap_rd, .events = POLLIN },
		};
		uint64_t v, head;
		bool stop = atomic_load(&l->stop);

		/* sleep only with the ring empty (see enqueue()) */
		if (!stop && atomic_load(&l->head) == atomic_load(&l->tail))
			poll(pfd, 2, 1000);
		if (read(l->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			break;
		/* snapshots of the episodes queued so far are in the pipe already */
		head = atomic_load_explicit(&l->head, memory_order_acquire);
		snap_drain(l);
		ring_drain(l, head);
		if (stop && atomic_load(&l->head) == atomic_load(&l->tail))
			break;
	}
	return NULL;
}

/* ---- producer side ------------------------------------------------------ */

int uoomd_log_init(struct uoomd_log *l, const struct uoomd_config *cfg, char *err,
		   size_t errlen)
{
	int p[2], ret;

	memset(l, 0, sizeof(*l));
	l->wake_fd = l->snap_rd = l->snap_wr = l->out_fd = -1;
	l->format = cfg->log_format;
	snprintf(l->path, sizeof(l->path), "%s", cfg->log_path);
	ret = open_sink(cfg, &l->out_fd, &l->journal, &l->own_fd);
	if (ret) {
		snprintf(err, errlen, "log file %s: %s: check the directory exists and is writable",
			 cfg->log_path, strerror(-ret));
		return ret;
	}
	l->slots = calloc(UOOMD_LOG_SLOTS, sizeof(*l->slots));
	l->snap_buf = malloc(UOOMD_SNAP_BUF);
	l->out_buf = malloc(UOOMD_SNAP_BUF * 4);
	if (!l->slots || !l->snap_buf || !l->out_buf) {
		snprintf(err, errlen, "log: out of memory");
		return -ENOMEM;
	}
	/* touch it all now: mlockall(MCL_CURRENT) then keeps it resident, and
	 * the handling path never faults in a fresh page of the ring */
	memset(l->slots, 0, UOOMD_LOG_SLOTS * sizeof(*l->slots));
	memset(l->snap_buf, 0, UOOMD_SNAP_BUF);
	memset(l->out_buf, 0, UOOMD_SNAP_BUF * 4);
	l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->wake_fd < 0 || pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "log: eventfd/pipe: %s", strerror(errno));
		return -errno;
	}
	l->snap_rd = p[0];
	l->snap_wr = p[1];
	fcntl(l->snap_rd, F_SETFL, O_NONBLOCK);
	fcntl(l->snap_wr, F_SETFL, O_NONBLOCK);
	for (unsigned int sz = UOOMD_SNAP_PIPE; sz >= 65536; sz /= 2) {
		ret = fcntl(l->snap_wr, F_SETPIPE_SZ, sz);
		if (ret > 0) {
			l->snap_pipe_size = (size_t)ret;
			break;
		}
	}
	if (!l->snap_pipe_size)
		l->snap_pipe_size = (size_t)fcntl(l->snap_wr, F_GETPIPE_SZ);
	return 0;
}

int uoomd_log_start(struct uoomd_log *l)
{
	int ret = pthread_create(&l->thread, NULL, logger_main, l);

	if (ret)
		return -ret;
	l->started = true;
	return 0;
}

void uoomd_log_flush(struct uoomd_log *l, int timeout_ms)
{
	uint64_t head = atomic_load(&l->head);
	uint64_t end = uoomd_now_ns(CLOCK_MONOTONIC) + (uint64_t)timeout_ms * 1000000ull;

	while (l->started && atomic_load(&l->tail) < head &&
	       uoomd_now_ns(CLOCK_MONOTONIC) < end) {
		struct timespec ts = { 0, 1000000 };

		nanosleep(&ts, NULL);
	}
}

void uoomd_log_fini(struct uoomd_log *l)
{
	uint64_t one = 1;

	if (l->started) {
		atomic_store(&l->stop, true);
		if (write(l->wake_fd, &one, sizeof(one)) < 0)
			(void)0;
		pthread_join(l->thread, NULL);
		l->started = false;
	} else if (l->slots) {
		/* never started (--check, early errors): write what is queued */
		snap_drain(l);
		ring_drain(l, atomic_load(&l->head));
	}
	if (l->own_fd && l->out_fd >= 0)
		close(l->out_fd);
	for (int *fd = &l->wake_fd; fd <= &l->snap_wr; fd++)
		if (*fd >= 0)
			close(*fd);
	free(l->slots);
	free(l->snap_buf);
	free(l->out_buf);
	l->slots = NULL;
	l->snap_buf = l->out_buf = NULL;
}

static bool enqueue(struct uoomd_log *l, int prio, const char *rec, size_t len,
		    bool reopen)
{
	uint64_t h = atomic_load_explicit(&l->head, memory_order_relaxed);
	uint64_t t = atomic_load_explicit(&l->tail, memory_order_acquire);
	struct uoomd_log_slot *s;
	uint64_t one = 1;

	if (h - t >= UOOMD_LOG_SLOTS) {
		drop(l, UOOMD_DROP_RING);
		return false;
	}
	s = &l->slots[h % UOOMD_LOG_SLOTS];
	if (len > sizeof(s->data)) {
		/* cut, and keep it one line: end on a newline */
		len = sizeof(s->data);
		memcpy(s->data, rec, len);
		s->data[len - 1] = '\n';
	} else {
		memcpy(s->data, rec, len);
	}
	s->len = (uint32_t)len;
	s->prio = (uint8_t)prio;
	s->reopen = reopen;
	/*
	 * Wake the logger only when the ring was empty: a busy (or blocked)
	 * logger drains until it sees the ring empty, so while it works the
	 * enqueue is a copy and a store. seq_cst on both sides (head store,
	 * tail load here; tail store, head load in logger_main): one of the
	 * two always sees the other's store, so no wake-up is lost.
	 */
	atomic_store_explicit(&l->head, h + 1, memory_order_seq_cst);
	if (atomic_load_explicit(&l->tail, memory_order_seq_cst) == h &&
	    write(l->wake_fd, &one, sizeof(one)) < 0)
		(void)0;	/* EAGAIN: the counter is already non-zero */
	return true;
}

bool uoomd_log_enqueue(struct uoomd_log *l, int prio, const char *rec, size_t len)
{
	uint64_t t0 = uoomd_now_ns(CLOCK_MONOTONIC), d;
	bool ok = enqueue(l, prio, rec, len, false);

	d = uoomd_now_ns(CLOCK_MONOTONIC) - t0;
	l->enq_count++;
	l->enq_sum_ns += d;
	l->enq_last_ns = d;
	if (d > l->enq_max_ns)
		l->enq_max_ns = d;
	return ok;
}

void uoomd_log_snap_mark(struct uoomd_log *l, uint64_t id)
{
	char m[32];
	int n = snprintf(m, sizeof(m), "%c%llu\n", MARK, (unsigned long long)id);

	if (write(l->snap_wr, m, (size_t)n) != n)
		drop(l, UOOMD_DROP_PIPE);
}

void uoomd_log_count_drop(struct uoomd_log *l, enum uoomd_drop why)
{
	drop(l, why);
}

void uoomd_log_msg(struct uoomd_log *l, int prio, const char *fmt, ...)
{
	static const char *const level[] = { "emerg", "alert", "crit", "err",
					     "warning", "notice", "info", "debug" };
	char msg[UOOMD_LOG_REC - 128], rec[UOOMD_LOG_REC];
	struct uoomd_buf b;
	va_list ap;

	if (prio >= UOOMD_DEBUG && !l->verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ob_init(&b, rec, sizeof(rec) - 1);
	if (l->format == UOOM_FMT_JSON) {
		ob_str(&b, "{\"time\":\"");
		ob_time(&b, uoomd_now_ns(CLOCK_REALTIME));
		ob_fmt(&b, "\",\"type\":\"message\",\"level\":\"%s\",\"msg\":", level[prio & 7]);
		ob_json(&b, msg);
		ob_str(&b, "}");
	} else {
		/* multi-line messages (a config's errors): one record per line */
		char *save = NULL;

		for (char *line = strtok_r(msg, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			ob_init(&b, rec, sizeof(rec) - 1);
			if (!l->journal) {
				ob_time(&b, uoomd_now_ns(CLOCK_REALTIME));
				ob_str(&b, " ");
			}
			ob_fmt(&b, "uoomd: %s%s", prio <= UOOMD_ERR ? "error: " :
				   prio == UOOMD_WARNING ? "warning: " : "", line);
			b.p[b.len++] = '\n';
			enqueue(l, prio, b.p, b.len, false);
		}
		return;
	}
	b.p[b.len++] = '\n';
	enqueue(l, prio, b.p, b.len, false);
}

int uoomd_log_reconfigure(struct uoomd_log *l, const struct uoomd_config *cfg)
{
	l->format = cfg->log_format;
	if (cfg->log == UOOMD_LOG_FILE && strcmp(cfg->log_path, l->path)) {
		snprintf(l->path, sizeof(l->path), "%s", cfg->log_path);
		enqueue(l, UOOMD_INFO, l->path, strlen(l->path) + 1, true);
	}
	return 0;
}
