#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make selftest: feed recorded and hand-made serial logs through the verdict.

Each case in tests/verdict/cases/ is a log and NAME.want. The log is
NAME.log or NAME.log.gz (a serial log, or with --lava a LAVA job's log, as
recorded), or NAME.txt: the runner's records as their payloads, one a line
(escaped as guest/init.c escapes them), with the console's other lines
written "| LINE"; the case frames each record as /init does (with the
number c0ffee00) before the verdict reads it. "verdict_test.py --unframe
LOG" prints a recorded serial log that way, to make a case from it. NAME.want
has
comment lines ("# ..."), "args: ..." (verdict.py's options), "verdict: ok"
or "verdict: FAIL", and any number of "says: TEXT" lines, each of which must
appear in verdict.py's output. The last line printed is "N passed, N failed".
"""

import contextlib
import glob
import io
import os
import re
import shlex
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verdict  # noqa: E402

CASES = os.path.join(verdict.TOP, "tests", "verdict", "cases")


def run_case(want_path):
    args, expect, says = [], None, []
    with open(want_path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("args:"):
                args = shlex.split(line[5:])
            elif line.startswith("verdict:"):
                expect = line[8:].strip()
            elif line.startswith("says:"):
                says.append(line[5:].strip())
    if expect not in ("ok", "FAIL"):
        return [f"{want_path}: no 'verdict: ok|FAIL' line"]
    base = want_path[:-len(".want")]
    log = next((base + ext for ext in (".log", ".log.gz", ".txt") if os.path.exists(base + ext)),
               base + ".log")
    if log.endswith(".txt"):
        with open(log, encoding="latin-1") as f:
            framed = frame(f.read().split("\n"))
        tmp = tempfile.NamedTemporaryFile("w", suffix=".log", encoding="latin-1", delete=False)
        with tmp:
            tmp.write(framed)
        try:
            return check_case(args, expect, says, tmp.name)
        finally:
            os.unlink(tmp.name)
    return check_case(args, expect, says, log)


NONCE = "c0ffee00"


def frame(lines):
    """A runner view (see above) as the serial log /init would write."""
    out, seq = [], 0
    for line in lines[:-1] if lines and lines[-1] == "" else lines:
        if line.startswith("| ") or line == "|":
            out.append(line[2:])
            continue
        head = f"{NONCE}{seq:08x}"
        out.append(f"~{head}{zlib.crc32((head + line).encode('latin-1')):08x} {line}")
        seq += 1
    return "\n".join(out) + "\n"


def unframe(path):
    """A recorded serial log as a runner view."""
    stream = verdict.Stream(verdict.read_serial(path))
    for kind, text in stream.order:
        print(text if kind == "record" else "| " + text)
    for p in stream.problems:
        print(f"problem: {p}", file=sys.stderr)


def check_case(args, expect, says, log):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        try:
            rc = verdict.main(args + [log])
        except SystemExit as e:     # bad arguments in the case
            rc = f"exit {e.code}"
    output = buf.getvalue()
    errors = []
    if not isinstance(rc, int):
        return [f"verdict.py did not run: {rc}: {buf.getvalue().strip()[-300:]}"]
    got = "ok" if rc == 0 else "FAIL"
    if got != expect:
        errors.append(f"verdict {got}, wanted {expect}")
    if not any(line.startswith(f"verdict: {expect}") for line in output.splitlines()):
        errors.append(f"no 'verdict: {expect}' line")
    for text in says:
        if text not in output:
            errors.append(f"output lacks: {text}")
    if errors:
        errors.append("output was:\n" + "".join("    | " + line + "\n" for line in output.splitlines()[-12:]))
    return errors


def main():
    wants = sorted(glob.glob(os.path.join(CASES, "*.want")))
    logs = sorted(glob.glob(os.path.join(CASES, "*.log")) + glob.glob(os.path.join(CASES, "*.log.gz"))
                  + glob.glob(os.path.join(CASES, "*.txt")))
    passed = failed = 0
    print("TAP version 13")
    print(f"1..{len(wants) + 1}")
    orphans = [l for l in logs if re.sub(r"\.(log(\.gz)?|txt)$", ".want", l) not in wants]
    for n, want in enumerate(wants, 1):
        name = os.path.basename(want)[:-5]
        errors = run_case(want)
        if errors:
            failed += 1
            print(f"not ok {n} {name}")
            for e in errors:
                print(f"# {e}")
        else:
            passed += 1
            print(f"ok {n} {name}")
    n = len(wants) + 1
    if orphans:
        failed += 1
        print(f"not ok {n} every log has a .want # " + ", ".join(os.path.basename(o) for o in orphans))
    else:
        passed += 1
        print(f"ok {n} every log has a .want")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--unframe"] and len(sys.argv) == 3:
        sys.exit(unframe(sys.argv[2]))
    sys.exit(main())
