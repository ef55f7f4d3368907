// SPDX-License-Identifier: GPL-2.0
/*
 * Prints a kernel panic message on its output and writes one to
 * /dev/kmsg at the emergency level (so it reaches the console), then
 * exits 0. It is user space's text: the program passes and the guest is
 * not taken for panicked.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	const char *msg = "<0>Kernel panic - not syncing: written by user space\n";
	int fd;

	/*
	 * Let the console finish what the runner wrote before us, and our
	 * own line after it: the kernel writes an emergency record to the
	 * console at once, into the middle of whatever is on its way (the
	 * runner then reports the record it cut, see
	 * tests/verdict/cases/record-cut-by-kmsg-x86-recorded.want).
	 */
	sleep(2);
	puts("Kernel panic - not syncing: printed by user space");
	fflush(stdout);
	sleep(2);
	fd = open("/dev/kmsg", O_WRONLY);
	if (fd < 0 || write(fd, msg, strlen(msg)) < 0) {
		perror("/dev/kmsg");
		return 1;
	}
	sleep(2);
	return 0;
}
