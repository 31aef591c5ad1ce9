# SPDX-License-Identifier: BSD-3-Clause
"""One configuration for a fleet (docs/fleet.md): three sluiced hosts on
net_null ports share their resource document through a real three-member
etcd cluster. What a user relies on:

- a change made on any host is applied on all three, and after every change
  the three publish identical Maglev tables (the "tables" digests of
  GET /sluice/status: the same backend for every flow); the time from the
  write's answer to all three reporting its revision is measured;
- concurrent conflicting changes on two hosts end in one document on all
  three, the last successful write, never a mixture; the loser is told
  (412 PreconditionFailed for a stale If-Match, 409 FleetConflict when the
  retries run out);
- the etcd leader killed in a stream of changes: no acknowledged change lost,
  a change refused meanwhile gets 503 FleetStoreUnavailable, all converge;
- quorum lost, then etcd wholly down: forwarding goes on unchanged, reads
  are served, writes are refused (503 FleetStoreUnavailable naming the
  cause), every host says it is partitioned; a host restarted meanwhile
  comes back with its last configuration; etcd back, all converge;
- `sluicectl fleet status` shows the hosts and flags the one that is BEHIND
  and PARTITIONED (stopped past its key's refresh);
- a document no host can apply (written straight into etcd) is kept out and
  shown as rejected; a host joining later takes the fleet's document over
  its own --config.

The hosts and the etcd cluster are shared by the module's tests, which run
in order. SLUICE_FLEET_CHANGES sets the number of changes of the convergence
measurement (default 200; scripts/soak.sh fleet runs 2,000).

    SLUICE_BUILD=build /usr/bin/python3 -m pytest -q -s -p no:cacheprovider tests/fleet/test_fleet.py
"""
import json
import os
import signal
import subprocess
import threading
import time

import apihelpers as h
import fleethelpers as fh
from apihelpers import rid

LB = rid("loadBalancers", "lb")
POOL = rid("loadBalancers", "lb", "backendAddressPools", "pool")
VNET = rid("virtualNetworks", "vnet")
CHANGES = int(os.environ.get("SLUICE_FLEET_CHANGES", "200"))
COMMAND = (("SLUICE_FLEET_CHANGES=%d " % CHANGES if "SLUICE_FLEET_CHANGES" in os.environ else "")
           + "SLUICE_BUILD=build /usr/bin/python3 -m pytest -q -s -p no:cacheprovider "
           "tests/fleet/test_fleet.py")
FLEET_STORE_UNAVAILABLE = "FleetStoreUnavailable"


def pool_body(ips):
    return {"properties": {"loadBalancerBackendAddresses": [
        h.address(f"a{i}", ip, "vnet") for i, ip in enumerate(ips)]}}


def pool_ips(resource):
    return [a["properties"]["ipAddress"]
            for a in resource["properties"]["loadBalancerBackendAddresses"]]


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def figure(text):
    print(f"FLEET FIGURE: {text} (command: {COMMAND})")


def etcd_document(fleet):
    """The resource document in PREFIX/config, and its mod revision."""
    text, rev = fleet.etcd.get(fleet.prefix + "/config")
    assert text is not None, f"no {fleet.prefix}/config in etcd"
    return json.loads(text), rev


def etcd_pool(fleet, name="pool"):
    doc, _ = etcd_document(fleet)
    lb = next(x for x in doc["loadBalancers"] if x["name"] == "lb")
    pool = next(p for p in lb["properties"]["backendAddressPools"] if p["name"] == name)
    return [a["properties"]["ipAddress"] for a in pool["properties"]["loadBalancerBackendAddresses"]]


