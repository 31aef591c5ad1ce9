# SPDX-License-Identifier: BSD-3-Clause
"""HA ports rules (protocol All, ports 0) and next hops through the gateway.

One run on a port with an IPv4 address and gateway (10.0.0.1, a static
neighbour) but no IPv6 address and no IPv6 gateway:
- a backend without its own neighbour entry is reached through the
  gateway's MAC over IPv4 (DNAT, and VXLAN, whose inner destination MAC is
  then the gateway's too) and is unreachable (no_neighbour) over IPv6;
- an IPv6 tunnel cannot be built without an IPv6 port address: an IPinIP
  backend with a neighbour entry is still no_neighbour, while DNAT to IPv6
  backends works.
"""
import collections

import pytest
from scapy.all import IP, TCP, UDP, IPv6, raw

import dphelpers as h

N = 1
FE4, FE6 = h.fe_addr(N, 40), h.fe_addr(N, 40, v6=True)
FE_GW4, FE_GW6 = h.fe_addr(N, 41), h.fe_addr(N, 41, v6=True)
FE_FIP = h.fe_addr(N, 42)
POOL4 = [h.be_addr(N, 6, x) for x in (11, 12, 13)]
POOL6 = [h.be_addr(N, 6, x, v6=True) for x in (11, 12)]
POOL_FIP = [h.be_addr(N, 7, 11)]
GW_BE4 = h.be_addr(N, 8, 50)
GW_BE6 = h.be_addr(N, 8, 50, v6=True)
GATEWAY = "10.0.0.1"
VX_N = 6          # a VXLAN vnet
FE_VX = h.fe_addr(VX_N, 41)
VX_BE = h.be_addr(VX_N, 8, 50)     # no neighbour entry
IPIP_N = 3        # an IPinIP vnet
FE_IPIP6 = h.fe_addr(IPIP_N, 41, v6=True)
IPIP_BE6 = h.be_addr(IPIP_N, 8, 50, v6=True)  # has a neighbour entry

PORTS = [1, 22, 80, 443, 1024, 8080, 32768, 49151, 65535]


def build():
    lb = h.LB("lb-ha", N)
    lb.frontend("fe4", FE4).frontend("fe6", FE6).frontend("gw4", FE_GW4).frontend("gw6", FE_GW6)
    lb.frontend("fip", FE_FIP)
    lb.pool("p4", POOL4).pool("p6", POOL6).pool("pfip", POOL_FIP)
    lb.pool("gw4", [GW_BE4], neighbours=False).pool("gw6", [GW_BE6], neighbours=False)
    lb.rule("ha4", "fe4", "p4", "All", 0, 0)
    lb.rule("ha6", "fe6", "p6", "All", 0, 0)
    lb.rule("hafip", "fip", "pfip", "All", 0, 0, floating=True)
    lb.rule("gw4", "gw4", "gw4", "Tcp", 80, 80)
    lb.rule("gw6", "gw6", "gw6", "Tcp", 80, 80)
    vx = h.LB("lb-ha-vxlan", VX_N).frontend("fe4", FE_VX).pool("p", [VX_BE], neighbours=False)
    vx.rule("tcp80", "fe4", "p", "Tcp", 80, floating=True)
    ipip = h.LB("lb-ha-ipip", IPIP_N).frontend("fe6", FE_IPIP6).pool("p6", [IPIP_BE6])
    ipip.rule("tcp80", "fe6", "p6", "Tcp", 80, floating=True)
    nb = h.neighbours_of([lb, vx, ipip])
    nb[GATEWAY] = h.ROUTER_MAC
    vnets = [h.make_vnet(N), h.make_vnet(VX_N, mode="VXLAN", vni=77), h.make_vnet(IPIP_N, mode="IPinIP")]
    return h.make_config(vnets, [lb, vx, ipip]), nb, lb


CONFIG, NEIGHBOURS, LB = build()


def cases():
    c = []
    for fam, fe in ((4, FE4), (6, FE6), ("fip", FE_FIP)):
        v6 = fam == 6
        for i, port in enumerate(PORTS):
            for proto in ("tcp", "udp"):
                src = h.client(100 + i, v6=v6)
                c.append((("ha", fam, proto, port), h.pkt(src, fe, proto, 30000 + i, port, b"ha")))
    c.append((("gw", 4, "tcp", 80), h.pkt(h.client(1), FE_GW4, "tcp", 1234, 80, b"gw")))
    c.append((("gw", 6, "tcp", 80), h.pkt(h.client(1, v6=True), FE_GW6, "tcp", 1234, 80, b"gw")))
    c.append((("gwvx", 4, "tcp", 80), h.pkt(h.client(2), FE_VX, "tcp", 1235, 80, b"vx")))
    c.append((("ipip6", 6, "tcp", 80), h.pkt(h.client(2, v6=True), FE_IPIP6, "tcp", 1236, 80, b"ip")))
    return c


