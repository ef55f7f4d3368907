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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
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

#include "../tools/testing/selftests/futex-pi/kmsg_alarms.h"

/* Write one whole line with one write(), so the console keeps it whole. */
/*
 * What we print goes to a queue, written to the console as fast as it
 * takes it. The serial console of an emulated guest is slow: while a
 * buggy kernel warns in a loop, /init must go on reading /dev/kmsg (which
 * holds 1 MiB) instead of waiting for the console, or records are lost.
 */
static int con_fd = STDOUT_FILENO;
static char *outq;
static size_t outq_head, outq_len, outq_cap;

/* Write as much of the queue as the console takes now. */
static void out_pump(void)
{
	while (outq_len > outq_head) {
		ssize_t n = write(con_fd, outq + outq_head, outq_len - outq_head);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			outq_head = outq_len;	/* no console: drop it */
			break;
		}
		outq_head += n;
	}
	outq_head = outq_len = 0;
}

/* Write the whole queue, waiting for the console. */
static void out_flush(void)
{
	while (outq_len > outq_head) {
		struct pollfd pf = { .fd = con_fd, .events = POLLOUT };

		poll(&pf, 1, 1000);
		out_pump();
	}
}

/* Queue one whole line, so that the console keeps it whole. */
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
	if (outq_head && outq_head == outq_len)
		outq_head = outq_len = 0;
	if (outq_len + n > outq_cap) {
		size_t cap = outq_cap ? outq_cap * 2 : 1 << 20;
		char *q;

		while (cap < outq_len + n)
			cap *= 2;
		q = realloc(outq, cap);
		if (!q) {
			/* No memory: wait for the console, then write it. */
			out_flush();
			while (write(con_fd, buf, n) < 0 && errno == EAGAIN)
				poll(&(struct pollfd){ .fd = con_fd, .events = POLLOUT }, 1, 1000);
			return;
		}
		outq = q;
		outq_cap = cap;
	}
	memcpy(outq + outq_len, buf, n);
	outq_len += n;
	out_pump();
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
	/* Our own description of the console, for writes that do not block. */
	fd = open("/dev/console", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0)
		con_fd = fd;
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
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
 * The kernel log, read from /dev/kmsg. Each read() returns one record,
 * "prio,seq,time,flags;text" and optional "\n KEY=value" lines. Only
 * records of facility 0 (prio < 8) are the kernel's own. A gap in the
 * sequence numbers means records were lost: overwritten before we read
 * them (EPIPE), or longer than our buffer (EINVAL, and the kernel skips
 * them). A run that lost records is not clean.
 *
 * Records are kept back while the log is clean, so that a clean run
 * prints nothing; from the first complaint on, every record is printed,
 * the kept ones first, so that a report shows whole with its stack.
 */
struct kscan {
	int bad;			/* complaints seen */
	char first_bad[512];
	unsigned long long lost;	/* records lost */
	int loud;			/* print records as they come */
	int dumping;			/* we asked for task stacks */
	size_t used, nkept, hidden;	/* records kept back, and dropped */
};

static char kept[1 << 20];
static unsigned long long next_seq;	/* records 0.. are expected */

static void kscan_begin(struct kscan *k)
{
	memset(k, 0, sizeof(*k));
}

static void kscan_flush(struct kscan *k)
{
	char *p;

	if (k->hidden)
		out("# kmsg: (%zu earlier records not shown)", k->hidden);
	for (p = kept; p < kept + k->used; p += strlen(p) + 1)
		out("%s", p);
	k->used = 0;
	k->nkept = 0;
	k->hidden = 0;
}

