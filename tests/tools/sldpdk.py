# SPDX-License-Identifier: BSD-3-Clause
"""sldpdk.py: DPDK's own tools against a running sluiced, for tests.

eal_args() gives EAL options that keep what the tools need: the telemetry
socket (dpdk-telemetry.py), and with shared=True the multi-process files that
a secondary process such as dpdk-dumpcap attaches through. telemetry() asks
through dpdk-telemetry.py, telemetry_raw() on the socket itself (and returns
the reply's size). pcapng_packets() reads a pcapng file keeping each packet's
direction (the EPB flags option, which scapy does not return).
"""
import glob
import json
import os
import shlex
import shutil
import socket
import struct
import subprocess
import sys
import itertools

_ids = itertools.count()


def runtime_dir(prefix):
    """Where EAL keeps prefix's runtime files, the telemetry socket among them."""
    base = "/var/run" if os.geteuid() == 0 else os.environ.get("XDG_RUNTIME_DIR", "/tmp")
    return os.path.join(base, "dpdk", prefix)


def new_prefix(tag):
    return f"sl{tag}{os.getpid()}x{next(_ids)}"


def eal_args(prefix, lcores="0,1", shared=False):
    """EAL options for sluiced with telemetry on and --file-prefix prefix, memory
    from SL_EAL_MEM (scripts/common.sh). shared=True also keeps the files a
    secondary process attaches through: hugepages without --in-memory. Returns
    None when SL_EAL_MEM has no hugepages and shared is asked for."""
    mem = shlex.split(os.environ.get("SL_EAL_MEM", "--no-huge -m 512"))
    if shared:
        if "--no-huge" in mem:
            return None
        mem = [m for m in mem if m not in ("--in-memory", "--no-shconf")]
    return ["-l", lcores, "--no-pci", "--log-level=lib.eal:error",
            f"--file-prefix={prefix}"] + mem


def remove_runtime(prefix):
    """What a killed sluiced leaves behind: its runtime directory and, without
    --in-memory, its hugepage files."""
    shutil.rmtree(runtime_dir(prefix), ignore_errors=True)
    for f in glob.glob(f"/dev/hugepages/{prefix}map_*"):
        try:
            os.unlink(f)
        except OSError:
            pass


def telemetry(prefix, command, timeout=15.0):
    """command's answer from dpdk-telemetry.py -f prefix: the JSON value under
    the command's name."""
    tool = shutil.which("dpdk-telemetry.py") or "/usr/bin/dpdk-telemetry.py"
    p = subprocess.run([sys.executable, tool, "-f", prefix], input=command + "\n",
                       capture_output=True, text=True, timeout=timeout)
    lines = [x for x in p.stdout.splitlines() if x.startswith("{")]
    assert p.returncode == 0 and lines, \
        f"dpdk-telemetry.py -f {prefix}: {command}: rc {p.returncode}\n{p.stdout}\n{p.stderr}"
    reply = json.loads(lines[-1])
    assert list(reply) == [command.split(",")[0]], reply
    return reply[command.split(",")[0]]


def telemetry_raw(prefix, command, timeout=5.0):
    """(reply size in bytes, JSON value under the command's name, the socket's
    greeting) from the telemetry socket itself."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(timeout)
    try:
        s.connect(os.path.join(runtime_dir(prefix), "dpdk_telemetry.v2"))
        hello = json.loads(s.recv(1 << 16).decode())
        s.send(command.encode())
        data = s.recv(1 << 20)
    finally:
        s.close()
    reply = json.loads(data.decode())
    return len(data), reply[command.split(",")[0]], hello


def pcapng_packets(path):
    """[(direction, frame bytes)] of the Enhanced Packet Blocks of a pcapng file;
    direction is "in", "out" or None (no flags option)."""
    with open(path, "rb") as f:
        data = f.read()
    out, off, e = [], 0, "<"
    while off + 12 <= len(data):
        btype = struct.unpack_from(e + "I", data, off)[0]
        if btype == 0x0A0D0D0A:  # section header: its byte-order magic sets the endianness
            e = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
        blen = struct.unpack_from(e + "I", data, off + 4)[0]
        if blen < 12:
            raise AssertionError(f"{path}: bad block length {blen} at {off}")
        if btype == 6:
            out.append(_epb(data[off + 8:off + blen - 4], e))
        off += blen
    return out


def _epb(body, e):
    caplen = struct.unpack_from(e + "I", body, 12)[0]
    frame = body[20:20 + caplen]
    opt, flags = 20 + caplen + (-caplen % 4), None
    while opt + 4 <= len(body):
        code, olen = struct.unpack_from(e + "HH", body, opt)
        if code == 0:
            break
        if code == 2 and olen == 4:  # epb_flags: bits 0-1 the direction
            flags = struct.unpack_from(e + "I", body, opt + 4)[0]
        opt += 4 + olen + (-olen % 4)
    direction = None if flags is None else {1: "in", 2: "out"}.get(flags & 3)
    return direction, frame
