#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# netns-testbed.sh: build or tear down, by hand, the network-namespace test bed
# of the end-to-end tests (tests/e2e/netns.py builds the same one for pytest).
#
#   scripts/netns-testbed.sh up [TAG]       build it (TAG default "bed")
#   scripts/netns-testbed.sh serve [TAG]    also start HTTP servers on the backends
#   scripts/netns-testbed.sh down [TAG]     delete it (ends what runs inside)
#   scripts/netns-testbed.sh status [TAG]   list its namespaces and interfaces
#
# One L2 segment 10.77.0.0/24 on a bridge br0 in namespace slt-TAG-br:
#   slt-TAG-cl  client    10.77.0.2   02:77:00:00:00:02  static neighbours VIPs -> sluice
#   slt-TAG-b1  backend1  10.77.0.11  02:77:00:00:00:11  VIP 10.77.0.10 on lo
#   slt-TAG-b2  backend2  10.77.0.12  02:77:00:00:00:12  VIP 10.77.0.10 on lo
#   slt-TAG-b3  backend3  10.77.0.13  02:77:00:00:00:13  VIP 10.77.0.20 on lo, vx0 (VNI 4242)
#   slt-TAG-lb  sluice    lb0, MAC 02:77:00:00:00:05, address 10.77.0.5 (owned by sluice)
# Then run sluice on lb0 (as root):
#   SLUICE_IFACE=lb0 SLUICE_MAC=02:77:00:00:00:05 SLUICE_IPV4=10.77.0.5 \
#     ip netns exec slt-TAG-lb build/dataplane/sluiced -l 0,1 --no-pci --no-huge -m 512 \
#     --in-memory -- --ports PROFILE.json --config CONFIG.json --stats-interval 1
# with PROFILE.json = pmd-config/af-packet.json plus "neighbours" for
# 10.77.0.11-13, and from the client:  ip netns exec slt-TAG-cl curl http://10.77.0.10/
set -euo pipefail

cmd=${1:-}
tag=${2:-bed}
P="slt-$tag"
BR="$P-br"
LB_MAC=02:77:00:00:00:05
VIPS=(10.77.0.10 10.77.0.20)
VNI=4242
# short name, address, MAC, VIP (empty for the client)
HOSTS=("cl 10.77.0.2 02:77:00:00:00:02 -"
	"b1 10.77.0.11 02:77:00:00:00:11 10.77.0.10"
	"b2 10.77.0.12 02:77:00:00:00:12 10.77.0.10"
	"b3 10.77.0.13 02:77:00:00:00:13 10.77.0.20")

[ "$(id -u)" -eq 0 ] || { echo "needs root" >&2; exit 1; }

new_ns() {
	ip netns add "$1"
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	ip -n "$1" link set lo up
}

# add_port SHORT IFNAME MAC: a veth, p-SHORT on br0 and IFNAME in slt-TAG-SHORT
add_port() {
	ip -n "$BR" link add "p-$1" type veth peer name "$2" netns "$P-$1"
	ip -n "$BR" link set "p-$1" master br0 up
	ip -n "$P-$1" link set "$2" address "$3"
}

up() {
	if ip netns list | grep -q "^$BR\b"; then
		echo "$P already exists (scripts/netns-testbed.sh down $tag)" >&2
		exit 1
	fi
	trap 'down' ERR
	new_ns "$BR"
	ip -n "$BR" link add br0 type bridge stp_state 0 mcast_snooping 0 forward_delay 0
	ip -n "$BR" link set br0 up
	local h s addr mac vip ns
	for h in "${HOSTS[@]}"; do
		read -r s addr mac vip <<<"$h"
		ns="$P-$s"
		new_ns "$ns"
		add_port "$s" eth0 "$mac"
		ip -n "$ns" addr add "$addr/24" dev eth0
		ip -n "$ns" link set eth0 up
		# complete checksums in the frames sluice reads through af_packet
		ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
		if [ "$vip" != - ]; then
			ip -n "$ns" addr add "$vip/32" dev lo
			ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
				net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_ignore=1 \
				net.ipv4.conf.eth0.arp_announce=2
		fi
	done
	# backend3 takes VXLAN: vx0's MAC is eth0's (sluice's inner destination MAC)
	ip -n "$P-b3" link add vx0 type vxlan id "$VNI" local 10.77.0.13 dstport 4789 nolearning
	ip -n "$P-b3" link set vx0 address 02:77:00:00:00:13
	ip -n "$P-b3" link set vx0 up
	ip netns exec "$P-b3" sysctl -qw net.ipv4.conf.vx0.rp_filter=0
	# sluice's interface: no kernel address
	new_ns "$P-lb"
	add_port lb lb0 "$LB_MAC"
	ip -n "$P-lb" link set lb0 up
	# sluice answers no ARP yet: the client reaches the VIPs through static neighbours
	for vip in "${VIPS[@]}"; do
		ip -n "$P-cl" neigh replace "$vip" lladdr "$LB_MAC" dev eth0 nud permanent
	done
	trap - ERR
	status
}

serve() {
	local s dir
	for s in b1 b2 b3; do
		dir=$(mktemp -d "/tmp/$P-$s-www.XXXXXX")
		echo "backend-$s" >"$dir/index.html"
		ip netns exec "$P-$s" setsid python3 -m http.server 80 --bind 0.0.0.0 \
			--directory "$dir" >"$dir.log" 2>&1 </dev/null &
		echo "$P-$s: HTTP on port 80 serving $dir"
	done
}

down() {
	local ns pid
	for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill "$pid" 2>/dev/null || true
		done
		ip netns del "$ns" || true
	done
}

status() {
	local ns
	for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" | sort || true); do
		echo "== $ns"
		ip -n "$ns" -br addr
	done
}

case "$cmd" in
up) up ;;
serve) serve ;;
down) down ;;
status) status ;;
*)
	sed -n '3,21p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
