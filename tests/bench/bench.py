#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""bench.py: packets per second of sluiced on one worker lcore beside dpdk-testpmd.

Both run on the same replayed pcap (net_pcap, infinite_rx=1, transmitted
packets dropped by the PMD) in the same invocation, one after the other,
alternating, so the machine's noise hits both alike. Reports Mpps (median
of the per-second samples, several runs) and the ratio to testpmd 5tswap.

  bench.py [--modes DNAT,L2,IPinIP,GUE,VXLAN] [--runs 3] [--seconds 5] [--flows 10000]
           [--csv out.csv]
"""
import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import slharness  # noqa: E402

VIP = "10.0.0.10"
VNET = "/subscriptions/bench/resourceGroups/bench/providers/Microsoft.Network/virtualNetworks/bench-vnet"
LB = "/subscriptions/bench/resourceGroups/bench/providers/Microsoft.Network/loadBalancers/bench-lb"


def fast_trace(path, flows, vip=VIP, dport=80):
    """64-byte TCP/IPv4 ACK frames (60 bytes + FCS), one per flow: distinct client
    address and port per flow. Written directly (scapy takes minutes for 1M)."""
    import struct
    dst_mac = bytes.fromhex(slharness.SLUICE_MAC.replace(":", ""))
    src_mac = bytes.fromhex(slharness.ROUTER_MAC.replace(":", ""))
    dip = bytes(int(x) for x in vip.split("."))

    def csum(data):
        if len(data) % 2:
            data += b"\0"
        t = sum(struct.unpack(f"!{len(data) // 2}H", data))
        while t >> 16:
            t = (t & 0xFFFF) + (t >> 16)
        return (~t) & 0xFFFF

    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        base = 0xC6120000  # 198.18.0.0/15
        for i in range(flows):
            sip = struct.pack("!I", base + (i % 131072))
            sport = 1024 + (i // 131072) * 7 + (i * 7919) % 60000
            payload = b"\0" * 6
            ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 46, i & 0xFFFF, 0x4000, 64, 6, 0, sip, dip))
            ip[10:12] = struct.pack("!H", csum(bytes(ip)))
            tcp = bytearray(struct.pack("!HHIIBBHHH", sport & 0xFFFF, dport, 1000, 1, 0x50, 0x10, 65535, 0, 0)) + payload
            pseudo = sip + dip + struct.pack("!BBH", 0, 6, len(tcp))
            tcp[16:18] = struct.pack("!H", csum(pseudo + bytes(tcp)))
            frame = dst_mac + src_mac + b"\x08\x00" + bytes(ip) + bytes(tcp)
            f.write(struct.pack("<IIII", 0, 0, len(frame), len(frame)))
            f.write(frame)


def bench_config(mode, n_backends=16):
    delivery = {"mode": "L2" if mode == "DNAT" else mode}
    if mode == "VXLAN":
        delivery["vni"] = 4242
    addrs = [{"name": f"be{i}", "properties": {"ipAddress": f"10.1.{i // 250}.{i % 250 + 1}",
                                               "virtualNetwork": {"id": VNET}}} for i in range(n_backends)]
    return {
        "virtualNetworks": [{"name": "bench-vnet", "id": VNET, "properties": {
            "addressSpace": {"addressPrefixes": ["10.0.0.0/8"]},
            "floatingIpDelivery": delivery}}],
        "loadBalancers": [{"name": "bench-lb", "id": LB, "sku": {"name": "Standard"}, "properties": {
            "frontendIPConfigurations": [{"name": "fe", "properties": {"privateIPAddress": VIP}}],
            "backendAddressPools": [{"name": "pool", "properties": {"loadBalancerBackendAddresses": addrs}}],
            "loadBalancingRules": [{"name": "web", "properties": {
                "frontendIPConfiguration": {"id": LB + "/frontendIPConfigurations/fe"},
                "backendAddressPool": {"id": LB + "/backendAddressPools/pool"},
                "protocol": "Tcp", "frontendPort": 80, "backendPort": 8080 if mode == "DNAT" else 80,
                "enableFloatingIP": mode != "DNAT"}}]}}],
    }


def eal_mem():
    return shlex.split(os.environ.get("SL_EAL_MEM", "--no-huge -m 1024"))


def run_testpmd(pcap, fwd, seconds, n_packets):
    cmd = (["dpdk-testpmd", "-l", "0,1", "--no-pci", "--no-telemetry", "--log-level=lib.eal:error"]
           + eal_mem() + ["--vdev", f"net_pcap0,rx_pcap={pcap},infinite_rx=1", "--",
                          f"--forward-mode={fwd}", "--port-topology=loop", "--stats-period=1",
                          "--rxd=2048", "--txd=2048", "--burst=32",
                          f"--total-num-mbufs={max(16384, n_packets + 8192)}"])
    p = subprocess.run(["timeout", "-s", "INT", str(seconds + 2)] + cmd, capture_output=True, text=True)
    samples = [int(x) for x in re.findall(r"Rx-pps:\s+(\d+)", p.stdout)]
    return samples


def run_sluiced(pcap, mode, seconds, workdir, n_packets, flow_table):
    cfg = os.path.join(workdir, f"config-{mode}.json")
    prof = os.path.join(workdir, "ports.json")
    with open(cfg, "w") as f:
        json.dump(bench_config(mode), f)
    neighbours = [{"ipAddress": "10.0.0.1", "macAddress": slharness.ROUTER_MAC}]
    with open(prof, "w") as f:
        json.dump({"ports": [{"name": "bench0", "device": "net_pcap0",
                              "devargs": f"rx_pcap={pcap},infinite_rx=1", "rxQueues": 1,
                              "rxDescriptors": 2048, "txDescriptors": 2048,
                              "extraMbufs": n_packets + 4096,
                              "macAddress": slharness.SLUICE_MAC, "ipv4Address": "10.0.0.2",
                              "gateway": {"ipv4": "10.0.0.1"}, "neighbours": neighbours}]}, f)
    cmd = ([slharness.sluiced_path(), "-l", "0,1", "--no-pci", "--no-telemetry", "--log-level=lib.eal:error"]
           + eal_mem() + ["--", "--ports", prof, "--config", cfg, "--stats-interval", "1", "--no-api",
                          "--flow-table-size", str(flow_table)])
    p = subprocess.run(["timeout", "-s", "INT", str(seconds + 2)] + cmd, capture_output=True, text=True)
    samples = [float(x) * 1e6 for x in re.findall(r"tx_mpps=([\d.]+)", p.stdout)]
    if not samples:
        sys.stderr.write(p.stdout + p.stderr)
    return samples


def steady(samples):
    s = samples[1:] if len(samples) > 2 else samples  # the first second includes start-up
    return statistics.median(s) / 1e6 if s else 0.0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--modes", default="DNAT,L2,IPinIP,GUE,VXLAN")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--flows", type=int, default=10000)
    ap.add_argument("--flow-table", type=int, default=None,
                    help="flows per worker lcore (default: the flow count; 0: no flow tracking)")
    ap.add_argument("--no-flow-tracking-too", action="store_true",
                    help="also run each mode without flow tracking")
    ap.add_argument("--csv")
    a = ap.parse_args(argv)
    ft = a.flows if a.flow_table is None else a.flow_table
    work = tempfile.mkdtemp(prefix="sluice-bench-")
    pcap = os.path.join(work, "trace.pcap")
    fast_trace(pcap, a.flows)
    print(f"trace: {a.flows} flows, one 64-byte TCP/IPv4 frame each (60 + FCS), {pcap}; "
          f"flow table {ft} flows per lcore")
    rows = []
    modes = [m.strip() for m in a.modes.split(",") if m.strip()]
    for run in range(a.runs):
        ref = steady(run_testpmd(pcap, "5tswap", a.seconds, a.flows))
        rows.append(("testpmd-5tswap", run, ref, 1.0))
        io = steady(run_testpmd(pcap, "io", a.seconds, a.flows))
        rows.append(("testpmd-io", run, io, io / ref if ref else 0.0))
        for m in modes:
            v = steady(run_sluiced(pcap, m, a.seconds, work, a.flows, ft))
            tag = "" if ft else " stateless"
            rows.append((f"sluiced-{m}{tag}", run, v, v / ref if ref else 0.0))
            if a.no_flow_tracking_too and ft:
                v = steady(run_sluiced(pcap, m, a.seconds, work, a.flows, 0))
                rows.append((f"sluiced-{m} stateless", run, v, v / ref if ref else 0.0))
        print(f"run {run + 1}/{a.runs} done", flush=True)
    print(f"\n{'what':<28}{'Mpps median':>12}{'spread':>16}{'x 5tswap':>10}")
    names = list(dict.fromkeys(r[0] for r in rows))
    for n in names:
        v = [r[2] for r in rows if r[0] == n]
        ratio = [r[3] for r in rows if r[0] == n]
        print(f"{n:<28}{statistics.median(v):>12.2f}{min(v):>8.2f}-{max(v):<7.2f}{statistics.median(ratio):>10.3f}")
    if a.csv:
        with open(a.csv, "w") as f:
            f.write("what,run,mpps,ratio_to_5tswap\n")
            for r in rows:
                f.write(f"{r[0]},{r[1]},{r[2]:.4f},{r[3]:.4f}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
