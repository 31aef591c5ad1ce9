# SPDX-License-Identifier: BSD-3-Clause
"""What a forwarded packet looks like on the wire, per delivery mode and family.

One sluiced run carries every case: a DNAT load balancer and one Floating IP
load balancer per delivery mode (L2, IPinIP, GUE and VXLAN each on the
default and on a configured UDP port), each with an IPv4 and an IPv6
frontend and single-backend pools, so each input packet has exactly one
expected output.
Nothing in the input is dropped, so output i answers input i.
"""
import pytest
from scapy.all import IP, TCP, UDP, Ether, IPv6, raw
from scapy.layers.vxlan import VXLAN

import dphelpers as h

VXLAN_VNI = 0xABCDEF  # uses all 24 bits
GUE_PORT = 7777

# (vnet number, lb name, delivery mode, extra vnet settings)
MODES = [
    (1, "lb-dnat", None, {}),
    (2, "lb-l2", "L2", {}),
    (3, "lb-ipip", "IPinIP", {}),
    (4, "lb-gue", "GUE", {}),
    (5, "lb-gue7777", "GUE", {"udp_port": GUE_PORT}),
    (6, "lb-vxlan", "VXLAN", {"vni": VXLAN_VNI}),
    (7, "lb-vxlan4790", "VXLAN", {"vni": 1, "udp_port": 4790}),
]
# GUE and VXLAN cross families: IPv6 frontend -> IPv4 backend and the reverse
CROSS = [
    (8, "lb-gue-x", "GUE", {}),
    (9, "lb-vxlan-x", "VXLAN", {"vni": 99}),
]
LB_N = {m[1]: m[0] for m in MODES + CROSS}


def outer_family(lb, fam):
    """The backend's (outer) family for a packet of family fam to lb."""
    return 10 - fam if lb in ("lb-gue-x", "lb-vxlan-x") else fam


def build():
    vnets, lbs = [], []
    for n, name, mode, extra in MODES:
        vnets.append(h.make_vnet(n, mode=mode, **extra))
        lb = h.LB(name, n)
        lb.frontend("fe4", h.fe_addr(n, 10)).frontend("fe6", h.fe_addr(n, 10, v6=True))
        lb.pool("p4", [h.be_addr(n, 1, 11)]).pool("p6", [h.be_addr(n, 1, 11, v6=True)])
        floating = mode is not None
        if floating:
            lb.rule("tcp4", "fe4", "p4", "Tcp", 80, floating=True)
            lb.rule("udp4", "fe4", "p4", "Udp", 53, floating=True)
            lb.rule("tcp6", "fe6", "p6", "Tcp", 80, floating=True)
            lb.rule("udp6", "fe6", "p6", "Udp", 53, floating=True)
        else:
            # DNAT, backend ports different from the frontend ports but one
            lb.rule("tcp4", "fe4", "p4", "Tcp", 80, 8080)
            lb.rule("udp4", "fe4", "p4", "Udp", 53, 5353)
            lb.rule("tcp6", "fe6", "p6", "Tcp", 80, 8081)
            lb.rule("udp6", "fe6", "p6", "Udp", 53, 53)
        lbs.append(lb)
    for n, name, mode, extra in CROSS:
        vnets.append(h.make_vnet(n, mode=mode, **extra))
        lb = h.LB(name, n)
        lb.frontend("fe4", h.fe_addr(n, 10)).frontend("fe6", h.fe_addr(n, 10, v6=True))
        lb.pool("p4", [h.be_addr(n, 1, 11)]).pool("p6", [h.be_addr(n, 1, 11, v6=True)])
        lb.rule("tcp4", "fe4", "p6", "Tcp", 80, floating=True)
        lb.rule("tcp6", "fe6", "p4", "Tcp", 80, floating=True)
        lbs.append(lb)
    return h.make_config(vnets, lbs), h.neighbours_of(lbs), lbs


CONFIG, NEIGHBOURS, LBS = build()
BACKEND_PORT = {("lb-dnat", "tcp", 4): 8080, ("lb-dnat", "udp", 4): 5353,
                ("lb-dnat", "tcp", 6): 8081, ("lb-dnat", "udp", 6): 53}

