// SPDX-License-Identifier: GPL-2.0
/*
 * A child named "Oops" dies of a segmentation fault; the parent reaps it
 * and exits 0. The kernel reports the crash ("Oops[PID]: segfault at
 * ..."): the program must fail because a process crashed, not because
 * the kernel complained (the name is the process's, not an oops).
 */
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_NAME, "Oops");
		*(volatile int *)0 = 1;
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	puts("the child is gone; exiting 0");
	return 0;
}
