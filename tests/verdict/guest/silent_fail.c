// SPDX-License-Identifier: GPL-2.0
/*
 * Reports a failed test in KTAP and exits 0 (futex_waitv's waiter does
 * this): the exit status cannot be trusted alone.
 */
#include <stdio.h>

int main(void)
{
	puts("TAP version 13");
	puts("1..1");
	puts("not ok 1 waiter saw the wrong value");
	return 0;
}
