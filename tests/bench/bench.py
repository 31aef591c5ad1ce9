#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""bench.py: packets per second of sluiced beside dpdk-testpmd, on the same
replayed trace, in the same run.

Both run on net_pcap with infinite_rx=1 (the trace replayed from memory;
what is transmitted is dropped by the PMD), one after the other, alternating
for --runs rounds, so the machine's noise hits both alike. Reports Mpps (the
median of the per-second samples after the first second, then the median
and spread over the rounds) and the ratio to testpmd 5tswap.

  bench.py [--modes DNAT,L2,IPinIP,GUE,VXLAN] [--runs 3] [--seconds 5]
           [--flows 10000] [--size 64|imix|9000] [--proto tcp|udp] [--family 4|6]
           [--frontends 1] [--workers 1] [--flow-table N] [--no-flow-tracking-too]
           [--csv out.csv]

--size 9000 replays frames of 9000-byte IP packets, on ports of MTU 9100
(every delivery header fits) with mbufs of 9216 bytes for both programs:
net_pcap's infinite_rx replays only a frame's first mbuf, so the frames
must not be chained.

--workers N runs sluiced with N worker lcores (-l 0-N, N queue pairs, each
replaying the trace) and testpmd with N forwarding cores: on a host with
enough cores, the scaling figure.
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
sys.path.insert(0, HERE)
import slharness  # noqa: E402
import trace  # noqa: E402

ARM = "/subscriptions/bench/resourceGroups/bench/providers/Microsoft.Network"
VNET = f"{ARM}/virtualNetworks/bench-vnet"
LB = f"{ARM}/loadBalancers/bench-lb"


def frontend_text(k, family):
    return f"fd00::{0x10 + k:x}" if family == 6 else f"10.0.0.{10 + k}"


def bench_config(mode, frontends=1, family=4, proto="tcp", n_backends=16):
    delivery = {"mode": "L2" if mode == "DNAT" else mode}
    if mode == "VXLAN":
        delivery["vni"] = 4242
    if family == 6:
        addr = [f"fd01::{i + 1:x}" for i in range(n_backends)]
    else:
        addr = [f"10.1.{i // 250}.{i % 250 + 1}" for i in range(n_backends)]
    addrs = [{"name": f"be{i}", "properties": {"ipAddress": a, "virtualNetwork": {"id": VNET}}}
             for i, a in enumerate(addr)]
    fes = [{"name": f"fe{k}", "properties": {"privateIPAddress": frontend_text(k, family)}}
           for k in range(frontends)]
    rules = [{"name": f"r{k}", "properties": {
        "frontendIPConfiguration": {"id": f"{LB}/frontendIPConfigurations/fe{k}"},
        "backendAddressPool": {"id": f"{LB}/backendAddressPools/pool"},
        "protocol": proto.capitalize(), "frontendPort": 80,
        "backendPort": 8080 + k if mode == "DNAT" else 80,  # DNAT rules need their own backend port
        "enableFloatingIP": mode != "DNAT"}} for k in range(frontends)]
    return {
        "virtualNetworks": [{"name": "bench-vnet", "id": VNET, "properties": {
            "addressSpace": {"addressPrefixes": ["10.0.0.0/8", "fd00::/8"]},
            "floatingIpDelivery": delivery}}],
        "loadBalancers": [{"name": "bench-lb", "id": LB, "sku": {"name": "Standard"}, "properties": {
            "frontendIPConfigurations": fes,
            "backendAddressPools": [{"name": "pool", "properties": {"loadBalancerBackendAddresses": addrs}}],
            "loadBalancingRules": rules}}],
    }


def eal_mem():
    return shlex.split(os.environ.get("SL_EAL_MEM", "--no-huge -m 1024"))


def lcores(workers):
    return f"0-{workers}" if workers > 1 else "0,1"


def file_prefix(what):
    """An EAL file prefix of this process's own, so that runs beside other DPDK
    processes (another benchmark, a test tier) never share /var/run/dpdk/rte."""
    return f"--file-prefix=slbench{os.getpid()}{what}"


JUMBO_MBUF = 9216  # --size 9000: the data room of an mbuf, headroom apart


