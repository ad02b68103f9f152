#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build, run and test Netscanner.
# As root it installs with apt-get; otherwise it prints the exact command and fails.
set -euo pipefail

# Build: a C compiler and the GL/X11 headers Fyne links against.
# Tests: iproute2 and util-linux (namespaces, setpriv), iputils-ping and busybox
# (the exec method and its captured outputs), xvfb and imagemagick (screenshots),
# ieee-data (maker registry), fping/nmap/zmap (benchmark peers),
# click/bubblewrap/apparmor (packaging and confinement); toybox (another ping
# the exec method meets on phones); tcpdump (counting what a scan sends); the
# real daemons identification and watch are tested against, each started by its
# test in a namespace of its own: avahi-daemon, minidlna, lighttpd,
# openssh-server, prometheus, mosquitto (with mosquitto_sub); systemd (a real
# user manager runs the shipped user unit).
pkgs=(
  gcc pkg-config libgl1-mesa-dev xorg-dev
  iproute2 util-linux libcap2-bin iputils-ping busybox toybox procps
  xvfb xauth imagemagick ieee-data
  fping nmap zmap time tcpdump
  avahi-daemon minidlna lighttpd lighttpd-mod-openssl openssh-server prometheus mosquitto mosquitto-clients
  systemd
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ]; then
    echo "deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Daemons are installed to be started by the tests, in namespaces of
    # their own: never by the package's own scripts, on this machine's
    # real network (policy-rc.d answering 101 forbids it).
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
      chmod 755 /usr/sbin/policy-rc.d
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "deps: missing Debian packages; install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

# GNU inetutils' ping, for the exec method's live tests: installing it would
# replace iputils' ping, so only its .deb is fetched, and the tests unpack it
# into a private prefix of their own.
inet_cache=/var/cache/netscanner
if ! ls "$inet_cache"/inetutils-ping_*.deb >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "deps: fetching inetutils-ping (unpacked by the tests, never installed)"
    mkdir -p "$inet_cache"
    (cd "$inet_cache" && apt-get -o APT::Sandbox::User=root download -qq inetutils-ping >/dev/null)
  else
    echo "deps: the exec tests want inetutils-ping's .deb in $inet_cache (as root: mkdir -p $inet_cache && cd $inet_cache && apt-get download inetutils-ping)" >&2
  fi
fi

# Go tools, pinned: staticcheck for `make lint`.
gobin="$(go env GOPATH)/bin"
if [ ! -x "$gobin/staticcheck" ] || ! "$gobin/staticcheck" -version 2>/dev/null | grep -q '(0.8.2)'; then
  echo "deps: installing staticcheck"
  go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi
