# Shared helpers for the harness scripts. Source it, don't run it.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${FUTEX_PI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/futex-pi-rt}
# Our kselftest suites (tools/testing/selftests/*): the futex tests, the
# block plug reproducer and the RT sanity programs (lock torture).
SUITES="futex-pi rt-plug rt-sanity"
# Programs that oops a kernel with the bug they look for (40a25d59e85b
# missing): they run in guests only, never on the machine itself
# (make host-test).
HOST_UNSAFE="futex-pi/requeue_pi_edeadlk"

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# stage NAME CMD...: run one stage, print its name and how long it took.
stage() {
	local name=$1 t0=$SECONDS rc=0
	shift
	log "$name"
	"$@" || rc=$?
	if [ "$rc" = 0 ]; then
		log "$name: done in $((SECONDS - t0)) s"
	else
		log "$name: FAILED (exit $rc) after $((SECONDS - t0)) s"
	fi
	return "$rc"
}

# apt_install PKG...: install Debian packages by name, or tell the user how.
apt_install() {
	local cmd="apt-get install -y --no-install-recommends $*"
	if [ "$(id -u)" != 0 ]; then
		die "missing packages; run as root: apt-get update && $cmd"
	fi
	log "installing:$*"
	apt_update_once
	DEBIAN_FRONTEND=noninteractive $cmd >"$CACHE/apt.log" 2>&1 ||
		{ tail -n 20 "$CACHE/apt.log" >&2; die "apt-get install failed (log: $CACHE/apt.log)"; }
}

apt_update_once() {
	mkdir -p "$CACHE"
	[ -e "$CACHE/.apt-updated" ] && [ -z "$(find "$CACHE/.apt-updated" -mmin +720)" ] && return 0
	log "apt-get update"
	apt-get update >"$CACHE/apt.log" 2>&1 ||
		{ tail -n 20 "$CACHE/apt.log" >&2; die "apt-get update failed"; }
	touch "$CACHE/.apt-updated"
}

# apt_arch DEBARCH: make sure apt offers packages of DEBARCH (multiarch).
apt_arch() {
	[ "$1" = "$(dpkg --print-architecture)" ] && return 0
	dpkg --print-foreign-architectures | grep -qx "$1" && return 0
	[ "$(id -u)" = 0 ] || die "apt needs the $1 architecture: run as root, or dpkg --add-architecture $1"
	log "adding the $1 architecture to dpkg (apt multiarch)"
	dpkg --add-architecture "$1"
	rm -f "$CACHE/.apt-updated"
}

