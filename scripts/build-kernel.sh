#!/bin/bash
# Configure (allnoconfig + kernel-config/ fragments, checked) and build a
# kernel out of tree. A rerun with nothing changed rebuilds nothing.
# Usage: [LOCK_DEBUG=0] [TARGETS="dir/ ..."] scripts/build-kernel.sh SRCDIR BUILDDIR ARCH RT(0|1)
#   TARGETS: compile only these kbuild targets (a bisect step that changes
#   only .c files), not the boot image, modules and headers.
set -eu
. "$(dirname "$0")/lib.sh"

src=$(realpath "$1") bld=$(realpath -m "$2") arch=$3 rt=$4
arch_conf "$arch"
mkdir -p "$bld"
# A cold build writes some 200 MB (x86_64 with lock debugging, 2026-12).
[ -e "$bld/.config" ] || need_space "$bld" 600 "building $arch in $bld"
build_begin "$bld"

frags="$TOP/kernel-config/base.config"
# LOCK_DEBUG=0 (benchmarks): a production-like kernel without lock debugging.
[ "${LOCK_DEBUG:-1}" = 1 ] && frags="$frags $TOP/kernel-config/lock-debug.config"
[ "$rt" = 1 ] && frags="$frags $TOP/kernel-config/preempt-rt.config"
frags="$frags $TOP/kernel-config/$arch.config"

cc=${CROSS_COMPILE}gcc
# ccache with paths made relative: clones in other places share the cache.
# Depend mode takes the headers from the compiler's -MMD output instead of
# running the preprocessor once more on a miss: a cold 6.1-rt x86_64 build
# took 177 s instead of 231 s, and hits are as before.
# The cache is keyed by the tree's content as well (a file ccache hashes
# into every entry, CCACHE_EXTRAFILES; Kbuild does not see it, so make's
# incremental rebuilds stay as they are): an object compiled for one
# series state never serves another. Without it, a fresh clone's make
# check once built its "fixed" mainline kernel byte for byte as the
# unfixed one (the three objects that inline rt_mutex_init_waiter()
# came from the cache entries of the unfixed state, which other
# checkouts had made; README, "Mainline: 7.2"), and the fixed cell failed.
# A tree that is not a clean git work tree is keyed by its path.
if command -v ccache >/dev/null; then
	cc="ccache $cc"
	export CCACHE_BASEDIR=${CCACHE_BASEDIR:-/} CCACHE_DEPEND=${CCACHE_DEPEND:-1}
	mkdir -p "$bld"
	if [ "$(git -C "$src" rev-parse --show-toplevel 2>/dev/null)" = "$src" ] &&
		key=$(git -C "$src" rev-parse -q --verify 'HEAD^{tree}') &&
		[ -z "$(git -C "$src" status --porcelain --untracked-files=no)" ]; then
		echo "tree $key" >"$bld/.ccache-key"
	else
		echo "path $src" >"$bld/.ccache-key"
	fi
	export CCACHE_EXTRAFILES=$bld/.ccache-key
fi
# DEBUG is this harness's variable (DEBUG=1: the assertion added early), but tools/lib/subcmd
# reads it too: a different value rebuilds objtool, and with it every object.
kmake() {
	env -u DEBUG make -C "$src" O="$bld" ARCH="$arch" CROSS_COMPILE="$CROSS_COMPILE" \
		CC="$cc" HOSTCC="${HOSTCC:-gcc}" "$@"
}

# Generate the config beside the live one and replace it only when it
# differs, so that an unchanged config does not touch the build.
(cd "$src" && ARCH=$arch CROSS_COMPILE=$CROSS_COMPILE KCONFIG_CONFIG="$bld/.config.new" \
	scripts/kconfig/merge_config.sh -n -O "$bld" $frags) >"$bld/config.log" 2>&1 ||
	{ tail -n 20 "$bld/config.log" >&2; die "merge_config.sh failed (log: $bld/config.log)"; }

