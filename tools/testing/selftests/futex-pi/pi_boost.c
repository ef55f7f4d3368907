// SPDX-License-Identifier: GPL-2.0
/*
 * DESCRIPTION
 *	Priority inheritance state after a boosting waiter leaves a PI futex
 *	by timeout.
 *
 *	A SCHED_FIFO waiter queued on a PI futex boosts the owner, and
 *	through the owner's own blocking chain the owners further down.
 *	When the waiter times out, rt_mutex_cleanup_proxy_lock() removes its
 *	rt_waiter and the chain walk must deboost everybody. On PREEMPT_RT
 *	kernels without "futex/pi: Fix recursive rt_mutex waiter state" the
 *	leaving waiter first blocks on hb->lock with pi_blocked_on pointing
 *	elsewhere, so chain walks and priority changes follow the wrong
 *	waiter; a debug kernel warns (kernel log check), a non-debug one may
 *	leave an owner boosted or deboost it too far.
 *
 *	The effective priority is field 18 of /proc/self/task/<tid>/stat:
 *	20 for SCHED_OTHER nice 0 (generally 20 + nice), -1 - p for
 *	SCHED_FIFO priority p.
 *
 *	The kernel must:
 *	- boost the owner (and the owner it waits for) to -51 while a
 *	  SCHED_FIFO 50 waiter is queued;
 *	- after that waiter times out, bring each owner back to its own
 *	  priority, or to the priority of the top waiter that is still queued.
 *
 *	Needs CAP_SYS_NICE (or RLIMIT_RTPRIO) for SCHED_FIFO, else skips.
 */
#include "futex_pi.h"

#define HIGH_PRIO	50
#define LOW_PRIO	30
#define WAIT_MS		500	/* the high priority waiter's timeout */

FIXTURE(pi_boost) {
	struct kmsg_watch kmsg;
	uint32_t a, b;
	int no_rt;		/* errno of the SCHED_FIFO probe */
	int base;		/* our unboosted priority */
};

FIXTURE_SETUP(pi_boost)
{
	struct sched_param fifo = { .sched_priority = 1 };
	struct sched_param other = { .sched_priority = 0 };

	kmsg_watch_start(&self->kmsg);
	if (sched_setscheduler(0, SCHED_FIFO, &fifo))
		self->no_rt = errno;
	else
		ASSERT_EQ(0, sched_setscheduler(0, SCHED_OTHER, &other));
	self->base = task_prio(sys_gettid());
	ASSERT_GE(self->base, 0);	/* not a real-time task */
}

FIXTURE_TEARDOWN(pi_boost)
{
	kmsg_watch_end(_metadata, &self->kmsg);
}

static struct pi_locker fifo_waiter(uint32_t *futex, int rtprio, int timeout_ms)
{
	struct pi_locker w = {
		.uaddr = futex, .op = FUTEX_LOCK_PI_PRIVATE,
		.clock = CLOCK_REALTIME, .rtprio = rtprio,
		.timed = timeout_ms > 0,
		.deadline = ns_to_ts(now_ns(CLOCK_REALTIME) +
				     timeout_ms * NSEC_PER_MSEC),
	};

	return w;
}

/*
 * Start a FIFO @rtprio waiter on @futex that gives up after @timeout_ms,
 * and see it queue. The precondition of the boost tests is that it was
 * seen blocked before its deadline: the boost is applied by then, before
 * the waiter sleeps, so each of @tids must show @rtprio at once, unless
 * the waiter has left meanwhile (checked after reading the priorities).
 * Returns 1 if so, 0 if the precondition was missed (the caller tries
 * again with more time), -1 - i if @tids[i] was not boosted.
 */
static int fifo_waiter_boosts(struct pi_locker *w, uint32_t *futex,
			      int rtprio, int timeout_ms,
			      const pid_t *tids, int ntids)
{
	int prios[4], i;
	bool queued;

	*w = fifo_waiter(futex, rtprio, timeout_ms);
	if (pi_locker_start(w))
		return 0;
	queued = blocked_before(w->tid, futex, CLOCK_REALTIME,
				ts_to_ns(&w->deadline));
	for (i = 0; i < ntids; i++)
		prios[i] = task_prio(tids[i]);
	if (!queued || pi_locker_done(w))
		return 0;
	for (i = 0; i < ntids; i++)
		if (prios[i] != STAT_PRIO_RT(rtprio))
			return -1 - i;
	return 1;
}

/*
 * Let FIFO HIGH_PRIO waiters on @futex time out, each try with twice the
 * time of the last, until one was seen queued before its deadline. It
 * must have boosted each of @tids while it was.
 */
static void boost_until_queued(struct __test_metadata *_metadata,
			       uint32_t *futex, const pid_t *tids, int ntids,
			       const char *what)
{
	int timeout_ms = WAIT_MS, tries;
	struct pi_locker w;
	int boosted;

	for (tries = 1; ; tries++, timeout_ms *= 2) {
		boosted = fifo_waiter_boosts(&w, futex, HIGH_PRIO,
					     timeout_ms, tids, ntids);
		ASSERT_NE(0, w.tid);
		ASSERT_EQ(0, join_within(w.thread, 10000));
		ASSERT_EQ(-ETIMEDOUT, w.ret);
		/* After the waiter has left: was the boost there? */
		ASSERT_LE(0, boosted) {
			TH_LOG("owner %d of the chain not boosted while the FIFO waiter was queued",
			       -boosted);
		}
		if (boosted)
			break;
		precondition_missed(_metadata, tries, what);
	}
	precondition_met(_metadata, tries, what);
}