PAYLOAD = bytes(range(200)) * 2


def backend(n, fam):
    return h.be_addr(n, 1, 11, v6=fam == 6)


def cases():
    """(key, packet); key = (lb, proto, family, variant)."""
    out = []
    for n, name, mode, _ in MODES:
        for fam in (4, 6):
            v6 = fam == 6
            dst = h.fe_addr(n, 10, v6=v6)
            src = h.client(n * 10 + fam, v6=v6)
            # one TCP flow of two packets (SYN, then data) and one UDP datagram
            out.append(((name, "tcp", fam, "syn"), h.pkt(src, dst, "tcp", 40000 + n, 80, flags="S")))
            out.append(((name, "tcp", fam, "data"), h.pkt(src, dst, "tcp", 40000 + n, 80, PAYLOAD[:300 + n])))
            out.append(((name, "udp", fam, "data"), h.pkt(src, dst, "udp", 50000 + n, 53, PAYLOAD[:33 + n])))
    # edge cases on the DNAT rules
    out.append((("lb-dnat", "udp", 4, "nochecksum"),
                h.pkt(h.client(901), h.fe_addr(1, 10), "udp", 1234, 53, b"zero-checksum", udp_chksum=0)))
    short = h.pkt(h.client(902), h.fe_addr(1, 10), "udp", 1235, 53, b"hi")
    out.append((("lb-dnat", "udp", 4, "padded"), Ether(raw(short) + b"\x00" * (60 - len(short)))))
    out.append((("lb-vxlan", "udp", 4, "padded"),
                Ether(raw(h.pkt(h.client(903), h.fe_addr(6, 10), "udp", 1236, 53, b"hi")) + b"\xee" * 16)))
    for n, name, _, _ in CROSS:
        for fam in (4, 6):
            src, dst = h.client(n * 10 + fam, v6=fam == 6), h.fe_addr(n, 10, v6=fam == 6)
            out.append(((name, "tcp", fam, "syn"), h.pkt(src, dst, "tcp", 41000 + n, 80, flags="S")))
            out.append(((name, "tcp", fam, "data"), h.pkt(src, dst, "tcp", 41000 + n, 80, PAYLOAD[:99])))
    # checksums at the edge of ones'-complement arithmetic
    for fam in (4, 6):
        for proto in ("tcp", "udp"):
            out.append((("lb-dnat", proto, fam, "sum-to-zero-out"), checksum_edge(fam, proto, True)))
        out.append((("lb-dnat", "udp", fam, "sum-to-zero-in"), checksum_edge(fam, "udp", False)))
    # IPv4 options (IHL 6), TCP options
    opt = h.pkt(h.client(904), h.fe_addr(1, 10), "tcp", 1237, 80, b"opt")
    opt[IP].options = b"\x01\x01\x01\x00"  # NOP NOP NOP EOL
    opt[TCP].options = [("MSS", 1460), ("NOP", None), ("WScale", 7)]
    opt[IP].len = opt[IP].ihl = opt[IP].chksum = opt[TCP].chksum = opt[TCP].dataofs = None
    opt = Ether(raw(opt))
    assert opt[IP].ihl == 6 and opt[TCP].dataofs == 7
    out.append((("lb-dnat", "tcp", 4, "options"), opt))
    for n, lb in ((2, "lb-l2"), (3, "lb-ipip")):
        o = opt.copy()
        o[IP].dst = h.fe_addr(n, 10)
        o[IP].chksum = o[TCP].chksum = None
        out.append(((lb, "tcp", 4, "options"), Ether(raw(o))))
    return out


def checksum_edge(fam, proto, after_dnat):
    """A packet whose TCP/UDP data sums to 0xffff (checksum 0; for UDP sent as
    0xffff) either after sluice's DNAT (after_dnat) or as sent by the client."""
    n = 1
    fe, be = h.fe_addr(n, 10, v6=fam == 6), backend(n, fam)
    src = h.client(905 + fam, v6=fam == 6)
    sport = 1240 + fam
    fport = 80 if proto == "tcp" else 53
    bport = BACKEND_PORT[("lb-dnat", proto, fam)]
    dst, dport = (be, bport) if after_dnat else (fe, fport)
    probe = h.pkt(src, dst, proto, sport, dport, b"\x00\x00edge")
    L4 = TCP if proto == "tcp" else UDP
    c = probe[L4].chksum
    word = (c if c != 0xFFFF else 0).to_bytes(2, "big")
    p = h.pkt(src, fe, proto, sport, fport, word + b"edge")
    target = h.pkt(src, dst, proto, sport, dport, word + b"edge")
    assert target[L4].chksum == (0xFFFF if proto == "udp" else 0)
    return p


