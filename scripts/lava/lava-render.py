#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Write one cell's LAVA job, and the device LAVA would give it.

scripts/lava/lava.sh calls it with the cell and its guest's settings (from
qemu/ARCH.conf and scripts/lib.sh, the ones scripts/boot-qemu.sh uses).
The job comes from lava/job.yaml.jinja2. The device is what a LAVA server
dispatches the job with: the device dictionary lava/devices/qemu-ARCH.jinja2,
over LAVA's stock device-type templates (DEVICE_TYPES), rendered with the
job's context.

Debian's python3 on purpose: lava-dispatcher brings its yaml and jinja2.
"""

import argparse
import os
import sys

import jinja2
import yaml

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# LAVA's names for our architectures (its qemu device type's list).
LAVA_ARCH = {"x86_64": "x86_64", "arm64": "arm64"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device-types", required=True, help="LAVA's device-types directory")
    ap.add_argument("--out", required=True, help="directory for job.yaml and device.yaml")
    ap.add_argument("--option", action="append", default=[], help="a QEMU option for the job's context")
    for k in ("cell", "tree", "arch", "upto", "debug", "lockdbg", "expect", "machine", "cpu",
              "memory", "cmdline", "kernel", "base-url", "slowest", "job-timeout"):
        ap.add_argument("--" + k, required=True)
    a = ap.parse_args()

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(TOP, "lava")),
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             autoescape=False)
    job_text = env.get_template("job.yaml.jinja2").render(
        cell=a.cell, tree=a.tree, arch=a.arch, upto=a.upto, debug=a.debug, lockdbg=a.lockdbg,
        expect=a.expect, lava_arch=LAVA_ARCH[a.arch], memory=a.memory, machine=a.machine,
        cpu=a.cpu, extra_options=a.option, cmdline=a.cmdline, kernel=a.kernel,
        base_url=a.base_url.rstrip("/"), slowest=a.slowest,
        result_timeout=int(a.slowest) + 120, job_timeout=a.job_timeout, monitor="futex-pi")
    job = yaml.safe_load(job_text)

    # As a LAVA server does: the device dictionary over the device types,
    # with the job's context.
    denv = jinja2.Environment(loader=jinja2.FileSystemLoader(
        [os.path.join(TOP, "lava", "devices"), a.device_types]), trim_blocks=True, autoescape=False)
    device_text = denv.get_template(f"qemu-{a.arch}.jinja2").render(**job["context"])
    device = yaml.safe_load(device_text)
    params = device["actions"]["boot"]["methods"]["qemu"]["parameters"]
    cmd = " ".join([params["command"].strip()] + params.get("options", []) + params.get("extra", []))

    with open(os.path.join(a.out, "job.yaml"), "w") as f:
        f.write(job_text)
    with open(os.path.join(a.out, "device.yaml"), "w") as f:
        f.write(device_text)
    print(f"QEMU, as LAVA will start it: {cmd} (then -kernel, -initrd, -append from the job)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
