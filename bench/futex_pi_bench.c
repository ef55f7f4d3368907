// SPDX-License-Identifier: GPL-2.0
/*
 * DESCRIPTION
 *	Runtime cost of "futex/pi: Fix recursive rt_mutex waiter state"
 *	(and the stale pi_state follow-up, and the sched_submit_work()
 *	series before them), measured by running this program on an
 *	unpatched and a patched kernel booted alternately.
 *
 *	The fix moves rt_mutex_cleanup_proxy_lock() before hb->lock in the
 *	error path of futex_lock_pi(), and makes futex_unlock_pi() tolerate
 *	a top waiter that is leaving (its rt_waiter gone, its futex_q still
 *	queued). Both are slow paths, so each mode below drives one of them
 *	hard, or checks that the fast paths did not get slower:
 *
 *	lockunlock	N threads (-t, default 1,2,4) lock and unlock one
 *			private PI futex as glibc does: cmpxchg 0 -> TID in
 *			user space, FUTEX_LOCK_PI / FUTEX_UNLOCK_PI only
 *			on contention. Figures: lock+unlock pairs per second,
 *			how many locks and unlocks per second entered the
 *			kernel, and the share of locks that did. Then the
 *			same with every lock and unlock a syscall
 *			(_syscall): the kernel paths alone, without the
 *			user-space streaks that make the first figure
 *			noisy. No waiter ever times out: this is the control.
 *	timeout_heavy	P processes (-p, default 4) share a PI futex in
 *			MAP_SHARED memory and take it with FUTEX_LOCK_PI
 *			and absolute CLOCK_REALTIME deadlines 5 us ahead,
 *			holding it for 20 us. Most attempts time out through
 *			rt_mutex_cleanup_proxy_lock(), and unlocks meet
 *			waiters that are just leaving. Figures: successful
 *			locks/s, timeouts/s, and the numbers of EINVAL
 *			returns (the stale pi_state regression of the first
 *			version of the fix) and of EDEADLK returns (seen
 *			once on the unpatched kernel); counted, not fatal.
 *	timeout_latency	One thread holds a PI futex, another waits for it
 *			with FUTEX_LOCK_PI2 (CLOCK_MONOTONIC, absolute) and
 *			a deadline 200 us ahead. Figure: time from the
 *			deadline to the return of ETIMEDOUT, in ns, which
 *			includes the cleanup path the fix reordered.
 *	handover	The owner unlocks while a waiter is blocked in
 *			FUTEX_LOCK_PI. Figure: time from just before
 *			FUTEX_UNLOCK_PI to the waiter's return with the lock,
 *			in ns: the futex_unlock_pi() path the fix touched.
 *	kmutex, krwsem	N threads (-t) contend for a kernel mutex or
 *			rw_semaphore through plain syscalls, not futexes:
 *			the rest of the series changes the slow path of
 *			every sleeping lock on RT. See the modes' comment.
 *
 *	Each mode runs for -d seconds (default 3; lockunlock splits it among
 *	its thread counts, twice: glibc-style and syscall-only), so the
 *	default run takes about 21 s. Results are
 *	lines "bench: <name> <value> <unit>", latencies as _p50, _p99, _max,
 *	_min and _samples; comments start with '#'. The
 *	exit code is 0, or 1 when a syscall returned an error it must not
 *	return (the error is printed) or a mode got stuck.
 *
 *	The program is meant for a minimal guest (static, no shell, /proc
 *	mounted) under TCG as well as for a host.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2		13
#endif
#if !defined(SYS_futex) && defined(SYS_futex_time64)
#define SYS_futex SYS_futex_time64
#endif

#define NSEC_PER_USEC		1000LL
#define NSEC_PER_SEC		1000000000LL

#define MAX_THREADS		64
#define MAX_PROCS		64

/*
 * timeout_heavy: the deadline is shorter than the hold time, so a waiter
 * that arrives while the lock is held nearly always times out. Under TCG
 * entering the syscall alone can take longer than 5 us; such a deadline
 * has passed before the waiter sleeps, but futex_lock_pi() arms the timer
 * only after __rt_mutex_start_proxy_lock() enqueued the rt_waiter, so the
 * attempt still goes through rt_mutex_wait_proxy_lock() and the cleanup.
 */
#define TH_DEADLINE_NS		(5 * NSEC_PER_USEC)
#define TH_HOLD_NS		(20 * NSEC_PER_USEC)

/*
 * timeout_latency: far enough ahead that the waiter is normally asleep on
 * the rt_mutex when the timer fires, so a sample is an hrtimer wakeup
 * followed by the cleanup path; short enough for thousands of samples per
 * second.
 */
#define TL_DEADLINE_NS		(200 * NSEC_PER_USEC)

/*
 * handover: after FUTEX_WAITERS shows up the waiter still has to enqueue
 * its rt_waiter and schedule out; this sleep covers that, and the /proc
 * state check confirms it where /proc is readable.
 */
