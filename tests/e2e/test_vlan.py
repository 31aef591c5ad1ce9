# SPDX-License-Identifier: BSD-3-Clause
"""A VLAN-tagged segment: sluice's port is a trunk carrying VLAN 10 (the
relay in realnet.py tags and untags like a switch's trunk port); its port
profile has "vlanId": 10, so its answers (ARP, ND, echo), the packets to the
backends and the DNAT replies all carry the tag, and it accepts the tagged
frames of the segment."""
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

VLAN = 10


@pytest.fixture(scope="module")
def net():
    netns.remove_stale()
    t = realnet.RealNet("vl", vlan=VLAN).up()
    try:
        yield t
    finally:
        t.down()


@pytest.fixture(scope="module")
def lb(net):
    procs = []
    d = NetnsDaemon(net.ns["lb"], realnet.port_profile(vlan=VLAN), realnet.config(vxlan=False))
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
def test_dnat_over_a_tagged_segment(net, lb, fam):
    vip = realnet.VIP_DNAT[0] if fam == 4 else realnet.VIP_DNAT[1]
    out = None
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
    assert s["paths"]["reply"] > 0


def test_ping_over_a_tagged_segment(net, lb):
    p = subprocess.run(["ip", "netns", "exec", net.ns["client"], "ping", "-c", "2", "-i", "0.2",
                        "-W", "2", realnet.VIP_DNAT[0]], capture_output=True, text=True,
                       timeout=15)
    assert p.returncode == 0, p.stdout + p.stderr
    s = lb.wait_stats(lambda s: True)
    assert s["drops"].get("not_for_us", 0) == 0