def test_the_fleet_seeds_and_shares_one_document(fleet):
    """The three hosts start on an empty prefix: one of them seeds it, all apply
    that revision; the base configuration written on host0 reaches the others."""
    rev, _, statuses = fleet.converge(timeout=30)
    assert rev > 0
    for name, s in statuses.items():
        f = s["fleet"]
        assert f["name"] == name and f["prefix"] == fleet.prefix, f
        assert f["endpoints"] == fleet.etcd.endpoints(), f
        assert f["etcd"] == "Connected" and f["partitioned"] is False, f
        assert f["behind"] is False and f["rejected"] is None, f
    api = fleet.hosts[0].api
    api.ok("PUT", VNET, h.vnet_body(["10.0.0.0/16"], {"sub": "10.0.0.0/24"}), status=(200, 201))
    api.ok("PUT", LB, h.lb_body(
        frontends=[h.frontend("fe", "10.0.0.10", "vnet", "sub")],
        pools=[h.pool("pool", [h.address("a0", "10.0.0.11", "vnet"),
                               h.address("a1", "10.0.0.12", "vnet"),
                               h.address("a2", "10.0.0.13", "vnet")])],
        rules=[h.rule("http", "lb", "fe", "pool", "Tcp", 80, 8080)]), status=(200, 201))
    # the write answered once host0 had applied it
    w = fleet.hosts[0].applied()
    doc, etcd_rev = etcd_document(fleet)
    assert w == etcd_rev, f"host0 applied {w}, PREFIX/config is at {etcd_rev}"
    assert [x["name"] for x in doc["loadBalancers"]] == ["lb"]
    fleet.converge(w)
    tables = fleet.assert_identical()
    assert tables["lb/http"]["backends"] == 3, tables
    assert len(tables["lb/http"]["digest"]) == 8, tables
    for x in fleet.hosts:
        assert pool_ips(x.api.get(POOL).json) == ["10.0.0.11", "10.0.0.12", "10.0.0.13"]


def test_every_change_reaches_every_host(fleet):
    """CHANGES pool changes, one at a time, each on the next host: the write
    answers after its own host applied it; the time until all three report its
    revision is measured; after every change the three publish the same Maglev
    table, and a new one (a backend replaced)."""
    hosts = fleet.hosts
    prev = hosts[0].status()["tables"]["lb/http"]["digest"]
    conv, writes = [], []
    for i in range(CHANGES):
        writer = hosts[i % len(hosts)]
        ips = [f"10.0.{1 + i // 200}.{i % 200 + 1}", "10.0.0.12", "10.0.0.13"]
        t0 = time.monotonic()
        r = writer.api.put(POOL, pool_body(ips))
        t_answer = time.monotonic()
        assert r.status == 200, f"change {i} on {writer.name}: {r}"
        w = writer.applied()
        rev, _, statuses = fleet.converge(w, timeout=10, interval=0.002)
        conv.append(time.monotonic() - t_answer)
        writes.append(t_answer - t0)
        assert rev == w, f"change {i}: the hosts went on to {rev} past {w} (nobody else writes)"
        digests = {n: s["tables"]["lb/http"]["digest"] for n, s in statuses.items()}
        assert len(set(digests.values())) == 1, f"change {i}: Maglev tables differ: {digests}"
        assert prev not in digests.values(), f"change {i}: the table did not change"
        prev = next(iter(digests.values()))
        if i % 50 == 49:
            fleet.assert_identical()
    fleet.assert_identical()
    assert etcd_pool(fleet) == ips
    ms = [c * 1000 for c in conv]
    wms = [c * 1000 for c in writes]
    figure(f"convergence after a write's answer, {CHANGES} pool changes on 3 hosts "
           f"(each on the next host): p50 {percentile(ms, 50):.1f} ms, "
           f"p99 {percentile(ms, 99):.1f} ms, max {max(ms):.1f} ms")
    figure(f"write latency (PUT of a pool, answered once the writing host applied it), "
           f"{CHANGES} changes: p50 {percentile(wms, 50):.1f} ms, "
           f"p99 {percentile(wms, 99):.1f} ms")


