#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# bench-baremetal.sh: sluiced on a real NIC, loaded by pktgen-dpdk from another
# host (or another port), reporting Mpps per worker lcore from the statistics
# file. Checks hugepages, the NIC's driver, CPU isolation and NUMA placement;
# with --pci it reserves hugepages, binds the NIC (not mlx5) and runs.
# Without --pci it changes nothing and prints what it would do. Run --help.
# See docs/benchmarks.md, "Bare metal with pktgen-dpdk".
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
	cat <<'EOF'
usage: scripts/bench-baremetal.sh --driver mlx5|ice|i40e|ixgbe --pci ADDR --workers N [options]

Runs sluiced on one NIC port with N worker lcores (RSS over N queue pairs,
one per worker), waits for traffic (pktgen-dpdk on another host or port:
scripts/pktgen/run-pktgen.sh), lets it warm up, measures for a while, stops
sluiced and reports, from its --stats-file sampled every second:
  - rx and tx Mpps per worker lcore (median over the window) and in total,
    and each lcore's share of the traffic (how evenly RSS spreads it);
  - drops by reason over the window;
  - flows: live at the end, flows.tableFull, misses and hits over the window;
  - with --testpmd, dpdk-testpmd 5tswap on the same port, cores and queues
    first, and sluice's rate as a ratio to it (as scripts/bench.sh does in
    software).

Nothing is changed without --pci: without it the script checks the host and
prints the commands it would run. With --pci it may:
  - reserve 2 MiB hugepages on the NIC's NUMA node (dpdk-hugepages.py, else
    sysfs) when fewer are free than sluiced needs, and mount hugetlbfs;
  - bind the port to vfio-pci with dpdk-devbind.py (not mlx5, which stays on
    mlx5_core; not with --no-bind); --restore-driver binds it back at the end.
It never edits the kernel command line: CPU isolation is advice only.

