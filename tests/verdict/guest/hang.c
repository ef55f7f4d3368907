// SPDX-License-Identifier: GPL-2.0
/*
 * Like a kselftest harness test that hangs: the test runs in a child in a
 * process group of its own, which killing the program's group misses.
 */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		setpgid(0, 0);
		for (;;)
			pause();
	}
	puts("# waiting for a test that never ends");
	fflush(stdout);
	waitpid(pid, NULL, 0);
	return 0;
}
