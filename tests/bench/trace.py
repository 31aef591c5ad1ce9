#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""trace.py: benchmark traces, written straight to pcap (scapy takes minutes
for a million packets).

Frames go from the router's MAC to sluice's port MAC, from distinct clients
(198.18.0.0/15, or 2001:db8::/32 for IPv6; a distinct source address and port
per flow) to --frontends frontends (10.0.0.10, 10.0.0.11, ... or
fd00::10, ...) on port 80, TCP (an ACK: an established flow) or UDP.
Sizes: 64 (the smallest frame: 60 bytes + FCS for IPv4, 78 + FCS for IPv6
TCP), or imix (64, 576 and 1500-byte frames in the proportions 7:4:1).

  trace.py --out t.pcap --flows 1000000 [--size 64|imix] [--proto tcp|udp]
           [--family 4|6] [--frontends 1] [--packets-per-flow 1]
"""
import argparse
import struct
import sys

SLUICE_MAC = bytes.fromhex("02005e000001")
ROUTER_MAC = bytes.fromhex("02005e0000fe")
IMIX = (64, 64, 64, 64, 64, 64, 64, 576, 576, 576, 576, 1500)


def frontend(k, v6):
    if v6:
        return bytes.fromhex("fd00" + "0" * 24 + "%04x" % (0x10 + k))
    return bytes((10, 0, 0, 10 + k))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    t = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while t >> 16:
        t = (t & 0xFFFF) + (t >> 16)
    return (~t) & 0xFFFF


def frame(i, frame_len, proto, v6, n_frontends, dport=80, flags=0x10, dst=None):
    """Frame i (flow i): frame_len bytes without FCS (at least the headers).
    flags: TCP's (0x10 ACK, 0x02 SYN); dst: the destination address (bytes),
    else frontend i mod n_frontends."""
    if v6:
        src = bytes.fromhex("20010db8") + struct.pack("!IQ", i >> 16, 0x1000000 + (i & 0xFFFF))
    else:
        src = struct.pack("!I", 0xC6120000 + (i % 131072))
    if dst is None:
        dst = frontend(i % n_frontends, v6)
    sport = 1024 + (i // 131072) * 7 + (i * 7919) % 60000
    l3_len = 40 if v6 else 20
    l4_len = 20 if proto == "tcp" else 8
    payload = max(0, frame_len - 14 - l3_len - l4_len)
    body = bytes(payload)
    if proto == "tcp":
        l4 = bytearray(struct.pack("!HHIIBBHHH", sport & 0xFFFF, dport, 1000, 1, 0x50, flags, 65535, 0, 0)) + body
    else:
        l4 = bytearray(struct.pack("!HHHH", sport & 0xFFFF, dport, 8 + payload, 0)) + body
    nh = 6 if proto == "tcp" else 17
    if v6:
        pseudo = src + dst + struct.pack("!IxxxB", len(l4), nh)
    else:
        pseudo = src + dst + struct.pack("!BBH", 0, nh, len(l4))
    c = csum(pseudo + bytes(l4))
    if proto == "udp" and c == 0:
        c = 0xFFFF
    off = 16 if proto == "tcp" else 6
    l4[off:off + 2] = struct.pack("!H", c)
    if v6:
        l3 = struct.pack("!IHBB16s16s", 0x60000000, len(l4), nh, 64, src, dst)
        ethertype = b"\x86\xdd"
    else:
        ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), i & 0xFFFF, 0x4000, 64, nh, 0,
                                   src, dst))
        ip[10:12] = struct.pack("!H", csum(bytes(ip)))
        l3 = bytes(ip)
        ethertype = b"\x08\x00"
    f = SLUICE_MAC + ROUTER_MAC + ethertype + l3 + bytes(l4)
    if len(f) < 60:
        f += bytes(60 - len(f))  # Ethernet padding
    return f


def write(path, flows, size="64", proto="tcp", family=4, frontends=1, packets_per_flow=1):
    """Write the trace; returns the number of packets."""
    v6 = family == 6
    n = 0
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(flows):
            for p in range(packets_per_flow):
                length = {"64": 60, "9000": 9014}.get(size) or \
                    IMIX[(i * packets_per_flow + p) % len(IMIX)] - 4
                fr = frame(i, length, proto, v6, frontends)
                f.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)))
                f.write(fr)
                n += 1
    return n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--flows", type=int, default=1000)
    ap.add_argument("--size", choices=("64", "imix", "9000"), default="64")
    ap.add_argument("--proto", choices=("tcp", "udp"), default="tcp")
    ap.add_argument("--family", type=int, choices=(4, 6), default=4)
    ap.add_argument("--frontends", type=int, default=1)
    ap.add_argument("--packets-per-flow", type=int, default=1)
    a = ap.parse_args(argv)
    n = write(a.out, a.flows, a.size, a.proto, a.family, a.frontends, a.packets_per_flow)
    print(f"trace.py: {n} packets, {a.flows} flows, {a.size}-byte {a.proto.upper()}/IPv{a.family}, "
          f"{a.frontends} frontend(s) -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
