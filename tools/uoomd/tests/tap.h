/* SPDX-License-Identifier: MIT */
/*
 * tap.h - the smallest TAP producer: ok N - desc / not ok N - desc, and the
 * plan 1..N at the end (tap_done; the count depends on the tables, so it
 * cannot come first): a binary that stops early prints no plan, and
 * tests/check.sh and tools/tap.sh count that as a failure.
 */
#ifndef UOOMD_TAP_H
#define UOOMD_TAP_H
#include <stdarg.h>
#include <stdio.h>

static int tap_n, tap_fail;

static int __attribute__((format(printf, 2, 3))) tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tap_fail++;
	return cond;
}

#define tap_note(...) do { printf("# "); printf(__VA_ARGS__); printf("\n"); fflush(stdout); } while (0)
#define tap_done() (printf("1..%d\n# %d tests, %d failed\n", tap_n, tap_n, tap_fail), \
		    fflush(stdout), tap_fail ? 1 : 0)
#endif
