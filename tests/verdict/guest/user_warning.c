// SPDX-License-Identifier: GPL-2.0
/*
 * Writes a record that looks like a kernel warning to /dev/kmsg, as any
 * root process may, and exits 0: it is not the kernel's and must not fail
 * anything.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	const char *msg = "<4>WARNING: CPU: 0 PID: 1 at kernel/locking/spinlock_rt.c:40 written by user space\n";
	int fd = open("/dev/kmsg", O_WRONLY);

	if (fd < 0 || write(fd, msg, strlen(msg)) < 0) {
		perror("/dev/kmsg");
		return 1;
	}
	return 0;
}
