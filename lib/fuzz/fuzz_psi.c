/* SPDX-License-Identifier: MIT */
/*
 * PSI files (memory.pressure, /proc/pressure/memory): averages within
 * 0..100.99 %, canonical round trip on success, output untouched on error.
 */
#include <errno.h>
#include <inttypes.h>
#include "fuzz.h"
#include "internal.h"

static int line(char *out, size_t cap, const char *name, const struct uoom_psi_line *l)
{
	return snprintf(out, cap, "%s avg10=%u.%02u avg60=%u.%02u avg300=%u.%02u total=%" PRIu64 "\n",
			name, l->avg10 / 100, l->avg10 % 100, l->avg60 / 100, l->avg60 % 100,
			l->avg300 / 100, l->avg300 % 100, l->total_us);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_dup(data, size), out[512];
	struct uoom_psi psi, again;
	int ret, n;

	memset(&psi, 0x5a, sizeof(psi));
	ret = uoom_parse_psi(buf, size, &psi);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ERANGE || ret == -ENODATA,
		   "ret %d", ret);
	if (ret) {
		for (size_t i = 0; i < sizeof(psi); i++)
			FUZZ_CHECK(((unsigned char *)&psi)[i] == 0x5a, "output changed on error %d", ret);
	} else {
		const struct uoom_psi_line *ls[] = { &psi.some, &psi.full };

		for (int i = 0; i < 2; i++)
			FUZZ_CHECK(ls[i]->avg10 <= 10099 && ls[i]->avg60 <= 10099 &&
				   ls[i]->avg300 <= 10099, "average above 100.99%%");
		n = line(out, sizeof(out), "some", &psi.some);
		n += line(out + n, sizeof(out) - (size_t)n, "full", &psi.full);
		FUZZ_CHECK(uoom_parse_psi(out, (size_t)n, &again) == 0, "canonical form rejected");
		FUZZ_CHECK(!memcmp(&psi, &again, sizeof(psi)), "round trip differs");
		FUZZ_CHECK(size >= 5 && memmem(buf, size, "some ", 5), "accepted without a some line");
	}
	free(buf);
	return 0;
}
