/* SPDX-License-Identifier: MIT */
/*
 * The flat keyed parser under every "key value" file (memory.oom_notify,
 * memory.events, memory.oom_control): each key handed to the callback is
 * non-empty, inside the input, free of blanks and newlines, and begins a
 * line; there are no more calls than lines; a callback error stops it.
 */
#include <errno.h>
#include "fuzz.h"
#include "internal.h"

struct acc {
	const char *buf;
	size_t len;
	unsigned int calls, stop_at;
};

static int cb(void *arg, const char *key, size_t klen, uint64_t v)
{
	struct acc *a = arg;

	(void)v;
	FUZZ_CHECK(klen > 0, "empty key");
	FUZZ_CHECK(key >= a->buf && key + klen <= a->buf + a->len, "key outside the input");
	FUZZ_CHECK(key == a->buf || key[-1] == '\n', "key does not begin a line");
	FUZZ_CHECK(!memchr(key, ' ', klen) && !memchr(key, '\t', klen) &&
		   !memchr(key, '\n', klen), "blank in key");
	if (++a->calls == a->stop_at)
		return -ECANCELED;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int stop = size ? data[0] % 8 : 0;
	char *buf;
	struct acc a;
	size_t lines = 0;
	int ret;

	if (size) {
		data++;
		size--;
	}
	buf = fuzz_dup(data, size);
	a = (struct acc){ buf, size, 0, stop };
	ret = uoom__parse_flat(buf, size, cb, &a);
	for (size_t i = 0; i < size; i++)
		lines += buf[i] == '\n';
	if (size && buf[size - 1] != '\n')
		lines++;
	FUZZ_CHECK(a.calls <= lines, "%u calls for %zu lines", a.calls, lines);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ERANGE || ret == -ECANCELED,
		   "ret %d", ret);
	if (ret == -ECANCELED)
		FUZZ_CHECK(stop && a.calls == stop, "went on after the callback's error");
	if (ret == 0)
		FUZZ_CHECK(a.calls == lines, "accepted %zu lines with %u values", lines, a.calls);
	free(buf);
	return 0;
}
