# SPDX-License-Identifier: BSD-3-Clause
"""Jumbo frames: 9000-byte IP packets (IPv4 with DF, IPv6; TCP) through every
delivery mode (DNAT, and Floating IP with L2, IPinIP, GUE, VXLAN) on a port
with MTU 9000 or 9100.

net_pcap reads a frame longer than one mbuf into a chain of mbufs, so with
the default mbufSize (2048) every jumbo frame is a chain of five segments
and with mbufSize 9216 one segment: both must give the same bytes on the
wire (outer headers, the inner packet intact, every checksum, the UDP one
over IPv6 summed across the segments). The profile's MTU is the largest IP
packet a port sends, its delivery header included: at 9100 every mode
fits (VXLAN over IPv6 adds 70), at 9000 DNAT and L2 fit and the tunnels
answer fragmentation needed / packet too big with the MTU that fits.
A frame whose headers run past the first segment (an IPv6 extension
header of 2 KiB) is dropped as `segmented`, and forwarded when one mbuf
holds it. A profile that cannot carry its MTU's frames is refused.
"""
import json
import os
import subprocess
import tempfile

import pytest
from scapy.all import (ICMP, IP, TCP, UDP, Ether, ICMPv6PacketTooBig, IPv6,
                       IPv6ExtHdrDestOpt, PadN, Raw, raw)

import dphelpers as h
import slharness

SIZE = 9000  # IP packet length of every jumbo case
# (vnet, load balancer, delivery mode, outer header bytes over IPv4 / IPv6)
MODES = [
    (1, "lb-dnat", None, (0, 0)),
    (2, "lb-l2", "L2", (0, 0)),
    (3, "lb-ipip", "IPinIP", (20, 40)),
    (4, "lb-gue", "GUE", (28, 48)),
    (5, "lb-vxlan", "VXLAN", (50, 70)),
]
VNI = 0x123456
PAYLOAD = bytes((i * 7 + 3) & 0xFF for i in range(SIZE))


def build():
    vnets, lbs = [], []
    for n, name, mode, _ in MODES:
        vnets.append(h.make_vnet(n, mode=mode, vni=VNI if mode == "VXLAN" else None))
        lb = h.LB(name, n)
        lb.frontend("fe4", h.fe_addr(n, 10)).frontend("fe6", h.fe_addr(n, 10, v6=True))
        lb.pool("p4", [h.be_addr(n, 1, 11)]).pool("p6", [h.be_addr(n, 1, 11, v6=True)])
        for fam in (4, 6):
            lb.rule(f"tcp{fam}", f"fe{fam}", f"p{fam}", "Tcp", 80,
                    8080 if mode is None else 80, floating=mode is not None)
        lbs.append(lb)
    return h.make_config(vnets, lbs), h.neighbours_of(lbs)


CONFIG, NEIGHBOURS = build()


def jumbo(n, fam, sport):
    """A 9000-byte TCP packet to load balancer n's frontend (IPv4 with DF)."""
    src, dst = h.client(n * 10 + fam, v6=fam == 6), h.fe_addr(n, 10, v6=fam == 6)
    l3 = IPv6(src=src, dst=dst) if fam == 6 else IP(src=src, dst=dst, flags="DF", id=7)
    hdr = 60 if fam == 6 else 40
    p = Ether(dst=h.SLUICE_MAC, src=h.CLIENT_MAC) / l3 / TCP(sport=sport, dport=80, flags="A") / \
        Raw(PAYLOAD[:SIZE - hdr])
    return Ether(raw(p))


CASES = [((name, mode, fam, over[fam == 6]), jumbo(n, fam, 40000 + n * 10 + fam))
         for n, name, mode, over in MODES for fam in (4, 6)]


def split_ext():
    """IPv6 with a 2048-byte destination options header: the TCP header
    starts at byte 2102 of the frame, past a 2048-byte first segment."""
    src, dst = h.client(77, v6=True), h.fe_addr(1, 10, v6=True)
    opts = IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 253)] * 8)
    p = Ether(dst=h.SLUICE_MAC, src=h.CLIENT_MAC) / IPv6(src=src, dst=dst) / opts / \
        TCP(sport=39999, dport=80, flags="A") / Raw(b"x" * 100)
    p = Ether(raw(p))
    assert len(raw(p[IPv6ExtHdrDestOpt])) - len(raw(p[TCP])) == 2048
    return p


SPLIT = split_ext()


def reply(fam):
    """The DNAT backend's 9000-byte answer to the DNAT case of family fam."""
    be, cl = h.be_addr(1, 1, 11, v6=fam == 6), h.client(10 + fam, v6=fam == 6)
    l3 = IPv6(src=be, dst=cl) if fam == 6 else IP(src=be, dst=cl, flags="DF", id=9)
    hdr = 60 if fam == 6 else 40
    p = Ether(dst=h.SLUICE_MAC, src=h.mac_of(be)) / l3 / \
        TCP(sport=8080, dport=40010 + fam, flags="A") / Raw(PAYLOAD[::-1][:SIZE - hdr])
    return Ether(raw(p))


