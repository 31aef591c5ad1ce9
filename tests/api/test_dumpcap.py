# SPDX-License-Identifier: BSD-3-Clause
"""Live capture of a running sluiced with dpdk-dumpcap (dataplane/sl_capture.h).

sluiced runs on net_af_packet over one end of a veth pair inside a network
namespace of this test's own, on hugepages with its own --file-prefix (no
--in-memory: dpdk-dumpcap is a DPDK secondary process and attaches through
the multi-process files). A DNAT rule sends VIP:80 to backend A:8080.
dpdk-dumpcap starts on the port with a BPF filter that keeps TCP to or from
port 80 or 8080 and -p (sluice's port profile decides promiscuous mode);
then the client sends 16 TCP SYNs to VIP:80 and 8 UDP datagrams to VIP:80
(no UDP rule: dropped). The pcapng must hold the 16 SYNs as received
(direction in) and the 16 rewritten to A:8080 as sent (direction out), and
no UDP. Once the capture ends, traffic still flows.

A second test captures a busy port (net_null: every burst full) three
times: the end of each capture must leave sluiced running (a worker still
inside a removed capture callback when the tool frees its pool would
fault; dataplane/sl_capture.h). Both need root and hugepages
(scripts/test.sh reserves them).
"""
import json
import os
import subprocess
import sys
import threading
import time

import pytest

import apihelpers as h
import sldpdk
from apihelpers import rid
from scapy.all import IP, TCP, UDP, Ether, rdpcap

NS = f"slcap-{os.getpid()}"
LB_IF, PEER_IF = "slcap-lb0", "slcap-peer0"
SLUICE_MAC, SLUICE_IP = "02:78:00:00:00:05", "10.78.0.5"
CLIENT_MAC, CLIENT_IP = "02:78:00:00:00:02", "10.78.0.2"
VIP, PORT, BACKEND_PORT = "10.78.0.10", 80, 8080
A = ("10.78.0.11", "02:78:00:00:00:11")
N_TCP, N_UDP = 16, 8
FILTER = "tcp port 80 or tcp port 8080"

# Runs inside the namespace: send N TCP SYNs and M UDP datagrams to the
# frontend; print how many TCP segments sluiced sent back out.
INJECT = r"""
import json, sys, threading, time
from scapy.all import AsyncSniffer, Ether, IP, TCP, UDP, sendp
a = json.loads(sys.argv[1])
started = threading.Event()
got = []
sn = AsyncSniffer(iface=a["iface"], store=False, started_callback=started.set,
                  prn=lambda p: got.append(1),
                  lfilter=lambda p: p.haslayer(TCP) and p[Ether].src == a["sluice_mac"])
sn.start()
started.wait(5)
time.sleep(0.1)
eth = Ether(src=a["client_mac"], dst=a["sluice_mac"])
pkts = [eth / IP(src=a["client_ip"], dst=a["vip"]) /
        TCP(sport=a["sport"] + i, dport=a["dport"], flags="S", seq=1000 + i)
        for i in range(a["n_tcp"])]
pkts += [eth / IP(src=a["client_ip"], dst=a["vip"]) / UDP(sport=a["sport"] + i, dport=a["dport"])
         for i in range(a["n_udp"])]
sendp(pkts, iface=a["iface"], verbose=False)
deadline = time.time() + a["timeout"]
while time.time() < deadline and len(got) < a["n_tcp"]:
    time.sleep(0.05)
sn.stop()
print(json.dumps({"out": len(got)}))
"""


@pytest.fixture(scope="module")
def netns():
    with h.veth_netns(NS, LB_IF, PEER_IF, SLUICE_MAC, CLIENT_MAC) as ns:
        yield ns


def profile():
    with open(os.path.join(h.slharness.ROOT, "pmd-config", "af-packet.json")) as f:
        prof = json.load(f)
    prof["ports"][0]["neighbours"] = [{"ipAddress": A[0], "macAddress": A[1]}]
    return prof


def inject(ns, sport, n_udp=0, timeout=5.0):
    """Send N_TCP SYNs (and n_udp datagrams); how many TCP segments came out."""
    args = {"iface": PEER_IF, "sluice_mac": SLUICE_MAC, "client_mac": CLIENT_MAC,
            "client_ip": CLIENT_IP, "vip": VIP, "dport": PORT, "sport": sport,
            "n_tcp": N_TCP, "n_udp": n_udp, "timeout": timeout}
    p = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", INJECT,
                        json.dumps(args)], capture_output=True, text=True, timeout=40)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])["out"]


