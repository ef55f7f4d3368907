// SPDX-License-Identifier: GPL-2.0
/*
 * DESCRIPTION
 *	Run the kernel's lock torture test (kernel/locking/locktorture.c) on
 *	the sleeping locks whose slow paths the series changes, one torture
 *	type after the other, and judge each run by what locktorture itself
 *	reports when it is unloaded.
 *
 *	Patches 4 and 5 of the series move the block plug flush and the
 *	other sched_submit_work() work out of every rtmutex slow path
 *	(rt_mutex, and on PREEMPT_RT mutex, rw_semaphore and rwlock), so the
 *	types that matter are rtmutex_lock and mutex_lock. Their writers are
 *	kernel threads that take the lock in a loop, rtmutex_lock's with
 *	random SCHED_FIFO boosts, and count every time a writer finds the
 *	lock already held.
 *
 *	locktorture is a module: loaded with finit_module() and a short run
 *	time, unloaded with delete_module(), which stops the writers and
 *	prints the totals. A type passes if the kernel printed
 *	"<type>-torture:--- End of test: SUCCESS" and a "Writes:" line with
 *	a non-zero total and "Fail: 0". The guest's /init fails the program
 *	as well if the kernel complained while it ran.
 *
 *	Usage: lock_torture [-d SECONDS] [-m MODULE_DIR] [TYPE...]
 *	Default: -d 5 -m /tests/modules rtmutex_lock mutex_lock. The type
 *	lock_busted (a lock that excludes nobody) must fail: it is how to
 *	see that this program reports a broken lock.
 *
 *	Skips if the module directory has no locktorture.ko (a kernel built
 *	without CONFIG_LOCK_TORTURE_TEST=m, or one we did not build); the
 *	harness refuses to pack a guest for a kernel configured with it
 *	whose modules are missing.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../kselftest.h"

#define RECORD_MAX	8192

static int load_module(const char *dir, const char *name, const char *params)
{
	char path[4096];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s.ko", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params, 0);
	ret = ret ? -errno : 0;
	close(fd);
	return ret;
}

/* The text of one /dev/kmsg record ("prio,seq,time,flags;text"). */
static const char *record_text(char *rec)
{
	char *text = strchr(rec, ';');
	char *nl;

	if (!text)
		return rec;
	text++;
	nl = strchr(text, '\n');
	if (nl)
		*nl = '\0';
	return text;
}

/* What locktorture printed for one run, read from /dev/kmsg. */
struct torture_report {
	int ended;		/* the "End of test:" line was seen */
	int success;		/* ... and it said SUCCESS */
	long long writes;	/* total of the last "Writes:" line, -1: none */
	int fail;		/* its "Fail:" value */
	char end_line[256];
	char writes_line[256];
};

static void read_report(int kfd, const char *type, struct torture_report *r)
{
	char rec[RECORD_MAX], end_tag[128];
	ssize_t n;

	memset(r, 0, sizeof(*r));
	r->writes = -1;
	snprintf(end_tag, sizeof(end_tag), "%s-torture:--- End of test: ", type);
	for (;;) {
		const char *text, *p;

		n = read(kfd, rec, sizeof(rec) - 1);
		if (n < 0 && (errno == EPIPE || errno == EINTR))
			continue;	/* records overwritten: read on */
		if (n <= 0)
			break;
		rec[n] = '\0';
		/* Only the kernel's records (facility 0) count. */
		if (atoi(rec) >= 8)
			continue;
		text = record_text(rec);
		if (!strncmp(text, end_tag, strlen(end_tag))) {
			r->ended = 1;
			r->success = !strncmp(text + strlen(end_tag), "SUCCESS", 7);
			snprintf(r->end_line, sizeof(r->end_line), "%.255s", text);
		}
		p = text;
		if (!strncmp(p, "Writes:  Total: ", strlen("Writes:  Total: "))) {
			const char *f = strstr(p, "Fail: ");

			r->writes = strtoll(p + strlen("Writes:  Total: "), NULL, 10);
			r->fail = f ? atoi(f + strlen("Fail: ")) : -1;
			snprintf(r->writes_line, sizeof(r->writes_line), "%.255s", p);
		}
	}
}

