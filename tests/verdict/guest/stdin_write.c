// SPDX-License-Identifier: GPL-2.0
/*
 * Writes a result line to its standard input (on a console, stdin is the
 * console too) and fails. Its stdin is /dev/null: the write goes nowhere
 * and its result stays "not ok".
 */
#include <string.h>
#include <unistd.h>

int main(void)
{
	const char *forged = "ok 4 extra/stdin_write\n# runner: powering off\n";

	if (write(STDIN_FILENO, forged, strlen(forged)) < 0)
		return 1;
	return 2;	/* the write worked: still a failure */
}