# merge_config.sh only warns about options that did not survive: fail.
dropped=
for f in $frags; do
	while IFS= read -r line; do
		case $line in
		CONFIG_*=n) want="# ${line%=n} is not set" ;;
		CONFIG_*) want=$line ;;
		*) continue ;;
		esac
		grep -qxF -- "$want" "$bld/.config.new" || dropped="$dropped
  $line (from $(basename "$f"); got: $(grep -E "(^|# )${line%%=*}[= ]" "$bld/.config.new" || echo unset))"
	done <"$f"
done
[ -z "$dropped" ] || die "options dropped by olddefconfig:$dropped"

if ! cmp -s "$bld/.config.new" "$bld/.config"; then
	mv "$bld/.config.new" "$bld/.config"
else
	rm -f "$bld/.config.new"
fi

# make decides by modification times. A working copy switched to another
# series state has the files that changed written now; should the clock
# have gone back since the last build (this machine's VM is snapshotted and
# restored), they would look older than their objects and make would keep
# those. So the files that changed since the commit last built here are
# made newer than that build.
stamp=$bld/.built-from
if [ -d "$src/.git" ] && [ -s "$stamp" ]; then
	last=$(cat "$stamp")
	if [ "$last" != "$(git -C "$src" rev-parse HEAD)" ] &&
		git -C "$src" cat-file -e "$last^{commit}" 2>/dev/null; then
		t=$(($(stat -c %Y "$stamp") + 1))
		[ "$t" -gt "$(date +%s)" ] || t=$(date +%s)
		git -C "$src" diff --name-only -z "$last" HEAD -- |
			(cd "$src" && xargs -0 -r touch -c -d "@$t")
	fi
fi
rm -f "$stamp"

# A cold build takes minutes: say once a minute how far it got (the steps
# kbuild logged so far, and the last one), not every object.
targets=${TARGETS:-$(basename "$BOOT_IMAGE")}
[ -n "${TARGETS:-}" ] || ! grep -qx CONFIG_MODULES=y "$bld/.config" || targets="$targets modules"
# In the background, a script's commands ignore SIGINT: without the
# trap reset, a Ctrl-C of the run left this make compiling on.
(trap - INT QUIT; kmake -j"$(nproc)" $targets) >"$bld/build.log" 2>&1 &
kpid=$! t0=$SECONDS next=60
trap 'die_of INT "$kpid"' INT
trap 'die_of TERM "$kpid"' TERM
trap 'die_of HUP "$kpid"' HUP
while kill -0 "$kpid" 2>/dev/null; do
	sleep 2
	if [ $((SECONDS - t0)) -ge "$next" ] && kill -0 "$kpid" 2>/dev/null; then
		log "building $targets: $((SECONDS - t0)) s, $(grep -cE '^  [A-Z]' "$bld/build.log") steps, at: $(grep -E '^  [A-Z]' "$bld/build.log" | tail -n 1 | sed 's/^ *//')"
		next=$((next + 60))
	fi
done
wait "$kpid" ||
	{ grep -E 'error|Error' "$bld/build.log" | head -n 20 >&2; die "kernel build failed (log: $bld/build.log)$(space_hint "$bld")"; }
if [ -n "${TARGETS:-}" ]; then
	build_end "$bld"
	[ ! -d "$src/.git" ] || git -C "$src" rev-parse HEAD >"$stamp"
	grep -E '^(\S+: )?warning:' "$bld/build.log" >&2 || true
	exit 0
fi
kmake headers >>"$bld/build.log" 2>&1 || die "make headers failed (log: $bld/build.log)"
# gen_init_cpio is a host tool of the kernel tree: build it for the initramfs.
kmake usr/gen_init_cpio >>"$bld/build.log" 2>&1 ||
	{ tail -n 20 "$bld/build.log" >&2; die "building usr/gen_init_cpio failed"; }
build_end "$bld"
[ ! -d "$src/.git" ] || git -C "$src" rev-parse HEAD >"$stamp"
grep -E '^(\S+: )?warning:' "$bld/build.log" >&2 || true
ls "$bld/$BOOT_IMAGE" >/dev/null
