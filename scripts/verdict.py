#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn a guest's serial log into results and a verdict.

The one place where a serial log is read: `make run` (scripts/run.sh), `make
check` (scripts/matrix/check.sh), the LAVA and measurement scripts and `make
selftest` (scripts/verdict_test.py) all call it, and read what it wrote
(verdict.json), never its printed lines.

What is read, and what is trusted:

- The runner's records. /init (guest/init.c) writes every line of its own
  as a framed record: "~" NONCE SEQ CRC " " PAYLOAD (three fields of 8 hex
  digits; CRC-32 over NONCE, SEQ and PAYLOAD; PAYLOAD's bytes outside
  printable ASCII and its backslashes escaped as \\xNN). The first record
  (SEQ 0) fixes NONCE. Only records with that NONCE, a right CRC and the
  next SEQ are read; a record cut by a kernel message, a missing one, or a
  framed line with another NONCE (something else wrote to the console)
  fails the run. Programs' output is inside records (indented, escaped),
  so no program can write a runner line, and a carriage return or a NUL
  in it is a byte like any other.
- The kernel records /init relays, each with the class /init gave it:
  "# kmsg(alarm|crash|kernel|user|hidden|lost): TEXT" (alarm: the text
  begins with an entry of kmsg_alarms.h; crash: a user process killed by a
  fault; user: written by a process). The host keeps no alarm list.
