#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# run-pktgen.sh: drive pktgen-dpdk on the traffic-generator host of sluice's
# bare-metal benchmark (scripts/pktgen/README.md, docs/benchmarks.md).
# Checks the host (pktgen binary, the ports' drivers, hugepages), sets the
# SLUICE_PG_* variables the Lua scripts read, and starts pktgen with
# sluice-64b.lua, sluice-imix.lua, or the filled-in sluice-flows.pkt. It binds
# nothing and reserves nothing: it says what is missing. Run --help.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
	cat <<'EOF'
usage: run-pktgen.sh --pci ADDR[,ADDR] --dst-mac MAC [options]

Starts pktgen-dpdk (https://github.com/pktgen/Pktgen-DPDK, built with Lua; see
scripts/pktgen/README.md) on this host's ports to load a sluice host:

  --profile 64b    64-byte frames (60 + FCS), TCP ACKs or UDP, to 10.0.0.10:80 from
                   198.18.0.0..198.19.255.255, ports 1024..65535 (sluice-64b.lua);
                   warm-up, then a measured window read every second; pktgen quits
                   and this script prints the result file. [default]
  --profile imix   64/576/1500-byte frames at 7:4:1 by packet count (sluice-imix.lua)
  --profile cmd    fill in sluice-flows.pkt and leave you at pktgen's prompt
                   (type "start 0", "stop 0", "quit")

Required:
  --pci ADDR[,ADDR]    PCI address(es) pktgen may use (EAL -a), bound to vfio-pci
                       (or an mlx5 port, which stays on mlx5_core)
  --dst-mac MAC        sluice's port MAC: sluiced logs it when the port comes up
                       ("... up, N queue pair(s), ... MAC xx:xx:xx:xx:xx:xx");
                       scripts/bench-baremetal.sh prints it

Traffic (defaults are the software benchmark's):
  --proto tcp|udp      [tcp]
  --size BYTES         frame size with FCS, 64..1518, for 64b and cmd [64]
  --imix LIST          size:weight list for imix [64:7,576:4,1500:1]
  --rate PCT           percent of line rate (a whole number for cmd) [100]
  --seconds S          measured window [30]
  --warmup S           traffic before the window [5]
  --refresh S          64b: restart the transmitter every S seconds of the window so
                       pktgen builds new flows (0: never) [0]
  --cycle-ms MS        imix: length of one 7:4:1 round [200]
  --src-ip-min A       [198.18.0.0]       --src-ip-max A   [198.19.255.255]
  --sport-min P        [1024]             --sport-max P    [65535; imix: the minimum]
  --dst-ip A           sluice frontend [10.0.0.10]
  --dport P            frontend port [80]

Ports and cores:
  --tx-port N          pktgen port that sends [0]
  --rx-port N          port sluice's packets come back on [the TX port: sluice is
                       one-armed, it transmits on the port it received on]
  --lcores LIST        EAL lcores [0-2]: lcore 0 runs pktgen's display and Lua
  --map MAP            pktgen -m mapping, repeatable ["[1:2].0": RX on lcore 1, TX
                       on lcore 2, port 0]; more TX lcores ("[1:2-5].0" with
                       --lcores 0-5) give more rate and more flows per run
  --pktgen PATH        pktgen binary [$PKTGEN, else pktgen or dpdk-pktgen in PATH]
  --eal "ARGS"         extra EAL options (e.g. "--socket-mem 4096")
  --pktgen-args "ARGS" extra pktgen options after "--" [-P: promiscuous, so frames
                       addressed to a router MAC are counted too]
  --file-prefix NAME   EAL --file-prefix [sluice-pktgen]

Output:
  --out FILE           result file [./sluice-pktgen-PROFILE-DATE.txt]
  --render-cmd FILE    write the filled-in command file to FILE and exit
  --print              print the variables and the pktgen command; run nothing
  -h, --help           this text

Run sluice first (scripts/bench-baremetal.sh on the sluice host), then this.
The result file has key=value lines (tx_mpps, rx_mpps: what came back from
sluice, forwarded_ratio, the return port's imissed: if pktgen itself could not
receive, rx undercounts) and a per-second (imix: per-round) CSV.
EOF
}

die() {
	echo "run-pktgen.sh: $*" >&2
	exit 2
}
note() { printf '== %s\n' "$*"; }