#define HO_SETTLE_NS		(50 * NSEC_PER_USEC)

/* Extra time a mode may take beyond -d before it counts as stuck. */
#define WATCHDOG_SLACK_S	20

static double duration = 3.0;		/* seconds per mode */
static int nr_threads[MAX_THREADS] = { 1, 2, 4 };
static int nr_thread_counts = 3;
static int nr_procs = 4;
static const char *cur_mode = "setup";

/* ---- output: one write() per line, so no stdio buffer crosses fork() ---- */

static void out(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (len > (int)sizeof(buf) - 1)
		len = sizeof(buf) - 1;
	if (write(STDOUT_FILENO, buf, len) < 0)
		_exit(1);
}

/* An unexpected result: say what and where, exit 1 (from any thread). */
static void __attribute__((noreturn)) die(const char *what, int err)
{
	out("# futex_pi_bench: error: %s: %s: %s\n", cur_mode, what,
	    err ? strerror(err) : "unexpected result");
	_exit(1);
}

static void figure(const char *name, long long value, const char *unit)
{
	out("bench: %s %lld %s\n", name, value, unit);
}

/* A mode that does not finish in time is a failure, not a hang. */
static void watchdog(int sig)
{
	static const char pre[] = "# futex_pi_bench: error: ";
	static const char post[] = ": stuck\n";
	struct iovec iov[] = {
		{ (void *)pre, sizeof(pre) - 1 },
		{ (void *)cur_mode, strlen(cur_mode) },
		{ (void *)post, sizeof(post) - 1 },
	};

	(void)sig;
	if (writev(STDOUT_FILENO, iov, 3) < 0)
		_exit(1);
	_exit(1);
}

static void watchdog_arm(void)
{
	alarm(2 * (unsigned int)duration + WATCHDOG_SLACK_S);
}

/* ---- time ---- */

