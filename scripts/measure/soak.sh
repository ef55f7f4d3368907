#!/bin/bash
# make soak: run the stress tests (futex-pi/pi_deadline_stress) on the fully patched
# 6.1-rt test kernel for DURATION seconds in all and fail on any kernel
# warning or unexpected errno. pi_deadline_stress has two stress tests, which run
# one after the other, so each gets half of DURATION. That reaches the
# guest as FUTEX_PI_STRESS_SECONDS on the kernel command line, which the
# kernel passes to /init's environment and /init to the tests.
# Env: ARCH, DURATION (seconds, default 1800), SMP, OUT
set -eu
. "$(dirname "$0")/../lib.sh"

arch=${ARCH:-x86_64} duration=${DURATION:-1800} kernel=6.1-rt
case $duration in '' | *[!0-9]*) die "DURATION must be a number of seconds" ;; esac
[ "$duration" -ge 20 ] && [ "$duration" -le 7200 ] ||
	die "DURATION is 20 to 7200 s (each stress test runs half of it, at most 3600 s)"
per_test=$((duration / 2))
out=$(realpath -m "${OUT:-$TOP/out}")
lock_out "$out"
arch_conf "$arch"

stage "dependencies" "$TOP/scripts/deps.sh"
src=$(stage "tree $kernel, whole series" "$TOP/scripts/prepare-tree.sh" "$kernel" "$out/src/$kernel" all 0)
bld=$out/build/$kernel-$arch
tests=$out/tests/$kernel-$arch
stage "build kernel" "$TOP/scripts/build-kernel.sh" "$src" "$bld" "$arch" 1
stage "build tests" "$TOP/scripts/build-tests.sh" "$arch" "$src" "$bld" "$tests"

# Only the stress program, with room for its two tests and their grace time.
run=$out/soak/$kernel-$arch-${duration}s
mkdir -p "$run/tests/futex-pi" "$run/tests/futex"
cp "$tests/init" "$run/tests/"
cp "$tests/futex-pi/pi_deadline_stress" "$run/tests/futex-pi/"
echo "futex-pi/pi_deadline_stress $((duration + 300)) /tests/futex-pi/pi_deadline_stress" >"$run/tests/list.futex-pi"
: >"$run/tests/list.futex"
"$TOP/scripts/make-initramfs.sh" "$bld" "$run/tests" "$run/initramfs.cpio"
cp "$bld/$BOOT_IMAGE" "$run/"
rc=0
APPEND="FUTEX_PI_STRESS_SECONDS=$per_test" TIMEOUT=$((duration + 900)) \
	stage "soak ($arch, $duration s: $per_test s per stress test)" "$TOP/scripts/boot-qemu.sh" "$arch" \
	"$run/$(basename "$BOOT_IMAGE")" "$run/initramfs.cpio" "$run/serial.log" || rc=$?
"$TOP/scripts/verdict.py" --output futex-pi/pi_deadline_stress "$run/serial.log" |
	grep -E 'processes:|acquisitions' | sed 's/^ *# */  /' || true
cp "$bld/.config" "$run/config"
"$TOP/scripts/verdict.py" --qemu-rc "$rc" --config "$run/config" \
	--results "$run/results.txt" --json "$run/verdict.json" "$run/serial.log"
