# SPDX-License-Identifier: BSD-3-Clause
"""The slow path: what sluice sends besides client -> backend packets.

One sluiced run per topic (module-scoped fixtures); outputs are found by
content (a marker in each payload, addresses, IP identification) rather
than by position, since the control thread's answers leave after the
packets the worker forwards:
- DNAT replies: backend:backendPort -> client:clientPort leaves as
  frontend:frontendPort -> client:clientPort, to the MAC (and VLAN) the
  request came from; a reply with no flow is dropped (reply_no_flow).
- TTL: DNAT decrements it; TTL 1 is dropped with an ICMP time exceeded back.
- Fragments to a frontend: all of a datagram to one backend (3-tuple), DNAT
  on every fragment, the port on the first; Floating IP delivers unchanged.
- ICMP errors quoting a frontend's packet go to the backend of the flow.
- The control thread: ARP, ping, Neighbor Solicitations of frontends and
  the port's addresses; with neighbourDiscovery, gratuitous ARP / unsolicited
  NA for frontends and requests for backends without a static neighbour.
- VLAN tags of the port and of a virtual network.
"""
import ipaddress

import pytest
from scapy.all import (ARP, ICMP, IP, TCP, UDP, Dot1Q, Ether, ICMPv6EchoReply,
                       ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr,
                       ICMPv6NDOptSrcLLAddr, ICMPv6PacketTooBig, ICMPv6TimeExceeded, IPv6,
                       IPv6ExtHdrFragment, Raw, raw)

import dphelpers as h

FPORT = {"tcp": 80, "udp": 53}
L4 = {"tcp": TCP, "udp": UDP}


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def cmac(i):
    """A distinct client-side MAC per case (the router a packet came through)."""
    return "02:c1:00:00:%02x:%02x" % (i >> 8, i & 0xFF)


def frame(l3, src_mac, dst_mac=h.SLUICE_MAC, vlan=None):
    """An Ethernet frame (tagged when vlan) around a scapy IP/ARP packet, as bytes on the wire."""
    e = Ether(dst=dst_mac, src=src_mac)
    if vlan is not None:
        e = e / Dot1Q(vlan=vlan)
    return Ether(raw(e / l3))


def l3pkt(fam, src, dst, proto, sport, dport, payload, ttl=64, ip_id=0x4321):
    ip = IPv6(src=src, dst=dst, hlim=ttl) if fam == 6 else IP(src=src, dst=dst, ttl=ttl, id=ip_id)
    l4 = TCP(sport=sport, dport=dport, flags="A", seq=1000, ack=77) if proto == "tcp" \
        else UDP(sport=sport, dport=dport)
    return ip / l4 / Raw(payload)


def vlan_of(f):
    return f[Dot1Q].vlan if Dot1Q in f else None


def ip_of(f):
    b = h.ip_bytes(f)
    return h.ip_class(b)(b)


def with_marker(out, marker):
    return [f for f in out if marker in raw(f)]


def one_with(out, marker):
    got = with_marker(out, marker)
    assert len(got) == 1, f"{len(got)} frames carry {marker!r}"
    return got[0]


def ones_sum(b):
    if len(b) % 2:
        b += b"\x00"
    s = sum(int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b), 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def check_icmp(ip_raw):
    """The checksums of an ICMP(v6) message on the wire: the IPv4 header, the
    ICMP(v6) checksum (ICMPv6 with its pseudo-header) and, for an error, the
    quoted IPv4 header's. (The quoted TCP/UDP checksum is not checked: sluice
    leaves it as quoted.) Returns the dissected packet."""
    if ip_raw[0] >> 4 == 4:
        ihl = (ip_raw[0] & 0xF) * 4
        assert ip_raw[9] == 1, "not ICMP"
        assert ones_sum(ip_raw[:ihl]) == 0xFFFF, "IPv4 header checksum"
        icmp = ip_raw[ihl:]
        assert ones_sum(icmp) == 0xFFFF, "ICMP checksum"
        if icmp[0] in (3, 11, 12):
            q = icmp[8:]
            qihl = (q[0] & 0xF) * 4
            assert ones_sum(q[:qihl]) == 0xFFFF, "quoted IPv4 header checksum"
        return IP(ip_raw)
    assert ip_raw[6] == 58, "not ICMPv6 right after the IPv6 header"
    icmp = ip_raw[40:]
    pseudo = ip_raw[8:40] + len(icmp).to_bytes(4, "big") + b"\x00\x00\x00\x3a"
    assert ones_sum(pseudo + icmp) == 0xFFFF, "ICMPv6 checksum"
    return IPv6(ip_raw)


def drops(r):
    return h.drops_nonzero(r.stats)


def paths(r):
    return {k: v for k, v in r.stats["paths"].items() if v}


# --------------------------------------------------------------------------
# 1. DNAT return path
# --------------------------------------------------------------------------

R_N = 1
R_FE = {4: h.fe_addr(R_N, 20), 6: h.fe_addr(R_N, 20, v6=True)}
R_POOL = {4: [h.be_addr(R_N, 2, x) for x in (11, 12, 13)],
          6: [h.be_addr(R_N, 2, x, v6=True) for x in (11, 12, 13)]}
R_BPORT = {(4, "tcp"): 8080, (4, "udp"): 5353, (6, "tcp"): 8081, (6, "udp"): 5354}
REPLY_TTL = 50


def reply_build():
    lb = h.LB("lb-reply", R_N)
    lb.frontend("fe4", R_FE[4]).frontend("fe6", R_FE[6]).pool("p4", R_POOL[4]).pool("p6", R_POOL[6])
    for (fam, proto), bport in R_BPORT.items():
        lb.rule(f"{proto}{fam}", f"fe{fam}", f"p{fam}", proto.capitalize(), FPORT[proto], bport)
    return h.make_config([h.make_vnet(R_N)], [lb]), h.neighbours_of([lb]), lb


R_CONFIG, R_NEIGHBOURS, R_LB = reply_build()
# (name, family, protocol, client index, client port, VLAN tag of the request)
R_CASES = [
    ("tcp4", 4, "tcp", 1, 40001, None),
    ("udp4", 4, "udp", 2, 40002, None),
    ("tcp6", 6, "tcp", 3, 40003, None),
    ("udp6", 6, "udp", 4, 40004, None),
    ("tcp4-vlan", 4, "tcp", 5, 40005, 300),
]
R_NOFLOW = [(4, "tcp", 90, 41000), (6, "udp", 91, 41001)]


