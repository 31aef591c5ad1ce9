#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""slsummary.py: what sluiced transmitted, read back from its output pcap.

For each packet: how it was delivered (DNAT, L2, IP-in-IP, GUE, VXLAN), to
which backend, and for which frontend; then flows per backend, so the spread
Maglev produced can be seen on the wire (not only in sluiced's counters).

  slsummary.py IN.pcap OUT.pcap [PORT-PROFILE.json]

With the port profile, destination MACs are named by the static neighbour
they belong to.
"""
import json
import collections
import sys

from scapy.all import IP, UDP, IPv6, TCP, Ether, rdpcap
from scapy.layers.vxlan import VXLAN


def l4(pkt):
    for proto in (TCP, UDP):
        if proto in pkt:
            return pkt[proto]
    return None


def classify(frame):
    """-> (mode, backend, inner IP layer)."""
    ip = frame[IP] if IP in frame else frame[IPv6]
    if isinstance(ip, IP) and ip.proto == 4:
        return "IPinIP", ip.dst, ip.payload
    if ip.__class__ is IPv6 and ip.nh == 41:
        return "IPinIP", ip.dst, ip.payload
    if UDP in ip and ip[UDP].dport == 4789:
        inner = ip[UDP].payload
        if isinstance(inner, VXLAN):
            eth = inner.payload
            return f"VXLAN vni {inner.vni}", ip.dst, eth.payload
    if UDP in ip and ip[UDP].dport == 6080:
        raw = bytes(ip[UDP].payload)
        inner = IP(raw) if raw[0] >> 4 == 4 else IPv6(raw)
        return "GUE", ip.dst, inner
    return None, None, ip


def main(argv):
    if len(argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    macs = {}
    if len(argv) == 4:
        with open(argv[3]) as f:
            for port in json.load(f)["ports"]:
                for n in port.get("neighbours", []):
                    macs.setdefault(n["macAddress"].lower(), n["ipAddress"])
    sent = rdpcap(argv[1])
    out = rdpcap(argv[2])
    frontends = collections.Counter()
    for p in sent:
        ip = p[IP] if IP in p else (p[IPv6] if IPv6 in p else None)
        if ip is not None and l4(p) is not None:
            frontends[(ip.dst, l4(p).dport)] += 1
    per_backend = collections.defaultdict(set)
    modes = collections.Counter()
    for f in out:
        mode, backend, inner = classify(f)
        ip = inner
        if mode is None:
            # DNAT rewrote the destination; L2 kept the frontend as destination.
            mac = f[Ether].dst.lower()
            fe_ports = {port for (fe, port) in frontends if fe == ip.dst}
            mode = "L2" if fe_ports else "DNAT"
            backend = macs.get(mac, mac) if mode == "L2" else ip.dst
        t = l4(ip)
        key = (ip.src, t.sport if t else 0, t.dport if t else 0)
        per_backend[backend].add(key)
        modes[mode] += 1
    print(f"wire: {len(sent)} packets sent to sluice, {len(out)} transmitted")
    print("delivery on the wire: " + ", ".join(f"{m}: {n}" for m, n in sorted(modes.items())))
    print("flows per backend (from the output pcap):")
    total = sum(len(v) for v in per_backend.values())
    for b, flows in sorted(per_backend.items()):
        print(f"  {b:<44} {len(flows):6d} flows ({100.0 * len(flows) / max(total, 1):5.1f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
