# SPDX-License-Identifier: BSD-3-Clause
"""A VLAN-tagged segment: sluice's port is a trunk carrying VLAN 10 (the
relay in realnet.py tags and untags like a switch's trunk port); its port
profile has "vlanId": 10, so its answers (ARP, ND, echo), the packets to the
backends and the DNAT replies all carry the tag, and it accepts the tagged
frames of the segment."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import realnet  # noqa: E402
from e2ehelpers import NetnsDaemon  # noqa: E402

VLAN = 10


@pytest.fixture(scope="module")
def net():
    yield from realnet.built("vl", vlan=VLAN)


@pytest.fixture(scope="module")
def lb(net):
    yield from realnet.sluiced_with_echo(net, NetnsDaemon, realnet.port_profile(vlan=VLAN),
                                         realnet.config(vxlan=False))


@pytest.mark.parametrize("fam", [4, 6])
def test_dnat_over_a_tagged_segment(net, lb, fam):
    vip = realnet.VIP_DNAT[0] if fam == 4 else realnet.VIP_DNAT[1]
    out = realnet.udp_ask_until(net, vip)
    realnet.assert_backend_answer(out)
    s = lb.wait_stats(lambda s: s["paths"]["reply"] > 0)
    assert s["paths"]["reply"] > 0


def test_ping_over_a_tagged_segment(net, lb):
    p = subprocess.run(["ip", "netns", "exec", net.ns["client"], "ping", "-c", "2", "-i", "0.2",
                        "-W", "2", realnet.VIP_DNAT[0]], capture_output=True, text=True,
                       timeout=15)
    assert p.returncode == 0, p.stdout + p.stderr
    s = lb.wait_stats(lambda s: True)
    assert s["drops"].get("not_for_us", 0) == 0
