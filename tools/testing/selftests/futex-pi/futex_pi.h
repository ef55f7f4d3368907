/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the futex-pi selftests: the futex calls that
 * ../futex/include/futextest.h has no wrapper for, clock arithmetic,
 * thread state from /proc, and threads that block on PI futexes for the
 * tests. The kernel log watcher every test uses is in kmsg_watch.h (why:
 * see there).
 *
 * Futex calls follow futextest.h: they return what the system call
 * returns, -1 with errno set on failure. A thread that makes a call for a
 * test hands the result over as 0 or -errno (futex_result()), because
 * the test thread cannot see its errno; a test asserts that a call
 * succeeded as ASSERT_EQ(0, futex_result(call)), so that a failure names
 * the errno (-22, not -1).
 */
#ifndef FUTEX_PI_H
#define FUTEX_PI_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "../futex/include/futextest.h"
#include "kmsg_watch.h"

#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2		13
#endif
#ifndef FUTEX_LOCK_PI2_PRIVATE
#define FUTEX_LOCK_PI2_PRIVATE	(FUTEX_LOCK_PI2 | FUTEX_PRIVATE_FLAG)
#endif

#define NSEC_PER_USEC	1000LL
#define NSEC_PER_MSEC	1000000LL
#define NSEC_PER_SEC	1000000000LL

/* Effective priority as /proc shows it (field 18) for SCHED_FIFO @p. */
#define STAT_PRIO_RT(p)	(-1 - (p))

static inline pid_t sys_gettid(void)
{
	return syscall(SYS_gettid);
}

/* ---- futex calls futextest.h has no wrapper for ---- */

/*
 * FUTEX_LOCK_PI, FUTEX_LOCK_PI2, FUTEX_TRYLOCK_PI with @op the whole
 * operation, flags included: futextest.h's futex_lock_pi() knows only
 * FUTEX_LOCK_PI, and a locker thread takes whichever op its test names.
 */
static inline int futex_pi_op(uint32_t *uaddr, int op,
			      struct timespec *timeout)
{
	return futex(uaddr, op, 0, timeout, NULL, 0, 0);
}

static inline int futex_trylock_pi(uint32_t *uaddr)
{
	return futex_pi_op(uaddr, FUTEX_TRYLOCK_PI_PRIVATE, NULL);
}

/*
 * The result of a futex call that returns 0 on success: 0, or -errno (for
 * a thread to hand to the test thread, and for an assertion to print).
 */
static inline int futex_result(int ret)
{
	return ret == -1 ? -errno : 0;
}

static inline uint32_t futex_word(uint32_t *uaddr)
{
	return __atomic_load_n(uaddr, __ATOMIC_SEQ_CST);
}

static inline pid_t futex_owner(uint32_t *uaddr)
{
	return futex_word(uaddr) & FUTEX_TID_MASK;
}

/* Is @op understood by this kernel? (FUTEX_LOCK_PI2 needs 5.14.) */
static inline bool futex_lock_op_supported(int op)
{
	uint32_t probe = 0;

	if (futex_pi_op(&probe, op, NULL))
		return false;
	return futex_unlock_pi(&probe, op & FUTEX_PRIVATE_FLAG) == 0;
}

/* ---- time ---- */

static inline int64_t now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/*
 * A time before the clock's zero becomes 0, which is just as much in the
 * past: arm64 guests without an RTC start CLOCK_REALTIME at 0, so "now
 * minus a second" can be negative early after boot, and a negative
 * tv_nsec makes the kernel answer EINVAL instead of ETIMEDOUT.
 */
static inline struct timespec ns_to_ts(int64_t ns)
{
	struct timespec ts;

	if (ns < 0)
		ns = 0;
	ts.tv_sec = ns / NSEC_PER_SEC;
	ts.tv_nsec = ns % NSEC_PER_SEC;
	return ts;
}

