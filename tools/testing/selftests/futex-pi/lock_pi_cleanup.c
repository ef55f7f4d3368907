// SPDX-License-Identifier: GPL-2.0
/*
 * DESCRIPTION
 *	Waiters that leave FUTEX_LOCK_PI without the lock: by timeout, by
 *	signal, by a deadlock found in the PI chain walk.
 *
 *	Each of these ends rt_mutex_wait_proxy_lock() (or the proxy enqueue)
 *	with the waiter's rt_waiter still enqueued on the futex's rt_mutex,
 *	and futex_lock_pi() must then remove it and the futex_q. On
 *	PREEMPT_RT kernels without "futex/pi: Fix recursive rt_mutex waiter
 *	state" the removal happens after spin_lock(hb->lock), an rtlock,
 *	while current->pi_blocked_on still points at the futex waiter; a
 *	kernel with lockdep_assert(!current->pi_blocked_on) in rtlock_lock()
 *	then logs a WARNING each time, which the kernel log check turns into
 *	a failure.
 *
 *	The kernel must:
 *	- return ETIMEDOUT for a deadline that passed (FUTEX_LOCK_PI:
 *	  absolute CLOCK_REALTIME; FUTEX_LOCK_PI2: absolute CLOCK_MONOTONIC,
 *	  or CLOCK_REALTIME with FUTEX_CLOCK_REALTIME), not before it;
 *	- never return EINTR from FUTEX_LOCK_PI (it restarts), with or
 *	  without SA_RESTART, and keep the absolute deadline across restarts;
 *	- return EDEADLK for an ABBA cycle and for relocking an owned futex;
 *	- leave the futex word naming the owner, FUTEX_WAITERS set while a
 *	  waiter is still queued, and let the owner unlock to 0 or hand the
 *	  lock to the remaining waiter.
 */
#include "futex_pi.h"

/* After the owner let go: another thread gets it and leaves 0 behind. */
static void assert_lock_reusable(struct __test_metadata *_metadata,
				 uint32_t *futex, int op, clockid_t clock)
{
	struct pi_locker l = {
		.uaddr = futex, .op = op, .clock = clock, .timed = true,
		.deadline = ns_to_ts(now_ns(clock) + NSEC_PER_SEC),
	};

	ASSERT_EQ(0, pi_locker_start(&l));
	ASSERT_EQ(0, join_within(l.thread, 5000));
	ASSERT_EQ(0, l.ret);
	ASSERT_EQ(l.tid, l.word);
	ASSERT_EQ(0, l.unlock_ret);
	ASSERT_EQ(0, futex_word(futex));
}

/*
 * A waiter left without the lock: we still own it, without
 * FUTEX_OWNER_DIED, and after our unlock it is free for the next one.
 */
static void assert_owner_kept(struct __test_metadata *_metadata,
			      uint32_t *futex, int op, clockid_t clock)
{
	ASSERT_EQ(sys_gettid(), futex_owner(futex));
	ASSERT_EQ(0, futex_word(futex) & FUTEX_OWNER_DIED);

	/* FUTEX_WAITERS may still be set: unlocking goes through the kernel. */
	ASSERT_EQ(0, futex_result(futex_unlock_pi(futex, FUTEX_PRIVATE_FLAG)));
	ASSERT_EQ(0, futex_word(futex));
	assert_lock_reusable(_metadata, futex, op, clock);
}

FIXTURE(lock_pi_timeout) {
	struct kmsg_watch kmsg;
	uint32_t futex;
};

FIXTURE_VARIANT(lock_pi_timeout) {
	int op;
	clockid_t clock;
};

FIXTURE_VARIANT_ADD(lock_pi_timeout, lock_pi) {
	.op = FUTEX_LOCK_PI_PRIVATE, .clock = CLOCK_REALTIME,
};

