# SPDX-License-Identifier: BSD-3-Clause
"""Hostile traffic at full rate, short: tests/bench/hostile.py's checks on
small traces (the long runs: scripts/soak.sh hostile).

sluiced (DNAT, one worker, a 1,024-way flow table) replays well-formed TCP
flows beside a SYN flood larger than the table, malformed frames of every
class the parser counts, fragments whose other parts never come and ICMP
errors quoting nothing or garbage:
- every bad packet is counted by reason (or on the path that forwarded
  it), and rx == tx + dropped;
- the rate phase runs and accounts for every packet of every run (the
  good rate's fall beside bad packets is a benchmark's figure:
  tests/bench/hostile.py, docs/reliability.md);
- the established flows keep their backend when a backend joins the pool
  while the flood fills the table, and so do flows that started after the
  flood (their SYNs find no room; their first ACK takes the way of a flood
  SYN's entry); without a flow table the same check sees flows move.
"""
import os
import shutil
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
import hostile  # noqa: E402

SMALL = ["--shares", "30", "--good-flows", "200", "--packets-per-flow", "50",
         "--late-flows", "200", "--flow-table", "800", "--seconds", "2"]


@pytest.fixture(scope="module")
def tmpl():
    return hostile.templates()


@pytest.fixture
def work():
    d = tempfile.mkdtemp(prefix="sluice-hostile-test-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def setup(work, *extra):
    a = hostile.parse_args(SMALL + list(extra))
    a.work = work
    return a


def test_every_bad_packet_counted_by_reason(tmpl, work):
    a = setup(work)
    traces, ways = hostile.build_traces(a, work, tmpl)
    mix = traces[30]
    assert mix.n_flood > ways, "the flood must be larger than the flow table"
    _, ticks, stats, problems = hostile.rate_run(mix, a, work)
    assert stats["rx"] >= 2 * mix.n, "fewer than two passes of the trace"
    assert not problems, "\n".join(problems)
    # every class of the trace was met, and the flood outgrew the table
    drops = {k for k, v in stats["drops"].items() if v}
    want = {k for k in mix.per_pass if k not in (hostile.GOOD, hostile.FLOOD)
            and not k.startswith("fwd:")}
    assert drops == want
    assert stats["paths"]["fragment"] > 0 and stats["paths"]["icmp_error_forwarded"] > 0
    # (a bucket or two may by chance have drawn fewer than 8 of the flows)
    assert stats["flows"]["tableFull"] > 0 and stats["flows"]["live"] > 0.95 * ways


def test_rate_phase_accounts_for_every_run(tmpl, work):
    """The rate phase of hostile.py (its speed verdict is a benchmark's, not
    a test's: --margin 1 here) alternates the good trace and a mix of every
    class; each run's counters must account for every packet, and the
    worker must report its ticks a packet."""
    a = setup(work, "--runs", "1", "--seconds", "1", "--margin", "1")
    traces, _ = hostile.build_traces(a, work, tmpl)
    rows = []
    problems = hostile.rate_phase(a, traces, rows)
    assert not problems, "\n".join(problems)
    assert len(rows) == 2 and all(r[2] > 0 and r[3] > 0 for r in rows), rows


def test_established_flows_keep_their_backends(tmpl, work):
    a = setup(work)
    problems, facts = hostile.backends_phase(a, tmpl)
    assert not problems, "\n".join(problems)
    assert facts["moved"] == 0 and facts["early"] == 200
    # flows whose SYN found the table full: tracked from their first ACK on
    assert facts["late_seen"] == 200 and facts["late_moved"] == 0
    assert facts["stats"]["flows"]["tableFull"] > 0


def test_backends_check_sees_moves(tmpl, work):
    """Without a flow table every flow follows Maglev: the 17th backend takes
    about 1 in 17 of them, and the check must say so (none of 400 moving
    has a chance of 3e-11)."""
    a = setup(work, "--flow-table", "0")
    problems, facts = hostile.backends_phase(a, tmpl)
    assert facts["moved"] > 0 and facts["late_moved"] > 0
    assert any("established flows changed backend" in p for p in problems)
