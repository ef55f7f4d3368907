#!/bin/bash
# The main job: one kernel, one architecture, one series state. Prepare the
# tree, build the kernel and the tests, make the initramfs, boot, report.
# With KIMAGE (a kernel image or a Debian linux-image-*.deb) or
# KERNEL=debian-rt (Debian's shipped RT kernel, fetched with apt), boot that
# kernel instead of building one; the tests come from the 6.1-rt tree
# (KERNEL=debian-rt: from Debian's linux-source-6.1, the same source).
# The last line is "N passed, N failed, N skipped" (scripts/verdict.py);
# exit 0 only if all passed and the kernel log is clean.
# What the run left is named in RUNDIR/run.env (shell assignments: the
# image, its config, the initramfs, the QEMU command, the serial log,
# QEMU's exit status and the verdict, RUNDIR/verdict.json); RUN_ENV=FILE
# gets a copy, for make check and make lava.
# Env: KERNEL (6.1-rt|6.1|mainline-rt|5.10-rt|debian-rt|debian13-rt|
#      debian11-rt), KVER (the
#      Debian version, scripts/fetch-tree.sh), ARCH (x86_64|arm64), KSRC,
#      KIMAGE, OUT, UPTO, DEBUG, LOCK_DEBUG, TESTS_EXTRA, SMP, MEM, ACCEL,
#      TIMEOUT, SILENCE, NOBOOT (1: stop before the boot, for make lava),
#      DRYRUN (1: write the QEMU command, RUNDIR/qemu-cmd, and stop), RUN_ENV
set -eu
. "$(dirname "$0")/lib.sh"

kernel=${KERNEL:-6.1-rt} arch=${ARCH:-x86_64} upto=${UPTO:-all} debug=${DEBUG:-0}
lockdebug=${LOCK_DEBUG:-1} kimage=${KIMAGE:-}
out=$(realpath -m "${OUT:-$TOP/out}")
arch_conf "$arch"
case $kernel in 6.1-rt | 6.1 | mainline-rt | 5.10-rt | debian-rt | debian13-rt | debian11-rt) ;;
*) die "unknown KERNEL '$kernel' (6.1-rt, 6.1, mainline-rt, 5.10-rt, debian-rt, debian13-rt or debian11-rt)" ;;
esac
case $lockdebug in 0 | 1) ;; *) die "LOCK_DEBUG must be 0 or 1" ;; esac
[ -z "${TESTS_EXTRA:-}" ] || [ -d "$TESTS_EXTRA" ] || die "TESTS_EXTRA=$TESTS_EXTRA is not a directory"
case $kernel in debian-rt | debian13-rt | debian11-rt) [ -z "$kimage" ] || die "KIMAGE and KERNEL=$kernel: give one of them"; kimage=$kernel ;; esac
[ -z "$kimage" ] || [ -z "${KSRC:-}" ] || die "KIMAGE and KSRC: give one of them"
# One run at a time in an output directory: a second one stops here.
lock_out "$out"
t0=$SECONDS
[ -z "${RUN_ENV:-}" ] || rm -f "$RUN_ENV"

# run_env [QEMU_RC]: write RUNDIR/run.env (and RUN_ENV) for the readers of
# this run.
run_env() {
	{
		echo "# make run's artifacts (scripts/run.sh), as shell assignments"
		for k in KERNEL BASE KIMAGE ARCH UPTO DEBUG LOCK_DEBUG RUN IMAGE CONFIG INITRAMFS QEMU_CMD SERIAL QEMU_RC VERDICT; do
			case $k in
			KERNEL) v=$kernel ;; BASE) v=$base ;; KIMAGE) v=$kimage ;; ARCH) v=$arch ;; UPTO) v=$upto ;; DEBUG) v=$debug ;;
			LOCK_DEBUG) v=$lockdebug ;; RUN) v=$run ;; IMAGE) v=$image ;; CONFIG) v=$config ;;
			INITRAMFS) v=$run/initramfs.cpio ;; QEMU_CMD) v=$run/qemu-cmd ;;
			SERIAL) v=$run/serial.log ;; QEMU_RC) v=${1:-} ;; VERDICT) v=${1:+$run/verdict.json} ;;
			esac
			printf '%s=%q\n' "$k" "$v"
		done
	} >"$run/run.env.tmp"
	mv "$run/run.env.tmp" "$run/run.env"
	[ -z "${RUN_ENV:-}" ] || cp "$run/run.env" "$RUN_ENV"
}

# skip_510: leave out futex-pi/requeue_pi_edeadlk on a 5.10-rt kernel.
# 5.10-rt oopses there, with and without patches/5.10-rt, and the
# guest does not recover (README, "5.10-rt"): futex_requeue()'s failed
# proxy enqueue leaves the requeued task's pi_blocked_on set, and
# futex_wait_requeue_pi() dereferences a NULL pi_state.
skip_510() {
	log "leaving out futex-pi/requeue_pi_edeadlk: 5.10-rt oopses in it, a bug of its own (README, \"5.10-rt\")"
	export SKIP_TESTS="${SKIP_TESTS:-} futex-pi/requeue_pi_edeadlk"
}