def run_testpmd(pcap, fwd, seconds, n_packets, workers, size="64"):
    vdev = "net_pcap0," + ",".join([f"rx_pcap={pcap}"] * workers) + ",infinite_rx=1"
    jumbo = [f"--mbuf-size={JUMBO_MBUF + 128}"] if size == "9000" else []
    cmd = (["dpdk-testpmd", "-l", lcores(workers), "--no-pci", "--no-telemetry",
            "--log-level=lib.eal:error", file_prefix("t")] + eal_mem() +
           ["--vdev", vdev, "--", f"--forward-mode={fwd}", "--port-topology=loop", "--stats-period=1",
            "--rxd=2048", "--txd=2048", "--burst=32", f"--nb-cores={workers}", f"--rxq={workers}",
            f"--txq={workers}", f"--total-num-mbufs={max(16384, workers * n_packets + 8192 * workers)}"]
           + jumbo)
    p = subprocess.run(["timeout", "-s", "INT", str(seconds + 2)] + cmd, capture_output=True, text=True)
    samples = [int(x) for x in re.findall(r"Rx-pps:\s+(\d+)", p.stdout)]
    if not samples:
        sys.stderr.write(p.stdout[-2000:] + p.stderr[-2000:])
    return samples


def sluiced_cmd(pcap, mode, workdir, n_packets, flow_table, a, eal_memory):
    """The sluiced command line for mode on the trace; its files are written to workdir."""
    cfg = os.path.join(workdir, f"config-{mode}.json")
    prof = os.path.join(workdir, "ports.json")
    with open(cfg, "w") as f:
        json.dump(bench_config(mode, a.frontends, a.family, a.proto), f)
    devargs = ",".join([f"rx_pcap={pcap}"] * a.workers) + ",infinite_rx=1"
    port = {"mtu": 9100} if a.size == "9000" else {}
    with open(prof, "w") as f:
        json.dump({**({"mbufSize": JUMBO_MBUF} if a.size == "9000" else {}),
                   "ports": [{**port, "name": "bench0", "device": "net_pcap0", "devargs": devargs,
                              "rxQueues": a.workers, "rxDescriptors": 2048, "txDescriptors": 2048,
                              "extraMbufs": a.workers * n_packets + 4096,
                              "neighbourDiscovery": False,
                              "macAddress": slharness.SLUICE_MAC, "ipv4Address": "10.0.0.2",
                              "ipv6Address": "fd00::2",
                              "gateway": {"ipv4": "10.0.0.1", "ipv6": "fd00::1"},
                              "neighbours": [{"ipAddress": "10.0.0.1", "macAddress": slharness.ROUTER_MAC},
                                             {"ipAddress": "fd00::1", "macAddress": slharness.ROUTER_MAC}]}]}, f)
    return ([slharness.sluiced_path(), "-l", lcores(a.workers), "--no-pci", "--no-telemetry",
             "--log-level=lib.eal:error", file_prefix("s")] + eal_memory +
            ["--", "--ports", prof, "--config", cfg, "--stats-interval", "1", "--no-api",
             "--flow-table-size", str(flow_table), "--lcores-per-port", str(a.workers)] +
            # every DNAT connection's replies mappable (the default is a quarter of the flows)
            (["--reply-table-size", str(flow_table)] if flow_table else []))


def run_sluiced(pcap, mode, seconds, workdir, n_packets, flow_table, a):
    cmd = sluiced_cmd(pcap, mode, workdir, n_packets, flow_table, a, eal_mem())
    p = subprocess.run(["timeout", "-s", "INT", str(seconds + 2)] + cmd, capture_output=True, text=True)
    # (packets a second, the workers' TSC ticks a packet) for each second
    samples = [(float(x) * 1e6, float(t))
               for x, t in re.findall(r"tx_mpps=([\d.]+) tsc_per_pkt=([\d.]+)", p.stdout)]
    if not samples:
        sys.stderr.write(p.stdout + p.stderr)
    return samples


def retried(run):
    """A run's samples; a run that gave none (a start-up failure) is tried twice more."""
    for attempt in range(3):
        samples = run()
        if samples:
            return samples
        sys.stderr.write(f"no samples, attempt {attempt + 1} of 3\n")
    return []


