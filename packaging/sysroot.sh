#!/usr/bin/env bash
# Makes a Debian 11 (bullseye) root to link the click binaries against:
#   packaging/sysroot.sh amd64|arm64 [DIR]   (root; prints DIR)
#
# Ubuntu Touch 20.04 is Ubuntu focal, with glibc 2.31. A binary linked on a
# newer system asks for newer glibc symbols (GLIBC_2.34 on Debian 12) and
# does not start there. Debian 11 has glibc 2.31 too, so linking against
# its libraries gives a binary focal can run:
#   SYSROOT=$(packaging/sysroot.sh arm64) packaging/click.sh arm64
#
# debootstrap's first stage only unpacks the packages, which is all a
# linker needs (headers, .so links, pkg-config files); nothing in DIR is
# ever run, so any architecture works without emulation. DIR defaults to
# /var/cache/netscanner/sysroot-bullseye-ARCH and is reused when complete.
set -euo pipefail

arch="${1:-}"
case "$arch" in amd64 | arm64) ;; *) echo "usage: ${0##*/} amd64|arm64 [DIR]" >&2; exit 2 ;; esac
dir="${2:-/var/cache/netscanner/sysroot-bullseye-$arch}"
stamp="$dir/.netscanner-sysroot"

# The libraries GLFW links (see packaging/click.sh) and their headers.
pkgs=libc6-dev,libgl-dev,libgl1-mesa-dev,libx11-dev,libxcursor-dev,libxrandr-dev,libxinerama-dev,libxi-dev,libxxf86vm-dev,libxext-dev,libxrender-dev,libxfixes-dev

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$pkgs" ]; then
  printf '%s\n' "$dir"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "${0##*/}: needs root (debootstrap)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "${0##*/}: apt-get install debootstrap" >&2; exit 1; }

rm -rf "$dir"
mkdir -p "$dir"
echo "sysroot: unpacking Debian bullseye ($arch) into $dir" >&2
debootstrap --arch="$arch" --variant=minbase --foreign --include="$pkgs" bullseye "$dir" >&2
# The first stage unpacks only the base system and leaves the rest, our
# -dev packages among them, downloaded: unpack those too.
for deb in "$dir"/var/cache/apt/archives/*.deb; do
  dpkg-deb -x "$deb" "$dir"
done
rm -f "$dir"/var/cache/apt/archives/*.deb
# An absolute link (libm.so -> /lib/.../libm.so.6) would send the linker
# to this machine's own, newer library: make every one relative.
find "$dir" -type l -lname '/*' -print0 |
  while IFS= read -r -d '' link; do
    ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$dir$(readlink "$link")")" "$link"
  done
printf '%s\n' "$pkgs" >"$stamp"
printf '%s\n' "$dir"