- "# facts: NAME key=value ..." before each result: what the runner saw
  (exit status, signal, time-out, kernel complaints, crashes, lost
  records, leftovers, the program's own KTAP). A result must agree with
  its facts.
- "# evidence: KIND key=value ..." lines in a program's output: what a
  failed test saw, as data (kmsg_watch.h's EVIDENCE()). An expected
  failure counts only when every failed test of the program has evidence
  of the expected kind and no other failure (a failed EXPECT/ASSERT, a
  test that was terminated).
- The console's other lines are the kernel's console: read only to say why
  a guest that did not finish stopped (a panic, an IRQ disabled, its last
  lines), never for a result.

Expectations (--expect):

  pass    every program passed (or skipped), the kernel log stayed clean,
          lock debugging is still on
  bug     the assertion warned from futex_lock_pi and from
          futex_wait_requeue_pi, and nothing else went wrong: every kernel
          complaint is a WARNING at an assertion site (SITES) with its
          trace, no trace goes through a block plug flush, only futex
          programs failed and each only with kmsg-alarm evidence
  einval  the stale pi_state test (pi_deadline_stress) fails with
          futex-errors evidence of EINVAL (and of the two rarer errnos of
          the same cause), and only it, for that only
  stale   the kernel is affected, as user space sees it without lock
          debugging: stale_boost fails, each failed variant with
          stale-boost evidence that the owner kept the leaving waiter's
          boost, and nothing else fails
  deadlock  the upstream selftest futex_lock_pi_deadlock failed because
          FUTEX_LOCK_PI returned ETIMEDOUT where it must return EDEADLK
          (the ww_ctx bug, patches/upstream), nothing else failed and the
          kernel log stayed clean. (An upstream test: it states no
          evidence of ours; the kselftest harness's line for its failed
          EXPECT_EQ is read as data: test, values, operator.)
  plug    the assertion warned from a block plug flush in
          sched_submit_work() (rt-plug/plug_flush) and from nothing else,
          and only that program failed, with kmsg-alarm evidence only
  sleep   a requeued waiter slept in rt_mutex_wait_proxy_lock() without
          rt_mutex_pre_schedule() (the series before its patch 9):
          requeue_pi_steal failed, with kmsg-alarm evidence only, because
          rt_mutex_schedule()'s assertion warned (kernel/sched/core.c) with
          rt_mutex_wait_proxy_lock() in the trace; no other complaint and
          no other failure
  oops    FUTEX_CMP_REQUEUE_PI onto a futex a waiter owns oopsed: a kernel
          NULL pointer dereference in remove_waiter() <-
          rt_mutex_start_proxy_lock() <- futex_requeue() (kernels with the
          remove_waiter() fix but not 40a25d59e85b, e.g. Debian's
          6.1.176) during requeue_pi_edeadlk; that program failed for
          the oops and what it leaves (a test ended by the harness's
          timeout, threads that cannot die), nothing else failed

Whatever the expectation, the guest must have finished (not hung, not
panicked), every result the plan announced must be there once, no kernel
record may have been lost, and lock debugging must still be on.

The log is QEMU's serial output (scripts/boot-qemu.sh), or with --lava the
log of a LAVA job that booted the guest (scripts/lava/lava.sh): its console
lines are read the same way, the job's own errors (a monitor that timed
out: a hung guest) count as how the guest ended, and the results LAVA
recorded from the console must be the runner's results, one for one.

Output: --json FILE gets the verdict as data (expectation, met or not,
what was observed, counts, problems, the results with their facts, the
kernel, the stale_boost answer); --results FILE the runner's KTAP results
with a line for each problem found outside them. Printed for people: the
results, the problems, "verdict: ok|FAIL: OBSERVED" and "N passed, N
failed, N skipped". Exit 0 if the expectation is met.
"""

import argparse
import errno
import gzip
import json
import os
import re
import sys
import zlib

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FRAME = re.compile(r"~([0-9a-f]{8})([0-9a-f]{8})([0-9a-f]{8}) ")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A line of the kernel's console (printk's time stamp first).
KERNEL_LINE = re.compile(r"\[\s*\d+\.\d{6}\] ")
# How many lines after a cut record the kernel may have cut it again.
MEND_LINES = 8
ESCAPE = re.compile(r"\\x([0-9a-f]{2})")
RESULT = re.compile(r"^(ok|not ok) (\d+) (\S+)(?: # (.*))?$")
PLAN = re.compile(r"^1\.\.(\d+)$")
STARTING = re.compile(r"^# runner: (\S+): starting")
KMSG = re.compile(r"^# kmsg\((\w+)\): (.*)$")
FACTS = re.compile(r"^# facts: (\S+)((?: \w+=\S+)*)$")
UNAME = re.compile(r"^# uname: (\S+) (\S+) (.*)$")
EVIDENCE = re.compile(r"^# evidence: ([\w-]+)((?: [\w-]+=\S*)*)\s*$")
# A WARNING and where it was raised: "WARNING: CPU: 1 PID: 41 at FILE:LINE fn+0x..".
WARNING_AT = re.compile(r"^WARNING: CPU: \d+ PID: \d+ at (\S+) ")
# The kselftest harness's line for a failed EXPECT/ASSERT ("# FILE:LINE:TEST:Expected
# ..."), and for a test that timed out or died.
HARNESS_FAIL = re.compile(r"^# \S+?:\d+:\S+?:Expected ")
TERMINATED = re.compile(r"^# \S+: Test terminated")
SUBTEST = re.compile(r"^(not ok|ok) \d+ (\S+)")
PANIC = re.compile(r"^(\[[ \d.]+\] )?(Kernel panic - not syncing.*)$")
DISABLED_IRQ = re.compile(r"\bDisabling IRQ #(\d+)\s*$")

STALE_PROG = "futex-pi/stale_boost"
STRESS_PROG = "futex-pi/pi_deadline_stress"
PLUG_PROG = "rt-plug/plug_flush"
STEAL_PROG = "futex-pi/requeue_pi_steal"
OOPS_PROG = "futex-pi/requeue_pi_edeadlk"
# The call chain of the oops 40a25d59e85b fixes, innermost first.
OOPS_FRAMES = ("remove_waiter", "rt_mutex_start_proxy_lock", "futex_requeue")
DEADLOCK_PROG = "futex/futex_lock_pi_deadlock"


def shown(line):
    """A program's output line as a terminal shows it: from its last
    carriage return on, without control characters."""
    return CONTROL.sub("", line.rsplit("\r", 1)[-1])


def kv(text):
    """"a=1 b=x" as a dict; values that are integers become ints."""
    out = {}
    for item in text.split():
        k, _, v = item.partition("=")
        out[k] = int(v) if re.fullmatch(r"-?\d+", v) else v
    return out


class Stream:
    """The runner's records and the console's other lines, from raw lines.

    RAW is the console as lines of text (bytes as latin-1, so that every
    byte is one character), without their line ends.
    """

    def __init__(self, raw):
        self.records, self.console, self.problems = [], [], []
        self.order = []        # ("record", escaped payload) or ("console", line)
        self.mended = 0        # records a kernel line had cut, put together again
        nonce, seq = None, 0
        garbled, foreign, missing, replayed = [], 0, 0, 0
        raw = [line[:-1] if line.endswith("\r") else line for line in raw]
        skip = False
        for i, line in enumerate(raw):
            if skip:
                skip -= 1
                continue
            m = FRAME.search(line)
            if m and not self.valid(line[m.start():]):
                mended = self.mend(line[m.start():], raw[i + 1:i + 1 + MEND_LINES])
                if mended:
                    record, kernel, skip = mended
                    line = line[:m.start()] + record
                    for k in kernel:
                        self.console.append(k)
                        self.order.append(("console", k))
                    self.mended += 1
            if not m:
                self.console.append(line)
                self.order.append(("console", line))
                continue
            if line[:m.start()].strip():
                self.console.append(line[:m.start()])
                self.order.append(("console", line[:m.start()]))
            n, s, crc = m.groups()
            payload = line[m.end():]
            ok = zlib.crc32((n + s + payload).encode("latin-1", "replace")) == int(crc, 16)
            # The first record with a right checksum fixes the number
            # (record 0 if nothing cut it; the ones before it are missing).
            if nonce is None and ok:
                nonce = n
            if n != nonce or not ok:
                if n != nonce and ok:
                    foreign += 1
                else:
                    garbled.append(line)
                self.order.append(("console", line[m.start():]))
                continue
            s = int(s, 16)
            if s < seq:
                replayed += 1
                continue
            missing += s - seq
            seq = s + 1
            self.records.append(ESCAPE.sub(lambda e: chr(int(e.group(1), 16)), payload))
            self.order.append(("record", payload))
        # A log cut while a record was on its way (a guest killed at its
        # time limit, a LAVA monitor that gave up) ends inside it.
        self.cut = bool(garbled) and garbled[-1] == next((l.rstrip("\r") for l in reversed(raw)
                                                          if l.strip()), None)
        if self.cut:
            garbled.pop()
            self.problems.append("the log ends inside a runner record")
        if garbled:
            self.problems.append(f"{len(garbled)} runner record(s) garbled (wrong checksum: "
                                 f"cut by a kernel message or a write to the console), "
                                 f"the first: {garbled[0][:120]!r}")
        if missing:
            self.problems.append(f"{missing} runner record(s) missing from the sequence")
        if self.mended:
            self.notes = [f"{self.mended} runner record(s) cut by a kernel console line, "
                          "put together again (their checksums hold)"]
        else:
            self.notes = []
        if replayed:
            self.problems.append(f"{replayed} runner record(s) repeated or out of order")
        if foreign:
            self.problems.append(f"{foreign} framed line(s) not from this runner (another "
                                 "number): something else wrote to the console")


    @staticmethod
    def valid(text):
        """TEXT begins with a frame whose checksum is right for the rest."""
        m = FRAME.match(text)
        return bool(m) and zlib.crc32((m.group(1) + m.group(2) + text[m.end():])
                                      .encode("latin-1", "replace")) == int(m.group(3), 16)

    @classmethod
    def mend(cls, text, after):
        """A record TEXT whose checksum fails, because the kernel wrote
        console lines ("[ SECONDS] ...") into it: the record before the
        first such line, alone or continued on the lines AFTER (each up to
        the kernel line that cut it in turn, if one did), checks out. An
        oops's register dump, printed while the runner wrote the oops's
        first line, cut it twice (Debian 6.1.176, make check 2026-12-07).
        Returns (record, the kernel's lines, how many lines of AFTER it
        took) or None."""
        for k in KERNEL_LINE.finditer(text, FRAME.match(text).end() if FRAME.match(text) else 0):
            head, kernel = text[:k.start()], [text[k.start():]]
            if cls.valid(head):
                return head, kernel, 0
            for j, line in enumerate(after):
                if FRAME.search(line):
                    break
                cut = KERNEL_LINE.search(line)
                head += line[:cut.start()] if cut else line
                if cut:
                    kernel.append(line[cut.start():])
                if cls.valid(head):
                    return head, kernel, j + 1
                if not cut:
                    break
        return None


class Result:
    def __init__(self, ok, num, name, directive, facts):
        self.ok, self.num, self.name, self.directive, self.facts = ok, num, name, directive, facts

    @property
    def skipped(self):
        return self.ok and self.directive.startswith("SKIP")

    def ktap(self):
        return f"{'ok' if self.ok else 'not ok'} {self.num} {self.name}" + \
            (f" # {self.directive}" if self.directive else "")


class Program:
    """One top-level result and what was printed while it ran."""

    def __init__(self, name):
        self.name = name
        self.output = []       # its own lines, unindented
        self.kmsg = []         # (class, text) of the kernel records /init relayed while it ran
        self.result = None

    def subtests(self):
        """Its failed tests: (name, evidence [(KIND, {k: v})], other failures [line]).

        Each line is read as the runner reads it before it counts the
        program's own results (guest/init.c, self_line()): from its last
        carriage return on, without control characters.
        """
        failed, evidence, other = [], [], []
        for line in map(shown, self.output):
            m = EVIDENCE.match(line)
            if m:
                evidence.append((m.group(1), kv(m.group(2))))
                continue
            if HARNESS_FAIL.match(line) or TERMINATED.match(line):
                other.append(line)
                continue
            m = SUBTEST.match(line)
            if m:
                if m.group(1) == "not ok":
                    failed.append((m.group(2), evidence, other))
                evidence, other = [], []
        return failed

    def evidence(self, kind):
        """The KIND evidence it printed, as dicts."""
        return [kv(m.group(2)) for m in map(EVIDENCE.match, map(shown, self.output))
                if m and m.group(1) == kind]


class Log:
    def __init__(self, records):
        self.records = records
        self.plan = None
        self.results = []
        self.programs = []
        self.kmsg = []         # (class, text) of every kernel record /init relayed
        self.uname = None
        self.finished = False
        current, facts = Program("boot"), None
        for line in records:
            if line.startswith("    "):
                current.output.append(line[4:])
                continue
            m = PLAN.match(line)
            if m and self.plan is None:
                self.plan = int(m.group(1))
                continue
            m = STARTING.match(line)
            if m:
                current, facts = Program(m.group(1)), None
                continue
            m = KMSG.match(line)
            if m:
                self.kmsg.append((m.group(1), m.group(2)))
                current.kmsg.append((m.group(1), m.group(2)))
                continue
            m = FACTS.match(line)
            if m:
                facts = (m.group(1), kv(m.group(2)))
                continue
            m = UNAME.match(line)
            if m:
                self.uname = {"release": m.group(1), "machine": m.group(2), "version": m.group(3)}
                continue
            m = RESULT.match(line)
            if m:
                name = m.group(3)
                r = Result(m.group(1) == "ok", int(m.group(2)), name, m.group(4) or "",
                           facts[1] if facts and facts[0] == name else None)
                self.results.append(r)
                if name == current.name:
                    current.result = r
                    self.programs.append(current)
                current, facts = Program("(between programs)"), None
                continue
            if line == "# runner: powering off":
                self.finished = True
        # The program the runner was in when the records stopped, if any.
        self.stopped_in = None
        if not self.finished and current.name not in ("boot", "(between programs)"):
            self.stopped_in = current


# What makes the runner fail a result, from its facts (guest/init.c, main()).
def facts_failures(f):
    """What in a result's facts is a failure, as short phrases."""
    why = []
    if f.get("timeout"):
        why.append("timed out")
    if f.get("signal"):
        why.append(f"killed by signal {f['signal']}")
    if f.get("exit", 0) not in (0, 4, -1):
        why.append(f"exit status {f['exit']}")
    if f.get("exit") in (0, 4) and f.get("self_failed"):
        why.append(f"exit status {f['exit']} but it printed \"not ok\"")
    if f.get("exit") == 0 and f.get("plan", -1) >= 0 and f.get("plan") != f.get("results"):
        why.append(f"exit status 0 but {f.get('results')} result(s) of its plan 1..{f['plan']}")
    for key, what in (("bailed", "it printed \"Bail out!\""),
                      ("alarms", "kernel complaints"), ("crashes", "processes crashed"),
                      ("lost", "kernel records lost"), ("leftovers", "processes left running"),
                      ("proc_unmounted", "/proc unmounted")):
        if f.get(key):
            why.append(what if key == "bailed" else f"{f[key]} {what}")
    return why


def check_results(log, problems):
    """Every announced result is there, once, in order, and agrees with its facts."""
    if log.plan is None:
        problems.append("no test plan (1..N) among the runner's records")
        return
    nums = [r.num for r in log.results]
    missing = sorted(set(range(1, log.plan + 1)) - set(nums))
    dups = sorted({n for n in nums if nums.count(n) > 1})
    extra = sorted(n for n in set(nums) if n > log.plan)
    if missing:
        problems.append(f"{len(missing)} of {log.plan} result(s) missing: "
                        + ", ".join(str(n) for n in missing[:10]))
    if dups:
        problems.append("result number(s) seen twice: " + ", ".join(str(n) for n in dups[:10]))
    if extra:
        problems.append("result number(s) beyond the plan: " + ", ".join(str(n) for n in extra[:10]))
    if nums != sorted(nums):
        problems.append("results out of order")
    for r in log.results:
        if r.facts is None:
            problems.append(f"result {r.num} ({r.name}) has no facts record before it")
        elif r.ok and facts_failures(r.facts):
            problems.append(f"{r.name} passed although the runner saw: "
                            + ", ".join(facts_failures(r.facts)))
        elif r.skipped and r.facts.get("exit") != 4 and r.name != "lock-debugging":
            problems.append(f"{r.name} skipped, but its exit status was {r.facts.get('exit')}")


def guest_state(log, console, qemu_rc):
    """How the guest ended, if not by the runner's power-off: a phrase, or None."""
    if qemu_rc == 125 or not (log.records or console):
        return "silent: it printed nothing on its console (scripts/boot-qemu.sh, SILENCE)"
    if not log.records and qemu_rc not in (124, 137) and any("TAP version" in line for line in console):
        return ("unreadable: its console has results but no runner records (an /init older "
                "than framed records, or not guest/init.c)")
    if qemu_rc in (124, 137):
        # genirq's spurious-IRQ detector switched a line off; when it is
        # the console's, the guest's output stops there (BOOT-RELIABILITY.md).
        irq = next((m.group(1) for m in map(DISABLED_IRQ.search, console) if m), None)
        if irq:
            return (f"hung (killed after the time limit); the kernel had disabled IRQ {irq} "
                    "as spurious (\"nobody cared\"), and a console on it stops")
        return "hung (killed after the time limit)"
    if log.finished and qemu_rc == 126:
        return "hung at power-off: the runner finished, QEMU was killed POWEROFF_WAIT (30) s later (scripts/boot-qemu.sh)"
    if log.finished:
        return None
    # Only a guest whose runner did not finish can have panicked: panic
    # text from user space (a program's output is inside the runner's
    # records; a record written to /dev/kmsg is relayed as "user") never
    # stops the runner.
    panic = next((m.group(2) for m in map(PANIC.match, console) if m), None)
    if panic:
        return f"panicked: {panic[:200]}"
    return f"stopped before the runner finished (QEMU exit {qemu_rc})"


def lock_debugging(log, config, problems):
    """The runner's last result says whether lock debugging is still on."""
    res = [r for r in log.results if r.name == "lock-debugging"]
    if not res:
        problems.append("no lock-debugging result (was /init built from guest/init.c?)")
        return
    if res[-1].skipped and config and config_has(config, "CONFIG_LOCKDEP"):
        problems.append("the kernel has CONFIG_LOCKDEP but /init found no debug_locks")


def config_has(path, option):
    try:
        with open(path) as f:
            return any(line.strip() == f"{option}=y" for line in f)
    except OSError:
        return False


def consistent(prog, subs, problems):
    """The failed tests the verdict found in PROG's output are the ones the
    runner counted, and the program printed its whole plan: nothing it
    printed was left out of the judgement."""
    f = prog.result.facts or {}
    if f.get("plan", -1) >= 0 and f.get("plan") != f.get("results"):
        problems.append(f"{prog.name}: {f.get('results')} result(s) of its plan 1..{f['plan']}")
        return False
    if len(subs) != f.get("self_failed", 0):
        problems.append(f"{prog.name}: the runner counted {f.get('self_failed', 0)} failed "
                        f"test(s), the verdict read {len(subs)}")
        return False
    return True


def explained(sub, allowed):
    """A failed test whose failures are all evidence that ALLOWED (KIND, DATA) accepts."""
    _, evidence, other = sub
    return bool(evidence) and not other and all(allowed(k, e) for k, e in evidence)


def kmsg_alarm_only(kind, _):
    return kind == "kmsg-alarm"


def stale_boost(kind, e):
    """stale-boost evidence: the owner's priority was the leaving waiter's boost."""
    return kind == "stale-boost" and isinstance(e.get("prio"), int) and e.get("prio") == e.get("boost")


def the_bug(kind, e):
    """The bug as a test sees it: the kernel complained, or (stale_boost)
    the owner kept the boost of a waiter that had left."""
    return kind == "kmsg-alarm" or stale_boost(kind, e)


# Trace frames that say where an assertion report came from: the function,
# and the suffix the compiler may give a copy of it (5.10's
# "futex_wait_requeue_pi.constprop.0+0x4a9/0x510").
FRAMES = {
    "lock": "futex_lock_pi",
    "requeue": "futex_wait_requeue_pi",
    "plug": "__blk_flush_plug",
}
FRAME_AT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\.[a-z]+\.\d+)*\+0x")


