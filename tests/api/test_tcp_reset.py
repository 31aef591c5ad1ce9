# SPDX-License-Identifier: BSD-3-Clause
"""Drain and enableTcpReset: an established flow of a backend set adminState
Down keeps its backend for the pool's drainPeriodInSeconds, then sluice
ends it with a TCP RST to the client and one to the backend, each at the
sequence number its receiver expects (taken from the client's packets).

sluiced runs on net_af_packet over a veth in a namespace of the test's own;
scapy inside the namespace plays the client (and the router: the port's
gateway is the client's address, so the client's RST comes to its MAC).
"""
import json
import os
import subprocess
import sys
import time

import pytest

import apihelpers as h
from apihelpers import rid

NS = f"slapi-{os.getpid()}-rst"
LB_IF, PEER_IF = "slrst-lb0", "slrst-peer0"
SLUICE_MAC, SLUICE_IP = "02:78:00:00:00:05", "10.78.0.5"
CLIENT_MAC, CLIENT_IP = "02:78:00:00:00:02", "10.78.0.2"
VIP, PORT = "10.78.0.10", 80
A = ("10.78.0.11", "02:78:00:00:00:11")
SPORT, SEQ, ACK, PAYLOAD = 43210, 5000, 9000, 7

# Inside the namespace: sniff, send the given packets, wait, print what sluiced sent.
SCRIPT = r"""
import json, sys, threading, time
from scapy.all import AsyncSniffer, Ether, IP, TCP, Raw, sendp
a = json.loads(sys.argv[1])
started = threading.Event()
sn = AsyncSniffer(iface=a["iface"], store=True, started_callback=started.set,
                  lfilter=lambda p: p.haslayer(TCP) and p[Ether].src == a["sluice_mac"])
sn.start()
started.wait(5)
time.sleep(0.1)
for k in a["send"]:
    p = (Ether(src=a["client_mac"], dst=a["sluice_mac"]) / IP(src=a["client_ip"], dst=a["vip"]) /
         TCP(sport=a["sport"], dport=a["dport"], flags=k["flags"], seq=k["seq"], ack=k["ack"]))
    if k["len"]:
        p = p / Raw(b"x" * k["len"])
    sendp(p, iface=a["iface"], verbose=False)
    time.sleep(0.05)
time.sleep(a["wait"])
def csum_ok(p):
    ip = IP(bytes(p[IP]))
    del ip.chksum
    del ip[TCP].chksum
    again = IP(bytes(ip))
    return again.chksum == p[IP].chksum and again[TCP].chksum == p[TCP].chksum
out = [{"dmac": p[Ether].dst, "src": p[IP].src, "dst": p[IP].dst, "sport": p[TCP].sport,
        "dport": p[TCP].dport, "flags": str(p[TCP].flags), "seq": p[TCP].seq,
        "chksum_ok": csum_ok(p)} for p in sn.stop()]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def netns():
    with h.veth_netns(NS, LB_IF, PEER_IF, SLUICE_MAC, CLIENT_MAC) as ns:
        yield ns


def profile():
    with open(os.path.join(h.slharness.ROOT, "pmd-config", "af-packet.json")) as f:
        prof = json.load(f)
    port = prof["ports"][0]
    # the client doubles as the router: resets to clients go to the gateway's MAC
    port["gateway"] = {"ipv4": CLIENT_IP}
    port["neighbours"] = [{"ipAddress": A[0], "macAddress": A[1]},
                          {"ipAddress": CLIENT_IP, "macAddress": CLIENT_MAC}]
    return prof


def run_client(ns, send, wait):
    args = {"iface": PEER_IF, "sluice_mac": SLUICE_MAC, "client_mac": CLIENT_MAC,
            "client_ip": CLIENT_IP, "vip": VIP, "dport": PORT, "sport": SPORT, "send": send,
            "wait": wait}
    p = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", SCRIPT, json.dumps(args)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("floating", [False, True])
def test_drain_then_reset_both_ends(daemons, netns, floating):
    d = daemons.start(profile=profile(), netns=netns,
                      env={"SLUICE_IFACE": LB_IF, "SLUICE_MAC": SLUICE_MAC, "SLUICE_IPV4": SLUICE_IP})
    api = d.api
    api.ok("PUT", rid("virtualNetworks", "vnet"),
           h.vnet_body(["10.78.0.0/24"], {"default": "10.78.0.0/24"}), status=201)
    api.ok("PUT", rid("loadBalancers", "lb"), h.lb_body(
        frontends=[h.frontend("fe", VIP, "vnet", "default")]), status=201)
    pool = rid("loadBalancers", "lb", "backendAddressPools", "pool")
    api.ok("PUT", pool, {"properties": {"loadBalancerBackendAddresses": [
        h.address("a", A[0], "vnet")]}}, status=201)
    backend_port = PORT if floating else 8080
    api.ok("PUT", rid("loadBalancers", "lb", "loadBalancingRules", "http"),
           h.rule("http", "lb", "fe", "pool", "Tcp", PORT, backend_port,
                  enableFloatingIP=floating, enableTcpReset=True), status=201)

    # the handshake as sluice sees it (one direction): SYN, then ACK with data
    out = run_client(netns, [{"flags": "S", "seq": SEQ - 1, "ack": 0, "len": 0},
                             {"flags": "A", "seq": SEQ, "ack": ACK, "len": PAYLOAD}], wait=0.3)
    assert len(out) == 2 and all(p["dmac"] == A[1] for p in out), out

    # A goes Down with a 1 s drain period: its established flow stays, then is reset
    api.ok("PUT", pool, {"properties": {"drainPeriodInSeconds": 1, "loadBalancerBackendAddresses": [
        {"name": "a", "properties": {"ipAddress": A[0], "adminState": "Down",
                                     "virtualNetwork": {"id": rid("virtualNetworks", "vnet")}}}]}},
           status=200)
    t0 = time.time()
    out = run_client(netns, [{"flags": "A", "seq": SEQ + PAYLOAD, "ack": ACK, "len": 0}], wait=3.0)
    data = [p for p in out if "R" not in p["flags"]]
    rst = [p for p in out if "R" in p["flags"]]
    assert len(data) == 1 and data[0]["dmac"] == A[1], out   # still delivered while draining

    to_client = [p for p in rst if p["dst"] == CLIENT_IP]
    to_backend = [p for p in rst if p["dmac"] == A[1]]
    assert len(to_client) == 1 and len(to_backend) == 1, rst
    c = to_client[0]
    assert (c["src"], c["sport"], c["dport"]) == (VIP, PORT, SPORT), c
    assert c["dmac"] == CLIENT_MAC and c["seq"] == ACK, c          # what the client acknowledged
    b = to_backend[0]
    assert (b["src"], b["sport"]) == (CLIENT_IP, SPORT), b
    assert (b["dst"], b["dport"]) == ((VIP, PORT) if floating else (A[0], backend_port)), b
    assert b["seq"] == SEQ + PAYLOAD, b                              # the client's next byte
    assert all(p["chksum_ok"] for p in rst), rst

    st = api.request("GET", "/sluice/stats", api_version=None).json
    assert st["flows"]["drained"] == 1, st["flows"]
    assert st["flows"]["tcpResetsSent"] == 2, st["flows"]
    assert time.time() - t0 < 10
    d.stop()
