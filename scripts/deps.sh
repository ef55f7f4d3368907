#!/bin/bash
# Install the Debian packages the harness needs, by name.
# Usage: scripts/deps.sh           what make run and make check need
#        scripts/deps.sh lava      what make lava needs besides: LAVA's
#                                  dispatcher (lava-run) and the device-type
#                                  templates of LAVA's server, unpacked
#                                  from lava-server's package into
#                                  CACHE/lava-device-types (the server
#                                  itself is not installed)
set -eu
. "$(dirname "$0")/lib.sh"

pkgs="build-essential bc bison flex libelf-dev libssl-dev quilt ccache dpkg-dev
      xz-utils cpio rsync git perl python3 qemu-system-x86 qemu-utils
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm"
case ${1:-} in
'') ;;
lava) pkgs="lava-dispatcher python3-yaml python3-jinja2" ;;
*) die "unknown argument '$1' (nothing, or lava)" ;;
esac

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] || apt_install $missing

if [ "${1:-}" = lava ] && [ ! -f "$CACHE/lava-device-types/qemu.jinja2" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	apt_update_once
	log "downloading lava-server (for its device-type templates only)"
	(cd "$tmp" && apt-get download lava-server) >"$tmp/log" 2>&1 ||
		{ tail -n 5 "$tmp/log" >&2; die "apt-get download lava-server failed"; }
	dpkg-deb -x "$tmp"/lava-server_*.deb "$tmp/x"
	[ -f "$tmp/x/usr/share/lava-server/device-types/qemu.jinja2" ] ||
		die "lava-server's package has no device-types/qemu.jinja2"
	rm -rf "$CACHE/lava-device-types"
	mkdir -p "$CACHE"
	mv "$tmp/x/usr/share/lava-server/device-types" "$CACHE/lava-device-types"
fi
exit 0
