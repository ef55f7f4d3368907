// SPDX-License-Identifier: GPL-2.0
/*
 * Switches lockdep's proving off by hand (debug_locks stays 1) and exits
 * 0. The runner's last result must say that lock debugging is off.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	int fd = open("/sys/module/lockdep/parameters/prove_locking", O_WRONLY);

	if (fd < 0 || write(fd, "0", 1) != 1) {
		perror("prove_locking");
		return 4;	/* no lockdep here: nothing to test */
	}
	return 0;
}
