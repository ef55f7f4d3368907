// SPDX-License-Identifier: GPL-2.0
/*
 * Runs after many_procs (the runner runs programs in order of name) and does nothing wrong: it must pass (the
 * leftovers before it are not its own).
 */
int main(void)
{
	return 0;
}
