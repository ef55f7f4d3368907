#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn a guest's serial log into results and a verdict.

The one place where a serial log is read: `make run` (scripts/run.sh), `make
check` (scripts/check.sh) and `make selftest` (scripts/verdict_test.py) all
call it.

Input: the serial log that the guest's /init (guest/init.c) wrote, how QEMU
ended, and what the cell expects:

  pass    every program passed (or skipped), the kernel log stayed clean,
          lock debugging is still on
  bug     the assertion warned from futex_lock_pi and from
          futex_wait_requeue_pi, and nothing else went wrong: every kernel
          complaint is a WARNING at an assertion site (SITES) with its
          trace, no trace goes through a block plug flush, only futex
          programs failed and every failed check is a kernel-log check
  einval  the stale pi_state test (pi_deadline_stress) fails with EINVAL, and only
          it, and only for that reason
  stale   the kernel is affected, as user space sees it without lock
          debugging: stale_boost fails, each failed variant because the
          owner kept a leaving waiter's boost, and nothing else fails
  deadlock  the upstream selftest futex_lock_pi_deadlock failed because
          FUTEX_LOCK_PI timed out where it must return EDEADLK (the
          ww_ctx bug, patches/upstream), nothing else failed and the
          kernel log stayed clean
  plug    the assertion warned from a block plug flush in
          sched_submit_work() (rt-plug/plug_flush, the other recursion
          the series fixes) and from nothing else, and only that program
          failed, for that reason only

Whatever the expectation, the guest must have finished (not hung, not
panicked), every result line the plan announced must be there once, no
kernel record may have been lost, and lock debugging must still be on.

The log is QEMU's serial output (scripts/boot-qemu.sh), or with --lava the
log of a LAVA job that booted the guest (scripts/lava.sh): the console lines
are taken from it, the job's own errors (a monitor that timed out: a hung
guest) count as how the guest ended, and the results LAVA recorded from the
console must be the runner's results, one for one.

