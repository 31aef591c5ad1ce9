# SPDX-License-Identifier: BSD-3-Clause
"""Drops counted by reason, and 802.1Q handling.

One run: a handful of good packets, one 802.1Q-tagged good packet, and one
or more packets for each drop reason the parser and the worker know. Every
drop counter must come out exactly as expected, every other one zero, and
rx = tx + dropped.
"""
import collections

import pytest
from scapy.all import (ICMP, IP, TCP, UDP, Dot1Q, Ether,
                       IPv6, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt,
                       Raw, raw)

import dphelpers as h

N = 1
FE4 = h.fe_addr(N, 30)
FE6 = h.fe_addr(N, 30, v6=True)
FE_NN4 = h.fe_addr(N, 31)          # rule whose backend has no neighbour
FE_NN6 = h.fe_addr(N, 31, v6=True)
FE_EMPTY = h.fe_addr(N, 32)         # rule whose pool has no address
BE4 = h.be_addr(N, 2, 11)
BE6 = h.be_addr(N, 2, 11, v6=True)
BE_NN4 = h.be_addr(N, 2, 99)
BE_NN6 = h.be_addr(N, 2, 99, v6=True)
C4 = h.client(7)
C6 = h.client(7, v6=True)
ETH = Ether(dst=h.SLUICE_MAC, src=h.CLIENT_MAC)


def build():
    lb = h.LB("lb-drop", N)
    lb.frontend("fe4", FE4).frontend("fe6", FE6).frontend("nn4", FE_NN4).frontend("nn6", FE_NN6)
    lb.frontend("empty", FE_EMPTY)
    lb.pool("p4", [BE4]).pool("p6", [BE6])
    lb.pool("nn4", [BE_NN4], neighbours=False).pool("nn6", [BE_NN6], neighbours=False)
    lb.rule("tcp4", "fe4", "p4", "Tcp", 80, 8080)
    lb.rule("udp4", "fe4", "p4", "Udp", 53, 53)
    lb.rule("tcp6", "fe6", "p6", "Tcp", 80, 8080)
    lb.rule("nn4", "nn4", "nn4", "Tcp", 80, 80)
    lb.rule("nn6", "nn6", "nn6", "Tcp", 80, 80)
    lb.pool("empty", [])
    lb.rule("empty", "empty", "empty", "Udp", 4000, 4000)
    return h.make_config([h.make_vnet(N)], [lb]), h.neighbours_of([lb]), lb


CONFIG, NEIGHBOURS, LB = build()


def ipv4_raw(**ip_kw):
    """A valid IPv4/TCP packet to FE4:80 as bytes, with IP fields overridden."""
    return raw(IP(src=C4, dst=FE4, **ip_kw) / TCP(sport=1111, dport=80) / Raw(b"p" * 20))


def eth_ip(b, etype=0x0800):
    return Ether(raw(Ether(dst=h.SLUICE_MAC, src=h.CLIENT_MAC, type=etype)) + b)