def assert_reports(log, sites):
    """Count the assertion reports, their telling frames, other complaints.

    Reports from two CPUs interleave record by record, so a trace line
    belongs to an assertion report while any such report is open (from
    its WARNING to its "---[ end trace").
    """
    reports, frames, others, open_reports = 0, dict.fromkeys(FRAMES, 0), [], 0
    for cls, text in log.kmsg:
        t = text.strip()
        if cls not in ("kernel", "alarm"):
            continue
        if t.startswith("---[ end trace"):
            open_reports = max(0, open_reports - 1)
            continue
        if open_reports:
            m = FRAME_AT.match(t)
            for kind, frame in FRAMES.items():
                if m and m.group(1) == frame:
                    frames[kind] += 1
        if cls != "alarm":
            continue
        m = WARNING_AT.match(t)
        if m and m.group(1) in sites:
            open_reports += 1
            reports += 1
        elif open_reports and t in ("Call Trace:", "Call trace:"):
            pass
        else:
            others.append(t)
    return reports, frames, others


def crashed(log, problems):
    """A user process killed by a fault (the kernel said so) is a problem of its own."""
    crash = next((t for cls, t in log.kmsg if cls == "crash"), None)
    if crash:
        problems.append(f"a user process crashed: {crash.strip()[:200]}")