static inline int64_t ts_to_ns(const struct timespec *ts)
{
	return ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

static inline void sleep_us(long us)
{
	struct timespec ts = ns_to_ts(us * NSEC_PER_USEC);

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Stress duration: FUTEX_PI_STRESS_SECONDS, 3 s by default, at most 1 h. */
static inline int stress_seconds(void)
{
	const char *env = getenv("FUTEX_PI_STRESS_SECONDS");
	int s = env ? atoi(env) : 3;

	return s < 1 ? 1 : s > 3600 ? 3600 : s;
}

/* ---- thread state from /proc ---- */

/*
 * State (field 3) and effective priority (field 18, "prio") of one of our
 * threads. comm (field 2) may contain spaces and parentheses, so fields
 * are counted from the last ')'.
 */
static inline int task_stat(pid_t tid, char *state, int *prio)
{
	char path[64], buf[1024], *p;
	int fd, n, field;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EIO;
	p += 2;				/* field 3 */
	if (state)
		*state = *p;
	for (field = 3; field < 18; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EIO;
		p++;
	}
	if (prio)
		*prio = atoi(p);
	return 0;
}

static inline int task_prio(pid_t tid)
{
	int prio = 9999;

	task_stat(tid, NULL, &prio);
	return prio;
}

/*
 * Whether @tid is inside the futex system call: the first field of
 * /proc/self/task/<tid>/syscall is the system call number. Kernels
 * without that file (no CONFIG_HAVE_ARCH_TRACEHOOK) answer yes: the
 * other signs must do.
 */
static inline bool in_futex_syscall(pid_t tid)
{
	char path[64], buf[64];
	int fd, n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	return atol(buf) == SYS_futex && buf[0] != 'r';	/* not "running" */
}

/*
 * Wait up to @ms until @tid sleeps (state S) in the futex system call
 * and, if @uaddr is given, the PI futex shows FUTEX_WAITERS.
 * futex_lock_pi() sets that bit under hb->lock right before it enqueues
 * its rt_waiter, and the only interruptible sleep after that is the wait
 * on the rt_mutex (an rtlock wait shows as D), so together they mean the
 * thread is blocked on the futex's rt_mutex, its boost applied.
 */
static inline int wait_blocked(pid_t tid, uint32_t *uaddr, int ms)
{
	int64_t end = now_ns(CLOCK_MONOTONIC) + ms * NSEC_PER_MSEC;
	char state = 0;

	do {
		if ((!uaddr || (futex_word(uaddr) & FUTEX_WAITERS)) &&
		    !task_stat(tid, &state, NULL) && state == 'S' &&
		    in_futex_syscall(tid))
			return 0;
		sleep_us(200);
	} while (now_ns(CLOCK_MONOTONIC) < end);
	return -ETIMEDOUT;
}

/*
 * True if @tid was seen blocked (wait_blocked()) before @deadline_ns on
 * @clock: the precondition of a test whose waiter must queue and then
 * leave by its deadline.
 */
static inline bool blocked_before(pid_t tid, uint32_t *uaddr, clockid_t clock,
				  int64_t deadline_ns)
{
	int64_t left_ms = (deadline_ns - now_ns(clock)) / NSEC_PER_MSEC;

	return left_ms > 0 && !wait_blocked(tid, uaddr, left_ms) &&
	       now_ns(clock) < deadline_ns;
}

/*
 * Timing preconditions. A test whose waiter must queue before its
 * deadline, or be requeued before it gives up, can miss that on a slow
 * or loaded machine (an emulated guest, say). It has then tested nothing,
 * and must neither pass nor fail the kernel for it: such a test runs its
 * scenario again with twice the time, up to PRECONDITION_TRIES times, and
 * fails only if the precondition was never met. The tries it needed are
 * logged.
 */
#define PRECONDITION_TRIES	5

/* Try @tries missed: fail after the last try, else say so. */
static inline void precondition_missed(struct __test_metadata *_metadata,
				       int tries, const char *what)
{
	ASSERT_LT(tries, PRECONDITION_TRIES) {
		TH_LOG("precondition never met in %d tries: %s", tries, what);
	}
	TH_LOG("precondition missed in try %d, once more with twice the time: %s",
	       tries, what);
}

static inline void precondition_met(struct __test_metadata *_metadata,
				    int tries, const char *what)
{
	if (tries > 1)
		TH_LOG("precondition met in try %d: %s", tries, what);
}

/* ---- threads that block on PI futexes the test thread holds ---- */

/*
 * Start @fn(@arg), which first stores its TID in *@tid, and wait until
 * it has. Returns 0 or an errno, as pthread_create() does.
 */
static inline int start_thread(pthread_t *thread, const pthread_attr_t *attr,
			       void *(*fn)(void *), void *arg, pid_t *tid)
{
	int ret = pthread_create(thread, attr, fn, arg);

	while (!ret && !__atomic_load_n(tid, __ATOMIC_ACQUIRE))
		sleep_us(100);
	return ret;
}

/*
 * With @cond set, the thread waits on @cond (FUTEX_WAIT_REQUEUE_PI, @op
 * holding only flags) for a requeue onto @uaddr instead of locking @uaddr.
 */
struct pi_locker {
	/* Filled in by the caller. */
	uint32_t *uaddr;
	int op;				/* FUTEX_LOCK_PI{,2} and flags */
	uint32_t *cond;			/* wait here for a requeue to @uaddr */
	bool timed;
	struct timespec deadline;	/* absolute, on @clock */
	clockid_t clock;
	int rtprio;			/* > 0: run as SCHED_FIFO rtprio */
	/* Filled in by the locker. */
	pthread_t thread;
	pid_t tid;
	int ret;			/* of the lock op */
	uint32_t word;			/* futex word right after it */
	int64_t returned_ns;		/* on @clock */
	int unlock_ret;			/* of FUTEX_UNLOCK_PI, if it got it */
	/* ret and unlock_ret are 0 or -errno. */
	int done;
};

static void *pi_locker_fn(void *arg)
{
	struct pi_locker *l = arg;
	struct timespec *deadline = l->timed ? &l->deadline : NULL;
	int ret;

	__atomic_store_n(&l->tid, sys_gettid(), __ATOMIC_RELEASE);
	if (l->cond)
		ret = futex_wait_requeue_pi(l->cond, 0, l->uaddr, deadline,
					    l->op);
	else
		ret = futex_pi_op(l->uaddr, l->op, deadline);
	l->ret = futex_result(ret);
	l->returned_ns = now_ns(l->clock);
	l->word = futex_word(l->uaddr);
	if (!l->ret) {
		ret = futex_unlock_pi(l->uaddr, l->op & FUTEX_PRIVATE_FLAG);
		l->unlock_ret = futex_result(ret);
	}
	__atomic_store_n(&l->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Start @l and wait until its TID is known. Returns 0 or an errno. */
static inline int pi_locker_start(struct pi_locker *l)
{
	pthread_attr_t attr;
	int ret;

	pthread_attr_init(&attr);
	if (l->rtprio > 0) {
		struct sched_param sp = { .sched_priority = l->rtprio };

		pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
		pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
		pthread_attr_setschedparam(&attr, &sp);
	}
	ret = start_thread(&l->thread, &attr, pi_locker_fn, l, &l->tid);
	pthread_attr_destroy(&attr);
	return ret;
}

static inline bool pi_locker_done(struct pi_locker *l)
{
	return __atomic_load_n(&l->done, __ATOMIC_ACQUIRE);
}

/*
 * A thread that takes @first, then blocks on @second until it gets it,
 * then releases both: an owner in the middle of a PI chain.
 */
struct chain_owner {
	uint32_t *first, *second;
	pthread_t thread;
	pid_t tid;
	int first_ret, second_ret, unlock_ret;	/* 0 or -errno */
	uint32_t second_word;			/* right after taking @second */
};

static void *chain_owner_fn(void *arg)
{
	struct chain_owner *o = arg;

	__atomic_store_n(&o->tid, sys_gettid(), __ATOMIC_RELEASE);
	o->first_ret = futex_result(futex_lock_pi(o->first, NULL, 0,
						  FUTEX_PRIVATE_FLAG));
	if (o->first_ret)
		return NULL;
	o->second_ret = futex_result(futex_lock_pi(o->second, NULL, 0,
						   FUTEX_PRIVATE_FLAG));
	o->second_word = futex_word(o->second);
	if (!o->second_ret)
		o->unlock_ret = futex_result(futex_unlock_pi(o->second,
							     FUTEX_PRIVATE_FLAG));
	o->unlock_ret |= futex_result(futex_unlock_pi(o->first,
						      FUTEX_PRIVATE_FLAG));
	return NULL;
}

/* Start @o and wait until its TID is known. Returns 0 or an errno. */
static inline int chain_owner_start(struct chain_owner *o)
{
	return start_thread(&o->thread, NULL, chain_owner_fn, o, &o->tid);
}

/* Join @thread, giving up after @ms (ETIMEDOUT: it hangs in the kernel). */
static inline int join_within(pthread_t thread, int ms)
{
	struct timespec end = ns_to_ts(now_ns(CLOCK_REALTIME) +
				       ms * NSEC_PER_MSEC);

	return pthread_timedjoin_np(thread, NULL, &end);
}

/*
 * Another waiter gave up while @stay still waits on @uaddr, which we own:
 * FUTEX_WAITERS must still be set, and our unlock must hand @uaddr to
 * @stay, which then unlocks it.
 */
static inline void assert_handed_to_stayer(struct __test_metadata *_metadata,
					   uint32_t *uaddr,
					   struct pi_locker *stay)
{
	ASSERT_FALSE(pi_locker_done(stay));
	ASSERT_EQ(sys_gettid(), futex_owner(uaddr));
	ASSERT_TRUE(futex_word(uaddr) & FUTEX_WAITERS) {
		TH_LOG("FUTEX_WAITERS lost while a waiter is queued: 0x%x",
		       futex_word(uaddr));
	}

	ASSERT_EQ(0, futex_result(futex_unlock_pi(uaddr, FUTEX_PRIVATE_FLAG)));
	ASSERT_EQ(0, join_within(stay->thread, 5000));
	ASSERT_EQ(0, stay->ret);
	ASSERT_EQ(stay->tid, stay->word & FUTEX_TID_MASK);
	ASSERT_EQ(0, stay->unlock_ret);
}

/* The tests' SIGUSR1 handler counts the signals it handled. */
static int signals_handled;

static inline void count_signal(int sig)
{
	__atomic_add_fetch(&signals_handled, 1, __ATOMIC_RELEASE);
}

/* ---- kernel log watcher (kmsg_watch.h) ---- */

/*
 * Sleep up to @seconds, but stop early once the kernel complains: on a
 * buggy debug kernel every leaving waiter logs a WARNING, and a stress
 * test would otherwise flood the console with thousands of them. The
 * test fails anyway (kmsg_watch_end()). Returns true on a clean sleep.
 */
static inline bool sleep_unless_kernel_complains(struct kmsg_watch *w,
						 int seconds)
{
	int64_t end = now_ns(CLOCK_MONOTONIC) + seconds * NSEC_PER_SEC;

	while (now_ns(CLOCK_MONOTONIC) < end) {
		sleep_us(100000);
		if (kmsg_watch_scan(w))
			return false;
	}
	return true;
}

#endif /* FUTEX_PI_H */
