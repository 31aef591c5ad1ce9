# SPDX-License-Identifier: BSD-3-Clause
# common.sh: shared set-up for sluice's scripts (sourced, not run).
#   sl_install_deps   apt-get what is missing (Debian 12)
#   sl_build DIR [meson options...]   configure (once) and build
#   sl_hugepages      reserve 2 MiB hugepages when root, else choose --no-huge;
#                     sets SL_EAL_MEM to the EAL memory options and says which
set -euo pipefail

SL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SL_PY=/usr/bin/python3

SL_PACKAGES=(build-essential meson ninja-build pkg-config dpdk dpdk-dev libdpdk-dev libcjson-dev
	libcmocka-dev libmicrohttpd-dev libpcap-dev libssl-dev python3 python3-scapy python3-pytest iproute2 ethtool
	curl procps iputils-ping valgrind bird2 clang llvm libbpf-dev linux-libc-dev
	debhelper dpkg-dev fakeroot systemd man-db tmux prometheus strace passwd util-linux
	libcurl4-openssl-dev etcd-server etcd-client)

sl_log() { printf '\033[1m== %s\033[0m\n' "$*"; }

sl_install_deps() {
	local missing=()
	for p in "${SL_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		sl_log "packages: all present"
		return 0
	fi
	sl_log "packages: installing ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "not root: install these first: apt-get install ${missing[*]}" >&2
		return 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

sl_build() {
	local dir=$1
	shift
	if [ ! -f "$SL_ROOT/$dir/build.ninja" ]; then
		sl_log "configuring $dir ($*)"
		meson setup "$SL_ROOT/$dir" "$SL_ROOT" "$@" >/dev/null
	fi
	sl_log "building $dir"
	ninja -C "$SL_ROOT/$dir" >/dev/null
}

sl_hugepages() {
	local want=${SL_HUGEPAGES:-512}
	if [ "$(id -u)" -eq 0 ] && [ -w /proc/sys/vm/nr_hugepages ]; then
		local have
		have=$(cat /proc/sys/vm/nr_hugepages)
		[ "$have" -ge "$want" ] || echo "$want" >/proc/sys/vm/nr_hugepages 2>/dev/null || true
		mkdir -p /dev/hugepages
		mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || true
		have=$(cat /proc/sys/vm/nr_hugepages)
		if [ "$have" -ge 256 ] && mountpoint -q /dev/hugepages; then
			SL_EAL_MEM="--in-memory"
			sl_log "memory: $have hugepages of 2 MiB reserved, mounted on /dev/hugepages"
			export SL_EAL_MEM
			return 0
		fi
	fi
	SL_EAL_MEM="--no-huge -m 512"
	sl_log "memory: no hugepages (not root or none free): running with --no-huge"
	export SL_EAL_MEM
}