FIXTURE_VARIANT_ADD(lock_pi_timeout, lock_pi2) {
	.op = FUTEX_LOCK_PI2_PRIVATE, .clock = CLOCK_MONOTONIC,
};

FIXTURE_VARIANT_ADD(lock_pi_timeout, lock_pi2_realtime) {
	.op = FUTEX_LOCK_PI2_PRIVATE | FUTEX_CLOCK_REALTIME,
	.clock = CLOCK_REALTIME,
};

/* The test thread owns the futex; waiters are other threads. */
FIXTURE_SETUP(lock_pi_timeout)
{
	kmsg_watch_start(&self->kmsg);
	ASSERT_EQ(0, futex_result(futex_lock_pi(&self->futex, NULL, 0, FUTEX_PRIVATE_FLAG)));
	ASSERT_EQ(sys_gettid(), futex_word(&self->futex));
}

FIXTURE_TEARDOWN(lock_pi_timeout)
{
	kmsg_watch_end(_metadata, &self->kmsg);
}

/*
 * A deadline 100 ms ahead: the waiter blocks, times out, the owner stays.
 * Precondition: the waiter was seen blocked before its deadline.
 */
TEST_F(lock_pi_timeout, deadline_keeps_owner)
{
	int64_t window = 100 * NSEC_PER_MSEC, deadline;
	const char *what = "the waiter blocked before its deadline";
	struct pi_locker w;
	bool queued;
	int tries;

	if (!futex_lock_op_supported(variant->op))
		SKIP(return, "FUTEX_LOCK_PI2 not supported (needs 5.14)");

	for (tries = 1; ; tries++, window *= 2) {
		deadline = now_ns(variant->clock) + window;
		w = (struct pi_locker){
			.uaddr = &self->futex, .op = variant->op, .timed = true,
			.clock = variant->clock, .deadline = ns_to_ts(deadline),
		};
		ASSERT_EQ(0, pi_locker_start(&w));
		queued = blocked_before(w.tid, &self->futex, variant->clock,
					deadline);
		ASSERT_EQ(0, join_within(w.thread, 10000)) {
			TH_LOG("waiter still blocked 10 s after its deadline (wrong clock?)");
		}
		ASSERT_EQ(-ETIMEDOUT, w.ret);
		ASSERT_GE(w.returned_ns, deadline) {
			TH_LOG("returned %lld ns early",
			       (long long)(deadline - w.returned_ns));
		}
		if (queued)
			break;
		precondition_missed(_metadata, tries, what);
	}
	precondition_met(_metadata, tries, what);

	/* The leaving waiter must not have touched the owner or OWNER_DIED. */
	ASSERT_EQ(sys_gettid(), w.word & FUTEX_TID_MASK);
	assert_owner_kept(_metadata, &self->futex, variant->op, variant->clock);
}

/*
 * A deadline that has already passed: the kernel still queues the waiter
 * (the timer is armed after the rt_waiter is enqueued) and then takes the
 * same cleanup path at once.
 */
TEST_F(lock_pi_timeout, expired_deadline)
{
	struct pi_locker w = {
		.uaddr = &self->futex, .op = variant->op, .timed = true,
		.clock = variant->clock,
		.deadline = ns_to_ts(now_ns(variant->clock) - NSEC_PER_SEC),
	};

	if (!futex_lock_op_supported(variant->op))
		SKIP(return, "FUTEX_LOCK_PI2 not supported (needs 5.14)");

	ASSERT_EQ(0, pi_locker_start(&w));
	ASSERT_EQ(0, join_within(w.thread, 5000)) {
		TH_LOG("waiter with an expired deadline blocks");
	}
	ASSERT_EQ(-ETIMEDOUT, w.ret);
	assert_owner_kept(_metadata, &self->futex, variant->op, variant->clock);
}

/*
 * Two waiters; one times out while the other stays queued. The word must
 * keep FUTEX_WAITERS (else the owner would unlock in user space past a
 * kernel waiter) and the unlock must hand the lock to the one that stayed.
 */
