#!/bin/bash
# Fetch and unpack a kernel tree into the cache, once per version, and print
# the path of its git repository (one commit: the pristine tree).
# Usage: scripts/fetch-tree.sh KERNEL      KERNEL: 6.1-rt | 6.12-rt | 6.1
set -eu
. "$(dirname "$0")/lib.sh"

kernel=${1:?usage: fetch-tree.sh 6.1-rt|6.12-rt|6.1}
mkdir -p "$CACHE/trees" "$CACHE/downloads"

# Newest 6.1 source version of package "linux" that actually downloads.
fetch_debian_source() {
	local v dir=$CACHE/downloads
	need_src_entry
	for v in $(apt-cache showsrc linux | awk '/^Version: 6\.1\./ {print $2}' | sort -rV); do
		if ls "$dir"/linux_"$v".dsc >/dev/null 2>&1; then
			echo "$v"; return 0
		fi
		log "downloading Debian source linux $v"
		if (cd "$dir" && apt-get source --download-only "linux=$v" >"$dir/download.log" 2>&1); then
			echo "$v"; return 0
		fi
		warn "linux $v did not download ($(tail -n 1 "$dir/download.log")); trying an older one"
	done
	die "no 6.1 source of package linux downloads; check apt's deb-src entries"
}

# commit_tree DIR: record the pristine tree as a git repository. Automatic
# gc is off: after a commit of some 80,000 loose objects it would repack them
# in the background for minutes, on the cores the kernel build needs.
commit_tree() {
	(cd "$1" && git init -q && git config gc.auto 0 && git add -A -f &&
	 git -c user.name=futex-pi-rt -c user.email=futex-pi-rt@localhost \
	     commit -q -m "pristine $(basename "$1")" && git tag base) >/dev/null
}

case $kernel in
6.1-rt)
	v=$(fetch_debian_source)
	tree=$CACHE/trees/linux-$v-rt
	if [ ! -e "$tree/.git/refs/tags/base" ]; then
		rm -rf "$tree" "$tree.tmp"
		log "unpacking linux $v and applying Debian's patches"
		dpkg-source --no-check -x "$CACHE/downloads/linux_$v.dsc" "$tree.tmp" >"$CACHE/trees/unpack.log" 2>&1 ||
			die "dpkg-source failed (log: $CACHE/trees/unpack.log)"
		log "applying debian/patches-rt"
		(cd "$tree.tmp" && QUILT_PATCHES=debian/patches-rt QUILT_PC=.pc-rt quilt push -a -q --fuzz=0) >>"$CACHE/trees/unpack.log" 2>&1 ||
			die "debian/patches-rt did not apply (log: $CACHE/trees/unpack.log)"
		# Keep only the kernel tree: Debian's packaging and quilt's state
		# are not part of what we build.
		rm -rf "$tree.tmp/debian" "$tree.tmp/.pc" "$tree.tmp/.pc-rt" "$CACHE"/trees/linux_*.orig.tar.*
		commit_tree "$tree.tmp"
		mv "$tree.tmp" "$tree"
	fi
	;;
6.12-rt | 6.1)
	pkg=linux-source-${kernel%-rt}
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || apt_install "$pkg"
	v=$(dpkg-query -W -f='${Version}' "$pkg")
	tree=$CACHE/trees/$pkg-$v
	if [ ! -e "$tree/.git/refs/tags/base" ]; then
		rm -rf "$tree" "$tree.tmp"
		log "unpacking $pkg $v"
		mkdir -p "$tree.tmp"
		tar -xaf /usr/src/"$pkg".tar.xz -C "$tree.tmp" --strip-components=1
		commit_tree "$tree.tmp"
		mv "$tree.tmp" "$tree"
	fi
	;;
*)
	die "unknown KERNEL '$kernel' (6.1-rt, 6.12-rt or 6.1)"
	;;
esac
echo "$tree"
