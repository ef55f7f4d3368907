#!/bin/bash
# Fetch and unpack a kernel tree into the cache, once per version, and print
# the path of its git repository (one commit, tagged base: the pristine
# tree; its subject names what it is made of, see tree_base in lib.sh).
# Usage: scripts/fetch-tree.sh KERNEL
#        KERNEL: 6.1-rt | 6.1 | mainline-rt | 5.10-rt
#
# The tree is Debian's linux-source-X package (the kernel with Debian's
# patches), of the newest version apt offers from the suites the host
# already uses, the security suite included: what Debian 12 ships today.
# KVER=VERSION pins the version, e.g. KVER=6.1.176-1. The version is
# resolved on every run, so a cached older tree never stands in for a
# newer one.
#
# mainline-rt is the newest linux-source-X.Y of Debian unstable (7.2.13-1
# when this was written), read through an apt state of our own
# (use_suite in lib.sh): current mainline, where PREEMPT_RT is built in.
# Unstable's pool keeps only its newest version: once it has moved on,
# KVER=VERSION takes a tree already in the cache without asking apt.
#
# 5.10-rt is Debian 11's linux-source-5.10 with the PREEMPT_RT patch set of
# the same version, from Debian bullseye through an apt state of our own
# (use_suite, with its source index): what Debian 11's RT kernels are
# built from.
#
# 6.1-rt adds Debian's PREEMPT_RT patch set (debian/patches-rt of source
# package linux) of the same version. Where that source does not download
# (the security suite's source pool may not be reachable), the RT patches
# come from the newest 6.1 source that does, changed the way Debian's
# changelog says it changed them since: a patch it dropped is left out; a
# patch it refreshed that no longer applies is left out only if it touches
# nothing but arch/arm/ (32-bit ARM, never built here). Any other change
# (a new RT release) stops with an error and the KVER to pin instead.
set -eu
. "$(dirname "$0")/lib.sh"

kernel=${1:?usage: fetch-tree.sh 6.1-rt|6.1|mainline-rt|5.10-rt}
mkdir -p "$CACHE/trees" "$CACHE/downloads"
kver=${KVER:-}

case $kernel in
6.1-rt | 6.1) pkg=linux-source-6.1 ;;
5.10-rt)
	use_suite bullseye src
	pkg=linux-source-5.10
	;;
mainline-rt)
	# A pinned version in the cache needs no apt.
	if [ -n "$kver" ]; then
		tree=$(ls -d "$CACHE"/trees/linux-source-*-"$kver" 2>/dev/null | head -n 1)
		[ ! -e "$tree/.git/refs/tags/base" ] || { echo "$tree"; exit 0; }
	fi
	use_suite unstable
	(apt_update_once) || warn "apt-get update of Debian unstable failed: taking the versions apt knew"
	pkg=$(apt-cache search --names-only '^linux-source-[0-9]+\.[0-9]+$' | awk '{ print $1 }' | sort -V | tail -n 1)
	[ -n "$pkg" ] || die "Debian unstable offers no linux-source-X.Y package (apt state: $APT_SUITE_DIR)"
	;;
*) die "unknown KERNEL '$kernel' (6.1-rt, 6.1, mainline-rt or 5.10-rt)" ;;
esac

# The version: KVER, or the newest one apt offers (offline: the newest
# one apt knew).
[ -n "${APT_SUITE:-}" ] || (apt_update_once) || warn "apt-get update failed: taking the versions apt knew"
versions=$(apt-cache madison "$pkg" | awk '{print $3}' | sort -uV)
[ -n "$versions" ] || die "apt offers no $pkg (apt-cache madison $pkg)"
if [ -n "$kver" ]; then
	echo "$versions" | grep -qxF "$kver" ||
		die "KVER=$kver: apt offers $pkg $(echo "$versions" | tr '\n' ' ')only"
	v=$kver
else
	v=$(echo "$versions" | tail -n 1)
fi

# commit_tree DIR SUBJECT [BODY]: record the pristine tree as a git
# repository. Automatic gc is off: after a commit of some 80,000 loose
# objects it would repack them in the background for minutes, on the cores
# the kernel build needs. The commit has a fixed author and date: a tree
# made again of the same files is the same commit, and the working copies
# cloned from it (scripts/prepare-tree.sh) and their builds stay valid.
commit_tree() {
	(cd "$1" && git init -q && git config gc.auto 0 && git add -A -f &&
	 GIT_AUTHOR_DATE='@1600000000 +0000' GIT_COMMITTER_DATE='@1600000000 +0000' \
	 git -c user.name=futex-pi-rt -c user.email=futex-pi-rt@localhost \
	     commit -q -m "$2" -m "${3:-}" --allow-empty-message && git tag base) >/dev/null
}

