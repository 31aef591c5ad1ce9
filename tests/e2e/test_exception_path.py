# SPDX-License-Identifier: BSD-3-Clause
"""The exception path: sluice's port has a TAP (exceptionPath.tap) that the
kernel of sluice's host owns, with the port's address on it. What is not for
a frontend (here: a TCP connection to the host's own address, and the ARP
for it) reaches the kernel through the TAP, and the kernel's answers leave
through the DPDK-owned port; frontends keep working beside it."""
import os
import shutil
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import realnet  # noqa: E402
from e2ehelpers import NetnsDaemon  # noqa: E402

TAP = "sl0"
SSH_LIKE_PORT = 2222
BANNER = "sluice-host-banner"

SERVER = r"""
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
s.listen(8)
while True:
    c, _ = s.accept()
    c.sendall(sys.argv[2].encode() + b"\n" + c.recv(100))
    c.close()
"""

CLIENT = r"""
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
s.sendall(b"ping")
data = b""
while True:
    d = s.recv(100)
    if not d:
        break
    data += d
print(data.decode().replace("\n", " "))
"""


@pytest.fixture(scope="module")
def net():
    yield from realnet.built("ex")


@pytest.fixture(scope="module")
def lb(net):
    d = NetnsDaemon(net.ns["lb"], realnet.port_profile(tap=TAP), realnet.config(vxlan=False))
    server = None
    try:
        d.wait_stats(lambda s: s.get("generation", 0) >= 1, timeout=20)
        # the host's side: the port's addresses on the TAP, the router as default route
        net.run("lb", ["ip", "link", "set", TAP, "up"])
        net.run("lb", ["ip", "addr", "add", realnet.LB_V4 + "/24", "dev", TAP])
        net.run("lb", ["ip", "-6", "addr", "add", realnet.LB_V6 + "/64", "dev", TAP, "nodad"])
        net.run("lb", ["ip", "route", "add", "default", "via", realnet.ROUTER_B[0]])
        net.run("lb", ["ip", "-6", "route", "add", "default", "via", realnet.ROUTER_B[1]])
        server = subprocess.Popen(["ip", "netns", "exec", net.ns["lb"], sys.executable, "-c",
                                   SERVER, str(SSH_LIKE_PORT), BANNER],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while not net.run("lb", ["ss", "-Htln", f"sport = :{SSH_LIKE_PORT}"]).strip():
            assert time.time() < deadline, "server in sluice's namespace not listening"
            time.sleep(0.05)
        yield d
    finally:
        if server is not None:
            server.terminate()
            server.wait(5)
        d.stop()
        print(f"--- sluiced log ({d.dir}) ---\n{d.output()}")
        shutil.rmtree(d.dir, ignore_errors=True)


def connect(net, addr):
    p = subprocess.run(["ip", "netns", "exec", net.ns["client"], sys.executable, "-c", CLIENT,
                        addr, str(SSH_LIKE_PORT)], capture_output=True, text=True, timeout=10)
    return p.returncode, (p.stdout.strip() if p.returncode == 0 else p.stderr.strip())


@pytest.mark.parametrize("addr", [realnet.LB_V4, realnet.LB_V6])
def test_tcp_to_the_host_through_the_tap(net, lb, addr):
    """A TCP connection from the client (behind the router) to the host's own
    address: SYN, data and FIN go to the kernel and back through sluice."""
    rc, out = 1, ""
    deadline = time.time() + 15
    while time.time() < deadline:
        rc, out = connect(net, addr)
        if rc == 0:
            break
        time.sleep(0.3)
    assert rc == 0, out
    assert out == f"{BANNER} ping"
    s = lb.wait_stats(lambda s: s["paths"]["punted"] > 0 and s["paths"]["injected"] > 0)
    assert s["paths"]["punted"] > 0 and s["paths"]["injected"] > 0


def test_frontends_beside_the_exception_path(net, lb):
    """DNAT keeps working, return path included: the backends' gateway
    (sluice's port address) is answered by the kernel through the TAP."""
    echo = [subprocess.Popen(["ip", "netns", "exec", net.ns[b], sys.executable, "-c",
                              realnet.UDP_ECHO, b, str(realnet.UDP_PORT)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for b in ("backend1", "backend2")]
    try:
        out = realnet.udp_ask_until(net, realnet.VIP_DNAT[0])
    finally:
        for e in echo:
            e.terminate()
            e.wait(5)
    # a connected socket: the answer came back from the frontend, through sluice
    realnet.assert_backend_answer(out)
    s = lb.wait_stats(lambda s: s["paths"]["reply"] > 0)
    assert s["paths"]["reply"] > 0
