#!/bin/bash
# capture.sh records what real ping programs print, for the parser's tests.
#
# It builds its own network namespaces (removed on exit) mirroring
# internal/testnet/routed.go, and only ever sends to 198.18.0.0/15 and
# 2001:db8::/32 inside them, or to loopback:
#
#   scan 198.18.0.1/30 2001:db8::1/64 --veth-- 198.18.0.2/30 2001:db8::2/64 rtr
#   rtr: 198.18.1.1, 2001:db8:1::1        live (local routes on lo)
#        198.18.1.0/24, 2001:db8:1::/64   silent (blackhole)
#        198.18.3.0/24, 2001:db8:3::/64   unreachable route: ICMP errors
#        198.18.4.0/24, 2001:db8:4::/64   routed back to scan: a TTL of 1
#                                         expires at rtr (time exceeded)
#   scan br0 198.18.2.1/24 2001:db8:2::1/64 with two twin hosts on it, both
#        198.18.2.9 and 2001:db8:2::9 with the same MAC address; the bridge
#        does not learn, so it floods every frame to both and each echo
#        request is answered twice (DUP!)
#   lone: a namespace with no routes at all (local "Network is unreachable")
#
# Each case goes to its own file, stdout and stderr together, in the C
# locale. Run as root from anywhere: bash icmpsock/testdata/ping/capture.sh
# Needs: iproute2, iputils-ping, busybox, util-linux (setpriv).
set -euo pipefail
export LC_ALL=C

out=$(cd "$(dirname "$0")" && pwd)
tag="pcap$$"
scan="$tag-scan" rtr="$tag-rtr" h1="$tag-h1" h2="$tag-h2" lone="$tag-lone"
nss=("$scan" "$rtr" "$h1" "$h2" "$lone")
tmp=$(mktemp -d)

cleanup() {
	for ns in "${nss[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

for ns in "${nss[@]}"; do
	ip netns add "$ns"
	nsx "$ns" ip link set lo up
	nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done

# scan <-> rtr
nsx "$scan" ip link add "$tag-a" type veth peer name "$tag-b" netns "$rtr"
nsx "$scan" ip addr add 198.18.0.1/30 dev "$tag-a"
nsx "$scan" ip -6 addr add 2001:db8::1/64 dev "$tag-a" nodad
nsx "$rtr" ip addr add 198.18.0.2/30 dev "$tag-b"
nsx "$rtr" ip -6 addr add 2001:db8::2/64 dev "$tag-b" nodad
nsx "$scan" ip link set "$tag-a" up
nsx "$rtr" ip link set "$tag-b" up
nsx "$scan" ip route add 198.18.0.0/15 via 198.18.0.2
nsx "$scan" ip -6 route add 2001:db8::/32 via 2001:db8::2

nsx "$rtr" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
	net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
nsx "$rtr" ip route add local 198.18.1.1/32 dev lo
nsx "$rtr" ip route add blackhole 198.18.1.0/24
nsx "$rtr" ip route add unreachable 198.18.3.0/24
nsx "$rtr" ip route add 198.18.4.0/24 via 198.18.0.1
nsx "$rtr" ip -6 route add local 2001:db8:1::1/128 dev lo
nsx "$rtr" ip -6 route add blackhole 2001:db8:1::/64
nsx "$rtr" ip -6 route add unreachable 2001:db8:3::/64
nsx "$rtr" ip -6 route add 2001:db8:4::/64 via 2001:db8::1

# The twin hosts behind a non-learning bridge.
nsx "$scan" ip link add br0 type bridge
nsx "$scan" ip addr add 198.18.2.1/24 dev br0
nsx "$scan" ip -6 addr add 2001:db8:2::1/64 dev br0 nodad
nsx "$scan" ip link set br0 up
i=0
for h in "$h1" "$h2"; do
	i=$((i + 1))
	nsx "$scan" ip link add "$tag-p$i" type veth peer name eth0 netns "$h"
	nsx "$scan" ip link set "$tag-p$i" master br0
	nsx "$scan" bridge link set dev "$tag-p$i" learning off
	nsx "$scan" ip link set "$tag-p$i" up
	nsx "$h" ip link set eth0 address 02:00:5e:12:02:09
	nsx "$h" ip addr add 198.18.2.9/24 dev eth0
	nsx "$h" ip -6 addr add 2001:db8:2::9/64 dev eth0 nodad
	nsx "$h" ip link set eth0 up
done

# Warm up neighbour tables so that the first probe of a case is not lost.
for a in 198.18.0.2 2001:db8::2 198.18.2.9 2001:db8:2::9; do
	nsx "$scan" ping -n -q -c 1 -W 1 "$a" >/dev/null 2>&1 || true
done

# A ping without file capabilities, for the permission-denied cases. cp
# does not carry the security.capability attribute over.
chmod 0755 "$tmp"
cp /bin/ping "$tmp/ping"
chmod 0755 "$tmp/ping"
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups --)

