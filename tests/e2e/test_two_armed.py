# SPDX-License-Identifier: BSD-3-Clause
"""The two-armed deployment: sluice has a client-facing port (segA, the
client's router) and a backend-facing port (segB, the backends' gateway).
A request in on segA leaves on segB (the port whose prefix holds the
backend); the backend's reply comes back on segB and leaves on segA, to the
MAC the request came from. Frontends are on segB's subnet here but are
reached through segA: sluice answers for them on both ports."""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import realnet  # noqa: E402
from e2ehelpers import NetnsDaemon  # noqa: E402


@pytest.fixture(scope="module")
def net():
    yield from realnet.built("ta", two_armed=True)


@pytest.fixture(scope="module")
def lb(net):
    yield from realnet.sluiced_with_echo(net, NetnsDaemon, realnet.two_armed_profile(),
                                         realnet.config(vxlan=False))


@pytest.mark.parametrize("fam", [4, 6])
def test_request_and_reply_cross_the_two_ports(net, lb, fam):
    vip = realnet.VIP_DNAT[0] if fam == 4 else realnet.VIP_DNAT[1]
    out = realnet.udp_ask_until(net, vip)
    realnet.assert_backend_answer(out)
    s = lb.wait_stats(lambda s: s["paths"]["reply"] > 0)
    assert s["drops"].get("no_tx_queue", 0) == 0
    # the client's neighbour for its gateway is sluice's port A
    neigh = net.run("client", ["ip", "neigh", "show", "dev", "eth0"])
    assert realnet.LB_MAC_A in neigh, neigh
