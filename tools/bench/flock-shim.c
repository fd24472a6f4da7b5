// SPDX-License-Identifier: MIT
/*
 * bench-flock.so: LD_PRELOADed into oomd inside the bench VM only. The test
 * kernel is tinyconfig-based without CONFIG_FILE_LOCKING, so flock(2) fails
 * with ENOSYS and oomd refuses to start ("Failed to acquire exclusive
 * runtime lock"). There is exactly one oomd in the VM: report the lock taken.
 */
#include <sys/file.h>

int flock(int fd, int op)
{
	(void)fd;
	(void)op;
	return 0;
}
