/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel log watcher of the futex-pi selftests (and of ../rt-plug).
 *
 * The bugs these tests target are silent in user space: debug kernels
 * catch them with lockdep_assert(!current->pi_blocked_on) in the
 * sleeping-lock entry points, which only prints a WARNING. So every test
 * watches /dev/kmsg and fails when the kernel complains while it runs, and
 * every program ends with a test that checks the whole program's time
 * (KERNEL_LOG_CLEAN_TEST()).
 *
 * FUTEX_PI_KMSG_WATCH=0 in the environment switches the watcher off, for
 * a test system that scans the kernel log itself: the log is then not
 * read, no test fails because of it, and the whole program's check skips.
 */
#ifndef KMSG_WATCH_H
#define KMSG_WATCH_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "kmsg_alarms.h"

struct kmsg_watch {
	int fd;		/* -1: not watching */
	int err;	/* why not: an errno, or 0 when switched off */
	int alarms;	/* alarming lines seen so far */
	int context;	/* lines still to print after the last alarm */
	int printed;
	int lost;	/* reads that found records overwritten */
};

/*
 * A failure stated as data: one line "# evidence: KIND KEY=VALUE ...",
 * and the test fails. The sentence for people goes beside it (TH_LOG); a
 * verdict (the project's scripts/verdict.py) checks only this line, and
 * takes a failed test whose only failure is evidence of the kind it
 * expects as explained. KIND is one of kmsg-alarm, stale-boost,
 * futex-errors and mutex-violations.
 */
#ifdef XFAIL_ADD
/* The harness of v6.11 and later keeps a test's exit code instead. */
#define evidence_failed(m)	((m)->exit_code = KSFT_FAIL)
#else
#define evidence_failed(m)	((m)->passed = 0)
#endif

#define EVIDENCE(kind, fmt, ...) do {					\
	fprintf(stderr, "# evidence: " kind " " fmt "\n", ##__VA_ARGS__);	\
	fflush(stderr);							\
	evidence_failed(_metadata);					\
} while (0)

/* Lines printed after an alarming one (its stack trace), and in total. */
#define KMSG_CONTEXT	40
#define KMSG_MAX_PRINT	200

#define KMSG_WATCH_ENV	"FUTEX_PI_KMSG_WATCH"

static inline bool kmsg_watch_off(void)
{
	const char *env = getenv(KMSG_WATCH_ENV);

	return env && !strcmp(env, "0");
}

/* Remember the end of the kernel log: only later records are checked. */
static inline void kmsg_watch_start(struct kmsg_watch *w)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	if (kmsg_watch_off())
		return;
	w->fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (w->fd < 0) {
		w->err = errno;
		return;
	}
	if (lseek(w->fd, 0, SEEK_END) < 0) {
		w->err = errno;
		close(w->fd);
		w->fd = -1;
	}
}

/*
 * Read the records logged since the last call, print alarming ones and
 * the lines after them as "# kmsg: " diagnostics, and return the number
 * of alarming lines seen so far. Each read() returns one record,
 * "prio,seq,time,flags;text" plus optional "\n KEY=value" lines. EPIPE
 * means records were overwritten before we read them; the next read()
 * continues with the oldest record still there.
 *
 * Once an alarm and its context have been printed, the call returns
 * without reading on: the verdict cannot change any more, and a kernel
 * that warns on every loop of a stress test writes faster than a reader
 * under emulation can keep up with, so reading to the end could take
 * as long as the kernel keeps warning.
 */