/* Read every record available now. */
static void kscan_read(struct kscan *k)
{
	static char rec[16384];
	char line[LINE_MAX_LEN + 32];
	unsigned long long seq;
	unsigned int prio;
	size_t i, len;
	int kernel;
	char *text;

	if (kmsg_fd < 0)
		return;
	for (;;) {
		ssize_t n = read(kmsg_fd, rec, sizeof(rec) - 1);

		if (n < 0 && (errno == EPIPE || errno == EINVAL || errno == EINTR))
			continue;	/* the sequence gap counts the loss */
		if (n <= 0)
			break;
		rec[n] = '\0';
		if (sscanf(rec, "%u,%llu,", &prio, &seq) != 2)
			continue;
		if (seq > next_seq) {
			k->lost += seq - next_seq;
			snprintf(line, sizeof(line),
				 "# kmsg: (%llu records lost before seq %llu)",
				 seq - next_seq, seq);
			if (!k->loud)
				kscan_flush(k);
			k->loud = 1;
			out("%s", line);
		}
		next_seq = seq + 1;

		text = strchr(rec, ';');
		text = text ? text + 1 : rec;
		text[strcspn(text, "\n")] = '\0';
		kernel = (prio >> 3) == 0;
		/* The stacks we asked for are not the kernel's complaint. */
		if (kernel && !(k->dumping && !strncasecmp(text, "Call trace:", 11))) {
			for (i = 0; i < ARRAY_SIZE(kmsg_alarms); i++) {
				if (strstr(text, kmsg_alarms[i]))
					break;
			}
			if (i < ARRAY_SIZE(kmsg_alarms)) {
				if (!k->bad++)
					snprintf(k->first_bad, sizeof(k->first_bad),
						 "%.400s", text);
				if (!k->loud)
					kscan_flush(k);
				k->loud = 1;
			}
		}
		snprintf(line, sizeof(line), "# kmsg%s: %.*s",
			 kernel ? "" : "(user)", LINE_MAX_LEN, text);
		if (k->loud) {
			out("%s", line);
			continue;
		}
		len = strlen(line) + 1;
		if (k->used + len > sizeof(kept)) {
			/* Keep the newest: drop everything kept so far. */
			k->hidden += k->nkept;
			k->used = 0;
			k->nkept = 0;
		}
		memcpy(kept + k->used, line, len);
		k->used += len;
		k->nkept++;
	}
}

/* Print everything kept back, e.g. after a timeout. */
static void kscan_show(struct kscan *k)
{
	kscan_read(k);
	if (!k->loud)
		kscan_flush(k);
	k->loud = 1;
}

/* A live user process other than /init, or 0. */
static int user_process(const char *pid, char *comm, size_t commlen)
{
	char path[300], buf[512], *p, state = 0;
	unsigned long flags = 0;
	ssize_t n;
	int fd;

	if (!strcmp(pid, "1"))
		return 0;
	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "pid (comm) state ppid pgrp session tty tpgid flags ..." */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%c %*d %*d %*d %*d %*d %lu", &state, &flags) != 2)
		return 0;
	if (flags & 0x00200000 || state == 'Z')	/* PF_KTHREAD, or dead */
		return 0;
	snprintf(comm, commlen, "%.*s", (int)(p - strchr(buf, '(') - 1),
		 strchr(buf, '(') + 1);
	return 1;
}

/*
 * Kill every process but /init and reap them (and any zombie). /init is
 * PID 1: orphans are its children. Returns how many were still alive;
 * their names go to @names.
 */
static int kill_leftovers(char *names, size_t len)
{
	char comm[64];
	struct dirent *d;
	int n = 0, i;
	DIR *dir;

	names[0] = '\0';
	dir = opendir("/proc");
	if (dir) {
		while ((d = readdir(dir))) {
			if (d->d_name[0] < '1' || d->d_name[0] > '9')
				continue;
			if (!user_process(d->d_name, comm, sizeof(comm)))
				continue;
			if (n++ < 8)
				snprintf(names + strlen(names), len - strlen(names),
					 "%s%s", names[0] ? "," : "", comm);
		}
		closedir(dir);
	}
	if (n)
		kill(-1, SIGKILL);
	/* Reap; give up after 5 s (a task stuck in the kernel). */
	for (i = 0; i < 500; i++) {
		pid_t r = waitpid(-1, NULL, WNOHANG);

		if (r < 0 || (r == 0 && !n))
			break;
		if (r == 0)
			usleep(10000);
	}
	return n;
}

