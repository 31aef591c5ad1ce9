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
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(HERE, "..", "bench", "churn.py")
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import slharness  # noqa: E402


def sanitized():
    """Whether SLUICE_BUILD was configured with -Db_sanitize."""
    path = os.path.join(slharness.build_dir(), "meson-info", "intro-buildoptions.json")
    with open(path) as f:
        opts = {o["name"]: o["value"] for o in json.load(f)}
    return opts.get("b_sanitize", "none") != "none"


def test_churn_under_traffic_loses_nothing_and_moves_no_flow(tmp_path):
    changes = 150 if sanitized() else 300
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
