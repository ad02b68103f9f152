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
#   h1 and h2 answer broadcasts and groups: pinging 198.18.2.255 (busybox,
#        which sets SO_BROADCAST), 224.0.0.1 or ff02::1%br0 (iputils) prints
#        answers "from" each member, never from the address pinged
#
# Each case goes to its own file, stdout and stderr together, in the C
# locale. Run as root from anywhere: bash probe/testdata/ping/capture.sh
# ONLY='toybox-* inetutils-*' records only the cases whose names match one
# of the patterns (the others keep their files, and the RTTs the tests
# expect). Needs: iproute2, iputils-ping, busybox, toybox, util-linux
# (setpriv), dpkg-deb; GNU inetutils' ping is unpacked from $INETUTILS_DEB,
# /var/cache/netscanner/inetutils-ping_*.deb or `apt-get download
# inetutils-ping`, never installed (it would replace iputils).
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
	nsx "$h" sysctl -qw net.ipv4.icmp_echo_ignore_broadcasts=0
done
nsx "$scan" ip route add 224.0.0.0/4 dev br0
# toybox opens ICMP datagram sockets only, even as root.
nsx "$scan" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
nsx "$lone" sysctl -qw net.ipv4.ping_group_range="0 2147483647"

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

# The multi-call binaries act as the applet they are run as.
mkdir "$tmp/bb" "$tmp/toy"
ln -s "$(command -v busybox)" "$tmp/bb/ping6"
ln -s "$(command -v toybox)" "$tmp/toy/ping"

# GNU inetutils, unpacked only.
deb=${INETUTILS_DEB:-}
if [[ -z $deb ]]; then
	deb=$(ls /var/cache/netscanner/inetutils-ping_*.deb 2>/dev/null | tail -n 1 || true)
fi
if [[ -z $deb ]]; then
	mkdir "$tmp/deb"
	(cd "$tmp/deb" && apt-get download -q inetutils-ping >/dev/null)
	deb=$(ls "$tmp"/deb/inetutils-ping_*.deb)
fi
dpkg-deb -x "$deb" "$tmp/inetutils"

# capture NAME NS CMD...: run CMD inside NS and save what it prints.
capture() {
	local name=$1 ns=$2
	shift 2
	if [[ -n ${ONLY:-} ]]; then
		local pat hit=
		for pat in $ONLY; do
			# shellcheck disable=SC2053 # a glob, on purpose
			[[ $name == $pat ]] && hit=1
		done
		[[ -n $hit ]] || return 0
	fi
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
# Broadcasts and groups: every line comes from a member.
capture busybox-v4-broadcast "$scan" busybox ping -c 1 -W 1 198.18.2.255
capture iputils-v4-multicast "$scan" ping -n -c 1 -W 1 224.0.0.1
capture iputils-v6-multicast "$scan" ping -n -c 1 -W 1 ff02::1%br0

# toybox, in the style exec uses for it (it has no -n).
toy=(env PATH="$tmp/toy:/usr/bin:/bin" ping)
capture toybox-usage "$scan" "${toy[@]}" -n -c 1 -W 1 127.0.0.1
nsx "$scan" sysctl -qw net.ipv4.ping_group_range="1 0"
capture toybox-denied "$scan" "${toy[@]}" -c 1 -W 1 127.0.0.1
nsx "$scan" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
for fam in v4 v6; do
	if [[ $fam == v4 ]]; then
		live=198.18.1.1 dead=198.18.1.2 unr=198.18.3.1 ttl=198.18.4.1 twin=198.18.2.9 lo=127.0.0.1 lonely=198.18.0.1
	else
		live=2001:db8:1::1 dead=2001:db8:1::2 unr=2001:db8:3::1 ttl=2001:db8:4::1 twin=2001:db8:2::9 lo=::1 lonely=2001:db8::1
	fi
	capture "toybox-$fam-reply" "$scan" "${toy[@]}" -c 2 -W 1 "$live"
	capture "toybox-$fam-loopback" "$scan" "${toy[@]}" -c 1 -W 1 "$lo"
	capture "toybox-$fam-timeout" "$scan" "${toy[@]}" -c 1 -W 1 "$dead"
	capture "toybox-$fam-unreachable" "$scan" "${toy[@]}" -c 2 -W 1 "$unr"
	capture "toybox-$fam-ttl-exceeded" "$scan" "${toy[@]}" -c 1 -W 1 -t 1 "$ttl"
	capture "toybox-$fam-dup" "$scan" "${toy[@]}" -c 2 -W 1 "$twin"
	capture "toybox-$fam-noroute" "$lone" "${toy[@]}" -c 1 -W 1 "$lonely"
done

# GNU inetutils: IPv4 only (its ping takes no IPv6 address; its ping6
# takes no -W), and --ttl rather than -t (which is --type).
# Found through PATH, so that it names itself "ping" in its messages.
inet=(env PATH="$tmp/inetutils/bin:/usr/bin:/bin" ping)
live=198.18.1.1 dead=198.18.1.2 unr=198.18.3.1 ttl=198.18.4.1 twin=198.18.2.9
capture inetutils-v4-reply "$scan" "${inet[@]}" -n -c 2 -W 1 "$live"
capture inetutils-v4-loopback "$scan" "${inet[@]}" -n -c 1 -W 1 127.0.0.1
capture inetutils-v4-timeout "$scan" "${inet[@]}" -n -c 1 -W 1 "$dead"
capture inetutils-v4-unreachable "$scan" "${inet[@]}" -n -c 2 -W 1 "$unr"
capture inetutils-v4-ttl-exceeded "$scan" "${inet[@]}" -n -c 1 -W 1 --ttl=1 "$ttl"
capture inetutils-v4-dup "$scan" "${inet[@]}" -n -c 2 -W 1 "$twin"
capture inetutils-v4-noroute "$lone" "${inet[@]}" -n -c 1 -W 1 198.18.0.1
capture inetutils-v6-unsupported "$scan" "${inet[@]}" -n -c 1 -W 1 ::1
capture busybox6-rejects-v4 "$scan" "$tmp/bb/ping6" -n -c 1 -W 1 127.0.0.1

# Unprivileged: iputils without its file capability, busybox as nobody.
# Found through PATH so that the name ping prints for itself is just "ping".
capture iputils-denied "$scan" env PATH="$tmp:/usr/bin:/bin" "${nobody[@]}" ping -n -c 1 -W 1 127.0.0.1
capture busybox-denied "$scan" "${nobody[@]}" busybox ping -c 1 -W 1 127.0.0.1
