// SPDX-License-Identifier: GPL-2.0
/*
 * DESCRIPTION
 *	The owner of a PI futex must lose the boost of a waiter as soon as
 *	that waiter gives up, even when the waiter then has to wait for the
 *	futex hash-bucket lock. Seen from user space, without lock debugging.
 *
 *	On PREEMPT_RT hb->lock is an rtlock, a sleeping lock. A waiter of
 *	FUTEX_LOCK_PI, or of FUTEX_WAIT_REQUEUE_PI after its requeue, that
 *	times out or takes a signal takes hb->lock before it leaves the PI
 *	futex's rt_mutex. Kernels without "futex/pi: Fix recursive rt_mutex
 *	waiter state" (upstream fbeb558b0dd0, v6.7) take hb->lock first:
 *	if hb->lock is contended, the waiter sleeps on it with its rt_waiter
 *	still enqueued on the PI futex, and for as long as it sleeps the
 *	owner stays boosted by a waiter that has already given up (and
 *	pi_blocked_on points at the wrong lock). With the fix the waiter
 *	leaves the rt_mutex first, so the owner drops back before the waiter
 *	touches hb->lock.
 *
 *	How the window is held open, on two CPUs:
 *	- CPU A: HELPERS helpers loop on FUTEX_WAKE of the PI futex word,
 *	  which takes the same hb->lock (and fails with EINVAL: the waiter is
 *	  a PI waiter); a SCHED_FIFO hog wakes just before the waiter's
 *	  deadline and spins for HOLD_MS. When the hog happens to preempt a
 *	  helper inside hb->lock, hb->lock stays taken until the hog stops.
 *	- CPU B: we own the PI futex (SCHED_OTHER); the waiter, SCHED_FIFO
 *	  WAITER_PRIO, blocks on it and boosts us, then times out (or gets a
 *	  signal) and, in the lucky tries, sleeps on hb->lock: state D, still
 *	  in the futex system call, after its deadline. That is "the window".
 *	  We read our own priority in it. Every other try is a miss and is
 *	  repeated; a try takes a few milliseconds, and under emulation one
 *	  try in 5 (x86_64) to 100 (arm64) catches the window.
 *
 *	The kernel must: leave us at our own priority in every window.
 *	A test fails at the first window with a stale boost, and passes after
 *	WINDOWS windows without one; it also fails if it never sees a window
 *	in BUDGET_S seconds (it has tested nothing then).
 *
 *	Skips without PREEMPT_RT (hb->lock is a spinning lock there, and the
 *	window cannot exist), with fewer than two CPUs, or without
 *	CAP_SYS_NICE for SCHED_FIFO.
 */
#include "futex_pi.h"

#include <sys/utsname.h>

#define WAITER_PRIO	10	/* the waiter; we show -11 while boosted */
#define HOG_PRIO	20	/* above the waiter's boost of the helper */
#define LEAD_US		1000	/* the hog wakes this much before the deadline */
#define HOLD_MS		40	/* and spins this long after it */
#define FIRST_WAIT_MS	2	/* the waiter's first timeout; doubled on a miss */
#define MAX_WAIT_MS	256	/* and halved after a try that queued in time */
#define WINDOWS		5	/* windows to see before passing */
#define BUDGET_S	15	/* give up on seeing a window after this */
#define VARIANT_S	40	/* the harness's time limit of one variant */
#define HELPERS		3	/* helpers looping on FUTEX_WAKE */

/* The hog: spins on CPU A from start_ns to end_ns (CLOCK_REALTIME). */
struct hog {
	int cpu;
	int64_t start_ns, end_ns;	/* written before gen is bumped */
	uint32_t gen;		/* bumped to arm the next spin */
	int err;		/* pinning failed */
	int stop;		/* ends the current spin early */
	int quit;
	pthread_t thread;
};

/* The helper: FUTEX_WAKE on the PI futex word, on CPU A, until quit. */
struct helper {
	int cpu;
	uint32_t *uaddr;
	int quit;
	int err;		/* pinning failed */
	long loops, einval;
	pthread_t thread;
};

static int pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