def reply_packets():
    pkts = []
    for name, fam, proto, ci, cport, vlan in R_CASES:
        c = h.client(ci, v6=fam == 6)
        pkts.append(frame(l3pkt(fam, c, R_FE[fam], proto, cport, FPORT[proto],
                                b"REQ:" + name.encode() + b";"), cmac(ci), vlan=vlan))
        # the backends' answers: one per pool member; only the one the request went to has a flow
        for k, be in enumerate(R_POOL[fam]):
            pkts.append(frame(l3pkt(fam, be, c, proto, R_BPORT[(fam, proto)], cport,
                                    f"REP:{name}:{k}".encode(), ttl=REPLY_TTL), h.mac_of(be)))
    for fam, proto, ci, cport in R_NOFLOW:
        be = R_POOL[fam][0]
        pkts.append(frame(l3pkt(fam, be, h.client(ci, v6=fam == 6), proto, R_BPORT[(fam, proto)],
                                cport, b"NOFLOW", ttl=REPLY_TTL), h.mac_of(be)))
    return pkts


@pytest.fixture(scope="module")
def replies():
    return h.run(R_CONFIG, reply_packets(), R_NEIGHBOURS)


def test_reply_counters(replies):
    n = len(R_CASES)
    # per case: the request and one reply out; the other two backends' replies have no flow
    assert drops(replies) == {"reply_no_flow": 2 * n + len(R_NOFLOW)}
    assert paths(replies) == {"reply": n}
    assert replies.stats["rx"] == n * 4 + len(R_NOFLOW)
    assert replies.stats["tx"] == 2 * n
    assert len(replies.out) == 2 * n
    rules = h.rule_counters(replies.stats)
    for (fam, proto) in R_BPORT:
        want = 2 * sum(1 for c in R_CASES if c[1] == fam and c[2] == proto)
        assert rules[R_LB.rule_name(f"{proto}{fam}")]["packets"] == want


@pytest.mark.parametrize("case", R_CASES, ids=[c[0] for c in R_CASES])
def test_reply_rewritten_to_frontend(replies, case):
    name, fam, proto, ci, cport, vlan = case
    c = h.client(ci, v6=fam == 6)
    bport = R_BPORT[(fam, proto)]
    # the request: DNAT'd to one backend of the pool, TTL decremented
    req = one_with(replies.out, b"REQ:" + name.encode() + b";")
    rip = ip_of(req)
    be = rip.dst
    assert be in [h.norm(a) for a in R_POOL[fam]]
    assert req.dst == h.mac_of(be) and vlan_of(req) is None
    assert rip[L4[proto]].dport == bport
    assert (rip.hlim if fam == 6 else rip.ttl) == 63
    h.check_checksums(h.ip_bytes(req))
    # the reply from that backend (and only that one) leaves as frontend -> client
    k = [h.norm(a) for a in R_POOL[fam]].index(be)
    outs = [f for f in replies.out if f"REP:{name}:".encode() in raw(f)]
    assert len(outs) == 1, f"{len(outs)} replies out for {name}"
    rep = outs[0]
    assert f"REP:{name}:{k}".encode() in raw(rep), "the reply of another backend got out"
    assert rep.dst == cmac(ci), "not sent to the MAC the request came from"
    assert rep.src == h.SLUICE_MAC
    assert vlan_of(rep) == vlan
    ip = ip_of(rep)
    assert ip.src == h.norm(R_FE[fam]) and ip.dst == h.norm(c)
    assert ip[L4[proto]].sport == FPORT[proto] and ip[L4[proto]].dport == cport
    assert (ip.hlim if fam == 6 else ip.ttl) == REPLY_TTL - 1
    assert raw(ip[L4[proto]].payload) == f"REP:{name}:{k}".encode()
    h.check_checksums(h.ip_bytes(rep), allow_zero_udp_v4=False)


def test_reply_without_flow_not_forwarded(replies):
    assert not with_marker(replies.out, b"NOFLOW")


# --------------------------------------------------------------------------
# 2. TTL
# --------------------------------------------------------------------------

T_N, T_FIP_N = 1, 2
T_FE = {4: h.fe_addr(T_N, 21), 6: h.fe_addr(T_N, 21, v6=True)}
T_BE = {4: h.be_addr(T_N, 3, 11), 6: h.be_addr(T_N, 3, 11, v6=True)}
T_FIP_FE = h.fe_addr(T_FIP_N, 21)
T_FIP_BE = h.be_addr(T_FIP_N, 3, 11)


def ttl_build():
    lb = h.LB("lb-ttl", T_N).frontend("fe4", T_FE[4]).frontend("fe6", T_FE[6])
    lb.pool("p4", [T_BE[4]]).pool("p6", [T_BE[6]])
    lb.rule("tcp4", "fe4", "p4", "Tcp", 80, 8080).rule("udp4", "fe4", "p4", "Udp", 53, 53)
    lb.rule("tcp6", "fe6", "p6", "Tcp", 80, 8080).rule("udp6", "fe6", "p6", "Udp", 53, 53)
    fip = h.LB("lb-ttl-fip", T_FIP_N).frontend("fe4", T_FIP_FE).pool("p4", [T_FIP_BE])
    fip.rule("tcp4", "fe4", "p4", "Tcp", 80, floating=True)
    return (h.make_config([h.make_vnet(T_N), h.make_vnet(T_FIP_N, mode="L2")], [lb, fip]),
            h.neighbours_of([lb, fip]))


T_CONFIG, T_NEIGHBOURS = ttl_build()
# (name, family, protocol, client index, TTL, VLAN, destination)
T_CASES = [
    ("ttl1-tcp4", 4, "tcp", 11, 1, None, T_FE[4]),
    ("ttl1-udp6", 6, "udp", 12, 1, None, T_FE[6]),
    ("ttl1-tcp4-vlan", 4, "tcp", 13, 1, 42, T_FE[4]),
    ("ttl2-udp4", 4, "udp", 14, 2, None, T_FE[4]),
    ("ttl1-fip", 4, "tcp", 15, 1, None, T_FIP_FE),
]


T_REPLY_CLIENT = 16


def ttl_packets():
    pkts = [frame(l3pkt(fam, h.client(ci, v6=fam == 6), dst, proto, 30000 + ci, FPORT[proto],
                        name.encode() * 3, ttl=ttl), cmac(ci), vlan=vlan)
            for name, fam, proto, ci, ttl, vlan, dst in T_CASES]
    # a DNAT reply with TTL 1: the time exceeded goes back to the backend
    c = h.client(T_REPLY_CLIENT)
    pkts.append(frame(l3pkt(4, c, T_FE[4], "udp", 30016, 53, b"ttl-request"), cmac(T_REPLY_CLIENT)))
    pkts.append(frame(l3pkt(4, T_BE[4], c, "udp", 53, 30016, b"ttl1-reply", ttl=1), h.mac_of(T_BE[4])))
    return pkts


@pytest.fixture(scope="module")
def ttl():
    pkts = ttl_packets()
    return h.run(T_CONFIG, pkts, T_NEIGHBOURS), pkts


