# SPDX-License-Identifier: BSD-3-Clause
"""Churn at full rate, short: tests/bench/churn.py makes 300 REST changes of
every kind (addresses added and removed, admin state flips, weights, whole
pools replaced, rules added and removed; 150 under the sanitizers, which
run this tier again) while one worker forwards a replayed trace of 1,000
established TCP flows. Its exit status says whether a goal was missed: a
packet lost that no counted policy drop explains, an established flow that
left an anchor backend (one the churn never removes or sets Down), memory
that grew, or a sluiced that did not exit cleanly (under ASan: with a
leak). scripts/soak.sh churn runs 10,000 (and 1,000 under ASan).
"""
import importlib.util
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(HERE, "..", "bench", "churn.py")
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import slharness  # noqa: E402


def load_churn():
    spec = importlib.util.spec_from_file_location("sl_bench_churn", BENCH)
    churn = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(churn)
    return churn


def test_churn_under_traffic_loses_nothing_and_moves_no_flow(tmp_path):
    changes = 150 if load_churn().sanitized() else 300
    out = tmp_path / "churn.json"
    p = subprocess.run([sys.executable, BENCH, "--changes", str(changes), "--flows", "1000",
                        "--json", str(out)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    fig = json.loads(out.read_text())
    assert fig["changes"] == changes and fig["unaccounted"] == 0, p.stdout
    assert fig["moves"]["moved"] == 0 and fig["moves"]["pinnedFlows"] > 0, p.stdout
    # every kind of change was made, and the rules' removals dropped by policy only
    assert all(v["n"] > 0 for v in fig["roundTripByKind"].values()), p.stdout
    assert set(fig["drops"]) <= {"no_frontend", "no_backend"}, p.stdout


def test_flow_moves_finds_a_flow_that_left_its_anchor(tmp_path):
    """The checker churn.py relies on can fail: a flow pinned to an anchor
    that later goes elsewhere is a move; leaving a non-anchor for an anchor,
    or another port's flow changing, is not."""
    churn = load_churn()
    frame, pack = churn.bench_trace.frame, churn.bench_trace.struct.pack
    anchor, other = b"\x0a\x01\x00\x01", b"\x0a\x02\x00\x07"
    # (flow, destination port, backend): flow 0 leaves its anchor; flow 1
    # reaches one from elsewhere; flow 2 (port 100, not judged) moves freely.
    seq = [(0, 80, anchor), (1, 81, other), (2, 100, anchor), (0, 80, anchor),
           (1, 81, anchor), (2, 100, other), (0, 80, other), (1, 81, anchor)]
    path = tmp_path / "tx.pcap"
    with open(path, "wb") as f:
        f.write(pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, port, dst in seq:
            fr = frame(i, 60, "tcp", False, 1, dport=port, dst=dst)
            f.write(pack("<IIII", 0, 0, len(fr), len(fr)) + fr)
    tool = os.path.join(slharness.build_dir(), "tests", "bench", "flow_moves")
    p = subprocess.run([tool, "--anchors", "10.1.0.1,10.1.0.2", "--ports", "80,81,82,83",
                        str(path)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert (r["packets"], r["flows"], r["judgedFlows"], r["pinnedFlows"]) == (8, 3, 2, 2), r
    assert r["moved"] == 1 and r["changes"] == 3, r
    ex = r["examples"][0]
    assert (ex["dport"], ex["from"], ex["to"], ex["packet"]) == (80, "10.1.0.1", "10.2.0.7", 7), r
