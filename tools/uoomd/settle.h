/* SPDX-License-Identifier: MIT */
/* settle.h - stale events and the post-kill settle window (settle.c). */
#ifndef UOOMD_SETTLE_H
#define UOOMD_SETTLE_H

#include <stdbool.h>
#include <stdint.h>
#include <uoom.h>

enum uoomd_gate {
	UOOMD_GATE_GO = 0,	/* act */
	UOOMD_GATE_STALE,	/* the episode is already over: no action */
	UOOMD_GATE_SETTLE,	/* within the settle window: wait, don't kill */
};

/* @kernel_oom: a kernel-backend UOOM_EV_OOM; @st: memory.oom_notify read
 * at dispatch; @settle_until_ns: end of the watch's window (0: none). */
enum uoomd_gate uoomd_gate(bool kernel_oom, const struct uoom_oom_stats *st,
			   uint64_t now_ns, uint64_t settle_until_ns);
/* How long to wait for the episode to resolve: up to 3/4 of the kernel's
 * delay after the event (@ev_ns), 0 when that has passed. */
uint64_t uoomd_settle_budget_ns(unsigned int delay_ms, uint64_t ev_ns, uint64_t now_ns);
/* Poll @read_stats every @poll_ms for up to @budget_ns: true as soon as the
 * episode resolved (under_oom 0), false if it still runs at the end. */
bool uoomd_settle_wait(int (*read_stats)(void *arg, struct uoom_oom_stats *st),
		       void *arg, uint64_t budget_ns, unsigned int poll_ms,
		       uint64_t (*now)(void));

#endif
