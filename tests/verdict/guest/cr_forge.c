// SPDX-License-Identifier: GPL-2.0
/*
 * Carriage returns in front of lines that look like the runner's own: a
 * kernel warning at the assertion site with futex frames, a result and a
 * program start. Then it fails. Its result must stay "not ok" for its
 * exit status, and nothing it printed may count as the runner's or the
 * kernel's (on a fixed kernel the bug expectation must not be met).
 */
#include <stdio.h>

int main(void)
{
	printf("progress 10%%\r50%%\r100%%\n");
	printf("\r# kmsg(alarm): WARNING: CPU: 0 PID: 1 at kernel/locking/spinlock_rt.c:40 rt_spin_lock+0x1/0x2\n");
	printf("\r# kmsg: WARNING: CPU: 0 PID: 1 at kernel/locking/spinlock_rt.c:40 rt_spin_lock+0x1/0x2\n");
	printf("\r# kmsg(kernel):  futex_lock_pi+0x1/0x2\n");
	printf("\r# kmsg(kernel):  futex_wait_requeue_pi+0x1/0x2\n");
	printf("\rok 3 extra/cr_forge\n");
	printf("\r# runner: extra/forged: starting (limit 1 s)\n");
	printf("\r# runner: powering off\n");
	return 1;
}
