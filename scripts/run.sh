#!/bin/bash
# The main job: one kernel, one architecture, one series state. Prepare the
# tree, build the kernel and the tests, make the initramfs, boot, report.
# The last line is "N passed, N failed, N skipped" (scripts/verdict.py);
# exit 0 only if all passed and the kernel log is clean.
# Env: KERNEL (6.1-rt|6.12-rt|6.1), ARCH (x86_64|arm64), KSRC, OUT, UPTO,
#      DEBUG, TESTS_EXTRA, SMP, MEM, ACCEL, TIMEOUT
set -eu
. "$(dirname "$0")/lib.sh"

kernel=${KERNEL:-6.1-rt} arch=${ARCH:-x86_64} upto=${UPTO:-all} debug=${DEBUG:-1}
out=$(realpath -m "${OUT:-$TOP/out}")
arch_conf "$arch"
case $kernel in 6.1-rt | 6.12-rt | 6.1) ;; *) die "unknown KERNEL '$kernel' (6.1-rt, 6.12-rt or 6.1)" ;; esac
[ -z "${TESTS_EXTRA:-}" ] || [ -d "$TESTS_EXTRA" ] || die "TESTS_EXTRA=$TESTS_EXTRA is not a directory"
t0=$SECONDS

stage "dependencies" "$TOP/scripts/deps.sh"

if [ -n "${KSRC:-}" ]; then
	# A user's tree is built as it is; only "make apply" changes it.
	[ -f "$KSRC/Makefile" ] && [ -d "$KSRC/kernel/futex" ] || die "KSRC=$KSRC is not a kernel tree"
	src=$(realpath "$KSRC") name=ksrc-$(basename "$src")
	rt=0
	grep -qs 'select ARCH_SUPPORTS_RT' "$src/arch/$KARCH/Kconfig" && rt=1
	log "KSRC: building $src as it is (rt=$rt)"
else
	name=$kernel
	src=$(stage "tree $kernel, series UPTO=$upto DEBUG=$debug" \
		"$TOP/scripts/prepare-tree.sh" "$kernel" "$out/src/$kernel" "$upto" "$debug")
	rt=1
	[ "$kernel" = 6.1 ] && rt=0
fi
bld=$out/build/$name-$arch
tests=$out/tests/$name-$arch
run=$out/runs/$name-$arch-upto$upto-debug$debug
[ -n "${KSRC:-}" ] && run=$out/runs/$name-$arch
mkdir -p "$run"

stage "build kernel ($name, $arch)" "$TOP/scripts/build-kernel.sh" "$src" "$bld" "$arch" "$rt"
stage "build tests ($arch)" "$TOP/scripts/build-tests.sh" "$arch" "$src" "$bld" "$tests"
cp "$bld/.config" "$run/config"
cp "$bld/$KIMAGE" "$run/"
stage "initramfs" "$TOP/scripts/make-initramfs.sh" "$bld" "$tests" "$run/initramfs.cpio" "${TESTS_EXTRA:-}"
rc=0
stage "boot and test ($arch, SMP=${SMP:-2})" "$TOP/scripts/boot-qemu.sh" "$arch" \
	"$run/$(basename "$KIMAGE")" "$run/initramfs.cpio" "$run/serial.log" || rc=$?
echo "$rc" >"$run/qemu-rc"
log "total: $((SECONDS - t0)) s; logs in $run"
"$TOP/scripts/verdict.py" --qemu-rc "$rc" --config "$run/config" \
	--results "$run/results.txt" "$run/serial.log"
