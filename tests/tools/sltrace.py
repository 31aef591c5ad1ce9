#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""sltrace.py: generate traffic traces (pcap) for sluice's demo, tests and benchmarks.

Each flow is a distinct client (source address and port) talking to one of the
given frontends; each flow sends --packets-per-flow packets (a TCP flow starts
with a SYN). Frames are addressed to sluice's port MAC. Deterministic for a
given --seed.

  sltrace.py --out trace.pcap --flows 1000 --frontend 10.0.0.10:tcp:80 \
             --frontend [fd00::10]:udp:53 --packets-per-flow 3
"""
import argparse
import ipaddress
import random
import sys

from scapy.all import IP, IPv6, TCP, UDP, Ether, Raw, wrpcap  # noqa: E402

SLUICE_MAC = "02:00:5e:00:00:01"
ROUTER_MAC = "02:00:5e:00:00:fe"


def parse_frontend(text):
    """'10.0.0.10:tcp:80' or '[fd00::10]:udp:53' -> (ip, proto, port)."""
    if text.startswith("["):
        addr, rest = text[1:].split("]:", 1)
    else:
        addr, rest = text.split(":", 1)
    proto, port = rest.split(":")
    proto = proto.lower()
    if proto not in ("tcp", "udp"):
        raise ValueError(f"protocol must be tcp or udp: {text}")
    ipaddress.ip_address(addr)
    return addr, proto, int(port)


def client_address(i, v6, rng):
    if v6:
        return str(ipaddress.IPv6Address(0x20010DB8_00000000_00000000_00000000 + (rng.getrandbits(64) << 16) + i))
    base = int(ipaddress.IPv4Address("198.18.0.0"))  # benchmarking range (RFC 2544)
    return str(ipaddress.IPv4Address(base + (i % (1 << 17))))


def build_packet(src, sport, fe, seq, payload_len, dst_mac=SLUICE_MAC, src_mac=ROUTER_MAC):
    addr, proto, port = fe
    v6 = ":" in addr
    l3 = IPv6(src=src, dst=addr, hlim=64) if v6 else IP(src=src, dst=addr, ttl=64)
    if proto == "tcp":
        flags = "S" if seq == 0 else "A"
        l4 = TCP(sport=sport, dport=port, flags=flags, seq=1000 + seq, window=65535)
    else:
        l4 = UDP(sport=sport, dport=port)
    pkt = Ether(dst=dst_mac, src=src_mac) / l3 / l4
    if payload_len > 0:
        pkt = pkt / Raw(bytes((seq + k) & 0xFF for k in range(payload_len)))
    return pkt


def generate(frontends, flows, packets_per_flow, payload_len, seed):
    rng = random.Random(seed)
    out = []
    for i in range(flows):
        fe = frontends[i % len(frontends)]
        v6 = ":" in fe[0]
        src = client_address(i, v6, rng)
        sport = 1024 + rng.randrange(64000)
        for s in range(packets_per_flow):
            out.append(build_packet(src, sport, fe, s, payload_len))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--frontend", action="append", required=True,
                    help="ADDR:PROTO:PORT, IPv6 as [ADDR]:PROTO:PORT (repeatable)")
    ap.add_argument("--flows", type=int, default=1000)
    ap.add_argument("--packets-per-flow", type=int, default=1)
    ap.add_argument("--payload", type=int, default=0, help="payload bytes per packet")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    try:
        fes = [parse_frontend(f) for f in a.frontend]
    except ValueError as e:
        ap.error(str(e))
    pkts = generate(fes, a.flows, a.packets_per_flow, a.payload, a.seed)
    wrpcap(a.out, pkts)
    print(f"sltrace: {len(pkts)} packets, {a.flows} flows to {len(fes)} frontend(s) -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
