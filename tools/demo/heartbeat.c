// SPDX-License-Identifier: GPL-2.0
/*
 * heartbeat MB: the demo's latency-sensitive service. Holds MB megabytes and
 * wakes every 10 ms (absolute CLOCK_MONOTONIC deadlines) to touch one page of
 * them; each tick's lateness is how long the service stalled. On SIGTERM or
 * SIGINT it prints
 *   heartbeat: ticks N, max late X ms, p99 late Y ms
 * and exits 0. Everything is allocated and locked before the first tick.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define TICK_NS 10000000L
#define MAX_TICKS 60000			/* 10 minutes */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	size_t bytes = (size_t)(argc > 1 ? atol(argv[1]) : 8) << 20;
	static long late[MAX_TICKS];
	struct sigaction sa = { .sa_handler = on_signal };
	struct timespec next, now;
	long n = 0, max = 0;
	char *mem;

	mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return perror("heartbeat: mmap"), 1;
	memset(mem, 1, bytes);
	memset(late, 0, sizeof(late));
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!stop && n < MAX_TICKS) {
		next.tv_nsec += TICK_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL))
			continue;	/* a signal: check stop */
		clock_gettime(CLOCK_MONOTONIC, &now);
		late[n] = (now.tv_sec - next.tv_sec) * 1000000000L +
			  now.tv_nsec - next.tv_nsec;
		if (late[n] > max)
			max = late[n];
		mem[(size_t)n * 4096 % bytes]++;	/* the service works */
		n++;
		/* After a long stall, do not try to catch up on missed ticks. */
		if (late[n - 1] > TICK_NS)
			next = now;
	}
	qsort(late, (size_t)n, sizeof(late[0]), cmp);
	printf("heartbeat: ticks %ld, max late %.1f ms, p99 late %.1f ms\n", n,
	       max / 1e6, n ? late[n * 99 / 100] / 1e6 : 0.0);
	return 0;
}
