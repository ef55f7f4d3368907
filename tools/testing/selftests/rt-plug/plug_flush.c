// SPDX-License-Identifier: GPL-2.0
/*
 * DESCRIPTION
 *	A task that sleeps on an rtmutex-based lock must not flush its block
 *	plug with its rt_waiter still enqueued.
 *
 *	On PREEMPT_RT, mmap_lock (an rw_semaphore) is built on rt_mutex. A
 *	reader that sleeps in its slow path calls schedule() with
 *	current->pi_blocked_on set; schedule() runs sched_submit_work(),
 *	which flushes the task's block plug, and the block layer's insert
 *	path takes spinlock_t locks. On RT those are rtlocks: one that is
 *	acquired there enqueues a second rt_waiter and overwrites
 *	pi_blocked_on, the same corruption as the futex case. Upstream moved
 *	the flush before the rt_waiter is enqueued in v6.7 ("sched: Provide
 *	rt_mutex specific scheduler helpers" and "locking/rtmutex: Use
 *	rt_mutex specific scheduler helpers"); 6.1-rt kernels without those
 *	have the bug on any block I/O workload.
 *
 *	It is silent. The detector is upstream's assertion
 *	lockdep_assert(!current->pi_blocked_on) at the entry of every
 *	sleeping-lock acquire, which needs CONFIG_LOCKDEP and prints a
 *	WARNING: this program fails when the kernel complains while it runs.
 *
 *	The workload: writers issue O_DIRECT writes of several bios each to
 *	/dev/nullb0 (null_blk, with the mq-deadline scheduler) from freshly
 *	mapped buffers, so that the pages of each bio are faulted in under
 *	mmap_lock while the bios before it wait in the plug; a mapper thread
 *	maps and unmaps a page in a loop, taking mmap_lock for writing, so
 *	that the writers sleep on it.
 *
 *	Fails if the kernel logs a complaint, if a write fails or is short,
 *	or if the mapper never changed the address space while a write was
 *	in flight (the precondition). Skips without /dev/nullb0.
 */
#include <stdatomic.h>
#include <pthread.h>
#include <sys/mman.h>

#include "../futex-pi/kmsg_watch.h"

#define DEVICE		"/dev/nullb0"
#define SCHED_FILE	"/sys/block/nullb0/queue/scheduler"
#define SCHEDULER	"mq-deadline"
#define WRITERS		2
/* Four bios of BIO_MAX_VECS (256) pages each. */
#define WRITE_SIZE	(4 << 20)
#define RUN_SECONDS	10

struct workload {
	int fd;
	atomic_bool stop;
	atomic_int inflight;		/* writes in pwrite() now */
	atomic_long writes;
	atomic_long bad_writes;		/* failed or short */
	atomic_int first_errno;
	atomic_long maps;		/* mapper iterations */
	atomic_long maps_during_writes;
};

