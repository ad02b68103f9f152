#!/usr/bin/env bash
# Builds the Ubuntu Touch click package for one architecture:
#   packaging/click.sh amd64|arm64  ->  dist/CLICK_NAME_VERSION_ARCH.click
#
# The click holds the binary in lib/TRIPLET/bin/, a launcher that asks it
# for the phone layout (NETSCANNER_PHONE=1) and keeps Fyne's files inside
# the folders the confinement allows, the desktop file, the AppArmor
# policy (networking only) and the icon. arm64 is cross-compiled with Debian's aarch64 gcc
# against Debian's arm64 multiarch libraries. Environment:
#   VERSION     overrides FyneApp.toml's version
#   CLICK_NAME  the click's name (default netscanner.netscanner)
#   MAINTAINER  "Name <mail>" (default: the Netscanner maintainers)
#   CLICK_TAGS  extra build tags (default: none). The binary uses Fyne's
#               desktop driver; CLICK_TAGS=mobile selects Fyne's phone
#               driver instead, which on Linux is a debugging shim (no
#               keyboard, a window named App, busy until resized)
#   SYSROOT     optional root of an older distribution to link against
#               (see README.md: Ubuntu Touch 20.04 has glibc 2.31)
#   DIST        output folder (default: dist/)
# shellcheck source=packaging/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

arch="${1:-}"
CLICK_NAME="${CLICK_NAME:-netscanner.netscanner}"
MAINTAINER="${MAINTAINER:-Netscanner maintainers <netscanner@users.noreply.github.com>}"
CLICK_TAGS="${CLICK_TAGS-}"
# Ubuntu Touch 20.04 is Ubuntu focal: binaries that need a newer glibc
# than focal's do not start there.
UT_GLIBC=2.31

host="$(go env GOHOSTARCH)"
# Per architecture: the multiarch triplet, and for a foreign one the
# cross compiler and the Debian packages it needs.
case "$arch" in
  amd64) triplet=x86_64-linux-gnu ;;
  arm64) triplet=aarch64-linux-gnu ;;
  *) die "usage: ${0##*/} amd64|arm64" ;;
esac
[[ "$CLICK_NAME" =~ ^[a-z0-9][a-z0-9+.-]+$ ]] || die "bad CLICK_NAME '$CLICK_NAME'"

export GOOS=linux GOARCH="$arch" CGO_ENABLED=1
CROSS_PREFIX=
if [ "$arch" != "$host" ]; then
  CROSS_PREFIX="$triplet-"
  export CC="${CROSS_PREFIX}gcc"
  command -v "$CC" >/dev/null || die "no $CC; as root:
  dpkg --add-architecture $arch && apt-get update
  apt-get install gcc-$triplet libgl1-mesa-dev:$arch libx11-dev:$arch libxcursor-dev:$arch \\
    libxrandr-dev:$arch libxinerama-dev:$arch libxi-dev:$arch libxxf86vm-dev:$arch"
fi
# GLFW links these; say which package is missing rather than fail in ld.
libdir="${SYSROOT:-}/usr/lib/$triplet"
for lib in GL X11 Xrandr Xxf86vm Xi Xcursor Xinerama; do
  [ -e "$libdir/lib$lib.so" ] || die "$libdir/lib$lib.so is missing (the $arch -dev packages, see above)"
done
export PKG_CONFIG_LIBDIR="$libdir/pkgconfig:${SYSROOT:-}/usr/share/pkgconfig"
if [ -n "${SYSROOT:-}" ]; then
  export PKG_CONFIG_SYSROOT_DIR="$SYSROOT"
  # Debian's cross gcc searches its own (newer) libc's headers, start
  # files and libraries before the sysroot's. -nostdinc keeps only gcc's
  # own headers, -B and -L put the sysroot's start files and libraries
  # first, and -rpath-link resolves the libraries' own dependencies (libdl
  # needs libc) there too.
  gccinc="$("${CC:-gcc}" -print-file-name=include)"
  export CGO_CFLAGS="--sysroot=$SYSROOT -nostdinc -isystem $gccinc
    -isystem $SYSROOT/usr/include/$triplet -isystem $SYSROOT/usr/include"
  export CGO_LDFLAGS="--sysroot=$SYSROOT -B$SYSROOT/usr/lib/$triplet/
    -L$SYSROOT/lib/$triplet -L$SYSROOT/usr/lib/$triplet
    -Wl,-rpath-link,$SYSROOT/lib/$triplet:$SYSROOT/usr/lib/$triplet"
fi
export CROSS_PREFIX
find_fyne

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
src="$(snapshot "$work")"

