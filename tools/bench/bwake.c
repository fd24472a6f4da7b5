// SPDX-License-Identifier: MIT
/*
 * bwake: how soon an OOM handler learns of an OOM, over many episodes.
 *
 *   bwake -m kernel|poll10|poll100 -n EPISODES
 *
 * Each episode forks an allocator into /sys/fs/cgroup/bench/wake
 * (memory.max 4M, no swap) that writes CLOCK_MONOTONIC to a shared page
 * immediately before every page touch, so when the charge fails the page
 * holds the time just before the touch that crossed the limit. Latency is
 * then (handler's CLOCK_MONOTONIC when it learns) - (that time), and so
 * includes the fault, the failed reclaim, the OOM path up to the eventfd
 * signal (or the memory.events update), the wake-up and scheduling.
 *
 * kernel   this process is a libuoom kernel-backend handler of the cgroup
 *          (delay 1 s): the time is taken on entry to its handler callback
 *          ("wake_us"), and libuoom's dispatch time is "dispatch_us"; it
 *          then kills the allocator.
 * pollN    no handler is registered (the kernel kills at once); this
 *          process reads memory.events every N ms (from a random phase
 *          after the fork) and notes when "oom" moves.
 * Prints one "bench wake MODE EPISODE wake_us V" line per episode.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "bench.h"
#include "uoom.h"

#define WAKE_CG "/sys/fs/cgroup/bench/wake"

struct wshm {
	volatile uint64_t touch_ns;
	volatile uint64_t seq;
};

struct wstate {
	struct wshm *shm;
	uint64_t cb_ns, dispatch_ns;
	int fired;
};

static void allocator(struct wshm *s)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t len = 64 * MIB, i;
	char *p;

	/* Not a holder of the handler's eventfd. */
	syscall(SYS_close_range, 3, ~0u, 0);
	if (cg_enter(WAKE_CG))
		_exit(4);
	set_oom_adj(0);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		_exit(3);
	for (i = 0; i < len; i += pg) {
		s->touch_ns = now_ns();
		p[i] = 1;
	}
	_exit(5);	/* the limit never stopped us */
}

static int on_oom(struct uoom_watch *w, const struct uoom_event *ev, void *data)
{
	struct wstate *st = data;

	(void)w;
	if (ev->kind != UOOM_EV_OOM)
		return 0;
	st->cb_ns = now_ns();
	st->dispatch_ns = ev->time_ns;
	st->fired = 1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = "kernel";
	struct uoom_ctx *ctx = NULL;
	struct uoom_watch *w = NULL;
	struct uoom_watch_opts wo;
	struct uoom_params p;
	struct wstate st = { 0 };
	struct timespec gap;
	char err[256] = "";
	int n = 1000, o, i, pidfd, poll_ms = 0, misses = 0, status;
	long long oom0, oom;
	uint64_t t, end;
	pid_t pid;

	while ((o = getopt(argc, argv, "m:n:")) != -1) {
		switch (o) {
		case 'm': mode = optarg; break;
		case 'n': n = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: bwake -m kernel|poll10|poll100 -n EPISODES\n");
			return 2;
		}
	}
	if (!strncmp(mode, "poll", 4))
		poll_ms = atoi(mode + 4);
	else if (strcmp(mode, "kernel"))
		return 2;
	st.shm = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (st.shm == MAP_FAILED)
		return 1;
	if (!poll_ms) {
		uoom_params_init(&p);
		p.flags = UOOM_F_MLOCKALL | UOOM_F_OOM_SCORE_ADJ;
		p.errbuf = err;
		p.errbuf_len = sizeof(err);
		if (uoom_ctx_new(&p, &ctx)) {
			fprintf(stderr, "bwake: %s\n", err);
			return 1;
		}
		uoom_watch_opts_init(&wo);
		wo.cgroup = "bench/wake";
		wo.handler = on_oom;
		wo.data = &st;
		wo.backends = UOOM_BACKEND_MASK(UOOM_BACKEND_KERNEL);
		wo.delay_ms = 1000;
		wo.log_fd = -1;
		if (uoom_watch_add(ctx, &wo, &w)) {
			fprintf(stderr, "bwake: kernel backend on bench/wake: %s\n",
				w ? uoom_watch_reason(w) : "failed");
			return 1;
		}
	} else {
		set_oom_adj(-1000);
		srand((unsigned int)now_ns());
	}
	for (i = 0; i < n; i++) {
		oom0 = key_get(WAKE_CG "/memory.events", "oom");
		st.fired = 0;
		st.shm->touch_ns = 0;
		pid = fork();
		if (pid == 0)
			allocator(st.shm);
		pidfd = pidfd_open(pid);
		end = now_ns() + 3000000000ull;
		t = 0;
		if (!poll_ms) {
			while (!st.fired && now_ns() < end)
				uoom_dispatch(ctx, 1000);
			if (st.fired)
				t = st.cb_ns;
		} else {
			/* A random phase: the OOM comes at a nearly fixed
			 * time after the fork, the samples must not. */
			gap.tv_sec = 0;
			gap.tv_nsec = (long)(rand() % (poll_ms * 1000)) * 1000L;
			nanosleep(&gap, NULL);
			gap.tv_sec = poll_ms / 1000;
			gap.tv_nsec = (poll_ms % 1000) * 1000000L;
			while (now_ns() < end) {
				oom = key_get(WAKE_CG "/memory.events", "oom");
				if (oom > oom0) {
					t = now_ns();
					break;
				}
				nanosleep(&gap, NULL);
			}
		}
		pidfd_kill(pidfd, SIGKILL);
		waitpid(pid, &status, 0);
		close(pidfd);
		if (!t || !st.shm->touch_ns) {
			char nb[512] = "";

			misses++;
			if (!poll_ms && file_get(WAKE_CG "/memory.oom_notify", nb, sizeof(nb)) > 0)
				fprintf(stderr, "bwake: episode %d: no wake-up; memory.oom_notify: %s", i, nb);
			if (misses >= 20) {
				fprintf(stderr, "bwake %s: 20 episodes without a wake-up: giving up\n", mode);
				break;
			}
			continue;
		}
		emit("wake", mode, i, "wake_us", "%.1f", (t - st.shm->touch_ns) / 1e3);
		if (!poll_ms)
			emit("wake", mode, i, "dispatch_us", "%.1f",
			     ((double)st.dispatch_ns - (double)st.shm->touch_ns) / 1e3);
	}
	emit("wake", mode, 0, "misses", "%d", misses);
	fprintf(stderr, "bwake %s: %d episodes, %d without a wake-up\n", mode, n, misses);
	if (ctx)
		uoom_ctx_free(ctx);
	return 0;
}
