# SPDX-License-Identifier: BSD-3-Clause
"""Restarts under traffic (docs/reliability.md, section 3): sluiced stopped
with SIGTERM or SIGKILL and started again with the same --state-dir while
real kernel TCP connections through it stay open, one frontend per delivery
mode (restartnet.py: DNAT, Floating IP by L2, IPinIP, GUE and VXLAN, on
three backends). Each connection exchanges a line every 100 ms and the
backend answers with its name; a connection survives a restart when it is
not reset, answers again after it, and only ever from the backend that
answered first. One that has not answered again SETTLE_S seconds after the
signal counts as stalled.

The outage of a restart is the time from the signal to the first packet the
new process forwarded (its statistics, every 50 ms); the client's longest
silence on any connection is printed beside it (TCP's retransmission
back-off makes it longer than the outage when a retransmission is lost).
The new process drops nothing: packets that come before it knows a next
hop's MAC are held until it does (paths.neighbour_held).

Default run: RESTART_CONNS (20) connections per mode, every mode at once,
one SIGTERM and one SIGKILL restart. scripts/soak.sh restart runs 200 per
mode and SOAK_RESTARTS restarts of each kind (SLUICE_RESTART_CONNS,
SLUICE_RESTARTS). Each restart prints a line starting "RESTART FIGURE:".
"""
import os
import signal
import statistics
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import netns  # noqa: E402
import restartnet  # noqa: E402
from restartnet import MODES  # noqa: E402
from scalenet import PORT  # noqa: E402

CONNS = int(os.environ.get("SLUICE_RESTART_CONNS", "20"))
RESTARTS = int(os.environ.get("SLUICE_RESTARTS", "1"))
# The client exchanges a line on each connection ten times a second: up to
# MAX_AT_ONCE connections are open together (every mode at once), above
# that one mode at a time (a 2-core machine runs the client, the servers
# and sluiced).
MAX_AT_ONCE = 250
GROUPS = [list(MODES)] if CONNS * len(MODES) <= MAX_AT_ONCE else [[m] for m in MODES]
# a connection silent this long after the signal is stalled (TCP's back-off
# retransmits at 0.2, 0.6, 1.4, 3.0, 6.2, 12.6 s after the first loss)
SETTLE_S = 30.0
# Half the DNAT connections ask, just before the signal, for an answer
# HOLD_S late: it is lost while sluiced is down, and the backend's
# retransmission reaches the new process before anything from the client,
# so no reply-table entry knows it (stateless reverse DNAT translates it).
HOLD_S = 1.0
HOLD_LEAD_S = 0.3       # the held requests are sent and acknowledged first
COMMAND = ("SLUICE_BUILD=build SLUICE_RESTART_CONNS={c} SLUICE_RESTARTS={r} /usr/bin/python3 "
           "-m pytest -q -s -p no:cacheprovider tests/e2e/test_restarts.py")


@pytest.fixture(scope="module")
def net():
    netns.remove_stale()
    t = restartnet.RestartNet("rs").up()
    try:
        yield t
    finally:
        t.down()


@pytest.fixture(scope="module")
def servers(net):
    procs = restartnet.start_servers(net)
    try:
        yield procs
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(5)


@pytest.fixture(scope="module")
def lb(net, servers):
    s = restartnet.Sluiced(net, restartnet.config())
    s.start(with_config=True)
    try:
        yield s
    finally:
        print(f"--- sluiced's last log ---\n{s.close()[-4000:]}")


@pytest.fixture
def client(net):
    agent = restartnet.connections_client(net)
    try:
        yield agent
    finally:
        agent.call({"cmd": "close"}, timeout=10)
        agent.proc.stdin.close()
        agent.proc.terminate()
        agent.proc.wait(5)


def open_all(client, lb, modes):
    """CONNS connections to each of modes' frontends, every one answered;
    they reach more than one backend."""
    for mode in modes:
        vip = MODES[mode][0]
        ans = client.call({"cmd": "open", "mode": mode, "vip": vip, "port": PORT, "n": CONNS},
                          timeout=120)
        assert ans["failed"] == 0, (mode, ans, lb.output()[-3000:])
    rep = client.call({"cmd": "report"}, timeout=10)
    for mode in modes:
        assert rep[mode]["alive"] == CONNS, (mode, rep[mode])
        assert len(rep[mode]["backends"]) >= 2, (mode, rep[mode])


def settle(client, t_signal):
    """Reports until every connection has answered since the mark, or
    SETTLE_S after the signal; the last report, by survivors()."""
    while True:
        rep = client.call({"cmd": "report"}, timeout=10)
        done = all(r["fresh"] + r["broken"] == r["opened"] for r in rep.values())
        if done or time.monotonic() - t_signal > SETTLE_S:
            return restartnet.survivors(rep)
        time.sleep(0.25)


def forwarded_by_rule(lb):
    return {r["name"]: r["packets"] for r in lb.stats().get("rules", [])}


