// SPDX-License-Identifier: GPL-2.0
/*
 * Leaves a daemon, then unmounts /proc (where the runner looks for
 * leftovers) and exits 0. The runner must mount /proc again, find the
 * daemon and fail this program.
 */
#include <stdio.h>
#include <sys/mount.h>
#include <unistd.h>

int main(void)
{
	if (fork() == 0) {
		setsid();
		for (;;)
			sleep(1);
	}
	if (umount2("/proc", MNT_DETACH))
		perror("umount /proc");
	return 0;
}
