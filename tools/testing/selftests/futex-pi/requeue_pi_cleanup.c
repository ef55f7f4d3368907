// SPDX-License-Identifier: GPL-2.0
/*
 * DESCRIPTION
 *	Waiters of FUTEX_WAIT_REQUEUE_PI that leave after they were requeued
 *	onto a held PI futex: by timeout and by signal.
 *
 *	FUTEX_CMP_REQUEUE_PI cannot take the held PI futex ("mutex") for
 *	the top waiter of the plain futex ("cond"), so it enqueues the
 *	waiter's rt_waiter on the mutex's rt_mutex and moves its futex_q.
 *	The waiter then sleeps in rt_mutex_wait_proxy_lock() (state
 *	Q_REQUEUE_PI_DONE). A timeout or signal there must remove the
 *	rt_waiter and the futex_q; on PREEMPT_RT kernels without "futex/pi:
 *	Fix recursive rt_mutex waiter state" futex_wait_requeue_pi() takes
 *	hb->lock first, with pi_blocked_on still set, which a debug kernel
 *	reports as a WARNING (failing the kernel log check).
 *
 *	The kernel must:
 *	- count the requeued waiter in FUTEX_CMP_REQUEUE_PI's return value
 *	  and set FUTEX_WAITERS on the mutex;
 *	- return ETIMEDOUT at the waiter's absolute deadline (CLOCK_MONOTONIC,
 *	  or CLOCK_REALTIME with FUTEX_CLOCK_REALTIME);
 *	- return EAGAIN (EWOULDBLOCK) for a signal after the requeue: the
 *	  wait cannot be restarted on the mutex (see futex_wait_requeue_pi());
 *	- leave the mutex with its owner, hand it to a requeued waiter that
 *	  stayed, and let the owner unlock it to 0.
 */
#include "futex_pi.h"

/*
 * Requeue @n waiters from @cond to @mutex, retrying until all of them have
 * queued on @cond or @until_ns (CLOCK_MONOTONIC) passes. The return value
 * of FUTEX_CMP_REQUEUE_PI counts woken plus requeued waiters; @mutex is
 * held, so none is woken. Returns how many were moved, or -errno.
 */
static int requeue_all(uint32_t *cond, uint32_t *mutex, int n, int64_t until_ns)
{
	int moved = 0, ret;

	while (moved < n && now_ns(CLOCK_MONOTONIC) < until_ns) {
		ret = futex_cmp_requeue_pi(cond, 0, mutex, 1, INT_MAX,
					   FUTEX_PRIVATE_FLAG);
		if (ret == -1)
			return -errno;
		moved += ret;
		if (moved < n)
			sleep_us(200);
	}
	return moved;
}

/* The mutex must be free again: a trylock gets it without kernel state left. */
static void assert_mutex_reusable(struct __test_metadata *_metadata,
				  uint32_t *mutex)
{
	ASSERT_EQ(0, futex_word(mutex));
	ASSERT_EQ(0, futex_result(futex_trylock_pi(mutex)));
	ASSERT_EQ(sys_gettid(), futex_word(mutex));
	ASSERT_EQ(0, futex_result(futex_unlock_pi(mutex, FUTEX_PRIVATE_FLAG)));
	ASSERT_EQ(0, futex_word(mutex));
}

#define WAIT_MS		300	/* waiter deadline; the requeue comes first */

FIXTURE(requeue_pi_timeout) {
	struct kmsg_watch kmsg;
	uint32_t cond, mutex;
};

FIXTURE_VARIANT(requeue_pi_timeout) {
	int flags;
	clockid_t clock;
};

FIXTURE_VARIANT_ADD(requeue_pi_timeout, monotonic) {
	.flags = 0, .clock = CLOCK_MONOTONIC,
};

FIXTURE_VARIANT_ADD(requeue_pi_timeout, realtime) {
	.flags = FUTEX_CLOCK_REALTIME, .clock = CLOCK_REALTIME,
};

