# SPDX-License-Identifier: BSD-3-Clause
"""vlanrelay.py: a two-port 802.1Q trunk for the VLAN tests, where the
kernel offers neither VLAN devices nor VLAN-filtering bridges.

    python3 vlanrelay.py TRUNK ACCESS VID

Frames read on TRUNK tagged VID leave on ACCESS untagged; frames read on
ACCESS leave on TRUNK tagged VID; anything else is dropped. The kernel may
hand a received tag in the packet's auxiliary data instead of in the frame:
both are understood."""
import select
import socket
import struct
import sys

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 0x10
PACKET_OUTGOING = 4


def open_port(name):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.bind((name, 0))
    return s


def read(s):
    """(frame, vlan or None); None for our own outgoing frames."""
    data, anc, _, addr = s.recvmsg(65536, socket.CMSG_SPACE(32))
    if addr[2] == PACKET_OUTGOING:
        return None, None
    vlan = None
    for level, typ, cdata in anc:
        if level == SOL_PACKET and typ == PACKET_AUXDATA and len(cdata) >= 20:
            status, _, _, _, _, tci, _ = struct.unpack("IIIHHHH", cdata[:20])
            if status & TP_STATUS_VLAN_VALID:
                vlan = tci & 0x0fff
    if vlan is None and len(data) >= 18 and data[12:14] == b"\x81\x00":
        vlan = struct.unpack("!H", data[14:16])[0] & 0x0fff
        data = data[:12] + data[16:]
    return data, vlan


def main():
    trunk, access, vid = sys.argv[1], sys.argv[2], int(sys.argv[3])
    t, a = open_port(trunk), open_port(access)
    tag = b"\x81\x00" + struct.pack("!H", vid)
    while True:
        ready, _, _ = select.select([t, a], [], [])
        for s in ready:
            frame, vlan = read(s)
            if frame is None:
                continue
            if s is t and vlan == vid:
                a.send(frame)
            elif s is a and vlan is None:
                t.send(frame[:12] + tag + frame[12:])


if __name__ == "__main__":
    sys.exit(main())
