// SPDX-License-Identifier: GPL-2.0
/*
 * Gives up half way ("Bail out!"), two results short of its plan, and
 * exits 0: the runner must fail it.
 */
#include <stdio.h>

int main(void)
{
	puts("TAP version 13");
	puts("1..3");
	puts("ok 1 first");
	puts("Bail out! cannot go on");
	return 0;
}