/* The test thread holds the mutex, so requeued waiters must block on it. */
FIXTURE_SETUP(requeue_pi_timeout)
{
	kmsg_watch_start(&self->kmsg);
	ASSERT_EQ(0, futex_result(futex_lock_pi(&self->mutex, NULL, 0, FUTEX_PRIVATE_FLAG)));
}

FIXTURE_TEARDOWN(requeue_pi_timeout)
{
	kmsg_watch_end(_metadata, &self->kmsg);
}

/*
 * Requeued early, then the deadline passes while blocked on the mutex.
 * Precondition: the requeue happened before the waiter gave up on cond.
 */
TEST_F(requeue_pi_timeout, timeout_after_requeue)
{
	const char *what = "the waiter was requeued before its deadline";
	int64_t window = WAIT_MS * NSEC_PER_MSEC, deadline, requeue_by;
	struct pi_locker w;
	int tries, moved;

	for (tries = 1; ; tries++, window *= 2) {
		deadline = now_ns(variant->clock) + window;
		requeue_by = now_ns(CLOCK_MONOTONIC) + window - 50 * NSEC_PER_MSEC;
		w = (struct pi_locker){
			.cond = &self->cond, .uaddr = &self->mutex, .timed = true,
			.op = FUTEX_PRIVATE_FLAG | variant->flags,
			.clock = variant->clock, .deadline = ns_to_ts(deadline),
		};
		ASSERT_EQ(0, pi_locker_start(&w));
		moved = requeue_all(&self->cond, &self->mutex, 1, requeue_by);
		ASSERT_LE(0, moved);
		if (moved == 1) {
			ASSERT_EQ(sys_gettid(), futex_owner(&self->mutex));
			ASSERT_TRUE(futex_word(&self->mutex) & FUTEX_WAITERS);
		}
		ASSERT_EQ(0, join_within(w.thread, 10000));
		ASSERT_EQ(-ETIMEDOUT, w.ret);
		ASSERT_GE(w.returned_ns, deadline);
		if (moved == 1)
			break;
		precondition_missed(_metadata, tries, what);
	}
	precondition_met(_metadata, tries, what);
	ASSERT_EQ(sys_gettid(), w.word & FUTEX_TID_MASK);

	/* Nobody is left queued on cond (a requeue-PI waiter gives EINVAL). */
	ASSERT_EQ(0, futex_wake(&self->cond, INT_MAX, FUTEX_PRIVATE_FLAG));
	ASSERT_EQ(sys_gettid(), futex_owner(&self->mutex));
	ASSERT_EQ(0, futex_word(&self->mutex) & FUTEX_OWNER_DIED);
	ASSERT_EQ(0, futex_result(futex_unlock_pi(&self->mutex, FUTEX_PRIVATE_FLAG)));
	assert_mutex_reusable(_metadata, &self->mutex);
}

/*
 * Two waiters requeued; one times out, the other stays queued on the
 * mutex's rt_mutex. FUTEX_WAITERS must stay set and the unlock must hand
 * the mutex to the one that stayed.
 */
