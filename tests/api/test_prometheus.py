# SPDX-License-Identifier: BSD-3-Clause
"""A real Prometheus scrapes sluiced's --metrics-listen, and its PromQL
answers match the traffic sent (docs/operations.md, "Prometheus").

Inside a network namespace of this test's own: sluiced on net_af_packet
over one end of a veth pair, --metrics-listen 127.0.0.1:0; Prometheus
(Debian's prometheus) scraping it every second, its storage in a
temporary directory. Once Prometheus holds a sample of the frontend
counters at 0, scapy sends, from the other end of the veth, N packets in
F UDP flows to frontend fe1 (forwarded to its backend) and M packets to
frontend fe2, whose pool is empty (dropped, no_backend). When Prometheus
holds the final counts, the test asks its HTTP API increase() and rate()
over a window that starts on a sample taken before the traffic and
evaluates them at the time of the last sample: Prometheus then extrapolates
neither end of the window (the first sample is 0, the last one is at the
window's end), so the answers are exact: increase is N (and F, and M), rate
is N over the window's seconds. Needs root (namespaces), prometheus and
curl (queries are run inside the namespace).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

import apihelpers as h
from apihelpers import rid

NS = f"slprom-{os.getpid()}"
LB_IF, PEER_IF = "slprom-lb0", "slprom-peer0"
SLUICE_MAC, SLUICE_IP = "02:78:00:00:00:05", "10.78.0.5"
CLIENT_MAC, CLIENT_IP = "02:78:00:00:00:02", "10.78.0.2"
VIP1, VIP2 = "10.78.0.10", "10.78.0.20"
PORT1, PORT2 = 5000, 6000
A = ("10.78.0.11", "02:78:00:00:00:11")
FLOWS, PER_FLOW = 20, 10       # to fe1: N = FLOWS * PER_FLOW packets
N = FLOWS * PER_FLOW
M = 30                         # to fe2: dropped, no_backend
DEADLINE_S = 120               # the whole test

FE1 = 'frontend="lb/fe1"'
FE2 = 'frontend="lb/fe2"'

# Runs inside the namespace: UDP packets from the client to the two frontends.
SEND = r"""
import json, sys
from scapy.all import Ether, IP, UDP, Raw, sendp
a = json.loads(sys.argv[1])
eth = Ether(src=a["client_mac"], dst=a["sluice_mac"])
pkts = [eth / IP(src=a["client_ip"], dst=a["vip1"]) / UDP(sport=20000 + f, dport=a["port1"]) /
        Raw(b"p" * 32) for f in range(a["flows"]) for _ in range(a["per_flow"])]
pkts += [eth / IP(src=a["client_ip"], dst=a["vip2"]) / UDP(sport=30000 + i, dport=a["port2"]) /
         Raw(b"d" * 32) for i in range(a["m"])]
sendp(pkts, iface=a["iface"], verbose=False)
"""

PROMETHEUS_YML = """global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: sluice
    static_configs:
      - targets: ["{target}"]
