// SPDX-License-Identifier: GPL-2.0
/*
 * A KTAP failure with a NUL in front of it, and exit status 0: the
 * program's own "not ok" must be honoured.
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	static const char out[] = "TAP version 13\n1..1\n\0not ok 1 hidden behind a NUL\n";

	fflush(stdout);
	return write(STDOUT_FILENO, out, sizeof(out) - 1) < 0;
}
