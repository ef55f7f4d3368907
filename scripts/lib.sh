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

# A command that handles SIGINT itself and exits (apt-get, apt-helper,
# python) would let bash go on with the next one: every script stops
# instead, dying of the signal, so that its caller stops too.
trap 'trap - INT; kill -INT $$' INT

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# stage NAME CMD...: run one stage, print its name and how long it took.
# A stage that fails on a nearly full disk says so.
stage() {
	local name=$1 t0=$SECONDS rc=0
	shift
	log "$name"
	"$@" || rc=$?
	if [ "$rc" = 0 ]; then
		log "$name: done in $((SECONDS - t0)) s"
	else
		log "$name: FAILED (exit $rc) after $((SECONDS - t0)) s$(space_hint "${OUT:-$TOP/out}" "$CACHE")"
	fi
	return "$rc"
}

# free_mb DIR: MB free on DIR's file system (DIR or its nearest parent).
free_mb() {
	local d=$1
	while [ ! -e "$d" ]; do d=$(dirname "$d"); done
	df -Pm "$d" | awk 'NR == 2 { print $4 }'
}

# need_space DIR MB WHAT: stop, before WHAT starts writing to DIR, when
# DIR's file system has less than MB free.
need_space() {
	local free
	free=$(free_mb "$1")
	[ "$free" -ge "$2" ] ||
		die "$3 needs about $2 MB in $1, which has $free MB free: free some space or give another directory (O=DIR for the output, FUTEX_PI_CACHE=DIR for the cache)"
}

# space_hint DIR...: ": only N MB free on DIR" for each DIR nearly full.
space_hint() {
	local d f
	for d; do
		f=$(free_mb "$d" 2>/dev/null) || continue
		[ "$f" -ge 64 ] || printf '; only %s MB free in %s: the disk may be full' "$f" "$d"
	done
}

# die_of SIG PID: stop PID (and its children), then die of SIG, so that
# our caller stops too (a trap's action for scripts with a child in the
# background: it would outlive them).
die_of() {
	set +e
	pkill -TERM -P "$2" 2>/dev/null
	kill "$2" 2>/dev/null
	wait "$2" 2>/dev/null
	trap - "$1"
	kill -"$1" $$
}

# build_begin DIR: a build into DIR starts. When the one before did not
# finish (interrupted, killed, out of space), the files it wrote may be
# cut short, yet newer than their sources, and make would keep them: they
# (the files newer than its mark) are deleted first, and made again.
# build_end DIR: the build finished.
build_begin() {
	local mark=$1/.building n
	mkdir -p "$1"
	if [ -e "$mark" ]; then
		n=$(find "$1" -newer "$mark" -type f | wc -l)
		log "the last build in $1 did not finish: deleting the $n files it wrote"
		find "$1" -newer "$mark" -type f -delete
	fi
	touch "$mark"
}
build_end() { rm -f "$1/.building"; }

# Locks (flock(1)). One run at a time per output directory; cache entries
# are made under a lock of their own, so that runs sharing the cache wait
# for each other instead of writing the same files.

# lock_out DIR: hold DIR's lock for the rest of this run and its children
# (fd 8, inherited); a second run in DIR stops at once, naming the first.
lock_out() {
	local f=$1/.lock
	mkdir -p "$1"
	# A child of the run holding it (make check's cells) has it already.
	[ "$(readlink /proc/$$/fd/8 2>/dev/null)" = "$(realpath "$f" 2>/dev/null)" ] && return 0
	exec 8>>"$f"
	if ! flock -n 8; then
		die "$1 is in use by another run ($(cat "$f" 2>/dev/null || echo "unknown")); wait for it, or give this run another directory with O=DIR"
	fi
	printf 'pid %s, %s, since %s' "$$" "$(tr '\0' ' ' </proc/$PPID/cmdline | sed 's/ $//')" "$(date '+%F %T')" >"$f"
}

# with_lock FILE WHAT CMD...: run CMD holding FILE's lock; say so while
# another holder makes us wait.
with_lock() {
	local f=$1 what=$2
	shift 2
	mkdir -p "$(dirname "$f")"
	(
		exec 9>>"$f"
		if ! flock -n 9; then
			log "waiting for another run that is $what"
			flock 9
		fi
		# The command does not get the lock descriptors: a daemon it
		# starts must not hold our locks (the subshell holds this one).
		"$@" 8>&- 9>&-
	)
}

# Every apt-get call of ours holds CACHE/apt.lock: runs sharing the cache
# take turns instead of failing on apt's own locks. DPkg::Lock::Timeout
# waits for anyone else's apt.
apt_() {
	with_lock "$CACHE/apt.lock" "running apt-get" apt-get -o DPkg::Lock::Timeout=600 "$@"
}