def test_if_match_and_a_stale_etag(fleet):
    """If-Match with the etag GET shows succeeds; with an etag that another
    host's change made stale: 412 PreconditionFailed, nothing changes;
    If-None-Match: * on an existing resource, If-Match on an absent one: 412."""
    h0, h1 = fleet.hosts[0], fleet.hosts[1]
    fleet.converge()
    etag = h0.api.get(POOL).json["etag"]
    h1.api.ok("PUT", POOL, pool_body(["10.0.2.1", "10.0.0.12"]), status=200)
    before = etcd_document(fleet)
    r = h0.api.put(POOL, pool_body(["10.0.2.2", "10.0.0.12"]), headers={"If-Match": etag})
    assert r.status == 412 and r.error["code"] == "PreconditionFailed", r
    assert etcd_document(fleet) == before, "a refused write reached etcd"
    rev, _, _ = fleet.converge()
    assert pool_ips(h0.api.get(POOL).json) == ["10.0.2.1", "10.0.0.12"]
    etag = h0.api.get(POOL).json["etag"]
    h0.api.ok("PUT", POOL, pool_body(["10.0.2.3", "10.0.0.12"]), headers={"If-Match": etag},
              status=200)
    h0.api.ok("PUT", POOL, pool_body(["10.0.2.4", "10.0.0.12"]), headers={"If-Match": "*"},
              status=200)
    r = h1.api.put(POOL, pool_body(["10.0.2.5"]), headers={"If-None-Match": "*"})
    assert r.status == 412 and r.error["code"] == "PreconditionFailed", r
    absent = rid("loadBalancers", "lb", "backendAddressPools", "absent")
    r = h1.api.put(absent, pool_body(["10.0.2.6"]), headers={"If-Match": "*"})
    assert r.status == 412 and r.error["code"] == "PreconditionFailed", r
    fleet.converge()
    fleet.assert_identical()
    assert etcd_pool(fleet) == ["10.0.2.4", "10.0.0.12"]