# apt_download PKG DEBARCH [VERSION]: download PKG:DEBARCH (DEBARCH "all"
# for an architecture-independent package) once into CACHE/downloads; print
# the .deb's path. Without VERSION the newest one there is reused. Call it
# in a command substitution: its EXIT trap cleans up after an interruption.
apt_download() {
	local pkg=$1 debarch=$2 version=${3:-} dir=$CACHE/downloads deb tmp want=$1 v
	v=${3:-*}
	mkdir -p "$dir"
	[ "$debarch" = all ] || want=$pkg:$debarch
	[ -z "$version" ] || want=$want=$version
	deb=$(ls "$dir/${pkg}_"$v"_$debarch.deb" 2>/dev/null | sort -V | tail -n 1 || true)
	if [ -z "$deb" ]; then
		[ "$debarch" = all ] || apt_arch "$debarch"
		apt_update_once
		log "downloading $want"
		tmp=$(mktemp -d "$dir/.apt.XXXXXX")
		trap 'rm -rf "$tmp"' EXIT	# an interrupted download leaves nothing
		(cd "$tmp" && apt-get download "$want") >"$tmp/log" 2>&1 ||
			{ tail -n 5 "$tmp/log" >&2; die "apt-get download $want failed"; }
		mv "$tmp"/*.deb "$dir/" || die "apt-get download $want gave no .deb"
		rm -rf "$tmp"
		trap - EXIT
		deb=$(ls "$dir/${pkg}_"$v"_$debarch.deb" 2>/dev/null | sort -V | tail -n 1 || true)
	fi
	[ -n "$deb" ] || die "no $pkg $debarch package in $dir"
	echo "$deb"
}

# need_src_entry: make sure apt has a deb-src entry for each Debian suite it
# already uses for binaries (the release and its security suite), in a
# file of our own; no package is installed from a source entry.
need_src_entry() {
	local f=/etc/apt/sources.list.d/futex-pi-src.sources uri suite added=
	while read -r uri suite; do
		src_suite_known "$suite" && continue
		[ "$(id -u)" = 0 ] || die "no deb-src entry for $suite in apt's sources; add one for your Debian mirror"
		log "adding a deb-src entry for $uri $suite"
		[ ! -s "$f" ] || echo >>"$f"
		printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
			"$uri" "$suite" >>"$f"
		added=1
	done < <(apt-cache policy | awk '/^ *-?[0-9]+ / { u = $2; s = $3 }
		/release .*o=Debian,/ && s ~ /\/main$/ && s !~ /-updates\// { sub(/\/main$/, "", s); print u, s }' | sort -u)
	[ -z "$added" ] || rm -f "$CACHE/.apt-updated"
	apt_update_once
}

# src_suite_known SUITE: apt has (or will have after an update) a source
# index of SUITE.
src_suite_known() {
	apt-get indextargets --format '$(CREATED_BY) $(RELEASE)' 2>/dev/null | grep -qx "Sources $1"
}

# tree_base DIR: what the cached tree DIR, or a working copy of one, is
# made of (scripts/fetch-tree.sh), e.g. "Debian 6.1.192-3 + rt64".
tree_base() {
	# Trees cached before the subject said so are named for it.
	git -C "$1" log -1 --format=%s base 2>/dev/null |
		sed -E 's/^pristine linux-source-[0-9.]+-(.*)\.tmp$/Debian \1/
			s/^pristine linux-(.*)-rt\.tmp$/Debian \1 + RT/'
}

# What a tree already has. Each takes the tree's top directory.

# tree_rwbase_unfit DIR: print why patch 5's rwbase_rt.c hunks would land
# wrong in DIR, and succeed; fail when they fit. They are written for
# an __rwbase_read_lock() without the reader fast path under wait_lock,
# which Debian's 6.1 RT patches remove ("locking/rwbase: Mitigate
# indefinite writer starvation"); with it, rwbase_pre_schedule() lands
# before an early return that skips its post. On a tree that cannot
# build PREEMPT_RT (plain 6.1.y) rwbase_rt.c is never compiled.
tree_rwbase_unfit() {
	grep -qs 'Allow readers, as long as the writer has not completely' "$1/kernel/locking/rwbase_rt.c" || return 1
	grep -qs 'select ARCH_SUPPORTS_RT' "$1"/arch/*/Kconfig || return 1
	echo "its kernel/locking/rwbase_rt.c lacks the RT patch \"locking/rwbase: Mitigate indefinite writer starvation\" (6.1-rt has it): patch 5's rwbase_rt.c hunks would put rwbase_pre_schedule() before an early return without its post"
}

# The upstream fix (fbeb558b0dd0) is present when futex_lock_pi()'s cleanup
# removes the rt_waiter before it takes hb->lock.
tree_has_fix() {
	awk '/^cleanup:/ { c = 1; next }
	     c && /rt_mutex_cleanup_proxy_lock/ { exit 0 }
	     c && /spin_lock\(q\.lock_ptr\)/ { exit 1 }
	     END { if (!c) exit 1 }' "$1/kernel/futex/pi.c"
}

# The debug assertion (upstream 45f67f30a22f) is present.
tree_has_assert() {
	grep -q 'lockdep_assert(!current->pi_blocked_on)' "$1/kernel/locking/spinlock_rt.c" 2>/dev/null
}

