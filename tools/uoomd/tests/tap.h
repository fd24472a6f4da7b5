/* SPDX-License-Identifier: MIT */
/* tap.h - the smallest TAP producer: ok N - desc / not ok N - desc. */
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

#define tap_note(...) do { printf("# "); printf(__VA_ARGS__); printf("\n"); } while (0)
#define tap_done() (printf("# %d tests, %d failed\n", tap_n, tap_fail), tap_fail ? 1 : 0)
#endif
