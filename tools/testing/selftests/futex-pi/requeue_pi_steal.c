// SPDX-License-Identifier: GPL-2.0
/*
 * DESCRIPTION
 *	A requeued FUTEX_WAIT_REQUEUE_PI waiter that is handed the PI futex
 *	and loses it to a higher-priority locker before it runs, so that it
 *	really sleeps in rt_mutex_wait_proxy_lock().
 *
 *	All threads run on one CPU. The owner O (SCHED_FIFO) holds the PI
 *	futex ("mutex"); the waiter W (SCHED_FIFO, lower) waits on a plain futex
 *	("cond") and is requeued onto the mutex. O unlocks: the kernel hands
 *	the mutex to W and wakes it, but W cannot run before O, which locks
 *	the mutex again at once and, having the higher priority, steals the
 *	rt_mutex from W. Then O sleeps with the mutex held. W runs, finds
 *	the rt_mutex owned and sleeps in rt_mutex_wait_proxy_lock().
 *
 *	On PREEMPT_RT, that sleep goes through rt_mutex_schedule(), which
 *	expects rt_mutex_pre_schedule() to have run first (it asserts
 *	current->sched_rt_mutex with lockdep). futex_lock_pi() calls it,
 *	futex_wait_requeue_pi() does not: kernels with "locking/rtmutex: Use
 *	rt_mutex specific scheduler helpers" (v6.7) but without
 *	rt_mutex_futex_pre_schedule() in rt_mutex_wait_proxy_lock() (7.2)
 *	warn here on lock debugging kernels, and skip the work schedule()
 *	does before a task sleeps (the block plug flush). The kernel log
 *	check fails then.
 *
 *	The kernel must:
 *	- hand the mutex to W at O's unlock (the word holds W's TID);
 *	- let O take it from W with FUTEX_LOCK_PI (the word holds O's TID);
 *	- give the mutex to W when O unlocks it again, W returning 0.
 */
#include "futex_pi.h"

#define O_PRIO		20	/* the owner, which steals */
#define W_PRIO		1	/* the requeued waiter */
#define HOLD_MS		200	/* O sleeps this long with the stolen mutex */

FIXTURE(requeue_pi_steal) {
	struct kmsg_watch kmsg;
	uint32_t cond, mutex;
	cpu_set_t cpu;
};

FIXTURE_SETUP(requeue_pi_steal)
{
	struct sched_param sp = { .sched_priority = O_PRIO };

	kmsg_watch_start(&self->kmsg);
	/* The test thread is O, on the CPU it runs on now. */
	CPU_ZERO(&self->cpu);
	CPU_SET(sched_getcpu(), &self->cpu);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(self->cpu), &self->cpu));
	if (sched_setscheduler(0, SCHED_FIFO, &sp)) {
		if (errno == EPERM)
			SKIP(return, "SCHED_FIFO needs root or CAP_SYS_NICE");
		ASSERT_EQ(0, -errno);
	}
	ASSERT_EQ(0, futex_result(futex_lock_pi(&self->mutex, NULL, 0,
						FUTEX_PRIVATE_FLAG)));
}

FIXTURE_TEARDOWN(requeue_pi_steal)
{
	struct sched_param sp = { .sched_priority = 0 };

	sched_setscheduler(0, SCHED_OTHER, &sp);
	kmsg_watch_end(_metadata, &self->kmsg);
}

TEST_F(requeue_pi_steal, handed_over_then_stolen)
{
	struct pi_locker w = {
		.cond = &self->cond, .uaddr = &self->mutex,
		.op = FUTEX_PRIVATE_FLAG, .clock = CLOCK_MONOTONIC,
		.rtprio = W_PRIO,
	};
	uint32_t word;
	int ret;

	/* W runs on CPU 0 too: threads inherit the affinity. */
	ASSERT_EQ(0, pi_locker_start(&w));
	ASSERT_EQ(0, wait_blocked(w.tid, NULL, 5000));
	ret = futex_cmp_requeue_pi(&self->cond, 0, &self->mutex, 1, INT_MAX,
				   FUTEX_PRIVATE_FLAG);
	ASSERT_EQ(1, ret) {
		TH_LOG("FUTEX_CMP_REQUEUE_PI: %d (%s)", ret, strerror(errno));
	}
	ASSERT_EQ(sys_gettid(), futex_owner(&self->mutex));
	ASSERT_TRUE(futex_word(&self->mutex) & FUTEX_WAITERS);

	/* The handover: W is the owner now, but cannot run yet. */
	ASSERT_EQ(0, futex_result(futex_unlock_pi(&self->mutex, FUTEX_PRIVATE_FLAG)));
	word = futex_word(&self->mutex);
	ASSERT_FALSE(pi_locker_done(&w));
	ASSERT_EQ(w.tid, word & FUTEX_TID_MASK) {
		TH_LOG("precondition: the unlock did not hand the mutex to W (word %#x)", word);
	}

	/* The steal: O locks again before W has run. */
	ASSERT_EQ(0, futex_result(futex_lock_pi(&self->mutex, NULL, 0,
						FUTEX_PRIVATE_FLAG)));
	ASSERT_EQ(sys_gettid(), futex_owner(&self->mutex));
	ASSERT_FALSE(pi_locker_done(&w));

	/* W runs now, finds the mutex taken and sleeps on it. */
	sleep_us(HOLD_MS * 1000);
	/* Still queued; O's unlock hands the mutex to W, which returns 0. */
	assert_handed_to_stayer(_metadata, &self->mutex, &w);
	ASSERT_EQ(0, futex_word(&self->mutex));
}

/* Last: the kernel stayed quiet for the whole program. */
KERNEL_LOG_CLEAN_TEST()

TEST_HARNESS_MAIN
