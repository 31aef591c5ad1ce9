# SPDX-License-Identifier: BSD-3-Clause
"""The dataplane follows the REST API without a restart.

sluiced runs on net_af_packet (pmd-config/af-packet.json) over one end of a
veth pair, both ends inside a network namespace of this test's own; scapy,
run inside the namespace, injects TCP packets to the frontend on the other
end and captures what sluiced sends back out. A pool PUT with backend A
sends the flows to A (DNAT: destination A's address, and the MAC of A's
static neighbour in the port profile); the pool PUT with B alone sends the
same flows to B. Two load balancers of one name in two resource groups
forward and count apart, and a backend address whose virtualNetwork has no id
(as the seed's exported ARM template writes it) is forwarded to like any.
Needs root.
"""
import json
import os
import subprocess
import sys

import pytest

import apihelpers as h
from apihelpers import rid

NS = f"slapi-{os.getpid()}-dp"
LB_IF, PEER_IF = "slapi-lb0", "slapi-peer0"
SLUICE_MAC, SLUICE_IP = "02:77:00:00:00:05", "10.77.0.5"
CLIENT_MAC, CLIENT_IP = "02:77:00:00:00:02", "10.77.0.2"
VIP, PORT = "10.77.0.10", 80
A = ("10.77.0.11", "02:77:00:00:00:11")
B = ("10.77.0.12", "02:77:00:00:00:12")
N_FLOWS = 16