/* Show the blocked tasks and every task's stack in the kernel log. */
static void dump_tasks(void)
{
	int fd = open("/proc/sysrq-trigger", O_WRONLY);

	if (fd < 0) {
		out("# runner: no /proc/sysrq-trigger (%s): no task dump",
		    strerror(errno));
		return;
	}
	if (write(fd, "w", 1) < 0 || write(fd, "t", 1) < 0)
		out("# runner: sysrq: %s", strerror(errno));
	close(fd);
}

/* Append the kernel's part of a verdict to @why. */
static void kernel_why(const struct kscan *k, char *why, size_t len)
{
	size_t n = strlen(why);

	if (k->bad)
		n += snprintf(why + n, len - n, "%skernel: %s", n ? "; " : "",
			      k->first_bad);
	if (k->lost && n < len)
		snprintf(why + n, len - n, "%skernel log: %llu records lost",
			 n ? "; " : "", k->lost);
}

struct result {
	int status;		/* wait status */
	int timed_out;
	int leftovers;
	char leftover_names[256];
	double secs;
};

/* The first "not ok" result the running program printed itself. */
static char self_failed[256];

/* Copy a program's output, indented, a whole line at a time. */
static ssize_t copy_output(int fd, char *line, size_t *linelen)
{
	char buf[LINE_MAX_LEN];
	ssize_t n, i;

	n = read(fd, buf, sizeof(buf));
	for (i = 0; i < n; i++) {
		if (buf[i] == '\n' || *linelen == LINE_MAX_LEN - 1) {
			line[*linelen] = '\0';
			out("    %s", line);
			if (!self_failed[0] && !strncmp(line, "not ok ", 7))
				snprintf(self_failed, sizeof(self_failed), "%.200s", line);
			*linelen = 0;
			if (buf[i] == '\n')
				continue;
		}
		line[(*linelen)++] = buf[i];
	}
	return n;
}

/*
 * Run one program until it exits or its time is up, copying its output
 * and reading the kernel log meanwhile. Output that a leftover process
 * still holds open is not waited for. Returns -1 if it could not start.
 */
static int run_one(struct test *t, struct kscan *k, struct result *r)
{
	double start = now(), deadline = start + t->timeout;
	char line[LINE_MAX_LEN];
	size_t linelen = 0;
	int pfd[2], exited = 0, pipe_open = 1, i;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	self_failed[0] = '\0';
	if (pipe(pfd) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
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
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);

	while (!exited) {
		struct pollfd pf[3] = {
			{ .fd = pipe_open ? pfd[0] : -1, .events = POLLIN },
			{ .fd = kmsg_fd, .events = POLLIN },
			{ .fd = outq_len > outq_head ? con_fd : -1, .events = POLLOUT },
		};
		int left = (int)((deadline - now()) * 1000);

		if (left <= 0) {
			r->timed_out = 1;
			k->dumping = 1;
			dump_tasks();
			kscan_show(k);
			kill(-pid, SIGKILL);
			break;
		}
		/* Wake up now and then to see whether the program exited. */
		poll(pf, 3, left < 100 ? left : 100);
		/* The kernel log first: it is what can be lost. */
		if (pf[1].revents & POLLIN)
			kscan_read(k);
		if (pf[0].revents & POLLIN)
			copy_output(pfd[0], line, &linelen);
		else if (pf[0].revents)
			pipe_open = 0;	/* every writer closed it */
		out_pump();
		exited = waitpid(pid, &r->status, WNOHANG) == pid;
	}
	if (!exited) {
		/* Killed above; wait up to 5 s for it to die. */
		for (i = 0; i < 500 && waitpid(pid, &r->status, WNOHANG) != pid; i++)
			usleep(10000);
	}
	/*
	 * Leftovers (children in other sessions or process groups) die first,
	 * so that the output they hold open ends; then whatever is buffered
	 * is copied, without waiting for more.
	 */
	r->leftovers = kill_leftovers(r->leftover_names, sizeof(r->leftover_names));
	while (copy_output(pfd[0], line, &linelen) > 0)
		;
	if (linelen) {
		line[linelen] = '\0';
		out("    %s", line);
	}
	close(pfd[0]);
	r->secs = now() - start;
	kscan_read(k);
	return 0;
}

