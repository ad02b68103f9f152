#!/usr/bin/env bash
# Takes the README's screenshots of the real app scanning a test LAN (root).
#
#   scripts/screenshots.sh        ->  docs/screenshots/{desktop,mobile}-{light,dark}.png,
#                                     docs/screenshots/timeline-{light,dark,mobile}.png
#
# It builds a home network out of network namespaces, 198.18.100.0/24 only:
#
#   scanner "workstation" 198.18.100.23 (wlan0) ──┐
#   router    Ubiquiti   198.18.100.1  53 80 443 ─┤
#   printer   Brother    198.18.100.10 80 631 9100┤
#   nas       Synology   198.18.100.12 22 80 139 445 443
#   ...       Apple, HP, Raspberry Pi, Google,    ├── br0 (a "lan" namespace)
#             Samsung, Sonos: one namespace each ─┘
#
# Each host is a namespace of its own on a veth to the bridge, with a real
# maker's MAC address; its kernel answers pings, and a small Python
# listener accepts TCP connects on its ports. Names come from reverse DNS:
# `ip netns exec` puts /etc/netns/<scanner>/hosts over /etc/hosts, and Go's
# resolver answers PTR queries from it. The printer, the NAS, the iPhone,
# the Chromecast and the Sonos also run a real avahi-daemon publishing
# their DNS-SD services, so the app shows what each of them is. The scanner's ping_group_range is
# open, so the app, run as nobody, pings through ICMP datagram sockets as
# it does on a phone.
#
# Then, for the desktop build and the phone build (-tags mobile), in the
# light and the dark theme, it runs the app under Xvfb with
# NETSCANNER_AUTOSCAN (scan the LAN as the window opens),
# NETSCANNER_SELECT (open one host's details) and NETSCANNER_TRACE (say
# when the scan ends), waits for the scan and a few live pings, and
# captures the window. Every shot starts from the same history
# (internal/historygen/historyfill): a week of scans of these devices, at
# home at their hours, and two that have left, so the list shows those
# away, greyed (NETSCANNER_AWAY), and the timeline shots scroll the
# details to the device's history (NETSCANNER_HISTORY): Anna's iPhone,
# and in the dark one the iPad that left. The PNGs replace
# docs/screenshots/ only when all were taken. Environment:
#   OUT       output folder (default: docs/screenshots)
#   PINGS     seconds of live ping graph after the scan (default 6)
#   ONLY      names of the shots to take (default: all)
#   KEEP=1    keep the work folder (logs, binaries) for a look afterwards
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SELF="$ROOT/scripts/screenshots.sh"
NOBODY=65534
LAN=198.18.100
SCANNER_ADDR=$LAN.23
TARGETS=$LAN.0/24

die() { echo "screenshots: $*" >&2; exit 2; }