REPLIES = [(fam, reply(fam)) for fam in (4, 6)]


def run(mtu, mbuf_size=None, packets=None):
    kw = {"mbuf_size": mbuf_size} if mbuf_size else {}
    if packets is None:
        packets = [p for _, p in CASES] + [SPLIT] + [p for _, p in REPLIES]
    return h.run(CONFIG, packets, NEIGHBOURS, mtu=mtu, timeout=90, **kw)


@pytest.fixture(scope="module")
def chained():
    """mbufSize 2048 (the default): every jumbo frame is a chain; MTU 9100."""
    return run(9100)


@pytest.fixture(scope="module")
def contiguous():
    """mbufSize 9216: one mbuf per frame; MTU 9100."""
    return run(9100, mbuf_size=9216)


@pytest.fixture(scope="module")
def too_big():
    """MTU 9000, chained: DNAT and L2 fit, the tunnels do not."""
    return run(9000)


def ip_in(p):
    return h.ip_bytes(p)


def check_forwarded(key, p_in, p_out):
    name, mode, fam, over = key
    n = next(m[0] for m in MODES if m[1] == name)
    be = h.be_addr(n, 1, 11, v6=fam == 6)
    out = raw(p_out)
    assert p_out[Ether].src == h.SLUICE_MAC
    assert len(out) == 14 + over + SIZE, (key, len(out))
    outer = h.ip_bytes(p_out)
    assert len(outer) == over + SIZE
    # every checksum scapy finds: outer IPv4, outer UDP over IPv6, inner IP and TCP
    h.check_checksums(outer)
    inner = outer[over:]
    if mode == "VXLAN":
        assert p_out[UDP].dport == 4789
        vx = outer[over - 22:over - 14]
        assert vx[0] == 0x08 and int.from_bytes(vx[4:7], "big") == VNI
        inner = outer[over:]
        ie = outer[over - 14:over]
        assert ie[12:14] == (b"\x86\xdd" if fam == 6 else b"\x08\x00")
    if mode is None:
        # DNAT: destination and port rewritten, TTL down, the payload intact
        L3 = IPv6 if fam == 6 else IP
        exp = L3(ip_in(p_in))
        exp.dst = be
        exp[TCP].dport = 8080
        exp[TCP].chksum = None
        if fam == 4:
            exp.ttl -= 1
            exp.chksum = None
        else:
            exp.hlim -= 1
        assert inner == raw(exp)
        assert p_out[Ether].dst == h.mac_of(be)
        return
    # Floating IP: the client's packet unchanged behind the delivery header
    assert inner == ip_in(p_in), key
    if mode == "L2":
        assert p_out[Ether].dst == h.mac_of(be)
        return
    L3 = IPv6 if fam == 6 else IP
    o = L3(outer)
    assert h.norm(o.dst) == h.norm(be)
    assert h.norm(o.src) == h.norm(h.PORT_IPV6 if fam == 6 else h.PORT_IPV4)
    if mode == "IPinIP":
        assert (o.nh if fam == 6 else o.proto) == (41 if fam == 6 else 4)
    if mode == "GUE":
        assert o[UDP].dport == 6080
        if fam == 6:
            assert o[UDP].chksum != 0  # checked by check_checksums above


@pytest.mark.parametrize("which", ["chained", "contiguous"])
def test_every_mode_forwards_jumbo(request, which):
    r = request.getfixturevalue(which)
    s = r.stats
    n = len(CASES)
    outs = [p for p in r.out if TCP in p or UDP in p or IP in p or IPv6 in p]
    if which == "chained":
        # the split-header frame is dropped, every jumbo forwarded
        assert h.drops_nonzero(s) == {"segmented": 1}, h.drops_nonzero(s)
        assert len(outs) == n + len(REPLIES)
    else:
        # one mbuf holds the whole frame: the headers are in it, it is forwarded
        assert h.drops_nonzero(s) == {}
        assert len(outs) == n + 1 + len(REPLIES)
    assert s["rx"] == n + 1 + len(REPLIES)
    for (key, p_in), p_out in zip(CASES, outs):
        check_forwarded(key, p_in, p_out)
    check_replies(r)
    rules = h.rule_counters(s)
    for (name, _, fam, _), _ in CASES:
        assert rules[f"{name}/tcp{fam}"]["bytes"] >= SIZE


def test_chains_only_with_small_mbufs(chained, contiguous):
    """sluiced says when a port's frames take chains of mbufs."""
    assert "RX scatter" in chained.stdout + chained.stderr
    assert "RX scatter" not in contiguous.stdout + contiguous.stderr
    assert "mbufs of 9216 bytes" in contiguous.stdout + contiguous.stderr


