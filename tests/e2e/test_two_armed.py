# SPDX-License-Identifier: BSD-3-Clause
"""The two-armed deployment: sluice has a client-facing port (segA, the
client's router) and a backend-facing port (segB, the backends' gateway).
A request in on segA leaves on segB (the port whose prefix holds the
backend); the backend's reply comes back on segB and leaves on segA, to the
MAC the request came from. Frontends are on segB's subnet here but are
reached through segA: sluice answers for them on both ports."""
import os
import shutil
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import netns  # noqa: E402
import realnet  # noqa: E402
from e2ehelpers import NetnsDaemon  # noqa: E402


@pytest.fixture(scope="module")
def net():
    netns.remove_stale()
    t = realnet.RealNet("ta", two_armed=True).up()
    try:
        yield t
    finally:
        t.down()


@pytest.fixture(scope="module")
def lb(net):
    procs = []
    d = NetnsDaemon(net.ns["lb"], realnet.two_armed_profile(), realnet.config(vxlan=False),
                    env={})
    try:
        for b in ("backend1", "backend2"):
            procs.append(subprocess.Popen(
                ["ip", "netns", "exec", net.ns[b], sys.executable, "-c", realnet.UDP_ECHO, b,
                 str(realnet.UDP_PORT)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        d.wait_stats(lambda s: s.get("generation", 0) >= 1, timeout=20)
        yield d
    finally:
        for p in procs:
            p.terminate()
        d.stop()
        print(f"--- sluiced log ({d.dir}) ---\n{d.output()}")
        shutil.rmtree(d.dir, ignore_errors=True)


@pytest.mark.parametrize("fam", [4, 6])
def test_request_and_reply_cross_the_two_ports(net, lb, fam):
    vip = realnet.VIP_DNAT[0] if fam == 4 else realnet.VIP_DNAT[1]
    out = ""
    deadline = time.time() + 15
    while time.time() < deadline:
        p = subprocess.run(["ip", "netns", "exec", net.ns["client"], sys.executable, "-c",
                            realnet.UDP_ASK, vip, str(realnet.UDP_PORT)],
                           capture_output=True, text=True, timeout=10)
        out = p.stdout.strip() if p.returncode == 0 else p.stderr.strip()
        if p.returncode == 0:
            break
        time.sleep(0.3)
    assert out.endswith(":hello") and out.split(":")[0] in ("backend1", "backend2"), out
    s = lb.wait_stats(lambda s: s["paths"]["reply"] > 0)
    assert s["drops"].get("no_tx_queue", 0) == 0
    # the client's neighbour for its gateway is sluice's port A
    neigh = net.run("client", ["ip", "neigh", "show", "dev", "eth0"])
    assert realnet.LB_MAC_A in neigh, neigh