# shot NAME BIN THEME SELECT WIDTH HEIGHT runs inside xvfb-run (see the
# end of this file): it starts the app in the scanner namespace as
# nobody, waits for its scan, and writes $work/NAME.png.
shot() {
  local name="$1" bin="$2" theme="$3" select="$4" w="$5" h="$6" history="${7:-0}"
  local home="$work/home-$name" log="$work/$name.log" png="$work/$name.png"
  mkdir -p "$home/tmp" "$home/.local/share/netscanner" # the phone build keeps its files in $TMPDIR/fyne-test
  cp "$work/history.db" "$home/.local/share/netscanner/history.db"
  chown -R $NOBODY:$NOBODY "$home"
  chmod 0644 "$XAUTHORITY" # a throwaway cookie, for nobody
  ip netns exec "$SCAN" setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups -- \
    env -i PATH=/usr/bin:/bin LANG=en_US.UTF-8 HOME="$home" TMPDIR="$home/tmp" \
    XDG_CONFIG_HOME="$home/.config" XDG_CACHE_HOME="$home/.cache" XDG_DATA_HOME="$home/.local/share" \
    DISPLAY="$DISPLAY" XAUTHORITY="$XAUTHORITY" FYNE_THEME="$theme" \
    NETSCANNER_AUTOSCAN="$TARGETS" NETSCANNER_SELECT="$select" NETSCANNER_TRACE=1 \
    NETSCANNER_AWAY=1 NETSCANNER_HISTORY="$history" \
    "$bin" >"$log" 2>&1 &
  local pid=$! win="" mobile=""
  for _ in $(seq 1 120); do
    kill -0 $pid 2>/dev/null || { echo "FAIL $name: the app exited: $(tail -c 400 "$log")"; return 0; }
    # The desktop build's GLFW window has the class Netscanner; the
    # phone build's x/mobile shim opens one named App, which draws only
    # once a window manager would have configured it: play that part.
    win="$(xdotool search --class '^Netscanner$' 2>/dev/null | head -n 1)" || true
    [ -n "$win" ] && break
    win="$(xdotool search --name '^App$' 2>/dev/null | head -n 1)" || true
    [ -n "$win" ] && { mobile=1; break; }
    sleep 0.25
  done
  [ -n "$win" ] || { echo "FAIL $name: no window within 30 s"; stop $pid; return 0; }
  sleep 1
  xdotool windowmove "$win" 0 0 2>/dev/null || true
  xdotool windowsize "$win" "$w" "$h"
  if [ -n "$mobile" ]; then
    xdotool windowfocus "$win" 2>/dev/null || true
    xdotool mousemove --window "$win" $((w / 2)) 2 click 1 # wakes the shim; the title bar does nothing
  fi
  local line=""
  for _ in $(seq 1 240); do
    line="$(grep -m 1 'netscanner: trace: scan \(finished\|not started\)' "$log" || true)"
    [ -n "$line" ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.25
  done
  case "$line" in
    *"scan finished: "*) ;;
    "") echo "FAIL $name: no scan ended within 60 s: $(tail -c 400 "$log")"; stop $pid; return 0 ;;
    *) echo "FAIL $name: ${line#*trace: }"; stop $pid; return 0 ;;
  esac
  sleep "${PINGS:-6}" # the live ping graph fills
  if [ -n "$mobile" ]; then
    import -window "$win" "$png"
  else
    import -window root -crop "${w}x${h}+0+0" +repage "$png"
  fi
  stop $pid
  echo "OK $name: ${line#*scan finished: }"
}

# stop PID ends the app: the GUI does not quit on SIGTERM, so SIGKILL
# follows after a moment.
stop() {
  kill "$1" 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8; do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.25
  done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

if [ "${1:-}" = --shot ]; then
  shift
  shot "$@"
  exit 0
fi

# --- what it needs ----------------------------------------------------------
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces); run: sudo $0"
need=() pkgs=()
for pair in ip:iproute2 setpriv:util-linux xvfb-run:xvfb xauth:xauth xdotool:xdotool \
  import:imagemagick identify:imagemagick python3:python3-minimal; do
  command -v "${pair%%:*}" >/dev/null || { need+=("${pair%%:*}"); pkgs+=("${pair#*:}"); }