# unpack_source DIR: Debian's kernel source of $pkg $v into DIR.
unpack_source() {
	local deb
	deb=$(apt_download "$pkg" all "$v")
	log "unpacking $pkg $v"
	mkdir -p "$1"
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$pkg.tar.xz" | tar -xJ -C "$1" --strip-components=1 ||
		die "cannot unpack /usr/src/$pkg.tar.xz from $deb"
}

# rt_source: download debian/ of source package linux (its .debian.tar.xz
# only: the kernel comes from linux-source) for $v, or else the newest
# version of the same line below it that downloads; print that version. A cached file
# is checked against the checksum of apt's source index each time.
rt_source() {
	local sv line uri file hash dl=$CACHE/downloads line_re=${pkg#linux-source-}
	# A suite of our own has its source index already (use_suite src).
	if [ -n "${APT_SUITE:-}" ]; then (apt_update_once); else need_src_entry; fi
	for sv in $(apt-cache showsrc linux | awk -v l="$line_re." '$1 == "Version:" && index($2, l) == 1 {print $2}' | sort -urV); do
		dpkg --compare-versions "$sv" le "$v" || continue
		file=linux_$sv.debian.tar.xz
		line=$(apt-get --print-uris source "linux=$sv" 2>/dev/null | grep "$file") || line=
		read -r uri _ _ hash <<<"$line"
		if [ -s "$dl/$file" ]; then
			if [ -z "$hash" ] || hash_ok "$dl/$file" "$hash"; then
				echo "$sv"
				return 0
			fi
			warn "$file in the cache does not match apt's checksum ($hash): downloading it again"
			rm -f "$dl/$file"
		fi
		[ -n "$line" ] || continue
		# A version that did not download is tried again after 12 hours.
		[ -n "$(find "$dl/linux_$sv.missing" -mmin -720 2>/dev/null)" ] && continue
		log "downloading Debian's $file"
		rm -f "$dl/.$file".*
		if /usr/lib/apt/apt-helper download-file "${uri//\'/}" "$dl/.$file.$$" "$hash" \
			>"$dl/download.log" 2>&1; then
			mv "$dl/.$file.$$" "$dl/$file"
			echo "$sv"
			return 0
		fi
		rm -f "$dl/.$file.$$"
		# Only a file the archive does not have (404) sends us to an
		# older version; any other failure (an interruption: apt's
		# methods die of SIGINT while apt-helper exits normally; a full
		# disk; the network) stops the run, which would otherwise build
		# another base.
		grep -q ' 404 ' "$dl/download.log" ||
			die "$file did not download ($(grep -m1 -E '^E:' "$dl/download.log"))$(space_hint "$dl")"
		touch "$dl/linux_$sv.missing"
		warn "$file is not in the archive ($(grep -m1 -o '404.*Not Found' "$dl/download.log")); trying an older one"
	done
	die "no $line_re source of package linux up to $v downloads; check apt's deb-src entries"
}

# hash_ok FILE TYPE:HEX: FILE has that checksum (apt's notation).
hash_ok() {
	local type=${2%%:*}
	type=$(echo "$type" | tr 'A-Z' 'a-z' | tr -d -)
	command -v "${type}sum" >/dev/null || return 0
	[ "$("${type}sum" "$1" | cut -d' ' -f1)" = "${2#*:}" ]
}

# rt_changes SV: Debian's "[rt]" changelog entries of linux-source after
# SV, up to $v, one a line.
rt_changes() {
	dpkg-deb --fsys-tarfile "$(apt_download "$pkg" all "$v")" |
		tar -xO "./usr/share/doc/$pkg/changelog.Debian.gz" | gzip -dc |
		awk -v sv="$1" '
		$0 ~ "^linux \\(" sv "\\)" { if (e != "") print e; e = ""; done = 1 }
		done { next }
		/^  \* / { if (e != "") print e; e = ($0 ~ /^  \* \[rt\] /) ? substr($0, 5) : ""; next }
		/^    [^ -]/ && e != "" { sub(/^ +/, ""); e = e " " $0; next }
		{ if (e != "") print e; e = "" }
		END { if (e != "" && !done) print e }'
}

# subject PATCH: the patch's subject without its "[PATCH n/m]".
subject() {
	awk '/^Subject:/ { s = $0; while ((getline l) > 0 && l ~ /^ /) s = s l; print s; exit }' "$1" |
		sed -e 's/^Subject: *//' -e 's/^\[[^]]*\] *//' -e 's/  */ /g'
}

# apply_rt DIR SV: apply debian/patches-rt of linux SV to DIR, changed as
# Debian's changelog says between SV and $v; print what was left out.
apply_rt() {
	local dir=$1 sv=$2 d=$1/.rt drop= refresh= c s p files
	mkdir -p "$d"
	tar -xJf "$CACHE/downloads/linux_$sv.debian.tar.xz" -C "$d" debian/patches-rt ||
		die "cannot unpack debian/patches-rt from linux_$sv.debian.tar.xz$(space_hint "$dir")"
	if [ "$sv" != "$v" ]; then
		while read -r c; do
			[ -n "$c" ] || continue
			case $c in
			'[rt] Drop "'*) s=${c#*\"}; drop="$drop|${s%%\"*}" ;;
			'[rt] Refresh "'*) s=${c#*\"}; refresh="$refresh|${s%%\"*}" ;;
			*) die "Debian changed its RT patches after $sv in a way that cannot be rebuilt from linux $sv: \"$c\"; pin a version whose source downloads, e.g. KVER=$sv" ;;
			esac
		done < <(rt_changes "$sv")
	fi
	while read -r p; do
		case $p in '' | '#'*) continue ;; esac
		p=$d/debian/patches-rt/$p s=$(subject "$p")
		if [[ "$drop|" == *"|$s|"* ]]; then
			echo "left out $(basename "$p"): dropped by Debian after $sv"
			continue
		fi
		if patch -d "$dir" -p1 -F0 -N -s --dry-run <"$p" >/dev/null 2>&1; then
			patch -d "$dir" -p1 -F0 -N -s --no-backup-if-mismatch <"$p" >/dev/null
			continue
		fi
		files=$(sed -n 's|^+++ b/||p' "$p" | grep -v '^arch/arm/' || true)
		if [[ "$refresh|" == *"|$s|"* ]] && [ -z "$files" ]; then
			echo "left out $(basename "$p"): refreshed by Debian after $sv, touches only arch/arm/ (not built)"
			continue
		fi
		die "Debian's RT patch $(basename "$p") (linux $sv) does not apply to $pkg $v"
	done <"$d/debian/patches-rt/series"
	rm -rf "$d"
}

