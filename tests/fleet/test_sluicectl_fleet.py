# SPDX-License-Identifier: BSD-3-Clause
"""`sluicectl fleet status`'s flags on answers made up here, so that every
flag is seen set and unset (test_fleet.py sees them on a live fleet, where
a disagreement about a backend's health cannot be staged on one machine):
BEHIND, PARTITIONED (etcd Unreachable, or a key not rewritten for 6 s),
DISAGREES (against the majority, or every host of a tie), REJECTED lines.

    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/fleet/test_sluicectl_fleet.py
"""
import datetime
import importlib.machinery
import importlib.util
import os
import types

import fleethelpers as fh

NOW = datetime.datetime(2026, 1, 2, 3, 4, 10, tzinfo=datetime.timezone.utc)


def sluicectl():
    loader = importlib.machinery.SourceFileLoader("sluicectl_fleet", fh.SLUICECTL)
    spec = importlib.util.spec_from_loader("sluicectl_fleet", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def host(name, applied, updated="2026-01-02T03:04:09Z", etcd="Connected", health=None, **kw):
    x = {"name": name, "appliedRevision": applied, "generation": applied + 1, "commits": 3,
         "announced": [], "health": health or {}, "etcd": etcd, "updated": updated,
         "tables": {}}
    x.update(kw)
    return x


def answer(*hosts, newest=40):
    return {"prefix": "/sluice/t", "newestRevision": newest, "hosts": list(hosts)}


def test_flags():
    m = sluicectl()
    up = {"lb/pool/10.0.0.11": "Up", "lb/pool/10.0.0.12": "Up"}
    data = answer(host("a", 40, health=up),
                  host("b", 38, health=up),
                  host("c", 40, etcd="Unreachable", health=up),
                  host("d", 40, updated="2026-01-02T03:04:03.5Z", health=up),
                  host("e", 40, health={"lb/pool/10.0.0.11": "Down", "lb/pool/10.0.0.12": "Up"}))
    assert m.fleet_flags(data, NOW) == {"a": [], "b": ["BEHIND"], "c": ["PARTITIONED"],
                                        "d": ["PARTITIONED"], "e": ["DISAGREES"]}
    assert m.fleet_disagreements(data["hosts"]) == {
        "lb/pool/10.0.0.11": {"Up": ["a", "b", "c", "d"], "Down": ["e"]}}
    # 5.5 s is not stale yet, a key without a time is
    assert m.fleet_flags(answer(host("a", 40, updated="2026-01-02T03:04:04.5+00:00"),
                                host("b", 40, updated=None)), NOW) == {
        "a": [], "b": ["PARTITIONED"]}


def test_a_tie_flags_every_host_of_it():
    m = sluicectl()
    data = answer(host("a", 40, health={"lb/p/1": "Up"}), host("b", 40, health={"lb/p/1": "Down"}),
                  host("c", 40))
    assert m.fleet_flags(data, NOW) == {"a": ["DISAGREES"], "b": ["DISAGREES"], "c": []}


def test_table():
    m = sluicectl()
    data = answer(host("a", 40, announced=["192.0.2.10"], health={"lb/p/1": "Up"}),
                  host("b", 37, etcd="Unreachable", health={"lb/p/1": "Down"},
                       rejected={"revision": 39, "error": {"code": "InvalidResourceReference",
                                                           "message": "no such port"}}),
                  host("c", 40, health={"lb/p/1": "Up"}))
    ctx = types.SimpleNamespace(output="table")
    text, rows = m.fleet_table(ctx, data, NOW)
    lines = text.splitlines()
    assert lines[0] == "fleet /sluice/t: newest revision 40, 3 hosts"
    assert lines[1].split() == ["Host", "Etcd", "Applied", "Behind", "Generation", "Announced",
                                "Updated", "Flags"]
    assert lines[3].split() == ["a", "Connected", "40", "0", "41", "192.0.2.10", "1s", "ago"]
    assert lines[4].split() == ["b", "Unreachable", "37", "3", "38", "1s", "ago", "BEHIND",
                                "PARTITIONED", "DISAGREES"]
    assert lines[6] == "DISAGREES: lb/p/1: Down on b; Up on a, c"
    assert lines[7] == ("REJECTED: b cannot apply revision 39: (InvalidResourceReference) "
                        "no such port")
    ctx.output = "tsv"
    cols, rows = m.fleet_table(ctx, data, NOW)
    assert [r[0] for r in rows] == ["a", "b", "c"] and rows[1][3] == 3
    assert rows[1][7] == "BEHIND PARTITIONED DISAGREES"
    assert os.access(fh.SLUICECTL, os.X_OK)