def test_concurrent_conflicting_writers(fleet):
    """Two hosts write the same pool at once, each its own member sets, half of
    the requests read-modify-write with If-Match. Every request succeeds or is
    refused as a conflict (409 FleetConflict, 412 PreconditionFailed); the end
    is one document on all three hosts and in etcd: the last successful write
    of one of the two writers, whole."""
    h0, h1 = fleet.hosts[0], fleet.hosts[1]
    fleet.converge()
    per_writer = 25
    results = {h0.name: [], h1.name: []}
    start = threading.Barrier(2)

    def writer(host, net):
        start.wait()
        for k in range(per_writer):
            ips = [f"10.0.{net}.{k + 1}", f"10.0.{net}.{k + 101}"]
            headers = None
            if k % 2:
                g = host.api.get(POOL)
                assert g.status == 200, g
                headers = {"If-Match": g.json["etag"]}
            r = host.api.put(POOL, pool_body(ips), headers=headers)
            results[host.name].append((ips, headers is not None, r))

    threads = [threading.Thread(target=writer, args=(h0, 3)),
               threading.Thread(target=writer, args=(h1, 4))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    outcome = {}
    last_ok = {}
    for name, rs in results.items():
        assert len(rs) == per_writer, f"{name}'s writer stopped early"
        for ips, conditional, r in rs:
            if r.status == 200:
                key = "committed"
                last_ok[name] = ips
            elif r.status == 412:
                assert conditional, f"412 without If-Match: {r}"
                assert r.error["code"] == "PreconditionFailed" and r.error["message"], r
                key = "412 PreconditionFailed"
            elif r.status == 409:
                assert r.error["code"] == "FleetConflict" and r.error["message"], r
                key = "409 FleetConflict"
            else:
                raise AssertionError(f"{name}: a conflicting write answered {r}")
            outcome[key] = outcome.get(key, 0) + 1
    assert last_ok, "no write succeeded"
    fleet.converge()
    fleet.assert_identical()
    final = pool_ips(h0.api.get(POOL).json)
    assert final in last_ok.values(), \
        f"the final pool {final} is none of the writers' last successful writes {last_ok}"
    assert etcd_pool(fleet) == final
    writes = {x.name: x.fleet()["writes"] for x in fleet.hosts}
    figure(f"two hosts writing one pool at once, {2 * per_writer} writes (half with If-Match): "
           + ", ".join(f"{n} {k}" for k, n in sorted(outcome.items()))
           + "; hosts' write counters: " + json.dumps(writes, sort_keys=True))


DEPLOYS = 20


def test_a_deployment_is_redone_when_it_loses_a_race(fleet):
    """ARM deployments on one host while another host keeps changing a pool:
    a deployment that loses the race to etcd is expanded again on the newest
    document and retried, as a REST change is, so every deployment commits
    (200/201) and the other host's changes are not undone; all three hosts
    end with the last deployment's pool and identical tables."""
    h0, h1 = fleet.hosts[0], fleet.hosts[1]
    fleet.converge()
    deps = f"/subscriptions/{h.SUB}/resourceGroups/{h.RG}/providers/Microsoft.Resources/deployments"
    stop = threading.Event()
    rest = []

    def writer():
        k = 0
        while not stop.is_set():
            rest.append(h1.api.put(POOL, pool_body([f"10.0.5.{k % 200 + 1}"])))
            k += 1
            # a busy automation, not a tight loop: against a writer that never
            # pauses, an optimistic writer can lose every race (docs/fleet.md)
            stop.wait(0.01)

    def template(k):
        return {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/"
                           "deploymentTemplate.json#",
                "contentVersion": "1.0.0.0",
                "resources": [{"type": "Microsoft.Network/loadBalancers/backendAddressPools",
                               "apiVersion": "2020-05-01", "name": "lb/dpool",
                               "properties": {"loadBalancerBackendAddresses": [
                                   h.address("d0", f"10.0.6.{k + 1}", "vnet")]}}]}

    before = h0.fleet()["writes"]
    t = threading.Thread(target=writer)
    t.start()
    answers = []
    try:
        for k in range(DEPLOYS):
            answers.append(h0.api.request("PUT", f"{deps}/grow{k}", {
                "properties": {"mode": "Incremental", "template": template(k)}}))
    finally:
        stop.set()
        t.join(60)
    assert not t.is_alive(), "the REST writer hung"
    assert all(r.status in (200, 201) for r in answers), \
        [(r.status, r.error) for r in answers if r.status not in (200, 201)]
    assert rest and all(r.status in (200, 409) for r in rest), \
        [(r.status, r.error) for r in rest if r.status not in (200, 409)]
    fleet.converge()
    fleet.assert_identical()
    dpool = rid("loadBalancers", "lb", "backendAddressPools", "dpool")
    for x in fleet.hosts:
        assert pool_ips(x.api.get(dpool).json) == [f"10.0.6.{DEPLOYS}"], x.name
    assert pool_ips(h0.api.get(POOL).json) == pool_ips(
        [r for r in rest if r.status == 200][-1].json)
    w = {k: v - before[k] for k, v in h0.fleet()["writes"].items()}
    # every race lost was run again (none refused: all committed above)
    assert w["committed"] == DEPLOYS and w["retried"] == w["conflicts"], w
    figure(f"{DEPLOYS} deployments on one host beside {len(rest)} pool changes on another: all "
           f"committed; the deploying host's writes: {w}")


def test_etcd_leader_killed_in_a_stream_of_changes(fleet):
    """The leader (made the member every host tries first) is SIGKILLed while a
    stream of changes runs on the three hosts: every change that got a 2xx is in
    the final document on every host, a change refused meanwhile got 503
    FleetStoreUnavailable, and all converge on one revision and one table."""
    etcd = fleet.etcd
    etcd.move_leader(0)
    fleet.converge()
    n, kill_at = 45, 15
    done = []
    progress = threading.Event()

    def stream():
        for i in range(n):
            x = fleet.hosts[i % len(fleet.hosts)]
            path = rid("loadBalancers", "lb", "backendAddressPools", f"s{i}")
            t0 = time.monotonic()
            r = x.api.put(path, pool_body([f"10.0.9.{i + 1}"]), timeout=30)
            done.append((i, x.name, r, time.monotonic() - t0))
            if len(done) == kill_at:
                progress.set()

    t = threading.Thread(target=stream)
    t.start()
    assert progress.wait(60), "the stream stalled before the leader was killed"
    killed = etcd.leader()
    assert killed is not None
    etcd.kill(killed, signal.SIGKILL)
    t.join(240)
    assert not t.is_alive(), "the stream hung"
    etcd.restart(killed)
    ok, refused = set(), []
    for i, name, r, _ in done:
        if r.status in (200, 201):
            ok.add(f"s{i}")
        else:
            assert r.status == 503, f"change {i} on {name}: {r}"
            assert r.error["code"] == FLEET_STORE_UNAVAILABLE and r.error["message"], r
            refused.append(i)
    assert len(ok) >= kill_at, "changes after the leader's death were all refused"
    fleet.converge(timeout=30)
    fleet.assert_identical()
    doc, _ = etcd_document(fleet)
    lb = next(x for x in doc["loadBalancers"] if x["name"] == "lb")
    in_etcd = {p["name"] for p in lb["properties"]["backendAddressPools"]}
    for x in fleet.hosts:
        on_host = {p["name"] for p in x.api.get(LB).json["properties"]["backendAddressPools"]}
        lost = sorted(ok - on_host)
        assert not lost, f"{x.name} lost acknowledged changes: {lost}"
        assert on_host == in_etcd
    assert not (ok - in_etcd)
    slowest = max(d for *_, d in done)
    figure(f"etcd leader SIGKILLed after {kill_at} of {n} changes: {len(ok)} acknowledged, "
           f"none lost, {len(refused)} refused with 503; slowest write {slowest * 1000:.0f} ms")


def metric(host, name):
    r = host.api.request("GET", "/sluice/metrics", api_version=None)
    assert r.status == 200, r
    for line in r.text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name} in {host.name}'s metrics")