Output: the runner's KTAP results (RESULTS file, with a line for each
problem found outside them), then "verdict: ok: OBSERVED" or "verdict:
FAIL: OBSERVED", then "N passed, N failed, N skipped". Exit 0 if the
expectation is met.
"""

import argparse
import gzip
import json
import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALARMS_H = os.path.join(TOP, "tools/testing/selftests/futex-pi/kmsg_alarms.h")

# "ok N NAME", then " (T s)" and/or " # DIRECTIVE" (which may end in " (T s)").
RESULT = re.compile(r"^(ok|not ok) (\d+) (\S+)((?: \(\d+(?:\.\d+)? s\))?(?: # .*)?)$")
SECONDS = re.compile(r" \(\d+(?:\.\d+)? s\)")
PLAN = re.compile(r"^1\.\.(\d+)$")
STARTING = re.compile(r"^# runner: (\S+): starting")
KMSG = re.compile(r"^# kmsg: (.*)$")
# A WARNING and where it was raised: "WARNING: CPU: 1 PID: 41 at FILE:LINE fn+0x..".
WARNING_AT = re.compile(r"^WARNING: CPU: \d+ PID: \d+ at (\S+) ")
# The kselftest harness's line for a failed EXPECT/ASSERT: "# FILE:LINE:TEST:...".
HARNESS_FAIL = re.compile(r"^# (\S+?):(\d+):(\S+?):(.*)$")
# futex_pi.h's kernel-log checks (kmsg_watch_end, kmsg_program_check).
STALE_PROG = "futex-pi/stale_boost"
STALE_ASSERT = re.compile(r"^# stale_boost\.c:\d+:\S+?:Expected self->base \(\d+\) == prio \(-?\d+\)$")
STALE_SEEN = re.compile(r"^# stale_boost\.c:\d+:\S+?:(.*: we still had priority (-?\d+) "
                        r"\(the waiter's boost, FIFO (\d+)\).*)$")
KMSG_CHECK_TEXT = re.compile(r"^Expected 0 \(0\) == (alarms|kmsg_watch_scan\(&kmsg_program\)) \(\d+\)$")


def load_alarms(path=ALARMS_H):
    """The quoted strings of kmsg_alarms.h, one a line."""
    alarms = []
    with open(path) as f:
        inside = False
        for line in f:
            if "kmsg_alarms[] = {" in line:
                inside = True
            elif inside and line.strip() == "};":
                break
            elif inside:
                m = re.match(r'^\s*"((?:[^"\\]|\\.)*)",\s*$', line)
                if m:
                    alarms.append(m.group(1).encode().decode("unicode_escape"))
    if not alarms:
        raise SystemExit(f"error: no alarm strings in {path}")
    return alarms


class Program:
    """One top-level result and what was printed while it ran."""

    def __init__(self, name):
        self.name = name
        self.output = []       # its own lines, unindented
        self.result = None     # (ok, number, directive)


class Log:
    def __init__(self, lines):
        self.lines = lines
        self.plan = None
        self.results = []      # (ok, number, name, directive)
        self.programs = []
        self.kmsg = []         # every kernel record /init printed
        self.finished = False
        self.garbled = []
        current = Program("boot")
        for line in lines:
            if line.startswith("    "):
                current.output.append(line[4:])
                continue
            m = PLAN.match(line)
            if m and self.plan is None:
                self.plan = int(m.group(1))
                continue
            m = STARTING.match(line)
            if m:
                current = Program(m.group(1))
                continue
            m = KMSG.match(line)
            if m:
                self.kmsg.append(m.group(1))
                continue
            m = RESULT.match(line)
            if m:
                ok, num, name = m.group(1) == "ok", int(m.group(2)), m.group(3)
                rest = m.group(4)
                directive = SECONDS.sub("", rest.split(" # ", 1)[1]) if " # " in rest else ""
                self.results.append((ok, num, name, directive))
                if name == current.name:
                    current.result = (ok, num, directive)
                    self.programs.append(current)
                current = Program("(between programs)")
                continue
            if line == "# runner: powering off":
                self.finished = True
            elif not line.startswith(("#", "[")) and re.search(r"(^|\s)(not |o)?ok\b", line):
                self.garbled.append(line)    # a result line the console mangled


def complaint(text, alarms):
    return any(a in text for a in alarms)


def check_results(log, problems):
    """Every announced result is there, once, in order."""
    if log.plan is None:
        problems.append("no test plan (1..N) in the log")
        return
    nums = [r[1] for r in log.results]
    missing = sorted(set(range(1, log.plan + 1)) - set(nums))
    dups = sorted({n for n in nums if nums.count(n) > 1})
    extra = sorted(n for n in set(nums) if n > log.plan)
    if missing:
        problems.append(f"{len(missing)} of {log.plan} result line(s) missing or garbled: "
                        + ", ".join(str(n) for n in missing[:10]))
    if dups:
        problems.append("result number(s) seen twice: " + ", ".join(str(n) for n in dups[:10]))
    if extra:
        problems.append("result number(s) beyond the plan: " + ", ".join(str(n) for n in extra[:10]))
    if nums != sorted(nums):
        problems.append("result lines out of order")
    for line in log.garbled[:3]:
        problems.append(f"garbled result line: {line[:120]}")


DISABLED_IRQ = re.compile(r"\bDisabling IRQ #(\d+)$")


def guest_state(log, qemu_rc):
    if qemu_rc == 125 or not log.lines:
        return "silent: it printed nothing on its console (scripts/boot-qemu.sh, SILENCE)"
    if qemu_rc in (124, 137):
        # genirq's spurious-IRQ detector switched a line off; when it is
        # the console's, the guest's output stops there (BOOT-RELIABILITY.md).
        irq = next((m.group(1) for m in map(DISABLED_IRQ.search, log.lines) if m), None)
        if irq:
            return (f"hung (killed after the time limit); the kernel had disabled IRQ {irq} "
                    "as spurious (\"nobody cared\"), and a console on it stops")
        return "hung (killed after the time limit)"
    if any("Kernel panic" in line for line in log.lines):
        return "panicked"
    if not log.finished:
        return f"stopped before the runner finished (QEMU exit {qemu_rc})"
    return None


def lock_debugging(log, config, problems):
    """The runner's last result says whether debug_locks is still 1."""
    res = [r for r in log.results if r[2] == "lock-debugging"]
    if not res:
        problems.append("no lock-debugging result (was /init built from guest/init.c?)")
        return
    ok, _, _, directive = res[-1]
    if not ok:
        return      # a failed result, counted with the others
    if "SKIP" in directive and config and config_has(config, "CONFIG_LOCKDEP"):
        problems.append("the kernel has CONFIG_LOCKDEP but /init found no debug_locks")


