/* SPDX-License-Identifier: MIT */
/*
 * uoomd-leak [MB_PER_STEP [STEP_MS [MAX_MB]]]: allocate and touch memory in
 * steps, like a job with a leak (default 1 MB every 10 ms, without end);
 * at MAX_MB it keeps what it has and sleeps. For the uoomd VM tests.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	size_t step = (size_t)(argc > 1 ? atoi(argv[1]) : 1) << 20;
	unsigned int ms = argc > 2 ? (unsigned int)atoi(argv[2]) : 10;
	size_t max = (size_t)(argc > 3 ? atoi(argv[3]) : 0) << 20, total = 0;

	for (;;) {
		if (!max || total < max) {
			char *p = mmap(NULL, step, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (p != MAP_FAILED) {
				memset(p, 0x5a, step);
				total += step;
			}
		}
		usleep(ms * 1000);
	}
}