def after_startup(samples):
    """A run's per-second samples without the first (start-up; testpmd's is 0)."""
    return samples[1:] if len(samples) > 1 else samples


def steady(samples):
    """Median Mpps of a run's steady seconds."""
    s = after_startup(samples)
    return statistics.median(s) / 1e6 if s else 0.0


def steady_sluiced(samples):
    """Median Mpps and median TSC ticks a packet of a sluiced run's (rate, ticks) samples."""
    s = after_startup(samples)
    if not s:
        return 0.0, 0.0
    return statistics.median(x[0] for x in s) / 1e6, statistics.median(x[1] for x in s)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--modes", default="DNAT,L2,IPinIP,GUE,VXLAN")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--flows", type=int, default=10000)
    ap.add_argument("--size", choices=("64", "imix", "9000"), default="64")
    ap.add_argument("--proto", choices=("tcp", "udp"), default="tcp")
    ap.add_argument("--family", type=int, choices=(4, 6), default=4)
    ap.add_argument("--frontends", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--flow-table", type=int, default=None,
                    help="flows per worker lcore (default: the flow count; 0: no flow tracking)")
    ap.add_argument("--no-flow-tracking-too", action="store_true",
                    help="also run each mode without flow tracking")
    ap.add_argument("--csv")
    a = ap.parse_args(argv)
    ft = a.flows if a.flow_table is None else a.flow_table
    work = tempfile.mkdtemp(prefix="sluice-bench-")
    pcap = os.path.join(work, "trace.pcap")
    n_packets = trace.write(pcap, a.flows, a.size, a.proto, a.family, a.frontends)
    print(f"trace: {a.flows} flows, {a.size}-byte {a.proto.upper()}/IPv{a.family} to {a.frontends} "
          f"frontend(s); {a.workers} worker lcore(s); flow table {ft} flows per lcore", flush=True)
    rows = []
    modes = [m.strip() for m in a.modes.split(",") if m.strip()]
    for run in range(a.runs):
        ref = steady(retried(lambda: run_testpmd(pcap, "5tswap", a.seconds, n_packets, a.workers, a.size)))
        rows.append(("testpmd-5tswap", run, ref, 1.0, 0.0))
        io = steady(retried(lambda: run_testpmd(pcap, "io", a.seconds, n_packets, a.workers, a.size)))
        rows.append(("testpmd-io", run, io, io / ref if ref else 0.0, 0.0))
        for m in modes:
            v, tpp = steady_sluiced(retried(lambda: run_sluiced(pcap, m, a.seconds, work, n_packets,
                                                                ft, a)))
            tag = "" if ft else " stateless"
            rows.append((f"sluiced-{m}{tag}", run, v, v / ref if ref else 0.0, tpp))
            if a.no_flow_tracking_too and ft:
                v, tpp = steady_sluiced(retried(lambda: run_sluiced(pcap, m, a.seconds, work,
                                                                    n_packets, 0, a)))
                rows.append((f"sluiced-{m} stateless", run, v, v / ref if ref else 0.0, tpp))
        print(f"run {run + 1}/{a.runs} done", flush=True)
    # TSC/pkt: the worker lcores' TSC ticks per packet over the iterations
    # that received packets (sluiced counts them; testpmd does not)
    print(f"\n{'what':<28}{'Mpps median':>12}{'spread':>16}{'x 5tswap':>10}{'TSC/pkt':>9}")
    for n in dict.fromkeys(r[0] for r in rows):
        v = [r[2] for r in rows if r[0] == n]
        ratio = [r[3] for r in rows if r[0] == n]
        tpp = statistics.median(r[4] for r in rows if r[0] == n)
        print(f"{n:<28}{statistics.median(v):>12.2f}{min(v):>8.2f}-{max(v):<7.2f}"
              f"{statistics.median(ratio):>10.3f}" + (f"{tpp:>9.1f}" if tpp else f"{'-':>9}"))
    if a.csv:
        with open(a.csv, "w") as f:
            f.write("what,run,mpps,ratio_to_5tswap,tsc_per_pkt\n")
            for r in rows:
                f.write(f"{r[0]},{r[1]},{r[2]:.4f},{r[3]:.4f},{r[4]:.1f}\n")
    ok = all(r[2] > 0 for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