static void *hog_fn(void *arg)
{
	struct hog *h = arg;
	int64_t end_ns;
	uint32_t gen = 0;
	struct timespec ts;

	h->err = pin_self(h->cpu);
	if (h->err)
		return NULL;
	for (;;) {
		while (__atomic_load_n(&h->gen, __ATOMIC_ACQUIRE) == gen)
			futex_wait(&h->gen, gen, NULL, FUTEX_PRIVATE_FLAG);
		gen = __atomic_load_n(&h->gen, __ATOMIC_ACQUIRE);
		if (__atomic_load_n(&h->quit, __ATOMIC_ACQUIRE))
			return NULL;
		/* This spin's times: the next hog_arm() may rewrite them. */
		ts = ns_to_ts(h->start_ns);
		end_ns = h->end_ns;
		while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
			continue;
		while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE) &&
		       gen == __atomic_load_n(&h->gen, __ATOMIC_ACQUIRE) &&
		       now_ns(CLOCK_REALTIME) < end_ns)
			continue;
	}
}

static void hog_arm(struct hog *h, int64_t start_ns, int64_t end_ns)
{
	h->start_ns = start_ns;
	h->end_ns = end_ns;
	__atomic_store_n(&h->stop, 0, __ATOMIC_RELEASE);
	__atomic_add_fetch(&h->gen, 1, __ATOMIC_RELEASE);
	futex_wake(&h->gen, 1, FUTEX_PRIVATE_FLAG);
}

static void *helper_fn(void *arg)
{
	struct helper *h = arg;

	h->err = pin_self(h->cpu);
	if (h->err)
		return NULL;
	while (!__atomic_load_n(&h->quit, __ATOMIC_ACQUIRE)) {
		if (futex_wake(h->uaddr, INT_MAX, FUTEX_PRIVATE_FLAG) == -1 &&
		    errno == EINVAL)
			h->einval++;
		h->loops++;
	}
	return NULL;
}

/* Voluntary plus involuntary context switches of one of our threads. */
static long task_switches(pid_t tid)
{
	char path[64], line[128];
	long n, sum = 0;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1 ||
		    sscanf(line, "nonvoluntary_ctxt_switches: %ld", &n) == 1) {
			sum += n;
			found++;
		}
	fclose(f);
	return found == 2 ? sum : -1;
}

/*
 * If the waiter @w sleeps in D (an rtlock: hb->lock after it gave up)
 * inside the futex system call, read our priority into @prio and return
 * true, provided the waiter did not run at all while we read it (same
 * context switch count before and after, D both times): then the
 * priority belongs to that one sleep. After a signal, the sleep must come
 * before the handler: FUTEX_LOCK_PI restarts after it and may sleep on
 * hb->lock again on its way in, with no rt_waiter queued yet.
 */
static bool in_window(pid_t w, int *prio)
{
	long before = task_switches(w);
	char s1 = 0, s2 = 0;

	if (before < 0 || task_stat(w, &s1, NULL) || s1 != 'D' ||
	    !in_futex_syscall(w))
		return false;
	*prio = task_prio(sys_gettid());
	return !task_stat(w, &s2, NULL) && s2 == 'D' &&
	       task_switches(w) == before &&
	       !__atomic_load_n(&signals_handled, __ATOMIC_ACQUIRE);
}

/*
 * Unlock the futex we own, as a user-space mutex would: the word from our
 * TID to 0, else FUTEX_UNLOCK_PI. The kernel answers EAGAIN when the word
 * changed between its read and its update (a waiter set FUTEX_WAITERS
 * meanwhile): "let user space handle it", so try again.
 */
static int owner_unlock(uint32_t *uaddr)
{
	int ret = -EAGAIN, i;

	for (i = 0; i < 100 && ret == -EAGAIN; i++) {
		uint32_t tid = sys_gettid();

		if (__atomic_compare_exchange_n(uaddr, &tid, 0, false,
						__ATOMIC_RELEASE, __ATOMIC_RELAXED))
			return 0;
		ret = futex_result(futex_unlock_pi(uaddr, FUTEX_PRIVATE_FLAG));
	}
	return ret;
}

FIXTURE(stale_boost) {
	struct kmsg_watch kmsg;
	uint32_t futex, cond;
	cpu_set_t saved;
	struct hog hog;
	struct helper helper[HELPERS];
	int base;
	bool started;
	const char *skip;	/* why the test skips */
	struct pi_locker w;	/* the waiter of the current try */
};