UNREACHABLE = {("gw", 6, "tcp", 80), ("ipip6", 6, "tcp", 80)}


CASES = cases()


@pytest.fixture(scope="module")
def result():
    return h.run(CONFIG, [p for _, p in CASES], NEIGHBOURS, gateway={"ipv4": GATEWAY}, ipv6=None)


def outputs(result):
    fwd = [(k, p) for k, p in CASES if k not in UNREACHABLE]
    assert len(result.out) == len(fwd), h.drops_nonzero(result.stats)
    return [(k, p, o) for (k, p), o in zip(fwd, result.out)]


def test_counts(result):
    s = result.stats
    assert s["rx"] == len(CASES)
    assert s["tx"] == len(CASES) - len(UNREACHABLE)
    assert h.drops_nonzero(s) == {"no_neighbour": len(UNREACHABLE)}
    rules = h.rule_counters(s)
    per = collections.Counter(k[1] for k, _ in CASES if k[0] == "ha")
    assert rules[LB.rule_name("ha4")]["packets"] == per[4]
    assert rules[LB.rule_name("ha6")]["packets"] == per[6]
    assert rules[LB.rule_name("hafip")]["packets"] == per["fip"]
    assert rules[LB.rule_name("gw4")]["packets"] == 1
    assert rules[LB.rule_name("gw6")]["packets"] == 0


@pytest.mark.parametrize("fam", [4, 6])
def test_ha_ports_dnat_any_port_any_protocol(result, fam):
    pool = [h.norm(a) for a in (POOL4 if fam == 4 else POOL6)]
    used = set()
    for (kind, f, proto, port), p_in, p_out in outputs(result):
        if kind != "ha" or f != fam:
            continue
        L3 = IPv6 if fam == 6 else IP
        L4 = TCP if proto == "tcp" else UDP
        assert L4 in p_out, (proto, port)
        assert p_out[L3].dst in pool
        assert p_out.dst == h.mac_of(p_out[L3].dst)
        assert p_out[L3].src == p_in[L3].src
        assert p_out[L4].sport == p_in[L4].sport
        assert p_out[L4].dport == port, "HA ports keep the destination port"
        assert raw(p_out[L4].payload) == b"ha"
        h.check_checksums(h.ip_bytes(p_out))
        used.add(p_out[L3].dst)
    assert len(used) >= 2, f"{2 * len(PORTS)} flows all went to {used}"


def test_ha_ports_floating_ip(result):
    be = h.norm(POOL_FIP[0])
    for (kind, f, proto, port), p_in, p_out in outputs(result):
        if kind == "ha" and f == "fip":
            assert p_out.dst == h.mac_of(be)
            assert raw(p_out)[14:] == h.ip_bytes(p_in)


def test_gateway_is_next_hop_without_neighbour(result):
    (k, p_in, p_out), = [o for o in outputs(result) if o[0][0] == "gw"]
    assert p_out.dst == h.ROUTER_MAC
    assert p_out.src == h.SLUICE_MAC
    assert p_out[IP].dst == h.norm(GW_BE4)
    assert p_out[TCP].dport == 80


def test_vxlan_through_gateway(result):
    """VXLAN to a backend without a neighbour entry: outer and inner destination
    MAC are the next hop's (docs/configuration.md, Header prefixes)."""
    (k, p_in, p_out), = [o for o in outputs(result) if o[0][0] == "gwvx"]
    b = raw(p_out)
    assert p_out.dst == h.ROUTER_MAC
    assert p_out[IP].src == h.PORT_IPV4
    assert p_out[IP].dst == h.norm(VX_BE)
    assert p_out[UDP].dport == 4789
    assert int.from_bytes(b[14 + 20 + 8 + 4:14 + 20 + 8 + 7], "big") == 77
    inner_eth = b[14 + 20 + 8 + 8:]
    assert inner_eth[0:6] == bytes.fromhex(h.ROUTER_MAC.replace(":", ""))
    assert inner_eth[14:] == h.ip_bytes(p_in)