# apt_install PKG...: install Debian packages by name, or tell the user how.
apt_install() {
	local cmd="apt-get install -y --no-install-recommends $*"
	if [ "$(id -u)" != 0 ]; then
		die "missing packages; run as root: apt-get update && $cmd"
	fi
	log "installing:$*"
	apt_update_once
	# An apt-get install that was killed leaves dpkg half done, and every
	# later one fails until it is finished.
	if [ -n "$(ls -A /var/lib/dpkg/updates 2>/dev/null)" ]; then
		log "finishing an interrupted dpkg run (dpkg --configure -a)"
		with_lock "$CACHE/apt.lock" "running apt-get" dpkg --configure -a >>"$CACHE/apt-install.log" 2>&1 ||
			die "dpkg --configure -a failed (log: $CACHE/apt-install.log)"
	fi
	DEBIAN_FRONTEND=noninteractive apt_ install -y --no-install-recommends "$@" >"$CACHE/apt-install.log" 2>&1 ||
		{ tail -n 20 "$CACHE/apt-install.log" >&2; die "apt-get install failed (log: $CACHE/apt-install.log)"; }
}

# apt_update_once: apt-get update, at most every 12 hours (per suite
# after use_suite).
apt_update_once() {
	local d=${APT_SUITE_DIR:-$CACHE}
	mkdir -p "$d"
	[ -e "$d/.apt-updated" ] && [ -z "$(find "$d/.apt-updated" -mmin +720)" ] && return 0
	log "apt-get update${APT_SUITE:+ (Debian $APT_SUITE, apt state of our own)}"
	apt_ update >"$d/apt.log" 2>&1 ||
		{ tail -n 20 "$d/apt.log" >&2; die "apt-get update${APT_SUITE:+ of $APT_SUITE} failed (log: $d/apt.log)"; }
	touch "$d/.apt-updated"
}

# use_suite SUITE [src]: from now on, apt-get and apt-cache in this script (and
# apt_download, apt_update_once) see Debian's SUITE (unstable, trixie,
# bullseye) and nothing else, through a configuration and a state of our
# own in CACHE/apt/SUITE (APT_CONFIG): the host's sources, preferences
# and dpkg status are neither read nor changed, and nothing is installed
# from SUITE. The archive is the one the host's apt already uses for
# Debian. With "src", apt also reads SUITE's source index (apt-get source).
use_suite() {
	local d=$CACHE/apt/$1 uri
	uri=$(APT_CONFIG= debian_suites | awk '$2 !~ /-security$/ { print $1; exit }')
	[ -n "$uri" ] || die "apt has no Debian archive among its sources: Debian $1 is fetched from the archive the host already uses"
	mkdir -p "$d/lists/partial" "$d/archives/partial" "$d/parts"
	: >>"$d/status"
	# Written aside and renamed: another run may be reading them.
	{
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $1 main"
		[ "${2:-}" != src ] || echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $1 main"
	} >"$d/sources.list.$$"
	# A source index added since the last update needs another one.
	cmp -s "$d/sources.list.$$" "$d/sources.list" || rm -f "$d/.apt-updated"
	mv "$d/sources.list.$$" "$d/sources.list"
	cat >"$d/apt.conf.$$" <<-EOF
	Dir::State::Lists "$d/lists";
	Dir::State::status "$d/status";
	Dir::State::extended_states "$d/extended_states";
	Dir::Cache "$d";
	Dir::Cache::archives "$d/archives";
	Dir::Etc::SourceList "$d/sources.list";
	Dir::Etc::SourceParts "$d/parts";
	Dir::Etc::Preferences "$d/preferences";
	Dir::Etc::PreferencesParts "$d/parts";
	APT::Architectures { "$(dpkg --print-architecture)"; "amd64"; "arm64"; };
	Acquire::Languages "none";
	EOF
	mv "$d/apt.conf.$$" "$d/apt.conf"
	export APT_CONFIG=$d/apt.conf APT_SUITE=$1 APT_SUITE_DIR=$d
}

# apt_arch DEBARCH: make sure apt offers packages of DEBARCH (multiarch).
apt_arch() {
	[ -z "${APT_SUITE:-}" ] || return 0	# use_suite offers both
	[ "$1" = "$(dpkg --print-architecture)" ] && return 0
	dpkg --print-foreign-architectures | grep -qx "$1" && return 0
	[ "$(id -u)" = 0 ] || die "apt needs the $1 architecture: run as root, or dpkg --add-architecture $1"
	log "adding the $1 architecture to dpkg (apt multiarch)"
	with_lock "$CACHE/apt.lock" "running apt-get" dpkg --add-architecture "$1"
	rm -f "$CACHE/.apt-updated"
}

# apt_download PKG DEBARCH [VERSION]: download PKG:DEBARCH (DEBARCH "all"
# for an architecture-independent package) once into CACHE/downloads; print
# the .deb's path. Without VERSION the newest one there is reused. A
# cached .deb is checked against apt's checksum each time it is used, and
# downloaded again if it does not match; a download is renamed into place
# when it is complete, under the cache's download lock.
apt_download() {
	mkdir -p "$CACHE/downloads"
	with_lock "$CACHE/downloads/.lock" "using the download cache" apt_download_locked "$@"
}