The NIC:
  --driver NAME        mlx5, ice, i40e or ixgbe: picks pmd-config/NAME.json
                       (found from the bound kernel driver when omitted)
  --pci ADDR           the port's PCI address (0000:3b:00.0); required to run
  --profile FILE       port profile to start from instead of pmd-config/NAME.json
  --next-hop-mac MAC   MAC the forwarded packets go to: the profile's gateway
                       neighbour (backends have no neighbour entry of their own,
                       so their next hop is the gateway); give the pktgen return
                       port's MAC when a switch sits between the hosts [keep the
                       profile's; pktgen in promiscuous mode counts them anyway]
  --port-ip ADDR       sluice's IPv4 address on the port [the profile's]
  --mtu N              port MTU [the profile's, 1500]; IMIX 1500-byte frames with
                       IP-in-IP, GUE or VXLAN delivery need 1550 or more
  --rxd N, --txd N     descriptors per queue [the profile's, 4096]
  --kmod NAME          driver to bind to: vfio-pci, uio_pci_generic, igb_uio [vfio-pci]
  --no-bind            do not bind (the port is already on a DPDK driver)
  --restore-driver     bind the port back to its previous driver at the end

Cores and memory:
  --workers N          worker lcores = RSS queue pairs [1]
  --cores LIST         N+1 CPUs: the first is sluiced's control thread, the others
                       are the workers [0-N]; take them from the NIC's NUMA node
  --flow-table-size N  flows per worker lcore [sluiced's default, 1048576:
                       132 MiB of hugepages per worker]
  --hugepages SIZE     reserve this much (e.g. 4G) on the NIC's node [computed]
  --eal "ARGS"         extra EAL options (--no-huge here drops --in-memory)

The load balancer (unless --config):
  --mode MODE          DNAT, L2, IPinIP, GUE or VXLAN [DNAT]: the generated
                       configuration is the software benchmark's (tests/bench/bench.py):
                       frontend 10.0.0.10, rules Tcp and Udp port 80 (DNAT: backend
                       port 8080), a pool of --backends backends 10.1.0.1...
  --backends N         pool size [16]
  --config FILE        your own resources file instead (it must have a rule for the
                       traffic pktgen sends)

The run:
  --seconds S          measured window [30]
  --warmup S           traffic before the window [5]
  --wait S             how long to wait for the first packet [300]
  --testpmd            run dpdk-testpmd on the same port first, for the ratio
  --testpmd-mode MODE  testpmd forwarding mode [5tswap]
  --out DIR            where everything goes [/tmp/sluice-bench-DATE]:
                       ports.json, config.json, sluiced.log, samples/*.json,
                       lcores.csv, timeseries.csv, report.txt, testpmd.log
  --build DIR          meson build directory with dataplane/sluiced [build]
  --ports FILE         run on this port profile as it is: no -a, no binding, no
                       hugepage changes (for trying the script on net_pcap or
                       net_null: --ports pmd-config/pcap-bench.json with
                       --eal "--no-pci --no-huge -m 2048")
  --dry-run            checks and the commands only, even with --pci
  -h, --help           this text

Example (ice, 4 workers on cores 2-6 of NUMA node 0):
  scripts/bench-baremetal.sh --driver ice --pci 0000:3b:00.0 --workers 4 --cores 2-6 --testpmd
  # it prints "sluice port MAC: xx:xx:..."; on the pktgen host:
  scripts/pktgen/run-pktgen.sh --pci 0000:5e:00.0 --dst-mac xx:xx:... --seconds 90
EOF
}

log() { printf '\033[1m== %s\033[0m\n' "$*"; }
warn() { printf '!! %s\n' "$*"; }
die() {
	echo "bench-baremetal.sh: $*" >&2
	exit 2
}
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
is_mac() { [[ $1 =~ ^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$ ]]; }
is_ipv4() { [[ $1 =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]]; }

DRIVER=""
PCI=""
PROFILE_IN=""
PORTS_AS_IS=""
NEXT_HOP_MAC=""
PORT_IP=""
MTU=""
RXD=""
TXD=""
KMOD=vfio-pci
NO_BIND=0
RESTORE=0
WORKERS=1
CORES=""
FLOW_TABLE=""
HUGE_SIZE=""
EAL_EXTRA=""
MODE=DNAT
BACKENDS=16
CONFIG_IN=""
MEASURE_S=30
WARMUP_S=5
WAIT_S=300
TESTPMD=0
TESTPMD_MODE=5tswap
OUT=""
BUILD_DIR=build
DRY=0

need_arg() { [ $# -ge 2 ] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help)
		usage
		exit 0
		;;
	--driver) need_arg "$@"; DRIVER=$2; shift ;;
	--pci) need_arg "$@"; PCI=$2; shift ;;
	--profile) need_arg "$@"; PROFILE_IN=$2; shift ;;
	--ports) need_arg "$@"; PORTS_AS_IS=$2; shift ;;
	--next-hop-mac) need_arg "$@"; NEXT_HOP_MAC=$2; shift ;;
	--port-ip) need_arg "$@"; PORT_IP=$2; shift ;;
	--mtu) need_arg "$@"; MTU=$2; shift ;;
	--rxd) need_arg "$@"; RXD=$2; shift ;;
	--txd) need_arg "$@"; TXD=$2; shift ;;
	--kmod) need_arg "$@"; KMOD=$2; shift ;;
	--no-bind) NO_BIND=1 ;;
	--restore-driver) RESTORE=1 ;;
	--workers) need_arg "$@"; WORKERS=$2; shift ;;
	--cores) need_arg "$@"; CORES=$2; shift ;;
	--flow-table-size) need_arg "$@"; FLOW_TABLE=$2; shift ;;
	--hugepages) need_arg "$@"; HUGE_SIZE=$2; shift ;;
	--eal) need_arg "$@"; EAL_EXTRA=$2; shift ;;
	--mode) need_arg "$@"; MODE=$2; shift ;;
	--backends) need_arg "$@"; BACKENDS=$2; shift ;;
	--config) need_arg "$@"; CONFIG_IN=$2; shift ;;
	--seconds) need_arg "$@"; MEASURE_S=$2; shift ;;
	--warmup) need_arg "$@"; WARMUP_S=$2; shift ;;
	--wait) need_arg "$@"; WAIT_S=$2; shift ;;
	--testpmd) TESTPMD=1 ;;
	--testpmd-mode) need_arg "$@"; TESTPMD_MODE=$2; shift ;;
	--out) need_arg "$@"; OUT=$2; shift ;;
	--build) need_arg "$@"; BUILD_DIR=$2; shift ;;
	--dry-run) DRY=1 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
	shift
done

# ---------------------------------------------------------------- validation
if ! is_uint "$WORKERS" || ((WORKERS < 1 || WORKERS > 128)); then die "--workers: 1..128"; fi
for v in MEASURE_S WARMUP_S WAIT_S BACKENDS; do
	is_uint "${!v}" || die "$v: expected a whole number, got '${!v}'"
done
((MEASURE_S >= 2)) || die "--seconds: at least 2 (rates are taken between samples a second apart)"
((BACKENDS >= 1 && BACKENDS <= 1000)) || die "--backends: 1..1000"
[ -z "$FLOW_TABLE" ] || is_uint "$FLOW_TABLE" || die "--flow-table-size: a number of flows"
[ -z "$MTU" ] || is_uint "$MTU" || die "--mtu: a number"
[ -z "$RXD" ] || is_uint "$RXD" || die "--rxd: a number"
[ -z "$TXD" ] || is_uint "$TXD" || die "--txd: a number"
[ -z "$NEXT_HOP_MAC" ] || is_mac "$NEXT_HOP_MAC" || die "--next-hop-mac: xx:xx:xx:xx:xx:xx"
[ -z "$PORT_IP" ] || is_ipv4 "$PORT_IP" || die "--port-ip: an IPv4 address"
[ -z "$HUGE_SIZE" ] || [[ $HUGE_SIZE =~ ^[0-9]+[MG]$ ]] || die "--hugepages: a size such as 4G or 2048M"
case $MODE in DNAT | L2 | IPinIP | GUE | VXLAN) ;; *) die "--mode: DNAT, L2, IPinIP, GUE or VXLAN" ;; esac
case $KMOD in vfio-pci | uio_pci_generic | igb_uio) ;; *) die "--kmod: vfio-pci, uio_pci_generic or igb_uio" ;; esac
if [ -n "$PCI" ]; then
	[[ $PCI =~ ^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$ ]] ||
		die "--pci: a full PCI address such as 0000:3b:00.0"
fi
[ -z "$CONFIG_IN" ] || [ -r "$CONFIG_IN" ] || die "--config: cannot read $CONFIG_IN"
[ -z "$PROFILE_IN" ] || [ -r "$PROFILE_IN" ] || die "--profile: cannot read $PROFILE_IN"
[ -z "$PORTS_AS_IS" ] || [ -r "$PORTS_AS_IS" ] || die "--ports: cannot read $PORTS_AS_IS"
if [ -n "$PORTS_AS_IS" ] && [ -n "$PCI" ]; then
	die "--ports runs a profile as it is; give either --ports or --pci"
fi
[ -n "$CORES" ] || CORES="0-$WORKERS"

# "0-3,8" -> "0 1 2 3 8"
expand_cpulist() {
	local item a b out=() IFS=,
	for item in $1; do
		[ -n "$item" ] || continue
		if [[ $item =~ ^([0-9]+)-([0-9]+)$ ]]; then
			a=${BASH_REMATCH[1]}
			b=${BASH_REMATCH[2]}
			while ((a <= b)); do
				out+=("$a")
				a=$((a + 1))
			done
		elif [[ $item =~ ^[0-9]+$ ]]; then
			out+=("$item")
		else
			return 1
		fi
	done
	IFS=' '
	echo "${out[*]}"
}

CPU_LIST=$(expand_cpulist "$CORES") || die "--cores: a CPU list such as 0-4 or 2,4,6,8,10"
read -r -a CPUS <<<"$CPU_LIST"
((${#CPUS[@]} == WORKERS + 1)) ||
	die "--cores $CORES names ${#CPUS[@]} CPUs; --workers $WORKERS needs $((WORKERS + 1)) (control thread + workers)"
WORKER_CPUS=("${CPUS[@]:1}")

SLUICED=$ROOT/$BUILD_DIR/dataplane/sluiced
[ -n "$OUT" ] || OUT=/tmp/sluice-bench-$(date +%Y%m%d-%H%M%S)

RUN=0
if [ "$DRY" = 0 ] && { [ -n "$PCI" ] || [ -n "$PORTS_AS_IS" ]; }; then
	RUN=1
fi

# ---------------------------------------------------------------- the NIC
PCI_DIR=""
CUR_DRV=""
NIC_NODE=-1
if [ -n "$PCI" ]; then
	PCI_DIR=/sys/bus/pci/devices/$PCI
	if [ -e "$PCI_DIR" ]; then
		if [ -e "$PCI_DIR/driver" ]; then
			CUR_DRV=$(basename "$(readlink -f "$PCI_DIR/driver")")
		fi
		NIC_NODE=$(cat "$PCI_DIR/numa_node" 2>/dev/null || echo -1)
	elif [ "$RUN" = 1 ]; then
		die "--pci $PCI: no such PCI device (lspci -D | grep -i ether)"
	fi
fi
if [ -z "$DRIVER" ] && [ -z "$PORTS_AS_IS" ] && [ -z "$PROFILE_IN" ]; then
	case $CUR_DRV in
	mlx5_core) DRIVER=mlx5 ;;
	ice | i40e | ixgbe) DRIVER=$CUR_DRV ;;
	*) die "--driver: mlx5, ice, i40e or ixgbe (the port's driver now: ${CUR_DRV:-none/unknown})" ;;
	esac
fi
if [ -n "$DRIVER" ]; then
	case $DRIVER in mlx5 | ice | i40e | ixgbe) ;; *) die "--driver: mlx5, ice, i40e or ixgbe" ;; esac
fi
[ -n "$PROFILE_IN" ] || [ -z "$DRIVER" ] || PROFILE_IN=$ROOT/pmd-config/$DRIVER.json
if [ "$DRIVER" = mlx5 ]; then
	NO_BIND=1
fi

# ---------------------------------------------------------------- checks
# Memory sluiced needs: the flow tables (66 bytes a way, ways for 125% of
# the flows rounded up to a power of two buckets of 8) plus the mbufs.
flow_table_mb() {
	local flows=${FLOW_TABLE:-1048576} ways buckets=1
	((flows > 0)) || {
		echo 0
		return
	}
	ways=$(((flows * 5 + 3) / 4))
	while ((buckets * 8 < ways)); do
		buckets=$((buckets * 2))
	done
	echo $(((buckets * 8 * 66 + 1048575) / 1048576))
}
NEED_MB=$((WORKERS * ($(flow_table_mb) + 24) + 512))

HUGE_MNT=$(awk '$3 == "hugetlbfs" {print $2; exit}' /proc/mounts)

hugepages_free_mb() { # [node]
	local d sz nr free total=0 base=/sys/kernel/mm/hugepages
	if [ -n "${1:-}" ] && [ "$1" -ge 0 ] && [ -d "/sys/devices/system/node/node$1/hugepages" ]; then
		base=/sys/devices/system/node/node$1/hugepages
	fi
	for d in "$base"/hugepages-*kB; do
		[ -d "$d" ] || continue
		sz=${d##*hugepages-}
		sz=${sz%kB}
		nr=$(cat "$d/nr_hugepages")
		free=$(cat "$d/free_hugepages")
		((nr > 0)) || continue
		total=$((total + free * sz / 1024))
	done
	echo "$total"
}

CHECK_NOTES=()
advise() { CHECK_NOTES+=("$*"); }

check_host() {
	log "checks"
	if [ -x "$SLUICED" ]; then
		echo "sluiced: $SLUICED"
	else
		warn "sluiced: not built at $SLUICED"
		advise "build it: meson setup $BUILD_DIR && ninja -C $BUILD_DIR"
	fi
	if [ -n "$PORTS_AS_IS" ]; then
		echo "port profile: $PORTS_AS_IS, as it is (no NIC handling)"
	else
		echo "port profile: ${PROFILE_IN:-?} (driver ${DRIVER:-?})"
	fi
	if [ -n "$PCI" ]; then
		if [ -z "$PCI_DIR" ] || [ ! -e "$PCI_DIR" ]; then
			warn "NIC $PCI: no such PCI device here"
		else
			local ifs="" d
			for d in "$PCI_DIR"/net/*; do
				[ -e "$d" ] && ifs+="${d##*/} "
			done
			echo "NIC $PCI: driver ${CUR_DRV:-none}, NUMA node $NIC_NODE${ifs:+, interface $ifs}"
			if [ "$DRIVER" = mlx5 ]; then
				[ "$CUR_DRV" = mlx5_core ] || warn "mlx5 expects the port on mlx5_core (now ${CUR_DRV:-none})"
				local ifc
				for ifc in $ifs; do
					if [ "$(cat "/sys/class/net/$ifc/operstate" 2>/dev/null)" != up ]; then
						advise "mlx5: bring $ifc up (ip link set $ifc up): the bifurcated PMD uses the kernel netdev's link"
					fi
				done
				if ! ldconfig -p 2>/dev/null | grep -q 'libibverbs\.so'; then
					advise "mlx5: the PMD needs rdma-core's libraries: apt-get install -y libibverbs1 ibverbs-providers"
				fi
			elif [ "$NO_BIND" = 0 ] && [ "$CUR_DRV" != "$KMOD" ]; then
				echo "NIC $PCI: will be bound to $KMOD: dpdk-devbind.py -b $KMOD $PCI"
				if [ "$KMOD" = vfio-pci ] && [ -z "$(ls -A /sys/kernel/iommu_groups 2>/dev/null)" ]; then
					advise "vfio-pci without an IOMMU: enable it on the kernel command line (intel_iommu=on iommu=pt, or amd_iommu=on), or use --kmod uio_pci_generic"
				fi
			fi
		fi
	fi

	# Hugepages
	local free_mb node_free_mb
	free_mb=$(hugepages_free_mb)
	node_free_mb=$free_mb
	if [ "$NIC_NODE" -ge 0 ] 2>/dev/null; then
		node_free_mb=$(hugepages_free_mb "$NIC_NODE")
	fi
	local on_node=""
	[ -z "$PCI_DIR" ] || on_node=" ($node_free_mb MiB on the NIC's node $NIC_NODE)"
	echo "hugepages: $free_mb MiB free$on_node, sluiced needs about $NEED_MB MiB" \
		"($WORKERS x $(flow_table_mb) MiB flow table + mbufs), hugetlbfs ${HUGE_MNT:-not mounted}"
	if ((node_free_mb < NEED_MB)); then
		if [ -n "$PORTS_AS_IS" ]; then
			advise "hugepages: fewer free than needed; with --ports nothing is reserved: use --eal \"--no-huge -m $NEED_MB\" or reserve: dpdk-hugepages.py -p 2M -r ${NEED_MB}M -m"
		else
			advise "hugepages: with --pci, 2 MiB pages are reserved on the NIC's node (dpdk-hugepages.py -p 2M -n NODE -r SIZE);" \
				"1 GiB pages are reserved at boot: default_hugepagesz=1G hugepagesz=1G hugepages=N on the kernel command line"
		fi
	fi

	# CPUs: isolation, tickless, NUMA node, frequency governor
	local isolated nohz c d not_iso=() not_nohz=() off_node=() slow=() node
	isolated=" $(expand_cpulist "$(cat /sys/devices/system/cpu/isolated 2>/dev/null)" || true) "
	nohz=" $(expand_cpulist "$(sed 's/(null)//' /sys/devices/system/cpu/nohz_full 2>/dev/null)" || true) "
	for c in "${CPUS[@]}"; do
		if [ ! -d "/sys/devices/system/cpu/cpu$c" ]; then
			[ "$RUN" = 0 ] || die "--cores: CPU $c does not exist here"
			advise "--cores: CPU $c does not exist on this host"
		fi
	done
	for c in "${WORKER_CPUS[@]}"; do
		[[ $isolated == *" $c "* ]] || not_iso+=("$c")
		[[ $nohz == *" $c "* ]] || not_nohz+=("$c")
		if [ "$NIC_NODE" -ge 0 ] 2>/dev/null; then
			node=""
			for d in "/sys/devices/system/cpu/cpu$c"/node*; do
				[ -e "$d" ] && node=${d##*/}
			done
			[ "$node" = "node$NIC_NODE" ] || off_node+=("$c")
		fi
		local gov
		gov=$(cat "/sys/devices/system/cpu/cpu$c/cpufreq/scaling_governor" 2>/dev/null || true)
		[ -z "$gov" ] || [ "$gov" = performance ] || slow+=("$c:$gov")
	done
	echo "cores: control thread on CPU ${CPUS[0]}, workers on ${WORKER_CPUS[*]};" \
		"isolated: $(grep . /sys/devices/system/cpu/isolated 2>/dev/null || echo none)," \
		"nohz_full: $(sed 's/(null)//' /sys/devices/system/cpu/nohz_full 2>/dev/null | grep . || echo none)"
	if [ ${#not_iso[@]} -gt 0 ] || [ ${#not_nohz[@]} -gt 0 ]; then
		local w
		w=$(
			IFS=,
			echo "${WORKER_CPUS[*]}"
		)
		advise "worker CPUs not isolated (${not_iso[*]:-none}) or not tickless (${not_nohz[*]:-none}): the kernel schedules" \
			"other work and timer ticks there, which costs packets at these rates. Add to the kernel command line" \
			"(GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub and reboot):" \
			"isolcpus=$w nohz_full=$w rcu_nocbs=$w"
	fi
	if [ ${#off_node[@]} -gt 0 ]; then
		advise "CPUs ${off_node[*]} are not on the NIC's NUMA node $NIC_NODE (lscpu -e; cat /sys/devices/system/node/node$NIC_NODE/cpulist): every packet crosses the interconnect"
	fi
	if [ ${#slow[@]} -gt 0 ]; then
		advise "CPU frequency governor not 'performance' on ${slow[*]}: cpupower frequency-set -g performance"
	fi
	local n
	for n in "${CHECK_NOTES[@]}"; do
		warn "$n"
	done
}

# ---------------------------------------------------------------- commands
EAL_MEM=(--in-memory)
EXTRA=()
if [ -n "$EAL_EXTRA" ]; then
	read -r -a EXTRA <<<"$EAL_EXTRA"
	[[ " $EAL_EXTRA " == *" --no-huge "* ]] && EAL_MEM=()
fi
# The first CPU is the main lcore (sluiced's control thread) even when it is
# not the lowest of the list.
EAL=(-l "$CORES" --main-lcore "${CPUS[0]}" "${EAL_MEM[@]}")
if [ -n "$PCI" ]; then
	EAL+=(-a "$PCI")
elif [ -z "$PORTS_AS_IS" ]; then
	EAL+=(-a "<PCI>")
fi
EAL+=("${EXTRA[@]}")

PORTS_FILE=$OUT/ports.json
[ -z "$PORTS_AS_IS" ] || PORTS_FILE=$PORTS_AS_IS
CONFIG_FILE=$OUT/config.json
[ -z "$CONFIG_IN" ] || CONFIG_FILE=$CONFIG_IN
STATS=$OUT/stats.json
SLUICED_CMD=("$SLUICED" "${EAL[@]}" -- --ports "$PORTS_FILE" --config "$CONFIG_FILE"
	--lcores-per-port "$WORKERS" --stats-interval 1 --stats-file "$STATS" --no-api)
[ -z "$FLOW_TABLE" ] || SLUICED_CMD+=(--flow-table-size "$FLOW_TABLE")
TESTPMD_CMD=(dpdk-testpmd "${EAL[@]}" -- "--forward-mode=$TESTPMD_MODE" --port-topology=loop
	"--nb-cores=$WORKERS" "--rxq=$WORKERS" "--txq=$WORKERS" "--rxd=${RXD:-4096}" "--txd=${TXD:-4096}"
	--burst=32 --stats-period=1)

check_host
log "plan"
if [ -n "$PCI" ] && [ "$NO_BIND" = 0 ] && [ "$CUR_DRV" != "$KMOD" ]; then
	echo "modprobe $KMOD; dpdk-devbind.py -b $KMOD $PCI"
fi
echo "port profile: ${PORTS_AS_IS:-$PROFILE_IN with device ${PCI:-<PCI>}, rxQueues removed (so --lcores-per-port decides)} -> $PORTS_FILE"
echo "configuration: ${CONFIG_IN:-generated, $MODE, $BACKENDS backends} -> $CONFIG_FILE"
[ "$TESTPMD" = 0 ] || printf 'testpmd:  %s\n' "${TESTPMD_CMD[*]}"
printf 'sluiced:  %s\n' "${SLUICED_CMD[*]}"
if [ "$RUN" = 0 ]; then
	if [ "$DRY" = 1 ]; then
		echo "(--dry-run: nothing changed, nothing run)"
	else
		echo "(no --pci: nothing changed, nothing run; give --pci ADDR to run)"
	fi
	exit 0
fi
[ -x "$SLUICED" ] || die "sluiced is not built: meson setup $BUILD_DIR && ninja -C $BUILD_DIR"
command -v python3 >/dev/null || die "python3 is needed (apt-get install -y python3)"
if [ "$TESTPMD" = 1 ]; then
	command -v dpdk-testpmd >/dev/null || die "--testpmd: dpdk-testpmd not found (apt-get install -y dpdk)"
fi
mkdir -p "$OUT/samples"

# ---------------------------------------------------------------- host set-up (--pci only)
ORIG_DRV=""
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		if kill -0 "$p" 2>/dev/null; then
			kill -TERM "$p" 2>/dev/null || true
			wait "$p" 2>/dev/null || true
		fi
	done
	if [ "$RESTORE" = 1 ] && [ -n "$ORIG_DRV" ]; then
		log "binding $PCI back to $ORIG_DRV"
		dpdk-devbind.py -b "$ORIG_DRV" "$PCI" || warn "could not bind $PCI back to $ORIG_DRV"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "$PCI" ]; then
	[ "$(id -u)" -eq 0 ] || die "binding the NIC and reserving hugepages need root"
	free_now=$(hugepages_free_mb "$NIC_NODE")
	want_mb=$NEED_MB
	if [ -n "$HUGE_SIZE" ]; then
		want_mb=${HUGE_SIZE%[MG]}
		[[ $HUGE_SIZE == *G ]] && want_mb=$((want_mb * 1024))
	fi
	if ((free_now < want_mb)); then
		node_args=()
		pages_dir=/sys/kernel/mm/hugepages/hugepages-2048kB
		if [ "$NIC_NODE" -ge 0 ] 2>/dev/null && [ -d "/sys/devices/system/node/node$NIC_NODE/hugepages" ]; then
			node_args=(-n "$NIC_NODE")
			pages_dir=/sys/devices/system/node/node$NIC_NODE/hugepages/hugepages-2048kB
		fi
		have=$(cat "$pages_dir/nr_hugepages")
		target=$((have + (want_mb - free_now + 1) / 2))
		log "hugepages: reserving $((target * 2)) MiB of 2 MiB pages${node_args[*]:+ on node $NIC_NODE}"
		if command -v dpdk-hugepages.py >/dev/null; then
			dpdk-hugepages.py -p 2M "${node_args[@]}" -r "$((target * 2))M" ||
				echo "$target" >"$pages_dir/nr_hugepages"
		else
			echo "$target" >"$pages_dir/nr_hugepages"
		fi
		free_now=$(hugepages_free_mb "$NIC_NODE")
		((free_now >= want_mb)) ||
			warn "hugepages: only $free_now MiB free after reserving (memory fragmented?): reserve at boot (hugepages=N on the kernel command line)"
	fi
	if [ -z "$HUGE_MNT" ]; then
		log "hugepages: mounting hugetlbfs"
		if command -v dpdk-hugepages.py >/dev/null; then
			dpdk-hugepages.py -m || warn "could not mount hugetlbfs"
		else
			if ! { mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages; }; then
				warn "could not mount hugetlbfs"
			fi
		fi
	fi
	if [ "$NO_BIND" = 0 ] && [ "$CUR_DRV" != "$KMOD" ]; then
		command -v dpdk-devbind.py >/dev/null || die "dpdk-devbind.py not found (apt-get install -y dpdk)"
		modprobe "$KMOD" || die "modprobe $KMOD failed"
		log "binding $PCI to $KMOD (was ${CUR_DRV:-unbound})"
		dpdk-devbind.py -b "$KMOD" "$PCI" || die "dpdk-devbind.py could not bind $PCI (an interface that is up with routes is refused: take it down first)"
		ORIG_DRV=$CUR_DRV
	fi
fi

# ---------------------------------------------------------------- profile and configuration
if [ -z "$PORTS_AS_IS" ]; then
	python3 - "$PROFILE_IN" "$PORTS_FILE" "$PCI" "$NEXT_HOP_MAC" "$PORT_IP" "$MTU" "$RXD" "$TXD" "$DRIVER" <<'PY'
import json, sys
src, dst, pci, mac, ip, mtu, rxd, txd, driver = sys.argv[1:]
prof = json.load(open(src))
port = prof["ports"][0]
port["device"] = pci
# The profile's rxQueues would win over --lcores-per-port: drop it so the
# flag decides the queue count (one queue pair per worker lcore).
port.pop("rxQueues", None)
# The RSS key must have the NIC's key length: mlx5 refuses any other than 40
# bytes, ixgbe reads 40 whatever it is given, i40e and ice take 52. The
# symmetric key (0x6d5a repeated) is written at that length.
key_len = {"mlx5": 40, "ixgbe": 40, "i40e": 52, "ice": 52}.get(driver)
rss = port.get("rss")
if key_len and rss and "key" in rss:
    k = rss["key"].lower()
    if k and k == ("6d5a" * len(k))[:len(k)]:
        if len(k) != 2 * key_len:
            print("port profile: symmetric RSS key written at %d bytes for %s (the profile has %d)"
                  % (key_len, driver, len(k) // 2))
        rss["key"] = ("6d5a" * key_len)[:2 * key_len]
    elif len(k) != 2 * key_len:
        print("port profile: warning: RSS key of %d bytes; %s expects %d" % (len(k) // 2, driver, key_len))
if ip:
    port["ipv4Address"] = ip
if mtu:
    port["mtu"] = int(mtu)
if rxd:
    port["rxDescriptors"] = int(rxd)
if txd:
    port["txDescriptors"] = int(txd)
if mac:
    gws = [a for a in (port.get("gateway") or {}).values()]
    nbs = port.setdefault("neighbours", [])
    for gw in gws:
        hits = [n for n in nbs if n.get("ipAddress") == gw]
        for n in hits:
            n["macAddress"] = mac
        if not hits:
            nbs.append({"ipAddress": gw, "macAddress": mac})
prof["description"] = ("generated by scripts/bench-baremetal.sh from %s for %s: rxQueues removed "
                       "(--lcores-per-port sets the queue pairs)" % (src, pci))
prof["ports"] = [port]
json.dump(prof, open(dst, "w"), indent=2)
PY
fi
if [ -z "$CONFIG_IN" ]; then
	python3 - "$CONFIG_FILE" "$MODE" "$BACKENDS" <<'PY'
import json, sys
out, mode, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
VNET = "/subscriptions/bench/resourceGroups/bench/providers/Microsoft.Network/virtualNetworks/bench-vnet"
LB = "/subscriptions/bench/resourceGroups/bench/providers/Microsoft.Network/loadBalancers/bench-lb"
delivery = {"mode": "L2" if mode == "DNAT" else mode}
if mode == "VXLAN":
    delivery["vni"] = 4242
addrs = [{"name": "be%d" % i, "properties": {"ipAddress": "10.1.%d.%d" % (i // 250, i % 250 + 1),
                                             "virtualNetwork": {"id": VNET}}} for i in range(n)]
def rule(name, proto):
    return {"name": name, "properties": {
        "frontendIPConfiguration": {"id": LB + "/frontendIPConfigurations/fe"},
        "backendAddressPool": {"id": LB + "/backendAddressPools/pool"},
        "protocol": proto, "frontendPort": 80, "backendPort": 8080 if mode == "DNAT" else 80,
        "enableFloatingIP": mode != "DNAT"}}
cfg = {
    "virtualNetworks": [{"name": "bench-vnet", "id": VNET, "properties": {
        "addressSpace": {"addressPrefixes": ["10.0.0.0/8"]}, "floatingIpDelivery": delivery}}],
    "loadBalancers": [{"name": "bench-lb", "id": LB, "sku": {"name": "Standard"}, "properties": {
        "frontendIPConfigurations": [{"name": "fe", "properties": {"privateIPAddress": "10.0.0.10"}}],
        "backendAddressPools": [{"name": "pool", "properties": {"loadBalancerBackendAddresses": addrs}}],
        "loadBalancingRules": [rule("web-tcp", "Tcp"), rule("web-udp", "Udp")]}}],
}
json.dump(cfg, open(out, "w"), indent=2)
PY
fi

# ---------------------------------------------------------------- runs
# Wait until the process has seen traffic for warm-up + window seconds.
# $1: pid, $2: function printing the elapsed seconds since the first packet
# (empty before it), $3: what.
wait_for_window() {
	local pid=$1 probe=$2 what=$3 t0 since
	t0=$(date +%s)
	local announced=0
	while kill -0 "$pid" 2>/dev/null; do
		since=$($probe)
		if [ -z "$since" ]; then
			if (($(date +%s) - t0 > WAIT_S)); then
				warn "$what: no packets within $WAIT_S s: is pktgen sending to the MAC above, on the cabled port?"
				return 1
			fi
		else
			if [ "$announced" = 0 ]; then
				log "$what: traffic; ${WARMUP_S} s warm-up, then ${MEASURE_S} s measured"
				announced=1
			fi
			if awk -v s="$since" -v w="$((WARMUP_S + MEASURE_S + 1))" 'BEGIN { exit !(s >= w) }'; then
				return 0
			fi
		fi
		sleep 0.2
	done
	warn "$what exited early"
	return 1
}

stop_pid() { # pid: TERM (sluiced and testpmd stop cleanly on it), then KILL after 30 s
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# testpmd: seconds of Rx-pps lines since the first non-zero one.
TESTPMD_LOG=$OUT/testpmd.log
testpmd_since() {
	grep -o 'Rx-pps: *[0-9]*' "$TESTPMD_LOG" 2>/dev/null | awk '{ if (s) n++; else if ($2 > 0) s = 1 } END { if (s) print n + 0 }'
}
if [ "$TESTPMD" = 1 ]; then
	log "dpdk-testpmd --forward-mode=$TESTPMD_MODE on the same port and cores (start pktgen now if it is not running)"
	"${TESTPMD_CMD[@]}" </dev/null >"$TESTPMD_LOG" 2>&1 &
	TP_PID=$!
	PIDS+=("$TP_PID")
	wait_for_window "$TP_PID" testpmd_since testpmd || { tail -20 "$TESTPMD_LOG" >&2; die "testpmd run failed (log: $TESTPMD_LOG)"; }
	stop_pid "$TP_PID"
fi

SAMPLE_N=0
LAST_E=""
T_FIRST=""
sluiced_since() { # copy each new statistics snapshot; print seconds since the first packet
	local tmp=$OUT/.stats.copy e rx
	[ -s "$STATS" ] || return 0
	cp "$STATS" "$tmp" 2>/dev/null || return 0
	e=$(grep -m1 -o '"elapsedSeconds": [0-9.]*' "$tmp" | awk '{print $2}')
	[ -n "$e" ] || return 0
	if [ "$e" != "$LAST_E" ]; then
		LAST_E=$e
		SAMPLE_N=$((SAMPLE_N + 1))
		cp "$tmp" "$OUT/samples/$(printf %06d "$SAMPLE_N").json"
		rx=$(grep -m1 -o '"rx": [0-9]*' "$tmp" | awk '{print $2}')
		if [ -z "$T_FIRST" ] && [ "${rx:-0}" -gt 0 ]; then
			T_FIRST=$e
		fi
	fi
	[ -z "$T_FIRST" ] || awk -v a="$LAST_E" -v b="$T_FIRST" 'BEGIN { printf "%.3f\n", a - b }'
}

log "sluiced: $WORKERS worker lcore(s) on CPUs ${WORKER_CPUS[*]}, log $OUT/sluiced.log"
rm -f "$STATS"
"${SLUICED_CMD[@]}" </dev/null >"$OUT/sluiced.log" 2>&1 &
SL_PID=$!
PIDS+=("$SL_PID")
for ((i = 0; i < 600; i++)); do
	[ -s "$STATS" ] && break
	kill -0 "$SL_PID" 2>/dev/null || { tail -30 "$OUT/sluiced.log" >&2; die "sluiced exited during start-up (log: $OUT/sluiced.log)"; }
	sleep 0.2
done
[ -s "$STATS" ] || die "sluiced wrote no statistics within 120 s (log: $OUT/sluiced.log)"
grep -E 'up, .*MAC' "$OUT/sluiced.log" || true
PORT_MAC=$(grep -m1 -o 'MAC [0-9a-fA-F:]\{17\}' "$OUT/sluiced.log" | awk '{print $2}' || true)
log "sluice port MAC: ${PORT_MAC:-see $OUT/sluiced.log}; waiting for traffic (on the pktgen host: scripts/pktgen/run-pktgen.sh --dst-mac ${PORT_MAC:-MAC} ...)"
# Do the sampling in this shell (the probe keeps state), not in a subshell.
t0=$(date +%s)
announced=0
while true; do
	kill -0 "$SL_PID" 2>/dev/null || { tail -30 "$OUT/sluiced.log" >&2; die "sluiced exited (log: $OUT/sluiced.log)"; }
	sluiced_since >"$OUT/.since"
	since=$(cat "$OUT/.since")
	if [ -z "$since" ]; then
		(($(date +%s) - t0 <= WAIT_S)) || die "no packets within $WAIT_S s: is pktgen sending to ${PORT_MAC:-the port MAC}, on the cabled port?"
	else
		if [ "$announced" = 0 ]; then
			log "traffic; ${WARMUP_S} s warm-up, then ${MEASURE_S} s measured"
			announced=1
		fi
		awk -v s="$since" -v w="$((WARMUP_S + MEASURE_S + 1))" 'BEGIN { exit !(s >= w) }' && break
	fi
	sleep 0.2
done
log "stopping sluiced"
stop_pid "$SL_PID"
rm -f "$OUT/.stats.copy" "$OUT/.since"

# ---------------------------------------------------------------- report
python3 - "$OUT" "$WARMUP_S" "$MEASURE_S" "$WORKERS" "$TESTPMD" "$TESTPMD_MODE" "${PCI:-$PORTS_FILE}" "$MODE${CONFIG_IN:+ ($CONFIG_IN)}" <<'PY' | tee "$OUT/report.txt"
import glob, json, os, re, statistics, sys

out, warm, meas, workers, tp, tp_mode, where, mode = sys.argv[1:]
warm, meas = float(warm), float(meas)
samples = []
for f in sorted(glob.glob(os.path.join(out, "samples", "*.json"))):
    try:
        samples.append(json.load(open(f)))
    except ValueError:
        pass
first = next((i for i, s in enumerate(samples) if s["rx"] > 0), None)
if first is None:
    sys.exit("no sample with traffic")
t0 = samples[first]["elapsedSeconds"]
win = [s for s in samples if t0 + warm - 0.05 <= s["elapsedSeconds"] <= t0 + warm + meas + 0.05]
if len(win) < 2:
    sys.exit("fewer than two samples in the window (%d)" % len(win))

def med(v):
    return statistics.median(v) if v else 0.0

lc_ids = [l["lcore"] for l in win[0]["lcores"]]
series = {i: {"rx": [], "tx": [], "drop": []} for i in lc_ids}
tot = {"rx": [], "tx": [], "drop": []}
ts = []
for a, b in zip(win, win[1:]):
    dt = b["elapsedSeconds"] - a["elapsedSeconds"]
    if dt <= 0:
        continue
    la = {l["lcore"]: l for l in a["lcores"]}
    sums = {"rx": 0.0, "tx": 0.0, "drop": 0.0}
    for l in b["lcores"]:
        p = la.get(l["lcore"])
        if p is None:
            continue
        r = {"rx": (l["rx"] - p["rx"]) / dt / 1e6, "tx": (l["tx"] - p["tx"]) / dt / 1e6,
             "drop": (l["dropped"] - p["dropped"]) / dt / 1e6}
        for k in r:
            series[l["lcore"]][k].append(r[k])
            sums[k] += r[k]
        ts.append((b["elapsedSeconds"] - t0, l["lcore"], r["rx"], r["tx"], r["drop"]))
    for k in sums:
        tot[k].append(sums[k])

a, b = win[0], win[-1]
span = b["elapsedSeconds"] - a["elapsedSeconds"]
rx_total = b["rx"] - a["rx"]
lines = []
P = lines.append
P("sluice bare-metal run: %s, %s worker lcore(s), %s; %.0f s window after %.0f s warm-up (%d samples)"
  % (where, workers, mode, span, warm, len(win)))
P("")
P("%-8s %12s %12s %12s %8s %17s" % ("lcore", "rx Mpps", "tx Mpps", "drop Mpps", "rx share", "rx min-max"))
la0 = {l["lcore"]: l for l in a["lcores"]}
lb = {l["lcore"]: l for l in b["lcores"]}
for i in lc_ids:
    s = series[i]
    share = lb[i]["rx"] - la0[i]["rx"]
    P("%-8s %12.3f %12.3f %12.3f %7.1f%% %8.3f-%-8.3f" % (
        i, med(s["rx"]), med(s["tx"]), med(s["drop"]), 100.0 * share / rx_total if rx_total else 0.0,
        min(s["rx"] or [0]), max(s["rx"] or [0])))
P("%-8s %12.3f %12.3f %12.3f" % ("total", med(tot["rx"]), med(tot["tx"]), med(tot["drop"])))
P("%-8s %12.3f %12.3f" % ("/worker", med(tot["rx"]) / len(lc_ids), med(tot["tx"]) / len(lc_ids)))
P("(medians of the per-second rates; total: median of the per-second sums)")
P("")
drops = {k: b["drops"][k] - a["drops"].get(k, 0) for k in b["drops"]}
nz = sorted(((v, k) for k, v in drops.items() if v), reverse=True)
if nz:
    P("drops over the window:")
    for v, k in nz:
        P("  %-24s %14d  %9.3f Mpps  %6.2f%% of rx" % (k, v, v / span / 1e6, 100.0 * v / rx_total if rx_total else 0))
else:
    P("drops over the window: none")
fa, fb = a["flows"], b["flows"]
P("flows: %d live at the end; over the window: %d misses (new), %d hits, %d tableFull (left stateless), %d expired"
  % (fb["live"], fb["misses"] - fa["misses"], fb["hits"] - fa["hits"], fb["tableFull"] - fa["tableFull"],
     fb["expired"] - fa["expired"]))
if fb["tableFull"] - fa["tableFull"] > 0:
    P("  flows.tableFull grew: the flow tables are full; raise --flow-table-size or send fewer flows")
summary = {"workers": int(workers), "window_s": span, "rx_mpps": med(tot["rx"]), "tx_mpps": med(tot["tx"]),
           "drop_mpps": med(tot["drop"]),
           "lcores": {str(i): {"rx_mpps": med(series[i]["rx"]), "tx_mpps": med(series[i]["tx"])} for i in lc_ids},
           "drops": drops, "flows_live": fb["live"], "flows_table_full": fb["tableFull"] - fa["tableFull"]}

if tp == "1":
    text = open(os.path.join(out, "testpmd.log"), errors="replace").read()
    rx = [int(x) for x in re.findall(r"Rx-pps:\s+(\d+)", text)]
    tx = [int(x) for x in re.findall(r"Tx-pps:\s+(\d+)", text)]
    start = next((i for i, v in enumerate(rx) if v > 0), None)
    if start is not None:
        sel = slice(start + int(warm) + 1, start + int(warm) + 1 + int(meas))
        trx, ttx = med(rx[sel]) / 1e6, med(tx[sel]) / 1e6
        P("")
        P("dpdk-testpmd %s, same port, cores and queues: rx %.3f Mpps, tx %.3f Mpps" % (tp_mode, trx, ttx))
        if ttx > 0:
            P("sluiced / testpmd %s (forwarded, tx): %.3f" % (tp_mode, med(tot["tx"]) / ttx))
        summary.update({"testpmd_mode": tp_mode, "testpmd_rx_mpps": trx, "testpmd_tx_mpps": ttx,
                        "ratio_tx": med(tot["tx"]) / ttx if ttx else None})
    else:
        P("")
        P("dpdk-testpmd: no traffic seen in %s" % os.path.join(out, "testpmd.log"))

print("\n".join(lines))
with open(os.path.join(out, "lcores.csv"), "w") as f:
    f.write("lcore,rx_mpps,tx_mpps,drop_mpps\n")
    for i in lc_ids:
        f.write("%s,%.4f,%.4f,%.4f\n" % (i, med(series[i]["rx"]), med(series[i]["tx"]), med(series[i]["drop"])))
with open(os.path.join(out, "timeseries.csv"), "w") as f:
    f.write("t_since_first_packet_s,lcore,rx_mpps,tx_mpps,drop_mpps\n")
    for t in ts:
        f.write("%.3f,%s,%.4f,%.4f,%.4f\n" % t)
json.dump(summary, open(os.path.join(out, "summary.json"), "w"), indent=2)
PY
log "files in $OUT: report.txt, lcores.csv, timeseries.csv, summary.json, sluiced.log, samples/"