def failed_for_kernel_log(log, problems, allowed, evidence=kmsg_alarm_only):
    """Programs that failed: each must be in ALLOWED (a predicate on its
    name) and have failed only because the kernel complained, each of its
    failed tests with EVIDENCE only."""
    during = []
    for prog in log.programs:
        r = prog.result
        if r.ok:
            continue
        if not allowed(prog.name):
            problems.append(f"{prog.name} failed, which it must not here: {r.directive}")
            continue
        f = r.facts or {}
        beyond = [w for w in facts_failures(f)
                  if not w.endswith("kernel complaints") and w != "exit status 1"]
        if not f.get("alarms") or beyond:
            problems.append(f"{prog.name} failed beyond the kernel's warnings: "
                            + (", ".join(beyond) or "the runner saw no kernel complaint"))
            continue
        subs = prog.subtests()
        consistent(prog, subs, problems)
        other = [s[0] for s in subs if not explained(s, evidence)]
        if other:
            problems.append(f"{prog.name}: test(s) failed without evidence of the bug, or "
                            "with other failures: " + ", ".join(other[:5]))
        elif f.get("exit") == 1 and not subs:
            problems.append(f"{prog.name}: exit status 1 without a failed test")
        during.append(prog.name)
    return during


def verdict_bug(log, sites, problems):
    """The assertion warned from both futex paths, and nothing else failed."""
    if not sites:
        problems.append("no assertion sites given (is the assertion in the tree?)")
    _, frames, others = assert_reports(log, sites)
    lock, requeue = frames["lock"], frames["requeue"]
    during = failed_for_kernel_log(log, problems,
                                   lambda name: name.startswith(("futex-pi/", "futex/")), the_bug)
    observed = (f"assert warned from futex_lock_pi {lock}x, futex_wait_requeue_pi {requeue}x; "
                f"during: {' '.join(during) or 'nothing'}")
    if others:
        problems.append(f"kernel complaint not at an assertion site: {others[0][:200]}")
    crashed(log, problems)
    if frames["plug"]:
        problems.append(f"the assertion also warned from a block plug flush ({frames['plug']}x): "
                        "sched_submit_work() still runs with an rt_waiter enqueued")
    if not lock:
        problems.append("the assertion never warned from futex_lock_pi")
    if not requeue:
        problems.append("the assertion never warned from futex_wait_requeue_pi")
    return observed


def verdict_plug(log, sites, problems):
    """The assertion warned from the block plug flush, from nothing else."""
    if not sites:
        problems.append("no assertion sites given (is the assertion in the tree?)")
    reports, frames, others = assert_reports(log, sites)
    during = failed_for_kernel_log(log, problems, lambda name: name == PLUG_PROG)
    if PLUG_PROG not in (p.name for p in log.programs):
        problems.append(f"{PLUG_PROG} did not run")
    elif PLUG_PROG not in during:
        problems.append(f"{PLUG_PROG} did not fail for the kernel's warnings")
    observed = (f"assert warned {reports}x, from a block plug flush {frames['plug']}x; "
                f"during: {' '.join(during) or 'nothing'}")
    if others:
        problems.append(f"kernel complaint not at an assertion site: {others[0][:200]}")
    crashed(log, problems)
    if frames["lock"] or frames["requeue"]:
        problems.append("the assertion warned from the futex paths too")
    if not frames["plug"]:
        problems.append("the assertion never warned from a block plug flush")
    return observed


def verdict_sleep(log, problems):
    """requeue_pi_steal failed because rt_mutex_schedule() warned that
    rt_mutex_pre_schedule() had not run, in a requeued waiter's
    rt_mutex_wait_proxy_lock(); nothing else failed or complained."""
    reports = requeue = 0
    others = []
    for cls, text in log.kmsg:
        t = text.strip()
        if cls == "alarm":
            m = WARNING_AT.match(t)
            if m and m.group(1).startswith("kernel/sched/core.c:") and " rt_mutex_schedule+" in t:
                reports += 1
            elif t not in ("Call Trace:", "Call trace:"):
                others.append(t)
        elif cls == "kernel" and t.startswith("rt_mutex_wait_proxy_lock+"):
            requeue += 1
    prog = only_prog_failed(log, STEAL_PROG, problems)
    if prog is None:
        return f"{STEAL_PROG} did not run"
    during = failed_for_kernel_log(log, [], lambda name: name == STEAL_PROG)
    if STEAL_PROG not in during:
        problems.append(f"{STEAL_PROG} did not fail for the kernel's warnings only: {prog.result.directive}")
    if others:
        problems.append(f"kernel complaint other than rt_mutex_schedule()'s assertion: {others[0][:200]}")
    crashed(log, problems)
    if not reports:
        problems.append("rt_mutex_schedule() never warned")
    if not requeue:
        problems.append("no warning came through rt_mutex_wait_proxy_lock()")
    return (f"rt_mutex_schedule() warned {reports}x, through rt_mutex_wait_proxy_lock() "
            f"{requeue}x; during: {' '.join(during) or 'nothing'}")


