/* SPDX-License-Identifier: MIT */
/*
 * /proc/PID/status: uid fits 32 bits, VmRSS/VmSwap are whole kB in bytes
 * without overflow, and a canonical file gives the same facts.
 */
#include <errno.h>
#include <inttypes.h>
#include "fuzz.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_dup(data, size), out[512];
	struct uoom_proc_status st, again;
	int ret, n;

	ret = uoom__parse_proc_status(buf, size, &st);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ERANGE || ret == -ENODATA,
		   "ret %d", ret);
	if (!ret) {
		FUZZ_CHECK(st.rss % 1024 == 0 && st.swap % 1024 == 0, "not whole kB");
		FUZZ_CHECK(st.has_rss || st.rss == 0, "rss without VmRSS");
		n = snprintf(out, sizeof(out), "Name:\tx\nUid:\t%u\t0\t0\t0\n%s%" PRIu64 "%s"
			     "VmSwap:\t%" PRIu64 " kB\n", (unsigned int)st.uid,
			     st.has_rss ? "VmRSS:\t" : "Xx:\t", st.rss / 1024,
			     " kB\n", st.swap / 1024);
		FUZZ_CHECK(uoom__parse_proc_status(out, (size_t)n, &again) == 0,
			   "canonical file rejected");
		FUZZ_CHECK(st.uid == again.uid && st.rss == again.rss &&
			   st.swap == again.swap && st.has_rss == again.has_rss,
			   "round trip differs");
	}
	free(buf);
	return 0;
}