done
[ -e /usr/share/ieee-data/oui.csv ] || { need+=(oui.csv); pkgs+=(ieee-data); }
if ((${#pkgs[@]})); then
  echo "screenshots: installing ${pkgs[*]} (for ${need[*]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi
command -v go >/dev/null || die "go is missing"
PYTHON="$(command -v /usr/bin/python3 || command -v python3)"

OUT="${OUT:-$ROOT/docs/screenshots}"
work="$(mktemp -d /tmp/screenshots.XXXXXX)"
chmod 0755 "$work" # nobody runs the binaries in it
tag="shot$$-$RANDOM"
SCAN="$tag-scan" SW="$tag-lan"
hostns=() listeners=()
cleanup() {
  local ns pid
  for pid in "${listeners[@]}"; do kill "$pid" 2>/dev/null || true; done
  for ns in "$SCAN" "$SW" "${hostns[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "/etc/netns/${SCAN:?}"
  if [ -n "${KEEP:-}" ]; then echo "screenshots: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the binaries -------------------------------------------------------------
echo "screenshots: building the desktop and the phone (-tags mobile) binaries"
(cd "$ROOT" && go build -tags migrated_fynedo -o "$work/netscanner" .)
(cd "$ROOT" && go build -tags mobile,migrated_fynedo -o "$work/netscanner-mobile" .)
(cd "$ROOT" && go build -o "$work/historyfill" ./internal/historygen/historyfill)
chmod 0755 "$work/netscanner" "$work/netscanner-mobile"

# --- the LAN ------------------------------------------------------------------
# Interface names are private to each namespace, so fixed ones are safe.
ip netns add "$SW"
ip netns add "$SCAN"
ip netns exec "$SW" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$SW" link add br0 type bridge stp_state 0 forward_delay 0
ip -n "$SW" link set br0 up
n=0
# plug NS IFNAME MAC: a veth from NS (named IFNAME there) to the bridge.
plug() {
  n=$((n + 1))
  ip -n "$1" link add "$2" address "$3" type veth peer name "p$n" netns "$SW"
  ip -n "$SW" link set "p$n" master br0
  ip -n "$SW" link set "p$n" up
  ip -n "$1" link set lo up
  ip -n "$1" link set "$2" up
}

# The scanner: a workstation with an Intel Wi-Fi card, routing everything
# to the LAN's gateway (whose namespace routes nothing further).
plug "$SCAN" wlan0 34:f6:4b:5e:21:07
ip -n "$SCAN" addr add "$SCANNER_ADDR/24" dev wlan0
ip netns exec "$SCAN" sysctl -q -w net.ipv4.ping_group_range="0 2147483647"

# Its hosts file names them all, and its resolver is the gateway, which
# refuses DNS at once: nothing leaves the LAN.
mkdir -p "/etc/netns/$SCAN"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n%s\tworkstation\n' "$SCANNER_ADDR" >"/etc/netns/$SCAN/hosts"
printf 'nameserver %s.1\n' "$LAN" >"/etc/netns/$SCAN/resolv.conf"

# Accepts TCP connects on the given ports and closes them at once: enough
# for a port to count as open.
LISTEN_PY='
import selectors, socket, sys
sel = selectors.DefaultSelector()
for p in sys.argv[2:]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], int(p)))
    s.listen(16)
    sel.register(s, selectors.EVENT_READ)
print("ready", flush=True)
while True:
    for key, _ in sel.select():
        c, _ = key.fileobj.accept()
        c.close()
'

# name MAC last-octet ports...: a real maker's prefix each (IEEE OUI list).
HOSTS=(
  "router      74:83:c2:1a:4e:01 1   53 80 443"      # Ubiquiti Networks
  "printer     3c:2a:f4:7d:02:b3 10  80 631 9100"    # Brother Industries
  "nas         00:11:32:a4:9c:10 12  22 80 139 443 445" # Synology
  "raspberrypi b8:27:eb:36:71:c5 31  22 80"          # Raspberry Pi Foundation
  "annas-iphone 88:b2:91:0e:5d:42 40 62078"          # Apple
  "hp-laptop   9c:7b:ef:58:13:9a 52  139 445 3389"   # Hewlett Packard
  "living-room-tv 58:cb:52:c3:20:6e 60 8009 8080"    # Google (a Chromecast)
  "galaxy-s23  d0:d0:03:71:8b:2c 77"                 # Samsung Electronics
  "kitchen-speaker 54:2a:1b:91:47:e8 85 1400"        # Sonos
)
i=0
for spec in "${HOSTS[@]}"; do
  read -r name mac octet ports <<<"$spec"
  i=$((i + 1))
  ns="$tag-h$i"
  hostns+=("$ns")
  ip netns add "$ns"
  plug "$ns" eth0 "$mac"
  ip -n "$ns" addr add "$LAN.$octet/24" dev eth0
  printf '%s\t%s\n' "$LAN.$octet" "$name" >>"/etc/netns/$SCAN/hosts"
  if [ -n "$ports" ]; then
    # shellcheck disable=SC2086 # ports are words
    ip netns exec "$ns" "$PYTHON" -c "$LISTEN_PY" "$LAN.$octet" $ports >"$work/listen-$i.log" 2>&1 &
    listeners+=($!)
  fi
done
ip -n "$SCAN" route add default via "$LAN.1"

# Some devices say what they are over DNS-SD, as at home: a real
# avahi-daemon in their namespace (no D-Bus, its own /run and services
# folder in a private mount namespace) publishes their services.
# avahi OCTET HOSTNAME SERVICE-XML...: one daemon for the host at OCTET.
avahi() {
  local octet="$1" hostname="$2" ns="" dir="$work/avahi-$1" k=0
  shift 2
  for spec in "${HOSTS[@]}"; do
    read -r _ _ o _ <<<"$spec"
    k=$((k + 1))
    [ "$o" = "$octet" ] && ns="$tag-h$k"
  done
  [ -n "$ns" ] || die "no host at $LAN.$octet for avahi"
  mkdir -p "$dir/services"
  printf '[server]\nhost-name=%s\nuse-ipv4=yes\nuse-ipv6=yes\nallow-interfaces=eth0\nenable-dbus=no\n[wide-area]\nenable-wide-area=no\n[publish]\npublish-hinfo=no\npublish-workstation=no\n[reflector]\nenable-reflector=no\n' \
    "$hostname" >"$dir/avahi-daemon.conf"
  local i=0
  for xml in "$@"; do
    i=$((i + 1))
    printf '<?xml version="1.0" standalone="no"?>\n<!DOCTYPE service-group SYSTEM "avahi-service.dtd">\n<service-group>%s</service-group>\n' \
      "$xml" >"$dir/services/s$i.service"
  done
  # In a subshell, so that its end with the namespace goes unannounced.
  (ip netns exec "$ns" unshare --mount --propagation private sh -c '
    mount -t tmpfs -o mode=0755,size=1m tmpfs /run && mkdir /run/avahi-daemon &&
    mount --bind "$1/services" /etc/avahi/services &&
    exec avahi-daemon -f "$1/avahi-daemon.conf" --no-chroot --no-rlimits --no-proc-title' sh "$dir" \
    >"$dir/log" 2>&1 &) # ended with its namespace, by cleanup
  avahis+=("$dir/log")
}
avahis=()
avahi 10 brother-printer \
  '<name>Brother HL-L2350DW series</name><service><type>_ipp._tcp</type><port>631</port><txt-record>ty=Brother HL-L2350DW series</txt-record><txt-record>product=(Brother HL-L2350DW series)</txt-record><txt-record>usb_MFG=Brother</txt-record><txt-record>usb_MDL=HL-L2350DW series</txt-record></service>'
avahi 12 diskstation \
  '<name>DiskStation</name><service><type>_http._tcp</type><port>80</port><txt-record>vendor=Synology</txt-record><txt-record>model=DS920+</txt-record></service>'
avahi 40 annas-iphone \
  '<name>Anna&apos;s iPhone</name><service><type>_companion-link._tcp</type><port>62078</port><txt-record>rpMd=iPhone14,2</txt-record></service>'
avahi 60 Chromecast-Ultra-4b1b7f2a \
  '<name>Chromecast-Ultra-4b1b7f2ab9a0ec2d</name><service><type>_googlecast._tcp</type><port>8009</port><txt-record>md=Chromecast Ultra</txt-record><txt-record>fn=Living Room TV</txt-record></service>'
avahi 85 sonos-kitchen \
  '<name>RINCON_542A1B9147E801400@Kitchen</name><service><type>_sonos._tcp</type><port>1400</port></service>'

# Every host answers, and every listener listens, before the first shot.
for spec in "${HOSTS[@]}"; do
  read -r name _ octet _ <<<"$spec"
  ok=""
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    ip netns exec "$SCAN" ping -n -q -c 1 -W 1 "$LAN.$octet" >/dev/null 2>&1 && { ok=1; break; }
  done
  [ -n "$ok" ] || die "$name ($LAN.$octet) does not answer"
done
for _ in $(seq 1 40); do
  ready=$(cat "$work"/listen-*.log 2>/dev/null | grep -c '^ready$' || true)
  [ "$ready" -ge ${#listeners[@]} ] && break
  sleep 0.25
done
[ "$ready" -ge ${#listeners[@]} ] || die "port listeners did not start: $(cat "$work"/listen-*.log)"
for log in "${avahis[@]}"; do
  for _ in $(seq 1 40); do
    grep -q 'Server startup complete' "$log" 2>/dev/null && break
    sleep 0.25
  done
  grep -q 'Server startup complete' "$log" || die "avahi-daemon did not start: $(tail -c 400 "$log")"
done
# IPv6 link-local addresses answer only once duplicate address detection
# has passed (about a second after the link comes up): the app looks for
# those neighbours too, and every shot should find the same LAN.
for ns in "$SCAN" "${hostns[@]}"; do
  for _ in $(seq 1 40); do
    [ -z "$(ip -n "$ns" -6 addr show tentative)" ] && break
    sleep 0.25
  done
done
# A scan starts from an empty neighbour table, as after a reboot.
ip -n "$SCAN" neigh flush all
echo "screenshots: LAN up: ${#HOSTS[@]} hosts and this workstation on $TARGETS"

# --- the history ----------------------------------------------------------------
# A week of scans every 15 minutes: the LAN's devices at their hours, an
# iPad that left three hours ago and a laptop gone for two days. Each
# shot starts from a copy.
{
  printf '%s\n' \
    "router 74:83:c2:1a:4e:01 $LAN.1 always 1.2" \
    "printer 3c:2a:f4:7d:02:b3 $LAN.10 day 4" \
    "nas 00:11:32:a4:9c:10 $LAN.12 always 0.8" \
    "raspberrypi b8:27:eb:36:71:c5 $LAN.31 always 2.5" \
    "annas-iphone 88:b2:91:0e:5d:42 $LAN.40 evening 38" \
    "hp-laptop 9c:7b:ef:58:13:9a $LAN.52 day 6" \
    "living-room-tv 58:cb:52:c3:20:6e $LAN.60 evening 9" \
    "galaxy-s23 d0:d0:03:71:8b:2c $LAN.77 joined:50h 45" \
    "kitchen-speaker 54:2a:1b:91:47:e8 $LAN.85 always 12" \
    "toms-ipad 3c:22:fb:6a:10:0e $LAN.44 left:3h 30" \
    "thinkpad 8c:16:45:2e:77:19 $LAN.66 left:50h 5"
} | "$work/historyfill" --db "$work/history.db" --days 7 --every 15m

# --- the shots ------------------------------------------------------------------
export work SCAN TARGETS PINGS
# name binary theme select width height screen
SHOTS=(
  "desktop-light $work/netscanner light $LAN.10 1280 800 1280x800x24"
  "desktop-dark $work/netscanner dark $LAN.10 1280 800 1280x800x24"
  "mobile-light $work/netscanner-mobile light - 540 1000 1280x1024x24"
  "mobile-dark $work/netscanner-mobile dark $LAN.12 540 1000 1280x1024x24"
  "timeline-light $work/netscanner light $LAN.40 1280 800 1280x800x24 1"
  "timeline-dark $work/netscanner dark $LAN.44 1280 800 1280x800x24 1"
  "timeline-mobile $work/netscanner-mobile light $LAN.40 540 1000 1280x1024x24 1"
)
if [ -n "${ONLY:-}" ]; then
  picked=()
  for s in "${SHOTS[@]}"; do
    [[ " $ONLY " == *" ${s%% *} "* ]] && picked+=("$s")
  done
  [ ${#picked[@]} -gt 0 ] || die "ONLY names none of: $(printf '%s ' "${SHOTS[@]%% *}")"
  SHOTS=("${picked[@]}")
fi
failed=0
for s in "${SHOTS[@]}"; do
  read -r name bin theme select w h screen history <<<"$s"
  [ "$select" = - ] && select=""
  result="$(xvfb-run -a -f "$work/xauth-$name" -s "-screen 0 $screen -nolisten tcp" \
    "$SELF" --shot "$name" "$bin" "$theme" "$select" "$w" "$h" "${history:-0}" 2>&1 | grep -E '^(OK|FAIL) ' || true)"
  echo "screenshots: ${result:-FAIL $name: no result}"
  case "$result" in
    OK*) ;;
    *) failed=$((failed + 1)); continue ;;
  esac
  # A window that stayed black or blank is a failed shot too.
  sd="$(identify -format '%[fx:standard_deviation]' "$work/$name.png" 2>/dev/null || echo 0)"
  if awk -v sd="$sd" 'BEGIN { exit !(sd < 0.02) }'; then
    echo "screenshots: FAIL $name: the picture is blank (standard deviation $sd)"
    failed=$((failed + 1))
  fi
done
[ "$failed" -eq 0 ] || die "$failed of ${#SHOTS[@]} shots failed; nothing written (KEEP=1 keeps the logs)"

mkdir -p "$OUT"
for s in "${SHOTS[@]}"; do
  read -r name _ <<<"$s"
  install -m 0644 "$work/$name.png" "$OUT/$name.png"
done
echo "screenshots: wrote ${#SHOTS[@]} PNGs to ${OUT#"$ROOT"/}/"
