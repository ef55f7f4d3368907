#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The verification matrix as data: one JSON file per cell, and the tables
made from them.

  matrix.py cell OUT.json --name N --tree T --arch A --upto U --debug D
            --lockdbg L --expect E --secs S --log LOG [--base KERNEL]
            (--verdict VERDICT.json | --rc RC --observed TEXT)
      Write a cell's result. A booted cell's comes from the verdict
      scripts/verdict.py wrote (--json); another cell's from its exit
      status and the line its script ended with.
  matrix.py render [--md FILE] [--junit FILE] [--title TEXT] [--trees T,..]
            [--not-trees T,..] CELL.json...
      The table (markdown, and JUnit for CI systems) of those cells, in
      that order; prints the markdown, then "FAILED: CELL: OBSERVED (log:
      LOG)" for each cell that did not meet its expectation, then "N
      passed, N failed". Exit 0 if every cell met its expectation.
  matrix.py get FILE KEY[.KEY...]
      One value of a JSON file (a cell's or a verdict's), for shell; a
      number picks an item of a list ("results.1.ok").
  matrix.py same A.json B.json
      Exit 0 if two verdicts met (or missed) their expectation alike and
      observed the same, numbers aside (a LAVA run against a QEMU run).

Used by make check (scripts/matrix/check.sh), make lava (scripts/lava/lava.sh) and
make mbox (scripts/patches/mbox.sh): none of them reads a printed verdict line.
"""

import json
import os
import re
import sys
from xml.sax.saxutils import quoteattr

COLUMNS = ("cell", "tree", "kernel", "arch", "UPTO", "DEBUG", "LOCK_DEBUG", "expected", "observed",
           "verdict", "time")


def load(path):
    with open(path) as f:
        return json.load(f)


def write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def opts(argv):
    """--key value pairs, and the other words."""
    kv, rest, i = {}, [], 0
    while i < len(argv):
        if argv[i].startswith("--") and i + 1 < len(argv):
            kv[argv[i][2:]] = argv[i + 1]
            i += 2
        else:
            rest.append(argv[i])
            i += 1
    return kv, rest


def cell(argv):
    kv, rest = opts(argv)
    data = {k: kv.get(k) for k in ("name", "tree", "base", "arch", "upto", "debug", "lockdbg",
                                    "expect", "log")}
    data["secs"] = int(kv.get("secs", 0))
    if kv.get("verdict"):
        if os.path.exists(kv["verdict"]):
            v = load(kv["verdict"])
            data.update(met=v["met"], observed=v["observed"], verdict=os.path.abspath(kv["verdict"]))
        else:
            data.update(met=False, verdict=None,
                        observed=kv.get("observed") or "no verdict: the guest did not run (see the log)")
    else:
        data.update(met=kv.get("rc") == "0", observed=kv.get("observed", ""), verdict=None)
    write(rest[0], data)


def render(argv):
    kv, files = opts(argv)
    cells = [load(f) for f in files]
    trees = set(filter(None, kv.get("trees", "").split(",")))
    not_trees = set(filter(None, kv.get("not-trees", "").split(",")))
    cells = [c for c in cells if (not trees or c["tree"] in trees) and c["tree"] not in not_trees]
    rows = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for c in cells:
        rows.append("| " + " | ".join(str(x).replace("|", "/").replace("\n", " ") for x in (
            c["name"], c["tree"], c.get("base") or "-", c["arch"], c["upto"], c["debug"], c["lockdbg"], c["expect"],
            c["observed"], "ok" if c["met"] else "FAIL", f"{c['secs']} s")) + " |")
    md = "\n".join(rows) + "\n"
    if kv.get("title"):
        md += "\n" + kv["title"] + "\n"
    if kv.get("md"):
        with open(kv["md"], "w") as f:
            f.write(md)
    failed = [c for c in cells if not c["met"]]
    if kv.get("junit"):
        cases = []
        for c in cells:
            case = f'<testcase name={quoteattr(c["name"])} time="{c["secs"]}"'
            if c["met"]:
                cases.append(case + "/>")
            else:
                cases.append(case + f"><failure message={quoteattr(c['observed'])}/></testcase>")
        with open(kv["junit"], "w") as f:
            f.write('<?xml version="1.0"?>\n<testsuite name="futex-pi-matrix" '
                    f'tests="{len(cells)}" failures="{len(failed)}">' + "".join(cases)
                    + "</testsuite>\n")
    sys.stdout.write(md)
    # The failed cells again, last: a CI log that keeps only its end names them.
    for c in failed:
        print(f"FAILED: {c['name']}: {c['observed']} (log: {c['log']})")
    print(f"{len(cells) - len(failed)} passed, {len(failed)} failed")
    return 0 if cells and not failed else 1


def get(argv):
    value = load(argv[0])
    for key in argv[1].split("."):
        if isinstance(value, list) and key.isdigit():
            value = value[int(key)] if int(key) < len(value) else None
        else:
            value = value.get(key) if isinstance(value, dict) else None
    if isinstance(value, bool):
        value = "yes" if value else "no"
    print("" if value is None else value)
    return 0


def same(argv):
    a, b = (load(p) for p in argv)
    shape = lambda v: (v["met"], re.sub(r"\d+", "N", v["observed"]))  # noqa: E731
    return 0 if shape(a) == shape(b) else 1


def main(argv):
    verbs = {"cell": cell, "render": render, "get": get, "same": same}
    if not argv or argv[0] not in verbs:
        sys.exit(__doc__)
    return verbs[argv[0]](argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
