/* SPDX-License-Identifier: MIT */
/*
 * memory.oom_notify (uoom_parse_oom_stats) and the v1 memory.oom_control
 * (uoom__parse_v1_oom_control). On success the values print back to a
 * canonical file that parses to the same values; on failure the output is
 * untouched.
 */
#include <errno.h>
#include <inttypes.h>
#include "fuzz.h"
#include "internal.h"

static const struct uoom_oom_stats poison = {
	0xa5a5, 0xa5a6, 0xa5a7, 0xa5a8, 0xa5a9, 0xa5aa,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_dup(data, size), out[512];
	struct uoom_oom_stats st = poison, again;
	int ret = uoom_parse_oom_stats(buf, size, &st), n;

	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ERANGE || ret == -ENODATA,
		   "ret %d", ret);
	if (ret) {
		FUZZ_CHECK(!memcmp(&st, &poison, sizeof(st)), "output changed on error %d", ret);
	} else {
		n = snprintf(out, sizeof(out),
			     "handlers %" PRIu64 "\nunder_oom %" PRIu64 "\noom_episodes %" PRIu64
			     "\noom_resolved %" PRIu64 "\noom_fallback %" PRIu64
			     "\nreserve_charged %" PRIu64 "\n",
			     st.handlers, st.under_oom, st.oom_episodes, st.oom_resolved,
			     st.oom_fallback, st.reserve_charged);
		FUZZ_CHECK(uoom_parse_oom_stats(out, (size_t)n, &again) == 0, "canonical form rejected");
		FUZZ_CHECK(!memcmp(&st, &again, sizeof(st)), "round trip differs");
		/* every line of an accepted file is a valid flat line */
		FUZZ_CHECK(size == 0 || memchr(buf, ' ', size) || memchr(buf, '\t', size),
			   "accepted without a separator");
	}

	st = poison;
	ret = uoom__parse_v1_oom_control(buf, size, &st);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ERANGE, "v1 ret %d", ret);
	if (ret)
		FUZZ_CHECK(!memcmp(&st, &poison, sizeof(st)), "v1 output changed on error");
	else
		FUZZ_CHECK(!st.handlers && !st.oom_episodes && !st.oom_resolved &&
			   !st.reserve_charged, "v1 filled fields it has no source for");
	free(buf);
	return 0;
}