"""

pytestmark = pytest.mark.skipif(shutil.which("prometheus") is None or shutil.which("curl") is None,
                                reason="needs prometheus and curl (scripts/common.sh installs them)")


def left(deadline):
    t = deadline - time.time()
    assert t > 0, f"the test ran past its {DEADLINE_S} s"
    return t


class Prometheus:
    """Prometheus in namespace ns, scraping target; queried with curl in ns."""

    def __init__(self, ns, target, listen):
        self.ns, self.listen = ns, listen
        self.dir = tempfile.mkdtemp(prefix="slprom-")
        self.cfg = os.path.join(self.dir, "prometheus.yml")
        with open(self.cfg, "w") as f:
            f.write(PROMETHEUS_YML.format(target=target))
        self.log = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, "prometheus", f"--config.file={self.cfg}",
             f"--storage.tsdb.path={os.path.join(self.dir, 'data')}",
             f"--web.listen-address={listen}", "--log.level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT)

    def output(self):
        self.log.flush()
        with open(self.log.name, errors="replace") as f:
            return f.read()[-4000:]

    def get(self, path, **params):
        """GET path with params in the namespace: (HTTP status, body)."""
        cmd = ["ip", "netns", "exec", self.ns, "curl", "-sS", "--max-time", "5", "-G",
               "-o", "-", "-w", "\n%{http_code}", f"http://{self.listen}{path}"]
        for k, v in params.items():
            cmd += ["--data-urlencode", f"{k}={v}"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=15)
        if p.returncode != 0:
            return 0, p.stderr
        body, _, code = p.stdout.rpartition("\n")
        return int(code), body

    def query(self, q, at=None):
        """An instant query's result list."""
        params = {"query": q}
        if at is not None:
            params["time"] = f"{at:.3f}"
        status, body = self.get("/api/v1/query", **params)
        assert status == 200, f"{q}: HTTP {status}: {body}"
        r = json.loads(body)
        assert r["status"] == "success", r
        return r["data"]["result"]

    def value(self, q, at=None):
        """The one sample of an instant query (float), or None when it has none."""
        res = self.query(q, at)
        assert len(res) <= 1, res
        return float(res[0]["value"][1]) if res else None

    def wait_ready(self, deadline):
        end = time.time() + min(60, left(deadline))
        while time.time() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"prometheus exited {self.proc.returncode}:\n{self.output()}")
            if self.get("/-/ready")[0] == 200:
                return
            time.sleep(0.2)
        raise AssertionError(f"prometheus not ready in time:\n{self.output()}")

    def wait_value(self, q, want, deadline, what):
        end = time.time() + min(30, left(deadline))
        got = None
        while time.time() < end:
            got = self.value(q)
            if got == want:
                return
            time.sleep(0.2)
        raise AssertionError(f"{what}: Prometheus has {q} = {got}, want {want}\n{self.output()}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        if not h.keep_tmp():
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def netns():
    with h.veth_netns(NS, LB_IF, PEER_IF, SLUICE_MAC, CLIENT_MAC) as ns:
        yield ns


def profile():
    with open(os.path.join(h.slharness.ROOT, "pmd-config", "af-packet.json")) as f:
        prof = json.load(f)
    prof["ports"][0]["neighbours"] = [{"ipAddress": A[0], "macAddress": A[1]}]
    return prof


def configure(api):
    """fe1 (VIP1, Udp PORT1) to a pool holding A; fe2 (VIP2, Udp PORT2) to an empty pool."""
    api.ok("PUT", rid("virtualNetworks", "vnet"),
           h.vnet_body(["10.78.0.0/24"], {"default": "10.78.0.0/24"}), status=201)
    api.ok("PUT", rid("loadBalancers", "lb"), h.lb_body(
        frontends=[h.frontend("fe1", VIP1, "vnet", "default"),
                   h.frontend("fe2", VIP2, "vnet", "default")],
        pools=[h.pool("pool", [h.address("a", A[0], "vnet")]), h.pool("empty", [])],
        rules=[h.rule("r1", "lb", "fe1", "pool", "Udp", PORT1, PORT1, enableFloatingIP=False),
               h.rule("r2", "lb", "fe2", "empty", "Udp", PORT2, PORT2,
                      enableFloatingIP=False)]), status=201)


def send(ns):
    args = {"iface": PEER_IF, "sluice_mac": SLUICE_MAC, "client_mac": CLIENT_MAC,
            "client_ip": CLIENT_IP, "vip1": VIP1, "vip2": VIP2, "port1": PORT1, "port2": PORT2,
            "flows": FLOWS, "per_flow": PER_FLOW, "m": M}
    p = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", SEND, json.dumps(args)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr


def frontends(api):
    r = api.request("GET", "/sluice/stats", api_version=None)
    assert r.status == 200, r
    return {f["name"]: f for f in r.json["frontends"]}


def test_prometheus_rate_matches_the_traffic(daemons, netns):
    deadline = time.time() + DEADLINE_S
    d = daemons.start(profile=profile(), netns=netns,
                      extra_args=["--metrics-listen", "127.0.0.1:0"],
                      env={"SLUICE_IFACE": LB_IF, "SLUICE_MAC": SLUICE_MAC,
                           "SLUICE_IPV4": SLUICE_IP})
    configure(d.api)
    host, port = h.metrics_address(d)
    prom = Prometheus(netns, f"{host}:{port}", f"127.0.0.1:{9090 if port != 9090 else 9091}")
    try:
        prom.wait_ready(deadline)
        packets = f"sluice_frontend_packets_total{{{FE1}}}"
        flows = f"sluice_frontend_new_flows_total{{{FE1}}}"
        drops = f'sluice_frontend_dropped_packets_total{{{FE2},reason="no_backend"}}'
        # a sample of every counter at 0, taken before any traffic
        for q in (packets, flows, drops):
            prom.wait_value(q, 0.0, deadline, "before the traffic")
        assert prom.value('up{job="sluice"}') == 1.0

        send(netns)
        fe = frontends(d.api)
        assert (fe["lb/fe1"]["packets"], fe["lb/fe1"]["newFlows"],
                fe["lb/fe2"]["drops"]["no_backend"]) == (N, FLOWS, M), fe
        for q, want in ((packets, N), (flows, FLOWS), (drops, M)):
            prom.wait_value(q, float(want), deadline, "after the traffic")

        # the raw samples: the last one (at the final count), the last one at 0 before it
        res = prom.query(f"{packets}[10m]")
        assert len(res) == 1, res
        samples = [(float(t), float(v)) for t, v in res[0]["values"]]
        t_end, v_end = samples[-1]
        assert v_end == N, samples
        t_zero = max(t for t, v in samples if v == 0)
        window_ms = int(round((t_end - t_zero) * 1000)) + 500
        window_s = window_ms / 1000.0
        rng = f"[{window_ms}ms]"
        assert prom.value(f"increase({packets}{rng})", at=t_end) == N
        assert prom.value(f"increase({flows}{rng})", at=t_end) == FLOWS
        assert prom.value(f"increase({drops}{rng})", at=t_end) == M
        rate = prom.value(f"rate({packets}{rng})", at=t_end)
        assert rate == pytest.approx(N / window_s, rel=1e-9), (rate, N, window_s, samples)
        # the other frontend forwarded nothing, and fe1 dropped nothing
        assert prom.value(f'increase(sluice_frontend_packets_total{{{FE2}}}{rng})',
                          at=t_end) == 0
        assert prom.value(f"sum(increase(sluice_frontend_dropped_packets_total{{{FE1}}}{rng}))",
                          at=t_end) == 0

        # fe1's rule deleted (a new snapshot published): fe1 keeps what it counted
        d.api.ok("DELETE", rid("loadBalancers", "lb", "loadBalancingRules", "r1"), status=200)
        fe = frontends(d.api)
        assert (fe["lb/fe1"]["packets"], fe["lb/fe1"]["newFlows"]) == (N, FLOWS), fe
    except AssertionError:
        print(f"--- prometheus log ---\n{prom.output()}")
        raise
    finally:
        prom.stop()