def verdict_oops(log, problems):
    """requeue_pi_edeadlk's FUTEX_CMP_REQUEUE_PI oopsed: a NULL pointer
    dereference in remove_waiter() called by rt_mutex_start_proxy_lock()
    for a waiter it never enqueued (40a25d59e85b missing). Its program's
    failures are that oops and what the oops leaves behind (the test the
    harness ends by timeout, threads blocked for good on the locks the
    killed task held); no other program failed, no other complaint."""
    null = oops = 0
    chain, others = [], []
    for cls, text in log.kmsg:
        t = text.strip()
        if cls == "alarm":
            if t.startswith("BUG: kernel NULL pointer dereference"):
                null += 1
            elif t.startswith("Oops:"):
                oops += 1
            elif t not in ("Call Trace:", "Call trace:"):
                others.append(t)
        elif cls == "kernel" and "+" in t and t.split("+")[0] in OOPS_FRAMES:
            chain.append(t.split("+")[0])
    if log.stopped_in and log.stopped_in.name == OOPS_PROG:
        # The guest hung in the program (a CPU spinning for good on the
        # wait_lock the killed task held, and the other waiting for it):
        # no result, the oops is the evidence. Everything before passed.
        prog = log.stopped_in
        for r in log.results:
            if not r.ok:
                problems.append(f"{r.name} failed: {r.directive}")
        chain = oops_chain(prog.kmsg)
        if not any(cls == "alarm" and t.strip().startswith("BUG: kernel NULL pointer dereference")
                   for cls, t in prog.kmsg):
            problems.append(f"no kernel NULL pointer dereference while {OOPS_PROG} ran")
        if tuple(chain[:3]) != OOPS_FRAMES:
            problems.append(f"the oops is not in {' <- '.join(OOPS_FRAMES)}: {' <- '.join(chain[:3]) or 'no trace'}")
        return (f"{OOPS_PROG}: kernel NULL pointer dereference in {' <- '.join(chain[:3]) or '?'}; "
                "the runner stopped in it")
    prog = only_prog_failed(log, OOPS_PROG, problems)
    if prog is None:
        return f"{OOPS_PROG} did not run"
    f = prog.result.facts or {}
    beyond = [w for w in facts_failures(f) if not w.endswith(("kernel complaints", "processes left running"))
              and w != "exit status 1"]
    if prog.result.ok or not f.get("alarms") or beyond:
        problems.append(f"{OOPS_PROG} did not fail for the oops only: {prog.result.directive}")
    consistent(prog, prog.subtests(), problems)
    for name, evidence, other in prog.subtests():
        if not (explained((name, evidence, other), kmsg_alarm_only) or
                (not evidence and other and all(TERMINATED.match(o) for o in other))):
            problems.append(f"{OOPS_PROG}: {name} failed for another reason: "
                            + ((other or [f"{k} {e}" for k, e in evidence] or ["no evidence"])[0])[:200])
    if others:
        problems.append(f"kernel complaint other than the oops: {others[0][:200]}")
    crashed(log, problems)
    if not (null and oops):
        problems.append("no kernel NULL pointer dereference oops")
    if tuple(chain[:3]) != OOPS_FRAMES:
        problems.append(f"the oops is not in {' <- '.join(OOPS_FRAMES)}: {' <- '.join(chain[:3]) or 'no trace'}")
    return (f"{OOPS_PROG}: kernel NULL pointer dereference in {' <- '.join(chain[:3]) or '?'}; "
            f"{OOPS_PROG} {prog.result.directive or 'passed'}")


# The errnos a reused stale pi_state gives, by operation of
# pi_deadline_stress: FUTEX_LOCK_PI's EINVAL; rarer, the same cause seen
# from an unlock that finds the word no longer naming its caller (EPERM),
# and a robust mutex that reports its owner died while nobody died.
# (The processes' test counts its unlocks' failures under timedlock.)
STALE_ERRNOS = {"lock": {"EINVAL"}, "unlock": {"EPERM"},
                "timedlock": {"EINVAL", "EOWNERDEAD", "EPERM"}}


def stale_errnos(kind, e):
    return kind == "futex-errors" and \
        set(str(e.get("errnos", "")).split(",")) <= STALE_ERRNOS.get(e.get("op"), set())


def only_prog_failed(log, name, problems):
    """NAME's Program; every other program passed."""
    prog = None
    for p in log.programs:
        if p.name == name:
            prog = p
        elif not p.result.ok:
            problems.append(f"{p.name} failed: {p.result.directive}")
    if prog is None:
        problems.append(f"{name} did not run")
    return prog


def only_checks_failed(prog, problems):
    """PROG exited 1, the runner saw nothing else wrong, and the verdict
    read every failed test the runner counted."""
    beyond = [w for w in facts_failures(prog.result.facts or {}) if w != "exit status 1"]
    if beyond:
        problems.append(f"{prog.name} failed beyond its checks: " + ", ".join(beyond))
    consistent(prog, prog.subtests(), problems)


def verdict_einval(log, problems):
    """pi_deadline_stress fails with EINVAL, nothing else fails, the log is clean."""
    prog = only_prog_failed(log, STRESS_PROG, problems)
    if prog is None:
        return f"{STRESS_PROG} did not run"
    if prog.result.ok:
        problems.append(f"{STRESS_PROG} passed: no stale pi_state was reused")
        return f"{STRESS_PROG} passed"
    only_checks_failed(prog, problems)
    for name, evidence, other in prog.subtests():
        # Two owners at once only where the same test saw the owner's
        # unlock fail because the word named another (EPERM), or a
        # robust mutex report an owner that did not die (EOWNERDEAD):
        # the kernel handed the futex over a live owner.
        rewritten = sum(e["n"] for k, e in evidence if k == "futex-errors" and
                        isinstance(e.get("n"), int) and
                        set(str(e.get("errnos")).split(",")) & {"EPERM", "EOWNERDEAD"})
        counts = [e.get(key) for k, e in evidence if k == "mutex-violations"
                  for key in ("n", "lost_updates")]
        overlaps = max([c for c in counts if isinstance(c, int)] or [0])
        if not all(isinstance(c, int) for c in counts):
            problems.append(f"{STRESS_PROG}: {name}: mutex-violations evidence without counts")
        if overlaps > rewritten:
            problems.append(f"{STRESS_PROG}: {name}: {overlaps} mutual exclusion violation(s) "
                            f"(two owners at once), {rewritten} of them explained by a word "
                            "rewritten over a live owner (EPERM, EOWNERDEAD)")
        if not explained((name, evidence, other),
                         lambda k, e: stale_errnos(k, e) or k == "mutex-violations"):
            problems.append(f"{STRESS_PROG}: {name} failed beyond EINVAL: "
                            + ((other or [f"{k} {e}" for k, e in evidence] or ["no evidence"])[0])[:200])
    errs = prog.evidence("futex-errors")
    einval = {op: sum(e["n"] for e in errs if e.get("op") == op and e.get("errnos") == "EINVAL"
                      and isinstance(e.get("n"), int))
              for op in ("lock", "timedlock")}
    rare = [e for e in errs if e.get("errnos") != "EINVAL"]
    violations = sum(max(c for c in (e.get("n"), e.get("lost_updates"), 0) if isinstance(c, int))
                     for e in prog.evidence("mutex-violations"))
    if not sum(einval.values()):
        problems.append(f"{STRESS_PROG} saw no EINVAL")
    observed = (f"{STRESS_PROG}: {sum(einval.values())} EINVAL (threads' FUTEX_LOCK_PI "
                f"{einval['lock']}, processes' timedlock {einval['timedlock']})")
    if rare:
        observed += "; also " + ", ".join(f"{e.get('op')} {e.get('errnos')} x{e.get('n')}" for e in rare[:3])
    if violations:
        observed += f"; {violations} mutual exclusion violation(s)"
    return observed


