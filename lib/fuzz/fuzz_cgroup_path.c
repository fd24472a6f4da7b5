/* SPDX-License-Identifier: MIT */
/*
 * Cgroup paths given to uoom_watch_add, uoom_kill_cgroup, uoom_throttle:
 * the normal form is "/" or "/a/b" (no empty, "." or ".." component, no
 * trailing slash), shorter than UOOM_CGROUP_PATH_MAX, and normalising it
 * again gives the same.
 */
#include <errno.h>
#include "fuzz.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), norm[UOOM_CGROUP_PATH_MAX], again[UOOM_CGROUP_PATH_MAX];
	int n, m;

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	memset(norm, 'x', sizeof(norm));
	n = uoom__norm_cgroup(s, norm);
	FUZZ_CHECK(n >= 0 || n == -EINVAL || n == -ENAMETOOLONG, "ret %d", n);
	FUZZ_CHECK(memchr(norm, '\0', sizeof(norm)), "not terminated");
	if (n >= 0) {
		size_t len = strlen(norm);

		FUZZ_CHECK(norm[0] == '/', "no leading slash");
		FUZZ_CHECK(n ? len == (size_t)n : len == 1, "length %zu, ret %d", len, n);
		FUZZ_CHECK(n == 0 || norm[len - 1] != '/', "trailing slash");
		FUZZ_CHECK(!strstr(norm, "//"), "empty component");
		FUZZ_CHECK(!strstr(norm, "/./") && strcmp(norm + len - (len >= 2 ? 2 : 0), "/."),
			   "'.' component");
		FUZZ_CHECK(!strstr(norm, "/../") && (len < 3 || strcmp(norm + len - 3, "/..")),
			   "'..' component");
		m = uoom__norm_cgroup(norm, again);
		FUZZ_CHECK(m == n && !strcmp(norm, again), "not idempotent");
		m = uoom__norm_cgroup(norm + 1, again);
		FUZZ_CHECK(m == n && !strcmp(norm, again), "leading slash matters");
	}
	free(s);
	return 0;
}
