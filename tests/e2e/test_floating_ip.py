# SPDX-License-Identifier: BSD-3-Clause
"""Floating IP (direct server return) end to end: a real kernel TCP client in
one namespace reaches HTTP servers in backend namespaces through sluiced on a
net_af_packet veth; the answers go straight back to the client. See netns.py
for the test bed."""
import collections
import time


import netns
from netns import (HTTP_PORT, VIP_L2, VIP_VXLAN, VNI, backend_packets, http_get, load_balancer,
                   unexpected_drops, vnet)

MAX_FAILURES = 3  # stop sending early once sluice clearly does not forward


def fetch_many(topology, url, n, budget_s=30.0):
    """n GETs (fresh connections, so fresh source ports); stops early after
    MAX_FAILURES failures or when budget_s has passed. Returns (answers, failures)."""
    answers, failures = [], []
    deadline = time.time() + budget_s
    for i in range(n):
        if len(failures) >= MAX_FAILURES or time.time() > deadline:
            break
        ok, body = http_get(topology, "client", url)
        (answers if ok else failures).append(body if ok else f"request {i}: {body}")
    return answers, failures


def stop_and_read(daemon):
    """Stop sluiced and return its final statistics (written at exit)."""
    rc = daemon.stop()
    stats = daemon.read_stats()
    assert stats is not None, "no statistics file; log:\n" + daemon.output()
    assert rc == 0, f"sluiced exited with {rc}; log:\n" + daemon.output()
    return stats


def check_counters(stats, daemon):
    drops = unexpected_drops(stats)
    assert not drops, f"unexpected drops {drops}; stats {stats}\nlog:\n{daemon.output()}"
    forwarded = sum(r["packets"] for r in stats["rules"])
    assert forwarded == sum(b["packets"] for b in stats["backends"])
    # what sluice sends besides: the control thread's ARP/ND (announcements, answers)
    assert stats["tx"] == forwarded + stats["paths"]["injected"], stats
    assert stats["paths"]["injected"] < 50, stats


def test_l2_delivery_spreads_http_over_two_backends(topology, http_servers, sluiced):
    config = {"virtualNetworks": [vnet("vnet-e2e", "10.77.0.0/24", {"mode": "L2"})],
              "loadBalancers": [load_balancer("lb-l2", "vnet-e2e", VIP_L2,
                                              ["backend1", "backend2"])]}
    daemon = sluiced(config)
    n = 40
    answers, failures = fetch_many(topology, f"http://{VIP_L2}:{HTTP_PORT}/", n)
    stats = stop_and_read(daemon)
    assert not failures, (f"{len(failures)} of {len(answers) + len(failures)} requests failed: "
                          f"{failures}\nstats: {stats}\nlog:\n{daemon.output()}")
    assert len(answers) == n
    served = collections.Counter(answers)
    assert set(served) <= {"backend1", "backend2"}, served
    assert served["backend1"] > 0 and served["backend2"] > 0, served

    per_backend = backend_packets(stats)
    for b in ("backend1", "backend2"):
        ip = netns.BACKENDS[b][0]
        # at least SYN, request and FIN of every connection the backend answered
        assert per_backend.get(ip, 0) >= 3 * served[b], (b, served, stats)
    assert per_backend[netns.BACKENDS["backend1"][0]] > 0
    assert per_backend[netns.BACKENDS["backend2"][0]] > 0
    check_counters(stats, daemon)


def test_vxlan_delivery_into_kernel_vxlan_device(topology, http_servers, sluiced):
    config = {"virtualNetworks": [vnet("vnet-vxlan", "10.77.0.0/24",
                                       {"mode": "VXLAN", "vni": VNI})],
              "loadBalancers": [load_balancer("lb-vxlan", "vnet-vxlan", VIP_VXLAN,
                                              ["backend3"])]}
    rx_before, _ = topology.link_stats("backend3", "vx0")
    daemon = sluiced(config)
    n = 10
    answers, failures = fetch_many(topology, f"http://{VIP_VXLAN}:{HTTP_PORT}/", n)
    stats = stop_and_read(daemon)
    rx_after, _ = topology.link_stats("backend3", "vx0")
    assert not failures, (f"{len(failures)} of {len(answers) + len(failures)} requests failed: "
                          f"{failures}\nvx0 rx {rx_before} -> {rx_after}\nstats: {stats}\n"
                          f"log:\n{daemon.output()}")
    assert answers == ["backend3"] * n
    sent = backend_packets(stats).get(netns.BACKENDS["backend3"][0], 0)
    assert sent >= 3 * n, stats
    # every packet sluice sent came out of the kernel's VXLAN device decapsulated
    assert rx_after - rx_before == sent, (rx_before, rx_after, stats)
    check_counters(stats, daemon)

# DNAT with its return path needs sluice as the backends' gateway, so the
# client on another segment: test_real_network.py.
