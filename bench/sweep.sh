#!/usr/bin/env bash
# sweep.sh: compare host discovery by fping, nmap, zmap and netscanner on the
# same simulated networks, side by side, and print a markdown table.
#
# Every network lives in namespaces this script creates (unique names) and
# always removes, with addresses in 198.18.0.0/15 only:
#
#   scanner ns  198.18.0.1/30 --veth-- 198.18.0.2/30  router ns
#   (route 198.18.0.0/15 via the router)              (owns the scanned prefix)
#
# Scenarios:
#   1  198.18.4.0/24, a third of the hosts live; the router's kernel answers.
#   2  the same /24 as a real LAN: delays of 1-900 ms, every 8th host drops
#      its first request; the Go responder (internal/testnet) answers.
#   3  198.19.0.0/16, 1% live (656 hosts), 100k packets/s; the kernel answers.
#
# Environment:
#   NETSCANNER=path   netscanner binary; without it netscanner rows are skipped
#   SCENARIOS="1 2 3" which scenarios to run
#   TOOLS="fping nmap zmap netscanner"  which tools to run
#   TOOL_TIMEOUT=120  seconds before one tool run is stopped
#   GNU_TIME=path     GNU time, for netscanner's peak RSS (default
#                     /usr/bin/time; if absent, VmHWM is sampled instead)
#   LANRESPONDER=path the responder for scenario 2 (default: built with go)
#   SWEEP_OUTPUT=dir  keep every tool's raw output there
#   ENRICH=1          also time netscanner with names and ports (its default)
#   IDENTIFY=1        also time netscanner with every default on, with all
#                     enrichment off, and with defaults but --no-identify
#
# Needs root, iproute2, setpriv, and whichever of fping, nmap, zmap exist.
set -euo pipefail

SCENARIOS=${SCENARIOS:-1 2 3}
TOOLS=${TOOLS:-fping nmap zmap netscanner}
TOOL_TIMEOUT=${TOOL_TIMEOUT:-120}
GNU_TIME=${GNU_TIME-/usr/bin/time}
REPO=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "sweep.sh: $*" >&2; exit 1; }
note() { echo "# $*" >&2; }

for scen in $SCENARIOS; do
	[[ $scen == [123] ]] || die "SCENARIOS: unknown scenario $scen (want 1, 2 or 3)"
done
for tool in $TOOLS; do
	[[ " fping nmap zmap netscanner " == *" $tool "* ]] ||
		die "TOOLS: unknown tool $tool (want fping, nmap, zmap or netscanner)"
