#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# bench.sh: the benchmark suite, one command (docs/benchmarks.md).
#   scripts/bench.sh [--out DIR] [--runs N] [--seconds S]
# Writes CSVs and plots to DIR (default docs/benchmarks):
#   maglev_*.csv, flow_memory.csv   Maglev build time, balance, disruption; flow-table memory
#   throughput-10k.csv              every delivery mode, flow tracking on and off, 10K flows,
#                                   beside testpmd 5tswap and io (same trace, same run)
#   throughput-1m.csv               IP-in-IP and DNAT with 1M active flows
#   update-latency.csv              REST pool update to first packet, 100 updates of 1,000 addresses
#   xdp-cost.csv                    AF_XDP ports: the XDP steering program's ns a packet, per
#                                   frame kind (BPF_PROG_TEST_RUN; 600 frontends, 18,000 endpoints)
#   veth-afxdp.csv                  AF_XDP ports: sluiced on net_af_packet beside net_af_xdp on
#                                   a veth pair, Mpps per worker, testpmd generating (same run)
#   *.png                           plots (python3-matplotlib)
# Needs root for hugepages (SL_HUGEPAGES, default 3072 here: the 1M-flow trace is held in mbufs),
# and for the AF_XDP figures (BPF, network namespaces).
source "$(dirname "$0")/common.sh"
cd "$SL_ROOT"

out=docs/benchmarks
runs=3
seconds=5
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	-h | --help) sed -n '3,17p' "$0"; exit 0 ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
done
mkdir -p "$out"

sl_install_deps
dpkg-query -W -f='${Status}' python3-matplotlib 2>/dev/null | grep -q 'install ok installed' ||
	{ [ "$(id -u)" -eq 0 ] && apt-get install -y -qq python3-matplotlib >/dev/null; } || true
SL_HUGEPAGES=${SL_HUGEPAGES:-3072} sl_hugepages
sl_build build
export SLUICE_BUILD=build

sl_log "control plane: Maglev and flow-table memory"
build/tests/bench/bench_control --csv "$out"
sl_log "throughput: 10K flows, every mode, flow tracking on and off"
"$SL_PY" tests/bench/bench.py --runs "$runs" --seconds "$seconds" --flows 10000 \
	--no-flow-tracking-too --csv "$out/throughput-10k.csv"
sl_log "throughput: 1M active flows"
"$SL_PY" tests/bench/bench.py --runs "$runs" --seconds "$seconds" --flows 1000000 \
	--modes IPinIP,DNAT --no-flow-tracking-too --csv "$out/throughput-1m.csv"
sl_log "REST update to dataplane latency"
"$SL_PY" tests/bench/update_latency.py --updates 100 --addresses 1000 --csv "$out/update-latency.csv"
sl_log "control plane: a one-pool change at 10 to 18,000 addresses, and on four load balancers"
"$SL_PY" tests/bench/ctl_scale.py --addresses 10,100,1000,6000,18000 --changes 200 \
	--csv "$out/ctl-scale.csv"
"$SL_PY" tests/bench/ctl_scale.py --addresses 18000 --lbs 4 --changes 200 \
	--csv "$out/ctl-scale-4lb.csv"
sl_log "AF_XDP ports: the XDP program's cost a packet"
build/tests/bench/xdp_cost --csv "$out"
sl_log "AF_XDP ports: net_af_packet beside net_af_xdp on a veth pair"
"$SL_PY" tests/bench/veth_bench.py --runs "$runs" --seconds "$seconds" --csv "$out/veth-afxdp.csv"
sl_log "plots"
"$SL_PY" tests/bench/plot.py "$out" "$out" || echo "(no plots: python3-matplotlib missing)"