class Dumpcap:
    """dpdk-dumpcap in the background; started() once it captures."""

    def __init__(self, prefix, out):
        # stdbuf: its "Capturing on" line as soon as it is printed
        self.proc = subprocess.Popen(
            ["timeout", "-s", "INT", "60", "stdbuf", "-oL", "dpdk-dumpcap",
             "--file-prefix", prefix, "-i", "net_af_packet0", "-p", "-f", FILTER, "-w", out],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.capturing = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)
            if line.startswith("Capturing on"):
                self.capturing.set()

    def output(self):
        return "".join(self.lines)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(2)
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def configure(api):
    api.ok("PUT", rid("virtualNetworks", "vnet"),
           h.vnet_body(["10.78.0.0/24"], {"default": "10.78.0.0/24"}), status=201)
    api.ok("PUT", rid("loadBalancers", "lb"), h.lb_body(
        frontends=[h.frontend("fe", VIP, "vnet", "default")]), status=201)
    api.ok("PUT", rid("loadBalancers", "lb", "backendAddressPools", "pool"),
           {"properties": {"loadBalancerBackendAddresses": [h.address("a", A[0], "vnet")]}},
           status=201)
    api.ok("PUT", rid("loadBalancers", "lb", "loadBalancingRules", "http"),
           h.rule("http", "lb", "fe", "pool", "Tcp", PORT, BACKEND_PORT,
                  enableFloatingIP=False), status=201)


def test_dumpcap_captures_rx_and_tx_with_a_filter(daemons, netns):
    prefix = sldpdk.new_prefix("cap")
    eal = sldpdk.eal_args(prefix, shared=True)
    if eal is None:
        pytest.skip("needs hugepages (SL_EAL_MEM has --no-huge): dpdk-dumpcap cannot map "
                    "sluiced's memory")
    cap = None
    try:
        d = daemons.start(profile=profile(), netns=netns, eal=eal,
                          extra_args=["--flow-table-size", "4096"],
                          env={"SLUICE_IFACE": LB_IF, "SLUICE_MAC": SLUICE_MAC,
                               "SLUICE_IPV4": SLUICE_IP})
        assert "live capture: dpdk-dumpcap can attach" in d.output()
        configure(d.api)
        out = os.path.join(d.workdir, "capture.pcapng")
        cap = Dumpcap(prefix, out)
        assert cap.capturing.wait(20), f"dpdk-dumpcap did not start:\n{cap.output()}"
        assert inject(netns, 40000, n_udp=N_UDP) == N_TCP
        time.sleep(0.5)  # the last copies leave dumpcap's ring
        assert cap.stop() == 0, cap.output()
        check_capture(out)
        # the capture over, its callbacks are gone and sluiced forwards on
        assert inject(netns, 41000) == N_TCP
        st = d.api.request("GET", "/sluice/stats", api_version=None).json
        assert st["rules"][0]["packets"] == 2 * N_TCP
        assert st["drops"]["no_frontend"] == N_UDP
    finally:
        if cap is not None:
            cap.stop()
        for x in daemons.all:
            x.stop()
        sldpdk.remove_runtime(prefix)


def check_capture(path):
    pk = sldpdk.pcapng_packets(path)
    assert len(rdpcap(path)) == len(pk)
    rx = [Ether(f) for direction, f in pk if direction == "in"]
    tx = [Ether(f) for direction, f in pk if direction == "out"]
    assert len(rx) == N_TCP and len(tx) == N_TCP, \
        f"{len(rx)} in, {len(tx)} out, {len(pk)} in all: {[(x, len(f)) for x, f in pk]}"
    assert not any(p.haslayer(UDP) for p in rx + tx)  # the filter kept them out
    for p in rx:
        assert (p[Ether].dst, p[IP].src, p[IP].dst, p[TCP].dport) == \
            (SLUICE_MAC, CLIENT_IP, VIP, PORT), p.summary()
    for p in tx:
        assert (p[Ether].src, p[Ether].dst, p[IP].src, p[IP].dst, p[TCP].dport) == \
            (SLUICE_MAC, A[1], CLIENT_IP, A[0], BACKEND_PORT), p.summary()
    assert sorted(p[TCP].sport for p in rx) == list(range(40000, 40000 + N_TCP))
    assert sorted(p[TCP].sport for p in tx) == list(range(40000, 40000 + N_TCP))


def test_captures_of_a_busy_port_end_cleanly(daemons):
    prefix = sldpdk.new_prefix("busy")
    eal = sldpdk.eal_args(prefix, shared=True)
    if eal is None:
        pytest.skip("needs hugepages (SL_EAL_MEM has --no-huge): dpdk-dumpcap cannot map "
                    "sluiced's memory")
    try:
        d = daemons.start(eal=eal, extra_args=["--flow-table-size", "4096"])
        for i in range(3):
            out = os.path.join(d.workdir, f"busy{i}.pcapng")
            p = subprocess.run(["dpdk-dumpcap", "--file-prefix", prefix, "-i", "net_null0", "-p",
                                "-q", "-c", "20000", "-a", "duration:10", "-w", out],
                               capture_output=True, text=True, timeout=30)
            assert p.returncode == 0, p.stdout + p.stderr
            assert d.proc.poll() is None, f"sluiced died at the end of capture {i}:\n" + \
                d.output()
            assert len(sldpdk.pcapng_packets(out)) >= 20000
        log = d.wait_log("capture of RX and TX on net_null0 ended")
        assert log.count("started, every packet") == 3, log
        assert d.stop() == 0
    finally:
        for x in daemons.all:
            x.stop()
        sldpdk.remove_runtime(prefix)