# capture NAME NS CMD...: run CMD inside NS and save what it prints.
capture() {
	local name=$1 ns=$2
	shift 2
	local rc=0
	nsx "$ns" "$@" >"$out/$name.txt" 2>&1 || rc=$?
	printf '%-30s exit %d\n' "$name" "$rc"
}

for ping in iputils busybox; do
	case $ping in
	iputils) p4=(ping) p6=(ping) ;;
	busybox) p4=(busybox ping) p6=(busybox ping6) ;;
	esac
	for fam in v4 v6; do
		if [[ $fam == v4 ]]; then
			p=("${p4[@]}") live=198.18.1.1 dead=198.18.1.2 unr=198.18.3.1
			ttl=198.18.4.1 twin=198.18.2.9 lo=127.0.0.1 lonely=198.18.0.1 absent=198.18.2.50
		else
			p=("${p6[@]}") live=2001:db8:1::1 dead=2001:db8:1::2 unr=2001:db8:3::1
			ttl=2001:db8:4::1 twin=2001:db8:2::9 lo=::1 lonely=2001:db8::1 absent=2001:db8:2::50
		fi
		n=()
		[[ $ping == iputils ]] && n=(-n) # busybox prints numbers anyway
		capture "$ping-$fam-reply" "$scan" "${p[@]}" "${n[@]}" -c 2 -W 1 "$live"
		capture "$ping-$fam-loopback" "$scan" "${p[@]}" "${n[@]}" -c 1 -W 1 "$lo"
		capture "$ping-$fam-timeout" "$scan" "${p[@]}" "${n[@]}" -c 1 -W 1 "$dead"
		capture "$ping-$fam-unreachable" "$scan" "${p[@]}" "${n[@]}" -c 2 -W 1 "$unr"
		capture "$ping-$fam-ttl-exceeded" "$scan" "${p[@]}" "${n[@]}" -c 1 -W 1 -t 1 "$ttl"
		capture "$ping-$fam-dup" "$scan" "${p[@]}" "${n[@]}" -c 2 -W 1 "$twin"
		capture "$ping-$fam-noroute" "$lone" "${p[@]}" "${n[@]}" -c 1 -W 1 "$lonely"
		if [[ $ping == iputils ]]; then
			# No one holds this address on the bridge: neighbour
			# discovery gives up after about 3 s and the local kernel
			# reports the host unreachable, "From" our own address.
			# (busybox ping prints no ICMP errors at all.)
			capture "$ping-$fam-lan-unreachable" "$scan" "${p[@]}" "${n[@]}" -c 1 -W 5 "$absent"
		fi
	done
done
# Unprivileged: iputils without its file capability, busybox as nobody.
# Found through PATH so that the name ping prints for itself is just "ping".
capture iputils-denied "$scan" env PATH="$tmp:/usr/bin:/bin" "${nobody[@]}" ping -n -c 1 -W 1 127.0.0.1
capture busybox-denied "$scan" "${nobody[@]}" busybox ping -c 1 -W 1 127.0.0.1