static void torture(const char *dir, const char *type, int secs)
{
	struct torture_report r;
	char params[256];
	int kfd, ret;

	kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kfd < 0 || lseek(kfd, 0, SEEK_END) < 0) {
		ksft_test_result_fail("%s: /dev/kmsg: %s\n", type, strerror(errno));
		if (kfd >= 0)
			close(kfd);
		return;
	}

	/* No periodic statistics, no console noise: the totals at unload. */
	snprintf(params, sizeof(params),
		 "torture_type=%s verbose=0 stat_interval=0", type);
	ret = load_module(dir, "locktorture", params);
	if (ret) {
		ksft_test_result_fail("%s: loading locktorture: %s\n",
				      type, strerror(-ret));
		close(kfd);
		return;
	}
	sleep(secs);
	if (syscall(SYS_delete_module, "locktorture", 0)) {
		/* Still loaded: the next type could not load either. */
		ksft_exit_fail_msg("%s: unloading locktorture: %s\n",
				   type, strerror(errno));
	}

	read_report(kfd, type, &r);
	close(kfd);
	if (r.writes_line[0])
		ksft_print_msg("%s: %s\n", type, r.writes_line);
	if (r.end_line[0])
		ksft_print_msg("%s\n", r.end_line);

	if (!r.ended)
		ksft_test_result_fail("%s: no \"End of test\" line in the kernel log\n", type);
	else if (!r.success)
		ksft_test_result_fail("%s: locktorture reported a failure\n", type);
	else if (r.writes <= 0)
		ksft_test_result_fail("%s: no lock acquisitions counted (Writes total %lld)\n",
				      type, r.writes);
	else if (r.fail != 0)
		ksft_test_result_fail("%s: Fail: %d\n", type, r.fail);
	else
		ksft_test_result_pass("%s: %lld acquisitions in %d s, no failure\n",
				      type, r.writes, secs);
}

int main(int argc, char *argv[])
{
	static const char * const default_types[] = { "rtmutex_lock", "mutex_lock" };
	const char *dir = "/tests/modules";
	const char * const *types = default_types;
	char path[4096];
	int ntypes = 2, secs = 5, opt, ret, i;

	while ((opt = getopt(argc, argv, "d:m:")) != -1) {
		switch (opt) {
		case 'd':
			secs = atoi(optarg);
			break;
		case 'm':
			dir = optarg;
			break;
		default:
			fprintf(stderr, "usage: %s [-d SECONDS] [-m MODULE_DIR] [TYPE...]\n",
				argv[0]);
			return KSFT_FAIL;
		}
	}
	if (secs <= 0)
		ksft_exit_fail_msg("-d needs a positive number of seconds\n");
	if (optind < argc) {
		types = (const char * const *)&argv[optind];
		ntypes = argc - optind;
	}

	ksft_print_header();
	snprintf(path, sizeof(path), "%s/locktorture.ko", dir);
	if (access(path, R_OK)) {
		/* The initramfs says why it has no modules, when it knows. */
		char why[256] = "CONFIG_LOCK_TORTURE_TEST=m";
		FILE *f;

		snprintf(path, sizeof(path), "%s/why", dir);
		f = fopen(path, "r");
		if (f) {
			if (fgets(why, sizeof(why), f))
				why[strcspn(why, "\n")] = '\0';
			fclose(f);
		}
		ksft_exit_skip("no %s/locktorture.ko: %s\n", dir, why);
	}
	/* torture.ko is not there when the torture core is built in. */
	ret = load_module(dir, "torture", "");
	if (ret && ret != -EEXIST && ret != -ENOENT)
		ksft_exit_fail_msg("loading torture.ko: %s\n", strerror(-ret));
	ksft_set_plan(ntypes);

	for (i = 0; i < ntypes; i++)
		torture(dir, types[i], secs);

	syscall(SYS_delete_module, "torture", 0);
	ksft_finished();
}