CASES = cases()


@pytest.fixture(scope="module")
def result():
    r = h.run(CONFIG, [p for _, p in CASES], NEIGHBOURS)
    assert len(r.out) == len(CASES), (
        f"{len(CASES)} packets in, {len(r.out)} out; drops {h.drops_nonzero(r.stats)}\n{r.stdout}")
    return r


def pairs(result, lb, proto=None, fam=None, variant=None):
    sel = []
    for (key, p_in), p_out in zip(CASES, result.out):
        if key[0] == lb and (proto is None or key[1] == proto) and \
                (fam is None or key[2] == fam) and (variant is None or key[3] == variant):
            sel.append((key, p_in, p_out))
    assert sel
    return sel


def test_no_drops_and_counters(result):
    s = result.stats
    assert s["rx"] == len(CASES)
    assert s["tx"] == len(CASES)
    assert s["dropped"] == 0
    assert h.drops_nonzero(s) == {}
    assert s["generation"] == 1
    # every rule and backend is listed, with the packets and IP bytes it carried
    rules = h.rule_counters(s)
    backends = h.backend_counters(s)
    exp_rule = {}
    exp_be = {}
    for (lb, proto, fam, _), p in CASES:
        rname = f"{lb}/{proto}{fam}"
        ofam = outer_family(lb, fam)
        bname = f"{lb}/p{ofam}/a0"
        ln = len(h.ip_bytes(p))
        for d, k in ((exp_rule, rname), (exp_be, bname)):
            c = d.setdefault(k, [0, 0])
            c[0] += 1
            c[1] += ln
        assert backends[bname]["address"] == h.norm(backend(LB_N[lb], ofam))
    assert {k: [v["packets"], v["bytes"]] for k, v in rules.items()} == exp_rule
    # backends of the cross-family load balancers' unused pools carry nothing
    for lb in ("lb-gue-x", "lb-vxlan-x"):
        for fam in (4, 6):
            exp_be.setdefault(f"{lb}/p{fam}/a0", [0, 0])
    assert {k: [v["packets"], v["bytes"]] for k, v in backends.items()} == exp_be


@pytest.mark.parametrize("fam", [4, 6])
@pytest.mark.parametrize("proto", ["tcp", "udp"])
def test_dnat(result, proto, fam):
    for key, p_in, p_out in pairs(result, "lb-dnat", proto, fam):
        if key[3] in ("nochecksum", "padded"):
            continue  # checked below
        be = backend(1, fam)
        bport = BACKEND_PORT[("lb-dnat", proto, fam)]
        assert p_out[Ether].dst == h.mac_of(be)
        assert p_out[Ether].src == h.SLUICE_MAC
        assert p_out[Ether].type == (0x86DD if fam == 6 else 0x0800)
        L3 = IPv6 if fam == 6 else IP
        L4 = TCP if proto == "tcp" else UDP
        ip_in, ip_out = p_in[L3], p_out[L3]
        assert ip_out.src == ip_in.src
        assert ip_out.dst == h.norm(be)
        assert ip_out[L4].sport == ip_in[L4].sport
        assert ip_out[L4].dport == bport
        assert bytes(ip_out[L4].payload) == bytes(ip_in[L4].payload)
        if fam == 4:
            # DNAT routes: the TTL goes down by one
            assert (ip_out.ttl, ip_out.id, ip_out.len, ip_out.proto) == \
                (ip_in.ttl - 1, ip_in.id, ip_in.len, ip_in.proto)
        else:
            assert (ip_out.hlim, ip_out.plen, ip_out.nh) == (ip_in.hlim - 1, ip_in.plen, ip_in.nh)
        h.check_checksums(h.ip_bytes(p_out))
        # and the whole IP packet is what scapy builds from the rewritten fields
        exp = L3(h.ip_bytes(p_in))
        exp.dst = be
        exp[L4].dport = bport
        exp[L4].chksum = None
        if fam == 4:
            exp.ttl -= 1
            exp.chksum = None
        else:
            exp.hlim -= 1
        assert h.ip_bytes(p_out) == raw(exp)
        assert len(p_out) == 14 + len(raw(exp))


