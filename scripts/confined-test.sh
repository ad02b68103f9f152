#!/usr/bin/env bash
# Proves that packaged Netscanner works as a confined app (root; Linux).
#
#   scripts/confined-test.sh [BUNDLE...]
#
# BUNDLE is a desktop tarball (dist/netscanner-*-linux-amd64.tar.xz) or an
# amd64 click (dist/*_amd64.click); default: every such file in dist/.
# Each is unpacked and its binary run the way a confined phone app runs:
# as nobody (uid 65534), with no capabilities (not even in the bounding
# set), in a bubblewrap sandbox whose filesystem holds the libraries and
# the app but no ping binary, inside a test network of its own.
#
# The network mirrors internal/testnet/routed.go, 198.18.0.0/15 only:
#
#   scanner 198.18.0.1/30 --veth-- 198.18.0.2/30 router
#   router: 198.18.1.{1,4,7,10} local (the kernel answers ping and TCP),
#           the rest of 198.18.1.0/24 blackholed (silence)
#
# Checks, per bundle:
#   sandbox      no /bin/ping or /usr/bin/ping inside; doctor finds raw and exec refused
#   dgram        ping_group_range open: every live host found with method dgram, no dead one
#   tcp          ping_group_range closed: every live host still found, with method tcp
#   doctor       with it closed, `netscanner doctor` names net.ipv4.ping_group_range
#   gui          the app starts under Xvfb in the same sandbox and stays up
#   gui-scan     Enter in the app scans its network; the app remembers the router
#   click-xdg    (click) everything the app wrote is inside XDG_*_HOME/<click name>
#
# Also checks that packaging/apparmor/netscanner parses and denies what it must.
# Prints PASS/FAIL/SKIP per check and "N passed, M failed, K skipped"; exits 1
# on any failure. GUI_SECONDS (default 5) is how long the app must stay up;
# KEEP=1 keeps the work folder (logs, gui.png) for a look afterwards.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NOBODY=65534
LIVE=(198.18.1.1 198.18.1.4 198.18.1.7 198.18.1.10)
DEAD=(198.18.1.2 198.18.1.3 198.18.1.20)
ROUTER=198.18.0.2
GUI_SECONDS=${GUI_SECONDS:-5}