/* We own A; a FIFO 50 waiter times out on it; we must drop back. */
TEST_F(pi_boost, boost_dropped_after_timeout)
{
	pid_t me = sys_gettid();

	if (self->no_rt)
		SKIP(return, "SCHED_FIFO not permitted (%s): needs CAP_SYS_NICE",
		     strerror(self->no_rt));
	ASSERT_EQ(0, futex_result(futex_lock_pi(&self->a, NULL, 0, FUTEX_PRIVATE_FLAG)));
	boost_until_queued(_metadata, &self->a, &me, 1,
			   "the FIFO waiter queued before its deadline");
	ASSERT_EQ(self->base, task_prio(me)) {
		TH_LOG("owner still boosted after the waiter left");
	}

	ASSERT_EQ(me, futex_owner(&self->a));
	ASSERT_EQ(0, futex_result(futex_unlock_pi(&self->a, FUTEX_PRIVATE_FLAG)));
	ASSERT_EQ(0, futex_word(&self->a));
	ASSERT_EQ(self->base, task_prio(me));
}

/*
 * Chain: FIFO waiter -> A (owned by O1) -> O1 blocked on B (owned by us).
 * The boost reaches both owners; after the waiter's timeout the cleanup's
 * chain walk must deboost both.
 */
TEST_F(pi_boost, chain_boost_dropped_after_timeout)
{
	struct chain_owner o1 = { .first = &self->a, .second = &self->b };
	pid_t me = sys_gettid();
	pid_t chain[2];

	if (self->no_rt)
		SKIP(return, "SCHED_FIFO not permitted (%s): needs CAP_SYS_NICE",
		     strerror(self->no_rt));
	ASSERT_EQ(0, futex_result(futex_lock_pi(&self->b, NULL, 0, FUTEX_PRIVATE_FLAG)));
	ASSERT_EQ(0, chain_owner_start(&o1));
	ASSERT_EQ(0, wait_blocked(o1.tid, &self->b, 5000));
	ASSERT_EQ(o1.tid, futex_owner(&self->a));
	ASSERT_EQ(self->base, task_prio(o1.tid));
	chain[0] = o1.tid;
	chain[1] = me;

	boost_until_queued(_metadata, &self->a, chain, 2,
			   "the FIFO waiter queued before its deadline");
	ASSERT_EQ(self->base, task_prio(o1.tid)) {
		TH_LOG("first owner still boosted after the waiter left");
	}
	ASSERT_EQ(self->base, task_prio(me)) {
		TH_LOG("second owner still boosted after the waiter left");
	}
	ASSERT_EQ(o1.tid, futex_owner(&self->a));
	ASSERT_EQ(me, futex_owner(&self->b));

	ASSERT_EQ(0, futex_result(futex_unlock_pi(&self->b, FUTEX_PRIVATE_FLAG)));
	ASSERT_EQ(0, join_within(o1.thread, 5000));
	ASSERT_EQ(0, o1.first_ret);
	ASSERT_EQ(0, o1.second_ret);
	ASSERT_EQ(0, o1.unlock_ret);
	ASSERT_EQ(0, futex_word(&self->a));
	ASSERT_EQ(0, futex_word(&self->b));
}

/*
 * FIFO 30 and FIFO 50 waiters; the 50 times out. We must fall back to
 * the 30's priority, not to our own, and hand the lock to the 30.
 */
TEST_F(pi_boost, boost_follows_remaining_waiter)
{
	struct pi_locker low = fifo_waiter(&self->a, LOW_PRIO, 0);
	pid_t me = sys_gettid();

	if (self->no_rt)
		SKIP(return, "SCHED_FIFO not permitted (%s): needs CAP_SYS_NICE",
		     strerror(self->no_rt));
	ASSERT_EQ(0, futex_result(futex_lock_pi(&self->a, NULL, 0, FUTEX_PRIVATE_FLAG)));
	ASSERT_EQ(0, pi_locker_start(&low));
	ASSERT_EQ(0, wait_blocked(low.tid, &self->a, 5000));
	ASSERT_EQ(STAT_PRIO_RT(LOW_PRIO), task_prio(me));

	boost_until_queued(_metadata, &self->a, &me, 1,
			   "the FIFO 50 waiter queued before its deadline");

	ASSERT_EQ(STAT_PRIO_RT(LOW_PRIO), task_prio(me)) {
		TH_LOG("owner priority does not follow the remaining waiter");
	}
	ASSERT_FALSE(pi_locker_done(&low));
	ASSERT_TRUE(futex_word(&self->a) & FUTEX_WAITERS);

	ASSERT_EQ(0, futex_result(futex_unlock_pi(&self->a, FUTEX_PRIVATE_FLAG)));
	ASSERT_EQ(self->base, task_prio(me));
	ASSERT_EQ(0, join_within(low.thread, 5000));
	ASSERT_EQ(0, low.ret);
	ASSERT_EQ(low.tid, low.word & FUTEX_TID_MASK);
	ASSERT_EQ(0, low.unlock_ret);
	ASSERT_EQ(0, futex_word(&self->a));
}

/* Last: the kernel stayed quiet for the whole program. */
KERNEL_LOG_CLEAN_TEST()

TEST_HARNESS_MAIN