def partitioned(hosts, timeout):
    for x in hosts:
        f, _ = h.wait_until(lambda: (lambda f: f if f["partitioned"] else None)(x.fleet()),
                            timeout)
        assert f, f"{x.name} does not say it is partitioned: {x.fleet()}"
        assert f["etcd"] == "Unreachable" and f["cause"], f


def test_etcd_quorum_lost_then_wholly_down_fail_static(fleet):
    """Two of the three etcd members killed (no quorum), then the third: each
    host says it is partitioned, writes are refused with 503
    FleetStoreUnavailable naming the cause, forwarding goes on unchanged,
    reads are served; a host restarted meanwhile comes back with its last
    configuration; etcd back, writes go on and all converge."""
    etcd = fleet.etcd
    rev, _, statuses = fleet.converge()
    tables = fleet.assert_identical(statuses)
    snap = fleet.hosts[0].api.snapshot()
    gens = {x.name: x.stats()["generation"] for x in fleet.hosts}
    for name, s in statuses.items():
        assert s["fleet"]["partitioned"] is False and s["fleet"]["etcd"] == "Connected", s
    t0 = time.monotonic()
    etcd.kill(0)
    etcd.kill(1)
    partitioned(fleet.hosts, 10)
    figure(f"etcd quorum lost (2 of 3 members killed): every host said partitioned within "
           f"{time.monotonic() - t0:.1f} s")
    r = fleet.hosts[0].api.put(POOL, pool_body(["10.0.8.9"]), timeout=30)
    assert r.status == 503 and r.error["code"] == FLEET_STORE_UNAVAILABLE, r
    print(f"the refusal without a quorum: {r.error['message']}")
    assert fleet.hosts[0].api.snapshot() == snap
    t0 = time.monotonic()
    etcd.kill_all()
    partitioned(fleet.hosts, 10)
    for x in fleet.hosts:
        assert x.applied() == rev
    rx = {x.name: x.stats()["rx"] for x in fleet.hosts}
    time.sleep(0.5)
    for x in fleet.hosts:
        s = x.stats()
        assert s["rx"] > rx[x.name], f"{x.name} stopped forwarding"
        assert s["generation"] == gens[x.name], f"{x.name}'s configuration changed"
        assert x.status()["tables"] == tables
        assert x.api.snapshot() == snap
        assert metric(x, "sluice_fleet_etcd_up") == 0
    h1 = fleet.hosts[1]
    commits = h1.api.commits()
    r = h1.api.put(POOL, pool_body(["10.0.8.1"]), timeout=30)
    assert r.status == 503, r
    err = r.error
    assert err["code"] == FLEET_STORE_UNAVAILABLE, r
    assert "127.0.0.1:" in err["message"] and str(rev) in err["message"], err["message"]
    assert r.headers.get("Retry-After") == "5", r.headers
    assert h1.api.snapshot() == snap and h1.api.commits() == commits
    print(f"the refusal: {err['message']}")

    h2 = fleet.hosts[2]
    assert h2.stop() == 0
    h2.start()
    s = h2.status()
    assert s["fleet"]["appliedRevision"] == rev and s["fleet"]["partitioned"] is True, s["fleet"]
    assert s["tables"] == tables
    assert h2.api.snapshot() == snap

    etcd.restart_all()
    for x in fleet.hosts:
        f, _ = h.wait_until(lambda: (lambda f: f if not f["partitioned"] else None)(x.fleet()), 15)
        assert f and f["etcd"] == "Connected", f"{x.name} did not reconnect: {x.fleet()}"
    h2.api.ok("PUT", POOL, pool_body(["10.0.8.2", "10.0.0.12"]), status=200)
    rev2, _, statuses = fleet.converge()
    assert rev2 > rev
    fleet.assert_identical(statuses)
    assert statuses["host0"]["tables"] != tables
    assert etcd_pool(fleet) == ["10.0.8.2", "10.0.0.12"]
    assert metric(h1, "sluice_fleet_etcd_up") == 1
    assert metric(h1, "sluice_fleet_applied_revision") == rev2