# make_tree: unpack (and patch) the tree into $tree.tmp, commit it and
# rename it into place: a tree is either complete or absent. Runs under
# the tree's lock; a run that waited for it finds the tree made.
make_tree() {
	local left rt
	[ ! -e "$tree/.git/refs/tags/base" ] || return 0
	rm -rf "$tree" "$tree.tmp"
	need_space "$CACHE/trees" 3000 "unpacking $pkg $v"
	unpack_source "$tree.tmp"
	if [ -n "$rtline" ]; then
		log "applying debian/patches-rt of linux $sv"
		left=$(apply_rt "$tree.tmp" "$sv")
		[ -z "$left" ] || echo "$left" | sed 's/^/==> /' >&2
		rt=$(sed -n 's/^-//p' "$tree.tmp/localversion-rt" 2>/dev/null || true)
		commit_tree "$tree.tmp" "Debian $v${rt:+ + $rt}$([ "$sv" = "$v" ] || echo " (RT patches of $sv)")" "$left"
	else
		commit_tree "$tree.tmp" "Debian $v"
	fi
	mv "$tree.tmp" "$tree"
}

rtline=
case $kernel in
6.1-rt | 5.10-rt)
	rtline=1
	sv=$(with_lock "$CACHE/downloads/.lock" "using the download cache" rt_source)
	name=linux-$v-rt
	[ "$sv" = "$v" ] || name=$name-from-$sv
	;;
6.1 | mainline-rt) name=$pkg-$v ;;
esac
tree=$CACHE/trees/$name
[ -e "$tree/.git/refs/tags/base" ] || with_lock "$tree.lock" "making $name" make_tree
echo "$tree"