def test_ttl_counters(ttl):
    r, _ = ttl
    assert drops(r) == {"ttl_exceeded": 4}
    assert paths(r) == {"icmp_sent": 4}
    assert len(r.out) == 4 + 3   # time exceeded, and ttl2, fip and the request forwarded


@pytest.mark.parametrize("i", [0, 1, 2], ids=[c[0] for c in T_CASES[:3]])
def test_ttl_1_gets_time_exceeded(ttl, i):
    r, pkts = ttl
    name, fam, proto, ci, _, vlan, dst = T_CASES[i]
    orig = h.ip_bytes(pkts[i])
    outs = with_marker(r.out, name.encode() * 3)
    assert len(outs) == 1, "the packet itself left, or no ICMP error quoting it"
    f = outs[0]
    assert f.dst == cmac(ci) and f.src == h.SLUICE_MAC
    assert vlan_of(f) == vlan
    b = h.ip_bytes(f)
    ip = check_icmp(b)
    if fam == 4:
        assert ip.src == h.PORT_IPV4 and ip.dst == h.client(ci)
        assert ip[ICMP].type == 11 and ip[ICMP].code == 0
        quoted = b[ip.ihl * 4 + 8:]
    else:
        assert ip.src == h.norm(h.PORT_IPV6) and ip.dst == h.norm(h.client(ci, v6=True))
        assert ICMPv6TimeExceeded in ip and ip[ICMPv6TimeExceeded].code == 0
        quoted = b[48:]
    assert quoted == orig, "the quote is not the packet as it arrived"


def test_reply_ttl_1_time_exceeded_to_backend(ttl):
    r, pkts = ttl
    assert ip_of(one_with(r.out, b"ttl-request")).dst == T_BE[4]
    f = one_with(r.out, b"ttl1-reply")
    assert f.dst == h.mac_of(T_BE[4]) and f.src == h.SLUICE_MAC
    b = h.ip_bytes(f)
    ip = check_icmp(b)
    assert ip.src == h.PORT_IPV4 and ip.dst == T_BE[4]
    assert ip[ICMP].type == 11 and ip[ICMP].code == 0
    assert b[ip.ihl * 4 + 8:] == h.ip_bytes(pkts[-1])


def test_ttl_2_forwarded_with_ttl_1(ttl):
    r, _ = ttl
    f = one_with(r.out, b"ttl2-udp4" * 3)
    ip = ip_of(f)
    assert ip.ttl == 1 and ip.dst == T_BE[4] and f.dst == h.mac_of(T_BE[4])
    h.check_checksums(h.ip_bytes(f))


def test_floating_ip_keeps_ttl(ttl):
    r, pkts = ttl
    f = one_with(r.out, b"ttl1-fip" * 3)
    assert h.ip_bytes(f) == h.ip_bytes(pkts[4])
    assert f.dst == h.mac_of(T_FIP_BE)


# --------------------------------------------------------------------------
# 3. Fragments
# --------------------------------------------------------------------------

F_N, F_FIP_N = 1, 2
F_FE = {4: h.fe_addr(F_N, 22), 6: h.fe_addr(F_N, 22, v6=True)}
F_HA4 = h.fe_addr(F_N, 23)
F_POOL = {4: [h.be_addr(F_N, 4, x) for x in (11, 12, 13)],
          6: [h.be_addr(F_N, 4, x, v6=True) for x in (11, 12, 13)]}
F_BPORT = {4: 5353, 6: 5354}
F_FIP_FE = {4: h.fe_addr(F_FIP_N, 22), 6: h.fe_addr(F_FIP_N, 22, v6=True)}
F_FIP_POOL = {4: [h.be_addr(F_FIP_N, 4, x) for x in (11, 12)],
              6: [h.be_addr(F_FIP_N, 4, x, v6=True) for x in (11, 12)]}
F_CHUNK = 416          # fragment payload bytes (a multiple of 8)
F_PAYLOAD = 1200       # UDP payload: 1208 bytes of UDP = 3 fragments


def frag_build():
    lb = h.LB("lb-frag", F_N).frontend("fe4", F_FE[4]).frontend("fe6", F_FE[6])
    lb.frontend("ha4", F_HA4)
    lb.pool("p4", F_POOL[4]).pool("p6", F_POOL[6])
    lb.rule("udp4", "fe4", "p4", "Udp", 53, F_BPORT[4]).rule("udp6", "fe6", "p6", "Udp", 53, F_BPORT[6])
    lb.rule("ha4", "ha4", "p4", "All", 0, 0)
    fip = h.LB("lb-frag-fip", F_FIP_N).frontend("fe4", F_FIP_FE[4]).frontend("fe6", F_FIP_FE[6])
    fip.pool("p4", F_FIP_POOL[4]).pool("p6", F_FIP_POOL[6])
    fip.rule("udp4", "fe4", "p4", "Udp", 53, floating=True)
    fip.rule("udp6", "fe6", "p6", "Udp", 53, floating=True)
    return (h.make_config([h.make_vnet(F_N), h.make_vnet(F_FIP_N, mode="L2")], [lb, fip]),
            h.neighbours_of([lb, fip]))


F_CONFIG, F_NEIGHBOURS = frag_build()


