/* SPDX-License-Identifier: MIT */
/*
 * Snapshot records (uoom__format_record) of vmstat, meminfo, slabinfo,
 * memory.stat, memory.events and PSI, text and JSON, built from any file
 * content into buffers of any size. The first bytes pick the part, the
 * format, whether the read was cut, the output size and the cgroup path.
 *
 * Every record fits its buffer; a JSON record is one line holding one valid
 * JSON object with the type, time and cgroup; a text record is its header
 * line, whole lines of the file (all of it unless cut), and a blank line.
 */
#include <errno.h>
#include <inttypes.h>
#include "fuzz.h"
#include "internal.h"

static const char *const names[] = {
	"vmstat", "meminfo", "slabinfo", "memory.stat", "memory.events", "memory.pressure",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int part, fmt, cut, cglen;
	size_t ocap;
	char cg[UOOM_CGROUP_PATH_MAX], hdr[512], *in, *out;
	ssize_t n;
	int h;

	if (size < 4)
		return 0;
	part = data[0] % 6;
	fmt = (data[0] >> 3) & 1;
	cut = (data[0] >> 4) & 1;
	ocap = 65 + (size_t)data[1] * 16 + (size_t)(data[2] & 0x0f) * 4096;
	cglen = data[3] % 24;
	data += 4;
	size -= 4;
	if (cglen > size)
		cglen = (unsigned int)size;
	/* a normalised path: '/' then bytes that are neither NUL nor newline
	 * (the kernel refuses '\n' in cgroup names) */
	cg[0] = '/';
	for (unsigned int i = 0; i < cglen; i++)
		cg[i + 1] = data[i] && data[i] != '\n' ? (char)data[i] : '_';
	cg[cglen + 1] = '\0';
	data += cglen;
	size -= cglen;

	in = fuzz_dup(data, size);
	out = malloc(ocap);
	if (!out)
		abort();
	n = uoom__format_record(out, ocap, cg, part, fmt, 123456789, in, size, cut);
	FUZZ_CHECK(n > 0 || n == -ENOBUFS || (n == -EINVAL && part == 5 && fmt) ||
		   ((n == -ERANGE || n == -ENODATA) && part == 5 && fmt), "ret %zd", n);
	if (n > 0) {
		FUZZ_CHECK((size_t)n <= ocap, "record %zd bytes in %zu", n, ocap);
		FUZZ_CHECK(out[n - 1] == '\n', "record does not end its line");
		if (fmt == UOOM_FMT_JSON) {
			FUZZ_CHECK(memchr(out, '\n', (size_t)n) == out + n - 1,
				   "JSON record spans lines");
			FUZZ_CHECK(json_valid(out, (size_t)n - 1), "invalid JSON: %.*s",
				   (int)(n < 300 ? n : 300), out);
			h = snprintf(hdr, sizeof(hdr), "{\"type\":\"%s\",\"time_ns\":123456789,\"cgroup\":",
				     names[part]);
			FUZZ_CHECK(!memcmp(out, hdr, (size_t)h), "JSON header");
		} else {
			h = snprintf(hdr, sizeof(hdr), "uoom %s cgroup=%s time_ns=123456789\n",
				     names[part], cg);
			FUZZ_CHECK((size_t)n >= (size_t)h + 1 && !memcmp(out, hdr, (size_t)h),
				   "text header");
			FUZZ_CHECK(out[n - 2] == '\n' || (size_t)n == (size_t)h + 1,
				   "text record does not end with a blank line");
			const char *body = out + h;
			size_t blen = (size_t)n - (size_t)h - 1;
			bool whole = (blen == size && !memcmp(body, in, size)) ||
				     (blen == size + 1 && size && !memcmp(body, in, size) &&
				      in[size - 1] != '\n' && body[size] == '\n');
			/* the file may itself end with that line: whole wins */
			bool trunc = !whole && blen >= 14 &&
				     !memcmp(body + blen - 14, "... truncated\n", 14);

			if (trunc)
				blen -= 14;
			/* the body is a prefix of the file made of whole lines */
			FUZZ_CHECK(blen <= size + 1, "body longer than the file");
			if (blen && blen <= size) {
				FUZZ_CHECK(!memcmp(body, in, blen), "body differs from the file");
				FUZZ_CHECK(blen == size || in[blen - 1] == '\n', "line cut");
			} else if (blen == size + 1) {
				FUZZ_CHECK(!memcmp(body, in, size) && body[size] == '\n' &&
					   size && in[size - 1] != '\n', "newline added wrongly");
			}
			if (!cut && !trunc)
				FUZZ_CHECK(blen >= size, "file cut without a truncated mark");
		}
	}
	free(out);
	free(in);
	return 0;
}