def config_has(path, option):
    try:
        with open(path) as f:
            return any(line.strip() == f"{option}=y" for line in f)
    except OSError:
        return False


def failed_checks(prog):
    """(explained failures, other failures) among a program's failed subtests.

    The kselftest harness prints "# FILE:LINE:TEST:Expected ..." for each
    failed EXPECT/ASSERT and "# TEST: Test terminated ..." for a test that
    timed out or died. A failed subtest is explained by the bug when it has
    such lines and every one is a futex_pi.h kernel-log check, or, in
    stale_boost, the failed ASSERT of a stale boost together with the
    test's message that the priority was the waiter's boost (the same bug
    seen from user space; the ASSERT ends the test).
    """
    klog, other, pending, stale_assert, stale_seen = 0, [], [], False, False
    for line in prog.output:
        m = STALE_SEEN.match(line)
        if m and int(m.group(2)) == -1 - int(m.group(3)):
            stale_seen = True
            continue
        m = HARNESS_FAIL.match(line)
        if m and m.group(4).startswith("Expected"):
            if STALE_ASSERT.match(line):
                stale_assert = True
                pending.append(True)
                continue
            # (futex_pi.h: recordings made before the watcher moved
            # to kmsg_watch.h)
            pending.append(os.path.basename(m.group(1)) in ("kmsg_watch.h", "futex_pi.h")
                           and bool(KMSG_CHECK_TEXT.match(m.group(4).strip())))
            continue
        if re.match(r"^# \S+: Test terminated", line):
            pending.append(stale_assert and line.endswith("Test terminated by assertion"))
            continue
        sub = re.match(r"^(not ok|ok) \d+ (\S+)", line)
        if sub:
            if sub.group(1) == "not ok":
                if pending and all(pending) and stale_assert <= stale_seen:
                    klog += 1
                else:
                    other.append(sub.group(2))
            pending, stale_assert, stale_seen = [], False, False
    return klog, other


# Trace frames that say where an assertion report came from.
FRAMES = {
    "lock": "futex_lock_pi+",
    "requeue": "futex_wait_requeue_pi+",
    "plug": "__blk_flush_plug+",
}


def assert_reports(log, sites, alarms):
    """Count the assertion reports, their telling frames, other complaints.

    Reports from two CPUs interleave record by record, so a trace line
    belongs to an assertion report while any such report is open (from
    its WARNING to its "---[ end trace").
    """
    reports, frames, others, open_reports = 0, dict.fromkeys(FRAMES, 0), [], 0
    for text in log.kmsg:
        t = text.strip()
        if t.startswith("---[ end trace"):
            open_reports = max(0, open_reports - 1)
            continue
        if open_reports:
            for kind, frame in FRAMES.items():
                if t.startswith(frame):
                    frames[kind] += 1
        if not complaint(t, alarms):
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


def failed_for_kernel_log(log, problems, allowed):
    """Programs that failed: each must be in ALLOWED (a predicate on its
    name) and have failed only for the kernel's warnings."""
    during = []
    for prog in log.programs:
        ok, _, directive = prog.result
        if ok or prog.name == "boot" and not directive:
            continue
        why = directive
        if not allowed(prog.name):
            problems.append(f"{prog.name} failed, which it must not here: {why}")
            continue
        parts = [p.strip() for p in why.split("; ")]
        kernel = [p for p in parts if p.startswith("kernel: ")]
        rest = [p for p in parts if not p.startswith("kernel: ")]
        if not kernel or any(p != "exit status 1" for p in rest):
            problems.append(f"{prog.name} failed beyond the kernel's warnings: {why}")
            continue
        klog, other = failed_checks(prog)
        if other:
            problems.append(f"{prog.name}: check(s) failed that are not kernel-log checks: "
                            + ", ".join(other[:5]))
        elif rest and not klog:
            problems.append(f"{prog.name}: exit status 1 without a failed kernel-log check")
        during.append(prog.name)
    return during