is_mac() { [[ $1 =~ ^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$ ]]; }
is_ipv4() {
	local IFS=. o
	local -a parts
	[[ $1 =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || return 1
	read -r -a parts <<<"$1"
	for o in "${parts[@]}"; do
		((10#$o <= 255)) || return 1
	done
}
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
is_num() { [[ $1 =~ ^[0-9]+([.][0-9]+)?$ ]]; }

PROFILE=64b
PCI=""
DST_MAC=""
PROTO=tcp
SIZE=64
IMIX="64:7,576:4,1500:1"
RATE=100
MEASURE_S=30
WARMUP_S=5
REFRESH_S=0
CYCLE_MS=200
SRC_IP_MIN=198.18.0.0
SRC_IP_MAX=198.19.255.255
SPORT_MIN=1024
SPORT_MAX=""
DST_IP=10.0.0.10
DPORT=80
TX_PORT=0
RX_PORT=""
LCORES=0-2
MAPS=()
PKTGEN_BIN=${PKTGEN:-}
EAL_EXTRA=""
PKTGEN_EXTRA="-P"
FILE_PREFIX=sluice-pktgen
OUT=""
RENDER=""
PRINT_ONLY=0

need_arg() { [ $# -ge 2 ] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help)
		usage
		exit 0
		;;
	--profile) need_arg "$@"; PROFILE=$2; shift ;;
	--pci) need_arg "$@"; PCI=$2; shift ;;
	--dst-mac) need_arg "$@"; DST_MAC=$2; shift ;;
	--proto) need_arg "$@"; PROTO=$2; shift ;;
	--size) need_arg "$@"; SIZE=$2; shift ;;
	--imix) need_arg "$@"; IMIX=$2; shift ;;
	--rate) need_arg "$@"; RATE=$2; shift ;;
	--seconds) need_arg "$@"; MEASURE_S=$2; shift ;;
	--warmup) need_arg "$@"; WARMUP_S=$2; shift ;;
	--refresh) need_arg "$@"; REFRESH_S=$2; shift ;;
	--cycle-ms) need_arg "$@"; CYCLE_MS=$2; shift ;;
	--src-ip-min) need_arg "$@"; SRC_IP_MIN=$2; shift ;;
	--src-ip-max) need_arg "$@"; SRC_IP_MAX=$2; shift ;;
	--sport-min) need_arg "$@"; SPORT_MIN=$2; shift ;;
	--sport-max) need_arg "$@"; SPORT_MAX=$2; shift ;;
	--dst-ip) need_arg "$@"; DST_IP=$2; shift ;;
	--dport) need_arg "$@"; DPORT=$2; shift ;;
	--tx-port) need_arg "$@"; TX_PORT=$2; shift ;;
	--rx-port) need_arg "$@"; RX_PORT=$2; shift ;;
	--lcores) need_arg "$@"; LCORES=$2; shift ;;
	--map) need_arg "$@"; MAPS+=("$2"); shift ;;
	--pktgen) need_arg "$@"; PKTGEN_BIN=$2; shift ;;
	--eal) need_arg "$@"; EAL_EXTRA=$2; shift ;;
	--pktgen-args) need_arg "$@"; PKTGEN_EXTRA=$2; shift ;;
	--file-prefix) need_arg "$@"; FILE_PREFIX=$2; shift ;;
	--out) need_arg "$@"; OUT=$2; shift ;;
	--render-cmd) need_arg "$@"; RENDER=$2; shift ;;
	--print) PRINT_ONLY=1 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
	shift
done

case $PROFILE in
64b) SCRIPT=$HERE/sluice-64b.lua ;;
imix) SCRIPT=$HERE/sluice-imix.lua ;;
cmd) SCRIPT=$HERE/sluice-flows.pkt ;;
*) die "--profile: 64b, imix or cmd, not '$PROFILE'" ;;
esac
if [ -z "$SPORT_MAX" ]; then
	if [ "$PROFILE" = imix ]; then SPORT_MAX=$SPORT_MIN; else SPORT_MAX=65535; fi
