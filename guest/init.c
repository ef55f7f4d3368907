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
 * Everything /init prints is a record of its own on the console (see
 * record()): framed with a number chosen at boot, a sequence number and a
 * checksum, its bytes escaped. The host (scripts/verdict.py) reads only
 * such records as the runner's: no program output (it is always inside a
 * record, escaped) and no kernel message (it is never framed) can pass for
 * one, and a record that a kernel message cut in two fails its checksum.
 * Before each result a "# facts:" record states what the runner saw, as
 * key=value pairs, for the host to judge instead of the result's wording.
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
#include <termios.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/reboot.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdint.h>
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

/*
 * What we print goes to a queue, written to the console as fast as it
 * takes it. The serial console of an emulated guest is slow: while a
 * buggy kernel warns in a loop, /init must go on reading /dev/kmsg (which
 * holds 1 MiB) instead of waiting for the console, or records are lost.
 */
static int con_fd = STDOUT_FILENO;
static char *outq;
static size_t outq_head, outq_len, outq_cap;

/*
 * A kernel that warns in a loop writes faster than the console sends:
 * above this much queued output, kernel records are read and counted but
 * not relayed (their classes and counts still reach the facts).
 */
#define OUTQ_MAX	(32 << 20)

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

/*
 * Write the whole queue, waiting for the console, and wait until it has
 * sent it: what the kernel writes to the console next (a sysrq header, a
 * user's emergency record) cannot cut one of our records then.
 */
static void out_flush(void)
{
	while (outq_len > outq_head) {
		struct pollfd pf = { .fd = con_fd, .events = POLLOUT };

		poll(&pf, 1, 1000);
		out_pump();
	}
	tcdrain(con_fd);
}