def verdict_bug(log, sites, alarms, problems):
    """The assertion warned from both futex paths, and nothing else failed."""
    if not sites:
        problems.append("no assertion sites given (is the assertion in the tree?)")
    _, frames, others = assert_reports(log, sites, alarms)
    lock, requeue = frames["lock"], frames["requeue"]
    during = failed_for_kernel_log(log, problems,
                                   lambda name: name.startswith(("futex-pi/", "futex/")))
    observed = (f"assert warned from futex_lock_pi {lock}x, futex_wait_requeue_pi {requeue}x; "
                f"during: {' '.join(during) or 'nothing'}")
    if others:
        problems.append(f"kernel complaint not at an assertion site: {others[0][:200]}")
    if frames["plug"]:
        problems.append(f"the assertion also warned from a block plug flush ({frames['plug']}x): "
                        "sched_submit_work() still runs with an rt_waiter enqueued")
    if not lock:
        problems.append("the assertion never warned from futex_lock_pi")
    if not requeue:
        problems.append("the assertion never warned from futex_wait_requeue_pi")
    return observed


PLUG_PROG = "rt-plug/plug_flush"


def verdict_plug(log, sites, alarms, problems):
    """The assertion warned from the block plug flush, from nothing else."""
    if not sites:
        problems.append("no assertion sites given (is the assertion in the tree?)")
    reports, frames, others = assert_reports(log, sites, alarms)
    during = failed_for_kernel_log(log, problems, lambda name: name == PLUG_PROG)
    if PLUG_PROG not in (p.name for p in log.programs):
        problems.append(f"{PLUG_PROG} did not run")
    elif PLUG_PROG not in during:
        problems.append(f"{PLUG_PROG} did not fail for the kernel's warnings")
    observed = (f"assert warned {reports}x, from a block plug flush {frames['plug']}x; "
                f"during: {' '.join(during) or 'nothing'}")
    if others:
        problems.append(f"kernel complaint not at an assertion site: {others[0][:200]}")
    if frames["lock"] or frames["requeue"]:
        problems.append("the assertion warned from the futex paths too")
    if not frames["plug"]:
        problems.append("the assertion never warned from a block plug flush")
    return observed


EINVAL_LINE = re.compile(r"processes: .* ([0-9]+) EINVAL")
# The threads' test reports its EINVAL per thread.
EINVAL_THREAD = re.compile(r"thread \d+: lock: (\d+) failures: Invalid argument$")
ERRNO_LINE = re.compile(r"pi_deadline_stress\.c:\d+:.*(thread \d+: (lock|unlock)|process \d+): ")
ERRNO_OK = [
    # The stale pi_state reused: FUTEX_LOCK_PI fails with EINVAL.
    re.compile(r"thread \d+: lock: \d+ failures: Invalid argument$"),
    # Rarer, same cause (counts in the suite's README): an unlock that
    # finds the word no longer naming its caller, FUTEX_OWNER_DIED set
    # while nobody died.
    re.compile(r"thread \d+: unlock: \d+ failures: Operation not permitted$"),
    re.compile(r"process \d+: \d+ failures: Owner died$"),
]
RARE = re.compile(r"(unlock: \d+ failures: Operation not permitted|\d+ failures: Owner died)$")