die() { echo "confined-test: $*" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
for c in ip bwrap setpriv xvfb-run xdotool python3 dpkg-deb sysctl timeout; do
  command -v "$c" >/dev/null || die "$c is missing (apt-get install iproute2 bubblewrap util-linux xvfb xdotool python3 dpkg procps coreutils)"
done

bundles=("$@")
if [ ${#bundles[@]} -eq 0 ]; then
  shopt -s nullglob
  bundles=("$ROOT"/dist/netscanner-*-linux-amd64.tar.xz "$ROOT"/dist/*_amd64.click)
  shopt -u nullglob
fi
[ ${#bundles[@]} -gt 0 ] || die "no bundle in dist/: run packaging/desktop.sh (and packaging/click.sh amd64) first"

# --- bookkeeping ----------------------------------------------------------
passed=0 failed=0 skipped=0
pass() { echo "PASS $label: $*"; passed=$((passed + 1)); }
skip() { echo "SKIP $label: $*"; skipped=$((skipped + 1)); }
fail() { echo "FAIL $label: $*"; failed=$((failed + 1)); }

work="$(mktemp -d /tmp/confined-test.XXXXXX)"
chmod 0755 "$work" # nobody must reach the unpacked bundles
tag="cft$$-$RANDOM"
SCAN="$tag-scan" RTR="$tag-rtr"
cleanup() {
  local ns pid
  for ns in "$SCAN" "$RTR"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  if [ -n "${KEEP:-}" ]; then echo "confined-test: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the desktop AppArmor profile: it parses, and it denies what it must ---
label="apparmor"
profile="$ROOT/packaging/apparmor/netscanner"
if ! command -v apparmor_parser >/dev/null; then
  skip "apparmor_parser missing (apt-get install apparmor)"
elif ! err="$(apparmor_parser -Q -K -I /etc/apparmor.d "$profile" 2>&1)"; then
  fail "apparmor_parser rejects ${profile#"$ROOT"/}: $err"
else
  missing=()
  for rule in 'deny network inet raw,' 'deny network inet6 raw,' 'deny capability net_raw,' \
    'deny /{usr/,}bin/ping* x,' 'network inet dgram,' 'network inet6 dgram,' 'network inet stream,' \
    'network inet6 stream,' 'network netlink raw,'; do
    grep -qF -- "$rule" "$profile" || missing+=("$rule")
  done
  # Any rule of the profile's own that lets a program run (ix, px, ux, cx...).
  execs="$(grep -vE '^\s*(#|deny)' "$profile" | grep -E '\s[a-zA-Z]*[iupcIUPC]x[a-zA-Z]*\s*(->[^,]*)?,' || true)"
  if [ ${#missing[@]} -gt 0 ]; then
    fail "profile lacks: ${missing[*]}"
  elif [ -n "$execs" ]; then
    fail "profile lets programs run: $execs"
  else
    pass "parses; UDP, TCP and netlink allowed; raw sockets, CAP_NET_RAW and ping denied; no exec rule"
  fi
fi

# --- the network (as testnet.NewRouted builds it, IPv4 only) ---------------
in_ns() { local ns="$1"; shift; ip netns exec "$ns" "$@"; }
ip netns add "$SCAN"
ip netns add "$RTR"
for ns in "$SCAN" "$RTR"; do in_ns "$ns" ip link set lo up; done
# Interface names are private to the namespaces, so fixed ones are safe.
sif=vs0 rif=vr0
ip -n "$SCAN" link add "$sif" type veth peer name "$rif" netns "$RTR"
ip -n "$SCAN" addr add 198.18.0.1/30 dev "$sif"
ip -n "$RTR" addr add "$ROUTER/30" dev "$rif"
ip -n "$SCAN" link set "$sif" up
ip -n "$RTR" link set "$rif" up
ip -n "$SCAN" route add 198.18.0.0/15 via "$ROUTER"
in_ns "$RTR" sysctl -q -w net.ipv4.icmp_ratelimit=0 net.ipv4.ip_forward=1
for a in "${LIVE[@]}"; do ip -n "$RTR" route add local "$a/32" dev lo; done
ip -n "$RTR" route add blackhole 198.18.1.0/24
# Resolve the neighbour now, so the first probe is not lost to it.
for _ in 1 2 3 4 5; do in_ns "$SCAN" ping -n -q -c 1 -W 1 "$ROUTER" >/dev/null 2>&1 && break; done
# The app remembers a device by its MAC, under the last address it
# answered from: the router's IPv6 link-local one may come after
# $ROUTER, so the GUI check looks for either.
ROUTER_MAC="$(in_ns "$RTR" cat "/sys/class/net/$rif/address")"

# --- the sandbox -----------------------------------------------------------
# sandbox APPDIR [bwrap options...] -- ARGV...: runs ARGV in the scanner
# namespace as nobody without capabilities, in a bwrap sandbox that holds
# the libraries, APPDIR at /app (read-only), HOME at /home/app and no
# programs but the app's. bwrap runs unprivileged (user namespaces).
sandbox() {
  local app="$1"; shift
  local fs=(--ro-bind /usr/lib /usr/lib --ro-bind /etc/ld.so.cache /etc/ld.so.cache)
  local d
  for d in /lib /lib32 /lib64 /libx32 /usr/lib32 /usr/lib64 /usr/libx32; do
    if [ -L "$d" ]; then fs+=(--symlink "$(readlink "$d")" "$d")
    elif [ -d "$d" ]; then fs+=(--ro-bind "$d" "$d"); fi
  done
  timeout "${SANDBOX_TIMEOUT:-120}" ip netns exec "$SCAN" setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
    --inh-caps=-all --bounding-set=-all -- \
    bwrap --unshare-all --share-net --die-with-parent --new-session --cap-drop ALL \
    --clearenv --setenv HOME /home/app --setenv PATH /usr/bin:/bin --setenv LANG en_US.UTF-8 \
    "${fs[@]}" --proc /proc --dev /dev --tmpfs /tmp \
    --bind "$work/home" /home/app --ro-bind "$app" /app --chdir /home/app \
    "$@"
}

fresh_home() { rm -rf "${work:?}/home"; mkdir -p "$work/home"; chown $NOBODY:$NOBODY "$work/home"; }

# scan_check WANT_METHOD: sweeps live and dead hosts, checks what was found
# (one JSON object per live host, with keys ip and method).
SCAN_PY='
import json, sys
want, n = sys.argv[1], int(sys.argv[2])
live, dead = set(sys.argv[3:3 + n]), set(sys.argv[3 + n:])
found = {}
for line in sys.stdin:
    line = line.strip()
    if line.startswith("{"):
        h = json.loads(line)
        if "ip" in h:
            found[h["ip"]] = h.get("method")
bad = [ip + " missing" for ip in sorted(live - set(found))]
bad += ["%s method %s" % (ip, found[ip]) for ip in sorted(live & set(found)) if found[ip] != want]
bad += ["dead %s reported" % ip for ip in sorted(dead & set(found))]
if bad:
    sys.exit("; ".join(bad))
print("%d live hosts, all %s; %d dead ones silent" % (len(live), want, len(dead)))
'
scan_check() {
  local want="$1" out
  out="$(sandbox "$app" -- "$exe" scan --json "${LIVE[@]}" "${DEAD[@]}" 2>"$work/scan.err")" || true
  python3 -c "$SCAN_PY" "$want" "${#LIVE[@]}" "${LIVE[@]}" "${DEAD[@]}" <<<"$out" 2>&1
}

# The GUI checks run inside xvfb-run (a POSIX sh script, which would drop
# exported bash functions), so they live in a script of their own that
# prints "gui OK|FAIL ..." and "gui-scan OK|FAIL|SKIP ...".
{ declare -f sandbox; cat <<'GUI'; } >"$work/gui.sh"
set -u
chmod 0644 "$XAUTHORITY" # a throwaway cookie, for nobody in the sandbox
read -r -a argv <<<"$GUI_ARGV"
read -r -a extra <<<"$GUI_EXTRA"
# Data a real system has and the sandbox otherwise lacks: X11's locale
# tables (to name the window) and glvnd's EGL vendor list (to find Mesa).
sandbox "$app" "${extra[@]}" --ro-bind /tmp/.X11-unix /tmp/.X11-unix \
  --ro-bind-try /usr/share/X11 /usr/share/X11 --ro-bind-try /usr/share/glvnd /usr/share/glvnd \
  --ro-bind "$XAUTHORITY" /tmp/xauth --setenv XAUTHORITY /tmp/xauth \
  --setenv DISPLAY "$DISPLAY" -- "${argv[@]}" >"$work/gui.log" 2>&1 &
pid=$!
win="" driver=""
for _ in $(seq 1 $((GUI_SECONDS * 4))); do
  kill -0 $pid 2>/dev/null || break
  if [ -z "$win" ]; then
    # The desktop build draws through GLFW (window class Netscanner). The
    # phone build (-tags mobile) draws through Fyne's x/mobile X11 shim,
    # whose window is named App and which waits, before drawing anything,
    # for the window manager to configure its window: play that part.
    win="$(xdotool search --class '^Netscanner$' 2>/dev/null | head -n 1)" driver=GLFW
    if [ -z "$win" ]; then
      win="$(xdotool search --name '^App$' 2>/dev/null | head -n 1)" driver="x/mobile shim"
      [ -z "$win" ] || xdotool windowsize "$win" 480 800
    fi
  fi
  sleep 0.25
done
if ! kill -0 $pid 2>/dev/null; then
  wait $pid
  echo "gui FAIL exited with $? within ${GUI_SECONDS}s: $(tail -c 400 "$work/gui.log")"
  echo "gui-scan FAIL no app"
  exit 0
fi
if [ -z "$win" ]; then
  echo "gui FAIL up ${GUI_SECONDS}s but it opened no window"
  echo "gui-scan FAIL no window"
  kill $pid
  exit 0
fi
import -display "$DISPLAY" -window "$win" "$work/gui.png" 2>/dev/null || true
mean="$(identify -format '%[fx:mean]' "$work/gui.png" 2>/dev/null || echo 0)"
if [ "$mean" = 0 ]; then
  echo "gui FAIL up ${GUI_SECONDS}s, but its window ($driver) stays black"
else
  echo "gui OK up ${GUI_SECONDS}s, its window ($driver) drawn"
fi
if [ "$driver" = GLFW ]; then
  # Enter with nothing typed scans this machine's networks: here the
  # sandbox's 198.18.0.0/30, where the router answers.
  xdotool windowfocus --sync "$win" key Return 2>/dev/null || true
  store=""
  for _ in $(seq 1 60); do
    # The app's memory: history.db (and its write-ahead log) since the
    # history store; netscanner.json before it.
    store="$(grep -rla --include=netscanner.json --include='history.db*' -F -e "\"$ROUTER\"" -e "$ROUTER_MAC" "$work/home" 2>/dev/null | head -n 1)"
    [ -n "$store" ] && break
    sleep 0.5
  done
  if [ -n "$store" ]; then
    echo "gui-scan OK Enter scanned; the app remembered $ROUTER ($ROUTER_MAC) in ${store#"$work"/}"
  else
    echo "gui-scan FAIL no device memory naming $ROUTER or $ROUTER_MAC within 30s of Enter"
  fi
else
  echo "gui-scan SKIP the x/mobile shim (CLICK_TAGS=mobile) reads no keyboard"
fi
kill $pid 2>/dev/null
wait $pid 2>/dev/null
exit 0
GUI

for bundle in "${bundles[@]}"; do
  [ -f "$bundle" ] || die "no such bundle: $bundle"
  name="$(basename "$bundle")" clickname=""
  app="$work/app-$name"
  mkdir -p "$app"
  case "$name" in
    *.tar.xz)
      tar -C "$app" -xJf "$bundle"
      exe=/app/netscanner/usr/local/bin/netscanner
      gui=("$exe") extra=() ;;
    *.click)
      dpkg-deb -x "$bundle" "$app" # a click is a Debian package inside
      exe="/app/$(cd "$app" && echo lib/*/bin/netscanner)"
      gui=(/app/netscanner-launch)
      # The launcher is a shell script; give it the shell and the three
      # tools it calls, and nothing else from /usr/bin.
      extra=(--ro-bind /usr/bin/dash /usr/bin/sh --symlink usr/bin /bin)
      for t in mkdir dirname readlink; do extra+=(--ro-bind "/usr/bin/$t" "/usr/bin/$t"); done
      clickname="$(dpkg-deb -I "$bundle" manifest | python3 -c 'import json,sys; print(json.load(sys.stdin)["name"])')" ;;
    *) die "unknown bundle type: $name" ;;
  esac
  chmod -R a+rX "$app"
  [ -x "$app${exe#/app}" ] || die "$name holds no ${exe#/app/}"
  echo "== $name"

  # sandbox: no ping reachable, and the app itself sees raw and exec refused.
  label="$name sandbox"
  fresh_home
  if sandbox "$app" --ro-bind /usr/bin/test /.check/test "${extra[@]}" -- \
      /.check/test ! -e /bin/ping -a ! -e /usr/bin/ping -a ! -e /sbin/ping; then
    doc="$(sandbox "$app" "${extra[@]}" -- "$exe" doctor --json 2>"$work/doctor.err" || true)"
    if v="$(python3 -c '
import json, sys
d = {m["method"]: m for m in json.load(sys.stdin)["methods"]}
bad = [k for k in ("raw", "exec") if d[k]["ok"]]
if bad:
    sys.exit("doctor says " + " and ".join(bad) + " work")
print("raw refused (" + d["raw"]["reason"] + "); exec refused (" + d["exec"]["reason"] + ")")' <<<"$doc" 2>&1)"; then
      pass "no ping binary; $v"
    else
      fail "$v"
    fi
  else
    fail "a ping binary is reachable inside the sandbox"
  fi

  # dgram: ICMP datagram sockets allowed for every group.
  in_ns "$SCAN" sysctl -q -w net.ipv4.ping_group_range="0 2147483647"
  label="$name dgram"
  fresh_home
  if v="$(scan_check dgram)"; then pass "$v"; else fail "$v ($(head -c 300 "$work/scan.err"))"; fi

  # tcp and doctor: ICMP datagram sockets off, as on a stock desktop.
  in_ns "$SCAN" sysctl -q -w net.ipv4.ping_group_range="1 0"
  label="$name tcp"
  if v="$(scan_check tcp)"; then pass "$v"; else fail "$v ($(head -c 300 "$work/scan.err"))"; fi
  label="$name doctor"
  doc="$(sandbox "$app" "${extra[@]}" -- "$exe" doctor 2>&1 || true)"
  if grep -q 'net.ipv4.ping_group_range' <<<"$doc"; then
    pass "names net.ipv4.ping_group_range"
  else
    fail "output does not name net.ipv4.ping_group_range: $(head -c 300 <<<"$doc")"
  fi

  # gui and gui-scan: under Xvfb, in the same sandbox, with ICMP open again.
  in_ns "$SCAN" sysctl -q -w net.ipv4.ping_group_range="0 2147483647"
  fresh_home
  export work app SCAN NOBODY ROUTER ROUTER_MAC GUI_SECONDS
  export GUI_ARGV="${gui[*]}" GUI_EXTRA="${extra[*]:-}"
  xvfb-run -a -f "$work/xauth" -s "-screen 0 1280x800x24 -nolisten tcp" \
    bash "$work/gui.sh" >"$work/gui.out" 2>&1 || true
  for check in gui gui-scan; do
    label="$name $check"
    line="$(grep "^$check " "$work/gui.out" | head -n 1)"
    case "$line" in
      "$check OK "*) pass "${line#"$check OK "}" ;;
      "$check FAIL "*) fail "${line#"$check FAIL "}" ;;
      "$check SKIP "*) skip "${line#"$check SKIP "}" ;;
      *) fail "no result: $(tail -c 400 "$work/gui.out")" ;;
    esac
  done
  if [ -f "$work/gui.png" ] && [ -n "${SCREENSHOT_DIR:-}" ]; then
    cp "$work/gui.png" "$SCREENSHOT_DIR/confined-${name%%.*}.png"
  fi

  # click-xdg: the launcher kept every file the app wrote in its own folders.
  if [ -n "${clickname:-}" ] && [[ "$name" == *.click ]]; then
    label="$name click-xdg"
    mapfile -t written < <(cd "$work/home" && find . -type f | sed 's|^\./||')
    outside=()
    for f in "${written[@]}"; do
      case "$f" in
        .config/"$clickname"/* | .local/share/"$clickname"/* | .cache/"$clickname"/*) ;;
        *) outside+=("$f") ;;
      esac
    done
    if [ ${#written[@]} -eq 0 ]; then
      fail "the app wrote nothing, so nothing shows where it writes"
    elif [ ${#outside[@]} -gt 0 ]; then
      fail "written outside XDG_*_HOME/$clickname: ${outside[*]}"
    else
      pass "${#written[@]} files, all inside XDG_*_HOME/$clickname ($(printf '%s\n' "${written[@]}" | cut -d/ -f1-3 | sort -u | tr '\n' ' '))"
    fi
  fi
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
