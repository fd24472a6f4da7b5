/* SPDX-License-Identifier: MIT */
/*
 * cgroup.procs: every pid handed on is in 1..INT32_MAX and is the number a
 * line starts with, at most one per line.
 */
#include <errno.h>
#include <inttypes.h>
#include "fuzz.h"
#include "internal.h"

struct acc {
	const char *buf, *end, *next;	/* next: earliest start of the next line */
	unsigned int calls;
};

static int cb(struct uoom_ctx *ctx, pid_t pid, void *arg)
{
	struct acc *a = arg;
	const char *line = a->next, *eol;
	char num[16];
	int n;

	(void)ctx;
	FUZZ_CHECK(pid > 0, "pid %d", (int)pid);
	/* the line this pid came from: the first at or after a->next whose
	 * text starts with the pid's digits */
	for (;;) {
		FUZZ_CHECK(line < a->end, "pid %d found in no line", (int)pid);
		eol = memchr(line, '\n', (size_t)(a->end - line));
		if (!eol)
			eol = a->end;
		n = snprintf(num, sizeof(num), "%d", (int)pid);
		const char *d = line;

		while (d < eol && *d == '0')
			d++;
		if ((size_t)(eol - d) >= (size_t)n && !memcmp(d, num, (size_t)n) &&
		    (d + n == eol || d[n] < '0' || d[n] > '9'))
			break;
		line = eol + 1;
	}
	a->next = eol + 1;
	a->calls++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_dup(data, size);
	struct acc a = { buf, buf + size, buf, 0 };
	size_t lines = 0;
	int ret = uoom__parse_pids(NULL, buf, size, false, cb, &a);

	for (size_t i = 0; i < size; i++)
		lines += buf[i] == '\n';
	FUZZ_CHECK(ret == 0, "ret %d", ret);
	FUZZ_CHECK(a.calls <= lines + (size && buf[size - 1] != '\n'),
		   "%u pids from %zu lines", a.calls, lines);

	/* a full buffer: nothing from the unterminated last line */
	const char *nl = size ? memrchr(buf, '\n', size) : NULL;

	/* the callback's search for each pid's line stops at the last newline */
	a = (struct acc){ buf, nl ? nl + 1 : buf, buf, 0 };
	ret = uoom__parse_pids(NULL, buf, size, true, cb, &a);
	FUZZ_CHECK(ret == (size && buf[size - 1] != '\n'), "full: ret %d", ret);
	FUZZ_CHECK(a.calls <= lines, "full: %u pids from %zu whole lines", a.calls, lines);
	free(buf);
	return 0;
}
