/* SPDX-License-Identifier: MIT */
/* memory.events: canonical round trip on success, output untouched on error. */
#include <errno.h>
#include <inttypes.h>
#include "fuzz.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct uoom_mem_events poison = { 1, 2, 3, 4, 5, 6 };
	char *buf = fuzz_dup(data, size), out[512];
	struct uoom_mem_events ev = poison, again;
	int ret = uoom_parse_mem_events(buf, size, &ev), n;

	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ERANGE, "ret %d", ret);
	if (ret) {
		FUZZ_CHECK(!memcmp(&ev, &poison, sizeof(ev)), "output changed on error %d", ret);
	} else {
		n = snprintf(out, sizeof(out),
			     "low %" PRIu64 "\nhigh %" PRIu64 "\nmax %" PRIu64 "\noom %" PRIu64
			     "\noom_kill %" PRIu64 "\noom_group_kill %" PRIu64 "\n",
			     ev.low, ev.high, ev.max, ev.oom, ev.oom_kill, ev.oom_group_kill);
		FUZZ_CHECK(uoom_parse_mem_events(out, (size_t)n, &again) == 0, "canonical form rejected");
		FUZZ_CHECK(!memcmp(&ev, &again, sizeof(ev)), "round trip differs");
	}
	free(buf);
	return 0;
}
