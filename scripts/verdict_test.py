#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make selftest: feed recorded and hand-made serial logs through the verdict.

Each case in tests/verdict/cases/ is NAME.log or NAME.log.gz (a serial log)
and NAME.want:
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
    log = want_path[:-len(".want")] + ".log"
    if not os.path.exists(log):
        log += ".gz"
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
    logs = sorted(glob.glob(os.path.join(CASES, "*.log")) + glob.glob(os.path.join(CASES, "*.log.gz")))
    passed = failed = 0
    print("TAP version 13")
    print(f"1..{len(wants) + 1}")
    orphans = [l for l in logs if re.sub(r"\.log(\.gz)?$", ".want", l) not in wants]
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
    sys.exit(main())