@pytest.mark.parametrize("fam", [4, 6])
@pytest.mark.parametrize("proto", ["tcp", "udp"])
def test_dnat_checksum_that_sums_to_zero(result, proto, fam):
    """A rewritten TCP checksum of 0 is 0x0000; a UDP one is sent as 0xffff (RFC 768)."""
    (key, p_in, p_out), = pairs(result, "lb-dnat", proto, fam, "sum-to-zero-out")
    L4 = TCP if proto == "tcp" else UDP
    assert p_out[L4].chksum == (0xFFFF if proto == "udp" else 0)
    h.check_checksums(h.ip_bytes(p_out))


@pytest.mark.parametrize("fam", [4, 6])
def test_dnat_udp_checksum_ffff_from_client(result, fam):
    (key, p_in, p_out), = pairs(result, "lb-dnat", "udp", fam, "sum-to-zero-in")
    assert p_in[UDP].chksum == 0xFFFF
    h.check_checksums(h.ip_bytes(p_out))


def test_ipv4_and_tcp_options(result):
    (key, p_in, p_out), = pairs(result, "lb-dnat", "tcp", 4, "options")
    assert p_out[IP].ihl == 6 and p_out[TCP].dataofs == 7
    assert raw(p_out[IP])[20:24] == b"\x01\x01\x01\x00"
    assert p_out[TCP].options == p_in[TCP].options
    (key, p_in, p_out), = pairs(result, "lb-l2", "tcp", 4, "options")
    assert raw(p_out)[14:] == h.ip_bytes(p_in)
    (key, p_in, p_out), = pairs(result, "lb-ipip", "tcp", 4, "options")
    assert raw(p_out)[34:] == h.ip_bytes(p_in)


def test_dnat_udp_zero_checksum_stays_zero(result):
    (key, p_in, p_out), = pairs(result, "lb-dnat", "udp", 4, "nochecksum")
    assert p_out[IP].dst == h.norm(backend(1, 4))
    assert p_out[UDP].dport == 5353
    assert p_out[UDP].chksum == 0
    h.check_checksums(h.ip_bytes(p_out))


def test_dnat_strips_ethernet_padding(result):
    (key, p_in, p_out), = pairs(result, "lb-dnat", "udp", 4, "padded")
    assert len(raw(p_in)) == 60
    ip = h.ip_bytes(p_in)
    assert len(raw(p_out)) == 14 + len(ip)
    assert p_out[UDP].dport == 5353
    assert bytes(p_out[UDP].payload) == b"hi"
    h.check_checksums(raw(p_out)[14:])


@pytest.mark.parametrize("fam", [4, 6])
def test_floating_l2(result, fam):
    for key, p_in, p_out in pairs(result, "lb-l2", fam=fam):
        be = backend(2, fam)
        assert p_out[Ether].dst == h.mac_of(be)
        assert p_out[Ether].src == h.SLUICE_MAC
        assert p_out[Ether].type == (0x86DD if fam == 6 else 0x0800)
        # the IP packet is untouched: still addressed to the frontend and its port
        assert raw(p_out)[14:] == h.ip_bytes(p_in)


def outer_checks(p_out, fam, be, inner_len, proto, extra):
    """Ethernet and outer IP header of a tunnelled packet; returns the outer IP layer."""
    assert p_out[Ether].dst == h.mac_of(be)
    assert p_out[Ether].src == h.SLUICE_MAC
    b = raw(p_out)
    if fam == 4:
        assert p_out[Ether].type == 0x0800
        o = IP(b[14:])
        assert o.version == 4 and o.ihl == 5
        assert o.src == h.PORT_IPV4
        assert o.dst == h.norm(be)
        assert o.proto == proto
        assert o.ttl == 64
        assert o.frag == 0 and not (o.flags & 1)  # not a fragment
        assert o.len == 20 + extra + inner_len
        assert len(b) == 14 + o.len
        want = IP(b[14:34])
        want.chksum = None
        assert o.chksum == IP(raw(want)).chksum
        return o
    assert p_out[Ether].type == 0x86DD
    o = IPv6(b[14:])
    assert o.version == 6
    assert o.src == h.norm(h.PORT_IPV6)
    assert o.dst == h.norm(be)
    assert o.nh == proto
    assert o.hlim == 64
    assert o.plen == extra + inner_len
    assert len(b) == 14 + 40 + o.plen
    return o