def stale_boosts(prog):
    """The stale-boost evidence of PROG in which the owner had the waiter's boost."""
    return [e for e in prog.evidence("stale-boost") if stale_boost("stale-boost", e)]


def verdict_stale(log, problems):
    """stale_boost fails for the stale boost only; everything else passes."""
    prog = only_prog_failed(log, STALE_PROG, problems)
    if prog is None:
        return "stale_boost did not run"
    r = prog.result
    if r.skipped:
        problems.append(f"{STALE_PROG} skipped ({r.directive[4:].strip()}): it cannot tell "
                        "whether this kernel is affected")
        return "stale_boost skipped"
    if r.ok:
        problems.append(f"not affected anymore: {STALE_PROG} passed: the owner dropped the "
                        "leaving waiter's boost in every window it saw, so this kernel "
                        "carries the fix (fbeb558b0dd0 or a backport of it); the cell's "
                        "expectation is out of date")
        return "stale_boost passed"
    only_checks_failed(prog, problems)
    variants = []
    for sub in prog.subtests():
        if explained(sub, stale_boost):
            variants.append((sub[0].split(".")[1] if sub[0].count(".") >= 2 else sub[0],
                             sub[1][0][1]))
        else:
            problems.append(f"stale_boost: {sub[0]} failed for another reason: "
                            + ((sub[2] or [f"{k} {e}" for k, e in sub[1]] or ["no evidence"])[0])[:200])
    if not variants:
        problems.append("stale_boost failed, but no variant saw a stale boost")
        return "stale_boost failed without a stale boost"
    e = variants[0][1]
    return (f"affected: the owner kept a leaving waiter's boost in {len(variants)} variant(s) "
            f"({', '.join(v for v, _ in variants)}): priority {e['prio']}, the waiter's boost, "
            f"where its own is {e.get('base')}")


# A failed EXPECT/ASSERT of the kselftest harness, as data: the test, the
# two expressions with their values, and the operator.
HARNESS_EXPECT = re.compile(r"^# (\S+?):(\d+):(\S+?):Expected (.+?) \((-?\d+)\) (==|!=|<=|>=|<|>) (.+?) \((-?\d+)\)$")
DEADLOCK_TEST = "abba_deadlock"


def verdict_deadlock(log, problems):
    """futex_lock_pi_deadlock failed for the undetected deadlock, and only it.

    The test is upstream's (patches/upstream, kselftest harness): it states
    no evidence of ours, so what counts is what the harness prints as data
    for a failed check: test abba_deadlock, one failed EXPECT_EQ, EDEADLK
    expected and ETIMEDOUT seen (errno values; the guests' are Linux's
    generic ones, as the host's). Its own words are not read."""
    bad = [t.strip() for cls, t in log.kmsg if cls == "alarm"]
    if bad:
        problems.append(f"kernel complaint: {bad[0][:200]}")
    crashed(log, problems)
    prog = only_prog_failed(log, DEADLOCK_PROG, problems)
    if prog is None:
        return f"{DEADLOCK_PROG} did not run"
    if prog.result.ok:
        problems.append(f"{DEADLOCK_PROG} passed: this kernel reports the deadlock "
                        "(it has the ww_ctx fix, or its stack reads NULL)")
        return f"{DEADLOCK_PROG} passed"
    beyond = [w for w in facts_failures(prog.result.facts or {})
              if not re.fullmatch(r"exit status \d+", w)]
    if beyond:
        problems.append(f"{DEADLOCK_PROG} failed beyond its check: " + ", ".join(beyond))
    subs = prog.subtests()
    consistent(prog, subs, problems)
    checks = [(sub[0], m) for sub in subs for m in map(HARNESS_EXPECT.match, sub[2]) if m]
    others = [line for sub in subs for line in sub[2] if not HARNESS_EXPECT.match(line)]
    seen = [(t, m) for t, m in checks
            if t.endswith("." + DEADLOCK_TEST) and m.group(3) == DEADLOCK_TEST and m.group(6) == "=="
            and int(m.group(5)) == errno.EDEADLK and int(m.group(8)) == errno.ETIMEDOUT]
    if not seen:
        what = (f"{checks[0][0]}: expected {checks[0][1].group(4)} ({checks[0][1].group(5)}), "
                f"saw {checks[0][1].group(7)} ({checks[0][1].group(8)})" if checks
                else (others[0][:200] if others else "no failed check"))
        problems.append(f"{DEADLOCK_PROG} failed, but not for an undetected deadlock "
                        f"(EDEADLK expected, ETIMEDOUT seen): {what}")
        return f"{DEADLOCK_PROG} failed for another reason"
    if len(checks) != 1 or others or len(subs) != 1:
        extra = [f"{t}: {m.group(0)[2:]}" for t, m in checks if (t, m) != seen[0]] + others
        problems.append(f"{DEADLOCK_PROG} also failed: " + (extra[0][:200] if extra else "another test"))
    m = seen[0][1]
    return (f"{DEADLOCK_PROG}: FUTEX_LOCK_PI failed with ETIMEDOUT ({m.group(8)}) where "
            f"EDEADLK ({m.group(5)}) was expected ({seen[0][0]}, {m.group(1)}:{m.group(2)})")


def leaf_counts(log):
    """Passed, failed and skipped tests counted as KTAP readers count them
    (kunit.py parse): a program's own results where it printed some, the
    program's result where it did not."""
    counts = [0, 0, 0]
    progs = {p.result.num: p for p in log.programs}
    for r in log.results:
        subs = [m for m in map(SUBTEST.match, map(shown, progs[r.num].output
                                                  if r.num in progs else [])) if m]
        for ok, skip in ([(m.group(1) == "ok", " # SKIP" in m.string) for m in subs]
                         or [(r.ok, r.skipped)]):
            counts[0 if ok and not skip else 2 if ok else 1] += 1
    return dict(zip(("passed", "failed", "skipped"), counts))


def affected(log):
    """The answer of stale_boost, for a person asking about their kernel."""
    prog = next((p for p in reversed(log.programs) if p.name == STALE_PROG), None)
    if prog is None:
        return None
    r = prog.result
    if r.skipped:
        return "cannot tell: " + r.directive[4:].strip()
    if r.ok:
        return "no: the owner dropped every leaving waiter's boost"
    seen = stale_boosts(prog)
    if seen:
        return (f"YES: the owner kept a leaving waiter's boost (priority {seen[0]['prio']}, "
                f"its own {seen[0].get('base')}) in {len(seen)} window(s)")
    return "cannot tell: stale_boost failed for another reason (see its output)"


