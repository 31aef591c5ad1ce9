# SPDX-License-Identifier: BSD-3-Clause
"""Two worker lcores, two queue pairs: each worker serves its own queue,
both read the same published snapshot, and the backend of a flow does not
depend on which worker handled it.

The trace is dealt over two net_pcap input files (one queue pair each); the
EAL runs the control thread on CPU 0 and both workers on CPU 1
(--lcores '0@0,(1,2)@1'), so the test runs on a 2-core machine.
"""
import collections

import pytest

import dphelpers as h

N = 2
FE4 = h.fe_addr(N, 60)
POOL = [h.be_addr(N, 9, x) for x in (11, 12, 13)]
FLOWS = 300


@pytest.fixture(scope="module")
def runs():
    lb = h.LB("lb-mw", N).frontend("fe4", FE4).pool("p", POOL)
    lb.rule("tcp80", "fe4", "p", "Tcp", 80, 8080)
    config = h.make_config([h.make_vnet(N)], [lb])
    pkts = []
    for i in range(FLOWS):
        src = h.client(i)
        # one flow's two packets land on different queues (dealt round robin)
        pkts.append(h.pkt(src, FE4, "tcp", 2000 + i, 80, b"a"))
        pkts.append(h.pkt(src, FE4, "tcp", 2000 + i, 80, b"b"))
    two = h.run(config, pkts, lb.neighbours, queues=2, lcores="0@0,(1,2)@1",
                extra_args=["--lcores-per-port", "2"])
    one = h.run(config, pkts, lb.neighbours)
    return two, one, pkts


def backend_of_flows(out):
    seen = collections.defaultdict(set)
    for f in out:
        ip = f["IP"]
        seen[(ip.src, ip["TCP"].sport)].add(ip.dst)
    return seen


def test_both_workers_served_a_queue(runs):
    two, _, pkts = runs
    lcores = two.stats["lcores"]
    assert [lc["lcore"] for lc in lcores] == [1, 2]
    assert [lc["rx"] for lc in lcores] == [len(pkts) // 2, len(pkts) // 2]
    assert [lc["tx"] for lc in lcores] == [len(pkts) // 2, len(pkts) // 2]
    assert two.stats["dropped"] == 0


def test_flow_keeps_its_backend_across_workers(runs):
    two, one, _ = runs
    seen = backend_of_flows(two.out)
    assert len(seen) == FLOWS
    split = {k: v for k, v in seen.items() if len(v) != 1}
    assert not split, f"flows sent to two backends: {split}"
    # and the choice is the one a single worker makes
    single = backend_of_flows(one.out)
    assert {k: min(v) for k, v in seen.items()} == {k: min(v) for k, v in single.items()}
    assert set(min(v) for v in seen.values()) == set(POOL)


def test_counters_sum_over_workers(runs):
    two, _, pkts = runs
    rules = h.rule_counters(two.stats)
    assert rules["lb-mw/tcp80"]["packets"] == len(pkts)
    per_backend = collections.Counter(f["IP"].dst for f in two.out)
    backends = h.backend_counters(two.stats)
    for i, addr in enumerate(POOL):
        assert backends[f"lb-mw/p/a{i}"]["packets"] == per_backend[addr]
