#!/usr/bin/env bash
# Installs what `make package` and `make confined-test` need on top of
# scripts/deps.sh: click and the confinement tools, the fyne CLI, and the
# aarch64 cross toolchain with arm64 libraries for the phone build.
# As root it installs; otherwise it prints the exact commands and fails.
set -euo pipefail

pkgs=(
  click bubblewrap apparmor appstream desktop-file-utils xdotool x11-utils
  debootstrap qemu-user xz-utils python3
  gcc-aarch64-linux-gnu
  libgl1-mesa-dev:arm64 libx11-dev:arm64 libxcursor-dev:arm64 libxrandr-dev:arm64
  libxinerama-dev:arm64 libxi-dev:arm64 libxxf86vm-dev:arm64
)

need_arch=0
dpkg --print-foreign-architectures | grep -qx arm64 || need_arch=1
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((need_arch || ${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps-package: missing packages; install them with:" >&2
    ((need_arch)) && echo "  sudo dpkg --add-architecture arm64" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  ((need_arch)) && dpkg --add-architecture arm64
  echo "deps-package: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

gobin="$(go env GOPATH)/bin"
if [ ! -x "$gobin/fyne" ] || ! "$gobin/fyne" version 2>/dev/null | grep -q 'v1.7.4'; then
  echo "deps-package: installing the fyne CLI"
  go install fyne.io/tools/cmd/fyne@v1.7.4
fi
