# SPDX-License-Identifier: BSD-3-Clause
"""ipipdecap.py: IP-in-IP decapsulation on a backend, for the end-to-end
tests, where the kernel has no ipip module.

    python3 ipipdecap.py TUN

Reads every IPv4 packet of protocol 4 (IP in IP) the host receives through
a raw socket, strips the outer IPv4 header and writes the inner packet to
the existing TUN device TUN (created with `ip tuntap add mode tun`), so the
kernel receives it as if it had arrived there: the frontend address on TUN
accepts it, as an ipip device would. A raw socket that takes the packet
also keeps the kernel from answering protocol unreachable. Prints "ready"
once both are open."""
import fcntl
import os
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


def main():
    tun = open_tun(sys.argv[1])
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_IPIP)
    print("ready", flush=True)
    while True:
        pkt = inner(raw.recv(65535))
        if pkt is not None and pkt[0] >> 4 == 4:
            os.write(tun, pkt)


if __name__ == "__main__":
    main()
