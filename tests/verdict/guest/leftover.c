// SPDX-License-Identifier: GPL-2.0
/*
 * Exits 0 at once but leaves a child in a session of its own, holding
 * stdout open: /init must not wait for it, must kill it, and must say so.
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	if (fork() == 0) {
		setsid();
		for (;;) {
			puts("leftover child still here");
			fflush(stdout);
			sleep(1);
		}
	}
	puts("parent exits 0");
	return 0;
}
