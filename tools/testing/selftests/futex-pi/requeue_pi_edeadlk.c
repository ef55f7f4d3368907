// SPDX-License-Identifier: GPL-2.0
/*
 * DESCRIPTION
 *	FUTEX_CMP_REQUEUE_PI onto a PI futex that one of the waiters
 *	already owns.
 *
 *	Two threads wait on a plain futex ("cond") with
 *	FUTEX_WAIT_REQUEUE_PI for the PI futex "mutex": first B, then A,
 *	which owns the mutex in user space (the word holds its TID). The
 *	requeue cannot take the mutex for B, so it attaches a pi_state to
 *	A and enqueues B on its rt_mutex; for A, rt_mutex_start_proxy_lock()
 *	finds that A owns that rt_mutex and fails with EDEADLK before it
 *	enqueues A's rt_waiter. Kernels with "locking/rtmutex: Fix stale
 *	waiter in remove_waiter()" but without "locking/rtmutex: Skip
 *	remove_waiter() when waiter is not enqueued" (upstream 40a25d59e85b;
 *	Debian's 6.1.176, fixed in 6.1.177) then call remove_waiter() on
 *	that never-enqueued waiter, whose task pointer is NULL: a kernel
 *	NULL pointer dereference in the requeueing task, with the wait_lock
 *	of the rt_mutex held.
 *
 *	The kernel must:
 *	- fail FUTEX_CMP_REQUEUE_PI with EDEADLK, after B was requeued;
 *	- leave A waiting on cond (its deadline ends the wait: ETIMEDOUT),
 *	  still the mutex's owner, with FUTEX_WAITERS set for B;
 *	- hand the mutex to B when A unlocks it, and let B unlock it to 0.
 */
#include "futex_pi.h"

/* A waiter on cond that owns the mutex, and unlocks it after its wait. */
struct owner_waiter {
	uint32_t *cond, *mutex;
	struct timespec deadline;	/* absolute, CLOCK_MONOTONIC */
	pthread_t thread;
	pid_t tid;
	int ret, unlock_ret;		/* 0 or -errno */
	int64_t returned_ns;
};

static void *owner_waiter_fn(void *arg)
{
	struct owner_waiter *o = arg;
	pid_t tid = sys_gettid();
	int ret;

	/* An uncontended lock in user space: the word is the owner's TID. */
	__atomic_store_n(o->mutex, tid, __ATOMIC_SEQ_CST);
	__atomic_store_n(&o->tid, tid, __ATOMIC_RELEASE);
	ret = futex_wait_requeue_pi(o->cond, 0, o->mutex, &o->deadline,
				    FUTEX_PRIVATE_FLAG);
	o->ret = futex_result(ret);
	o->returned_ns = now_ns(CLOCK_MONOTONIC);
	o->unlock_ret = futex_result(futex_unlock_pi(o->mutex, FUTEX_PRIVATE_FLAG));
	return NULL;
}

#define OWNER_WAIT_MS	3000	/* A's deadline; the requeue comes first */

FIXTURE(requeue_pi_edeadlk) {
	struct kmsg_watch kmsg;
	uint32_t cond, mutex;
};

FIXTURE_SETUP(requeue_pi_edeadlk)
{
	kmsg_watch_start(&self->kmsg);
}

FIXTURE_TEARDOWN(requeue_pi_edeadlk)
{
	kmsg_watch_end(_metadata, &self->kmsg);
}

TEST_F(requeue_pi_edeadlk, waiter_owns_target)
{
	const char *what = "both waiters were blocked on cond before the requeue, within A's deadline";
	struct pi_locker b = {
		.cond = &self->cond, .uaddr = &self->mutex,
		.op = FUTEX_PRIVATE_FLAG, .clock = CLOCK_MONOTONIC,
	};
	struct owner_waiter a = { .cond = &self->cond, .mutex = &self->mutex };
	int64_t deadline, requeued_ns;
	int ret, err;

	/* B first, so that B is the top waiter the requeue tries to lock for. */
	ASSERT_EQ(0, pi_locker_start(&b));
	ASSERT_EQ(0, wait_blocked(b.tid, NULL, 5000)) {
		TH_LOG("%s", what);
	}
	deadline = now_ns(CLOCK_MONOTONIC) + OWNER_WAIT_MS * NSEC_PER_MSEC;
	a.deadline = ns_to_ts(deadline);
	ASSERT_EQ(0, start_thread(&a.thread, NULL, owner_waiter_fn, &a, &a.tid));
	ASSERT_EQ(0, wait_blocked(a.tid, NULL, 5000)) {
		TH_LOG("%s", what);
	}
	ASSERT_EQ(a.tid, futex_word(&self->mutex));

	ret = futex_cmp_requeue_pi(&self->cond, 0, &self->mutex, 1, INT_MAX,
				   FUTEX_PRIVATE_FLAG);
	err = ret == -1 ? errno : 0;
	requeued_ns = now_ns(CLOCK_MONOTONIC);
	ASSERT_LT(requeued_ns, deadline) {
		TH_LOG("precondition not met: %s", what);
	}
	ASSERT_EQ(-1, ret) {
		TH_LOG("FUTEX_CMP_REQUEUE_PI returned %d, not EDEADLK", ret);
	}
	ASSERT_EQ(EDEADLK, err);

	/* B is blocked on the mutex, A still owns it and waits on cond. */
	ASSERT_FALSE(pi_locker_done(&b));
	ASSERT_EQ(a.tid, futex_owner(&self->mutex));
	ASSERT_TRUE(futex_word(&self->mutex) & FUTEX_WAITERS);

	ASSERT_EQ(0, join_within(a.thread, OWNER_WAIT_MS + 10000));
	ASSERT_EQ(-ETIMEDOUT, a.ret);
	ASSERT_GE(a.returned_ns, deadline);
	ASSERT_EQ(0, a.unlock_ret);

	ASSERT_EQ(0, join_within(b.thread, 10000)) {
		TH_LOG("the requeued waiter did not get the mutex");
	}
	ASSERT_EQ(0, b.ret);
	ASSERT_EQ(b.tid, b.word & FUTEX_TID_MASK);
	ASSERT_EQ(0, b.unlock_ret);
	ASSERT_EQ(0, futex_word(&self->mutex));

	/* Nobody is left queued on cond (a requeue-PI waiter gives EINVAL). */
	ASSERT_EQ(0, futex_wake(&self->cond, INT_MAX, FUTEX_PRIVATE_FLAG));
}

/* Last: the kernel stayed quiet for the whole program. */
KERNEL_LOG_CLEAN_TEST()

TEST_HARNESS_MAIN