def oops_chain(kmsg):
    """The functions of OOPS_FRAMES in the traces of KMSG, in order."""
    return [t.strip().split("+")[0] for cls, t in kmsg
            if cls == "kernel" and "+" in t and t.strip().split("+")[0] in OOPS_FRAMES]


def bugs(log):
    """Is this kernel affected, per known bug: (bug, fixed by, answer)."""
    out = [("a leaving PI waiter's boost stays with the owner (stale_boost)",
            "fbeb558b0dd0 futex/pi: Fix recursive rt_mutex waiter state", affected(log))]
    progs = {p.name: p for p in log.programs}
    lockdep = next((r for r in log.results if r.name == "lock-debugging"), None)
    prog = progs.get(OOPS_PROG)
    answer = None
    if prog:
        if prog.result.skipped:
            answer = "cannot tell: " + prog.result.directive[4:].strip()
        elif tuple(oops_chain(prog.kmsg)[:3]) == OOPS_FRAMES:
            answer = "YES: NULL pointer dereference in " + " <- ".join(OOPS_FRAMES)
        elif prog.result.ok:
            answer = "no: FUTEX_CMP_REQUEUE_PI failed with EDEADLK, nothing oopsed"
        else:
            answer = "cannot tell: requeue_pi_edeadlk failed for another reason (see its output)"
    out.append(("FUTEX_CMP_REQUEUE_PI onto a futex its waiter owns oopses (requeue_pi_edeadlk)",
                "40a25d59e85b locking/rtmutex: Skip remove_waiter() when waiter is not enqueued",
                answer))
    prog = progs.get(STEAL_PROG)
    answer = None
    if prog:
        warned = any(cls == "alarm" and " rt_mutex_schedule+" in t for cls, t in prog.kmsg)
        if prog.result.skipped:
            answer = "cannot tell: " + prog.result.directive[4:].strip()
        elif warned:
            answer = "YES: rt_mutex_schedule() warned in a requeued waiter's rt_mutex_wait_proxy_lock()"
        elif prog.result.ok and lockdep and lockdep.ok and not lockdep.skipped:
            answer = "no: a requeued waiter slept on the stolen lock, lockdep stayed quiet"
        elif prog.result.ok:
            answer = "cannot tell without lockdep (the symptom is its warning)"
        else:
            answer = "cannot tell: requeue_pi_steal failed for another reason (see its output)"
    out.append(("a requeued PI waiter sleeps without rt_mutex_pre_schedule() (requeue_pi_steal)",
                "futex: Provide rt_mutex_.*_schedule() equivalents for futex scheduling "
                "(6.12.112, 7.2; patch 9 here)", answer))
    return [b for b in out if b[2]]


# The name of the test monitor in our LAVA jobs (lava/job.yaml.jinja2).
LAVA_MONITOR = "futex-pi"


# YAML's escapes in double-quoted strings that JSON does not have, as JSON.
YAML_ESCAPES = {"0": "\\u0000", "a": "\\u0007", "v": "\\u000b", "e": "\\u001b", " ": " ",
                "N": "\\u0085", "_": "\\u00a0", "L": "\\u2028", "P": "\\u2029", "\t": "\\t"}
YAML_ESCAPE = re.compile(r'\\(x[0-9A-Fa-f]{2}|U[0-9A-Fa-f]{8}|.)')


def yaml_to_json(raw):
    """One LAVA log record (a YAML flow mapping of plain scalars) as JSON."""
    def escape(m):
        e = m.group(1)
        if e[0] == "x":
            return "\\u00" + e[1:]
        if e[0] == "U" and len(e) == 9:
            return json.dumps(chr(int(e[1:], 16)))[1:-1]
        return YAML_ESCAPES.get(e, m.group(0))
    return YAML_ESCAPE.sub(escape, raw.replace('": ! "', '": "'))


def read_lava(path):
    """The console lines, the job's problems and the monitor's results of a LAVA job log.

    Each line of the log is one record: {"dt": .., "lvl": .., "msg": ..} as
    lava-run prints them, or "- {..}" as a LAVA server returns the log. The
    records are YAML flow mappings that are JSON but for YAML's own escapes
    (a console byte that is not ASCII or printable) and tags ("! "): those
    are turned into JSON first (yaml_to_json). The console is in the
    "target" and "feedback" records, with the quotes LAVA escaped unescaped.
    """
    lines, problems, results, errors, hung, finished = [], [], [], [], False, False
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="latin-1") as f:
        for n, raw in enumerate(f, 1):
            raw = raw.strip()
            if raw.startswith("- "):
                raw = raw[2:]
            if not raw:
                continue
            try:
                rec = json.loads(yaml_to_json(raw))
                lvl, msg = rec["lvl"], rec["msg"]
            except (ValueError, KeyError, TypeError):
                problems.append(f"LAVA log line {n} is not a LAVA log record: {raw[:80]}")
                continue
            if lvl in ("target", "feedback") and isinstance(msg, str):
                # LAVA's console logger writes " as \".
                lines.extend(msg.replace('\\"', '"').split("\n"))
            elif lvl == "results" and isinstance(msg, dict):
                if msg.get("definition") == LAVA_MONITOR:
                    results.append((msg.get("extra", {}).get("test_case_id"), msg.get("result")))
                elif msg.get("definition") == "lava" and msg.get("case") == "job":
                    finished = True
                    if msg.get("result") != "pass":
                        why = {**msg.get("extra", {}), **msg}
                        errors.append(f"the LAVA job failed: {why.get('error_type', '?')}: "
                                      f"{why.get('error_msg', 'no message')}")
            elif lvl in ("error", "warning") and isinstance(msg, str):
                if "monitoring has timed out" in msg:
                    hung = True
                elif lvl == "error":
                    errors.append(f"LAVA: {msg[:200]}")
    if not finished:
        errors.append("the LAVA job log ends before the job did")
    return lines, problems, results, errors, hung


def lava_results_match(log, results, problems):
    """LAVA's records of the monitor are the runner's result lines, in order."""
    want = [(r.name, "pass" if r.ok else "fail") for r in log.results]
    if results == want:
        return
    for i, (w, r) in enumerate(zip(want, results)):
        if w != r:
            problems.append(f"LAVA recorded {r[0]}: {r[1]} where the console says {w[0]}: {w[1]} "
                            f"(result {i + 1})")
            return
    problems.append(f"LAVA recorded {len(results)} result(s), the console has {len(want)}")