def verdict_einval(log, problems):
    """pi_deadline_stress fails with EINVAL, nothing else fails, the log is clean."""
    einval = threads = 0
    line = None
    for prog in log.programs:
        if prog.name != "futex-pi/pi_deadline_stress":
            continue
        for out in prog.output:
            m = EINVAL_LINE.search(out)
            if m and line is None:
                line = re.sub(r"^ *# *", "", out)
                einval += int(m.group(1))
            m = EINVAL_THREAD.search(out)
            if m:
                threads += int(m.group(1))
    einval += threads
    for prog in log.programs:
        ok, _, directive = prog.result
        if ok:
            continue
        why = directive
        if prog.name != "futex-pi/pi_deadline_stress" or why != "exit status 1":
            problems.append(f"{prog.name} failed: {why}")
    rare = 0
    for prog in log.programs:
        for out in prog.output:
            m = re.search(r"(\d+) mutual exclusion violations", out)
            if m and int(m.group(1)):
                problems.append(f"{m.group(1)} mutual exclusion violations (two owners at once): "
                                f"{out.strip()[:200]}")
            if ERRNO_LINE.search(out):
                if not any(p.search(out) for p in ERRNO_OK):
                    problems.append(f"unexpected errno: {out.strip()[:200]}")
                if RARE.search(out):
                    rare += 1
            # The failure counts may be non-zero (their errnos are vetted
            # above); every other check must hold.
            if re.search(r"pi_deadline_stress\.c:\d+:.*Expected", out) and \
               not re.search(r"== (failed|sum\.einval|sum\.failed) \(", out):
                problems.append(f"pi_deadline_stress check failed beyond EINVAL: {out.strip()[:200]}")
    if not einval:
        problems.append("pi_deadline_stress saw no EINVAL")
    observed = line or "no EINVAL line"
    if threads:
        observed += f"; threads' test: {threads} EINVAL"
    if rare:
        observed += f"; EPERM on unlock or EOWNERDEAD in {rare} thread(s)/process(es)"
    return observed


def verdict_stale(log, problems):
    """stale_boost fails for the stale boost only; everything else passes."""
    seen, prog_stale = [], None
    for prog in log.programs:
        ok, _, directive = prog.result
        if prog.name == STALE_PROG:
            prog_stale = prog
        elif not ok:
            problems.append(f"{prog.name} failed: {directive}")
    if prog_stale is None:
        problems.append(f"{STALE_PROG} did not run")
        return "stale_boost did not run"
    ok, _, directive = prog_stale.result
    if not ok and directive != "exit status 1":
        problems.append(f"{STALE_PROG} failed beyond its checks: {directive}")
    plan = next((int(m.group(1)) for m in (PLAN.match(l) for l in prog_stale.output) if m), None)
    subtests = [l for l in prog_stale.output if re.match(r"^(not ok|ok) \d+ ", l)]
    if plan is not None and len(subtests) != plan:
        problems.append(f"{STALE_PROG}: {len(subtests)} of its {plan} results")
    if ok and "SKIP" in directive:
        why = directive.split("SKIP", 1)[1].strip()
        problems.append(f"{STALE_PROG} skipped ({why}): it cannot tell whether this kernel "
                        "is affected")
        return "stale_boost skipped"
    if ok:
        problems.append(f"not affected anymore: {STALE_PROG} passed: the owner dropped the "
                        "leaving waiter's boost in every window it saw, so this kernel "
                        "carries the fix (fbeb558b0dd0 or a backport of it); the cell's "
                        "expectation is out of date")
        return "stale_boost passed"
    # Each failed variant must be explained by its own stale-boost report:
    # the harness prints the failed ASSERT ("Expected self->base (20) ==
    # prio (-11)") and the test's message, nothing else.
    variants, stale, other = [], None, []
    for line in prog_stale.output:
        m = STALE_SEEN.match(line)
        if m and int(m.group(2)) == -1 - int(m.group(3)):
            stale = m.group(1).strip()
            continue
        h = HARNESS_FAIL.match(line)
        if h and h.group(4).startswith("Expected") and not STALE_ASSERT.match(line) or \
           re.match(r"^# \S+: Test terminated (?!by assertion)", line):
            other.append(line)
            continue
        sub = re.match(r"^(not ok|ok) \d+ (\S+)", line)
        if sub:
            if sub.group(1) == "not ok":
                if stale and not other:
                    variants.append((sub.group(2).split(".")[1], stale))
                else:
                    problems.append(f"stale_boost: {sub.group(2)} failed for another reason: "
                                    + (other[0][:200] if other else "no message"))
            stale, other = None, []
    if not variants:
        problems.append("stale_boost failed, but no variant saw a stale boost")
        return "stale_boost failed without a stale boost"
    return (f"affected: the owner kept a leaving waiter's boost in {len(variants)} variant(s) "
            f"({', '.join(v for v, _ in variants)}): {variants[0][1]}")