def cases():
    """[(expected drop reason or None for forwarded, label, frame)]"""
    c = []
    good4 = h.pkt(C4, FE4, "tcp", 1000, 80, b"good")
    c.append((None, "good tcp4", good4))
    c.append((None, "good udp4", h.pkt(C4, FE4, "udp", 1001, 53, b"good")))
    c.append((None, "good tcp6", h.pkt(C6, FE6, "tcp", 1002, 80, b"good")))
    # IPv6 extension headers sluice walks
    c.append((None, "tcp6 after hop-by-hop and destination options", Ether(raw(
        ETH / IPv6(src=C6, dst=FE6) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() /
        TCP(sport=1003, dport=80) / Raw(b"ext")))))
    # one 802.1Q tag: forwarded, tag gone
    c.append((None, "vlan", Ether(raw(ETH / Dot1Q(vlan=100, prio=3) / IP(src=C4, dst=FE4) /
                                      TCP(sport=1004, dport=80) / Raw(b"tagged")))))

    # ARP, pings of a frontend and fragments take the slow path: test_slow_path.py
    c.append(("not_ip", "lldp ethertype", eth_ip(b"\x00" * 46, etype=0x88CC)))
    c.append(("l2_truncated", "10-byte frame", Raw(raw(good4)[:10])))
    c.append(("l2_truncated", "tag cut short", Raw(raw(ETH)[:12] + b"\x81\x00\x00")))
    c.append(("vlan_stacked", "802.1Q in 802.1Q", Ether(raw(
        ETH / Dot1Q(vlan=100) / Dot1Q(vlan=200) / IP(src=C4, dst=FE4) / TCP(sport=1005, dport=80)))))
    c.append(("vlan_stacked", "802.1ad outer tag", Ether(raw(
        Ether(dst=h.SLUICE_MAC, src=h.CLIENT_MAC, type=0x88A8) / Dot1Q(vlan=100) /
        IP(src=C4, dst=FE4) / TCP(sport=1006, dport=80)))))
    c.append(("ipv4_truncated", "12 bytes of IPv4", eth_ip(ipv4_raw()[:12])))
    c.append(("ipv4_bad_version", "version 5 in an IPv4 frame",
              eth_ip(bytes([0x55]) + ipv4_raw()[1:])))
    c.append(("ipv4_bad_ihl", "IHL 4", eth_ip(bytes([0x44]) + ipv4_raw()[1:])))
    c.append(("ipv4_bad_ihl", "IHL 15 beyond a short frame", eth_ip(bytes([0x4F]) + ipv4_raw()[1:40])))
    c.append(("ipv4_bad_length", "total length beyond the frame", eth_ip(ipv4_raw(len=1000))))
    c.append(("ipv4_bad_length", "total length below the header", eth_ip(ipv4_raw(len=16))))
    c.append(("fragment_no_rule", "a later fragment whose first was never seen",
              eth_ip(ipv4_raw(frag=185))))
    c.append(("ipv6_truncated", "30 bytes of IPv6", eth_ip(raw(IPv6(src=C6, dst=FE6))[:30], 0x86DD)))
    c.append(("ipv6_bad_version", "version 4 in an IPv6 frame",
              eth_ip(bytes([0x40]) + raw(IPv6(src=C6, dst=FE6) / TCP(dport=80))[1:], 0x86DD)))
    c.append(("ipv6_bad_length", "payload length beyond the frame", eth_ip(
        raw(IPv6(src=C6, dst=FE6, plen=900) / TCP(sport=1007, dport=80)), 0x86DD)))
    c.append(("ipv6_bad_ext_header", "fragment header followed by another extension header",
              Ether(raw(ETH / IPv6(src=C6, dst=FE6) / IPv6ExtHdrFragment(id=7, m=1) /
                        IPv6ExtHdrDestOpt() / TCP(sport=1008, dport=80)))))
    c.append(("l4_unsupported", "ICMP timestamp to a frontend",
              Ether(raw(ETH / IP(src=C4, dst=FE4) / ICMP(type=13)))))
    c.append(("l4_unsupported", "GRE", Ether(raw(ETH / IP(src=C4, dst=FE4, proto=47) / Raw(b"\x00" * 8)))))
    tcp_cut = raw(IP(src=C4, dst=FE4, len=30) / TCP(sport=1009, dport=80))[:30]
    c.append(("l4_truncated", "10 bytes of TCP header", eth_ip(tcp_cut)))
    udp_cut = raw(IP(src=C4, dst=FE4, len=24) / UDP(sport=1010, dport=53))[:24]
    c.append(("l4_truncated", "4 bytes of UDP header", eth_ip(udp_cut)))
    c.append(("tcp_bad_offset", "data offset 4", Ether(raw(
        ETH / IP(src=C4, dst=FE4) / TCP(sport=1011, dport=80, dataofs=4)))))
    c.append(("tcp_bad_offset", "data offset beyond the payload", Ether(raw(
        ETH / IP(src=C4, dst=FE4) / TCP(sport=1012, dport=80, dataofs=15)))))
    c.append(("udp_bad_length", "UDP length beyond the payload", Ether(raw(
        ETH / IP(src=C4, dst=FE4) / UDP(sport=1013, dport=53, len=100) / Raw(b"u" * 4)))))
    c.append(("udp_bad_length", "UDP length 4", Ether(raw(
        ETH / IP(src=C4, dst=FE4) / UDP(sport=1014, dport=53, len=4) / Raw(b"u" * 4)))))
    c.append(("no_frontend", "wrong VIP", h.pkt(C4, h.fe_addr(N, 99), "tcp", 1015, 80)))
    c.append(("no_frontend", "wrong VIP v6", h.pkt(C6, h.fe_addr(N, 99, v6=True), "tcp", 1016, 80)))
    c.append(("no_frontend", "wrong port", h.pkt(C4, FE4, "tcp", 1017, 81)))
    c.append(("no_frontend", "wrong protocol", h.pkt(C4, FE4, "udp", 1018, 80)))
    c.append(("no_frontend", "to sluice's own address", h.pkt(C4, h.PORT_IPV4, "tcp", 1019, 80)))
    c.append(("no_backend", "pool without addresses", h.pkt(C4, FE_EMPTY, "udp", 1025, 4000)))
    c.append(("no_neighbour", "backend without neighbour", h.pkt(C4, FE_NN4, "tcp", 1020, 80)))
    c.append(("no_neighbour", "v6 backend without neighbour", h.pkt(C6, FE_NN6, "tcp", 1021, 80)))
    c.append(("mtu_exceeded", "1600-byte IP packet, MTU 1500",
              h.pkt(C4, FE4, "tcp", 1022, 80, b"m" * 1560)))
    c.append((None, "1500-byte IP packet, MTU 1500", h.pkt(C4, FE4, "tcp", 1023, 80, b"m" * 1460)))
    return c


