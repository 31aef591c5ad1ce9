# SPDX-License-Identifier: BSD-3-Clause
"""ipipdecap.py: IP-in-IP (and GUE) decapsulation on a backend, for the
end-to-end tests, where the kernel has neither the ipip nor the fou module.

    python3 ipipdecap.py TUN [GUE_PORT]

Reads every IPv4 packet of protocol 4 (IP in IP) the host receives through
a raw socket, strips the outer IPv4 header and writes the inner packet to
the existing TUN device TUN (created with `ip tuntap add mode tun`), so the
kernel receives it as if it had arrived there: the frontend address on TUN
accepts it, as an ipip device would. A raw socket that takes the packet
also keeps the kernel from answering protocol unreachable. With GUE_PORT it
also reads a UDP socket bound to that port: the payload of GUE variant 1
(what sluice's GUE delivery sends) is the inner IP packet itself, written
to TUN the same way, as a fou device of type gue would. Prints "ready"
once all are open."""
import fcntl
import os
import select
import socket
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
IPPROTO_IPIP = 4


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_WRONLY)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def inner(packet):
    """The inner IPv4 packet of an outer IPv4 packet of protocol 4, or None."""
    if len(packet) < 20 or packet[0] >> 4 != 4 or packet[9] != IPPROTO_IPIP:
        return None
    ihl = (packet[0] & 0x0F) * 4
    total = struct.unpack("!H", packet[2:4])[0]
    if ihl < 20 or total > len(packet) or total < ihl + 20:
        return None
    return packet[ihl:total]


def gue_inner(payload):
    """The inner IPv4 packet of a GUE variant 1 payload (its first nibble is
    the IP version: 4), or None (variant 0 carries a header first)."""
    if len(payload) < 20 or payload[0] >> 4 != 4:
        return None
    return payload


def main():
    tun = open_tun(sys.argv[1])
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_IPIP)
    socks = {raw: inner}
    if len(sys.argv) > 2:
        gue = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        gue.bind(("0.0.0.0", int(sys.argv[2])))
        socks[gue] = gue_inner
    print("ready", flush=True)
    while True:
        ready, _, _ = select.select(list(socks), [], [])
        for s in ready:
            pkt = socks[s](s.recv(65535))
            if pkt is not None and pkt[0] >> 4 == 4:
                os.write(tun, pkt)


if __name__ == "__main__":
    main()