DEADLOCK_PROG = "futex/futex_lock_pi_deadlock"
DEADLOCK_SEEN = re.compile(r"FAIL: (FUTEX_LOCK_PI timed out after \d+ s: "
                           r"the ABBA deadlock was not detected)")


def verdict_deadlock(log, alarms, problems):
    """futex_lock_pi_deadlock failed for the undetected deadlock, and only it."""
    bad = [t.strip() for t in log.kmsg if complaint(t, alarms)]
    if bad:
        problems.append(f"kernel complaint: {bad[0][:200]}")
    prog = next((p for p in log.programs if p.name == DEADLOCK_PROG), None)
    for other in log.programs:
        ok, _, directive = other.result
        if other is not prog and not ok:
            problems.append(f"{other.name} failed: {directive}")
    if prog is None:
        problems.append(f"{DEADLOCK_PROG} did not run")
        return f"{DEADLOCK_PROG} did not run"
    ok, _, directive = prog.result
    if ok:
        problems.append(f"{DEADLOCK_PROG} passed: this kernel reports the deadlock "
                        "(it has the ww_ctx fix, or its stack reads NULL)")
        return f"{DEADLOCK_PROG} passed"
    if not re.fullmatch(r"exit status \d+", directive):
        problems.append(f"{DEADLOCK_PROG} failed beyond its check: {directive}")
    seen = [m.group(1) for m in map(DEADLOCK_SEEN.search, prog.output) if m]
    fails = [line.strip() for line in prog.output if re.search(r"\b(FAIL|ERROR):", line)]
    if not seen:
        problems.append(f"{DEADLOCK_PROG} failed, but not for an undetected deadlock: "
                        + (fails[0][:200] if fails else "no message"))
        return f"{DEADLOCK_PROG} failed for another reason"
    if len(fails) != len(seen):
        problems.append(f"{DEADLOCK_PROG} also reported: "
                        + next(f for f in fails if not DEADLOCK_SEEN.search(f))[:200])
    return f"{DEADLOCK_PROG}: {seen[0]}"


