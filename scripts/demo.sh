#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# demo.sh: sluice's main job on an embedded default, no NIC needed.
# Installs what is missing, builds, generates a trace of client flows to the
# frontends of examples/config.json, runs sluiced on a net_pcap port (file in,
# file out), and shows what happened: packets in and out, drops by reason,
# the spread of flows over each pool's backends (sluiced's counters), and the
# same read back from the packets it wrote.
#   DEMO_FLOWS=N scripts/demo.sh     (default 2000 flows, 3 packets each)
source "$(dirname "$0")/common.sh"
cd "$SL_ROOT"

sl_install_deps
sl_hugepages
sl_build build

work=$(mktemp -d /tmp/sluice-demo.XXXXXX)
flows=${DEMO_FLOWS:-2000}
sl_log "trace: $flows client flows to the frontends of examples/config.json"
"$SL_PY" tests/tools/sltrace.py --out "$work/in.pcap" --flows "$flows" --packets-per-flow 3 \
	--frontend 192.0.2.10:tcp:80 --frontend 192.0.2.10:tcp:443 --frontend 192.0.2.10:udp:53 \
	--frontend '[2001:db8::10]:tcp:80' --frontend 192.0.2.20:tcp:80 --frontend 192.0.2.30:udp:4500 \
	--frontend 192.0.2.99:tcp:80
echo "  (the last frontend, 192.0.2.99, is configured nowhere: its packets are dropped as no_frontend)"

sl_log "sluiced on net_pcap: $work/in.pcap -> $work/out.pcap"
# shellcheck disable=SC2086
SLUICE_RX_PCAP=$work/in.pcap SLUICE_TX_PCAP=$work/out.pcap \
	build/dataplane/sluiced -l 0,1 --no-pci --no-telemetry --log-level=lib.eal:error \
	--file-prefix "sluice-demo-$$" $SL_EAL_MEM -- \
	--ports pmd-config/pcap.json --config examples/config.json \
	--stats-file "$work/stats.json" --exit-idle-ms 500 --no-api --flow-table-size 65536

sl_log "read back from the wire ($work/out.pcap)"
"$SL_PY" tests/tools/slsummary.py "$work/in.pcap" "$work/out.pcap" pmd-config/pcap.json
echo
echo "files: $work (in.pcap, out.pcap, stats.json); open out.pcap with tcpdump -r or wireshark"