/*
 * Lock debugging switches itself off after its first report, or when the
 * kernel is tainted; the assertions the tests rely on are dead then.
 * Returns 1 if it is still on, 0 if off, -1 if this kernel has none.
 */
static int debug_locks_on(void)
{
	char buf[8192], *p;
	ssize_t n;
	int fd;

	fd = open("/proc/lockdep_stats", O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "debug_locks:");
	if (!p)
		return -1;
	return atoi(p + strlen("debug_locks:")) ? 1 : 0;
}

int main(void)
{
	int pass = 0, fail = 0, skip = 0, i, dl;
	char boot_why[1024];
	struct kscan k;

	setup();
	load_list("/tests/list");

	out("TAP version 13");
	out("1..%d", ntests + 2);

	kscan_begin(&k);
	kscan_read(&k);
	boot_why[0] = '\0';
	kernel_why(&k, boot_why, sizeof(boot_why));
	if (kmsg_fd < 0) {
		out("not ok 1 boot # cannot read /dev/kmsg: %s", strerror(errno));
		fail++;
	} else if (boot_why[0]) {
		out("not ok 1 boot # %s", boot_why);
		fail++;
	} else {
		out("ok 1 boot");
		pass++;
	}

	for (i = 0; i < ntests; i++) {
		struct test *t = &tests[i];
		char why[1024] = "";
		struct result r;
		int st;

		out("# runner: %s: starting (limit %d s)", t->name, t->timeout);
		kscan_begin(&k);
		if (run_one(t, &k, &r) < 0)
			snprintf(why, sizeof(why), "cannot start: %s", strerror(errno));
		st = r.status;
		if (why[0])
			;
		else if (r.timed_out)
			snprintf(why, sizeof(why), "TIMEOUT after %d s", t->timeout);
		else if (WIFSIGNALED(st))
			snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(st));
		else if (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 4)
			snprintf(why, sizeof(why), "exit status %d", WEXITSTATUS(st));
		else if (self_failed[0])
			/* Its exit status does not see its own failure. */
			snprintf(why, sizeof(why), "exit status %d but it printed \"%s\"",
				 WEXITSTATUS(st), self_failed);
		if (r.leftovers)
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
				 "%sleft %d process(es) running: %s", why[0] ? "; " : "",
				 r.leftovers, r.leftover_names);
		kernel_why(&k, why, sizeof(why));

		if (why[0]) {
			out("not ok %d %s # %s (%.1f s)", i + 2, t->name, why, r.secs);
			fail++;
		} else if (WEXITSTATUS(st) == 4) {
			out("ok %d %s # SKIP (%.1f s)", i + 2, t->name, r.secs);
			skip++;
		} else {
			out("ok %d %s (%.1f s)", i + 2, t->name, r.secs);
			pass++;
		}
		out_flush();
	}

	dl = debug_locks_on();
	if (dl == 1) {
		out("ok %d lock-debugging # debug_locks is still 1", ntests + 2);
		pass++;
	} else if (dl == 0) {
		out("not ok %d lock-debugging # debug_locks is 0: %s", ntests + 2,
		    "lock debugging switched itself off, its checks are dead");
		fail++;
	} else {
		out("ok %d lock-debugging # SKIP no lockdep in this kernel", ntests + 2);
		skip++;
	}
	out("# totals: pass:%d fail:%d skip:%d", pass, fail, skip);
	out("# runner: powering off");
	out_flush();
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