apt_download_locked() {
	local pkg=$1 debarch=$2 version=${3:-} dir=$CACHE/downloads deb tmp want=$1 v why
	v=${3:-*}
	# Left by a download that was killed (we hold the lock: nobody's).
	rm -rf "$dir"/.apt.*
	[ "$debarch" = all ] || want=$pkg:$debarch
	[ -z "$version" ] || want=$want=$version
	deb=$(ls "$dir/${pkg}_"$v"_$debarch.deb" 2>/dev/null | sort -V | tail -n 1 || true)
	if [ -n "$deb" ] && ! why=$(deb_damaged "$deb" "$pkg" "$debarch"); then
		warn "$(basename "$deb") in the cache is damaged ($why): downloading it again"
		rm -f "$deb"
		deb=
	fi
	if [ -z "$deb" ]; then
		[ "$debarch" = all ] || apt_arch "$debarch"
		apt_update_once
		log "downloading $want"
		tmp=$(mktemp -d "$dir/.apt.XXXXXX") || die "cannot write to $dir$(space_hint "$dir")"
		trap 'rm -rf "$tmp"' EXIT	# an interrupted download leaves nothing
		(cd "$tmp" && apt-get download "$want") >"$tmp/log" 2>&1 ||
			{ tail -n 5 "$tmp/log" >&2; die "apt-get download $want failed$(space_hint "$dir")"; }
		mv "$tmp"/*.deb "$dir/" || die "apt-get download $want gave no .deb"
		rm -rf "$tmp"
		trap - EXIT
		deb=$(ls "$dir/${pkg}_"$v"_$debarch.deb" 2>/dev/null | sort -V | tail -n 1 || true)
	fi
	[ -n "$deb" ] || die "no $pkg $debarch package in $dir"
	echo "$deb"
}

# deb_damaged DEB PKG DEBARCH: fail, saying why, when DEB is not the
# package apt describes (its SHA256), or, for a version apt no longer
# knows, not a readable package at all.
deb_damaged() {
	local ver want got
	ver=$(basename "$1" .deb)
	ver=${ver#"$2"_} ver=${ver%_"$3"} ver=${ver//%3a/:}
	want=$(apt-cache show "$2$([ "$3" = all ] || echo ":$3")=$ver" 2>/dev/null | sed -n 's/^SHA256: //p' | head -n 1)
	if [ -n "$want" ]; then
		got=$(sha256sum "$1" | cut -d' ' -f1)
		[ "$got" = "$want" ] || { echo "SHA256 $got, apt says $want"; return 1; }
	else
		dpkg-deb --info "$1" >/dev/null 2>&1 || { echo "dpkg-deb cannot read it"; return 1; }
	fi
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
	done < <(debian_suites)
	[ -z "$added" ] || rm -f "$CACHE/.apt-updated"
	apt_update_once
}

# debian_suites: "URI SUITE" for each Debian suite the host's apt takes
# binaries from (main; the release and its security suite, not -updates).
debian_suites() {
	apt-cache policy | awk '/^ *-?[0-9]+ / { u = $2; s = $3 }
		/release .*o=Debian,/ && s ~ /\/main$/ && s !~ /-updates\// { sub(/\/main$/, "", s); print u, s }' | sort -u
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
# (kernel/futex/pi.c; before 5.16, kernel/futex/core.c).
tree_has_fix() {
	local f=$1/kernel/futex/pi.c
	[ -f "$f" ] || f=$1/kernel/futex/core.c
	awk '/^cleanup:/ { c = 1; next }
	     c && /rt_mutex_cleanup_proxy_lock/ { exit 0 }
	     c && /spin_lock\(q\.lock_ptr\)/ { exit 1 }
	     END { if (!c) exit 1 }' "$f"
}

# tree_version DIR: the kernel tree's VERSION.PATCHLEVEL, e.g. 5.10.
tree_version() {
	awk '/^VERSION =/ { v = $3 } /^PATCHLEVEL =/ { p = $3 } END { print v "." p }' "$1/Makefile"
}

# tree_series DIR: the series for the tree's kernel line, one place for
# every script: the 5.10-rt backport (patches/5.10-rt) for 5.10; from
# v6.7 on, where the upstream futex fix (fbeb558b0dd0) is in, the ww_ctx
# fix and its selftest (patches/upstream); else the 6.1 backport
# (patches).
tree_series() {
	local v
	v=$(tree_version "$1")
	if [ "$v" = 5.10 ]; then
		echo "$TOP/patches/5.10-rt"
	elif dpkg --compare-versions "$v" ge 6.7; then
		echo "$TOP/patches/upstream"
	else
		echo "$TOP/patches"
	fi
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
	# Before 5.15 rt_mutex has no ww_mutex support, and no ww_ctx.
	grep -q 'ww_ctx' "$1/kernel/locking/rtmutex_common.h" || return 1
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