def figure(sig, i, mode, r, times, extra=""):
    print(f"RESTART FIGURE: {sig.name} {i}/{RESTARTS} {mode}: survived {r['survived']}/"
          f"{r['opened']} broken={r['broken']} unanswered={r['unanswered']} "
          f"moved={r['moved']} outage_ms={times['first_ms']} (exited {times['exited_ms']}, "
          f"up {times['up_ms']}) client_max_silence_ms={r['max_gap_ms']} {extra}"
          f"reasons={r['reasons']}  (command: {COMMAND.format(c=CONNS, r=RESTARTS)})")


def summary(sig, mode, rows):
    """One line per mode and signal over every restart: rows of (survived,
    opened, outage ms, client's longest silence ms, drops)."""
    outages = [o for _, _, o, _, _ in rows]
    drops = {}
    for *_, d in rows:
        for k, v in d.items():
            drops[k] = drops.get(k, 0) + v
    print(f"RESTART SUMMARY: {sig.name} {mode}: survived {sum(r[0] for r in rows)}/"
          f"{sum(r[1] for r in rows)} over {len(rows)} restart(s) of {CONNS} connections; "
          f"outage_ms median {statistics.median(outages):.0f} max {max(outages)}; "
          f"client_max_silence_ms max {max(r[3] for r in rows)}; drops after the restarts "
          f"{drops}  (command: {COMMAND.format(c=CONNS, r=RESTARTS)})")


# Drops that are not the connections' packets: what a promiscuous port sees
# of others' traffic, and IP protocols other than TCP, UDP and ICMP (now
# and then one on this segment, restart or not).
NOT_OURS = netns.ALLOWED_DROPS + ("l4_unsupported",)


def new_drops(lb):
    """The new process's drops of the connections' packets; and the packets
    it held until a next hop's MAC was known."""
    s = lb.stats()
    return ({k: v for k, v in s.get("drops", {}).items() if v and k not in NOT_OURS},
            s["paths"].get("neighbour_held", 0))


def stateless_at_least(lb, n, timeout=2.0):
    """The new process's reply_stateless once it reaches n (its statistics
    lag by up to one interval), or what it is at timeout."""
    deadline = time.monotonic() + timeout
    while True:
        got = lb.stats()["paths"].get("reply_stateless", 0)
        if got >= n or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def restarts(lb, client, sig, modes):
    """RESTARTS restarts by sig with CONNS connections of each of modes
    open; the losses, [(restart, mode, what)]."""
    open_all(client, lb, modes)
    rules = sorted(rule for _, rule in MODES.values())
    lost = []
    rows = {m: [] for m in modes}
    held_total = stateless_total = 0
    for i in range(1, RESTARTS + 1):
        held = 0
        if "DNAT" in modes:
            held = client.call({"cmd": "hold", "mode": "DNAT", "s": HOLD_S, "every": 2},
                               timeout=10)["held"]
        time.sleep(HOLD_LEAD_S)
        client.call({"cmd": "mark"}, timeout=10)
        t_signal = time.monotonic()
        # an answer counts as fresh once the old process is gone
        times = lb.restart(sig, on_exit=lambda: client.call({"cmd": "mark", "fresh_only": True},
                                                            timeout=10))
        # the configuration came back from the state directory alone
        assert times["rules"] == rules, times
        res = settle(client, t_signal)
        stateless = stateless_at_least(lb, held)
        drops, neighbour_held = new_drops(lb)
        for mode in modes:
            r = res[mode]
            figure(sig, i, mode, r, times, (f"backend_first={held} reply_stateless={stateless} "
                                            if mode == "DNAT" else "")
                   + f"neighbour_held={neighbour_held} drops={drops} ")
            rows[mode].append((r["survived"], r["opened"], times["first_ms"], r["max_gap_ms"],
                               drops))
            if r["survived"] != r["opened"]:
                lost.append((i, mode, r))
        held_total += held
        stateless_total += min(stateless, held)
        # nothing dropped: what came before the next hops' MACs were known was held
        if drops:
            lost.append((i, "drops", drops))
    # The held answers reach the new process before anything from their
    # client, so the reply index translates them; when the machine stalls
    # long enough for the client to retransmit first, the reply table knows
    # them instead: most, not all, must have gone the stateless way.
    if stateless_total * 2 < held_total:
        lost.append(("all", "DNAT", f"{held_total} answers held, {stateless_total} of them "
                     "at most translated by reply_stateless"))
    # every mode's rule forwarded in the last process
    by_rule = forwarded_by_rule(lb)
    for mode in modes:
        if by_rule.get(MODES[mode][1], 0) == 0:
            lost.append((RESTARTS, mode, f"nothing forwarded by its rule: {by_rule}"))
    client.call({"cmd": "close"}, timeout=30)
    for mode in modes:
        summary(sig, mode, rows[mode])
    return lost


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_connections_survive_restarts(net, lb, client, sig):
    lost = []
    for modes in GROUPS:
        lost += restarts(lb, client, sig, modes)
    assert not lost, lost