CASES = cases()


@pytest.fixture(scope="module")
def result():
    return h.run(CONFIG, [p for _, _, p in CASES], NEIGHBOURS)


def test_rx_equals_tx_plus_dropped(result):
    s = result.stats
    fwd = sum(1 for r, _, _ in CASES if r is None)
    assert s["rx"] == len(CASES)
    assert s["tx"] == fwd
    assert s["dropped"] == len(CASES) - fwd
    assert s["rx"] == s["tx"] + s["dropped"]
    assert s["dropped"] == sum(s["drops"].values())
    assert len(result.out) == fwd


def test_drops_by_reason(result):
    exp = collections.Counter(r for r, _, _ in CASES if r is not None)
    got = result.stats["drops"]
    assert set(h.DROP_REASONS) <= set(got), f"missing reasons: {set(h.DROP_REASONS) - set(got)}"
    want = {r: exp.get(r, 0) for r in got}
    mismatch = {r: (got[r], want[r]) for r in got if got[r] != want[r]}
    assert not mismatch, "reason: (counted, expected) " + repr(mismatch) + \
        "\ncases: " + repr([(r, l) for r, l, _ in CASES if r in mismatch])


def forwarded(result):
    fwd = [(label, p) for r, label, p in CASES if r is None]
    assert len(result.out) == len(fwd)
    return {label: (p, o) for (label, p), o in zip(fwd, result.out)}


def test_forwarded_packets(result):
    f = forwarded(result)
    for label, (p_in, p_out) in f.items():
        v6 = IPv6 in p_in
        be = BE6 if v6 else BE4
        assert p_out.dst == h.mac_of(be), label
        assert p_out.src == h.SLUICE_MAC, label
        L3 = IPv6 if v6 else IP
        assert p_out[L3].dst == h.norm(be), label
        assert p_out[L3].src == p_in[L3].src, label
        h.check_checksums(h.ip_bytes(p_out))


def test_ipv6_extension_headers_kept(result):
    p_in, p_out = forwarded(result)["tcp6 after hop-by-hop and destination options"]
    assert IPv6ExtHdrHopByHop in p_out and IPv6ExtHdrDestOpt in p_out
    assert p_out[TCP].dport == 8080
    assert raw(p_out[TCP].payload) == b"ext"
    assert len(h.ip_bytes(p_out)) == len(h.ip_bytes(p_in))
    h.check_checksums(h.ip_bytes(p_out))


def test_vlan_tag_stripped(result):
    p_in, p_out = forwarded(result)["vlan"]
    assert Dot1Q not in p_out
    assert p_out.type == 0x0800
    b = raw(p_out)
    ip_in = h.ip_bytes(p_in)
    assert len(b) == 14 + len(ip_in)
    assert p_out[IP].dst == h.norm(BE4)
    assert p_out[TCP].dport == 8080
    assert raw(p_out[TCP].payload) == b"tagged"


def test_full_mtu_packet_forwarded(result):
    p_in, p_out = forwarded(result)["1500-byte IP packet, MTU 1500"]
    assert p_out[IP].len == 1500
    assert len(raw(p_out)) == 1514