def test_fits_or_too_big(too_big):
    s = too_big.stats
    tunnels = [(k, p) for k, p in CASES if k[3] != 0]
    fits = [(k, p) for k, p in CASES if k[3] == 0]
    assert h.drops_nonzero(s) == {"mtu_exceeded": len(tunnels), "segmented": 1}
    assert s["paths"]["icmp_sent"] == len(tunnels)
    fwd = [p for p in too_big.out if ICMP not in p and ICMPv6PacketTooBig not in p and
           p[TCP].sport != 80]
    assert len(fwd) == len(fits)
    check_replies(too_big)
    for (key, p_in), p_out in zip(fits, fwd):
        check_forwarded(key, p_in, p_out)
    icmps = [p for p in too_big.out if ICMP in p or ICMPv6PacketTooBig in p]
    assert len(icmps) == len(tunnels)
    for (key, p_in), e in zip(tunnels, icmps):
        _, _, fam, over = key
        assert e[Ether].dst == h.CLIENT_MAC
        b = h.ip_bytes(e)
        if fam == 4:
            assert (e[ICMP].type, e[ICMP].code, e[ICMP].nexthopmtu) == (3, 4, 9000 - over)
            assert e[IP].dst == p_in[IP].src and e[IP].src == h.PORT_IPV4
            assert len(b) <= 576
            quote = b[28:]
        else:
            assert e[ICMPv6PacketTooBig].mtu == 9000 - over
            assert e[IPv6].dst == p_in[IPv6].src and e[IPv6].src == h.PORT_IPV6
            assert len(b) == 1280
            quote = b[48:]
        # the quote is the start of the offending packet, from the first segment
        assert quote == ip_in(p_in)[:len(quote)]
        # the ICMP checksum over the message as sent
        icmp = b[20:] if fam == 4 else b[40:]
        total = 0
        if fam == 6:
            ph = b[8:40] + len(icmp).to_bytes(4, "big") + b"\0\0\0\x3a"
            total = sum(int.from_bytes(ph[i:i + 2], "big") for i in range(0, len(ph), 2))
        msg = icmp + (b"\0" if len(icmp) % 2 else b"")
        total += sum(int.from_bytes(msg[i:i + 2], "big") for i in range(0, len(msg), 2))
        while total >> 16:
            total = (total & 0xFFFF) + (total >> 16)
        assert total == 0xFFFF


def check_replies(r):
    """The DNAT backend's 9000-byte answers leave from the frontend, whole."""
    assert r.stats["paths"]["reply"] == len(REPLIES)
    for fam, p_in in REPLIES:
        L3 = IPv6 if fam == 6 else IP
        got = [p for p in r.out if L3 in p and TCP in p and p[TCP].sport == 80 and
               p[TCP].dport == 40010 + fam]
        assert len(got) == 1, fam
        p_out = got[0]
        assert p_out[Ether].dst == h.CLIENT_MAC and p_out[Ether].src == h.SLUICE_MAC
        assert len(raw(p_out)) == 14 + SIZE
        exp = L3(ip_in(p_in))
        exp.src = h.fe_addr(1, 10, v6=fam == 6)
        exp[TCP].sport = 80
        exp[TCP].chksum = None
        if fam == 4:
            exp.ttl -= 1
            exp.chksum = None
        else:
            exp.hlim -= 1
        assert h.ip_bytes(p_out) == raw(exp)
        h.check_checksums(h.ip_bytes(p_out))


def start_refused(profile):
    """sluiced with this profile (no configuration): its exit code and output."""
    d = tempfile.mkdtemp(prefix="sluice-jumbo-")
    path = os.path.join(d, "ports.json")
    with open(path, "w") as f:
        json.dump(profile, f)
    cmd = [slharness.sluiced_path()] + slharness.eal_args() + ["--", "--ports", path,
                                                                "--no-api", "--exit-idle-ms", "200"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


def test_scatter_false_needs_big_mbufs():
    prof = slharness.port_profile("/dev/null", "/dev/null", {}, mtu=9000)
    prof["ports"][0]["scatter"] = False
    rc, out = start_refused(prof)
    assert rc != 0
    assert "InvalidPortProfile" in out and "$.ports[0].scatter" in out, out
    assert "port wire0" in out and "mbufSize to at least 9022" in out, out


def test_device_that_cannot_scatter_is_refused():
    """net_null offers no RX scatter: MTU 9000 needs mbufSize >= 9022 there."""
    port = {"name": "nul0", "device": "net_null0", "devargs": "size=64,copy=0", "mtu": 9000,
            "neighbourDiscovery": False}
    rc, out = start_refused({"ports": [port]})
    assert rc != 0
    assert "PortSetupFailed" in out and "nul0" in out, out
    assert "cannot scatter" in out and "mbufSize to at least 9022" in out, out
