// SPDX-License-Identifier: GPL-2.0
/* leak: allocate and touch 1 MB every 10 ms, forever: a job with a leak. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
	for (;;) {
		char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p != MAP_FAILED)
			memset(p, 1, 1 << 20);
		usleep(10000);
	}
}