TEST_F(lock_pi_timeout, one_of_two_waiters_times_out)
{
	struct pi_locker stay = {
		.uaddr = &self->futex, .op = variant->op,
		.clock = variant->clock,
	};
	struct pi_locker leave = {
		.uaddr = &self->futex, .op = variant->op, .timed = true,
		.clock = variant->clock,
	};
	const char *what = "the leaving waiter blocked before its deadline";
	int64_t window = 100 * NSEC_PER_MSEC, deadline;
	bool queued;
	int tries;

	if (!futex_lock_op_supported(variant->op))
		SKIP(return, "FUTEX_LOCK_PI2 not supported (needs 5.14)");

	ASSERT_EQ(0, pi_locker_start(&stay));
	ASSERT_EQ(0, wait_blocked(stay.tid, &self->futex, 5000));

	/* Precondition: the leaving waiter was seen blocked before it left. */
	for (tries = 1; ; tries++, window *= 2) {
		deadline = now_ns(variant->clock) + window;
		leave.deadline = ns_to_ts(deadline);
		leave.tid = 0;
		leave.done = 0;
		ASSERT_EQ(0, pi_locker_start(&leave));
		queued = blocked_before(leave.tid, &self->futex, variant->clock,
					deadline);
		ASSERT_EQ(0, join_within(leave.thread, 10000));
		ASSERT_EQ(-ETIMEDOUT, leave.ret);
		if (queued)
			break;
		precondition_missed(_metadata, tries, what);
	}
	precondition_met(_metadata, tries, what);

	assert_handed_to_stayer(_metadata, &self->futex, &stay);
	ASSERT_EQ(0, futex_word(&self->futex));
	assert_lock_reusable(_metadata, &self->futex, variant->op, variant->clock);
}

/*
 * The handler runs when the interrupted waiter is on its way back to
 * user space to restart the call: on a slow machine, or on a kernel busy
 * printing a warning for it, that can be well after the signal was sent.
 * Wait up to @ms for the first one.
 */
static int wait_signals_handled(int ms)
{
	int64_t end = now_ns(CLOCK_MONOTONIC) + ms * NSEC_PER_MSEC;

	while (!__atomic_load_n(&signals_handled, __ATOMIC_RELAXED) &&
	       now_ns(CLOCK_MONOTONIC) < end)
		sleep_us(1000);
	return __atomic_load_n(&signals_handled, __ATOMIC_RELAXED);
}

FIXTURE(lock_pi_signal) {
	struct kmsg_watch kmsg;
	uint32_t futex;
};

/*
 * No SA_RESTART: it would not change the kernel path. A signal ends
 * rt_mutex_wait_proxy_lock() with -EINTR, and futex_lock_pi() turns that
 * into -ERESTARTNOINTR, which restarts whatever the handler's flags say.
 */
FIXTURE_SETUP(lock_pi_signal)
{
	struct sigaction sa = {
		.sa_handler = count_signal,
	};

	kmsg_watch_start(&self->kmsg);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, futex_result(futex_lock_pi(&self->futex, NULL, 0, FUTEX_PRIVATE_FLAG)));
}

FIXTURE_TEARDOWN(lock_pi_signal)
{
	kmsg_watch_end(_metadata, &self->kmsg);
}

/*
 * Signal @l every @gap_us until it returns or @max signals went out. Each
 * signal ends rt_mutex_wait_proxy_lock() with -EINTR, i.e. runs the
 * cleanup path, and the syscall restarts (-ERESTARTNOINTR). Stop early
 * once the kernel complains: one splat per signal helps nobody.
 */
static int signal_storm(struct pi_locker *l, struct kmsg_watch *kmsg,
			int max, int gap_us)
{
	int sent;

	for (sent = 0; sent < max && !pi_locker_done(l); sent++) {
		if (pthread_kill(l->thread, SIGUSR1))
			break;
		sleep_us(gap_us);
		if (sent % 10 == 9 && kmsg_watch_scan(kmsg))
			break;
	}
	return sent;
}

