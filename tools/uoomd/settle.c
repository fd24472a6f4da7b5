/* SPDX-License-Identifier: MIT */
/*
 * settle.c - whether a kernel-backend OOM event still calls for an action.
 *
 * Two cases where acting would hurt: the event is stale (memory.oom_notify
 * read at dispatch says no OOM is in progress: an earlier kill or the kernel
 * already resolved it), or it came within the settle window after a kill in
 * the same watch, while the victim's memory is still being freed or the
 * workload's page cache is being written back. Killing then takes the next
 * largest task, usually an innocent bystander. In the window uoomd waits,
 * bounded well inside the kernel's delay, for the episode to resolve; what
 * does not resolve is left to the kernel's fallback, which the delay
 * guarantees. Pure logic, unit-tested on the host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <time.h>
#include "settle.h"

enum uoomd_gate uoomd_gate(bool kernel_oom, const struct uoom_oom_stats *st,
			   uint64_t now_ns, uint64_t settle_until_ns)
{
	if (!kernel_oom)
		return UOOMD_GATE_GO;
	/* oom_episodes 0: the counters could not be read; do not guess */
	if (st->oom_episodes && !st->under_oom)
		return UOOMD_GATE_STALE;
	if (now_ns < settle_until_ns)
		return UOOMD_GATE_SETTLE;
	return UOOMD_GATE_GO;
}

uint64_t uoomd_settle_budget_ns(unsigned int delay_ms, uint64_t ev_ns, uint64_t now_ns)
{
	/* keep a quarter of the delay for the kernel's fallback to stay the
	 * fallback, not a race with us */
	uint64_t end = ev_ns + (uint64_t)delay_ms * 750000ull;

	return end > now_ns ? end - now_ns : 0;
}

bool uoomd_settle_wait(int (*read_stats)(void *arg, struct uoom_oom_stats *st),
		       void *arg, uint64_t budget_ns, unsigned int poll_ms,
		       uint64_t (*now)(void))
{
	uint64_t end = now() + budget_ns;
	struct uoom_oom_stats st;

	for (;;) {
		if (!read_stats(arg, &st) && st.oom_episodes && !st.under_oom)
			return true;
		if (now() >= end)
			return false;
		struct timespec ts = { 0, (long)poll_ms * 1000000L };

		nanosleep(&ts, NULL);
	}
}
