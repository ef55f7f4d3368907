// SPDX-License-Identifier: GPL-2.0
/*
 * init.c - /init of the test guest.
 *
 * Mounts the pseudo file systems, runs every program listed in
 * /tests/list with its own time limit, and prints one KTAP result per
 * program: its exit status and whether the kernel logged a warning, a BUG,
 * a lockdep report or an RCU stall while it ran. A program's own output is
 * printed indented beneath (a KTAP subtest), and the kernel records it
 * caused are printed as "# kmsg:" lines. Then the guest powers off.
 *
 * /tests/list holds one program a line: "NAME TIMEOUT PATH [ARG...]".
 * The first result is the boot: the kernel log up to /init must be clean.
 *
 * Nothing is retried: a program runs once and its result stands. (The
 * upstream futex programs whose fixed waits an emulated guest misses are
 * built with those waits scaled, see scripts/build-tests.sh.)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TESTS	4096
#define MAX_ARGS	32
#define LINE_MAX_LEN	4096

struct test {
	char *name;
	int timeout;
	char *argv[MAX_ARGS + 1];
};

static struct test tests[MAX_TESTS];
static int ntests;
static int kmsg_fd = -1;

/* What marks a kernel log record as a failure of the run. */
static const char *const bad_patterns[] = {
	"WARNING:", "BUG:", "Oops", "Kernel panic", "general protection",
	"possible recursive locking", "possible circular locking",
	"inconsistent lock state", "DEBUG_LOCKS_WARN_ON",
	"rcu_preempt detected stalls", "rcu: INFO:", "self-detected stall",
	"blocked for more than", "soft lockup", "hard LOCKUP",
	"scheduling while atomic", "sleeping function called from invalid context",
	"Call Trace:", "Call trace:",
};

/* Write one whole line with one write(), so the console keeps it whole. */
static void out(const char *fmt, ...)
{
	char buf[LINE_MAX_LEN + 64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDOUT_FILENO, buf, n) < 0)
		return;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void setup(void)
{
	int fd;

	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mkdir("/dev", 0755);
	mkdir("/tmp", 01777);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount("tmpfs", "/tmp", "tmpfs", 0, NULL);
	mkdir("/dev/shm", 01777);
	mount("tmpfs", "/dev/shm", "tmpfs", 0, NULL);

	fd = open("/dev/console", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > 2)
			close(fd);
	}
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	setenv("PATH", "/tests:/bin", 1);
}

static void load_list(const char *path)
{
	static char buf[1 << 20];
	char *line, *save, *tok, *s;
	ssize_t len;
	int fd, i;

	fd = open(path, O_RDONLY);
	if (fd < 0) {
		out("# runner: cannot open %s: %s", path, strerror(errno));
		return;
	}
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return;
	buf[len] = '\0';

	for (line = strtok_r(buf, "\n", &save); line && ntests < MAX_TESTS;
	     line = strtok_r(NULL, "\n", &save)) {
		struct test *t = &tests[ntests];

		if (line[0] == '#' || line[0] == '\0')
			continue;
		t->name = strtok_r(line, " ", &s);
		tok = strtok_r(NULL, " ", &s);
		t->timeout = tok ? atoi(tok) : 0;
		for (i = 0; i < MAX_ARGS && (tok = strtok_r(NULL, " ", &s)); i++)
			t->argv[i] = tok;
		t->argv[i] = NULL;
		if (!t->name || t->timeout <= 0 || !t->argv[0]) {
			out("# runner: bad line in %s", path);
			continue;
		}
		ntests++;
	}
}

/*
 * Print the kernel log records written since the last call. Returns the
 * number of records that match a bad pattern; when there is one, every new
 * record is printed so that the whole report (with its call trace) shows.
 */
static int check_kmsg(char *first_bad, size_t first_bad_len)
{
	static char recs[1 << 20];
	size_t used = 0;
	char rec[LINE_MAX_LEN];
	int bad = 0;
	char *p;

	if (kmsg_fd < 0)
		return 0;
	for (;;) {
		ssize_t n = read(kmsg_fd, rec, sizeof(rec) - 1);
		size_t k;

		if (n < 0 && errno == EPIPE) {
			out("# kmsg: (records lost: the log buffer wrapped)");
			continue;
		}
		if (n <= 0)
			break;
		rec[n] = '\0';
		/* "prio,seq,time,flags;message\n": keep the message. */
		p = strchr(rec, ';');
		p = p ? p + 1 : rec;
		p[strcspn(p, "\n")] = '\0';
		for (k = 0; k < sizeof(bad_patterns) / sizeof(bad_patterns[0]); k++) {
			if (strstr(p, bad_patterns[k])) {
				if (!bad && first_bad)
					snprintf(first_bad, first_bad_len, "%.400s", p);
				bad++;
				break;
			}
		}
		k = strlen(p);
		if (used + k + 1 < sizeof(recs)) {
			memcpy(recs + used, p, k + 1);
			used += k + 1;
		}
	}
	if (bad) {
		for (p = recs; p < recs + used; p += strlen(p) + 1)
			out("# kmsg: %s", p);
	}
	return bad;
}