TEST_F(requeue_pi_timeout, one_of_two_times_out_after_requeue)
{
	const char *what = "the leaving waiter was requeued before its deadline";
	int64_t window = WAIT_MS * NSEC_PER_MSEC, requeue_by;
	struct pi_locker stay = {
		.cond = &self->cond, .uaddr = &self->mutex,
		.op = FUTEX_PRIVATE_FLAG | variant->flags,
		.clock = variant->clock,
	};
	struct pi_locker leave;
	int tries, moved;

	/* The waiter that stays has no deadline: no hurry to requeue it. */
	ASSERT_EQ(0, pi_locker_start(&stay));
	ASSERT_EQ(1, requeue_all(&self->cond, &self->mutex, 1,
				 now_ns(CLOCK_MONOTONIC) + 5 * NSEC_PER_SEC));

	for (tries = 1; ; tries++, window *= 2) {
		requeue_by = now_ns(CLOCK_MONOTONIC) + window - 50 * NSEC_PER_MSEC;
		leave = (struct pi_locker){
			.cond = &self->cond, .uaddr = &self->mutex, .timed = true,
			.op = FUTEX_PRIVATE_FLAG | variant->flags,
			.clock = variant->clock,
			.deadline = ns_to_ts(now_ns(variant->clock) + window),
		};
		ASSERT_EQ(0, pi_locker_start(&leave));
		moved = requeue_all(&self->cond, &self->mutex, 1, requeue_by);
		ASSERT_LE(0, moved);
		ASSERT_EQ(0, join_within(leave.thread, 10000));
		ASSERT_EQ(-ETIMEDOUT, leave.ret);
		if (moved == 1)
			break;
		precondition_missed(_metadata, tries, what);
	}
	precondition_met(_metadata, tries, what);
	assert_handed_to_stayer(_metadata, &self->mutex, &stay);
	assert_mutex_reusable(_metadata, &self->mutex);
}

FIXTURE(requeue_pi_signal) {
	struct kmsg_watch kmsg;
	uint32_t cond, mutex;
};

FIXTURE_SETUP(requeue_pi_signal)
{
	/* SA_RESTART does not matter: the kernel returns EWOULDBLOCK. */
	struct sigaction sa = {
		.sa_handler = count_signal, .sa_flags = SA_RESTART,
	};

	kmsg_watch_start(&self->kmsg);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, futex_result(futex_lock_pi(&self->mutex, NULL, 0, FUTEX_PRIVATE_FLAG)));
}

FIXTURE_TEARDOWN(requeue_pi_signal)
{
	kmsg_watch_end(_metadata, &self->kmsg);
}

/*
 * A signal after the requeue ends rt_mutex_wait_proxy_lock() with -EINTR;
 * the waiter cleans up and returns EAGAIN without the mutex.
 */
TEST_F(requeue_pi_signal, signal_after_requeue)
{
	struct pi_locker w = {
		.cond = &self->cond, .uaddr = &self->mutex,
		.op = FUTEX_PRIVATE_FLAG, .clock = CLOCK_MONOTONIC,
	};

	ASSERT_EQ(0, pi_locker_start(&w));
	ASSERT_EQ(1, requeue_all(&self->cond, &self->mutex, 1,
				 now_ns(CLOCK_MONOTONIC) + 5 * NSEC_PER_SEC));
	ASSERT_TRUE(futex_word(&self->mutex) & FUTEX_WAITERS);
	ASSERT_FALSE(pi_locker_done(&w));

	ASSERT_EQ(0, pthread_kill(w.thread, SIGUSR1));
	ASSERT_EQ(0, join_within(w.thread, 5000)) {
		TH_LOG("requeued waiter ignores the signal");
	}
	ASSERT_EQ(-EAGAIN, w.ret);
	ASSERT_EQ(1, __atomic_load_n(&signals_handled, __ATOMIC_RELAXED));
	ASSERT_EQ(sys_gettid(), w.word & FUTEX_TID_MASK);

	/* Nobody is left queued on cond (a requeue-PI waiter gives EINVAL). */
	ASSERT_EQ(0, futex_wake(&self->cond, INT_MAX, FUTEX_PRIVATE_FLAG));
	ASSERT_EQ(sys_gettid(), futex_owner(&self->mutex));
	ASSERT_EQ(0, futex_result(futex_unlock_pi(&self->mutex, FUTEX_PRIVATE_FLAG)));
	assert_mutex_reusable(_metadata, &self->mutex);
}

/* Last: the kernel stayed quiet for the whole program. */
KERNEL_LOG_CLEAN_TEST()

TEST_HARNESS_MAIN