fi
[ -n "$RX_PORT" ] || RX_PORT=$TX_PORT
[ ${#MAPS[@]} -gt 0 ] || MAPS=("[1:2].$TX_PORT")

# Validate everything before anything runs.
is_mac "$DST_MAC" || die "--dst-mac: sluice's port MAC (xx:xx:xx:xx:xx:xx) is required (got '$DST_MAC')"
[ "$PROTO" = tcp ] || [ "$PROTO" = udp ] || die "--proto: tcp or udp"
if ! is_uint "$SIZE" || ((SIZE < 64 || SIZE > 1518)); then die "--size: 64..1518"; fi
[[ $IMIX =~ ^[0-9]+:[0-9]+(,[0-9]+:[0-9]+)*$ ]] || die "--imix: size:weight[,size:weight...]"
is_num "$RATE" || die "--rate: a percentage"
[ "$PROFILE" != cmd ] || is_uint "$RATE" || die "--rate: a whole percentage with --profile cmd"
for v in MEASURE_S WARMUP_S REFRESH_S CYCLE_MS SPORT_MIN SPORT_MAX DPORT TX_PORT RX_PORT; do
	is_uint "${!v}" || die "$v: expected a whole number, got '${!v}'"
done
((MEASURE_S >= 1)) || die "--seconds: at least 1"
((SPORT_MIN <= SPORT_MAX && SPORT_MAX <= 65535)) || die "--sport-min/--sport-max: 0..65535, min <= max"
((DPORT <= 65535)) || die "--dport: 0..65535"
for v in SRC_IP_MIN SRC_IP_MAX DST_IP; do
	is_ipv4 "${!v}" || die "$v: expected an IPv4 address, got '${!v}'"
done
[ -n "$OUT" ] || OUT=$PWD/sluice-pktgen-$PROFILE-$(date +%Y%m%d-%H%M%S).txt
case $OUT in /*) ;; *) OUT=$PWD/$OUT ;; esac

render_cmd() {
	sed -e "s/@PORT@/$TX_PORT/g" -e "s/@PROTO@/$PROTO/g" -e "s/@DST_MAC@/$DST_MAC/g" \
		-e "s/@SRC_IP_MIN@/$SRC_IP_MIN/g" -e "s/@SRC_IP_MAX@/$SRC_IP_MAX/g" \
		-e "s/@DST_IP@/$DST_IP/g" -e "s/@SPORT_MIN@/$SPORT_MIN/g" -e "s/@SPORT_MAX@/$SPORT_MAX/g" \
		-e "s/@DPORT@/$DPORT/g" -e "s/@SIZE@/$SIZE/g" -e "s/@RATE@/$RATE/g" "$HERE/sluice-flows.pkt" >"$1"
	if grep -v '^#' "$1" | grep -q '@[A-Z_]*@'; then
		die "internal: unfilled fields left in $1"
	fi
}

if [ -n "$RENDER" ]; then
	render_cmd "$RENDER"
	note "wrote $RENDER (load it with: pktgen ... -- -P -m \"${MAPS[0]}\" -f $RENDER)"
	exit 0
fi

export SLUICE_PG_DST_MAC=$DST_MAC SLUICE_PG_TX_PORT=$TX_PORT SLUICE_PG_RX_PORT=$RX_PORT
export SLUICE_PG_PROTO=$PROTO SLUICE_PG_SIZE=$SIZE SLUICE_PG_IMIX=$IMIX SLUICE_PG_RATE=$RATE
export SLUICE_PG_SECONDS=$MEASURE_S SLUICE_PG_WARMUP=$WARMUP_S SLUICE_PG_REFRESH_S=$REFRESH_S
export SLUICE_PG_CYCLE_MS=$CYCLE_MS SLUICE_PG_SRC_IP_MIN=$SRC_IP_MIN SLUICE_PG_SRC_IP_MAX=$SRC_IP_MAX
export SLUICE_PG_SPORT_MIN=$SPORT_MIN SLUICE_PG_SPORT_MAX=$SPORT_MAX SLUICE_PG_DST_IP=$DST_IP
export SLUICE_PG_DPORT=$DPORT SLUICE_PG_OUT=$OUT SLUICE_PG_QUIT=1

# --- checks (read only) ----------------------------------------------------
if [ -z "$PKTGEN_BIN" ]; then
	PKTGEN_BIN=$(command -v pktgen || command -v dpdk-pktgen || true)
fi

check_host() {
	local ok=1 pci drv total free size_kb
	if [ -z "$PKTGEN_BIN" ] || [ ! -x "$PKTGEN_BIN" ]; then
		echo "pktgen: not found${PKTGEN_BIN:+ at $PKTGEN_BIN}: build it (scripts/pktgen/README.md) and pass --pktgen PATH or set PKTGEN"
		ok=0
	else
		echo "pktgen: $PKTGEN_BIN"
	fi
	if [ -z "$PCI" ]; then
		echo "ports: --pci is required (pktgen would otherwise take every DPDK port of the host)"
		ok=0
	fi
	local IFS=,
	for pci in $PCI; do
		if [ ! -e "/sys/bus/pci/devices/$pci" ]; then
			echo "port $pci: no such PCI device (lspci -D | grep -i ether)"
			ok=0
			continue
		fi
		drv=$(basename "$(readlink -f "/sys/bus/pci/devices/$pci/driver" 2>/dev/null)" 2>/dev/null || true)
		case $drv in
		vfio-pci | igb_uio | uio_pci_generic) echo "port $pci: bound to $drv" ;;
		mlx5_core) echo "port $pci: mlx5 (bifurcated, stays on mlx5_core)" ;;
		"") echo "port $pci: no driver bound: dpdk-devbind.py -b vfio-pci $pci (modprobe vfio-pci first)"; ok=0 ;;
		*) echo "port $pci: on kernel driver $drv: dpdk-devbind.py -b vfio-pci $pci (modprobe vfio-pci first)"; ok=0 ;;
		esac
	done
	total=$(awk '/^HugePages_Total:/ {print $2}' /proc/meminfo)
	free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
	size_kb=$(awk '/^Hugepagesize:/ {print $2}' /proc/meminfo)
	if [ -z "$free" ] || ((free * size_kb < 1048576)); then
		echo "hugepages: ${free:-0} of ${total:-0} free (${size_kb:-2048} kB each): reserve some, e.g. dpdk-hugepages.py -p 1G --setup 4G, or dpdk-hugepages.py -p 2M -r 4G -m"
		ok=0
	else
		echo "hugepages: $free of $total free ($size_kb kB each)"
	fi
	[ "$ok" = 1 ]
}

CMD=("${PKTGEN_BIN:-pktgen}" -l "$LCORES" -n 4 --file-prefix "$FILE_PREFIX")
IFS=, read -r -a PCI_LIST <<<"$PCI"
for pci in "${PCI_LIST[@]}"; do
	CMD+=(-a "$pci")
done
if [ -n "$EAL_EXTRA" ]; then
	read -r -a extra <<<"$EAL_EXTRA"
	CMD+=("${extra[@]}")
fi
CMD+=(--)
if [ -n "$PKTGEN_EXTRA" ]; then
	read -r -a extra <<<"$PKTGEN_EXTRA"
	CMD+=("${extra[@]}")
fi
for m in "${MAPS[@]}"; do
	CMD+=(-m "$m")
done

note "profile $PROFILE: $PROTO to $DST_IP:$DPORT, dst MAC $DST_MAC, clients $SRC_IP_MIN..$SRC_IP_MAX ports $SPORT_MIN..$SPORT_MAX, rate $RATE%"
if [ "$PRINT_ONLY" = 1 ]; then
	env | grep '^SLUICE_PG_' | sort
	printf '%q ' "${CMD[@]}" -f
	if [ "$PROFILE" = cmd ]; then echo "<filled-in copy of $SCRIPT>"; else echo "$SCRIPT"; fi
	check_host || true
	exit 0
fi

note "checks"
if ! check_host; then
	die "fix the above first (nothing was started)"
fi

if [ "$PROFILE" = cmd ]; then
	RENDERED=$(mktemp --tmpdir sluice-flows.XXXXXX.pkt)
	render_cmd "$RENDERED"
	CMD+=(-f "$RENDERED")
else
	CMD+=(-f "$SCRIPT")
fi

note "starting pktgen (lcore 0: display and script; ${MAPS[*]})"
rc=0
"${CMD[@]}" || rc=$?
stty sane 2>/dev/null || true
if [ "$PROFILE" = cmd ]; then
	rm -f "$RENDERED"
	exit "$rc"
fi
if [ -s "$OUT" ]; then
	note "result: $OUT"
	grep -v '^[0-9]' "$OUT"
else
	echo "run-pktgen.sh: pktgen exited ($rc) without writing $OUT (see its output above)" >&2
	exit 1
fi