FIXTURE_VARIANT(stale_boost) {
	bool requeue;	/* FUTEX_WAIT_REQUEUE_PI, requeued, instead of LOCK_PI */
	bool signal;	/* leave by a signal instead of a timeout */
	int ret;	/* what the waiter's call returns */
	const char *how;
};

FIXTURE_VARIANT_ADD(stale_boost, lock_pi_timeout) {
	.ret = -ETIMEDOUT, .how = "FUTEX_LOCK_PI timed out",
};

/* FUTEX_LOCK_PI restarts after the handler and gets the lock at last. */
FIXTURE_VARIANT_ADD(stale_boost, lock_pi_signal) {
	.signal = true, .ret = 0, .how = "FUTEX_LOCK_PI took a signal",
};

FIXTURE_VARIANT_ADD(stale_boost, requeue_pi_timeout) {
	.requeue = true, .ret = -ETIMEDOUT,
	.how = "FUTEX_WAIT_REQUEUE_PI timed out after the requeue",
};

/* A requeued waiter cannot restart: EAGAIN. */
FIXTURE_VARIANT_ADD(stale_boost, requeue_pi_signal) {
	.requeue = true, .signal = true, .ret = -EAGAIN,
	.how = "FUTEX_WAIT_REQUEUE_PI took a signal after the requeue",
};

static bool preempt_rt(void)
{
	struct utsname u;

	return !uname(&u) && strstr(u.version, "PREEMPT_RT");
}

FIXTURE_SETUP(stale_boost)
{
	struct sched_param hog_param = { .sched_priority = HOG_PRIO };
	struct sched_param fifo = { .sched_priority = HOG_PRIO };
	struct sigaction sa = { .sa_handler = count_signal };
	struct sched_param other = { 0 };
	pthread_attr_t attr;
	int cpus[2], n = 0, cpu, i;

	kmsg_watch_start(&self->kmsg);
	/*
	 * The harness runs the test after a SKIP() in setup too (older
	 * versions of it): the test skips on self->skip.
	 */
	self->skip = "not a PREEMPT_RT kernel: hb->lock does not sleep, there is no window";
	if (!preempt_rt())
		return;
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(self->saved), &self->saved));
	for (cpu = 0; cpu < CPU_SETSIZE && n < 2; cpu++)
		if (CPU_ISSET(cpu, &self->saved))
			cpus[n++] = cpu;
	self->skip = "needs two CPUs";
	if (n < 2)
		return;
	self->skip = "SCHED_FIFO not permitted: needs CAP_SYS_NICE";
	if (sched_setscheduler(0, SCHED_FIFO, &fifo))
		return;
	self->skip = NULL;
	ASSERT_EQ(0, sched_setscheduler(0, SCHED_OTHER, &other));
	self->base = task_prio(sys_gettid());
	ASSERT_GE(self->base, 0);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));

	/* CPU A: helper and hog. CPU B: us and (inherited) the waiters. */
	self->hog.cpu = cpus[0];
	ASSERT_EQ(0, pin_self(cpus[1]));
	for (i = 0; i < HELPERS; i++) {
		self->helper[i].cpu = cpus[0];
		self->helper[i].uaddr = &self->futex;
		ASSERT_EQ(0, pthread_create(&self->helper[i].thread, NULL,
					    helper_fn, &self->helper[i]));
	}
	pthread_attr_init(&attr);
	pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
	pthread_attr_setschedparam(&attr, &hog_param);
	ASSERT_EQ(0, pthread_create(&self->hog.thread, &attr, hog_fn,
				    &self->hog));
	pthread_attr_destroy(&attr);
	self->started = true;
	sleep_us(10000);	/* let them pin themselves */
	ASSERT_EQ(0, self->hog.err);
	for (i = 0; i < HELPERS; i++)
		ASSERT_EQ(0, self->helper[i].err);
}