stage "dependencies" "$TOP/scripts/deps.sh"

if [ -n "$kimage" ]; then
	# A kernel that is already built: no tree to prepare, nothing to build
	# but the tests (and the kernel tree's gen_init_cpio, for the initramfs).
	# Debian's RT kernels take the tests of Debian 12's 6.1 tree: for
	# Debian 13's (6.12) too, whose line's futex selftests are of the
	# same generation; mainline's (7.2) test features 6.12 lacks. For
	# Debian 11's (5.10) as well: what 5.10 lacks (futex_waitv) they skip.
	name=kimage
	case $kernel in debian-rt | debian13-rt | debian11-rt) name=$kernel kernel=6.1 ;; esac
	[ "$name" != debian11-rt ] || skip_510
	run=$out/runs/$name-$arch
	bld=$out/build/prebuilt-$arch
	mkdir -p "$run" "$bld/usr"
	stage "kernel image ($kimage)" "$TOP/scripts/prebuilt-kernel.sh" "$arch" "$kimage" "$run/kernel"
	# What came with it, where make-initramfs.sh looks in a build: its
	# config and its lock torture modules (from a .deb; none with a bare
	# image, and the initramfs says so).
	rm -rf "$bld/kernel" "$bld/.config"
	mkdir -p "$bld/kernel/locking"
	[ ! -f "$run/kernel/config" ] || cp "$run/kernel/config" "$bld/.config"
	[ ! -f "$run/kernel/modules/torture.ko" ] || cp "$run/kernel/modules/torture.ko" "$bld/kernel/"
	[ ! -f "$run/kernel/modules/locktorture.ko" ] || cp "$run/kernel/modules/locktorture.ko" "$bld/kernel/locking/"
	export KIMAGE_BUILD=1
	# The tests need only the kselftest framework and gen_init_cpio: the
	# newest tree, shared with the other runs, whatever KVER the kernel has.
	src=$(KVER= stage "tree $kernel (for the tests)" "$TOP/scripts/fetch-tree.sh" "$kernel")
	"${HOSTCC:-gcc}" -O2 -o "$bld/usr/gen_init_cpio" "$src/usr/gen_init_cpio.c"
	tests=$out/tests/$name-$arch
	stage "build tests ($arch)" "$TOP/scripts/build-tests.sh" "$arch" "$src" - "$tests"
	image=$run/kernel/image
	config=$run/kernel/config
	base=$(cat "$run/kernel/what")
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
	if [ "$(tree_version "$src")" = 5.10 ]; then
		skip_510
		# 5.10's kselftest framework is older than our suites (no
		# ksft_finished()): its tests are 6.1's, as for Debian 11's
		# kernel, built against the system's headers (5.10's lack
		# futex_waitv's, which those tests skip on 5.10).
		tsrc=$(KVER= stage "tree 6.1 (for the tests)" "$TOP/scripts/fetch-tree.sh" 6.1)
		stage "build tests ($arch)" "$TOP/scripts/build-tests.sh" "$arch" "$tsrc" - "$tests"
	else
		stage "build tests ($arch)" "$TOP/scripts/build-tests.sh" "$arch" "$src" "$bld" "$tests"
	fi
	base=$(tree_base "$src")
	[ -n "$base" ] || base="$src as it is"
	[ -n "${KSRC:-}" ] || base="$base, series UPTO=$upto DEBUG=$debug"
	cp "$bld/.config" "$run/config"
	cp "$bld/$BOOT_IMAGE" "$run/"
	image=$run/$(basename "$BOOT_IMAGE")
	config=$run/config
fi
# No verdict on what an earlier run left here.
rm -f "$run/serial.log" "$run/qemu-rc" "$run/verdict.json" "$run/run.env"
stage "initramfs" "$TOP/scripts/make-initramfs.sh" "$bld" "$tests" "$run/initramfs.cpio" "${TESTS_EXTRA:-}"
if [ "${NOBOOT:-0}" = 1 ]; then
	# make lava: the kernel, its config and the initramfs, for another
	# engine to boot.
	run_env
	log "not booted (NOBOOT=1): $image, $run/initramfs.cpio, $config"
	exit 0
fi
rc=0
stage "boot and test ($arch, SMP=${SMP:-2})" "$TOP/scripts/boot-qemu.sh" "$arch" \
	"$image" "$run/initramfs.cpio" "$run/serial.log" || rc=$?
if [ "${DRYRUN:-0}" = 1 ]; then
	run_env
	exit "$rc"
fi
echo "$rc" >"$run/qemu-rc"
log "kernel: $base"
log "total: $((SECONDS - t0)) s; logs in $run"
vrc=0
"$TOP/scripts/verdict.py" --qemu-rc "$rc" --config "$config" --image "$image" \
	--results "$run/results.txt" --json "$run/verdict.json" "$run/serial.log" || vrc=$?
run_env "$rc"
exit "$vrc"
