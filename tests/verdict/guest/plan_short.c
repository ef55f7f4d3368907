// SPDX-License-Identifier: GPL-2.0
/*
 * Announces three results, prints two, exits 0: the runner must fail it.
 */
#include <stdio.h>

int main(void)
{
	puts("TAP version 13");
	puts("1..3");
	puts("ok 1 first");
	puts("ok 2 second");
	return 0;
}