FIXTURE_TEARDOWN(stale_boost)
{
	int i;

	if (self->started) {
		for (i = 0; i < HELPERS; i++)
			__atomic_store_n(&self->helper[i].quit, 1, __ATOMIC_RELEASE);
		__atomic_store_n(&self->hog.quit, 1, __ATOMIC_RELEASE);
		hog_arm(&self->hog, 0, 0);
		for (i = 0; i < HELPERS; i++)
			EXPECT_EQ(0, join_within(self->helper[i].thread, 10000));
		EXPECT_EQ(0, join_within(self->hog.thread, 10000));
		sched_setaffinity(0, sizeof(self->saved), &self->saved);
	}
	kmsg_watch_end(_metadata, &self->kmsg);
}

enum try_result { MISSED, NO_WINDOW, WINDOW };

/*
 * One try: queue the waiter (requeue it), let it leave at its deadline
 * while the hog runs, and look for the window until the hog stops.
 * Returns the result; @prio gets our priority seen in the window, @why
 * what was missed.
 */
static enum try_result one_try(struct __test_metadata *_metadata,
			       FIXTURE_DATA(stale_boost) *self,
			       const FIXTURE_VARIANT(stale_boost) *variant,
			       int wait_ms, int *prio, const char **why)
{
	int64_t deadline = now_ns(CLOCK_REALTIME) + wait_ms * NSEC_PER_MSEC;
	struct timespec ts = ns_to_ts(deadline);
	struct pi_locker *w = &self->w;
	enum try_result res = NO_WINDOW;
	long switches;
	int64_t end;
	char state;

	*w = (struct pi_locker){
		.uaddr = &self->futex, .clock = CLOCK_REALTIME,
		.rtprio = WAITER_PRIO, .timed = !variant->signal,
		.deadline = ts, .op = FUTEX_LOCK_PI_PRIVATE,
	};
	if (variant->requeue) {
		w->cond = &self->cond;
		w->op = FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME;
	}
	__atomic_store_n(&signals_handled, 0, __ATOMIC_RELEASE);
	ASSERT_EQ(0, futex_result(futex_lock_pi(&self->futex, NULL, 0, FUTEX_PRIVATE_FLAG)));
	ASSERT_EQ(0, pi_locker_start(w));

	*why = "the waiter blocked before its deadline";
	if (!blocked_before(w->tid, variant->requeue ? NULL : &self->futex,
			    CLOCK_REALTIME, deadline))
		res = MISSED;
	if (res != MISSED && variant->requeue) {
		*why = "the waiter was requeued, and boosted us, before its deadline";
		if (futex_cmp_requeue_pi(&self->cond, 0, &self->futex, 1, 1,
					 FUTEX_PRIVATE_FLAG) != 1 ||
		    task_prio(sys_gettid()) != STAT_PRIO_RT(WAITER_PRIO) ||
		    now_ns(CLOCK_REALTIME) >= deadline)
			res = MISSED;
	}

	if (res != MISSED) {
		hog_arm(&self->hog, deadline - LEAD_US * NSEC_PER_USEC,
			deadline + HOLD_MS * NSEC_PER_MSEC);
		while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
			continue;
		switches = task_switches(w->tid);
		if (variant->signal)
			ASSERT_EQ(0, pthread_kill(w->thread, SIGUSR1));
		/*
		 * Look while the hog still holds the helpers off. The try has
		 * missed once the waiter has returned, or (FUTEX_LOCK_PI after
		 * a signal restarts) sleeps interruptibly again after it ran.
		 */
		end = deadline + (HOLD_MS - 5) * NSEC_PER_MSEC;
		while (now_ns(CLOCK_REALTIME) < end && !pi_locker_done(w)) {
			if (in_window(w->tid, prio)) {
				res = WINDOW;
				break;
			}
			if (!task_stat(w->tid, &state, NULL) && state == 'S' &&
			    task_switches(w->tid) != switches)
				break;
			sleep_us(500);
		}
		__atomic_store_n(&self->hog.stop, 1, __ATOMIC_RELEASE);
	}

	/*
	 * A waiter that has left (all but FUTEX_LOCK_PI after a signal,
	 * which restarts) must return by itself: unlocking before it has
	 * would hand it the futex and change what it returns.
	 */
	end = now_ns(CLOCK_REALTIME) + 10 * NSEC_PER_SEC;
	if (res != MISSED && (variant->requeue || !variant->signal))
		while (!pi_locker_done(w) && now_ns(CLOCK_REALTIME) < end)
			sleep_us(1000);
	/*
	 * Let the waiter go. Unlocked, the futex goes to a waiter queued on
	 * it; one still waiting on cond (no deadline, requeue missed) is
	 * requeued and takes it at once.
	 */
	if (futex_owner(&self->futex) == sys_gettid())
		ASSERT_EQ(0, owner_unlock(&self->futex));
	while (!pi_locker_done(w) && now_ns(CLOCK_REALTIME) < end) {
		if (variant->requeue)
			futex_cmp_requeue_pi(&self->cond, 0, &self->futex, 1,
					     1, FUTEX_PRIVATE_FLAG);
		sleep_us(1000);
	}
	ASSERT_EQ(0, join_within(w->thread, 1000)) {
		TH_LOG("the waiter did not return within 10 s");
	}
	if (res != MISSED)
		ASSERT_EQ(variant->ret, w->ret) {
			TH_LOG("%s: the call returned %d (%s)", variant->how,
			       w->ret, strerror(-w->ret));
		}
	if (!w->ret)
		ASSERT_EQ(0, w->unlock_ret);
	/* Free again, nobody boosting us: the next try starts clean. */
	ASSERT_EQ(0, futex_word(&self->futex));
	ASSERT_EQ(self->base, task_prio(sys_gettid())) {
		TH_LOG("still boosted after the waiter returned");
	}
	return res;
}

