/* SPDX-License-Identifier: MIT */
/*
 * The task record of a snapshot (uoom__format_tasks) with fuzzed comms
 * (any bytes, as prctl(PR_SET_NAME) allows), cmdlines, cgroup names (any
 * byte but NUL, '/' and newline), numbers, top_n and buffer size.
 *
 * A JSON record is one line of valid JSON; a text record is its header,
 * "ntasks=N", the column line, one line per listed task (at most top_n),
 * perhaps "... truncated", and a blank line: a comm cannot add lines.
 */
#include <errno.h>
#include "fuzz.h"
#include "internal.h"

#define MAXT 12
#define MAXC 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct uoom_task tasks[MAXT];
	static struct uoom_cgroup cgs[MAXC];
	struct uoom_snapshot s;
	struct fuzz_in in = { data, size };
	unsigned int fmt, top, nt, nc;
	size_t ocap;
	char *out;
	ssize_t n;

	memset(&s, 0, sizeof(s));
	memset(tasks, 0, sizeof(tasks));
	memset(cgs, 0, sizeof(cgs));
	fmt = fuzz_take(&in) & 1;
	top = fuzz_take(&in) % (MAXT + 2);
	ocap = 65 + fuzz_take(&in) * 8 + (fuzz_take(&in) & 3) * 1024;
	nc = 1 + fuzz_take(&in) % MAXC;
	nt = fuzz_take(&in) % (MAXT + 1);
	strcpy(cgs[0].path, "/job");
	for (unsigned int i = 1; i < nc; i++) {
		size_t l = strlen(cgs[i - 1].path), k = fuzz_take(&in) % 12;

		memcpy(cgs[i].path, cgs[i - 1].path, l);
		cgs[i].path[l++] = '/';
		for (size_t j = 0; j <= k; j++) {
			unsigned int c = fuzz_take(&in);

			cgs[i].path[l++] = (char)(c == 0 || c == '/' || c == '\n' ? '_' : c);
		}
		cgs[i].path[l] = '\0';
		cgs[i].parent = (int)i - 1;
		cgs[i].depth = (int)i;
	}
	for (unsigned int i = 0; i < nt; i++) {
		struct uoom_task *t = &tasks[i];
		unsigned int cl = fuzz_take(&in) % UOOM_COMM_LEN;

		t->pid = (pid_t)(fuzz_take(&in) << 16 | fuzz_take(&in));
		if (fuzz_take(&in) & 1)
			t->pid = -t->pid;
		t->rss = (uint64_t)fuzz_take(&in) << (fuzz_take(&in) % 56);
		t->swap = (uint64_t)fuzz_take(&in) << (fuzz_take(&in) % 56);
		t->oom_score_adj = (int)(fuzz_take(&in) * 8) - 1000;
		t->uid = (uid_t)fuzz_take(&in) << (fuzz_take(&in) % 24);
		t->cgroup = (int)(fuzz_take(&in) % nc);
		for (unsigned int k = 0; k < cl; k++)
			t->comm[k] = (char)fuzz_take(&in);
		t->cmdline = "";
	}
	s.tasks = tasks;
	s.ntasks = nt;
	s.cgroups = cgs;
	s.ncgroups = nc;

	out = malloc(ocap);
	if (!out)
		abort();
	n = uoom__format_tasks(out, ocap, "/job", &s, fmt, top, 42);
	FUZZ_CHECK(n > 0 || n == -ENOBUFS, "ret %zd", n);
	if (n > 0) {
		FUZZ_CHECK((size_t)n <= ocap, "%zd bytes in %zu", n, ocap);
		FUZZ_CHECK(out[n - 1] == '\n', "not ended");
		if (fmt == UOOM_FMT_JSON) {
			FUZZ_CHECK(memchr(out, '\n', (size_t)n) == out + n - 1, "JSON spans lines");
			FUZZ_CHECK(json_valid(out, (size_t)n - 1), "invalid JSON: %.*s",
				   (int)(n < 400 ? n : 400), out);
		} else {
			size_t lines = 0, max = nt < top ? nt : top;
			bool trunc = (size_t)n >= 15 && !memcmp(out + n - 15, "... truncated\n\n", 15);

			for (ssize_t i = 0; i < n; i++)
				lines += out[i] == '\n';
			/* header, ntasks=, columns, tasks, [truncated], blank */
			FUZZ_CHECK(lines <= 4 + max + trunc && (trunc || lines == 4 + max),
				   "%zu lines for %zu tasks (top %u)%s", lines, max, top,
				   trunc ? ", truncated" : "");
		}
	}
	free(out);
	return 0;
}