def test_host_keys_live_on_while_changes_stream(fleet):
    """Each host's key stays in etcd while the configuration changes every
    0.7 s for 12 s, its lease kept alive (rewritten or not, at most 2 s
    between renewals of a 10 s lease): `sluicectl fleet status` lists every
    running host at every moment, and a host that stops is listed for 8 s
    more."""
    fleet.converge()
    keys = {x.name: f"{fleet.prefix}/hosts/{x.name}" for x in fleet.hosts}
    stop = threading.Event()
    errors = []

    def changes():
        i = 0
        while not stop.is_set():
            x = fleet.hosts[i % len(fleet.hosts)]
            r = x.api.put(POOL, pool_body([f"10.0.6.{i % 250 + 1}", "10.0.0.12"]))
            if r.status != 200:
                errors.append(r)
            i += 1
            stop.wait(0.7)
    t = threading.Thread(target=changes)
    t.start()
    low = {}
    try:
        deadline = time.monotonic() + 12
        while time.monotonic() < deadline:
            for name, key in keys.items():
                ttl = fleet.etcd.lease_ttl(key)
                assert ttl is not None, f"{name}'s key vanished while it runs"
                low[name] = min(low.get(name, 10), ttl)
            time.sleep(0.5)
    finally:
        stop.set()
        t.join(30)
    assert not errors, errors
    print(f"lowest lease time left of each host's key while changes streamed: {low}")
    for name, ttl in low.items():
        assert ttl >= 6, f"{name}'s lease ran down to {ttl} s: it is not kept alive"
    fleet.converge()


