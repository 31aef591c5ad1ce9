# SPDX-License-Identifier: BSD-3-Clause
"""Configuration changes under traffic lose nothing.

tests/bench/update_latency.py runs sluiced over a replayed trace
(net_pcap, infinite_rx) and replaces a pool through the REST API again and
again; at the end every packet received must have been transmitted or
dropped with a counted reason (here: none may be dropped at all, since the
pool is never empty), and every worker must have forwarded with each new
snapshot. The benchmark's exit status says so.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(HERE, "..", "bench", "update_latency.py")


def test_pool_updates_under_traffic_lose_nothing():
    p = subprocess.run([sys.executable, BENCH, "--updates", "200", "--addresses", "200",
                        "--flows", "500"], capture_output=True, text=True, timeout=240)
    assert p.returncode == 0, p.stdout + p.stderr
    first = p.stdout.splitlines()[0]
    assert "0 dropped" in first and "0 unaccounted" in first, p.stdout
    assert "200 updates" in first
