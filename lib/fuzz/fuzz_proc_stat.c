/* SPDX-License-Identifier: MIT */
/*
 * /proc/PID/stat: comm is NUL-terminated within UOOM_COMM_LEN, the state is
 * one non-blank character, and the parsed facts survive a round trip
 * through a stat line of the kernel's shape.
 */
#include <errno.h>
#include <inttypes.h>
#include "fuzz.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_dup(data, size), out[512];
	struct uoom_proc_stat ps, again;
	int ret, n;

	memset(&ps, 0x5a, sizeof(ps));
	ret = uoom__parse_proc_stat(buf, size, &ps);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ERANGE, "ret %d", ret);
	if (!ret) {
		FUZZ_CHECK(memchr(ps.comm, '\0', sizeof(ps.comm)), "comm not terminated");
		FUZZ_CHECK(ps.state != ' ' && ps.state != '\t', "blank state");
		if (!strchr(ps.comm, ')') && !strchr(ps.comm, '(')) {
			n = snprintf(out, sizeof(out),
				     "42 (%s) %c 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 %" PRIu64
				     " 20 21\n", ps.comm, ps.state, ps.start_time);
			memset(&again, 0, sizeof(again));
			FUZZ_CHECK(uoom__parse_proc_stat(out, (size_t)n, &again) == 0,
				   "canonical line rejected");
			FUZZ_CHECK(ps.start_time == again.start_time, "start_time differs");
			FUZZ_CHECK(!strcmp(ps.comm, again.comm) || ps.state == '\n' ||
				   strchr(ps.comm, '\n'), "comm differs");
		}
	}
	free(buf);
	return 0;
}
