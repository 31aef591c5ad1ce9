# SPDX-License-Identifier: BSD-3-Clause
"""A DNAT backend's fragmented reply (a large UDP answer): the first fragment
finds the flow by its ports, the later ones follow it by the datagram's
identification; all leave from the frontend, and the datagram reassembles
with a valid checksum. A fragmented reply with no flow is dropped."""
import pytest
from scapy.all import IP, UDP, Ether, IPv6, IPv6ExtHdrFragment, Raw, defragment, fragment, fragment6, raw

import dphelpers as h

N = 1
FE4 = h.fe_addr(N, 50)
FE6 = h.fe_addr(N, 50, v6=True)
BE4 = h.be_addr(N, 2, 11)
BE6 = h.be_addr(N, 2, 11, v6=True)
C4 = h.client(11)
C6 = h.client(11, v6=True)
CPORT, FPORT, BPORT = 40000, 53, 5353
ETH_IN = Ether(dst=h.SLUICE_MAC, src=h.CLIENT_MAC)
ETH_BE4 = Ether(dst=h.SLUICE_MAC, src=h.mac_of(BE4))
ETH_BE6 = Ether(dst=h.SLUICE_MAC, src=h.mac_of(BE6))
PAYLOAD = bytes(range(256)) * 12   # 3072 bytes


def build():
    lb = h.LB("lb-rfrag", N)
    lb.frontend("f4", FE4).frontend("f6", FE6)
    lb.pool("p4", [BE4]).pool("p6", [BE6])
    lb.rule("u4", "f4", "p4", "Udp", FPORT, BPORT)
    lb.rule("u6", "f6", "p6", "Udp", FPORT, BPORT)
    return h.make_config([h.make_vnet(N)], [lb]), h.neighbours_of([lb])


CONFIG, NEIGHBOURS = build()


def packets():
    out = [Ether(raw(ETH_IN / IP(src=C4, dst=FE4) / UDP(sport=CPORT, dport=FPORT) / b"q4")),
           Ether(raw(ETH_IN / IPv6(src=C6, dst=FE6) / UDP(sport=CPORT, dport=FPORT) / b"q6"))]
    r4 = IP(src=BE4, dst=C4, id=0x4242) / UDP(sport=BPORT, dport=CPORT) / Raw(PAYLOAD)
    out += [Ether(raw(ETH_BE4 / f)) for f in fragment(r4, fragsize=1000)]
    r6 = IPv6(src=BE6, dst=C6) / IPv6ExtHdrFragment(id=0x6161) / UDP(sport=BPORT, dport=CPORT) / \
        Raw(PAYLOAD)
    out += [Ether(raw(ETH_BE6 / f)) for f in fragment6(r6, 1200)]
    # a fragmented reply of no flow (another client port)
    stray = IP(src=BE4, dst=C4, id=0x4343) / UDP(sport=BPORT, dport=CPORT + 1) / Raw(PAYLOAD)
    out += [Ether(raw(ETH_BE4 / f)) for f in fragment(stray, fragsize=1000)]
    return out


@pytest.fixture(scope="module")
def result():
    return h.run(CONFIG, packets(), NEIGHBOURS)


def test_ipv4_reply_fragments_leave_from_the_frontend(result):
    frags = [p for p in result.out if IP in p and p[IP].id == 0x4242]
    assert len(frags) == 4
    for f in frags:
        assert f[Ether].dst == h.CLIENT_MAC and f[Ether].src == h.SLUICE_MAC
        assert (f[IP].src, f[IP].dst) == (FE4, C4)
        assert f[IP].ttl == 63
    whole = defragment([f[IP] for f in frags])
    assert len(whole) == 1
    d = IP(raw(whole[0]))
    assert (d[UDP].sport, d[UDP].dport) == (FPORT, CPORT)
    assert bytes(d[UDP].payload) == PAYLOAD
    h.check_checksums(raw(d))


def test_ipv6_reply_fragments_leave_from_the_frontend(result):
    frags = [p for p in result.out if IPv6ExtHdrFragment in p and p[IPv6ExtHdrFragment].id == 0x6161]
    assert len(frags) >= 3
    for f in frags:
        assert (f[IPv6].src, f[IPv6].dst) == (FE6, C6)
        assert f[IPv6].hlim == 63
    first = [f for f in frags if f[IPv6ExtHdrFragment].offset == 0][0]
    assert UDP in first and (first[UDP].sport, first[UDP].dport) == (FPORT, CPORT)
    # reassemble by hand: the fragments' payloads in offset order
    data = b"".join(bytes(f[IPv6ExtHdrFragment].payload) for f in
                    sorted(frags, key=lambda f: f[IPv6ExtHdrFragment].offset))
    u = UDP(data)
    assert bytes(u.payload) == PAYLOAD
    # the UDP checksum over the reassembled datagram, with the frontend's address
    chk = IPv6(src=FE6, dst=C6, nh=17) / UDP(data)
    chk[UDP].chksum = None
    assert IPv6(raw(chk))[UDP].chksum == u.chksum


def test_counters(result):
    s = result.stats
    assert s["paths"]["reply"] == 4 + len([p for p in result.out if IPv6ExtHdrFragment in p])
    assert s["drops"]["reply_no_flow"] == 4