/* Queue N bytes for the console, whole. */
static void queue(const char *buf, size_t n)
{
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

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* CRC-32 (IEEE 802.3, as Python's zlib.crc32). */
static uint32_t crc32(uint32_t crc, const unsigned char *p, size_t len)
{
	int i;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (i = 0; i < 8; i++)
			crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
	}
	return ~crc;
}

/*
 * The frame of every record: "~" NONCE SEQ CRC " " PAYLOAD, the first
 * three as 8 hex digits each (a fixed width: a KTAP reader that strips a
 * line prefix of the length it saw before "TAP version" reads the rest).
 * NONCE is drawn at boot and never written anywhere a program can read
 * it; SEQ counts from 0; CRC covers NONCE, SEQ and PAYLOAD. In PAYLOAD a
 * byte outside printable ASCII, and the backslash, is written "\xNN".
 */
static char nonce[9];
static unsigned int rec_seq;

static void nonce_init(void)
{
	uint32_t n = 0;

	if (getrandom(&n, sizeof(n), GRND_NONBLOCK) != sizeof(n)) {
		int fd = open("/dev/urandom", O_RDONLY);

		if (fd < 0 || read(fd, &n, sizeof(n)) != sizeof(n))
			n = (uint32_t)(now_ns() ^ (now_ns() << 17));
		if (fd >= 0)
			close(fd);
	}
	snprintf(nonce, sizeof(nonce), "%08x", n);
}

/* Queue one record of the payload P (LEN bytes, any bytes). */
static void record(const char *p, size_t len)
{
	static char buf[4 * LINE_MAX_LEN + 64];
	size_t n = 26, i;

	if (len > LINE_MAX_LEN)
		len = LINE_MAX_LEN;
	for (i = 0; i < len; i++) {
		unsigned char c = p[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[n++] = c;
		else
			n += sprintf(buf + n, "\\x%02x", c);
	}
	buf[0] = '~';
	memcpy(buf + 1, nonce, 8);
	sprintf(buf + 9, "%08x", rec_seq++);
	sprintf(buf + 17, "%08x", crc32(crc32(0, (unsigned char *)buf + 1, 16),
					(unsigned char *)buf + 26, n - 26));
	buf[25] = ' ';
	buf[n++] = '\n';
	queue(buf, n);
}

/* Queue one record, formatted. */
static void out(const char *fmt, ...)
{
	char buf[LINE_MAX_LEN + 64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	record(buf, n);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Write TEXT to the file PATH; 0 or -errno. */
static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		err = -errno;
	close(fd);
	return err;
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
	nonce_init();
	/*
	 * From here on the kernel writes only emergencies to the console
	 * (a panic or an oops raises the level again by itself): this runner
	 * relays every record from /dev/kmsg, and a kernel line written into
	 * the middle of one of our records would cut it.
	 */
	klogctl(8, NULL, 1);	/* SYSLOG_ACTION_CONSOLE_LEVEL */
	/*
	 * The kernel's report of a process killed by a fault ("segfault at")
	 * is rate limited by this setting on x86 (arm64's has a limit of its
	 * own): report every one.
	 */
	write_file("/proc/sys/kernel/printk_ratelimit", "0");
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
	int crashes;			/* processes killed by a fault */
	char first_crash[512];
	unsigned long long lost;	/* records lost */
	int loud;			/* print records as they come */
	int dumping;			/* we asked for task stacks */
	size_t used, nkept, hidden;	/* records kept back, and dropped */
	size_t dropped;			/* not relayed: the console lagged */
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
		out("# kmsg(hidden): %zu earlier records not shown", k->hidden);
	for (p = kept; p < kept + k->used; p += strlen(p) + 1)
		out("%s", p);
	k->used = 0;
	k->nkept = 0;
	k->hidden = 0;
}

/*
 * A kernel record that says a user process was killed by a fault: x86's
 * "NAME[PID]: segfault at ..." and "traps: NAME[PID] ...", arm64's
 * "NAME[PID]: unhandled exception: ...". NAME is the process's own
 * choice, so only what follows it is looked at.
 */
static int user_crash(const char *text)
{
	const char *p;

	if (!strncmp(text, "traps: ", 7))
		return 1;
	/* NAME may hold "]: " itself: try each "[PID]: ". */
	for (p = strstr(text, "]: "); p; p = strstr(p + 1, "]: ")) {
		const char *d = p;

		while (d > text && d[-1] >= '0' && d[-1] <= '9')
			d--;
		if (d == p || d == text || d[-1] != '[')
			continue;
		if (!strncmp(p + 3, "segfault at ", 12) ||
		    !strncmp(p + 3, "unhandled exception", 19))
			return 1;
	}
	return 0;
}

/*
 * Read every record available now. Each is relayed as "# kmsg(CLASS):
 * TEXT": alarm (a complaint of the kernel, kmsg_alarm()), crash (a user
 * process killed by a fault), kernel (any other record of the kernel's)
 * or user (written by a process); a gap as "# kmsg(lost): N before SEQ".
 */
static void kscan_read(struct kscan *k)
{
	static char rec[16384];
	char line[LINE_MAX_LEN + 32];
	unsigned long long seq;
	unsigned int prio;
	const char *class;
	size_t len;
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
			if (!k->loud)
				kscan_flush(k);
			k->loud = 1;
			out("# kmsg(lost): %llu before %llu", seq - next_seq, seq);
		}
		next_seq = seq + 1;

		text = strchr(rec, ';');
		text = text ? text + 1 : rec;
		text[strcspn(text, "\n")] = '\0';
		if ((prio >> 3) != 0)
			class = "user";
		else if (user_crash(text))
			class = "crash";
		/* The stacks we asked for are not the kernel's complaint. */
		else if (kmsg_alarm(text) &&
			 !(k->dumping && !strncasecmp(text, "Call trace:", 11)))
			class = "alarm";
		else
			class = "kernel";
		if (!strcmp(class, "alarm") && !k->bad++)
			snprintf(k->first_bad, sizeof(k->first_bad), "%.400s", text);
		if (!strcmp(class, "crash") && !k->crashes++)
			snprintf(k->first_crash, sizeof(k->first_crash), "%.400s", text);
		if ((!strcmp(class, "alarm") || !strcmp(class, "crash")) && !k->loud) {
			kscan_flush(k);
			k->loud = 1;
		}
		snprintf(line, sizeof(line), "# kmsg(%s): %.*s", class,
			 LINE_MAX_LEN, text);
		if (k->loud && outq_len - outq_head > OUTQ_MAX) {
			k->dropped++;
			continue;
		}
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

/*
 * Read the kernel log until it has been quiet for 200 ms (2 s at most):
 * what the kernel still reports as a program ends (the rest of a report,
 * a delayed warning of its exit) is that program's, not the next one's.
 */
static void kscan_settle(struct kscan *k)
{
	double end = now() + 2, quiet = now() + 0.2;
	unsigned long long seen;

	do {
		struct pollfd pf = { .fd = kmsg_fd, .events = POLLIN };

		seen = next_seq;
		poll(&pf, 1, 50);
		kscan_read(k);
		if (next_seq != seen)
			quiet = now() + 0.2;
		out_pump();
	} while (kmsg_fd >= 0 && now() < quiet && now() < end);
}

/* Print everything kept back, e.g. after a timeout. */
static void kscan_show(struct kscan *k)
{
	kscan_read(k);
	if (!k->loud)
		kscan_flush(k);
	k->loud = 1;
}

/*
 * /proc, mounted again if a program unmounted it or mounted something
 * over it (another file system, or the proc of a PID namespace of its
 * own, where /init is not PID 1): the runner finds leftovers there.
 * Returns 1 if it had to.
 */
static int proc_again(void)
{
	char self[16];
	struct statfs sf;
	ssize_t n;

	n = readlink("/proc/self", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	if (atoi(self) == getpid() && !statfs("/proc", &sf) &&
	    sf.f_type == 0x9fa0)	/* PROC_SUPER_MAGIC */
		return 0;
	while (!umount2("/proc", MNT_DETACH))
		;
	mount("proc", "/proc", "proc", 0, NULL);
	return 1;
}

/*
 * A user process other than /init that still runs: alive, or a zombie
 * whose threads live on (a thread group leader that exited while another
 * thread did not). Its name goes to COMM.
 */
static int user_process(const char *pid, char *comm, size_t commlen)
{
	char path[300], buf[1024], *p, *open_paren, state = 0;
	unsigned long flags = 0;
	long threads = 0;
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
	/* "pid (comm) state ppid pgrp session tty tpgid flags (10..19) threads" */
	p = strrchr(buf, ')');
	open_paren = strchr(buf, '(');
	if (!p || !open_paren ||
	    sscanf(p + 2, "%c %*d %*d %*d %*d %*d %lu %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %ld",
		   &state, &flags, &threads) != 3)
		return 0;
	if (flags & 0x00200000)		/* PF_KTHREAD */
		return 0;
	if ((state == 'Z' || state == 'X') && threads <= 1)
		return 0;		/* dead: reaped below */
	snprintf(comm, commlen, "%.*s%s", (int)(p - open_paren - 1), open_paren + 1,
		 state == 'Z' ? "(zombie leader)" : "");
	return 1;
}

/* The user processes still running; the first names go to NAMES. */
static int scan_processes(char *names, size_t len)
{
	char comm[64];
	struct dirent *d;
	int n = 0;
	DIR *dir;

	if (names)
		names[0] = '\0';
	dir = opendir("/proc");
	if (!dir)
		return 0;
	while ((d = readdir(dir))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		if (!user_process(d->d_name, comm, sizeof(comm)))
			continue;
		if (names && n++ < 8)
			snprintf(names + strlen(names), len - strlen(names),
				 "%s%s", names[0] ? "," : "", comm);
		else if (!names)
			n++;
	}
	closedir(dir);
	return n;
}

static void reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/*
 * Kill every process but /init and reap them, until none is left or 30 s
 * have passed (thousands of processes take a while to die; a task stuck
 * in the kernel never does). /init is PID 1: orphans are its children.
 * Returns how many there were at first (their first names go to NAMES);
 * *UNDEAD gets how many were still there at the end.
 */
static int kill_leftovers(char *names, size_t len, int *undead)
{
	double deadline = now() + 30;
	int n, left;

	reap();
	n = scan_processes(names, len);
	left = n;
	while (left && now() < deadline) {
		kill(-1, SIGKILL);
		usleep(20000);
		reap();
		left = scan_processes(NULL, 0);
	}
	*undead = left;
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

/* Append "; " (unless WHY is empty) and a formatted reason to WHY. */
static void because(char *why, size_t len, const char *fmt, ...)
{
	size_t n = strlen(why);
	va_list ap;

	if (n + 3 >= len)
		return;
	if (n) {
		strcpy(why + n, "; ");
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(why + n, len - n, fmt, ap);
	va_end(ap);
}

/* Append the kernel's part of a verdict to WHY. */
static void kernel_why(const struct kscan *k, char *why, size_t len)
{
	if (k->bad)
		because(why, len, "kernel: %s", k->first_bad);
	if (k->crashes)
		because(why, len, "a process crashed: %s", k->first_crash);
	if (k->lost)
		because(why, len, "kernel log: %llu records lost", k->lost);
}

/* What a program said of itself in KTAP, at its top level. */
struct selfreport {
	int plan;		/* its "1..N", or -1 */
	int results;		/* its "ok"/"not ok" lines */
	int failed;		/* its "not ok" lines */
	int bailed;		/* it printed "Bail out!" */
	char first_failed[256];
	char skip_reason[256];	/* of "1..0 # SKIP" or its last SKIP */
};

struct result {
	int status;		/* wait status */
	int timed_out;
	int leftovers, undead;
	char leftover_names[256];
	int proc_unmounted;
	double secs;
	struct selfreport self;
};

/*
 * Read one line of a program's output as KTAP, as a terminal would show
 * it: from its last "\r" on, without control characters (a NUL or a
 * progress line in front of "not ok" does not hide it). Only unindented
 * lines are the program's own results.
 */
static void self_line(struct selfreport *s, const char *raw, size_t len)
{
	char line[LINE_MAX_LEN];
	const char *hash;
	size_t i = len, n = 0;
	int num;

	while (i > 0 && raw[i - 1] != '\r')
		i--;
	for (; i < len && n < sizeof(line) - 1; i++) {
		if ((unsigned char)raw[i] >= 0x20 && raw[i] != 0x7f)
			line[n++] = raw[i];
	}
	line[n] = '\0';
	hash = strstr(line, " # SKIP");
	if (!strncmp(line, "Bail out!", 9)) {
		s->bailed = 1;
	} else if (sscanf(line, "1..%d", &num) == 1 && s->plan < 0) {
		s->plan = num;
	} else if (sscanf(line, "not ok %d", &num) == 1) {
		s->results++;
		if (!s->failed++)
			snprintf(s->first_failed, sizeof(s->first_failed), "%.200s", line);
	} else if (sscanf(line, "ok %d", &num) == 1) {
		s->results++;
	} else {
		hash = NULL;
	}
	if (hash && !strncmp(line, "1..", 3))
		hash = strstr(line, "# SKIP") - 1;
	if (hash)
		snprintf(s->skip_reason, sizeof(s->skip_reason), "%.200s",
			 hash[7] == ' ' ? hash + 8 : hash + 7);
}

/* Copy a program's output, indented, a whole line at a time. */
static ssize_t copy_output(int fd, char *line, size_t *linelen, struct selfreport *s)
{
	char buf[LINE_MAX_LEN];
	ssize_t n, i;

	n = read(fd, buf, sizeof(buf));
	for (i = 0; i < n; i++) {
		if (buf[i] == '\n' || *linelen == LINE_MAX_LEN - 1) {
			record(line, *linelen);
			self_line(s, line + 4, *linelen - 4);
			*linelen = 4;
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
	char line[LINE_MAX_LEN + 4] = "    ";
	size_t linelen = 4;
	int pfd[2], exited = 0, pipe_open = 1, i;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->self.plan = -1;
	if (pipe(pfd) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char dir[LINE_MAX_LEN], *slash;
		int null = open("/dev/null", O_RDONLY);

		setsid();
		/* Not the console: what a program writes there is not ours. */
		dup2(null, STDIN_FILENO);
		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		if (null > 2)
			close(null);
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
			out_flush();
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
			copy_output(pfd[0], line, &linelen, &r->self);
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
	 * Leftovers (children in other sessions or process groups, threads
	 * of an exited leader) die first, so that the output they hold open
	 * ends; then whatever is buffered is copied, without waiting for
	 * more. What the kernel logged until they were gone is this
	 * program's.
	 */
	r->proc_unmounted = proc_again();
	r->leftovers = kill_leftovers(r->leftover_names, sizeof(r->leftover_names),
				      &r->undead);
	while (copy_output(pfd[0], line, &linelen, &r->self) > 0)
		;
	if (linelen > 4) {
		record(line, linelen);
		self_line(&r->self, line + 4, linelen - 4);
	}
	close(pfd[0]);
	r->secs = now() - start;
	kscan_settle(k);
	if (k->dropped)
		out("# kmsg(hidden): %zu records not shown, the console could not keep up",
		    k->dropped);
	return 0;
}

/*
 * Lock debugging switches itself off after its first report, or when the
 * kernel is tainted, and prove_locking can be switched off by hand
 * (/sys/module/lockdep/parameters); the assertions the tests rely on are
 * dead then. Returns 1 if it is still on, 0 if off (WHY says how), -1 if
 * this kernel has none.
 */
static int lock_debugging_on(char *why, size_t len)
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
	if (!atoi(p + strlen("debug_locks:"))) {
		snprintf(why, len, "debug_locks is 0: %s",
			 "lock debugging switched itself off, its checks are dead");
		return 0;
	}
	fd = open("/sys/module/lockdep/parameters/prove_locking", O_RDONLY);
	if (fd >= 0) {
		n = read(fd, buf, 8);
		close(fd);
		if (n > 0 && (buf[0] == 'N' || buf[0] == '0')) {
			snprintf(why, len, "prove_locking is off: %s",
				 "lockdep's checks are dead although debug_locks is 1");
			return 0;
		}
	}
	return 1;
}

/*
 * The facts behind a result, as data: the host judges these, not the
 * wording of the result line. Printed before the result.
 */
static void print_facts(const char *name, const struct result *r, const struct kscan *k)
{
	int st = r->status;

	/* One line, so that it can be grepped for: the keys are the data. */
	out("# facts: %s exit=%d signal=%d timeout=%d alarms=%d crashes=%d lost=%llu leftovers=%d undead=%d proc_unmounted=%d plan=%d results=%d self_failed=%d bailed=%d secs=%.1f",
	    name, WIFEXITED(st) ? WEXITSTATUS(st) : -1, WIFSIGNALED(st) ? WTERMSIG(st) : 0,
	    r->timed_out, k->bad, k->crashes, k->lost, r->leftovers, r->undead,
	    r->proc_unmounted, r->self.plan, r->self.results, r->self.failed,
	    r->self.bailed, r->secs);
}

int main(void)
{
	int pass = 0, fail = 0, skip = 0, i, dl;
	char why[1024], dlwhy[256];
	struct result none = { 0 };
	struct utsname uts;
	struct kscan k;

	setup();
	load_list("/tests/list");

	out("TAP version 13");
	out("1..%d", ntests + 2);
	if (!uname(&uts))
		out("# uname: %s %s %s", uts.release, uts.machine, uts.version);

	kscan_begin(&k);
	kscan_read(&k);
	why[0] = '\0';
	kernel_why(&k, why, sizeof(why));
	none.self.plan = -1;
	print_facts("boot", &none, &k);
	if (kmsg_fd < 0) {
		out("not ok 1 boot # cannot read /dev/kmsg: %s", strerror(errno));
		fail++;
	} else if (why[0]) {
		out("not ok 1 boot # %s", why);
		fail++;
	} else {
		out("ok 1 boot");
		pass++;
	}

	for (i = 0; i < ntests; i++) {
		struct test *t = &tests[i];
		struct result r;
		int st;

		why[0] = '\0';
		out("# runner: %s: starting (limit %d s)", t->name, t->timeout);
		out_flush();
		kscan_begin(&k);
		if (run_one(t, &k, &r) < 0)
			because(why, sizeof(why), "cannot start: %s", strerror(errno));
		st = r.status;
		if (r.timed_out)
			because(why, sizeof(why), "TIMEOUT after %d s", t->timeout);
		else if (WIFSIGNALED(st))
			because(why, sizeof(why), "killed by signal %d", WTERMSIG(st));
		else if (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 4)
			because(why, sizeof(why), "exit status %d", WEXITSTATUS(st));
		else if (r.self.failed)
			/* Its exit status does not see its own failure. */
			because(why, sizeof(why), "exit status %d but it printed \"%s\"",
				WEXITSTATUS(st), r.self.first_failed);
		if (r.self.bailed)
			because(why, sizeof(why), "it printed \"Bail out!\"");
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && r.self.plan >= 0 &&
		    r.self.plan != r.self.results)
			because(why, sizeof(why),
				"exit status 0 but %d result(s) of its plan 1..%d",
				r.self.results, r.self.plan);
		if (r.leftovers)
			because(why, sizeof(why), "left %d process(es) running: %s%s",
				r.leftovers, r.leftover_names,
				r.undead ? " (some would not die)" : "");
		if (r.proc_unmounted)
			because(why, sizeof(why), "/proc was unmounted (mounted again)");
		kernel_why(&k, why, sizeof(why));
		print_facts(t->name, &r, &k);
		out("# runner: %s: done in %.1f s", t->name, r.secs);

		if (why[0]) {
			out("not ok %d %s # %s", i + 2, t->name, why);
			fail++;
		} else if (WEXITSTATUS(st) == 4) {
			out("ok %d %s # SKIP %s", i + 2, t->name, r.self.skip_reason[0] ?
			    r.self.skip_reason : "(exit status 4, no reason printed)");
			skip++;
		} else {
			out("ok %d %s", i + 2, t->name);
			pass++;
		}
		out_flush();
	}

	/*
	 * The last result: lock debugging still on, and nothing logged
	 * since the last program (a record read last, just before power-off).
	 */
	why[0] = '\0';
	kscan_begin(&k);
	kscan_settle(&k);
	kernel_why(&k, why, sizeof(why));
	print_facts("lock-debugging", &none, &k);
	dl = lock_debugging_on(dlwhy, sizeof(dlwhy));
	if (dl == 0)
		because(why, sizeof(why), "%s", dlwhy);
	if (why[0]) {
		out("not ok %d lock-debugging # %s", ntests + 2, why);
		fail++;
	} else if (dl == 1) {
		out("ok %d lock-debugging", ntests + 2);
		pass++;
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