class Datagram:
    """A UDP datagram src -> dst:53 and its fragments (IP packets, in order)."""

    def __init__(self, fam, ci, dst, sport, ident, nfrags=3):
        self.fam, self.ci, self.dst, self.sport, self.id = fam, ci, dst, sport, ident
        self.src = h.client(ci, v6=fam == 6)
        self.payload = bytes((ident * 7 + k) % 251 for k in range(F_PAYLOAD))
        ip = IPv6(src=self.src, dst=dst) if fam == 6 else IP(src=self.src, dst=dst)
        whole = raw(ip / UDP(sport=sport, dport=53) / Raw(self.payload))
        self.udp = whole[40:] if fam == 6 else whole[20:]   # checksum set for the original
        self.frags = []
        for off in range(0, len(self.udp), F_CHUNK):
            chunk = self.udp[off:off + F_CHUNK]
            more = off + F_CHUNK < len(self.udp)
            if fam == 6:
                p = IPv6(src=self.src, dst=dst, hlim=64) / IPv6ExtHdrFragment(
                    nh=17, offset=off // 8, m=int(more), id=ident) / Raw(chunk)
            else:
                p = IP(src=self.src, dst=dst, ttl=64, id=ident, proto=17,
                       flags="MF" if more else 0, frag=off // 8) / Raw(chunk)
            self.frags.append(Ether(raw(Ether(dst=h.SLUICE_MAC, src=cmac(ci)) / p)))
        assert len(self.frags) == nfrags

    def key(self):
        return (h.norm(self.src), self.id)


def frag_key(f):
    """(source, fragment id) of a frame carrying an IP fragment; None otherwise."""
    ip = ip_of(f)
    if IPv6ExtHdrFragment in ip:
        return (ip.src, ip[IPv6ExtHdrFragment].id)
    if isinstance(ip, IP) and (ip.flags.MF or ip.frag):
        return (ip.src, ip.id)
    return None


def frag_fields(f):
    """(offset in bytes, payload after the IP/fragment header, the IP layer) of a fragment."""
    ip = ip_of(f)
    if IPv6ExtHdrFragment in ip:
        fh = ip[IPv6ExtHdrFragment]
        return fh.offset * 8, raw(fh.payload), ip
    return ip.frag * 8, raw(ip.payload), ip


def frag_cases():
    """(label, datagram, indexes of its fragments sent, expected fate)."""
    c = []
    # DNAT, IPv4: 12 sources, datagrams interleaved two by two
    for i in range(12):
        c.append(("dnat4", Datagram(4, 100 + i, F_FE[4], 20000 + i, 0x100 + i), None))
    # a second datagram of the first source (another port): same 3-tuple, same backend
    c.append(("dnat4-again", Datagram(4, 100, F_FE[4], 29999, 0x1FF), None))
    for i in range(6):
        c.append(("dnat6", Datagram(6, 200 + i, F_FE[6], 21000 + i, 0x70000 + i), None))
    c.append(("fip4", Datagram(4, 300, F_FIP_FE[4], 22000, 0x300), None))
    c.append(("fip6", Datagram(6, 301, F_FIP_FE[6], 22001, 0x70300), None))
    # fragments whose first never comes: dropped, but for an HA ports frontend
    c.append(("orphan4", Datagram(4, 400, F_FE[4], 23000, 0x400), [1, 2]))
    c.append(("orphan6", Datagram(6, 401, F_FE[6], 23001, 0x70400), [1, 2]))
    c.append(("reordered4", Datagram(4, 402, F_FE[4], 23002, 0x402), [1, 0, 2]))
    c.append(("ha-orphan4", Datagram(4, 403, F_HA4, 23003, 0x403), [2]))
    c.append(("ha4", Datagram(4, 403, F_HA4, 23004, 0x404), None))
    return c


F_CASES = frag_cases()


def frag_packets():
    pkts = []
    pending = []
    for label, d, order in F_CASES:
        idx = order if order is not None else list(range(len(d.frags)))
        if label == "dnat4" and order is None:
            pending.append([d.frags[i] for i in idx])
            if len(pending) == 2:   # two datagrams in flight at once
                for a, b in zip(*pending):
                    pkts += [a, b]
                pending = []
            continue
        pkts += [d.frags[i] for i in idx]
    assert not pending
    return pkts


@pytest.fixture(scope="module")
def frags():
    r = h.run(F_CONFIG, frag_packets(), F_NEIGHBOURS)
    by_key = {}
    for f in r.out:
        k = frag_key(f)
        assert k is not None, f"not a fragment: {f!r}"
        by_key.setdefault(k, []).append(f)
    return r, by_key


def test_fragment_counters(frags):
    r, by_key = frags
    sent = sum(len(order if order is not None else d.frags) for _, d, order in F_CASES)
    # orphan4: 2, orphan6: 2, reordered4: its second fragment, which came first
    assert drops(r) == {"fragment_no_rule": 5}
    assert r.stats["rx"] == sent
    assert r.stats["tx"] == sent - 5 == len(r.out)
    assert paths(r) == {"fragment": sent - 5}


def reassemble(fam, outs):
    """The UDP datagram (bytes) of a complete set of fragments."""
    parts = sorted(frag_fields(f)[:2] for f in outs)
    data = b""
    for off, chunk in parts:
        assert off == len(data), "fragments overlap or leave a hole"
        data += chunk
    return data


@pytest.mark.parametrize("fam", [4, 6])
def test_dnat_fragments_to_one_backend(frags, fam):
    r, by_key = frags
    pool = [h.norm(a) for a in F_POOL[fam]]
    used = {}
    for label, d, _ in F_CASES:
        if label not in (f"dnat{fam}", f"dnat{fam}-again"):
            continue
        outs = by_key.get(d.key(), [])
        assert len(outs) == 3, f"{label} from {d.src}: {len(outs)} of 3 fragments out"
        ips = [frag_fields(f)[2] for f in outs]
        be = {ip.dst for ip in ips}
        assert len(be) == 1, f"fragments of one datagram to {be}"
        be = be.pop()
        assert be in pool
        assert {f.dst for f in outs} == {h.mac_of(be)}
        assert {f.src for f in outs} == {h.SLUICE_MAC}
        for ip in ips:
            assert (ip.hlim if fam == 6 else ip.ttl) == 63
            assert ip.src == h.norm(d.src)
            if fam == 4:
                assert ones_sum(raw(ip)[:ip.ihl * 4]) == 0xFFFF, "IPv4 header checksum"
        # every fragment but the first carries the datagram's bytes unchanged
        for f in outs:
            off, chunk, _ = frag_fields(f)
            if off:
                assert chunk == d.udp[off:off + F_CHUNK]
        udp = reassemble(fam, outs)
        assert len(udp) == len(d.udp)
        first = UDP(udp)
        assert first.sport == d.sport and first.dport == F_BPORT[fam], "the first lacks the backend port"
        assert raw(first.payload) == d.payload
        # the reassembled datagram's UDP checksum holds for the backend's address and port
        ip = IPv6(src=d.src, dst=be, nh=17) if fam == 6 else IP(src=d.src, dst=be, proto=17)
        h.check_checksums(raw(ip / Raw(udp)), allow_zero_udp_v4=False)
        used.setdefault(h.norm(d.src), set()).add(be)
    # one backend per source (the 3-tuple), more than one over the sources
    assert all(len(v) == 1 for v in used.values()), used
    assert len({b for v in used.values() for b in v}) > 1, "every source went to one backend"


@pytest.mark.parametrize("fam", [4, 6])
def test_floating_ip_fragments_unchanged(frags, fam):
    r, by_key = frags
    d = next(d for label, d, _ in F_CASES if label == f"fip{fam}")
    outs = by_key.get(d.key(), [])
    assert len(outs) == 3
    assert len({f.dst for f in outs}) == 1
    assert outs[0].dst in [h.mac_of(a) for a in F_FIP_POOL[fam]]
    sent = sorted(h.ip_bytes(f) for f in d.frags)
    assert sorted(h.ip_bytes(f) for f in outs) == sent, "Floating IP changed a fragment"


def test_later_fragment_first_dropped(frags):
    r, by_key = frags
    for label in ("orphan4", "orphan6"):
        d = next(d for lb, d, _ in F_CASES if lb == label)
        assert d.key() not in by_key, f"{label} forwarded"
    # sent 2nd, 1st, 3rd: the 2nd is lost, the other two leave to one backend
    d = next(d for lb, d, _ in F_CASES if lb == "reordered4")
    outs = by_key.get(d.key(), [])
    assert sorted(frag_fields(f)[0] for f in outs) == [0, 2 * F_CHUNK]
    assert len({ip_of(f).dst for f in outs}) == 1


def test_ha_ports_frontend_places_later_fragments(frags):
    """An HA ports rule needs no port: a later fragment alone is forwarded, to
    the backend of its 3-tuple (that of a whole datagram of the same source)."""
    r, by_key = frags
    orphan = next(d for lb, d, _ in F_CASES if lb == "ha-orphan4")
    whole = next(d for lb, d, _ in F_CASES if lb == "ha4")
    o = by_key.get(orphan.key(), [])
    w = by_key.get(whole.key(), [])
    assert len(o) == 1 and len(w) == 3
    assert {ip_of(f).dst for f in o + w} == {ip_of(o[0]).dst}
    assert ip_of(o[0]).dst in [h.norm(a) for a in F_POOL[4]]
    assert UDP(reassemble(4, w)).dport == 53   # HA ports: no port rewrite


# --------------------------------------------------------------------------
# 4. ICMP errors to a frontend
# --------------------------------------------------------------------------

I_N, I_FIP_N = 1, 2
I_FE = {4: h.fe_addr(I_N, 24), 6: h.fe_addr(I_N, 24, v6=True)}
I_POOL = {4: [h.be_addr(I_N, 5, x) for x in (11, 12, 13)],
          6: [h.be_addr(I_N, 5, x, v6=True) for x in (11, 12, 13)]}
I_BPORT = {4: 8080, 6: 8081}
I_FIP_FE = h.fe_addr(I_FIP_N, 24)
I_FIP_POOL = [h.be_addr(I_FIP_N, 5, x) for x in (11, 12)]
ROUTER = {4: "203.0.113.1", 6: "2001:db8:ffff::1"}


def icmp_build():
    lb = h.LB("lb-icmp", I_N).frontend("fe4", I_FE[4]).frontend("fe6", I_FE[6])
    lb.pool("p4", I_POOL[4]).pool("p6", I_POOL[6])
    lb.rule("tcp4", "fe4", "p4", "Tcp", 80, I_BPORT[4]).rule("tcp6", "fe6", "p6", "Tcp", 80, I_BPORT[6])
    fip = h.LB("lb-icmp-fip", I_FIP_N).frontend("fe4", I_FIP_FE).pool("p4", I_FIP_POOL)
    fip.rule("tcp4", "fe4", "p4", "Tcp", 80, floating=True)
    return (h.make_config([h.make_vnet(I_N), h.make_vnet(I_FIP_N, mode="L2")], [lb, fip]),
            h.neighbours_of([lb, fip]))


I_CONFIG, I_NEIGHBOURS = icmp_build()
I_CLIENTS = {4: [(500 + i, 45000 + i) for i in range(6)], 6: [(600 + i, 46000 + i) for i in range(6)]}


def icmp_error(fam, fe, client, sport, dport, marker, mtu=None):
    """An ICMP error from a router to fe, quoting fe:sport -> client:dport (TCP)."""
    quoted = l3pkt(fam, fe, client, "tcp", sport, dport, marker, ip_id=0x777)
    if fam == 4:
        p = IP(src=ROUTER[4], dst=fe, ttl=60) / ICMP(type=3, code=4, nexthopmtu=mtu or 1400) / quoted
    else:
        p = IPv6(src=ROUTER[6], dst=fe, hlim=60) / ICMPv6PacketTooBig(mtu=mtu or 1280) / quoted
    return frame(p, h.ROUTER_MAC)


def icmp_packets():
    pkts = []
    for fam in (4, 6):
        for ci, cport in I_CLIENTS[fam]:
            c = h.client(ci, v6=fam == 6)
            pkts.append(frame(l3pkt(fam, c, I_FE[fam], "tcp", cport, 80, b"FLOW:%d" % ci), cmac(ci)))
    for fam in (4, 6):
        for ci, cport in I_CLIENTS[fam]:
            pkts.append(icmp_error(fam, I_FE[fam], h.client(ci, v6=fam == 6), 80, cport,
                                   b"ERR:%d" % ci))
        # quoting a port no rule has, and a source that is no frontend
        pkts.append(icmp_error(fam, I_FE[fam], h.client(1, v6=fam == 6), 81, 1234, b"NOPORT"))
        pkts.append(icmp_error(fam, I_FE[fam], h.client(1, v6=fam == 6), 80, 1234, b"NOTFE"))
        nf = pkts[-1]
        L3 = IPv6 if fam == 6 else IP
        q = nf[L3].payload.payload
        q.src = h.be_addr(I_N, 5, 99, v6=fam == 6)
        if fam == 4:
            q.chksum = None
            nf[ICMP].chksum = None
        else:
            nf[ICMPv6PacketTooBig].cksum = None
        pkts[-1] = Ether(raw(nf))
    # Floating IP: the client's flow, then an error quoting the frontend's packet
    pkts.append(frame(l3pkt(4, h.client(700), I_FIP_FE, "tcp", 47000, 80, b"FIPFLOW"), cmac(700)))
    pkts.append(icmp_error(4, I_FIP_FE, h.client(700), 80, 47000, b"FIPERR"))
    return pkts


@pytest.fixture(scope="module")
def icmp():
    pkts = icmp_packets()
    return h.run(I_CONFIG, pkts, I_NEIGHBOURS), pkts


def test_icmp_counters(icmp):
    r, _ = icmp
    assert drops(r) == {"icmp_no_flow": 4}
    n = len(I_CLIENTS[4]) + len(I_CLIENTS[6]) + 1
    assert paths(r) == {"icmp_error_forwarded": n}
    assert len(r.out) == 2 * n
    assert not with_marker(r.out, b"NOPORT") and not with_marker(r.out, b"NOTFE")


@pytest.mark.parametrize("fam", [4, 6])
def test_icmp_error_to_the_flows_backend(icmp, fam):
    r, pkts = icmp
    pool = [h.norm(a) for a in I_POOL[fam]]
    used = set()
    for ci, cport in I_CLIENTS[fam]:
        c = h.norm(h.client(ci, v6=fam == 6))
        be = ip_of(one_with(r.out, b"FLOW:%d" % ci)).dst
        assert be in pool
        used.add(be)
        f = one_with(r.out, b"ERR:%d" % ci)
        assert f.dst == h.mac_of(be) and f.src == h.SLUICE_MAC
        b = h.ip_bytes(f)
        ip = check_icmp(b)
        assert ip.src == h.norm(ROUTER[fam]) and ip.dst == be
        if fam == 4:
            assert ip[ICMP].type == 3 and ip[ICMP].code == 4 and ip[ICMP].nexthopmtu == 1400
            q = IP(b[ip.ihl * 4 + 8:])
        else:
            assert ip[ICMPv6PacketTooBig].mtu == 1280
            q = IPv6(b[48:])
        assert q.src == be and q.dst == c
        assert q[TCP].sport == I_BPORT[fam] and q[TCP].dport == cport
        assert raw(q[TCP].payload).startswith(b"ERR:%d" % ci)
    assert len(used) > 1, "all the clients went to one backend: the test proves little"


def test_icmp_error_floating_ip_unchanged(icmp):
    r, pkts = icmp
    # Floating IP keeps the frontend as destination: the backend is told by its MAC
    be_mac = one_with(r.out, b"FIPFLOW").dst
    assert be_mac in [h.mac_of(a) for a in I_FIP_POOL]
    f = one_with(r.out, b"FIPERR")
    assert f.dst == be_mac and f.src == h.SLUICE_MAC
    assert h.ip_bytes(f) == h.ip_bytes(pkts[-1])


# --------------------------------------------------------------------------
# 5. The control thread: ARP, ping, Neighbor Solicitation
# --------------------------------------------------------------------------

C_N = 1
C_FE = {4: h.fe_addr(C_N, 25), 6: h.fe_addr(C_N, 25, v6=True)}
C_BE = {4: h.be_addr(C_N, 6, 11), 6: h.be_addr(C_N, 6, 11, v6=True)}
ASKER = {4: "10.0.0.1", 6: "fe80::1"}
ASKER_MAC = "02:00:5e:00:00:fe"


def solicited_node(a):
    b = ipaddress.IPv6Address(a).packed
    return str(ipaddress.IPv6Address(b"\xff\x02" + b"\x00" * 9 + b"\x01\xff" + b[13:]))


def mcast_mac(a):
    b = ipaddress.IPv6Address(a).packed
    return "33:33:" + ":".join("%02x" % x for x in b[12:])


def ctl_build():
    lb = h.LB("lb-ctl", C_N).frontend("fe4", C_FE[4]).frontend("fe6", C_FE[6])
    lb.pool("p4", [C_BE[4]]).pool("p6", [C_BE[6]])
    lb.rule("tcp4", "fe4", "p4", "Tcp", 80).rule("tcp6", "fe6", "p6", "Tcp", 80)
    return h.make_config([h.make_vnet(C_N)], [lb]), h.neighbours_of([lb])


C_CONFIG, C_NEIGHBOURS = ctl_build()


def arp_request(tpa):
    return Ether(raw(Ether(dst="ff:ff:ff:ff:ff:ff", src=ASKER_MAC) /
                     ARP(op=1, hwsrc=ASKER_MAC, psrc=ASKER[4], pdst=tpa)))


def ns(target):
    return Ether(raw(Ether(dst=mcast_mac(solicited_node(target)), src=ASKER_MAC) /
                     IPv6(src=ASKER[6], dst=solicited_node(target), hlim=255) /
                     ICMPv6ND_NS(tgt=target) / ICMPv6NDOptSrcLLAddr(lladdr=ASKER_MAC)))


PING_ID, PING_SEQ = 0x5151, 7
C_PACKETS = [
    ("arp-fe4", arp_request(C_FE[4])),
    ("arp-port", arp_request(h.PORT_IPV4)),
    ("arp-unknown", arp_request(h.fe_addr(C_N, 99))),
    ("ping4", frame(IP(src=h.client(800), dst=C_FE[4]) /
                    ICMP(type=8, id=PING_ID, seq=PING_SEQ) / Raw(b"PING4" * 10), cmac(800))),
    ("ping6", frame(IPv6(src=h.client(801, v6=True), dst=C_FE[6]) /
                    ICMPv6EchoRequest(id=PING_ID, seq=PING_SEQ, data=b"PING6" * 10), cmac(801))),
    ("ns-fe6", ns(C_FE[6])),
    ("ns-port6", ns(h.PORT_IPV6)),
    ("ns-unknown", ns(h.fe_addr(C_N, 99, v6=True))),
]


@pytest.fixture(scope="module")
def ctl():
    return h.run(C_CONFIG, [p for _, p in C_PACKETS], C_NEIGHBOURS)


def test_control_counters(ctl):
    assert drops(ctl) == {}
    assert paths(ctl) == {"punted": len(C_PACKETS), "injected": 6}
    assert len(ctl.out) == 6, [f.summary() for f in ctl.out]


@pytest.mark.parametrize("target", [C_FE[4], h.PORT_IPV4], ids=["frontend", "port"])
def test_arp_reply(ctl, target):
    got = [f for f in ctl.out if ARP in f and f[ARP].op == 2 and f[ARP].psrc == target]
    assert len(got) == 1
    f = got[0]
    assert f.dst == ASKER_MAC and f.src == h.SLUICE_MAC and vlan_of(f) is None
    a = f[ARP]
    assert a.hwsrc == h.SLUICE_MAC and a.hwdst == ASKER_MAC and a.pdst == ASKER[4]
    assert len(raw(f)) >= 60


def test_no_arp_reply_for_unknown_address(ctl):
    assert not [f for f in ctl.out if ARP in f and f[ARP].psrc == h.fe_addr(C_N, 99)]
    assert len([f for f in ctl.out if ARP in f]) == 2


@pytest.mark.parametrize("fam", [4, 6])
def test_echo_reply(ctl, fam):
    marker = b"PING%d" % fam
    f = one_with(ctl.out, marker)
    ci = 800 if fam == 4 else 801
    assert f.dst == cmac(ci) and f.src == h.SLUICE_MAC
    ip = check_icmp(h.ip_bytes(f))
    assert ip.src == h.norm(C_FE[fam]) and ip.dst == h.norm(h.client(ci, v6=fam == 6))
    if fam == 4:
        e = ip[ICMP]
        assert e.type == 0 and e.code == 0
        assert raw(e.payload) == marker * 10
    else:
        e = ip[ICMPv6EchoReply]
        assert e.data == marker * 10
    assert e.id == PING_ID and e.seq == PING_SEQ


@pytest.mark.parametrize("target", [C_FE[6], h.PORT_IPV6], ids=["frontend", "port"])
def test_neighbor_advertisement(ctl, target):
    got = [f for f in ctl.out if ICMPv6ND_NA in f and f[ICMPv6ND_NA].tgt == h.norm(target)]
    assert len(got) == 1
    f = got[0]
    assert f.dst == ASKER_MAC and f.src == h.SLUICE_MAC
    ip = check_icmp(h.ip_bytes(f))
    assert ip.src == h.norm(target) and ip.dst == ASKER[6] and ip.hlim == 255
    na = ip[ICMPv6ND_NA]
    assert (na.R, na.S, na.O) == (0, 1, 1)
    assert ICMPv6NDOptDstLLAddr in ip and ip[ICMPv6NDOptDstLLAddr].lladdr == h.SLUICE_MAC


def test_no_advertisement_for_unknown_address(ctl):
    assert len([f for f in ctl.out if ICMPv6ND_NA in f]) == 2


# --------------------------------------------------------------------------
# 6. neighbourDiscovery: announcements and requests
# --------------------------------------------------------------------------

D_N = 1
D_FE = {4: h.fe_addr(D_N, 26), 6: h.fe_addr(D_N, 26, v6=True)}
D_BE = {4: h.be_addr(D_N, 7, 11), 6: h.be_addr(D_N, 7, 11, v6=True)}


def disc_build():
    lb = h.LB("lb-disc", D_N).frontend("fe4", D_FE[4]).frontend("fe6", D_FE[6])
    lb.pool("p4", [D_BE[4]], neighbours=False).pool("p6", [D_BE[6]], neighbours=False)
    lb.rule("tcp4", "fe4", "p4", "Tcp", 80).rule("tcp6", "fe6", "p6", "Tcp", 80)
    return h.make_config([h.make_vnet(D_N)], [lb]), h.neighbours_of([lb])


D_CONFIG, D_NEIGHBOURS = disc_build()


@pytest.fixture(scope="module")
def disc():
    pkts = [frame(l3pkt(fam, h.client(900 + fam, v6=fam == 6), D_FE[fam], "tcp", 48000 + i, 80,
                        b"DISC"), cmac(900)) for fam in (4, 6) for i in range(3)]
    return h.run(D_CONFIG, pkts, D_NEIGHBOURS, discovery=True)


def test_unresolved_backend_drops(disc):
    # held while the backend is asked for; nobody answers: dropped at the end
    assert drops(disc) == {"no_neighbour": 6}
    assert paths(disc).get("neighbour_held") == 6
    assert not with_marker(disc.out, b"DISC")


LEARNT_MAC = "02:b0:77:00:00:0b"


@pytest.fixture(scope="module")
def held():
    """Packets for a backend whose MAC is not known yet, then its ARP reply."""
    pkts = [frame(l3pkt(4, h.client(920), D_FE[4], "tcp", 48200 + i, 80, b"HELD%d" % i),
                  cmac(920)) for i in range(3)]
    pkts.append(Ether(src=LEARNT_MAC, dst=h.SLUICE_MAC) /
                ARP(op=2, hwsrc=LEARNT_MAC, psrc=D_BE[4], hwdst=h.SLUICE_MAC, pdst=h.PORT_IPV4))
    return h.run(D_CONFIG, pkts, D_NEIGHBOURS, discovery=True)


def test_held_until_the_backend_is_learnt(held):
    """The first packets to a backend whose MAC is being resolved (after a
    start or a restart) are held, not dropped, and go out once its ARP reply
    is learnt, in the order they came."""
    assert drops(held) == {}
    assert paths(held).get("neighbour_held") == 3
    out = [one_with(held.out, b"HELD%d" % i) for i in range(3)]
    for f in out:
        assert f.dst == LEARNT_MAC and f.src == h.SLUICE_MAC
        assert ip_of(f).dst == h.norm(D_BE[4])
    sent = [f for f in held.out if TCP in f]
    assert [bytes(f[TCP].payload) for f in sent] == [b"HELD0", b"HELD1", b"HELD2"]


def test_gratuitous_arp_for_frontend(disc):
    g = [f for f in disc.out if ARP in f and f[ARP].psrc == D_FE[4] and f[ARP].pdst == D_FE[4]]
    assert len(g) == 1
    f = g[0]
    assert f.dst == "ff:ff:ff:ff:ff:ff" and f.src == h.SLUICE_MAC
    assert f[ARP].hwsrc == h.SLUICE_MAC and f[ARP].op == 1
    assert f[ARP].hwdst == "00:00:00:00:00:00"


def test_unsolicited_na_for_frontend(disc):
    g = [f for f in disc.out if ICMPv6ND_NA in f and f[ICMPv6ND_NA].tgt == h.norm(D_FE[6])]
    assert len(g) == 1
    f = g[0]
    ip = check_icmp(h.ip_bytes(f))
    assert ip.dst == "ff02::1" and f.dst == "33:33:00:00:00:01" and ip.hlim == 255
    assert ip[ICMPv6ND_NA].S == 0 and ip[ICMPv6ND_NA].O == 1
    assert ip[ICMPv6NDOptDstLLAddr].lladdr == h.SLUICE_MAC


def test_arp_request_for_backend(disc):
    g = [f for f in disc.out if ARP in f and f[ARP].pdst == D_BE[4]]
    assert g, [f.summary() for f in disc.out]
    f = g[0]
    assert f.dst == "ff:ff:ff:ff:ff:ff" and f.src == h.SLUICE_MAC
    assert f[ARP].op == 1 and f[ARP].psrc == h.PORT_IPV4 and f[ARP].hwsrc == h.SLUICE_MAC


def test_neighbor_solicitation_for_backend(disc):
    g = [f for f in disc.out if ICMPv6ND_NS in f and f[ICMPv6ND_NS].tgt == h.norm(D_BE[6])]
    assert g, [f.summary() for f in disc.out]
    f = g[0]
    ip = check_icmp(h.ip_bytes(f))
    assert ip.src == h.norm(h.PORT_IPV6) and ip.dst == solicited_node(D_BE[6])
    assert f.dst == mcast_mac(solicited_node(D_BE[6])) and ip.hlim == 255
    assert ip[ICMPv6NDOptSrcLLAddr].lladdr == h.SLUICE_MAC


GW = {4: "10.0.0.1", 6: "fd00::1"}


@pytest.fixture(scope="module")
def gw_disc():
    """The port with on-link prefixes and a gateway (no static neighbour): the
    backends are off-link, so it is the gateway that is asked for."""
    pkts = [frame(l3pkt(fam, h.client(910 + fam, v6=fam == 6), D_FE[fam], "tcp", 48100, 80,
                        b"GWDISC"), cmac(910)) for fam in (4, 6)]
    return h.run(D_CONFIG, pkts, D_NEIGHBOURS, discovery=True, ipv4=h.PORT_IPV4 + "/24",
                 ipv6=h.PORT_IPV6 + "/64", gateway={"ipv4": GW[4], "ipv6": GW[6]})


def test_gateway_asked_for_off_link_backends(gw_disc):
    assert drops(gw_disc) == {"no_neighbour": 2}
    arp = [f for f in gw_disc.out if ARP in f and f[ARP].op == 1 and f[ARP].psrc != f[ARP].pdst]
    assert arp and {f[ARP].pdst for f in arp} == {GW[4]}, [f.summary() for f in gw_disc.out]
    assert all(f[ARP].psrc == h.PORT_IPV4 for f in arp)
    ns_ = [f for f in gw_disc.out if ICMPv6ND_NS in f]
    assert ns_ and {f[ICMPv6ND_NS].tgt for f in ns_} == {GW[6]}, [f.summary() for f in gw_disc.out]
    # the frontends are still announced
    assert [f for f in gw_disc.out if ARP in f and f[ARP].psrc == f[ARP].pdst == D_FE[4]]
    assert [f for f in gw_disc.out if ICMPv6ND_NA in f and f[ICMPv6ND_NA].tgt == h.norm(D_FE[6])]


# --------------------------------------------------------------------------
# 7. VLAN tags
# --------------------------------------------------------------------------

V_PORT_VLAN, V_VNET_VLAN, V_FIP_VLAN = 100, 200, 201
V_PLAIN_N, V_TAGGED_N, V_FIP_N = 1, 3, 2
V_FE = {n: h.fe_addr(n, 27) for n in (V_PLAIN_N, V_TAGGED_N, V_FIP_N)}
V_BE = {n: h.be_addr(n, 8, 11) for n in (V_PLAIN_N, V_TAGGED_N, V_FIP_N)}


def vlan_build():
    vnets, lbs = [], []
    for n, mode, vlan in ((V_PLAIN_N, None, None), (V_TAGGED_N, None, V_VNET_VLAN),
                          (V_FIP_N, "L2", V_FIP_VLAN)):
        v = h.make_vnet(n, mode=mode)
        if vlan:
            v["properties"]["vlanId"] = vlan
        vnets.append(v)
        lb = h.LB(f"lb-vlan{n}", n).frontend("fe4", V_FE[n]).pool("p4", [V_BE[n]])
        lb.rule("tcp4", "fe4", "p4", "Tcp", 80, 8080 if mode is None else 80, floating=mode is not None)
        lbs.append(lb)
    return h.make_config(vnets, lbs), h.neighbours_of(lbs)


V_CONFIG, V_NEIGHBOURS = vlan_build()


@pytest.fixture(scope="module")
def vlans():
    pkts = []
    for n in V_FE:
        c = h.client(950 + n)
        pkts.append(frame(l3pkt(4, c, V_FE[n], "tcp", 49000 + n, 80, b"VREQ:%d;" % n), cmac(950 + n),
                          vlan=V_PORT_VLAN))
    # the DNAT backends' replies, each from its own segment (port VLAN; the network's VLAN)
    for n, tag in ((V_PLAIN_N, V_PORT_VLAN), (V_TAGGED_N, V_VNET_VLAN)):
        pkts.append(frame(l3pkt(4, V_BE[n], h.client(950 + n), "tcp", 8080, 49000 + n,
                                b"VREP:%d;" % n), h.mac_of(V_BE[n]), vlan=tag))
    # ARP for a frontend, tagged and untagged
    pkts.append(Ether(raw(Ether(dst="ff:ff:ff:ff:ff:ff", src=ASKER_MAC) / Dot1Q(vlan=V_PORT_VLAN) /
                          ARP(op=1, hwsrc=ASKER_MAC, psrc="10.0.0.1", pdst=V_FE[V_PLAIN_N]))))
    pkts.append(Ether(raw(Ether(dst="ff:ff:ff:ff:ff:ff", src=ASKER_MAC) /
                          ARP(op=1, hwsrc=ASKER_MAC, psrc="10.0.0.1", pdst=V_FE[V_TAGGED_N]))))
    # ping of a frontend, tagged and untagged; TTL 1 untagged
    for tag in (V_PORT_VLAN, None):
        pkts.append(frame(IP(src=h.client(960), dst=V_FE[V_PLAIN_N]) /
                          ICMP(type=8, id=1, seq=2) / Raw(b"VPING:%s;" % str(tag).encode()),
                          cmac(960), vlan=tag))
    pkts.append(frame(l3pkt(4, h.client(961), V_FE[V_PLAIN_N], "tcp", 49100, 80, b"VTTL1", ttl=1),
                      cmac(961)))
    return h.run(V_CONFIG, pkts, V_NEIGHBOURS, vlan=V_PORT_VLAN)


def test_vlan_counters(vlans):
    assert drops(vlans) == {"ttl_exceeded": 1}
    assert paths(vlans) == {"reply": 2, "punted": 4, "injected": 4, "icmp_sent": 1}
    assert len(vlans.out) == 10


@pytest.mark.parametrize("n,tag", [(V_PLAIN_N, V_PORT_VLAN), (V_TAGGED_N, V_VNET_VLAN),
                                   (V_FIP_N, V_FIP_VLAN)], ids=["port", "vnet", "vnet-fip"])
def test_backend_packets_tagged(vlans, n, tag):
    f = one_with(vlans.out, b"VREQ:%d;" % n)
    assert vlan_of(f) == tag
    assert f.dst == h.mac_of(V_BE[n])
    assert len([layer for layer in f.layers() if layer is Dot1Q]) == 1
    h.check_checksums(h.ip_bytes(f))


@pytest.mark.parametrize("n", [V_PLAIN_N, V_TAGGED_N], ids=["port", "vnet"])
def test_reply_tagged_like_request(vlans, n):
    f = one_with(vlans.out, b"VREP:%d;" % n)
    assert vlan_of(f) == V_PORT_VLAN
    assert f.dst == cmac(950 + n)
    assert ip_of(f).src == V_FE[n]
    h.check_checksums(h.ip_bytes(f))


def test_arp_replies_tagged_with_port_vlan(vlans):
    got = [f for f in vlans.out if ARP in f and f[ARP].op == 2]
    assert sorted(f[ARP].psrc for f in got) == sorted([V_FE[V_PLAIN_N], V_FE[V_TAGGED_N]])
    assert all(vlan_of(f) == V_PORT_VLAN for f in got), [f.summary() for f in got]


@pytest.mark.parametrize("tag", [V_PORT_VLAN, None], ids=["tagged", "untagged"])
def test_echo_reply_tagged_with_port_vlan(vlans, tag):
    f = one_with(vlans.out, b"VPING:%s;" % str(tag).encode())
    assert vlan_of(f) == V_PORT_VLAN
    assert f.dst == cmac(960)
    ip = check_icmp(h.ip_bytes(f))
    assert ip[ICMP].type == 0 and ip.src == V_FE[V_PLAIN_N]


def test_time_exceeded_tagged_with_port_vlan(vlans):
    f = one_with(vlans.out, b"VTTL1")
    assert vlan_of(f) == V_PORT_VLAN
    assert ICMP in f and f[ICMP].type == 11
