// SPDX-License-Identifier: GPL-2.0
/*
 * Leaves a daemon whose main thread has exited while another thread runs
 * on: /proc shows its leader as a zombie. The runner must find it, kill it
 * and fail this program.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *spin(void *arg)
{
	for (;;)
		sleep(1);
	return arg;
}

int main(void)
{
	pthread_t t;

	if (fork() == 0) {
		setsid();
		pthread_create(&t, NULL, spin, NULL);
		pthread_exit(NULL);
	}
	sleep(1);
	puts("left a daemon with a zombie leader");
	return 0;
}