/* Signals while blocked: no EINTR; the lock arrives when the owner unlocks. */
TEST_F(lock_pi_signal, storm_then_unlock)
{
	struct pi_locker w = {
		.uaddr = &self->futex, .op = FUTEX_LOCK_PI_PRIVATE,
		.clock = CLOCK_REALTIME,
	};

	ASSERT_EQ(0, pi_locker_start(&w));
	ASSERT_EQ(0, wait_blocked(w.tid, &self->futex, 5000));
	signal_storm(&w, &self->kmsg, 100, 1000);

	ASSERT_FALSE(pi_locker_done(&w)) {
		TH_LOG("FUTEX_LOCK_PI returned %d during the storm", w.ret);
	}
	ASSERT_GT(wait_signals_handled(5000), 0);
	/* After its last restart the waiter must be queued again. */
	ASSERT_EQ(0, wait_blocked(w.tid, &self->futex, 5000));
	ASSERT_EQ(sys_gettid(), futex_owner(&self->futex));

	ASSERT_EQ(0, futex_result(futex_unlock_pi(&self->futex, FUTEX_PRIVATE_FLAG)));
	ASSERT_EQ(0, join_within(w.thread, 5000));
	ASSERT_EQ(0, w.ret);
	ASSERT_EQ(w.tid, w.word & FUTEX_TID_MASK);
	ASSERT_EQ(0, w.unlock_ret);
	ASSERT_EQ(0, futex_word(&self->futex));
	TH_LOG("%d signals handled", signals_handled);
}

/*
 * Signals until the deadline: the result is ETIMEDOUT, never EINTR, and
 * not before the deadline, because a restart reuses the absolute time.
 */
TEST_F(lock_pi_signal, storm_until_timeout)
{
	const char *what = "the waiter blocked before its deadline, then took signals";
	int64_t window = 300 * NSEC_PER_MSEC, deadline;
	struct pi_locker w;
	int tries, sent;
	bool queued;

	/* The deadline is set before the thread exists: it may be missed. */
	for (tries = 1; ; tries++, window *= 2) {
		deadline = now_ns(CLOCK_REALTIME) + window;
		w = (struct pi_locker){
			.uaddr = &self->futex, .op = FUTEX_LOCK_PI_PRIVATE,
			.timed = true, .clock = CLOCK_REALTIME,
			.deadline = ns_to_ts(deadline),
		};
		ASSERT_EQ(0, pi_locker_start(&w));
		queued = blocked_before(w.tid, &self->futex, CLOCK_REALTIME,
					deadline);
		sent = queued ? signal_storm(&w, &self->kmsg, 1000, 2000) : 0;

		ASSERT_EQ(0, join_within(w.thread, 10000));
		ASSERT_EQ(-ETIMEDOUT, w.ret);
		ASSERT_GE(w.returned_ns, deadline);
		if (queued && sent > 0)
			break;
		precondition_missed(_metadata, tries, what);
	}
	precondition_met(_metadata, tries, what);
	ASSERT_GT(__atomic_load_n(&signals_handled, __ATOMIC_RELAXED), 0);
	ASSERT_EQ(sys_gettid(), futex_owner(&self->futex));

	ASSERT_EQ(0, futex_result(futex_unlock_pi(&self->futex, FUTEX_PRIVATE_FLAG)));
	ASSERT_EQ(0, futex_word(&self->futex));
	TH_LOG("%d signals handled", signals_handled);
}

FIXTURE(lock_pi_deadlock) {
	struct kmsg_watch kmsg;
	uint32_t a, b;
};

FIXTURE_SETUP(lock_pi_deadlock)
{
	kmsg_watch_start(&self->kmsg);
}

FIXTURE_TEARDOWN(lock_pi_deadlock)
{
	kmsg_watch_end(_metadata, &self->kmsg);
}