/* Run one program; return its wait status, or -1 if it timed out. */
static int run_one(struct test *t, double *secs)
{
	char buf[LINE_MAX_LEN], line[LINE_MAX_LEN];
	double start = now(), deadline = start + t->timeout;
	size_t linelen = 0;
	int pfd[2], status = 0;
	int timed_out = 0;
	pid_t pid;

	if (pipe(pfd) < 0)
		return -2;
	pid = fork();
	if (pid < 0)
		return -2;
	if (pid == 0) {
		char dir[LINE_MAX_LEN], *slash;

		setsid();
		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		/* Programs find their helpers next to themselves. */
		snprintf(dir, sizeof(dir), "%s", t->argv[0]);
		slash = strrchr(dir, '/');
		if (slash) {
			*slash = '\0';
			if (chdir(dir[0] ? dir : "/"))
				_exit(127);
		}
		execv(t->argv[0], t->argv);
		fprintf(stderr, "exec %s: %s\n", t->argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);

	for (;;) {
		struct pollfd pf = { .fd = pfd[0], .events = POLLIN };
		int left = (int)((deadline - now()) * 1000);
		ssize_t n, i;

		if (left <= 0) {
			timed_out = 1;
			kill(-pid, SIGKILL);
			break;
		}
		if (poll(&pf, 1, left) <= 0)
			continue;
		n = read(pfd[0], buf, sizeof(buf));
		if (n <= 0)
			break;
		for (i = 0; i < n; i++) {
			if (buf[i] == '\n' || linelen == sizeof(line) - 1) {
				line[linelen] = '\0';
				out("    %s", line);
				linelen = 0;
				if (buf[i] == '\n')
					continue;
			}
			line[linelen++] = buf[i];
		}
	}
	if (linelen) {
		line[linelen] = '\0';
		out("    %s", line);
	}
	close(pfd[0]);
	/* The program's own children are in its session: reap them too. */
	kill(-pid, SIGKILL);
	waitpid(pid, &status, 0);
	*secs = now() - start;
	return timed_out ? -1 : status;
}

int main(void)
{
	int pass = 0, fail = 0, skip = 0, i;
	char first_bad[512];

	setup();
	load_list("/tests/list");

	out("TAP version 13");
	out("1..%d", ntests + 1);

	if (kmsg_fd < 0) {
		out("not ok 1 boot # cannot read /dev/kmsg: %s", strerror(errno));
		fail++;
	} else if (check_kmsg(first_bad, sizeof(first_bad))) {
		out("not ok 1 boot # kernel: %s", first_bad);
		fail++;
	} else {
		out("ok 1 boot");
		pass++;
	}

	for (i = 0; i < ntests; i++) {
		struct test *t = &tests[i];
		double secs = 0;
		char why[640] = "";
		int st, kbad;

		out("# runner: %s: starting (limit %d s)", t->name, t->timeout);
		st = run_one(t, &secs);
		kbad = check_kmsg(first_bad, sizeof(first_bad));

		if (st == -1)
			snprintf(why, sizeof(why), "TIMEOUT after %d s", t->timeout);
		else if (st == -2)
			snprintf(why, sizeof(why), "cannot start: %s", strerror(errno));
		else if (WIFSIGNALED(st))
			snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(st));
		else if (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 4)
			snprintf(why, sizeof(why), "exit status %d", WEXITSTATUS(st));
		if (kbad)
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
				 "%skernel: %s", why[0] ? "; " : "", first_bad);

		if (why[0]) {
			out("not ok %d %s # %s (%.1f s)", i + 2, t->name, why, secs);
			fail++;
		} else if (WEXITSTATUS(st) == 4) {
			out("ok %d %s # SKIP (%.1f s)", i + 2, t->name, secs);
			skip++;
		} else {
			out("ok %d %s (%.1f s)", i + 2, t->name, secs);
			pass++;
		}
	}
	out("# totals: pass:%d fail:%d skip:%d", pass, fail, skip);
	out("# runner: powering off");
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