# The tree runs timer softirqs in ktimers threads (6.1-rt) and starts RCU
# Tasks and its boot self tests before those threads exist:
# patches/testkernel's backports of upstream 9d0cce2bc387 and 23c22d91561d
# apply.
tree_needs_boot_fix() {
	grep -q 'timersd' "$1/kernel/softirq.c" &&
		grep -q 'rcu_init_tasks_generic();' "$1/init/main.c" &&
		! grep -q 'core_initcall(rcu_init_tasks_generic)' "$1/kernel/rcu/tasks.h"
}

# rt_mutex_init_waiter() leaves ww_ctx alone: patches/testkernel's
# ww_ctx fix applies (needed for PI futex deadlock detection on RT debug
# kernels).
tree_needs_ww_ctx_init() {
	awk '/ void rt_mutex_init_waiter\(/ { f = 1 }
	     f && /ww_ctx = NULL/ { exit 1 }
	     f && /^}/ { exit 0 }' "$1/kernel/locking/rtmutex_common.h"
}

# series_patches DIR [N]: the first N (default all) patch files of DIR/series.
series_patches() {
	local dir=$1 n=${2:-}
	[ -f "$dir/series" ] || return 0
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$dir/series" |
		{ if [ -n "$n" ]; then head -n "$n"; else cat; fi; } |
		sed "s|^|$dir/|"
}

# patch_subject PATCH: the subject line of a format-patch file, unfolded,
# without its [PATCH n/m] tag (what git log --format=%s shows once applied).
patch_subject() {
	awk '/^Subject: / { s = $0; while ((getline l) > 0 && l ~ /^[ \t]/) s = s l; print s; exit }' "$1" |
		sed -E 's/^Subject: (\[[^]]*\] )?//; s/[[:space:]]+/ /g'
}

# What every guest gets besides qemu/ARCH.conf's machine and CPU, whichever
# engine boots it: scripts/boot-qemu.sh, or a LAVA job (scripts/lava/lava.sh).
# guest_qemu_options: QEMU options, one a line (SMP: vCPUs, default 2).
# -no-reboot, with panic=-1 below: a panic ends QEMU at once.
guest_qemu_options() {
	printf '%s\n' "-smp ${SMP:-2}" -no-reboot
}

# guest_cmdline: the kernel command line (after arch_conf; APPEND: more).
# loglevel=4: only errors and worse reach the console while the tests
# run (the runner prints the warnings it finds in /dev/kmsg itself), so that
# kernel output does not interleave with the tests' output. APPEND=loglevel=8
# shows everything, e.g. to see where a boot stops.
# log_buf_len=16M: a buggy kernel writes megabytes of WARNINGs a second;
# /init must read every record (it fails a run that lost some).
# noirqdebug: the runner copies those WARNINGs to the serial console, up
# to a megabyte per boot. On RT the 8250's handler runs in a thread, and
# genirq counts a hard interrupt as unhandled when that thread has not
# finished since the previous one; with a stream of transmit interrupts
# from QEMU's UART on a busy host, more than 99,900 of 100,000 were, and
# the spurious-IRQ detector disabled IRQ 4 ("irq 4: nobody cared ...
# Disabling IRQ #4"): the console stopped and the guest hung until its
# time limit (rt-x86-bug, 2026-11-27, BOOT-RELIABILITY.md). The detector
# guards real hardware; it has nothing to find here.
guest_cmdline() {
	echo "console=$CONSOLE panic=-1 loglevel=4 log_buf_len=16M noirqdebug${APPEND:+ $APPEND}"
}

# arch_conf ARCH: load qemu/ARCH.conf (per-architecture data).
arch_conf() {
	case ${1:-} in
	x86_64 | arm64) . "$TOP/qemu/$1.conf" ;;
	*) die "unknown ARCH '${1:-}' (x86_64 or arm64)" ;;
	esac
}
