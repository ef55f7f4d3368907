/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What makes a kernel log record a complaint: its text begins with one
 * of these strings. Only records the kernel wrote count (syslog facility
 * 0); a user process can write anything to /dev/kmsg. The match is at the
 * start of the record because many kernel records quote a process's name,
 * which the process chose: "Oops[42]: segfault at 0 ..." is a process
 * named Oops that crashed, not a kernel oops.
 *
 * This is the project's only list: the tests (kmsg_watch.h) and the
 * guest's /init use it through kmsg_alarm(); /init marks the records it
 * relays as "kmsg(alarm)" for the host, which keeps no list of its own.
 */
#ifndef KMSG_ALARMS_H
#define KMSG_ALARMS_H

#include <string.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

static const char * const kmsg_alarms[] = {
	"WARNING:",		/* WARN(), and lockdep's reports */
	"BUG:",
	"kernel BUG at",
	"Oops:",
	"Internal error: Oops",	/* arm64 */
	"Kernel panic",
	"Unable to handle kernel",
	"general protection fault",
	"DEBUG_LOCKS_WARN_ON",
	"Disabling lock debugging",
	"turning off the locking correctness validator",
	"rcu: INFO:",		/* RCU stalls */
	"INFO: task ",		/* ... blocked for more than N seconds */
	"watchdog: BUG: soft lockup",
	"watchdog: Watchdog detected hard LOCKUP",
	"NMI watchdog: Watchdog detected hard LOCKUP",
	"Call Trace:",
	"Call trace:",
};

/* TEXT (a kernel record's text) is a complaint. */
static inline int kmsg_alarm(const char *text)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kmsg_alarms); i++) {
		if (!strncmp(text, kmsg_alarms[i], strlen(kmsg_alarms[i])))
			return 1;
	}
	return 0;
}

#endif /* KMSG_ALARMS_H */
