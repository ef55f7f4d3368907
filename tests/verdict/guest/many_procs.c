// SPDX-License-Identifier: GPL-2.0
/*
 * Leaves 2000 processes behind, each in a session of its own, and exits
 * 0. They take a while to die: all of them must be killed and charged to
 * this program, none to the next.
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	int i;

	for (i = 0; i < 2000; i++) {
		if (fork() == 0) {
			setsid();
			for (;;)
				pause();
		}
	}
	puts("2000 processes left behind");
	return 0;
}