static inline int kmsg_watch_scan(struct kmsg_watch *w)
{
	char rec[8192], *text, *nl;
	ssize_t n;

	if (w->fd < 0)
		return 0;
	for (;;) {
		if (w->alarms && (!w->context || w->printed >= KMSG_MAX_PRINT))
			break;
		n = read(w->fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE) {
			if (!w->lost++)
				fprintf(stderr,
					"# kmsg: (records overwritten before they were read)\n");
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* EAGAIN: caught up */
		rec[n] = '\0';
		text = strchr(rec, ';');
		text = text ? text + 1 : rec;
		nl = strchr(text, '\n');
		if (nl)
			*nl = '\0';
		/* Only the kernel's own records (facility 0) count. */
		if (atoi(rec) < 8 && kmsg_alarm(text)) {
			w->alarms++;
			w->context = KMSG_CONTEXT + 1;
		}
		if (w->context > 0) {
			w->context--;
			if (w->printed++ < KMSG_MAX_PRINT)
				fprintf(stderr, "# kmsg: %s\n", text);
		}
	}
	return w->alarms;
}

/* Fixture teardown: fail the test if the kernel complained while it ran. */
static inline void kmsg_watch_end(struct __test_metadata *_metadata,
				  struct kmsg_watch *w)
{
	int alarms;

	if (w->fd < 0) {
		if (w->err)
			TH_LOG("kernel log not checked: /dev/kmsg: %s",
			       strerror(w->err));
		else
			TH_LOG("kernel log not checked: " KMSG_WATCH_ENV "=0");
		return;
	}
	/*
	 * Scan first, then check: after a failed ASSERT the harness still
	 * has its trigger set in teardown, so a handler block attached to
	 * EXPECT_EQ() would print even when the log is clean.
	 */
	alarms = kmsg_watch_scan(w);
	if (alarms) {
		TH_LOG("the kernel logged warnings during this test");
		EVIDENCE("kmsg-alarm", "alarms=%d scope=test", alarms);
	}
	close(w->fd);
	w->fd = -1;
}

/*
 * The whole program, including what happened between tests, is watched
 * from a position taken before the first test; each program's last test
 * (kernel_log.clean_while_program_ran) checks it, and skips when
 * /dev/kmsg cannot be read or the watcher is switched off.
 */
static struct kmsg_watch kmsg_program = { .fd = -1 };

static void __attribute__((constructor)) kmsg_program_start(void)
{
	kmsg_watch_start(&kmsg_program);
}

static inline void kmsg_program_check(struct __test_metadata *_metadata)
{
	int alarms;

	if (kmsg_program.fd < 0 && !kmsg_program.err)
		SKIP(return, "kernel log not checked: " KMSG_WATCH_ENV "=0");
	if (kmsg_program.fd < 0)
		SKIP(return, "cannot read /dev/kmsg (%s): kernel log not checked",
		     strerror(kmsg_program.err));
	alarms = kmsg_watch_scan(&kmsg_program);
	if (alarms) {
		TH_LOG("the kernel logged warnings while this program ran");
		EVIDENCE("kmsg-alarm", "alarms=%d scope=program", alarms);
	}
}

/*
 * The harness exits 0 when no test failed, also when every test skipped.
 * A program whose tests all skipped (its kernel-log test aside) tested
 * nothing: it exits with KSFT_SKIP (4) so that runners show it skipped.
 */
static pid_t futex_pi_main_pid;

static void futex_pi_exit_skip(void)
{
	int pass = ksft_get_pass_cnt(), fail = ksft_get_fail_cnt();
	int skip = ksft_get_xskip_cnt();

	if (getpid() == futex_pi_main_pid && !fail && skip &&
	    skip >= pass + skip - 1) {
		fflush(stdout);
		fflush(stderr);
		_exit(KSFT_SKIP);
	}
}

static void __attribute__((constructor)) futex_pi_exit_skip_start(void)
{
	futex_pi_main_pid = getpid();
	atexit(futex_pi_exit_skip);
}

/*
 * Every program ends with this test. It gets a fixture of its own, used
 * after all the others, because the harness runs fixtures in order of
 * first use and plain TEST()s (fixture "global") come first.
 */
#define KERNEL_LOG_CLEAN_TEST()						\
	FIXTURE(kernel_log) { int unused; };				\
	FIXTURE_SETUP(kernel_log) {}					\
	FIXTURE_TEARDOWN(kernel_log) {}					\
	TEST_F(kernel_log, clean_while_program_ran)			\
	{								\
		kmsg_program_check(_metadata);				\
	}

#endif /* KMSG_WATCH_H */