def sluicectl(host, *args):
    p = subprocess.run(["/usr/bin/python3", fh.SLUICECTL, "--socket", host.sock, "fleet",
                        "status"] + list(args), capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout


def rows(text):
    """{host: its table line} of `sluicectl fleet status`."""
    out = {}
    for line in text.splitlines():
        word = line.split(" ", 1)[0]
        if word.startswith("host"):
            out[word] = line
    return out


def test_sluicectl_fleet_status(fleet):
    """The three hosts side by side, none flagged; a host stopped (SIGSTOP)
    past its key's refresh while a change is made: flagged BEHIND and
    PARTITIONED, and the change did not wait for it; once it runs again, it
    catches up and the flags go."""
    h0, h2 = fleet.hosts[0], fleet.hosts[2]
    rev, _, _ = fleet.converge()

    def settled():
        data = json.loads(sluicectl(h0, "-o", "json"))
        names = [x["name"] for x in data["hosts"]]
        if names == ["host0", "host1", "host2"] and all(
                x["appliedRevision"] == data["newestRevision"] >= rev for x in data["hosts"]):
            return data
        return None
    data, _ = h.wait_until(settled, 10, interval=0.3)
    assert data, sluicectl(h0, "-o", "json")
    assert data["prefix"] == fleet.prefix
    for x in data["hosts"]:
        assert x["etcd"] == "Connected" and x["generation"] > 0, x
        assert x["announced"] == [], x
        assert x["tables"] == h0.status()["tables"], x
    text = sluicectl(h0)
    assert set(rows(text)) == {"host0", "host1", "host2"}, text
    for line in rows(text).values():
        assert "BEHIND" not in line and "PARTITIONED" not in line, text

    h2.signal(signal.SIGSTOP)
    stopped = time.monotonic()
    try:
        t0 = time.monotonic()
        h0.api.ok("PUT", POOL, pool_body(["10.0.7.1", "10.0.0.12"]), status=200)
        assert time.monotonic() - t0 < 5.0, "a write waited for a stopped host"

        seen = []

        def flagged():
            text = sluicectl(h0)
            r = rows(text).get("host2", "")
            seen.append(f"{time.monotonic() - stopped:.1f} s after the stop:\n{text}")
            return r if "BEHIND" in r and "PARTITIONED" in r else None
        line, _ = h.wait_until(flagged, 12, interval=0.2)
        assert line, "host2 not flagged after its stop:\n" + "\n".join(seen)
        for n, r in rows(sluicectl(h0)).items():
            if n != "host2":
                assert "BEHIND" not in r and "PARTITIONED" not in r, r
        figure(f"sluicectl fleet status flagged a stopped host BEHIND and PARTITIONED "
               f"{time.monotonic() - stopped:.1f} s after its stop")
    finally:
        h2.signal(signal.SIGCONT)

    def clear():
        r = rows(sluicectl(h0))
        return r if set(r) == {"host0", "host1", "host2"} and not any(
            "BEHIND" in x or "PARTITIONED" in x for x in r.values()) else None
    r, waited = h.wait_until(clear, 20, interval=0.3)
    assert r, sluicectl(h0)
    fleet.converge()
    fleet.assert_identical()


def test_a_document_no_host_can_apply(fleet):
    """A document written straight into etcd that validation refuses (a pool
    holding one address twice): every host logs it, keeps its configuration
    and tables, and shows the revision as rejected, also in `sluicectl fleet
    status`; the previous document put back, all apply it and the rejection
    clears."""
    rev, _, statuses = fleet.converge()
    tables = fleet.assert_identical(statuses)
    good, _ = etcd_document(fleet)
    bad = json.loads(json.dumps(good))
    lb = next(x for x in bad["loadBalancers"] if x["name"] == "lb")
    pool = next(p for p in lb["properties"]["backendAddressPools"] if p["name"] == "pool")
    addrs = pool["properties"]["loadBalancerBackendAddresses"]
    twin = json.loads(json.dumps(addrs[0]))
    twin["name"] = "twin"
    addrs.append(twin)
    fleet.etcd.put(fleet.prefix + "/config", json.dumps(bad))
    bad_rev = etcd_document(fleet)[1]
    for x in fleet.hosts:
        f, _ = h.wait_until(lambda: (lambda f: f if f["rejected"] else None)(x.fleet()), 10)
        assert f, f"{x.name} did not reject revision {bad_rev}: {x.fleet()}"
        assert f["rejected"]["revision"] == bad_rev, f
        assert f["rejected"]["error"]["code"] and f["rejected"]["error"]["message"], f
        assert f["appliedRevision"] == rev, f
        assert x.status()["tables"] == tables
    code = fleet.hosts[0].fleet()["rejected"]["error"]["code"]

    def reported():
        text = sluicectl(fleet.hosts[0])
        return text if all(f"REJECTED: {x.name} cannot apply revision {bad_rev}: ({code})"
                            in text for x in fleet.hosts) else None
    text, _ = h.wait_until(reported, 10, interval=0.3)
    assert text, sluicectl(fleet.hosts[0])
    fleet.etcd.put(fleet.prefix + "/config", json.dumps(good))
    rev2, _, statuses = fleet.converge(bad_rev + 1)
    for n, s in statuses.items():
        assert s["fleet"]["rejected"] is None, s["fleet"]
    assert fleet.assert_identical(statuses) == tables


def test_a_host_joining_later_takes_the_fleets_document(fleet, tmp_path):
    """A fourth host started with its own --config (an empty document) applies
    the fleet's document: the fleet's wins over the file, which only seeds an
    empty prefix; nothing is written to etcd."""
    before = etcd_document(fleet)
    cfg = tmp_path / "own.json"
    cfg.write_text(json.dumps({"virtualNetworks": [], "networkInterfaces": [],
                               "loadBalancers": []}))
    x = fleet.add("host3", config=str(cfg))
    try:
        fleet.converge(before[1], timeout=20)
        fleet.assert_identical()
        assert etcd_document(fleet) == before, "the late host wrote its --config to the fleet"
        assert x.api.get(LB).status == 200
    finally:
        x.stop()
        fleet.hosts.remove(x)
        x.cleanup()
