#!/bin/bash
# Install the Debian packages the harness needs, by name.
# Usage: scripts/deps.sh [ARCH...]      (x86_64 and/or arm64; default: both)
set -eu
. "$(dirname "$0")/lib.sh"

pkgs="build-essential bc bison flex libelf-dev libssl-dev quilt ccache dpkg-dev
      xz-utils cpio rsync git perl python3 qemu-system-x86 qemu-utils
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm"

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
apt_install $missing