# Runs inside the namespace: sniff on the client's veth, send N TCP SYNs to the
# frontend, print what sluiced sent back out as JSON.
INJECT = r"""
import json, sys, threading, time
from scapy.all import AsyncSniffer, Ether, IP, TCP, sendp
a = json.loads(sys.argv[1])
started = threading.Event()
got = []
sn = AsyncSniffer(iface=a["iface"], store=True, started_callback=started.set,
                  prn=lambda p: got.append(1),
                  lfilter=lambda p: p.haslayer(TCP) and p[Ether].src == a["sluice_mac"])
sn.start()
started.wait(5)
time.sleep(0.1)
pkts = [Ether(src=a["client_mac"], dst=a["sluice_mac"]) /
        IP(src=a["client_ip"], dst=a["vip"]) /
        TCP(sport=a["sport"] + i, dport=a["dport"], flags="S", seq=1000 + i)
        for i in range(a["n"])]
sendp(pkts, iface=a["iface"], verbose=False)
deadline = time.time() + a["timeout"]
while time.time() < deadline and len(got) < a["n"]:
    time.sleep(0.05)
time.sleep(0.2)   # anything extra
out = [{"dmac": p[Ether].dst, "src": p[IP].src, "dst": p[IP].dst, "sport": p[TCP].sport,
        "dport": p[TCP].dport} for p in sn.stop()]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def netns():
    with h.veth_netns(NS, LB_IF, PEER_IF, SLUICE_MAC, CLIENT_MAC) as ns:
        yield ns


def profile():
    with open(os.path.join(h.slharness.ROOT, "pmd-config", "af-packet.json")) as f:
        prof = json.load(f)
    prof["ports"][0]["neighbours"] = [{"ipAddress": ip, "macAddress": mac} for ip, mac in (A, B)]
    return prof


def inject(ns, sport, timeout=5.0, vip=VIP):
    """Send N_FLOWS SYNs (source ports sport...) to vip and return what came out,
    waiting until N_FLOWS packets did or timeout seconds passed."""
    args = {"iface": PEER_IF, "sluice_mac": SLUICE_MAC, "client_mac": CLIENT_MAC,
            "client_ip": CLIENT_IP, "vip": vip, "dport": PORT, "sport": sport, "n": N_FLOWS,
            "timeout": timeout}
    p = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", INJECT,
                        json.dumps(args)], capture_output=True, text=True, timeout=40)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


def pool_body(*backends):
    return {"properties": {"loadBalancerBackendAddresses": [
        h.address(name, ip, "vnet") for name, (ip, _) in backends]}}


def backend_packets(api):
    r = api.request("GET", "/sluice/stats", api_version=None)
    assert r.status == 200, r
    return {b["address"]: b["packets"] for b in r.json["backends"]}


def test_dataplane_follows_the_api(daemons, netns):
    d = daemons.start(profile=profile(), netns=netns,
                      env={"SLUICE_IFACE": LB_IF, "SLUICE_MAC": SLUICE_MAC,
                           "SLUICE_IPV4": SLUICE_IP})
    api = d.api
    pid = d.proc.pid
    api.ok("PUT", rid("virtualNetworks", "vnet"),
           h.vnet_body(["10.77.0.0/24"], {"default": "10.77.0.0/24"}), status=201)
    api.ok("PUT", rid("loadBalancers", "lb"), h.lb_body(
        frontends=[h.frontend("fe", VIP, "vnet", "default")]), status=201)
    api.ok("PUT", rid("loadBalancers", "lb", "backendAddressPools", "pool"),
           pool_body(("a", A)), status=201)
    api.ok("PUT", rid("loadBalancers", "lb", "loadBalancingRules", "http"),
           h.rule("http", "lb", "fe", "pool", "Tcp", PORT, PORT, enableFloatingIP=False),
           status=201)

    out = inject(netns, 40000)
    assert len(out) == N_FLOWS, f"{len(out)} of {N_FLOWS} packets came out:\n{out}"
    for p in out:
        assert (p["dmac"], p["dst"], p["dport"]) == (A[1], A[0], PORT), p
        assert p["src"] == CLIENT_IP, p
    assert sorted(p["sport"] for p in out) == list(range(40000, 40000 + N_FLOWS))
    assert backend_packets(api).get(A[0], 0) >= N_FLOWS

    # the pool now holds B alone: the same flows go to B
    api.ok("PUT", rid("loadBalancers", "lb", "backendAddressPools", "pool"),
           pool_body(("b", B)), status=200)
    out = inject(netns, 40000)
    assert len(out) == N_FLOWS, f"{len(out)} of {N_FLOWS} packets came out:\n{out}"
    for p in out:
        assert (p["dmac"], p["dst"], p["dport"]) == (B[1], B[0], PORT), p
    counters = backend_packets(api)
    assert A[0] not in counters
    assert counters.get(B[0], 0) >= N_FLOWS

    # both: each flow goes to one of them, and both get some (Maglev over 16 flows)
    api.ok("PUT", rid("loadBalancers", "lb", "backendAddressPools", "pool"),
           pool_body(("a", A), ("b", B)), status=200)
    out = inject(netns, 41000)
    assert len(out) == N_FLOWS, out
    assert {(p["dmac"], p["dst"]) for p in out} == {(A[1], A[0]), (B[1], B[0])}

    # the rule deleted: nothing comes out (no_frontend drops)
    api.ok("DELETE", rid("loadBalancers", "lb", "loadBalancingRules", "http"), status=200)
    out = inject(netns, 42000, timeout=1.0)
    assert out == []
    assert d.proc.pid == pid and d.proc.poll() is None


def counters(api):
    """{name: packets} of the rules and of the backends."""
    r = api.request("GET", "/sluice/stats", api_version=None)
    assert r.status == 200, r
    return ({x["name"]: x["packets"] for x in r.json["rules"]},
            {x["name"]: x["packets"] for x in r.json["backends"]})


def test_one_name_in_two_groups_forwards_apart(daemons, netns):
    d = daemons.start(profile=profile(), netns=netns,
                      env={"SLUICE_IFACE": LB_IF, "SLUICE_MAC": SLUICE_MAC,
                           "SLUICE_IPV4": SLUICE_IP})
    api = d.api
    vip_b = "10.77.0.20"
    for rg, vip, (name, (ip, _)), vnet_ref in (
            ("rgA", VIP, ("a", A), {"location": "eastus"}),  # the seed template's shape
            ("rgB", vip_b, ("b", B), None)):
        sc = f"/subscriptions/{h.SUB}/resourceGroups/{rg}/providers/Microsoft.Network"
        api.ok("PUT", rid("virtualNetworks", "vnet", scope=sc),
               h.vnet_body(["10.77.0.0/24"], {"default": "10.77.0.0/24"}), status=201)
        fe = h.frontend("fe", vip, "vnet", "default")
        fe["properties"]["subnet"]["id"] = rid("virtualNetworks", "vnet", "subnets", "default",
                                               scope=sc)
        api.ok("PUT", rid("loadBalancers", "lb", scope=sc), h.lb_body(frontends=[fe]),
               status=201)
        addr = h.address(name, ip, "vnet")
        addr["properties"]["virtualNetwork"] = vnet_ref or {
            "id": rid("virtualNetworks", "vnet", scope=sc)}
        api.ok("PUT", rid("loadBalancers", "lb", "backendAddressPools", "pool", scope=sc),
               {"properties": {"loadBalancerBackendAddresses": [addr]}}, status=201)
        rule = h.rule("http", "lb", "fe", "pool", "Tcp", PORT, PORT, enableFloatingIP=False)
        for k in ("frontendIPConfiguration", "backendAddressPool"):
            rule["properties"][k]["id"] = rule["properties"][k]["id"].replace(h.SCOPE, sc)
        api.ok("PUT", rid("loadBalancers", "lb", "loadBalancingRules", "http", scope=sc), rule,
               status=201)
    # the stored address is as sent: no virtualNetwork id made up
    g = api.get(rid("loadBalancers", "lb", "backendAddressPools", "pool",
                    scope=f"/subscriptions/{h.SUB}/resourceGroups/rgA/providers/Microsoft.Network"))
    assert g.json["properties"]["loadBalancerBackendAddresses"][0]["properties"][
        "virtualNetwork"] == {"location": "eastus"}, g

    out = inject(netns, 43000)
    assert len(out) == N_FLOWS, f"{len(out)} of {N_FLOWS} packets came out:\n{out}"
    for p in out:
        assert (p["dmac"], p["dst"], p["dport"]) == (A[1], A[0], PORT), p
    rules, backends = counters(api)
    assert rules["rgA:lb/http"] >= N_FLOWS and rules["rgB:lb/http"] == 0, rules
    assert backends["rgA:lb/pool/a"] >= N_FLOWS and backends["rgB:lb/pool/b"] == 0, backends

    out = inject(netns, 44000, vip=vip_b)
    assert len(out) == N_FLOWS, f"{len(out)} of {N_FLOWS} packets came out:\n{out}"
    for p in out:
        assert (p["dmac"], p["dst"], p["dport"]) == (B[1], B[0], PORT), p
    after, after_b = counters(api)
    assert after["rgB:lb/http"] >= N_FLOWS and after["rgA:lb/http"] == rules["rgA:lb/http"], after
    assert after_b["rgB:lb/pool/b"] >= N_FLOWS, after_b