done
[[ $TOOL_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "TOOL_TIMEOUT: want whole seconds, got $TOOL_TIMEOUT"
[[ $(id -u) -eq 0 ]] || die "run as root (it builds network namespaces)"
command -v ip >/dev/null || die "ip (iproute2) is missing"
command -v setpriv >/dev/null || die "setpriv (util-linux) is missing"

# --- cleanup -----------------------------------------------------------------

TAG=nsb$$                 # namespace and interface names start with this
WORK=$(mktemp -d /tmp/nsbench.XXXXXX)
chmod 755 "$WORK"         # nobody must reach the netscanner copy inside
NAMESPACES=()
RESPONDER_PID=
TOOL_PID=

cleanup() {
	set +e
	[[ -n $RESPONDER_PID ]] && kill "$RESPONDER_PID" 2>/dev/null && wait "$RESPONDER_PID" 2>/dev/null
	for ns in "${NAMESPACES[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	# Reap the tool's timeout, now that its tool is gone.
	[[ -n $TOOL_PID ]] && wait "$TOOL_PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools ---------------------------------------------------------------------

have() { command -v "$1" >/dev/null 2>&1; }
# use TOOL: TOOL is wanted and installed.
use() {
	[[ " $TOOLS " == *" $1 "* ]] || return 1
	have "$1" && return 0
	note "$1 not installed: skipping"
	return 1
}

NS_BIN=
if [[ -z ${NETSCANNER:-} ]]; then
	note "NETSCANNER is not set: skipping netscanner (set NETSCANNER=path/to/netscanner)"
elif [[ ! -x $NETSCANNER ]]; then
	note "NETSCANNER=$NETSCANNER is not an executable file: skipping netscanner"
else
	# A world-readable copy, so the unprivileged run can execute it.
	NS_BIN=$WORK/netscanner
	install -m 0755 "$NETSCANNER" "$NS_BIN"
fi

LANRESP=
if [[ " $SCENARIOS " == *" 2 "* ]]; then
	if [[ -n ${LANRESPONDER:-} ]]; then
		LANRESP=$LANRESPONDER
	elif have go || [[ -x /usr/local/go/bin/go ]]; then
		GO=$(command -v go || echo /usr/local/go/bin/go)
		note "building the LAN responder"
		(cd "$REPO" && "$GO" build -o "$WORK/lanresponder" ./internal/testnet/cmd/lanresponder) ||
			die "cannot build internal/testnet/cmd/lanresponder"
		LANRESP=$WORK/lanresponder
	else
		note "no go toolchain and no LANRESPONDER: skipping scenario 2"
		SCENARIOS=${SCENARIOS//2/}
	fi
fi

# --- networks ------------------------------------------------------------------

PAIRS=0
# mkpair: a scanner and a router namespace joined by a veth pair. Sets S, R
# (namespace names), VS (scanner's interface) and GWMAC (router's MAC).
mkpair() {
	PAIRS=$((PAIRS + 1))
	S=$TAG-s$PAIRS R=$TAG-r$PAIRS VS=${TAG}s$PAIRS
	local vr=${TAG}r$PAIRS
	ip netns add "$S"
	NAMESPACES+=("$S")
	ip netns add "$R"
	NAMESPACES+=("$R")
	ip -n "$S" link set lo up
	ip -n "$R" link set lo up
	ip -n "$S" link add "$VS" type veth peer name "$vr" netns "$R"
	ip -n "$S" addr add 198.18.0.1/30 dev "$VS"
	ip -n "$R" addr add 198.18.0.2/30 dev "$vr"
	ip -n "$S" link set "$VS" up
	ip -n "$R" link set "$vr" up
	ip -n "$S" route add 198.18.0.0/15 via 198.18.0.2
	GWMAC=$(ip -n "$R" -br link show dev "$vr" | awk '{print $3}')
	[[ $GWMAC =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]] || die "no MAC address for $vr: '$GWMAC'"
	# Unprivileged ICMP sockets for every group, for the run as nobody.
	ip netns exec "$S" sysctl -q -w net.ipv4.ping_group_range="0 2147483647"
	# Echo replies must not meet the kernel's ICMP rate limits.
	ip netns exec "$R" sysctl -q -w net.ipv4.icmp_ratelimit=0 \
		net.ipv4.icmp_msgs_per_sec=1000000 net.ipv4.icmp_msgs_burst=1000000
	# A fresh veth loses the first neighbour solicitation; resolve it now.
	local try
	for try in 1 2 3 4 5; do
		ip netns exec "$S" ping -n -q -c 1 -W 1 198.18.0.2 >/dev/null 2>&1 && return 0
	done
	die "router of $S does not answer"
}

# kernel_lan PREFIX LIVEFILE: the router's kernel answers for the addresses in
# LIVEFILE (one host route each, in one ip -batch), the rest is a blackhole.
kernel_lan() {
	{
		sed 's|.*|route add local &/32 dev lo|' "$2"
		echo "route add blackhole $1"
	} | ip -n "$R" -batch -
}

# responder_lan PREFIX: every address in PREFIX reaches the router's raw
# sockets, where lanresponder decides who answers. TCP and UDP are dropped
# and the kernel sends no ICMP of its own (no echo, timestamp or error
# replies), so absent hosts are silent to every probe nmap sends.
responder_lan() {
	ip -n "$R" route add local "$1" dev lo table main
	ip -n "$R" rule add to "$1" ipproto tcp blackhole
	ip -n "$R" rule add to "$1" ipproto udp blackhole
	ip netns exec "$R" sysctl -q -w net.ipv4.icmp_echo_ignore_all=1 \
		net.ipv4.icmp_ratemask=$((6168 | 1 << 14)) \
		net.ipv4.icmp_msgs_per_sec=0 net.ipv4.icmp_msgs_burst=0
}

start_responder() {
	"$LANRESP" -netns "$R" -hosts "$1" >"$WORK/resp.out" 2>"$WORK/resp.err" &
	RESPONDER_PID=$!
	local i
	for i in $(seq 100); do
		grep -q '^ready' "$WORK/resp.out" && return 0
		kill -0 "$RESPONDER_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$WORK/resp.err" >&2
	die "lanresponder did not start"
}

# stop_responder: ends lanresponder and echoes its summary line.
stop_responder() {
	kill "$RESPONDER_PID"
	wait "$RESPONDER_PID" || true
	RESPONDER_PID=
	sed -n 's/^lanresponder: //p' "$WORK/resp.err" | tail -1
}

# --- measuring -----------------------------------------------------------------

ROWS=()

# watch_hwm TIMEOUT_PID FILE: keeps writing the peak resident set (VmHWM, in
# KiB) of the tool that timeout started into FILE until the tool ends. ip
# netns exec and setpriv exec, so timeout's child is the tool itself.
watch_hwm() {
	local child="" kb i
	for i in $(seq 100); do
		child=$(cat "/proc/$1/task/$1/children" 2>/dev/null || true)
		[[ -n $child ]] && break
		sleep 0.01
	done
	[[ -n $child ]] || return 0
	while kb=$(awk '/^VmHWM/ {print $2}' "/proc/${child%% *}/status" 2>/dev/null) && [[ -n $kb ]]; do
		echo "$kb" >"$2"
		sleep 0.02
	done
}

# run_tool SCENARIO TOOL PARSER EXPECTED CMD...: runs CMD in the scanner
# namespace with a time limit, turns its output into addresses with PARSER,
# and adds a table row. PARSER is one of: lines, nmap, json.
run_tool() {
	local scen=$1 tool=$2 parser=$3 expected=$4
	shift 4
	local out=$WORK/out err=$WORK/err rss=$WORK/rss got=$WORK/got
	rm -f "$rss"
	local timer=() sample=false
	if [[ $tool == netscanner* ]]; then
		if [[ -n $GNU_TIME && -x $GNU_TIME ]]; then
			timer=("$GNU_TIME" -f %M -o "$rss")
		else
			sample=true
		fi
	fi
	note "scenario $scen: $tool"
	local t0 t1 rc=0
	t0=$(date +%s.%N)
	timeout --kill-after=5 "$TOOL_TIMEOUT" ip netns exec "$S" "${timer[@]}" "$@" >"$out" 2>"$err" &
	TOOL_PID=$!
	if $sample; then
		watch_hwm "$TOOL_PID" "$rss"
	fi
	wait "$TOOL_PID" || rc=$?
	TOOL_PID=
	t1=$(date +%s.%N)

	case $parser in
	lines) grep -Eo '^[0-9]+(\.[0-9]+){3}$' "$out" || true ;;
	nmap) awk '/Status: Up/ {print $2}' "$out" ;;
	json) grep -Eo '"ip": *"[^"]*"' "$out" | sed 's/.*"\([^"]*\)"$/\1/' || true ;;
	esac | sort -u >"$got"

	if [[ -n ${SWEEP_OUTPUT:-} ]]; then
		local slug
		slug=$scen-$(echo "$tool" | tr -c 'a-zA-Z0-9\n' '_')
		mkdir -p "$SWEEP_OUTPUT"
		cp "$out" "$SWEEP_OUTPUT/$slug.out"
		cp "$err" "$SWEEP_OUTPUT/$slug.err"
		cp "$got" "$SWEEP_OUTPUT/$slug.found"
		cp "$expected" "$SWEEP_OUTPUT/$scen-expected"
		if [[ -n $HOSTS ]]; then cp "$HOSTS" "$SWEEP_OUTPUT/$scen-hosts"; fi
	fi
	local found fp secs mem=-
	found=$(comm -12 "$got" <(sort -u "$expected") | wc -l)
	fp=$(comm -23 "$got" <(sort -u "$expected") | wc -l)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
	[[ -s $rss ]] && mem="$(($(grep -Eo '^[0-9]+' "$rss" | tail -1) / 1024)) MiB"
	if [[ $tool == netscanner* ]]; then
		# Name the method netscanner chose, from its own account on stderr.
		local how
		how=$(grep -Eo 'method [a-z]+' "$err" | head -1 | cut -d' ' -f2 || true)
		[[ -n $how ]] && tool="${tool%)}, $how)"
	fi
	local status=""
	if [[ $rc -eq 124 || $rc -eq 137 ]]; then
		status=" (stopped after ${TOOL_TIMEOUT}s)"
	elif [[ $rc -ne 0 ]] && ! [[ $tool == fping* && $rc -eq 1 ]]; then
		# fping exits 1 when some targets are down: that is success here.
		status=" (exit $rc: $(grep -v '^\s*$' "$err" | grep -v 'Command exited' | head -1 | cut -c1-60))"
	fi
	ROWS+=("| $scen | $tool$status | $found / $(sort -u "$expected" | wc -l) | $fp | $secs | $mem |")
}

# each TOOL PARSER CMD...: run_tool for the scenario sweep is running; in
# the responder scenario each tool gets a fresh responder, so drop-first
# hosts drop the first request of every tool.
each() {
	local tool=$1 parser=$2
	shift 2
	if [[ -n $HOSTS ]]; then
		start_responder "$HOSTS"
	fi
	run_tool "$SCEN" "$tool" "$parser" "$EXPECTED" "$@"
	if [[ -n $HOSTS ]]; then
		local summary
		summary=$(stop_responder)
		note "  responder during $tool: $summary"
	fi
}

# sweep SCENARIO PREFIX EXPECTED RATE TIMEOUT_MS [RESPONDER_HOSTS]: every
# tool against PREFIX, at RATE probes a second where the tool lets us set
# it, waiting TIMEOUT_MS for an answer and retrying once.
sweep() {
	SCEN=$1 EXPECTED=$3 HOSTS=${6:-}
	local prefix=$2 rate=$4 tmo=$5
	local interval
	interval=$(awk -v r="$rate" 'BEGIN {printf "%g", 1000 / r}')
	: >"$WORK/empty"

	if use fping; then
		# -i paces the whole sweep at RATE; one retry, like the others.
		# fping numbers its probes with one 16-bit sequence and reuses a
		# number only after 10 s, so it cannot retry a /16 at high rates:
		# there it gets no retry ("not enough sequence numbers").
		local retries=1
		[[ ${prefix#*/} -lt 17 ]] && retries=0
		each "fping -r $retries -t $tmo -i $interval" lines \
			fping -a -q -r "$retries" -t "$tmo" -i "$interval" -g "$prefix"
	fi
	if use nmap; then
		# On a /16 nmap's own pacing takes 90 s (-T5) to 10 minutes
		# (defaults); there both get the scenario's rate as a minimum.
		local pace=() label=""
		if [[ ${prefix#*/} -lt 17 ]]; then
			pace=(--min-rate "$rate")
			label=" --min-rate $rate"
		fi
		each "nmap -sn (defaults)$label" nmap nmap -sn -n "${pace[@]}" -oG - "$prefix"
		each "nmap -sn -PE -T5$label" nmap nmap -sn -n -PE -T5 "${pace[@]}" -oG - "$prefix"
	fi
	if use zmap; then
		# zmap's default blocklist covers 198.18.0.0/15: an empty one
		# replaces it. -G: zmap writes Ethernet frames itself. -P 2 is
		# its retry (both probes go out back to back); -c 1 waits 1 s
		# (its default is 8) for late answers: the 1 s timeout every
		# tool gets. zmap's -r paces targets, not packets (with -P 2,
		# -r 100000 puts 131,072 packets on the wire in 0.7 s), so it
		# gets half the rate: every tool sends RATE packets a second.
		each "zmap -P 2 -r $((rate / 2))" lines \
			zmap -M icmp_echoscan -i "$VS" -G "$GWMAC" -S 198.18.0.1 -b "$WORK/empty" \
			-r "$((rate / 2))" -P 2 -c 1 -q -o - "$prefix"
	fi
	if [[ -n $NS_BIN && " $TOOLS " == *" netscanner "* ]]; then
		# Discovery only, like the peers (nmap runs with -n): names and
		# ports are enrichment, measured separately (ENRICH=1 adds a row).
		local args=(scan --json --rate "$rate" --timeout "${tmo}ms" --retries 1 --no-names --ports none)
		# Root gets the raw socket it is entitled to; nobody finds the
		# ping sockets the scenario opened (auto picks dgram).
		each "netscanner (root)" json "$NS_BIN" "${args[@]}" --method raw "$prefix"
		each "netscanner (nobody)" json \
			setpriv --reuid=65534 --regid=65534 --clear-groups -- "$NS_BIN" "${args[@]}" "$prefix"
		if [[ ${ENRICH:-0} == 1 ]]; then
			each "netscanner (root, names+ports)" json "$NS_BIN" \
				scan --json --rate "$rate" --timeout "${tmo}ms" --retries 1 --method raw "$prefix"
		fi
		if [[ ${IDENTIFY:-0} == 1 ]]; then
			# Every default on (names, ports, link-local, identification)
			# against every enrichment off, side by side.
			each "netscanner (root, every default on)" json "$NS_BIN" \
				scan --json --rate "$rate" --timeout "${tmo}ms" --retries 1 --method raw "$prefix"
			each "netscanner (root, all enrichment off)" json "$NS_BIN" \
				scan --json --rate "$rate" --timeout "${tmo}ms" --retries 1 --method raw \
				--no-names --ports none --no-link-local --no-identify "$prefix"
			each "netscanner (root, defaults but --no-identify)" json "$NS_BIN" \
				scan --json --rate "$rate" --timeout "${tmo}ms" --retries 1 --method raw --no-identify "$prefix"
		fi
	fi
}

# --- scenarios -----------------------------------------------------------------

# hosts24: a third of 198.18.4.1-254 (those with i % 3 == 1).
seq 1 254 | awk '$1 % 3 == 1 {print "198.18.4." $1}' >"$WORK/live24"

for scen in $SCENARIOS; do
	case $scen in
	1)
		mkpair
		kernel_lan 198.18.4.0/24 "$WORK/live24"
		sweep 1 198.18.4.0/24 "$WORK/live24" 10000 1000
		;;
	2)
		mkpair
		responder_lan 198.18.4.0/24
		# Delays uniform in 1-900 ms from a fixed seed, so runs compare;
		# every 8th host loses its first request.
		awk 'BEGIN {srand(42)} {printf "%s %dms %d\n", $1, 1 + int(rand() * 900), (NR % 8 == 0)}' \
			"$WORK/live24" >"$WORK/hosts24"
		sweep 2 198.18.4.0/24 "$WORK/live24" 10000 1000 "$WORK/hosts24"
		;;
	3)
		mkpair
		awk 'BEGIN {for (i = 7; i < 65536; i += 100) printf "198.19.%d.%d\n", int(i / 256), i % 256}' \
			>"$WORK/live16"
		kernel_lan 198.19.0.0/16 "$WORK/live16"
		sweep 3 198.19.0.0/16 "$WORK/live16" 100000 1000
		;;
	esac
	# Each scenario's namespaces go as soon as it is done.
	for ns in "$S" "$R"; do ip netns del "$ns"; done
	NAMESPACES=()
done

echo
echo "| scenario | tool | found / expected | false positives | seconds | peak RSS |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