stage="$work/click"
bin="$stage/lib/$triplet/bin/$EXE"
mkdir -p "$(dirname "$bin")"
echo "click: building $APP_NAME $VERSION (phone layout) for linux/$arch${SYSROOT:+ against $SYSROOT}"
# fyne build adds the release tag and hardening flags and embeds the
# FyneApp.toml metadata; the launcher selects the phone layout.
(cd "$src" && "$FYNE" build --release --tags "$TAGS${CLICK_TAGS:+,$CLICK_TAGS}" -o "$bin")
[ -x "$bin" ] || die "fyne build made no $bin"

# Smoke test: run `netscanner help` through the sysroot's own dynamic
# loader and libraries, which proves the binary starts on that glibc
# (under qemu-user for a foreign architecture, if it is installed).
if [ -n "${SYSROOT:-}" ]; then
  case "$arch" in amd64) loader=lib64/ld-linux-x86-64.so.2 qemu=qemu-x86_64 ;; arm64) loader=lib/ld-linux-aarch64.so.1 qemu=qemu-aarch64 ;; esac
  [ "$arch" = "$host" ] && qemu=""
  if [ -z "$qemu" ] || command -v "$qemu" >/dev/null; then
    libs="$SYSROOT/lib/$triplet:$SYSROOT/usr/lib/$triplet"
    if ! LANG=en_US.UTF-8 timeout 120 ${qemu:+"$qemu"} "$SYSROOT/$loader" --library-path "$libs" "$bin" help >/dev/null 2>"$work/smoke.err"; then
      die "the binary does not start on $SYSROOT's libraries: $(head -c 600 "$work/smoke.err")"
    fi
    echo "click: 'netscanner help' runs on $SYSROOT's glibc and libraries${qemu:+ (under $qemu)}"
  else
    echo "click: $qemu missing (apt-get install qemu-user): binary not smoke-tested" >&2
  fi
fi

subst() {
  sed -e "s|@CLICK_NAME@|$CLICK_NAME|g" -e "s|@APP_NAME@|$APP_NAME|g" \
    -e "s|@VERSION@|$VERSION|g" -e "s|@ARCH@|$arch|g" \
    -e "s|@MAINTAINER@|$MAINTAINER|g" -e "s|@TRIPLET@|$triplet|g" "$1"
}
subst "$PKGDIR/click/manifest.json.in" >"$stage/manifest.json"
subst "$PKGDIR/click/netscanner-launch.in" >"$stage/netscanner-launch"
chmod 0755 "$stage/netscanner-launch"
install -m 0644 "$PKGDIR/click/netscanner.apparmor" "$PKGDIR/click/netscanner.desktop" "$stage/"
install -m 0644 "$src/$APP_ICON" "$stage/netscanner.png"

# The manifest must be JSON and the policy must ask for networking only:
# nothing that could run /bin/ping or open raw sockets.
python3 -m json.tool "$stage/manifest.json" >/dev/null || die "manifest.json is not JSON"
python3 - "$stage/netscanner.apparmor" <<'EOF' || die "netscanner.apparmor asks for more than networking"
import json, sys
p = json.load(open(sys.argv[1]))
ok = p.get("policy_groups") == ["networking"] and p.get("policy_version") == 20.04 \
    and not set(p) - {"policy_groups", "policy_version"}
sys.exit(0 if ok else 1)
EOF
if command -v desktop-file-validate >/dev/null; then
  # The Lomiri keys are X- extensions, which the validator accepts. Click
  # desktop files name the icon by its path inside the click, extension
  # and all; that is the one complaint expected.
  v="$(desktop-file-validate "$stage/netscanner.desktop" 2>&1)" || die "desktop-file-validate: $v"
  v="$(grep -v 'is an icon name with an extension' <<<"$v" || true)"
  [ -z "$v" ] || die "desktop-file-validate: $v"
fi
sh -n "$stage/netscanner-launch"

mkdir -p "$DIST"
# click build writes NAME_VERSION_ARCH.click into the current folder;
# without click-reviewers-tools it warns that it cannot review the result.
(cd "$work" && click build --no-validate "$stage" >/dev/null)
out="${CLICK_NAME}_${VERSION}_${arch}.click"
[ -f "$work/$out" ] || die "click build made no $out"
mv "$work/$out" "$DIST/$out"

glibc="$(max_glibc "$bin")"
echo "click: wrote ${DIST#"$ROOT"/}/$out; the binary needs ${glibc:-no glibc}"
if [ -n "$glibc" ] && [ "$(printf '%s\n' "GLIBC_$UT_GLIBC" "$glibc" | sort -V | tail -n 1)" != "GLIBC_$UT_GLIBC" ]; then
  echo "click: warning: Ubuntu Touch 20.04 has glibc $UT_GLIBC; this binary needs $glibc and will not" \
    "start there. Build with SYSROOT set to a glibc-$UT_GLIBC root (see packaging/README.md)." >&2
fi