def affected(log):
    """The answer of stale_boost, for a person asking about their kernel."""
    prog = next((p for p in reversed(log.programs) if p.name == STALE_PROG), None)
    if prog is None:
        return None
    ok, _, directive = prog.result
    if ok and "SKIP" in directive:
        return "cannot tell: " + directive.split("SKIP", 1)[1].strip()
    if ok:
        return "no: the owner dropped every leaving waiter's boost"
    for line in prog.output:
        m = STALE_SEEN.match(line)
        if m and int(m.group(2)) == -1 - int(m.group(3)):
            return "YES: " + m.group(1).strip()
    return "cannot tell: stale_boost failed for another reason (see its output)"


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
    with opener(path, "rt", errors="replace") as f:
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
                lines.extend(msg.replace('\\"', '"').replace("\r", "").split("\n"))
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
    want = [(name, "pass" if ok else "fail") for ok, _, name, _ in log.results]
    if results == want:
        return
    for i, (w, r) in enumerate(zip(want, results)):
        if w != r:
            problems.append(f"LAVA recorded {r[0]}: {r[1]} where the console says {w[0]}: {w[1]} "
                            f"(result {i + 1})")
            return
    problems.append(f"LAVA recorded {len(results)} result(s), the console has {len(want)}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log")
    ap.add_argument("--qemu-rc", type=int, default=0)
    ap.add_argument("--expect", choices=("pass", "bug", "einval", "stale", "plug", "deadlock"),
                    default="pass")
    ap.add_argument("--sites", default="", help="FILE:LINE of each assertion, comma-separated")
    ap.add_argument("--config", help="the kernel's .config (is lockdep in?)")
    ap.add_argument("--results", help="write the results here")
    ap.add_argument("--alarms", default=ALARMS_H)
    ap.add_argument("--require", action="append", default=[],
                    help="a program that must have passed (not skipped), whatever the expectation")
    ap.add_argument("--lava", action="store_true", help="LOG is a LAVA job's log")
    args = ap.parse_args(argv)

    alarms = load_alarms(args.alarms)
    problems = []
    if args.lava:
        lines, problems, lava_results, lava_errors, hung = read_lava(args.log)
        log = Log(lines)
        guest = guest_state(log, 0)
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
    else:
        opener = gzip.open if args.log.endswith(".gz") else open
        with opener(args.log, "rt", errors="replace") as f:
            lines = [line.rstrip("\r\n").replace("\r", "") for line in f]
        log = Log(lines)
        guest = guest_state(log, args.qemu_rc)
    if guest:
        problems.append(f"guest {guest}")
    else:
        for name in args.require:
            if not any(ok and n == name and "SKIP" not in d for ok, _, n, d in log.results):
                problems.append(f"{name} did not pass")
        check_results(log, problems)
        lock_debugging(log, args.config, problems)
        lost = [k for k in log.kmsg if re.match(r"^\((\d+ )?records lost", k)]
        if lost:
            problems.append(f"kernel log records were lost: {lost[0]}")
        for ok, num, name, directive in log.results:
            if "retried" in directive:
                problems.append(f"{name} was run twice (an old /init retried it): {directive}")

    sites = {s for s in args.sites.split(",") if s}
    failed = [r for r in log.results if not r[0]]
    observed = None
    if not guest:
        if args.expect == "bug":
            observed = verdict_bug(log, sites, alarms, problems)
        elif args.expect == "einval":
            observed = verdict_einval(log, problems)
        elif args.expect == "stale":
            observed = verdict_stale(log, problems)
        elif args.expect == "plug":
            observed = verdict_plug(log, sites, alarms, problems)
        elif args.expect == "deadlock":
            observed = verdict_deadlock(log, alarms, problems)
        else:
            for ok, num, name, directive in failed:
                problems.append(f"not ok {num} {name} # {directive}")
    passed = sum(1 for r in log.results if r[0] and "SKIP" not in r[3])
    skipped = sum(1 for r in log.results if r[0] and "SKIP" in r[3])
    nfail = len(failed) + (1 if guest else 0)
    if args.expect == "pass" and not guest:
        # Problems outside the result lines (missing results, lockdep).
        nfail += sum(1 for p in problems if not p.startswith("not ok "))
    summary = f"{passed} passed, {nfail} failed, {skipped} skipped"
    if observed is None:
        observed = summary

    ktap = [f"{'ok' if ok else 'not ok'} {num} {name}{' # ' + directive if directive else ''}"
            for ok, num, name, directive in log.results]
    if args.results:
        with open(args.results, "w") as f:
            for line in ktap:
                f.write(line + "\n")
            for p in problems:
                if not p.startswith("not ok "):
                    f.write(f"not ok - {p}\n")

    print(f"--- results ({args.log})")
    for line in ktap:
        print("  " + line)
    if guest:
        print(f"guest {guest}; its last console lines:")
        for line in [l for l in lines if not l.startswith("    ")][-25:]:
            print(f"  | {line}")
    for p in problems:
        print(f"problem: {p}")
    verdict = "ok" if not problems else "FAIL"
    if problems and args.expect != "pass":
        observed += "; but: " + "; ".join(problems[:3])
    elif problems and args.expect == "pass":
        observed = "FAILED: " + problems[0]
    answer = affected(log)
    if answer:
        print(f"is this kernel affected (stale_boost)? {answer}")
    print(f"verdict: {verdict}: {observed}")
    print(summary)
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
