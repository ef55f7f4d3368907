# The cells of the verification matrix: make check runs them
# (scripts/matrix/check.sh), make lava writes the booted ones as LAVA jobs
# (scripts/lava/lava.sh). Source it after lib.sh, don't run it.

# matrix_rows: every cell, one a line:
#   name tree arch upto debug lockdbg expect
# For what each expectation means, see scripts/check.sh.
matrix_rows() {
	local nseries fix uses sleep i
	nseries=$(series_patches "$TOP/patches" | wc -l)
	# The futex fix's place in the series: the bug cells stop before it.
	fix=$(series_patches "$TOP/patches" | grep -n -- '-futex-pi-Fix-recursive-rt_mutex-waiter-state' | cut -d: -f1)
	[ -n "$fix" ] || die "patches/series has no futex fix"
	# The block plug cell stops before the rtmutex code uses the scheduler
	# helpers: patch 4 (sched.h) is in, so it shares the bug cells' build.
	uses=$(series_patches "$TOP/patches" | grep -n -- '-locking-rtmutex-Use-rt_mutex-specific-scheduler' | cut -d: -f1)
	[ -n "$uses" ] || die "patches/series has no 'Use rt_mutex specific scheduler helpers'"
	# The sleep cell stops before the patch that moves the futex
	# scheduler steps into rt_mutex_wait_proxy_lock().
	sleep=$(series_patches "$TOP/patches" | grep -n -- '-futex-Provide-rt_mutex_.-_schedule-equivalents' | cut -d: -f1)
	[ -n "$sleep" ] || die "patches/series has no 'Provide rt_mutex_.*_schedule() equivalents'"
	cat <<-EOF
	selftest              selftest  host    -     -     -       pass
	host                  host      host    -     -     -       pass
	patches               patches   host    -     -     -       pass
	rt-x86-bug            6.1-rt    x86_64  $((fix - 1))     0     1       bug
	rt-x86-partial        6.1-rt    x86_64  $fix     0     1       einval
	rt-x86-fixed          6.1-rt    x86_64  all   0     1       pass
	runner                runner    x86_64  -     -     -       pass
	rt-x86-sleep          6.1-rt    x86_64  $((sleep - 1))     0     1       sleep
	rt-x86-plug           6.1-rt    x86_64  $((uses - 1))     1     1       plug
	rt-x86-bug-nodebug    6.1-rt    x86_64  0     0     0       stale
	rt-arm64-bug          6.1-rt    arm64   $((fix - 1))     0     1       bug
	rt-arm64-fixed        6.1-rt    arm64   all   0     1       pass
	rt-arm64-sleep        6.1-rt    arm64   $((sleep - 1))     0     1       sleep
	rt-arm64-plug         6.1-rt    arm64   $((uses - 1))     1     1       plug
	rt-arm64-bug-nodebug  6.1-rt    arm64   0     0     0       stale
	debian-rt-x86         debian-rt x86_64  -     -     0       stale
	debian-rt-176-x86     debian-rt=6.1.176-1 x86_64 - - 0       oops
	debian13-rt-x86       debian13-rt x86_64 - -   0       pass
	mainline-x86          mainline-rt x86_64 all 0   1       pass
	mainline-x86-deadlock mainline-rt x86_64 0   0   1       deadlock
	mainline-arm64        mainline-rt arm64  all 0   1       pass
	mainline-arm64-deadlock mainline-rt arm64 0  0   1       deadlock
	nonrt-x86-fixed       6.1       x86_64  all   0     1       pass
	rt510-x86-bug         5.10-rt   x86_64  0     0     1       bug
	rt510-x86-partial     5.10-rt   x86_64  1     0     1       einval
	rt510-x86-fixed       5.10-rt   x86_64  all   0     1       pass
	rt510-arm64-bug       5.10-rt   arm64   0     0     1       bug
	rt510-arm64-fixed     5.10-rt   arm64   all   0     1       pass
	rt510-x86-bug-nodebug 5.10-rt   x86_64  0     0     0       stale
	debian11-rt-x86       debian11-rt x86_64 - -   0       stale
	EOF
	for i in $(seq "$nseries" -1 1); do
		echo "bisect-rt-x86-$i 6.1-rt x86_64 $i 0 1 builds"
		echo "bisect-rt-arm64-$i 6.1-rt arm64 $i 0 1 builds"
		echo "bisect-nonrt-x86-$i 6.1 x86_64 $i 0 1 builds"
	done
	# make check's last cell: the booted cells' LAVA jobs (scripts/lava/lava_test.sh).
	echo "lava                  lava      host    -     -     -       pass"
}

# Cells that make check (and make lava) take only when CELLS names them:
# each costs a cold compile that the other cells already cover. rt-x86-bug-nodebug (our x86_64
# build without lock debugging, 354 s of a cold make check) shows what
# debian-rt-x86 (x86_64, no lock debugging, the kernel Debian ships) and
# rt-arm64-bug-nodebug (our build, no lock debugging) show; dropped to
# keep a cold make check under an hour (BENCHMARKS.md).
# Since ccache is keyed by the tree's content (scripts/build-kernel.sh), a
# make check with an empty ccache compiles each series state's changed
# files afresh: 4044 s for every cell on 2026-12-08 (trees cached), over
# the hour. On demand as well, each shown on both arches by the cells
# that stay: mainline-arm64 and mainline-arm64-deadlock (7.2's arm64
# build and the two runs, 326 s of that run; 7.2 stays in make check on
# x86_64, and the arm64 figures are in README, "Mainline: 7.2"), and the
# arm64 bisect steps (200 s; every step builds on x86_64 with and without
# PREEMPT_RT, and the whole series on arm64).
# The 5.10-rt cells as well, all seven (2026-12-08, ccache cold): the
# x86_64 bug and fixed cells 83 s and 77 s (with the 28 s download of
# the tree and a 150 s cold build), the arm64 pair 212 s and 78 s, the
# fix without its follow-up 61 s, the build without lock debugging
# 153 s, Debian 11's kernel 50 s: some 12 minutes, where a cold make
# check took 3518 s without them. make check's patches cell still
# applies the 5.10-rt series (git am and b4 of its mbox). README,
# "5.10-rt", has their results and rates.
rt510="rt510-x86-bug rt510-x86-fixed rt510-x86-partial rt510-arm64-bug rt510-arm64-fixed rt510-x86-bug-nodebug debian11-rt-x86"
on_demand="rt-x86-bug-nodebug mainline-arm64 mainline-arm64-deadlock $rt510 $(seq -f 'bisect-rt-arm64-%g' 1 "$(series_patches "$TOP/patches" | wc -l)" | paste -sd' ')"