TEST_F_TIMEOUT(stale_boost, owner_drops_boost_before_hb_lock, VARIANT_S)
{
	int64_t stop = now_ns(CLOCK_MONOTONIC) + BUDGET_S * NSEC_PER_SEC;
	int wait_ms = FIRST_WAIT_MS, windows = 0, tries = 0, missed = 0;
	const char *why = "";
	long loops = 0, einval = 0;
	enum try_result r;
	int prio = 0, i;

	if (self->skip)
		SKIP(return, "%s", self->skip);
	while (windows < WINDOWS && now_ns(CLOCK_MONOTONIC) < stop) {
		tries++;
		r = one_try(_metadata, self, variant, wait_ms, &prio, &why);
		if (r == MISSED) {
			/* Too little time to queue: twice as much. */
			missed++;
			if (wait_ms < MAX_WAIT_MS)
				wait_ms *= 2;
			continue;
		}
		/* In time: a stall of the machine should not slow us for good. */
		if (wait_ms > FIRST_WAIT_MS)
			wait_ms /= 2;
		if (r != WINDOW)
			continue;
		windows++;
		if (prio == self->base)
			continue;
		if (prio == STAT_PRIO_RT(WAITER_PRIO))
			TH_LOG("%s: we still had priority %d (the waiter's boost, FIFO %d) while the waiter slept on hb->lock after leaving; our own is %d (window %d, try %d)",
			       variant->how, prio, WAITER_PRIO, self->base,
			       windows, tries);
		else
			TH_LOG("%s: we had priority %d, neither our own (%d) nor the waiter's boost (%d), while the waiter slept on hb->lock after leaving (window %d, try %d)",
			       variant->how, prio, self->base,
			       STAT_PRIO_RT(WAITER_PRIO), windows, tries);
		EVIDENCE("stale-boost", "prio=%d boost=%d base=%d window=%d try=%d",
			 prio, STAT_PRIO_RT(WAITER_PRIO), self->base, windows, tries);
		return;
	}
	for (i = 0; i < HELPERS; i++) {
		loops += self->helper[i].loops;
		einval += self->helper[i].einval;
	}
	TH_LOG("%d window(s) in %d tries; %d helpers made %ld FUTEX_WAKE calls, %ld of them took hb->lock and found the PI waiter (EINVAL)",
	       windows, tries, HELPERS, loops, einval);
	if (missed)
		TH_LOG("%d tries missed the precondition (%s); the waiter's timeout grew to %d ms",
		       missed, why, wait_ms);
	ASSERT_LT(0, windows) {
		TH_LOG("precondition never met in %d s: the waiter was never seen waiting for hb->lock after leaving",
		       BUDGET_S);
	}
}

/* Last: the kernel stayed quiet for the whole program. */
KERNEL_LOG_CLEAN_TEST()

TEST_HARNESS_MAIN
