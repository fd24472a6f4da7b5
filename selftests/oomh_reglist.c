// SPDX-License-Identifier: GPL-2.0
/*
 * The registration list under churn: lockless readers (reading
 * memory.oom_notify walks it under rcu_read_lock(), as the notification and
 * the reserve check do) while other threads register eventfds and close
 * them (each close unlinks a registration) and episodes start and end. A
 * reader standing on an entry being unlinked must step past it: if the
 * entry were reinitialised after list_del_rcu() its ->next would point to
 * itself and the reader would spin under rcu_read_lock() for ever (an RCU
 * stall on the debug kernel, whose full preemption widens the window).
 *
 * Each reader counts its reads; every reader must keep making progress.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "oomh_helpers.h"

#define MB (1024 * 1024)
#define READERS 2
#define CHURNERS 2
/* A read of memory.oom_notify takes microseconds; this is a stuck reader. */
#define STALL_MS 2000

struct churn {
	const char *cg;
	atomic_long reads[READERS];
	atomic_long regs;
	atomic_int stop;
};

struct reader_arg {
	struct churn *c;
	int i;
};

static void *reader(void *arg)
{
	struct reader_arg *a = arg;
	char buf[512];

	while (!atomic_load(&a->c->stop)) {
		if (cg_read(a->c->cg, "memory.oom_notify", buf, sizeof(buf)) > 0)
			atomic_fetch_add(&a->c->reads[a->i], 1);
	}
	return NULL;
}

/* Register up to eight eventfds, then close them all, again and again. */
static void *churner(void *arg)
{
	struct churn *c = arg;
	int efd[4], i;

	while (!atomic_load(&c->stop)) {
		for (i = 0; i < 4; i++) {
			efd[i] = oomh_new_handler(c->cg);
			if (efd[i] >= 0)
				atomic_fetch_add(&c->regs, 1);
		}
		for (i = 0; i < 4; i++)
			if (efd[i] >= 0)
				close(efd[i]);
	}
	return NULL;
}

FIXTURE(rl) {
	int unused;
};

FIXTURE_SETUP(rl)
{
}

FIXTURE_TEARDOWN(rl)
{
}

TEST_F_TIMEOUT(rl, readers_progress_while_registrations_churn, 90)
{
	pthread_t r[READERS], w[CHURNERS];
	struct reader_arg ra[READERS];
	long last[READERS] = { 0 };
	long long t_last[READERS];
	struct churn c = { 0 };
	long long t0, secs, now;
	char cg[256];
	int i, stuck = -1;
	pid_t hog = 0;

	secs = oomh_debug_kernel() ? 20 : 8;
	ASSERT_EQ(0, cg_create("uoom_reglist", cg, sizeof(cg)));
	ASSERT_LT(0, cg_write(cg, "memory.max", "16M"));
	ASSERT_LT(0, cg_write(cg, "memory.swap.max", "0"));
	ASSERT_LT(0, cg_write(cg, "memory.oom_delay_millisecs", "100"));
	c.cg = cg;
	for (i = 0; i < READERS; i++) {
		ra[i].c = &c;
		ra[i].i = i;
		ASSERT_EQ(0, pthread_create(&r[i], NULL, reader, &ra[i]));
	}
	for (i = 0; i < CHURNERS; i++)
		ASSERT_EQ(0, pthread_create(&w[i], NULL, churner, &c));

	t0 = now_ms();
	for (i = 0; i < READERS; i++)
		t_last[i] = t0;
	while ((now = now_ms()) - t0 < secs * 1000 && stuck < 0) {
		/* Episodes start and end: hogs hit the limit, get killed. */
		if (!hog || waitpid(hog, NULL, WNOHANG) == hog)
			hog = cg_spawn(cg, alloc_anon, (void *)(uintptr_t)(64 * MB));
		for (i = 0; i < READERS; i++) {
			long n = atomic_load(&c.reads[i]);

			if (n != last[i]) {
				last[i] = n;
				t_last[i] = now;
			} else if (now - t_last[i] > STALL_MS) {
				stuck = i;
			}
		}
		usleep(50000);
	}
	TH_LOG("%lld s: %ld registrations, reads %ld and %ld, episodes %lld",
	       (now - t0) / 1000, atomic_load(&c.regs), atomic_load(&c.reads[0]),
	       atomic_load(&c.reads[1]), oomh_stat(cg, "oom_episodes"));
	EXPECT_EQ(-1, stuck) TH_LOG("reader %d made no progress for %d ms", stuck, STALL_MS);
	EXPECT_LT(100, atomic_load(&c.regs));
	if (stuck >= 0)
		return;	/* the reader spins in the kernel: it cannot be joined */
	atomic_store(&c.stop, 1);
	for (i = 0; i < CHURNERS; i++)
		pthread_join(w[i], NULL);
	for (i = 0; i < READERS; i++)
		pthread_join(r[i], NULL);
	cg_write(cg, "cgroup.kill", "1");
	if (hog)
		waitpid(hog, NULL, 0);
	EXPECT_EQ(0, oomh_stat_wait(cg, "handlers", 0, 2000));
	cg_destroy(cg);
}

TEST_HARNESS_MAIN
