/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What makes a kernel log record a complaint: its text contains one of
 * these strings. Only records the kernel wrote count (syslog facility 0);
 * a user process can write anything to /dev/kmsg.
 *
 * This is the project's only list: the tests (futex_pi.h), the guest's
 * /init and the verdict (scripts/verdict.py, which reads the quoted
 * strings below, one a line) all use it.
 */
#ifndef KMSG_ALARMS_H
#define KMSG_ALARMS_H

static const char * const kmsg_alarms[] = {
	"WARNING:",
	"BUG:",
	"Oops",
	"Kernel panic",
	"Unable to handle kernel",
	"general protection",
	"possible recursive locking",
	"possible circular locking",
	"inconsistent lock state",
	"DEBUG_LOCKS_WARN_ON",
	"Disabling lock debugging",
	"turning off the locking correctness validator",
	"detected stalls",
	"rcu: INFO:",
	"self-detected stall",
	"blocked for more than",
	"soft lockup",
	"hard LOCKUP",
	"scheduling while atomic",
	"sleeping function called from invalid context",
	"Call Trace:",
	"Call trace:",
};

#endif /* KMSG_ALARMS_H */
