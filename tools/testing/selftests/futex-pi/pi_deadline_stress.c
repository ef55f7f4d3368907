// SPDX-License-Identifier: GPL-2.0
/*
 * DESCRIPTION
 *	Unlocking a PI futex while waiters leave it, under load.
 *
 *	Waiters with deadlines a few microseconds away give up while the
 *	owner unlocks. With "futex/pi: Fix recursive rt_mutex waiter state"
 *	a leaving waiter removes its rt_waiter first and only then takes
 *	hb->lock, so futex_unlock_pi() can meet a queued futex_q without an
 *	rt_waiter. Without the follow-up "futex: Prevent the reuse of stale
 *	pi_state" the unlocker then writes 0 to the word but leaves that
 *	futex_q (and its pi_state, naming the old owner) queued; the next
 *	FUTEX_LOCK_PI after a user space acquisition attaches to the stale
 *	pi_state and fails with EINVAL. glibc's tst-robustpi8 and APR's
 *	testprocmutex hit it with a process-shared robust PI mutex and
 *	pthread_mutex_timedlock() deadlines 1 us ahead.
 *	On PREEMPT_RT kernels without the fix, the leaving waiters warn in
 *	the kernel log instead (debug assert on pi_blocked_on).
 *
 *	The kernel must:
 *	- give only 0 or ETIMEDOUT to timed FUTEX_LOCK_PI/FUTEX_LOCK_PI2
 *	  (and pthread_mutex_timedlock()): never EINVAL;
 *	- keep mutual exclusion (a plain counter incremented inside the lock
 *	  equals the number of acquisitions; nobody finds another inside);
 *	- leave the word 0 with nothing queued once everybody is gone.
 *
 *	FUTEX_PI_STRESS_SECONDS sets each test's duration (default 3),
 *	FUTEX_PI_STRESS_PROCS the number of processes (default 8).
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "futex_pi.h"

/* Watchdog: a stress test that outlives its duration by this much hangs. */
#define STRESS_GRACE_S	60

/* Protected by the lock under test. */
struct critical {
	int inside;
	long counter;		/* read and written, not incremented */
};

/*
 * Read-modify-write with a gap, so a second thread inside the lock loses
 * an update, and an "inside" flag to catch it directly.
 */
static void critical_section(struct critical *c, long *violations)
{
	long v;
	int i;

	if (__atomic_exchange_n(&c->inside, 1, __ATOMIC_ACQ_REL))
		(*violations)++;
	v = __atomic_load_n(&c->counter, __ATOMIC_RELAXED);
	for (i = 0; i < 50; i++)
		__asm__ __volatile__("" ::: "memory");
	__atomic_store_n(&c->counter, v + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&c->inside, 0, __ATOMIC_RELEASE);
}

struct stress {
	uint32_t futex;
	int stop;
	struct critical crit;
};

struct stresser {
	struct stress *s;
	pthread_t thread;
	int op;			/* 0: owner, locks without a deadline */
	clockid_t clock;
	long acquired, timedout, violations;
	long lock_failed, unlock_failed;
	uint64_t lock_errs, unlock_errs;	/* bit N: errno N was seen */
};

static void note_failure(long *failed, uint64_t *errs, int err)
{
	(*failed)++;
	if (err > 0 && err < 64)
		*errs |= 1ULL << err;
	else
		*errs |= 1ULL;	/* out of range: bit 0 */
}

/* "EINVAL,EPERM": the errnos in @errs, by name (a token for evidence). */
static const char *errno_names(uint64_t errs, char *buf, size_t len)
{
	const char *name;
	size_t n = 0;
	int e;

	buf[0] = '\0';
	for (e = 0; e < 64 && n < len; e++) {
		if (!(errs & (1ULL << e)))
			continue;
		name = e ? strerrorname_np(e) : "other";
		if (name)
			n += snprintf(buf + n, len - n, "%s%s", n ? "," : "", name);
		else
			n += snprintf(buf + n, len - n, "%s%d", n ? "," : "", e);
	}
	return buf;
}

