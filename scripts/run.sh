#!/bin/bash
# The main job: one kernel, one architecture, one series state. Prepare the
# tree, build the kernel and the tests, make the initramfs, boot, report.
# With KIMAGE (a kernel image or a Debian linux-image-*.deb) or
# KERNEL=debian-rt (Debian's shipped RT kernel, fetched with apt), boot that
# kernel instead of building one; the tests come from the 6.1-rt tree
# (KERNEL=debian-rt: from Debian's linux-source-6.1, the same source).
# The last line is "N passed, N failed, N skipped" (scripts/verdict.py);
# exit 0 only if all passed and the kernel log is clean.
# Env: KERNEL (6.1-rt|6.12-rt|6.1|debian-rt), ARCH (x86_64|arm64), KSRC,
#      KIMAGE, OUT, UPTO, DEBUG, LOCK_DEBUG, TESTS_EXTRA, SMP, MEM, ACCEL,
#      TIMEOUT, SILENCE, NOBOOT (1: stop before the boot, for make lava)
set -eu
. "$(dirname "$0")/lib.sh"

kernel=${KERNEL:-6.1-rt} arch=${ARCH:-x86_64} upto=${UPTO:-all} debug=${DEBUG:-0}
lockdebug=${LOCK_DEBUG:-1} kimage=${KIMAGE:-}
out=$(realpath -m "${OUT:-$TOP/out}")
arch_conf "$arch"
case $kernel in 6.1-rt | 6.12-rt | 6.1 | debian-rt) ;; *) die "unknown KERNEL '$kernel' (6.1-rt, 6.12-rt, 6.1 or debian-rt)" ;; esac
case $lockdebug in 0 | 1) ;; *) die "LOCK_DEBUG must be 0 or 1" ;; esac
[ -z "${TESTS_EXTRA:-}" ] || [ -d "$TESTS_EXTRA" ] || die "TESTS_EXTRA=$TESTS_EXTRA is not a directory"
[ -z "$kimage" ] || [ "$kernel" != debian-rt ] || die "KIMAGE and KERNEL=debian-rt: give one of them"
[ -z "$kimage" ] || [ -z "${KSRC:-}" ] || die "KIMAGE and KSRC: give one of them"
[ "$kernel" = debian-rt ] && kimage=debian-rt
t0=$SECONDS

stage "dependencies" "$TOP/scripts/deps.sh"

if [ -n "$kimage" ]; then
	# A kernel that is already built: no tree to prepare, nothing to build
	# but the tests (and the kernel tree's gen_init_cpio, for the initramfs).
	name=kimage
	[ "$kernel" = debian-rt ] && name=debian-rt kernel=6.1
	run=$out/runs/$name-$arch
	bld=$out/build/prebuilt-$arch
	rm -f "$run/serial.log" "$run/qemu-rc"
	mkdir -p "$run" "$bld/usr"
	stage "kernel image ($kimage)" "$TOP/scripts/prebuilt-kernel.sh" "$arch" "$kimage" "$run/kernel"
	src=$(stage "tree $kernel (for the tests)" "$TOP/scripts/fetch-tree.sh" "$kernel")
	"${HOSTCC:-gcc}" -O2 -o "$bld/usr/gen_init_cpio" "$src/usr/gen_init_cpio.c"
	tests=$out/tests/$name-$arch
	stage "build tests ($arch)" "$TOP/scripts/build-tests.sh" "$arch" "$src" - "$tests"
	image=$run/kernel/image
	config=$run/kernel/config
else
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
	# Without lock debugging (a kernel like the ones people run) the
	# build has a directory of its own: make bench builds the same.
	nd=
	[ "$lockdebug" = 0 ] && nd=-nodebug
	bld=$out/build/$name-$arch$nd
	tests=$out/tests/$name-$arch
	run=$out/runs/$name-$arch-upto$upto-debug$debug$nd
	[ -n "${KSRC:-}" ] && run=$out/runs/$name-$arch$nd
	mkdir -p "$run"

	LOCK_DEBUG=$lockdebug stage "build kernel ($name, $arch$nd)" \
		"$TOP/scripts/build-kernel.sh" "$src" "$bld" "$arch" "$rt"
	stage "build tests ($arch)" "$TOP/scripts/build-tests.sh" "$arch" "$src" "$bld" "$tests"
	cp "$bld/.config" "$run/config"
	cp "$bld/$BOOT_IMAGE" "$run/"
	image=$run/$(basename "$BOOT_IMAGE")
	config=$run/config
fi
stage "initramfs" "$TOP/scripts/make-initramfs.sh" "$bld" "$tests" "$run/initramfs.cpio" "${TESTS_EXTRA:-}"
if [ "${NOBOOT:-0}" = 1 ]; then
	# make lava: the kernel, its config and the initramfs, for another
	# engine to boot.
	log "not booted (NOBOOT=1): $image, $run/initramfs.cpio, $config"
	exit 0
fi
rc=0
stage "boot and test ($arch, SMP=${SMP:-2})" "$TOP/scripts/boot-qemu.sh" "$arch" \
	"$image" "$run/initramfs.cpio" "$run/serial.log" || rc=$?
echo "$rc" >"$run/qemu-rc"
log "total: $((SECONDS - t0)) s; logs in $run"
"$TOP/scripts/verdict.py" --qemu-rc "$rc" --config "$config" \
	--results "$run/results.txt" "$run/serial.log"
