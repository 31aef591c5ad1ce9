#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""update_latency.py: how long a pool change takes to reach the packets, and
that nothing is lost while the configuration changes under traffic.

sluiced runs on one worker lcore over a replayed trace (net_pcap,
infinite_rx=1) with a Floating IP rule to one pool; the pool is replaced
through the REST API --updates times, alternating between two 1,000-address
member sets. For each update:
  client:  the PUT's round trip (the answer comes after publication);
  server:  from the request's arrival to publication (body parse,
           validation, compile; GET /sluice/status) plus the time from
           publication to the worker's first burst with the new snapshot
           (GET /sluice/stats, firstPacketMicroseconds): the time from the
           request to the first packet that uses the new Maglev table. The
           durable write comes after publication (it is in the round trip).
At the end, every packet received was transmitted or dropped with a
counted reason (the check fails otherwise).

  update_latency.py [--updates 100] [--addresses 1000] [--csv out.csv]
"""
import argparse
import http.client
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import sltrace  # noqa: E402
import slharness  # noqa: E402
from scapy.all import wrpcap  # noqa: E402

SUB, RG = "bench", "bench"
ARM = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network"
API = "?api-version=2020-05-01"
VIP = "10.0.0.10"


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("sluice", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def request(conn, method, path, body=None):
    data = json.dumps(body) if body is not None else None
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    text = r.read()
    return r.status, (json.loads(text) if text else None)


def base_config():
    vnet = f"{ARM}/virtualNetworks/bench-vnet"
    lb = f"{ARM}/loadBalancers/bench-lb"
    return {
        "virtualNetworks": [{"name": "bench-vnet", "id": vnet, "properties": {
            "addressSpace": {"addressPrefixes": ["10.0.0.0/8"]},
            "floatingIpDelivery": {"mode": "L2"}}}],
        "loadBalancers": [{"name": "bench-lb", "id": lb, "sku": {"name": "Standard"}, "properties": {
            "frontendIPConfigurations": [{"name": "fe", "properties": {"privateIPAddress": VIP}}],
            "backendAddressPools": [{"name": "pool", "properties": {"loadBalancerBackendAddresses": [
                {"name": "seed", "properties": {"ipAddress": "10.1.0.1", "virtualNetwork": {"id": vnet}}}]}}],
            "loadBalancingRules": [{"name": "web", "properties": {
                "frontendIPConfiguration": {"id": lb + "/frontendIPConfigurations/fe"},
                "backendAddressPool": {"id": lb + "/backendAddressPools/pool"},
                "protocol": "Tcp", "frontendPort": 80, "backendPort": 80, "enableFloatingIP": True}}]}}],
    }


def pool_body(n, shift):
    vnet = f"{ARM}/virtualNetworks/bench-vnet"
    addrs = []
    for i in range(shift, n + shift):
        addrs.append({"name": f"a{i}", "properties": {
            "ipAddress": f"10.{1 + i // 62500}.{(i // 250) % 250}.{i % 250 + 1}",
            "virtualNetwork": {"id": vnet}}})
    return {"properties": {"loadBalancerBackendAddresses": addrs}}


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q / 100.0 * (len(v) - 1))))]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--updates", type=int, default=100)
    ap.add_argument("--addresses", type=int, default=1000)
    ap.add_argument("--flows", type=int, default=2000)
    ap.add_argument("--csv")
    a = ap.parse_args(argv)

    work = tempfile.mkdtemp(prefix="sluice-update-")
    pcap = os.path.join(work, "trace.pcap")
    wrpcap(pcap, sltrace.generate([(VIP, "tcp", 80)], a.flows, 1, 6, seed=3))
    cfg = os.path.join(work, "config.json")
    with open(cfg, "w") as f:
        json.dump(base_config(), f)
    prof = os.path.join(work, "ports.json")
    with open(prof, "w") as f:
        json.dump({"ports": [{"name": "bench0", "device": "net_pcap0",
                              "devargs": f"rx_pcap={pcap},infinite_rx=1", "rxQueues": 1,
                              "extraMbufs": a.flows + 4096, "neighbourDiscovery": False,
                              "macAddress": slharness.SLUICE_MAC,
                              "ipv4Address": "10.0.0.2", "gateway": {"ipv4": "10.0.0.1"},
                              "neighbours": [{"ipAddress": "10.0.0.1", "macAddress": slharness.ROUTER_MAC}]}]}, f)
    sock = os.path.join(work, "api.sock")
    stats_file = os.path.join(work, "stats.json")
    mem = shlex.split(os.environ.get("SL_EAL_MEM", "--no-huge -m 1024"))
    cmd = ([slharness.sluiced_path(), "-l", "0,1", "--no-pci", "--no-telemetry", "--log-level=lib.eal:error",
            f"--file-prefix=slupd{os.getpid()}"] + mem +
           ["--", "--ports", prof, "--config", cfg, "--api-socket", sock, "--state-dir", work,
            "--stats-file", stats_file])
    log = open(os.path.join(work, "sluiced.log"), "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 30
        while not os.path.exists(sock):
            if proc.poll() is not None or time.time() > deadline:
                raise SystemExit("sluiced did not start; see " + log.name)
            time.sleep(0.05)
        conn = UnixHTTPConnection(sock)
        pool = f"{ARM}/loadBalancers/bench-lb/backendAddressPools/pool{API}"
        rows = []
        for i in range(a.updates):
            body = pool_body(a.addresses, i % 2)
            t0 = time.perf_counter()
            status, out = request(conn, "PUT", pool, body)
            rtt = (time.perf_counter() - t0) * 1e6
            if status not in (200, 201):
                raise SystemExit(f"PUT {i}: {status} {out}")
            time.sleep(0.002)  # let the worker forward with the new snapshot
            _, st = request(conn, "GET", "/sluice/status")
            _, stats = request(conn, "GET", "/sluice/stats")
            lc = st["lastCommitMicroseconds"]
            first = [x.get("firstPacketMicroseconds") for x in stats["lcores"]]
            if any(f is None for f in first):
                raise SystemExit(f"update {i}: a worker did not forward with generation "
                                 f"{stats['generation']}: {stats['lcores']}")
            server = lc["requestToPublish"] + max(first)
            rows.append((i, rtt, lc["requestToPublish"], lc["validate"], lc["compile"], lc["persist"],
                         lc["publish"], max(first), server))
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
        log.close()
    with open(stats_file) as f:
        final = json.load(f)
    lost = final["rx"] - final["tx"] - final["dropped"]
    print(f"{a.updates} updates of a {a.addresses}-address pool under traffic "
          f"({final['rx']} packets received, {final['tx']} sent, {final['dropped']} dropped "
          f"{ {k: v for k, v in final['drops'].items() if v} }, {lost} unaccounted)")
    cols = ["PUT round trip", "request to publication", "  validate", "  compile", "persist (after)",
            "publish (grace period)", "publication to first packet", "request to first packet"]
    print(f"{'microseconds':<36}{'p50':>10}{'p99':>10}{'max':>10}")
    for k, name in enumerate(cols, start=1):
        v = [r[k] for r in rows]
        print(f"{name:<36}{pct(v, 50):>10.0f}{pct(v, 99):>10.0f}{max(v):>10.0f}")
    if a.csv:
        with open(a.csv, "w") as f:
            f.write("update,put_rtt_us,request_to_publish_us,validate_us,compile_us,persist_us,publish_us,"
                    "first_packet_us,request_to_first_packet_us\n")
            for r in rows:
                f.write(",".join(f"{x:.1f}" if isinstance(x, float) else str(x) for x in r) + "\n")
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
