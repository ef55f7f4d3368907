# futex PI / PREEMPT_RT backport: apply, build, boot, test, report.
# "make help" lists the targets and variables.

ARCH    ?= x86_64
KERNEL  ?= 6.1-rt
OUT     ?= $(if $(O),$(O),$(CURDIR)/out)
UPTO    ?= all
DEBUG   ?= 0
SMP     ?= 2
MEM     ?= 1024
ACCEL   ?= auto
export ARCH KERNEL OUT UPTO DEBUG SMP MEM ACCEL KSRC KIMAGE LOCK_DEBUG TESTS_EXTRA TIMEOUT BOOTS DURATION CONTROL MATRIX CELLS LAVA_URL DRYRUN FAULTS POINTS FAULT_SEED

.PHONY: help run check faults selftest host-test bench soak apply unapply mbox lava lava-run lava-matrix clean
help:
	@echo 'Targets:'
	@echo '  run        apply, build, boot and test one kernel (the main job)'
	@echo '  check      the test command: host tier, then make run for x86_64 and arm64'
	@echo '  faults     interrupt every stage of make run, apply, unapply; rerun; $$(OUT)/faults/faults.md (~50 min)'
	@echo '  selftest   test the verdict code on recorded serial logs, KIMAGE= on bad input (seconds)'
	@echo '  host-test  build the futex-pi suite and the benchmark, run them on the running kernel'
	@echo '  bench      unpatched vs patched kernel, booted alternately (BOOTS=5)'
	@echo '  soak       stress tests on the patched 6.1-rt kernel (DURATION=1800 s in all)'
	@echo '  apply      apply the series to KSRC=DIR (git am in a clean git tree, quilt import in a quilt tree)'
	@echo '  unapply    remove the series from KSRC=DIR (the same way)'
	@echo '  mbox       both series as mboxes with cover letters, for review (after make check)'
	@echo '  lava       each booted matrix cell as a LAVA job with its files, in $$(OUT)/lava (CELLS=)'
	@echo '  lava-run   run those jobs with lava-run here; verdicts to $$(OUT)/lava/matrix.md'
	@echo '  lava-matrix  judge the jobs'"'"' logs ($$(OUT)/lava/CELL/lava.log, e.g. from a lab)'
	@echo '  clean      remove $$(OUT) (the tree cache stays in ~/.cache/futex-pi-rt)'
	@echo 'Variables:'
	@echo '  ARCH=x86_64|arm64      guest architecture (default x86_64)'
	@echo '  KERNEL=6.1-rt|6.1|mainline-rt|5.10-rt  tree (default 6.1-rt); mainline-rt: Debian unstable'"'"'s newest linux-source (7.2); 5.10-rt: Debian 11'"'"'s, with its RT patches'
	@echo '  KERNEL=debian-rt|debian13-rt|debian11-rt  run: boot Debian 12'"'"'s (6.1), 13'"'"'s (6.12) or 11'"'"'s (5.10) shipped RT kernel for ARCH (apt)'
	@echo '  KVER=VERSION           the Debian version to use, e.g. 6.1.176-1, 7.2.13-1; default: the newest'
	@echo '  KIMAGE=FILE            run: boot this kernel (bzImage, Image or linux-image-*.deb)'
	@echo '  KSRC=DIR               build this tree as it is instead of a default one'
	@echo '  LOCK_DEBUG=0           run: a kernel without lock debugging (own build directory)'
	@echo '  O=DIR or OUT=DIR       output directory (default out/)'
	@echo '  UPTO=N                 apply only the first N patches of patches/series (mainline-rt: patches/upstream/series; 5.10-rt: patches/5.10-rt/series)'
	@echo '  DEBUG=1                add the assertion (patch 6) to a state before it, UPTO=2..5'
	@echo '  TESTS_EXTRA=DIR        also run every executable in DIR in the guest'
	@echo '  SMP=N MEM=MiB          guest vCPUs (default 2) and memory (default 1024)'
	@echo '  ACCEL=auto|kvm|tcg     auto uses KVM only after a probe boot works'
	@echo '  TIMEOUT=S              wall-clock limit of one guest (default 900)'
	@echo '  BOOTS=N CONTROL=1      bench: boots per side; unpatched on both sides (A/A)'
	@echo '  MAINLINE=1 PERF=1      bench: mainline-rt as a third side; also perf bench futex lock-pi'
	@echo '  MATRIX=DIR             mbox: the make check results to quote (default $$(OUT)/cells)'
	@echo '  DRYRUN=1               run: write the QEMU command (RUNDIR/qemu-cmd), do not boot'
	@echo '  FAULTS="a b" POINTS=N  faults: only these cases; random points per stage and signal (1)'
	@echo '  CELLS="a b"            check, lava: only these cells of the matrix'
	@echo '  LAVA_URL=URL           lava: where a lab fetches $$(OUT)/lava (default file://)'

run:
	@scripts/run.sh

check:
	@scripts/matrix/check.sh

faults:
	@scripts/faults.sh

selftest:
	@scripts/verdict_test.py
	@scripts/prebuilt-kernel_test.sh

host-test:
	@scripts/measure/host-test.sh

bench:
	@scripts/measure/bench.sh

soak:
	@scripts/measure/soak.sh

apply:
	@scripts/patches/apply-series.sh apply

unapply:
	@scripts/patches/apply-series.sh unapply

mbox:
	@scripts/patches/mbox.sh

lava:
	@scripts/lava/lava.sh jobs

lava-run:
	@scripts/lava/lava.sh run

lava-matrix:
	@scripts/lava/lava.sh matrix

clean:
	rm -rf "$(OUT)"