static void *writer(void *arg)
{
	struct workload *w = arg;
	off_t off = 0;

	while (!atomic_load(&w->stop)) {
		void *buf = mmap(NULL, WRITE_SIZE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ssize_t n;

		if (buf == MAP_FAILED) {
			atomic_fetch_add(&w->bad_writes, 1);
			atomic_store(&w->first_errno, errno);
			break;
		}
		/* Never touched: every page faults in inside pwrite(). */
		atomic_fetch_add(&w->inflight, 1);
		n = pwrite(w->fd, buf, WRITE_SIZE, off);
		atomic_fetch_sub(&w->inflight, 1);
		if (n != WRITE_SIZE) {
			int expected = 0;

			atomic_fetch_add(&w->bad_writes, 1);
			atomic_compare_exchange_strong(&w->first_errno, &expected,
						       n < 0 ? errno : -1);
		}
		atomic_fetch_add(&w->writes, 1);
		munmap(buf, WRITE_SIZE);
		off = (off + WRITE_SIZE) % (256LL << 20);
	}
	return NULL;
}

static void *mapper(void *arg)
{
	struct workload *w = arg;

	while (!atomic_load(&w->stop)) {
		void *p = mmap(NULL, 4096, PROT_READ,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p != MAP_FAILED)
			munmap(p, 4096);
		atomic_fetch_add(&w->maps, 1);
		if (atomic_load(&w->inflight))
			atomic_fetch_add(&w->maps_during_writes, 1);
	}
	return NULL;
}

/* Select SCHEDULER for nullb0 and check that it is the one in use. */
static int select_scheduler(void)
{
	char buf[256] = "";
	int fd = open(SCHED_FILE, O_RDWR);
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (write(fd, SCHEDULER, strlen(SCHEDULER)) < 0) {
		close(fd);
		return -errno;
	}
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	if (n <= 0)
		return -EIO;
	return strstr(buf, "[" SCHEDULER "]") ? 0 : -ENOENT;
}

FIXTURE(plug) {
	struct kmsg_watch kmsg;
	struct workload w;
	/*
	 * Setup skipped the test. Older kselftest harnesses (5.10's and
	 * 6.1's; 6.12's does not) still run the test body after a SKIP in
	 * FIXTURE_SETUP: the body returns at once instead.
	 */
	bool skipped;
};

FIXTURE_SETUP(plug)
{
	int ret;

	kmsg_watch_start(&self->kmsg);
	self->w.fd = open(DEVICE, O_WRONLY | O_DIRECT);
	if (self->w.fd < 0) {
		self->skipped = true;
		SKIP(return, "%s: %s (needs CONFIG_BLK_DEV_NULL_BLK=y)",
		     DEVICE, strerror(errno));
	}
	ret = select_scheduler();
	ASSERT_EQ(0, ret) {
		TH_LOG("cannot use %s for %s: %s (needs CONFIG_MQ_IOSCHED_DEADLINE=y)",
		       SCHEDULER, DEVICE, strerror(-ret));
	}
}

FIXTURE_TEARDOWN(plug)
{
	if (self->w.fd >= 0)
		close(self->w.fd);
	kmsg_watch_end(_metadata, &self->kmsg);
}

/*
 * Writers against the mapper for RUN_SECONDS, or until the kernel
 * complains (a kernel with the bug warns on every flush it gets wrong).
 */
TEST_F_TIMEOUT(plug, flush_while_blocked_on_mmap_lock, 60)
{
	pthread_t writers[WRITERS], map_thread;
	struct workload *w = &self->w;
	int i, ticks;

	if (self->skipped)
		return;
	for (i = 0; i < WRITERS; i++)
		ASSERT_EQ(0, pthread_create(&writers[i], NULL, writer, w));
	ASSERT_EQ(0, pthread_create(&map_thread, NULL, mapper, w));
	for (ticks = 0; ticks < RUN_SECONDS * 10; ticks++) {
		usleep(100000);
		if (kmsg_watch_scan(&self->kmsg))
			break;
	}
	atomic_store(&w->stop, true);
	for (i = 0; i < WRITERS; i++)
		ASSERT_EQ(0, pthread_join(writers[i], NULL));
	ASSERT_EQ(0, pthread_join(map_thread, NULL));

	TH_LOG("%.1f s: %ld writes of %d MiB, %ld failed or short; mapper: %ld iterations, %ld while a write was in flight",
	       ticks / 10.0, atomic_load(&w->writes), WRITE_SIZE >> 20,
	       atomic_load(&w->bad_writes), atomic_load(&w->maps),
	       atomic_load(&w->maps_during_writes));
	EXPECT_EQ(0, atomic_load(&w->bad_writes)) {
		TH_LOG("first failure: %s", atomic_load(&w->first_errno) < 0 ?
		       "short write" : strerror(atomic_load(&w->first_errno)));
	}
	EXPECT_LT(0, atomic_load(&w->writes));
	/* Precondition: the writers had to contend for mmap_lock. */
	EXPECT_LT(0, atomic_load(&w->maps_during_writes));
}

KERNEL_LOG_CLEAN_TEST()

TEST_HARNESS_MAIN