@pytest.mark.parametrize("fam", [4, 6])
def test_floating_ipip(result, fam):
    for key, p_in, p_out in pairs(result, "lb-ipip", fam=fam):
        inner = h.ip_bytes(p_in)
        be = backend(3, fam)
        outer_checks(p_out, fam, be, len(inner), 41 if fam == 6 else 4, 0)
        hl = 20 if fam == 4 else 40
        assert raw(p_out)[14 + hl:] == inner


def udp_tunnel(result, lb, n, fam, port, hdr_len):
    """Checks the outer headers of lb's packets of (inner) family fam; yields
    (key, input packet, UDP payload, inner IP packet)."""
    sports = {}
    ofam = outer_family(lb, fam)
    for key, p_in, p_out in pairs(result, lb, fam=fam):
        inner = h.ip_bytes(p_in)
        be = backend(n, ofam)
        outer_checks(p_out, ofam, be, len(inner) + hdr_len, 17, 8)
        b = raw(p_out)
        hl = 20 if ofam == 4 else 40
        u = UDP(b[14 + hl:14 + hl + 8])
        assert u.dport == port
        assert 49152 <= u.sport <= 65535
        assert u.len == 8 + hdr_len + len(inner)
        if ofam == 4:
            assert u.chksum == 0
        else:
            assert u.chksum != 0
            h.check_checksums(b[14:])
        L3 = IPv6 if fam == 6 else IP
        L4 = TCP if key[1] == "tcp" else UDP
        flow = (key[1], p_in[L3].src, p_in[L4].sport)
        sports.setdefault(flow, set()).add(u.sport)
        yield key, p_in, b[14 + hl + 8:], inner
    # the entropy source port is a function of the flow: one per flow
    assert all(len(s) == 1 for s in sports.values()), sports


@pytest.mark.parametrize("fam", [4, 6])
@pytest.mark.parametrize("lb,n,port", [("lb-gue", 4, 6080), ("lb-gue7777", 5, GUE_PORT),
                                       ("lb-gue-x", 8, 6080)])
def test_floating_gue(result, lb, n, port, fam):
    for key, p_in, payload, inner in udp_tunnel(result, lb, n, fam, port, 0):
        assert payload == inner


@pytest.mark.parametrize("fam", [4, 6])
@pytest.mark.parametrize("lb,n,port,vni", [("lb-vxlan", 6, 4789, VXLAN_VNI), ("lb-vxlan4790", 7, 4790, 1),
                                           ("lb-vxlan-x", 9, 4789, 99)])
def test_floating_vxlan(result, lb, n, port, vni, fam):
    for key, p_in, payload, inner in udp_tunnel(result, lb, n, fam, port, 8 + 14):
        be = backend(n, outer_family(lb, fam))
        vx = VXLAN(payload[:8])
        assert payload[0] == 0x08  # I flag: VNI valid
        assert payload[1:4] == b"\x00\x00\x00" and payload[7] == 0
        assert vx.vni == vni
        ie = Ether(payload[8:])
        assert ie.dst == h.mac_of(be)
        assert ie.src == h.SLUICE_MAC
        assert ie.type == (0x86DD if fam == 6 else 0x0800)
        assert payload[8 + 14:] == inner


def test_vxlan_strips_padding(result):
    (key, p_in, p_out), = pairs(result, "lb-vxlan", "udp", 4, "padded")
    inner = h.ip_bytes(p_in)
    assert len(inner) == 20 + 8 + 2
    assert len(raw(p_out)) == 14 + 20 + 8 + 8 + 14 + len(inner)
    assert raw(p_out)[-len(inner):] == inner