/*
 * glibc-style lock: user space cmpxchg first, the kernel when contended.
 * Both return 0 or -errno.
 */
static int stress_lock(struct stresser *t, pid_t tid, int64_t timeout_ns)
{
	uint32_t zero = 0;
	struct timespec abs;

	if (__atomic_compare_exchange_n(&t->s->futex, &zero, tid, false,
					__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return 0;
	if (!t->op)
		return futex_result(futex_lock_pi(&t->s->futex, NULL, 0,
						  FUTEX_PRIVATE_FLAG));
	abs = ns_to_ts(now_ns(t->clock) + timeout_ns);
	return futex_result(futex_pi_op(&t->s->futex, t->op, &abs));
}

static int stress_unlock(struct stresser *t, pid_t tid)
{
	uint32_t expected = tid;

	if (__atomic_compare_exchange_n(&t->s->futex, &expected, 0, false,
					__ATOMIC_RELEASE, __ATOMIC_RELAXED))
		return 0;
	/* FUTEX_WAITERS is set */
	return futex_result(futex_unlock_pi(&t->s->futex, FUTEX_PRIVATE_FLAG));
}

static void *stresser_fn(void *arg)
{
	struct stresser *t = arg;
	pid_t tid = sys_gettid();
	long iter = 0;
	int ret, i;

	while (!__atomic_load_n(&t->s->stop, __ATOMIC_RELAXED)) {
		/* 1..20 us: many expire while the owner holds the lock. */
		ret = stress_lock(t, tid, (1 + iter++ % 20) * NSEC_PER_USEC);
		if (ret == -ETIMEDOUT) {
			t->timedout++;
			continue;
		}
		if (ret) {
			note_failure(&t->lock_failed, &t->lock_errs, -ret);
			continue;
		}
		t->acquired++;
		critical_section(&t->s->crit, &t->violations);
		if (!t->op) {
			/* The owner holds on so that waiters pile up. */
			for (i = 0; i < 2000; i++)
				__asm__ __volatile__("" ::: "memory");
		}
		ret = stress_unlock(t, tid);
		if (ret)
			note_failure(&t->unlock_failed, &t->unlock_errs, -ret);
	}
	return NULL;
}

FIXTURE(pi_deadline_stress) {
	struct kmsg_watch kmsg;
	int seconds;
};

FIXTURE_SETUP(pi_deadline_stress)
{
	self->seconds = stress_seconds();
	alarm(self->seconds + STRESS_GRACE_S);
	kmsg_watch_start(&self->kmsg);
}

FIXTURE_TEARDOWN(pi_deadline_stress)
{
	kmsg_watch_end(_metadata, &self->kmsg);
}

#define NR_WAITERS	4

/*
 * One owner thread locks and unlocks in a loop; NR_WAITERS threads take
 * the same private PI futex with deadlines 1..20 us ahead, half of them
 * with FUTEX_LOCK_PI (CLOCK_REALTIME), half with FUTEX_LOCK_PI2
 * (CLOCK_MONOTONIC) when available.
 */
TEST_F_TIMEOUT(pi_deadline_stress, unlock_vs_leaving_waiters, 3600 + STRESS_GRACE_S)
{
	struct stress *s = calloc(1, sizeof(*s));
	struct stresser t[NR_WAITERS + 1] = {};
	bool pi2 = futex_lock_op_supported(FUTEX_LOCK_PI2_PRIVATE);
	long acquired = 0, timedout = 0, failed = 0, violations = 0;
	char names[256];
	int i;

	ASSERT_NE(NULL, s);
	for (i = 0; i <= NR_WAITERS; i++) {
		t[i].s = s;
		t[i].op = !i ? 0 : (pi2 && i % 2) ? FUTEX_LOCK_PI2_PRIVATE :
						    FUTEX_LOCK_PI_PRIVATE;
		t[i].clock = t[i].op == FUTEX_LOCK_PI2_PRIVATE ?
			     CLOCK_MONOTONIC : CLOCK_REALTIME;
		ASSERT_EQ(0, pthread_create(&t[i].thread, NULL, stresser_fn, &t[i]));
	}
	if (!sleep_unless_kernel_complains(&self->kmsg, self->seconds))
		TH_LOG("the kernel complained, stopping early");
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i <= NR_WAITERS; i++) {
		ASSERT_EQ(0, join_within(t[i].thread, STRESS_GRACE_S * 1000 / 2));
		acquired += t[i].acquired;
		timedout += t[i].timedout;
		failed += t[i].lock_failed + t[i].unlock_failed;
		violations += t[i].violations;
		if (t[i].lock_failed)
			EVIDENCE("futex-errors", "op=lock thread=%d n=%ld errnos=%s",
				 i, t[i].lock_failed,
				 errno_names(t[i].lock_errs, names, sizeof(names)));
		if (t[i].unlock_failed)
			EVIDENCE("futex-errors", "op=unlock thread=%d n=%ld errnos=%s",
				 i, t[i].unlock_failed,
				 errno_names(t[i].unlock_errs, names, sizeof(names)));
	}
	TH_LOG("%ld acquisitions (owner %ld), %ld timeouts, %ld failures, %ld mutual exclusion violations",
	       acquired, t[0].acquired, timedout, failed, violations);

	/*
	 * Every check runs: one failure must not hide the others. A failed
	 * call is evidence above (which errno, how often), and so are two
	 * owners at once (seen by the flag, or as updates of the counter
	 * lost): with a stale pi_state the kernel can hand the futex over a
	 * live owner, whose unlock then fails with EPERM.
	 */
	if (violations || acquired != s->crit.counter)
		EVIDENCE("mutex-violations", "n=%ld lost_updates=%ld", violations,
			 acquired - s->crit.counter);
	ASSERT_GT(t[0].acquired, 0);
	ASSERT_GT(timedout, 0) {
		TH_LOG("no waiter ever left: the race was not exercised");
	}
	/* Nobody left queued: the word is 0 and a trylock finds no pi_state. */
	ASSERT_EQ(0, futex_word(&s->futex));
	ASSERT_EQ(0, futex_result(futex_trylock_pi(&s->futex)));
	ASSERT_EQ(sys_gettid(), futex_word(&s->futex));
	ASSERT_EQ(0, futex_result(futex_unlock_pi(&s->futex, FUTEX_PRIVATE_FLAG)));
	ASSERT_EQ(0, futex_word(&s->futex));
	free(s);
}

#define MAX_PROCS	64

struct proc_stats {
	long acquired, timedout, einval, failed, violations;
	uint64_t errs;		/* bit N: errno N was seen */
};

struct shared_area {
	pthread_mutex_t mutex;
	int stop;
	struct critical crit;
	struct proc_stats st[MAX_PROCS];
};

/* A child that dies with its parent; it stops when told or at @end_ns. */
static void timedlock_child(struct shared_area *sh, int idx, pid_t parent,
			    int64_t end_ns)
{
	struct proc_stats *st = &sh->st[idx];
	struct timespec abs;
	int ret;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED) &&
	       now_ns(CLOCK_MONOTONIC) < end_ns) {
		/* Like tst-robustpi8: a deadline 1 us ahead. */
		abs = ns_to_ts(now_ns(CLOCK_REALTIME) + NSEC_PER_USEC);
		ret = pthread_mutex_timedlock(&sh->mutex, &abs);
		switch (ret) {
		case 0:
			break;
		case ETIMEDOUT:
			st->timedout++;
			continue;
		case EINVAL:
			st->einval++;
			continue;
		case EOWNERDEAD:	/* nobody dies here: still a failure */
			pthread_mutex_consistent(&sh->mutex);
			note_failure(&st->failed, &st->errs, ret);
			break;
		default:
			note_failure(&st->failed, &st->errs, ret);
			continue;
		}
		st->acquired++;
		critical_section(&sh->crit, &st->violations);
		ret = pthread_mutex_unlock(&sh->mutex);
		if (ret)
			note_failure(&st->failed, &st->errs, ret);
	}
	_exit(0);
}