def test_rule_counters_count_only_forwarded(result):
    rules = h.rule_counters(result.stats)
    assert rules[LB.rule_name("tcp4")]["packets"] == 3   # good, vlan, 1500 bytes
    assert rules[LB.rule_name("udp4")]["packets"] == 1
    assert rules[LB.rule_name("tcp6")]["packets"] == 2
    assert rules[LB.rule_name("nn4")]["packets"] == 0
    assert rules[LB.rule_name("nn6")]["packets"] == 0
    assert rules[LB.rule_name("empty")]["packets"] == 0


# The drops counted per frontend: those met once the packet's rule was found.
FRONTEND_DROPS = ("no_backend", "no_neighbour", "no_headroom", "mtu_exceeded", "ttl_exceeded",
                  "no_tx_queue", "other")


def test_frontend_counters(result):
    """Each frontend's packets, bytes, new flows and drops by reason, as the
    cases say: forwarded packets to its address; drops whose reason comes
    after the rule lookup (the parser's and no_frontend are nobody's); a new
    flow for every case packet that got past the backend choice (each case
    is a flow of its own: forwarded, or dropped later, no_neighbour or
    mtu_exceeded)."""
    names = {h.norm(a): f"{LB.name}/{fe['name']}" for fe in LB.frontends
             for a in [fe["properties"]["privateIPAddress"]]}
    want = {n: {"packets": 0, "bytes": 0, "newFlows": 0,
                "drops": {r: 0 for r in FRONTEND_DROPS}} for n in names.values()}
    for reason, _, p in CASES:
        if reason is not None and reason not in FRONTEND_DROPS:
            continue
        L3 = IPv6 if IPv6 in p else IP
        w = want[names[h.norm(p[L3].dst)]]
        if reason is None:
            w["packets"] += 1
            w["bytes"] += len(h.ip_bytes(p))
        elif reason in FRONTEND_DROPS:
            w["drops"][reason] += 1
        if reason in (None, "no_neighbour", "mtu_exceeded"):
            w["newFlows"] += 1
    got = {f["name"]: f for f in result.stats["frontends"]}
    assert set(got) == set(want)
    for n, w in want.items():
        g = got[n]
        assert h.norm(g["address"]) in names and names[h.norm(g["address"])] == n, g
        assert {k: g[k] for k in w} == w, n
        assert g["dropped"] == sum(w["drops"].values()), n
    # the cases reach every frontend and both kinds of drop
    assert want[f"{LB.name}/empty"]["drops"]["no_backend"] == 1
    assert want[f"{LB.name}/nn4"]["drops"]["no_neighbour"] == 1
    assert want[f"{LB.name}/fe4"]["drops"]["mtu_exceeded"] == 1
    # packets and bytes are the sums of the frontend's rules'
    rules = h.rule_counters(result.stats)
    assert got[f"{LB.name}/fe4"]["packets"] == sum(
        rules[LB.rule_name(r)]["packets"] for r in ("tcp4", "udp4"))
    assert got[f"{LB.name}/fe4"]["bytes"] == sum(
        rules[LB.rule_name(r)]["bytes"] for r in ("tcp4", "udp4"))


def test_ipv6_with_ipv4_mapped_address_is_dropped():
    """An IPv6 packet to ::ffff:<IPv4 VIP> is not for the IPv4 frontend: sluice
    keeps IPv4 addresses IPv4-mapped internally, and such addresses never
    appear on the wire (RFC 4291), so the parser refuses them.
    (Own run, so that a failure here leaves the cases above aligned.)"""
    pkts = [h.pkt(C6, "::ffff:" + FE4, "tcp", 1024, 80, b"mapped"),
            h.pkt(C6, "::ffff:" + FE4, "udp", 1025, 53, b"mapped"),
            h.pkt(C4, FE4, "tcp", 1026, 80, b"real")]
    r = h.run(CONFIG, pkts, NEIGHBOURS)
    leaked = [repr(p) for p in r.out if IPv6 in p]
    assert not leaked, "IPv6 packets forwarded by an IPv4 rule:\n" + "\n".join(leaked)
    assert h.drops_nonzero(r.stats) == {"ipv6_mapped_address": 2}
    assert r.stats["tx"] == 1