/*
 * Locking a PI futex we own: EDEADLK, and the word is left alone. The
 * owner check on the user word (futex_lock_pi_atomic()) returns EDEADLK
 * before any rt_waiter exists, so this does not reach the cleanup path
 * the bug is in; it pins down the error the ABBA test below must not
 * confuse with the chain walk's EDEADLK, which does reach it.
 */
TEST_F(lock_pi_deadlock, relock_own_futex)
{
	pid_t me = sys_gettid();
	int ret;

	ASSERT_EQ(0, futex_result(futex_lock_pi(&self->a, NULL, 0, FUTEX_PRIVATE_FLAG)));
	ASSERT_EQ(me, futex_word(&self->a));
	ASSERT_EQ(-1, futex_lock_pi(&self->a, NULL, 0, FUTEX_PRIVATE_FLAG));
	ASSERT_EQ(EDEADLK, errno);
	ASSERT_EQ(-1, futex_trylock_pi(&self->a));
	ASSERT_EQ(EDEADLK, errno);
	/* FUTEX_LOCK_PI2 is checked where the kernel knows it (5.14). */
	ret = futex_pi_op(&self->a, FUTEX_LOCK_PI2_PRIVATE, NULL);
	if (ret != -1 || errno != ENOSYS) {
		ASSERT_EQ(-1, ret);
		ASSERT_EQ(EDEADLK, errno);
	}
	ASSERT_EQ(me, futex_word(&self->a));
	ASSERT_EQ(0, futex_result(futex_unlock_pi(&self->a, FUTEX_PRIVATE_FLAG)));
	ASSERT_EQ(0, futex_word(&self->a));
}

/*
 * T1 holds A and blocks on B; we hold B and lock A. The chain walk for our
 * waiter finds A -> T1 -> B -> us and fails with EDEADLK, leaving our
 * rt_waiter queued on A's rt_mutex until the cleanup removes it. T1 must
 * get B as soon as we release it, and both words end at 0.
 */
TEST_F(lock_pi_deadlock, abba_chain_walk)
{
	struct chain_owner t1 = { .first = &self->a, .second = &self->b };
	pid_t me = sys_gettid();

	ASSERT_EQ(0, futex_result(futex_lock_pi(&self->b, NULL, 0, FUTEX_PRIVATE_FLAG)));
	ASSERT_EQ(0, chain_owner_start(&t1));
	ASSERT_EQ(0, wait_blocked(t1.tid, &self->b, 5000));
	ASSERT_EQ(t1.tid, futex_owner(&self->a));

	ASSERT_EQ(-1, futex_lock_pi(&self->a, NULL, 0, FUTEX_PRIVATE_FLAG));
	ASSERT_EQ(EDEADLK, errno);

	/* Nothing changed hands; T1 still waits for B. */
	ASSERT_EQ(t1.tid, futex_owner(&self->a));
	ASSERT_EQ(me, futex_owner(&self->b));
	ASSERT_TRUE(futex_word(&self->b) & FUTEX_WAITERS);
	ASSERT_EQ(0, wait_blocked(t1.tid, &self->b, 1000));

	ASSERT_EQ(0, futex_result(futex_unlock_pi(&self->b, FUTEX_PRIVATE_FLAG)));
	ASSERT_EQ(0, join_within(t1.thread, 5000));
	ASSERT_EQ(0, t1.first_ret);
	ASSERT_EQ(0, t1.second_ret);
	ASSERT_EQ(t1.tid, t1.second_word & FUTEX_TID_MASK);
	ASSERT_EQ(0, t1.unlock_ret);
	ASSERT_EQ(0, futex_word(&self->a));
	ASSERT_EQ(0, futex_word(&self->b));
}

/* Last: the kernel stayed quiet for the whole program. */
KERNEL_LOG_CLEAN_TEST()

TEST_HARNESS_MAIN
