/* SPDX-License-Identifier: MIT */
/*
 * Single-value files: memory.max/memory.current ("max" or a u64),
 * oom_score_adj and the priority xattr (int). An accepted value prints back
 * to text that parses to the same value; uoom__parse_u64 consumes exactly
 * the leading digits.
 */
#include <errno.h>
#include <inttypes.h>
#include "fuzz.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_dup(data, size), out[32];
	const char *pos = buf;
	uint64_t v = 7, w;
	int i = 7, j, ret, n;

	ret = uoom__parse_max(buf, size, &v);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ERANGE, "max ret %d", ret);
	if (!ret) {
		n = v == UINT64_MAX ? snprintf(out, sizeof(out), "max\n") :
				      snprintf(out, sizeof(out), "%" PRIu64 "\n", v);
		FUZZ_CHECK(!uoom__parse_max(out, (size_t)n, &w) && w == v, "max round trip");
	} else {
		FUZZ_CHECK(v == 7, "max output changed on error");
	}

	ret = uoom__parse_int(buf, size, &i);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ERANGE, "int ret %d", ret);
	if (!ret) {
		n = snprintf(out, sizeof(out), "%d\n", i);
		FUZZ_CHECK(!uoom__parse_int(out, (size_t)n, &j) && j == i, "int round trip %d", i);
	} else {
		FUZZ_CHECK(i == 7, "int output changed on error");
	}

	ret = uoom__parse_u64(&pos, buf + size, &v);
	if (!ret) {
		const char *dig = buf;
		size_t d = 0;

		while (d < size && buf[d] >= '0' && buf[d] <= '9')
			d++;
		FUZZ_CHECK(pos == buf + d, "consumed %td of %zu digits", pos - buf, d);
		n = snprintf(out, sizeof(out), "%" PRIu64, v);
		while (d > 1 && *dig == '0' && (size_t)n < d) {	/* leading zeros */
			dig++;
			d--;
		}
		FUZZ_CHECK((size_t)n == d && !memcmp(out, dig, d), "digits differ");
	} else {
		FUZZ_CHECK(pos == buf, "moved on error");
	}
	free(buf);
	return 0;
}
