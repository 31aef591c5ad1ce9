# SPDX-License-Identifier: BSD-3-Clause
"""The DNAT return path with two worker lcores on two queues: the kernel
spreads frames over the queues by its flow hash, and a backend's reply
(backend -> client) does not hash like the request (client -> frontend), so
replies often arrive on the other worker than the one that created the
flow. Each worker reads every worker's reply partition (sl_reply.h): every
connection must complete."""
import os
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import realnet  # noqa: E402
from e2ehelpers import NetnsDaemon  # noqa: E402

N = 40


@pytest.fixture(scope="module")
def net():
    yield from realnet.built("mw")


@pytest.fixture(scope="module")
def lb(net):
    # the control thread and one worker share CPU 0, the other worker has CPU 1
    yield from realnet.sluiced_with_echo(net, NetnsDaemon, realnet.port_profile(queues=2),
                                         realnet.config(vxlan=False), lcores="0@0,1@0,2@1")


ASK_MANY = r"""
import socket, sys
addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
ok = 0
for i in range(n):
    s = socket.socket(fam, socket.SOCK_DGRAM)   # a new source port each time: a new flow
    s.settimeout(1.5)
    s.connect((addr, port))
    for attempt in range(3):
        s.send(b"q%d" % i)
        try:
            s.recv(2048)
            ok += 1
            break
        except socket.timeout:
            pass
    s.close()
print(ok)
"""


@pytest.mark.parametrize("fam", [4, 6])
def test_every_flow_completes_with_two_workers(net, lb, fam):
    vip = realnet.VIP_DNAT[0] if fam == 4 else realnet.VIP_DNAT[1]
    # the first exchange also waits for ARP/ND to settle
    deadline = time.time() + 15
    while time.time() < deadline:
        p = subprocess.run(["ip", "netns", "exec", net.ns["client"], sys.executable, "-c",
                            ASK_MANY, vip, str(realnet.UDP_PORT), "1"],
                           capture_output=True, text=True, timeout=20)
        if p.stdout.strip() == "1":
            break
    p = subprocess.run(["ip", "netns", "exec", net.ns["client"], sys.executable, "-c", ASK_MANY,
                        vip, str(realnet.UDP_PORT), str(N)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert int(p.stdout.strip()) == N
    s = lb.wait_stats(lambda s: s["paths"]["reply"] >= N)
    # both workers received traffic
    assert len(s["lcores"]) == 2 and all(l["rx"] > 0 for l in s["lcores"]), s["lcores"]
    assert s["drops"].get("reply_no_flow", 0) == 0
    # and some replies were found in the other worker's partition
    assert s["paths"]["reply_remote"] > 0, s["paths"]