# cell_booted TREE EXPECT: the cell boots a guest (it can be a LAVA job).
cell_booted() {
	case $1 in selftest | host | patches | runner | lava) return 1 ;; esac
	[ "$2" != builds ]
}

# cell NAME: set cell_name tree arch upto debug lockdbg expect from NAME's
# row; fail with the list of cells if there is none.
cell() {
	local row
	row=$(matrix_rows | awk -v n="$1" '$1 == n' | head -n 1)
	[ -n "$row" ] || die "no cell '$1' in the matrix; the cells are: $(matrix_rows | awk '{print $1}' | paste -sd' ')"
	read -r cell_name tree arch upto debug lockdbg expect <<<"$row"
}

# cell_load OUT: load what make run left for the cell (after cell): the
# variables of its run.env (RUN, IMAGE, CONFIG, INITRAMFS, SERIAL,
# QEMU_RC, VERDICT; scripts/run.sh). Fails if the cell has no run in OUT.
cell_load() {
	local env=$1/cells/$cell_name.env
	RUN= BASE= IMAGE= CONFIG= INITRAMFS= SERIAL= QEMU_RC= VERDICT=
	[ -f "$env" ] || return 1
	# shellcheck disable=SC1090 # written by scripts/run.sh
	. "$env"
}

# cell_run OUT [VAR=VALUE...]: make run in the cell's state (after cell),
# e.g. NOBOOT=1 to stop before the boot. OUT/cells/NAME.env names what
# it left (cell_load).
cell_run() {
	local out=$1 only= skip_tests=
	shift
	[ "$expect" = plug ] && only=rt-plug/
	[ "$expect" = deadlock ] && only=futex/futex_lock_pi_deadlock
	[ "$expect" = sleep ] && only=futex-pi/requeue_pi_steal
	[ "$expect" = oops ] && only=futex-pi/requeue_pi_edeadlk
	# After the oops a guest can hang for good (README, "Is my kernel
	# affected?"): a short limit bounds what that costs.
	local limit=${TIMEOUT:-}
	[ "$expect" = oops ] && limit=300
	# The RT sanity programs run where the whole series is (their
	# time goes to the cells that ship). The states before patch 9 have
	# the bug requeue_pi_steal shows; the sleep cell shows it, the other
	# cells of those states leave it out.
	[ "$expect" = pass ] || skip_tests=rt-sanity/
	case $expect in bug | einval) skip_tests="$skip_tests futex-pi/requeue_pi_steal" ;; esac
	# (run.sh leaves out requeue_pi_edeadlk on 5.10-rt: skip_510.)
	mkdir -p "$out/cells"
	# A tree "debian-rt=VERSION" is Debian's RT kernel of that version.
	env OUT="$out" KERNEL="${tree%%=*}" KVER="$(cell_kver)" ${limit:+TIMEOUT=$limit} ARCH="$arch" UPTO="$upto" DEBUG="$debug" \
		LOCK_DEBUG="$lockdbg" ONLY="$only" SKIP_TESTS="$skip_tests" KSRC= KIMAGE= \
		RUN_ENV="$out/cells/$cell_name.env" "$@" "$TOP/scripts/run.sh"
}

# cell_kver: the version a cell's tree pins (after cell), or nothing.
cell_kver() {
	case $tree in *=*) echo "${tree#*=}" ;; *) echo "${KVER:-}" ;; esac
}

# cell_verdict_args SRC: verdict.py's options for the cell (after cell),
# besides the log and how the guest ended. SRC is the cell's working copy
# in the state the cell was built in: the assertion sites (patch 6 of the
# series, lockdep_assert(!current->pi_blocked_on); on 5.10-rt the WARN of
# patches/5.10-rt/testkernel) come from there; none for a cell without a
# tree (debian-rt). On mainline, and on Debian 13's
# RT kernel (6.12), a passing cell must have passed the ww_ctx selftest of
# patches/upstream (build-tests.sh adds it where a tree lacks it).
cell_verdict_args() {
	local sites=
	if [ -d "$1" ]; then
		sites=$(cd "$1" && grep -s -n -F -e 'lockdep_assert(!current->pi_blocked_on);' \
			-e "WARN(1, \"rt_mutex: took a sleeping spinlock's slow path" \
			kernel/locking/rtmutex.c kernel/locking/rwbase_rt.c kernel/locking/spinlock_rt.c \
			kernel/locking/rtmutex-debug.c | cut -d: -f1,2 | paste -sd,)
	fi
	echo "--expect $expect"
	[ -z "$sites" ] || echo "--sites $sites"
	case $tree in mainline-rt | debian13-rt) [ "$expect" != pass ] || echo "--require futex/futex_lock_pi_deadlock" ;; esac
	return 0
}