static int64_t now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static struct timespec ns_to_ts(int64_t ns)
{
	struct timespec ts = {
		.tv_sec = ns / NSEC_PER_SEC,
		.tv_nsec = ns % NSEC_PER_SEC,
	};

	return ts;
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts = ns_to_ts(ns);

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Busy-wait: a lock holder that sleeps would change what is measured. */
static void spin_ns(int64_t ns)
{
	int64_t end = now_ns(CLOCK_MONOTONIC) + ns;

	while (now_ns(CLOCK_MONOTONIC) < end)
		;
}

/* ---- futex ---- */

static pid_t sys_gettid(void)
{
	return syscall(SYS_gettid);
}

static uint32_t load(uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* The PI ops and FUTEX_WAIT/WAKE; 0 (or a count) or -errno. */
static long sys_futex(uint32_t *uaddr, int op, uint32_t val,
		      const struct timespec *timeout)
{
	long ret = syscall(SYS_futex, uaddr, op, val, timeout, NULL, 0);

	return ret == -1 ? -errno : ret;
}

/*
 * Lock as glibc's pthread_mutex_(timed)lock does for PTHREAD_PRIO_INHERIT:
 * the kernel only sees contended locks. @priv is 0 or FUTEX_PRIVATE_FLAG,
 * @abs an absolute CLOCK_REALTIME deadline or NULL.
 */
static bool pi_lock_fast(uint32_t *f, uint32_t tid)
{
	uint32_t zero = 0;

	return __atomic_compare_exchange_n(f, &zero, tid, false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static int pi_lock(uint32_t *f, uint32_t tid, int priv,
		   const struct timespec *abs)
{
	if (pi_lock_fast(f, tid))
		return 0;
	return sys_futex(f, FUTEX_LOCK_PI | priv, 0, abs);
}

/* The kernel only sees unlocks with FUTEX_WAITERS set. */
static int pi_unlock(uint32_t *f, uint32_t tid, int priv)
{
	uint32_t val = tid;

	if (__atomic_compare_exchange_n(f, &val, 0, false,
					__ATOMIC_RELEASE, __ATOMIC_RELAXED))
		return 0;
	return sys_futex(f, FUTEX_UNLOCK_PI | priv, 0, NULL);
}

/* After a successful lock the word must name us, or the kernel erred. */
static void check_owner(uint32_t *f, uint32_t tid)
{
	if ((load(f) & FUTEX_TID_MASK) != tid)
		die("futex word does not name the new owner", 0);
}

/* A sequence counter to hand turns between threads without spinning. */
static void seq_post(uint32_t *seq)
{
	long ret;

	__atomic_add_fetch(seq, 1, __ATOMIC_RELEASE);
	ret = sys_futex(seq, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL);
	if (ret < 0)
		die("FUTEX_WAKE", -ret);
}

static uint32_t seq_wait(uint32_t *seq, uint32_t old)
{
	uint32_t cur;
	long ret;

	while ((cur = load(seq)) == old) {
		ret = sys_futex(seq, FUTEX_WAIT_PRIVATE, old, NULL);
		if (ret < 0 && ret != -EAGAIN && ret != -EINTR)
			die("FUTEX_WAIT", -ret);
	}
	return cur;
}

/* State letter of a thread of ours from /proc, or 0 if unreadable. */
static char thread_state(pid_t tid)
{
	char path[64], buf[512], *p;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	p = strrchr(buf, ')');		/* comm may contain anything */
	return p && p[1] == ' ' ? p[2] : 0;
}

/* ---- statistics ---- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void report_latency(const char *name, int64_t *s, size_t n)
{
	char key[64];

	if (!n)
		die("no samples", 0);
	qsort(s, n, sizeof(*s), cmp_i64);
	snprintf(key, sizeof(key), "%s_p50", name);
	figure(key, s[n / 2], "ns");
	snprintf(key, sizeof(key), "%s_p99", name);
	figure(key, s[n * 99 / 100], "ns");
	snprintf(key, sizeof(key), "%s_max", name);
	figure(key, s[n - 1], "ns");
	snprintf(key, sizeof(key), "%s_min", name);
	figure(key, s[0], "ns");
	snprintf(key, sizeof(key), "%s_samples", name);
	figure(key, n, "count");
}

static int64_t *alloc_samples(int64_t period_ns, size_t *cap)
{
	int64_t *s;

	*cap = (size_t)(duration * NSEC_PER_SEC / period_ns) + 16;
	s = malloc(*cap * sizeof(*s));
	if (!s)
		die("malloc", ENOMEM);
	return s;
}

/* ---- mode lockunlock ---- */

static struct {
	uint32_t futex;
	int stop;
	bool syscall_only;	/* every lock and unlock a futex syscall */
	pthread_barrier_t start;
} lu;

struct lu_worker {
	pthread_t thread;
	uint64_t ops, slow, slow_unlocks;
} __attribute__((aligned(64)));	/* no false sharing of the counters */

static void *lu_thread(void *arg)
{
	struct lu_worker *w = arg;
	uint32_t tid = sys_gettid();
	uint64_t ops = 0, slow = 0, slow_unlocks = 0;
	uint32_t val;
	int ret;

	pthread_barrier_wait(&lu.start);
	while (!__atomic_load_n(&lu.stop, __ATOMIC_RELAXED)) {
		if (lu.syscall_only || !pi_lock_fast(&lu.futex, tid)) {
			ret = sys_futex(&lu.futex,
					FUTEX_LOCK_PI_PRIVATE, 0, NULL);
			if (ret)
				die("FUTEX_LOCK_PI", -ret);
			slow++;
		}
		check_owner(&lu.futex, tid);
		val = tid;
		if (lu.syscall_only ||
		    !__atomic_compare_exchange_n(&lu.futex, &val, 0, false,
						 __ATOMIC_RELEASE,
						 __ATOMIC_RELAXED)) {
			ret = sys_futex(&lu.futex,
					FUTEX_UNLOCK_PI_PRIVATE, 0, NULL);
			if (ret)
				die("FUTEX_UNLOCK_PI", -ret);
			slow_unlocks++;
		}
		ops++;
	}
	w->ops = ops;
	w->slow = slow;
	w->slow_unlocks = slow_unlocks;
	return NULL;
}

/* One run of @n threads for @secs seconds; returns the figures' totals. */
static void lockunlock_run(int n, double secs, uint64_t *ops, uint64_t *slow,
			   uint64_t *slow_unlocks, int64_t *ns)
{
	static struct lu_worker w[MAX_THREADS];
	int64_t t0, t1;
	int i, err;

	lu.futex = 0;
	lu.stop = 0;
	pthread_barrier_init(&lu.start, NULL, n + 1);
	for (i = 0; i < n; i++) {
		w[i].ops = w[i].slow = w[i].slow_unlocks = 0;
		err = pthread_create(&w[i].thread, NULL, lu_thread, &w[i]);
		if (err)
			die("pthread_create", err);
	}
	pthread_barrier_wait(&lu.start);
	t0 = now_ns(CLOCK_MONOTONIC);
	sleep_ns(secs * NSEC_PER_SEC);
	__atomic_store_n(&lu.stop, 1, __ATOMIC_RELAXED);
	t1 = now_ns(CLOCK_MONOTONIC);
	*ops = *slow = *slow_unlocks = 0;
	for (i = 0; i < n; i++) {
		pthread_join(w[i].thread, NULL);
		*ops += w[i].ops;
		*slow += w[i].slow;
		*slow_unlocks += w[i].slow_unlocks;
	}
	pthread_barrier_destroy(&lu.start);
	if (lu.futex)
		die("futex not free after the run", 0);
	*ns = t1 - t0;
}

static void mode_lockunlock(void)
{
	double each = duration / nr_thread_counts;
	uint64_t ops, slow, slow_unlocks;
	char key[40];
	int64_t ns;
	int k, n;

	for (k = 0; k < nr_thread_counts; k++) {
		n = nr_threads[k];
		lu.syscall_only = false;
		lockunlock_run(n, each, &ops, &slow, &slow_unlocks, &ns);
		snprintf(key, sizeof(key), "lockunlock_t%d", n);
		figure(key, ops * NSEC_PER_SEC / ns, "ops/s");
		/*
		 * How many of them entered the kernel: contended runs flip
		 * between a fast-path streak of one thread and a convoy
		 * through FUTEX_LOCK_PI, and this tells which one was timed.
		 * An unlock enters the kernel only when FUTEX_WAITERS is set,
		 * and then hands the lock to the top waiter.
		 */
		snprintf(key, sizeof(key), "lockunlock_t%d_kernel", n);
		figure(key, slow * NSEC_PER_SEC / ns, "locks/s");
		snprintf(key, sizeof(key), "lockunlock_t%d_kernel_unlocks", n);
		figure(key, slow_unlocks * NSEC_PER_SEC / ns, "unlocks/s");
		snprintf(key, sizeof(key), "lockunlock_t%d_kernel_share", n);
		figure(key, ops ? slow * 1000 / ops : 0, "permille");

		/*
		 * The same with every lock and unlock a syscall: no
		 * user-space streaks, so this is the throughput of
		 * futex_lock_pi() and futex_unlock_pi() themselves.
		 */
		lu.syscall_only = true;
		lockunlock_run(n, each, &ops, &slow, &slow_unlocks, &ns);
		snprintf(key, sizeof(key), "lockunlock_t%d_syscall", n);
		figure(key, ops * NSEC_PER_SEC / ns, "ops/s");
	}
}

/* ---- mode timeout_heavy ---- */

struct th_count {
	uint64_t locks, timeouts, einval, edeadlk;
} __attribute__((aligned(64)));

struct th_shared {
	uint32_t futex;
	uint32_t start;
	int stop;
	struct th_count c[];
};

static void th_child(struct th_shared *sh, struct th_count *c)
{
	uint32_t tid = sys_gettid();
	struct timespec ts;
	int ret;

	/* Never outlive the parent, whatever stops it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	while (!load(&sh->start))
		sys_futex(&sh->start, FUTEX_WAIT, 0, NULL);

	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
		ts = ns_to_ts(now_ns(CLOCK_REALTIME) + TH_DEADLINE_NS);
		ret = pi_lock(&sh->futex, tid, 0, &ts);
		switch (ret) {
		case 0:
			check_owner(&sh->futex, tid);
			spin_ns(TH_HOLD_NS);
			ret = pi_unlock(&sh->futex, tid, 0);
			if (ret)
				die("FUTEX_UNLOCK_PI", -ret);
			c->locks++;
			break;
		case -ETIMEDOUT:
			c->timeouts++;
			break;
		case -EINVAL:
			/* stale pi_state: e626cb02ee83 fixed it upstream */
			c->einval++;
			break;
		case -EDEADLK:
			/*
			 * No deadlock is possible on one futex: seen once on
			 * an unpatched 6.1-rt kernel (BENCHMARKS.md). Counted
			 * and reported, like EINVAL.
			 */
			c->edeadlk++;
			break;
		default:
			die("FUTEX_LOCK_PI", -ret);
		}
	}
	_exit(0);
}

static void mode_timeout_heavy(void)
{
	size_t size = sizeof(struct th_shared) +
		      nr_procs * sizeof(struct th_count);
	struct th_count sum = { 0 };
	pid_t pid[MAX_PROCS];
	struct th_shared *sh;
	int64_t t0, t1;
	int i, status;

	sh = mmap(NULL, size, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap", errno);

	for (i = 0; i < nr_procs; i++) {
		pid[i] = fork();
		if (pid[i] < 0)
			die("fork", errno);
		if (!pid[i])
			th_child(sh, &sh->c[i]);
	}
	__atomic_store_n(&sh->start, 1, __ATOMIC_RELEASE);
	sys_futex(&sh->start, FUTEX_WAKE, INT32_MAX, NULL);
	t0 = now_ns(CLOCK_MONOTONIC);
	sleep_ns(duration * NSEC_PER_SEC);
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
	t1 = now_ns(CLOCK_MONOTONIC);

	for (i = 0; i < nr_procs; i++) {
		if (waitpid(pid[i], &status, 0) != pid[i])
			die("waitpid", errno);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			die("child failed", 0);	/* it printed why */
		sum.locks += sh->c[i].locks;
		sum.timeouts += sh->c[i].timeouts;
		sum.einval += sh->c[i].einval;
		sum.edeadlk += sh->c[i].edeadlk;
	}
	/* After an EINVAL or EDEADLK the futex state is suspect anyway. */
	if (sh->futex && !sum.einval && !sum.edeadlk)
		die("futex not free after the run", 0);
	munmap(sh, size);

	figure("timeout_heavy_locks", sum.locks * NSEC_PER_SEC / (t1 - t0),
	       "locks/s");
	figure("timeout_heavy_timeouts",
	       sum.timeouts * NSEC_PER_SEC / (t1 - t0), "timeouts/s");
	figure("timeout_heavy_einval", sum.einval, "count");
	figure("timeout_heavy_edeadlk", sum.edeadlk, "count");
}

/* ---- mode timeout_latency ---- */

static struct {
	uint32_t futex;
	int64_t *s;
	size_t n, cap;
} tl;

static void *tl_thread(void *arg)
{
	int op = FUTEX_LOCK_PI2 | FUTEX_PRIVATE_FLAG;
	clockid_t clock = CLOCK_MONOTONIC;
	int64_t end, deadline, t;
	struct timespec ts;
	long ret;

	(void)arg;
	end = now_ns(CLOCK_MONOTONIC) + duration * NSEC_PER_SEC;
	while (tl.n < tl.cap && now_ns(CLOCK_MONOTONIC) < end) {
		/* Straight to the kernel: the lock is held, cmpxchg fails. */
		deadline = now_ns(clock) + TL_DEADLINE_NS;
		ts = ns_to_ts(deadline);
		ret = sys_futex(&tl.futex, op, 0, &ts);
		t = now_ns(clock);
		if (ret == -ENOSYS && clock == CLOCK_MONOTONIC) {
			/* before 5.14: FUTEX_LOCK_PI, CLOCK_REALTIME only */
			out("# futex_pi_bench: no FUTEX_LOCK_PI2, "
			    "using FUTEX_LOCK_PI and CLOCK_REALTIME\n");
			op = FUTEX_LOCK_PI | FUTEX_PRIVATE_FLAG;
			clock = CLOCK_REALTIME;
			continue;
		}
		if (ret != -ETIMEDOUT)
			die("FUTEX_LOCK_PI2 on a held futex", ret ? -ret : 0);
		tl.s[tl.n++] = t - deadline;
	}
	return NULL;
}

static void mode_timeout_latency(void)
{
	uint32_t tid = sys_gettid();
	pthread_t thread;
	int ret;

	tl.futex = 0;
	tl.n = 0;
	tl.s = alloc_samples(TL_DEADLINE_NS, &tl.cap);
	if (pi_lock(&tl.futex, tid, FUTEX_PRIVATE_FLAG, NULL))
		die("lock a free futex", 0);
	ret = pthread_create(&thread, NULL, tl_thread, NULL);
	if (ret)
		die("pthread_create", ret);
	pthread_join(thread, NULL);
	/* The waiter left: FUTEX_WAITERS may remain, the kernel clears it. */
	ret = pi_unlock(&tl.futex, tid, FUTEX_PRIVATE_FLAG);
	if (ret)
		die("FUTEX_UNLOCK_PI", -ret);
	report_latency("timeout_latency", tl.s, tl.n);
	free(tl.s);
}

/* ---- mode handover ---- */

static struct {
	uint32_t futex;
	uint32_t go, done;	/* turns: owner -> waiter, waiter -> owner */
	int stop;
	pid_t waiter_tid;
	int64_t t0;		/* owner's clock right before the unlock */
	int64_t *s;
	size_t n;
} ho;

static void *ho_thread(void *arg)
{
	uint32_t tid = sys_gettid();
	uint32_t go = 0;
	int64_t t1;
	int ret;

	(void)arg;
	__atomic_store_n(&ho.waiter_tid, tid, __ATOMIC_RELEASE);
	seq_post(&ho.done);
	for (;;) {
		go = seq_wait(&ho.go, go);
		if (__atomic_load_n(&ho.stop, __ATOMIC_ACQUIRE))
			break;
		ret = pi_lock(&ho.futex, tid, FUTEX_PRIVATE_FLAG, NULL);
		t1 = now_ns(CLOCK_MONOTONIC);
		if (ret)
			die("FUTEX_LOCK_PI", -ret);
		check_owner(&ho.futex, tid);
		/* The owner stored t0 before FUTEX_UNLOCK_PI let us in. */
		ho.s[ho.n++] = t1 - __atomic_load_n(&ho.t0, __ATOMIC_ACQUIRE);
		ret = pi_unlock(&ho.futex, tid, FUTEX_PRIVATE_FLAG);
		if (ret)
			die("FUTEX_UNLOCK_PI", -ret);
		seq_post(&ho.done);
	}
	return NULL;
}

/*
 * Return once the waiter sleeps on the rt_mutex: FUTEX_WAITERS is set in
 * futex_lock_pi_atomic() before the waiter blocks, so also give it time to
 * schedule out and, if /proc tells, wait for 'S' (an rtlock wait on hb->lock
 * under PREEMPT_RT shows as 'D', the rt_mutex wait as 'S').
 */
static void ho_wait_blocked(void)
{
	while (!(load(&ho.futex) & FUTEX_WAITERS))
		sched_yield();
	sleep_ns(HO_SETTLE_NS);
	for (;;) {
		char state = thread_state(ho.waiter_tid);

		if (!state || state == 'S')
			return;
		sleep_ns(HO_SETTLE_NS);
	}
}

static void mode_handover(void)
{
	uint32_t tid = sys_gettid();
	uint32_t done = 0;
	pthread_t thread;
	size_t cap;
	int64_t end;
	int ret;

	memset(&ho, 0, sizeof(ho));
	ho.s = alloc_samples(HO_SETTLE_NS, &cap);
	ret = pthread_create(&thread, NULL, ho_thread, NULL);
	if (ret)
		die("pthread_create", ret);
	done = seq_wait(&ho.done, done);	/* waiter_tid is known */

	end = now_ns(CLOCK_MONOTONIC) + duration * NSEC_PER_SEC;
	while (ho.n < cap && now_ns(CLOCK_MONOTONIC) < end) {
		ret = pi_lock(&ho.futex, tid, FUTEX_PRIVATE_FLAG, NULL);
		if (ret)
			die("FUTEX_LOCK_PI", -ret);
		check_owner(&ho.futex, tid);
		seq_post(&ho.go);
		ho_wait_blocked();
		__atomic_store_n(&ho.t0, now_ns(CLOCK_MONOTONIC),
				 __ATOMIC_RELEASE);
		ret = pi_unlock(&ho.futex, tid, FUTEX_PRIVATE_FLAG);
		if (ret)
			die("FUTEX_UNLOCK_PI", -ret);
		done = seq_wait(&ho.done, done);
	}
	__atomic_store_n(&ho.stop, 1, __ATOMIC_RELEASE);
	seq_post(&ho.go);
	pthread_join(thread, NULL);
	report_latency("handover_latency", ho.s, ho.n);
	free(ho.s);
}

/*
 * ---- modes kmutex and krwsem: sleeping locks that are not futexes ----
 *
 * The rest of the series (the sched_submit_work() part) changes the slow
 * path of every rtmutex-based lock on PREEMPT_RT, not just of PI futexes.
 * These modes make N threads (-t) contend for a kernel lock through plain
 * syscalls:
 *
 * kmutex	read() of 4 KiB through one shared descriptor of a 64 KiB
 *		file in /tmp, and lseek() back at its end: both take the
 *		file's f_pos_lock, a mutex (so an rtmutex on RT) whenever
 *		the descriptor table is shared, which it is between threads.
 * krwsem	mmap() of one anonymous page, a write to it (a page fault)
 *		and munmap(): mmap_lock, an rw_semaphore, taken for writing
 *		twice per operation, and on 6.1 for reading in the fault
 *		(6.12 handles the fault under the per-VMA lock instead).
 *
 * Figures: operations per second, and the voluntary context switches per
 * thousand operations (getrusage(RUSAGE_THREAD)): how often a thread
 * slept. Any sleep counts (an rtlock wait as well), but with no sleeps at
 * all the figure would not measure what the series changed.
 */

#define KM_FILE_SIZE		(64 * 1024)
#define KM_CHUNK		4096

static struct {
	int fd;
	int stop;
	bool rwsem;
	pthread_barrier_t start;
} km;

struct km_worker {
	pthread_t thread;
	uint64_t ops, sleeps;
} __attribute__((aligned(64)));

static void km_op_mutex(void)
{
	static __thread char buf[KM_CHUNK];
	ssize_t n = read(km.fd, buf, sizeof(buf));

	if (n < 0)
		die("read", errno);
	if (n == 0 && lseek(km.fd, 0, SEEK_SET) < 0)
		die("lseek", errno);
}

static void km_op_rwsem(void)
{
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap", errno);
	p[0] = 1;
	/* munmap() gets p, so the compiler cannot drop the store. */
	if (munmap(p, 4096))
		die("munmap", errno);
}

static void *km_thread(void *arg)
{
	struct km_worker *w = arg;
	struct rusage r0, r1;
	uint64_t ops = 0;

	pthread_barrier_wait(&km.start);
	if (getrusage(RUSAGE_THREAD, &r0))
		die("getrusage", errno);
	while (!__atomic_load_n(&km.stop, __ATOMIC_RELAXED)) {
		if (km.rwsem)
			km_op_rwsem();
		else
			km_op_mutex();
		ops++;
	}
	if (getrusage(RUSAGE_THREAD, &r1))
		die("getrusage", errno);
	w->ops = ops;
	w->sleeps = r1.ru_nvcsw - r0.ru_nvcsw;
	return NULL;
}

static void kernel_lock_run(const char *name, bool rwsem)
{
	static struct km_worker w[MAX_THREADS];
	double each = duration / nr_thread_counts;
	uint64_t ops, sleeps;
	int64_t t0, t1;
	char key[40];
	int i, k, n, err;

	km.rwsem = rwsem;
	for (k = 0; k < nr_thread_counts; k++) {
		n = nr_threads[k];
		km.stop = 0;
		err = pthread_barrier_init(&km.start, NULL, n + 1);
		if (err)
			die("pthread_barrier_init", err);
		for (i = 0; i < n; i++) {
			err = pthread_create(&w[i].thread, NULL, km_thread,
					     &w[i]);
			if (err)
				die("pthread_create", err);
		}
		pthread_barrier_wait(&km.start);
		t0 = now_ns(CLOCK_MONOTONIC);
		sleep_ns(each * NSEC_PER_SEC);
		__atomic_store_n(&km.stop, 1, __ATOMIC_RELAXED);
		t1 = now_ns(CLOCK_MONOTONIC);
		ops = sleeps = 0;
		for (i = 0; i < n; i++) {
			pthread_join(w[i].thread, NULL);
			ops += w[i].ops;
			sleeps += w[i].sleeps;
		}
		pthread_barrier_destroy(&km.start);
		snprintf(key, sizeof(key), "%s_t%d", name, n);
		figure(key, ops * NSEC_PER_SEC / (t1 - t0), "ops/s");
		snprintf(key, sizeof(key), "%s_t%d_sleeps", name, n);
		figure(key, ops ? sleeps * 1000 / ops : 0, "permille");
	}
}

/*
 * A file opened by path, not a memfd: only do_dentry_open() sets
 * FMODE_ATOMIC_POS, which makes read() and lseek() take f_pos_lock.
 */
static void mode_kmutex(void)
{
	static char buf[KM_FILE_SIZE];
	char path[] = "/tmp/futex_pi_bench.XXXXXX";
	ssize_t n;

	km.fd = mkstemp(path);
	if (km.fd < 0)
		die("mkstemp in /tmp", errno);
	unlink(path);
	memset(buf, 'x', sizeof(buf));
	n = write(km.fd, buf, sizeof(buf));
	if (n != sizeof(buf))
		die("write", n < 0 ? errno : 0);
	kernel_lock_run("kmutex", false);
	close(km.fd);
}

static void mode_krwsem(void)
{
	kernel_lock_run("krwsem", true);
}

/* ---- main ---- */

/*
 * -S POLICY: run the kernel's softirq threads (ktimers/N on 6.1-rt,
 * ksoftirqd/N) as SCHED_OTHER ("other") or SCHED_FIFO 1 ("fifo"). On
 * PREEMPT_RT the timers of SCHED_OTHER tasks, futex timeouts included,
 * expire in one of them, so their policy decides whether a timeout
 * preempts the task that runs when it fires: an experiment, not a default.
 * The policy is not restored at exit, and it applies to every softirq,
 * not only to timers: for a throwaway guest.
 */
static void set_softirq_policy(const char *policy)
{
	struct sched_param sp = { 0 };
	char path[300], comm[32];
	struct dirent *d;
	int pol, n = 0;
	DIR *proc;
	FILE *f;

	if (!strcmp(policy, "other")) {
		pol = SCHED_OTHER;
	} else {
		pol = SCHED_FIFO;
		sp.sched_priority = 1;
	}
	proc = opendir("/proc");
	if (!proc)
		die("opendir /proc", errno);
	while ((d = readdir(proc))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
		if (strncmp(comm, "ktimers/", 8) &&
		    strncmp(comm, "ksoftirqd/", 10))
			continue;
		if (sched_setscheduler(atoi(d->d_name), pol, &sp)) {
			if (errno == ESRCH)	/* gone with its CPU */
				continue;
			die("sched_setscheduler of a softirq thread", errno);
		}
		comm[strcspn(comm, "\n")] = '\0';
		out("# futex_pi_bench: %s now %s\n", comm, policy);
		n++;
	}
	closedir(proc);
	if (!n)
		die("no ktimers/N or ksoftirqd/N thread in /proc", 0);
}

#define CLOCKSOURCE_FILE \
	"/sys/devices/system/clocksource/clocksource0/current_clocksource"

static void print_clocksource(void)
{
	char cs[64] = "unknown";
	ssize_t n;
	int fd;

	fd = open(CLOCKSOURCE_FILE, O_RDONLY);
	if (fd >= 0) {
		n = read(fd, cs, sizeof(cs) - 1);
		cs[n > 0 ? n : 0] = '\0';
		cs[strcspn(cs, "\n")] = '\0';
		close(fd);
	}
	out("# futex_pi_bench: clocksource %s\n", cs);
}

static const struct mode {
	const char *name;
	void (*run)(void);
} modes[] = {
	{ "lockunlock",		mode_lockunlock },
	{ "timeout_heavy",	mode_timeout_heavy },
	{ "timeout_latency",	mode_timeout_latency },
	{ "handover",		mode_handover },
	{ "kmutex",		mode_kmutex },
	{ "krwsem",		mode_krwsem },
};
#define NR_MODES	((int)(sizeof(modes) / sizeof(modes[0])))

static void __attribute__((noreturn)) usage(const char *prog, int code)
{
	fprintf(code ? stderr : stdout,
		"usage: %s [-d SECONDS] [-t N[,N...]] [-p PROCS] [-m MODE[,MODE...]]\n"
		"          [-S other|fifo]\n"
		"  -d  time per mode, default 3 (lockunlock splits it, and runs twice)\n"
		"  -t  lockunlock, kmutex and krwsem thread counts, default 1,2,4\n"
		"  -p  timeout_heavy processes, default 4\n"
		"  -m  modes: lockunlock, timeout_heavy, timeout_latency, handover,\n"
		"      kmutex, krwsem\n"
		"  -S  run ktimers/N and ksoftirqd/N as \"other\" or \"fifo\" (priority 1);\n"
		"      not restored at exit: for a throwaway guest\n",
		prog);
	exit(code);
}

/* Parse "1,2,4" into @v; returns the count, 0 on a bad list. */
static int parse_list(char *s, int *v, int max, int lo, int hi)
{
	char *tok, *end;
	int n = 0;
	long x;

	for (tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		x = strtol(tok, &end, 10);
		if (*end || x < lo || x > hi || n == max)
			return 0;
		v[n++] = x;
	}
	return n;
}

int main(int argc, char **argv)
{
	const char *softirq_policy = NULL;
	bool want[NR_MODES];
	char threads[256] = "";
	char *tok, *end;
	struct utsname u;
	cpu_set_t cpus;
	int i, c, ncpu = 0;

	for (i = 0; i < NR_MODES; i++)
		want[i] = true;

	while ((c = getopt(argc, argv, "d:t:p:m:S:h")) != -1) {
		switch (c) {
		case 'd':
			duration = strtod(optarg, &end);
			if (*end || !(duration > 0 && duration <= 3600))
				usage(argv[0], 2);
			break;
		case 't':
			nr_thread_counts = parse_list(optarg, nr_threads,
						      MAX_THREADS, 1,
						      MAX_THREADS);
			if (!nr_thread_counts)
				usage(argv[0], 2);
			break;
		case 'p':
			nr_procs = strtol(optarg, &end, 10);
			if (*end || nr_procs < 1 || nr_procs > MAX_PROCS)
				usage(argv[0], 2);
			break;
		case 'm':
			memset(want, 0, sizeof(want));
			for (tok = strtok(optarg, ","); tok;
			     tok = strtok(NULL, ",")) {
				for (i = 0; i < NR_MODES; i++)
					if (!strcmp(tok, modes[i].name))
						break;
				if (i == NR_MODES)
					usage(argv[0], 2);
				want[i] = true;
			}
			break;
		case 'S':
			if (strcmp(optarg, "other") && strcmp(optarg, "fifo"))
				usage(argv[0], 2);
			softirq_policy = optarg;
			break;
		case 'h':
			usage(argv[0], 0);
		default:
			usage(argv[0], 2);
		}
	}
	if (optind != argc)
		usage(argv[0], 2);

	if (uname(&u))
		die("uname", errno);
	if (!sched_getaffinity(0, sizeof(cpus), &cpus))
		ncpu = CPU_COUNT(&cpus);
	for (i = 0; i < nr_thread_counts; i++)
		snprintf(threads + strlen(threads),
			 sizeof(threads) - strlen(threads), "%s%d",
			 i ? "," : "", nr_threads[i]);
	out("# futex_pi_bench: kernel %s %s %s, %d CPUs, %g s per mode, "
	    "threads %s, %d processes\n", u.release, u.version, u.machine,
	    ncpu, duration, threads, nr_procs);
	/* The clock source decides what a clock_gettime() costs. */
	print_clocksource();
	if (softirq_policy)
		set_softirq_policy(softirq_policy);

	/*
	 * Futex timeouts of SCHED_OTHER tasks may fire up to timer_slack_ns
	 * (50 us by default) late, which would swamp the cleanup path in
	 * timeout_latency and vary timeouts/s in timeout_heavy. Threads and
	 * children created later inherit the 1 ns slack.
	 */
	if (prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL))
		die("PR_SET_TIMERSLACK", errno);
	signal(SIGALRM, watchdog);
	for (i = 0; i < NR_MODES; i++) {
		int64_t t0;

		if (!want[i])
			continue;
		cur_mode = modes[i].name;
		out("# futex_pi_bench: %s\n", cur_mode);
		t0 = now_ns(CLOCK_MONOTONIC);
		watchdog_arm();
		modes[i].run();
		alarm(0);
		out("# futex_pi_bench: %s took %.2f s\n", cur_mode,
		    (now_ns(CLOCK_MONOTONIC) - t0) / 1e9);
	}
	/* It may have changed during the run (tsc-early to tsc). */
	print_clocksource();
	out("# futex_pi_bench: ok\n");
	return 0;
}
