# SPDX-License-Identifier: BSD-3-Clause
"""Packets that do not fit the egress MTU once their delivery header is on:
dropped (mtu_exceeded), and the sender is told the size that fits, so path
MTU discovery works through sluice and its tunnels: ICMP fragmentation
needed (IPv4 with DF; the next-hop MTU is the port MTU less the
encapsulation) or ICMPv6 packet too big. IPv4 without DF gets no ICMP."""
import pytest
from scapy.all import ICMP, IP, TCP, Ether, ICMPv6PacketTooBig, IPv6, Raw, raw

import dphelpers as h

N = 1
FE_DNAT4 = h.fe_addr(N, 40)
FE_IPIP4 = h.fe_addr(N, 41)
FE_DNAT6 = h.fe_addr(N, 40, v6=True)
BE4 = h.be_addr(N, 2, 11)
BE6 = h.be_addr(N, 2, 11, v6=True)
C4 = h.client(9)
C6 = h.client(9, v6=True)
ETH = Ether(dst=h.SLUICE_MAC, src=h.CLIENT_MAC)


def build():
    lb = h.LB("lb-big", N)
    lb.frontend("d4", FE_DNAT4).frontend("i4", FE_IPIP4).frontend("d6", FE_DNAT6)
    lb.pool("p4", [BE4]).pool("p6", [BE6])
    lb.rule("d4", "d4", "p4", "Tcp", 80, 8080)
    lb.rule("i4", "i4", "p4", "Tcp", 80, 80, floating=True)
    lb.rule("d6", "d6", "p6", "Tcp", 80, 8080)
    return h.make_config([h.make_vnet(N, mode="IPinIP")], [lb]), h.neighbours_of([lb])


CONFIG, NEIGHBOURS = build()


def tcp(src, dst, size, df=True, sport=1000):
    if ":" in dst:
        return Ether(raw(ETH / IPv6(src=src, dst=dst) / TCP(sport=sport, dport=80) /
                         Raw(b"b" * (size - 60))))
    return Ether(raw(ETH / IP(src=src, dst=dst, flags="DF" if df else 0) /
                     TCP(sport=sport, dport=80) / Raw(b"b" * (size - 40))))


CASES = [
    ("dnat4 1500 fits", tcp(C4, FE_DNAT4, 1500), None),
    ("dnat4 1501 DF", tcp(C4, FE_DNAT4, 1501, sport=1001), 1500),
    ("dnat4 1501 no DF", tcp(C4, FE_DNAT4, 1501, df=False, sport=1002), "silent"),
    ("ipip 1480 fits", tcp(C4, FE_IPIP4, 1480, sport=1003), None),
    ("ipip 1481 DF", tcp(C4, FE_IPIP4, 1481, sport=1004), 1480),
    ("dnat6 1501", tcp(C6, FE_DNAT6, 1501, sport=1005), 1500),
]


@pytest.fixture(scope="module")
def result():
    return h.run(CONFIG, [p for _, p, _ in CASES], NEIGHBOURS)


def icmps(result):
    return [p for p in result.out if ICMP in p or ICMPv6PacketTooBig in p]


def test_counts(result):
    s = result.stats
    assert s["drops"]["mtu_exceeded"] == sum(1 for _, _, e in CASES if e is not None)
    assert s["paths"]["icmp_sent"] == sum(1 for _, _, e in CASES if isinstance(e, int))
    forwarded = [p for p in result.out if TCP in p and (IP in p and p[IP].proto in (4, 6) or
                                                        IPv6 in p)]
    assert len(forwarded) == sum(1 for _, _, e in CASES if e is None)


@pytest.mark.parametrize("label,sport,mtu", [("dnat4", 1001, 1500), ("ipip", 1004, 1480)])
def test_fragmentation_needed(result, label, sport, mtu):
    from scapy.layers.inet import TCPerror
    got = [p for p in icmps(result) if IP in p and ICMP in p and TCPerror in p and
           p[TCPerror].sport == sport]
    assert len(got) == 1, [p.summary() for p in icmps(result)]
    e = got[0]
    assert e[Ether].dst == h.CLIENT_MAC and e[Ether].src == h.SLUICE_MAC
    assert e[IP].dst == C4 and e[IP].src == h.PORT_IPV4
    assert (e[ICMP].type, e[ICMP].code, e[ICMP].nexthopmtu) == (3, 4, mtu)
    # the ICMP checksum over the message as sent (scapy's rebuild of a truncated
    # quote whose IP length says 1501 does not reproduce the bytes)
    b = raw(e[IP])
    ihl = (b[0] & 15) * 4
    assert int.from_bytes(b[2:4], "big") == len(b) <= 576
    msg = b[ihl:] + (b"\0" if (len(b) - ihl) % 2 else b"")
    total = sum(int.from_bytes(msg[i:i + 2], "big") for i in range(0, len(msg), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    assert total == 0xFFFF


def test_packet_too_big(result):
    got = [p for p in icmps(result) if ICMPv6PacketTooBig in p]
    assert len(got) == 1
    e = got[0]
    assert e[IPv6].dst == C6 and e[IPv6].src == h.PORT_IPV6
    assert e[ICMPv6PacketTooBig].mtu == 1500
