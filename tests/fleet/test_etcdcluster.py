# SPDX-License-Identifier: BSD-3-Clause
"""The fleet tests' etcd cluster (tests/tools/etcdcluster.py) on its own:
three members bootstrapped on loopback ports; the leader killed, a new one
elected and writes going on; quorum lost, writes refused; the members
restarted on their data, nothing lost. About 10 s.

    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/fleet/test_etcdcluster.py
"""
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))

import etcdcluster  # noqa: E402


def test_three_members_leader_killed_quorum_lost_and_back():
    with etcdcluster.EtcdCluster(3) as c:
        eps = c.endpoints()
        assert len(set(eps)) == 3 and all(e.startswith("http://127.0.0.1:") for e in eps)
        p = c.etcdctl("member", "list", "-w", "json")
        assert len(json.loads(p.stdout)["members"]) == 3
        c.put("/t/a", "1")
        assert c.get("/t/a")[0] == "1"

        old = c.leader()
        assert old is not None
        t0 = time.monotonic()
        c.kill(old, signal.SIGKILL)
        new = c.wait_leader(timeout=15, not_member=old)
        elected = time.monotonic() - t0
        assert new != old
        c.put("/t/a", "2")  # two of three: still a quorum
        value, rev = c.get("/t/a")
        assert value == "2"
        print(f"etcd: a new leader {elected:.2f} s after the old one was killed")

        # a second member down: no quorum, a write cannot commit
        c.kill(new)
        r = c.etcdctl("put", "/t/a", "3", timeout=4.0, check=False)
        assert r.returncode != 0, "a write committed without a quorum"
        assert c.leader() is None

        c.restart_all()
        assert c.wait_leader() in range(3)
        assert c.get("/t/a") == ("2", rev), "the last committed write was lost"
        c.put("/t/a", "4")
        assert c.get("/t/a")[0] == "4"
        assert all(m.alive() for m in c.members)
        data = c.dir
    assert not os.path.exists(data), "the cluster's data directory was left behind"
    assert subprocess.run(["pgrep", "-f", data], capture_output=True).returncode != 0, \
        "an etcd member was left running"