def read_serial(path):
    """A serial log as lines: bytes as latin-1 (one character each), split at
    line feeds only (a carriage return inside a line is a byte of it)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        lines = f.read().decode("latin-1").split("\n")
    return lines[:-1] if lines and not lines[-1] else lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log")
    ap.add_argument("--qemu-rc", type=int, default=0)
    ap.add_argument("--expect", choices=("pass", "bug", "einval", "stale", "plug", "deadlock", "sleep", "oops"),
                    default="pass")
    ap.add_argument("--sites", default="", help="FILE:LINE of each assertion, comma-separated")
    ap.add_argument("--config", help="the kernel's .config (is lockdep in?)")
    ap.add_argument("--image", help="the kernel image that was booted (for the record)")
    ap.add_argument("--results", help="write the results here")
    ap.add_argument("--json", help="write the verdict here, as JSON")
    ap.add_argument("--require", action="append", default=[],
                    help="a program that must have passed (not skipped), whatever the expectation")
    ap.add_argument("--lava", action="store_true", help="LOG is a LAVA job's log")
    ap.add_argument("--output", metavar="PROGRAM",
                    help="print PROGRAM's output (its own lines, as it wrote them) and stop")
    args = ap.parse_args(argv)

    if not os.path.isfile(args.log):
        sys.exit(f"error: no log at {args.log}")
    problems = []
    if args.lava:
        raw, problems, lava_results, lava_errors, hung = read_lava(args.log)
    else:
        raw = read_serial(args.log)
    stream = Stream(raw)
    log = Log(stream.records)
    if args.output:
        for prog in log.programs:
            if prog.name == args.output:
                sys.stdout.flush()
                sys.stdout.buffer.write("".join(line + "\n" for line in prog.output)
                                        .encode("latin-1", "replace"))
        return 0 if any(p.name == args.output for p in log.programs) else 1
    guest = guest_state(log, stream.console, 0 if args.lava else args.qemu_rc)
    stuck = None
    if args.expect == "oops" and guest and guest.startswith("hung") and \
            tuple(oops_chain(log.kmsg)[:3]) == OOPS_FRAMES:
        # What the oops leaves: a CPU spinning for good on the wait_lock
        # the killed task held, at power-off or (when the other CPU waits
        # for it) at once. verdict_oops() judges the records there are.
        stuck, guest = guest, None
    if args.lava:
        failed = [e for e in lava_errors if not e.startswith("the LAVA job log ends")]
        if guest and guest.startswith("silent") and failed:
            guest = "not booted: the LAVA job failed before the console showed anything (" \
                + "; ".join(failed) + ")"
        elif guest and guest.startswith("silent") and lava_errors:
            guest = "silent: the LAVA job log ends before the guest's console started"
        elif guest and guest.startswith("silent"):
            guest = "silent: the LAVA log has no console output"
        elif guest and guest.startswith("stopped") and hung:
            guest = "hung (LAVA's test monitor timed out waiting for a result line)"
        elif guest and guest.startswith("stopped"):
            guest = "stopped before the runner finished (" + ("; ".join(lava_errors) or "no LAVA error") + ")"
        elif not guest:
            problems.extend(lava_errors)
            lava_results_match(log, lava_results, problems)
    if guest:
        problems.append(f"guest {guest}")
    problems.extend(stream.problems)
    hung_in_oops = bool(stuck) and log.stopped_in is not None
    if not guest and not hung_in_oops:
        for name in args.require:
            if not any(r.ok and not r.skipped and r.name == name for r in log.results):
                problems.append(f"{name} did not pass")
        check_results(log, problems)
        lock_debugging(log, args.config, problems)
        if any(cls == "lost" for cls, _ in log.kmsg):
            problems.append("kernel log records were lost: "
                            + next(t for cls, t in log.kmsg if cls == "lost"))

    if not guest and args.expect != "pass":
        # Whatever failure a cell expects, the boot was clean and lock
        # debugging stayed on (a pass cell counts these with the others).
        for r in log.results:
            if r.name in ("boot", "lock-debugging") and not r.ok:
                problems.append(f"{r.name}: {r.directive}")
    sites = {s for s in args.sites.split(",") if s}
    failed = [r for r in log.results if not r.ok]
    observed = None
    if not guest:
        if args.expect == "bug":
            observed = verdict_bug(log, sites, problems)
        elif args.expect == "einval":
            observed = verdict_einval(log, problems)
        elif args.expect == "stale":
            observed = verdict_stale(log, problems)
        elif args.expect == "plug":
            observed = verdict_plug(log, sites, problems)
        elif args.expect == "deadlock":
            observed = verdict_deadlock(log, problems)
        elif args.expect == "sleep":
            observed = verdict_sleep(log, problems)
        elif args.expect == "oops":
            observed = verdict_oops(log, problems)
            if stuck:
                observed += "; the guest then " + stuck
        else:
            for r in failed:
                problems.append(r.ktap())
    passed = sum(1 for r in log.results if r.ok and not r.skipped)
    skipped = sum(1 for r in log.results if r.skipped)
    nfail = len(failed) + (1 if guest else 0)
    if args.expect == "pass" and not guest:
        # Problems outside the results (missing results, lockdep, the stream).
        nfail += sum(1 for p in problems if not p.startswith("not ok "))
    summary = f"{passed} passed, {nfail} failed, {skipped} skipped"
    if observed is None:
        observed = summary
    verdict = "ok" if not problems else "FAIL"
    if problems and args.expect != "pass":
        observed += "; but: " + "; ".join(problems[:3])
    elif problems and args.expect == "pass":
        observed = "FAILED: " + problems[0]
    answer = affected(log)
    leaves = leaf_counts(log)

    if args.results:
        with open(args.results + ".tmp", "w") as f:
            for r in log.results:
                f.write(r.ktap() + "\n")
            for p in problems:
                if not p.startswith("not ok "):
                    f.write(f"not ok - {p}\n")
        os.replace(args.results + ".tmp", args.results)
    if args.json:
        data = {
            "log": os.path.abspath(args.log), "engine": "lava" if args.lava else "qemu",
            "qemu_rc": None if args.lava else args.qemu_rc, "image": args.image,
            "expect": args.expect, "met": not problems, "verdict": verdict,
            "observed": observed, "problems": problems, "guest": guest or "finished",
            "counts": {"passed": passed, "failed": nfail, "skipped": skipped},
            "ktap_leaves": leaves,
            "kernel": log.uname, "affected": answer,
            "bugs": [{"bug": b, "fixed_by": c, "answer": a} for b, c, a in bugs(log)],
            "results": [{"num": r.num, "name": r.name, "ok": r.ok, "skipped": r.skipped,
                         "directive": r.directive, "facts": r.facts} for r in log.results],
            "runner_records": len(log.records), "mended_records": stream.mended,
        }
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
        os.replace(tmp, args.json)

    print(f"--- results ({args.log})")
    for r in log.results:
        print("  " + r.ktap())
    if guest:
        print(f"guest {guest}; its last console lines:")
        for line in stream.console[-25:]:
            print(f"  | {line!r}"[:300] if any(ord(c) < 32 for c in line) else f"  | {line}")
    for p in problems:
        print(f"problem: {p}")
    for note in stream.notes:
        print(f"note: {note}")
    if answer:
        print(f"is this kernel affected (stale_boost)? {answer}")
    for bug, fix, a in bugs(log)[1:]:
        print(f"is this kernel affected: {bug}, fixed by {fix}? {a}")
    if log.results:
        print("the programs' own tests, as a KTAP reader (kunit.py parse) counts them: "
              f"{leaves['passed']} passed, {leaves['failed']} failed, {leaves['skipped']} skipped")
    print(f"verdict: {verdict}: {observed}")
    print(summary)
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