static int nr_procs(void)
{
	const char *env = getenv("FUTEX_PI_STRESS_PROCS");
	int n = env ? atoi(env) : 8;

	return n < 2 ? 2 : n > MAX_PROCS ? MAX_PROCS : n;
}

/*
 * Processes share a robust, process-shared PI pthread mutex in a
 * MAP_SHARED mapping and take it with pthread_mutex_timedlock() and 1 us
 * deadlines. Any EINVAL is the stale pi_state being reused.
 */
TEST_F_TIMEOUT(pi_deadline_stress, shared_robust_timedlock, 3600 + STRESS_GRACE_S)
{
	int n = nr_procs(), i, status, alive;
	struct proc_stats sum = {};
	pid_t parent = getpid();
	char names[256];
	pthread_mutexattr_t attr;
	struct shared_area *sh;
	pid_t pids[MAX_PROCS];
	int64_t end, give_up;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	ASSERT_EQ(0, pthread_mutexattr_init(&attr));
	ASSERT_EQ(0, pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED));
	ASSERT_EQ(0, pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT));
	ASSERT_EQ(0, pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST));
	ASSERT_EQ(0, pthread_mutex_init(&sh->mutex, &attr));

	end = now_ns(CLOCK_MONOTONIC) + self->seconds * NSEC_PER_SEC;
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		ASSERT_GE(pids[i], 0);
		if (!pids[i])
			timedlock_child(sh, i, parent, end);
	}

	if (!sleep_unless_kernel_complains(&self->kmsg, self->seconds))
		TH_LOG("the kernel complained, stopping early");
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);

	/* Reap everybody; a child that does not stop hangs in the kernel. */
	give_up = now_ns(CLOCK_MONOTONIC) + STRESS_GRACE_S / 2 * NSEC_PER_SEC;
	for (alive = n; alive && now_ns(CLOCK_MONOTONIC) < give_up; ) {
		for (i = 0; i < n; i++) {
			if (pids[i] && waitpid(pids[i], &status, WNOHANG) == pids[i]) {
				EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
				pids[i] = 0;
				alive--;
			}
		}
		sleep_us(10000);
	}
	for (i = 0; i < n; i++)
		if (pids[i])
			kill(pids[i], SIGKILL);
	ASSERT_EQ(0, alive);

	for (i = 0; i < n; i++) {
		sum.acquired += sh->st[i].acquired;
		sum.timedout += sh->st[i].timedout;
		sum.einval += sh->st[i].einval;
		sum.failed += sh->st[i].failed;
		sum.violations += sh->st[i].violations;
		if (sh->st[i].failed)
			EVIDENCE("futex-errors", "op=timedlock process=%d n=%ld errnos=%s",
				 i, sh->st[i].failed,
				 errno_names(sh->st[i].errs, names, sizeof(names)));
	}
	TH_LOG("%d processes: %ld acquisitions, %ld timeouts, %ld EINVAL, %ld mutual exclusion violations",
	       n, sum.acquired, sum.timedout, sum.einval, sum.violations);
	if (sum.einval)
		EVIDENCE("futex-errors", "op=timedlock processes=%d n=%ld errnos=EINVAL",
			 n, sum.einval);
	if (sum.violations || sum.acquired != sh->crit.counter)
		EVIDENCE("mutex-violations", "n=%ld lost_updates=%ld", sum.violations,
			 sum.acquired - sh->crit.counter);
	ASSERT_GT(sum.acquired, 0);
	ASSERT_GT(sum.timedout, 0) {
		TH_LOG("no waiter ever left: the race was not exercised");
	}
	/* Free, consistent, nobody queued. */
	ASSERT_EQ(0, pthread_mutex_trylock(&sh->mutex));
	ASSERT_EQ(0, pthread_mutex_unlock(&sh->mutex));
	munmap(sh, sizeof(*sh));
}

/* Last: the kernel stayed quiet for the whole program. */
KERNEL_LOG_CLEAN_TEST()

TEST_HARNESS_MAIN
