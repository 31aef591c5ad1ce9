# SPDX-License-Identifier: BSD-3-Clause
"""sluice's own endpoints: GET /sluice/status (commits and the last commit's
step durations) and GET /sluice/stats (the dataplane counters, as
--stats-file writes them)."""
import os

import pytest

import apihelpers as h
from apihelpers import rid

LB = rid("loadBalancers", "lb")
POOL = rid("loadBalancers", "lb", "backendAddressPools", "pool")


@pytest.fixture(scope="module")
def dm(module_daemons):
    return module_daemons.start()


def get_json(api, path):
    r = api.request("GET", path, api_version=None)
    assert r.status == 200, r
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    assert isinstance(r.json, dict), r
    return r.json


def test_status_shape(dm):
    st = get_json(dm.api, "/sluice/status")
    # the start commits once (an empty configuration: the dataplane always has a snapshot)
    assert st["commits"] == 1
    steps = st["lastCommitMicroseconds"]
    assert set(steps) == {"requestToPublish", "validate", "compile", "persist", "publish"}
    assert all(isinstance(v, (int, float)) and v >= 0 for v in steps.values())
    assert st["configFile"] == ""
    assert st["stateDirectory"] == dm.state_dir
    # the api-version is not needed here, and is harmless
    r = dm.api.request("GET", "/sluice/status")
    assert r.status == 200, r


def test_commits_count_successful_changes_only(dm):
    api = dm.api
    n = api.commits()
    api.ok("PUT", rid("virtualNetworks", "vnet"),
           h.vnet_body(["10.0.0.0/16"], {"sub": "10.0.0.0/24"}), status=201)
    assert api.commits() == n + 1
    api.ok("PUT", LB, h.lb_body(
        frontends=[h.frontend("fe", "10.0.0.10", "vnet", "sub")],
        pools=[h.pool("pool", [h.address("a1", "10.0.0.11", "vnet")])],
        rules=[h.rule("http", "lb", "fe", "pool", "Tcp", 80, 80)]), status=201)
    assert api.commits() == n + 2
    st = api.status()
    assert st["lastCommitMicroseconds"]["persist"] > 0   # --state-dir: fsync'd
    # the same body again is answered (200) but changes nothing: no commit, no new
    # generation (commit 0cebf5c, "unchanged documents publish nothing")
    gen = api.request("GET", "/sluice/stats", api_version=None).json["generation"]
    api.ok("PUT", POOL, api.get(POOL).json, status=200)
    assert api.commits() == n + 2
    assert api.request("GET", "/sluice/stats", api_version=None).json["generation"] == gen
    # a change of one address is one commit
    api.ok("PUT", POOL, {"properties": {"loadBalancerBackendAddresses": [
        h.address("a1", "10.0.0.11", "vnet", weight=2)]}}, status=200)
    assert api.commits() == n + 3
    # refused: validation, request errors, 404s, 405, DELETE of nothing
    api.refused("PUT", POOL, {"properties": {"loadBalancerBackendAddresses": [
        h.address("a1", "10.0.0.300", "vnet")]}}, 400, "InvalidIPAddress")
    api.refused("PUT", POOL, "{", 400, "InvalidRequestContent")
    api.refused("PUT", rid("loadBalancers", "x", "probes", "p"), {"properties": {}}, 404,
                "ParentResourceNotFound")
    api.refused("DELETE", POOL, None, 400, "InUseResourceCannotBeDeleted")
    api.refused("GET", POOL, None, 400, "MissingApiVersionParameter", api_version=None)
    assert api.request("POST", POOL, "{}").status == 405
    assert api.delete(rid("loadBalancers", "nothing")).status == 204
    for _ in range(3):
        assert api.get(LB).status == 200
    assert api.commits() == n + 3
    # a DELETE that happens commits
    api.ok("DELETE", rid("loadBalancers", "lb", "loadBalancingRules", "http"), status=200)
    assert api.commits() == n + 4


def test_stats(dm):
    api = dm.api
    s = get_json(api, "/sluice/stats")
    for k in ("elapsedSeconds", "generation", "rx", "tx", "dropped", "drops", "lcores", "rules",
              "backends"):
        assert k in s, s
    # net_null: zero-filled frames, all dropped as not_ip
    assert s["drops"]["not_ip"] == s["dropped"]
    # the counters follow the configuration: one more rule and address
    gen = s["generation"]
    api.ok("PUT", rid("loadBalancers", "lb", "loadBalancingRules", "http"),
           h.rule("http", "lb", "fe", "pool", "Tcp", 80, 80), status=201)
    api.ok("PUT", POOL, {"properties": {"loadBalancerBackendAddresses": [
        h.address("a1", "10.0.0.11", "vnet"), h.address("a2", "10.0.0.12", "vnet")]}},
        status=200)
    s2 = get_json(api, "/sluice/stats")
    assert s2["generation"] == gen + 2
    assert [r["name"] for r in s2["rules"]] == ["lb/http"]
    assert sorted((b["name"], b["address"]) for b in s2["backends"]) == [
        ("lb/pool/a1", "10.0.0.11"), ("lb/pool/a2", "10.0.0.12")]
    assert s2["rx"] >= s["rx"]
    assert s2["elapsedSeconds"] >= s["elapsedSeconds"]
    # a refused change publishes nothing
    api.refused("PUT", POOL, {"properties": {"loadBalancerBackendAddresses": [
        h.address("a1", "10.0.0.11", "vnet"), h.address("a2", "10.0.0.11", "vnet")]}}, 400,
        "DuplicateIPAddressInBackendAddressPool")
    assert get_json(api, "/sluice/stats")["generation"] == gen + 2


def test_prometheus_metrics(dm):
    """GET /sluice/metrics: the counters in Prometheus text, agreeing with /sluice/stats."""
    api = dm.api
    api.ok("PUT", rid("loadBalancers", "lb", "loadBalancingRules", "m"),
           h.rule("m", "lb", "fe", "pool", "Udp", 53, 53), status=201)
    r = api.request("GET", "/sluice/metrics", api_version=None)
    assert r.status == 200, r
    text = r.text
    assert r.headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"), r.headers
    samples = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert line.startswith("# HELP ") or line.startswith("# TYPE "), line
            continue
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
    s = get_json(api, "/sluice/stats")
    assert samples["sluice_generation"] == s["generation"]
    assert 'sluice_rule_packets_total{rule="lb/m",kind="loadBalancingRule"}' in samples
    lines = [ln for ln in text.splitlines() if not ln.startswith("#")]
    assert len(lines) == len(samples), "a series appears twice"
    assert samples['sluice_dropped_packets_total{reason="not_ip"}'] > 0
    lc = s["lcores"][0]["lcore"]
    assert samples[f'sluice_rx_packets_total{{lcore="{lc}"}}'] > 0
    for b in s["backends"]:
        assert samples[f'sluice_backend_up{{backend="{b["name"]}"}}'] == 1
    assert "sluice_flows" in samples


# --------------------------------------------------------------------------
# The socket
# --------------------------------------------------------------------------

def test_socket_mode_and_in_use(dm, daemons, tmp_path):
    import os
    import stat
    st = os.stat(dm.sock)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600
    # a second sluiced on the same socket refuses to start, the first keeps answering
    d2 = daemons.spawn(workdir=str(tmp_path), extra_args=["--api-socket", dm.sock])
    assert d2.wait_exit(20) != 0
    assert "ApiSocketInUse" in d2.output()
    assert dm.api.status()["commits"] >= 1


def test_socket_directory_is_created(daemons, tmp_path):
    sock = str(tmp_path / "a" / "b" / "s.sock")
    d = daemons.spawn(workdir=str(tmp_path), extra_args=["--api-socket", sock])
    d.sock = sock
    d.api = h.Api(sock)
    d.wait_ready()
    assert d.api.status()["commits"] == 1


def test_no_api(daemons, tmp_path):
    d = daemons.spawn(workdir=str(tmp_path), extra_args=["--no-api"])
    d.d.wait_stats(lambda s: True, timeout=20)
    assert d.proc.poll() is None
    assert not os.path.exists(d.sock)
    assert "REST API" not in d.output()


def test_neighbours_lists_what_the_configuration_needs(dm):
    """GET /sluice/neighbours: the backends sluice must find by ARP (none has
    a static neighbour on this port), each with its state; the slow path's
    counters beside them. net_null never answers, so they stay unresolved
    (incomplete, then failed after three requests a second apart)."""
    api = dm.api
    api.ok("PUT", rid("virtualNetworks", "vnet"),
           h.vnet_body(["10.0.0.0/16"], {"sub": "10.0.0.0/24"}), status=(200, 201))
    api.ok("PUT", LB, h.lb_body(
        frontends=[h.frontend("fe", "10.0.0.10", "vnet", "sub")],
        pools=[h.pool("pool", [h.address("a1", "10.0.0.11", "vnet"),
                               h.address("a2", "10.0.0.12", "vnet")])],
        rules=[h.rule("http", "lb", "fe", "pool", "Tcp", 80, 80)]), status=(200, 201))

    def table():
        n = get_json(api, "/sluice/neighbours")
        return {e["ipAddress"]: e for e in n["neighbours"]}, n

    t, n = table()
    assert {"10.0.0.11", "10.0.0.12"} <= set(t), n
    for ip in ("10.0.0.11", "10.0.0.12"):
        assert t[ip]["port"] == 0
        assert t[ip]["state"] in ("incomplete", "failed")
        assert t[ip]["macAddress"] is None
    c = n["counters"]
    assert set(c) >= {"arpIn", "arpReplied", "solicitsSent", "announcementsSent", "echoReplied",
                      "toKernel", "fromKernel", "neighbourChanges"}
    # requests go out (into net_null) a second apart
    assert h.wait_until(lambda: get_json(api, "/sluice/neighbours")["counters"]["solicitsSent"]
                        >= 2, 5)
    assert n["exceptionPaths"] == []
    # an address no longer in the configuration is forgotten at the next whole
    # compilation: a pool change compiles only the pool, and a whole compilation
    # follows once changes pause for a second
    api.ok("PUT", POOL, h.pool("pool", [h.address("a1", "10.0.0.11", "vnet")]), status=200)
    assert h.wait_until(lambda: "10.0.0.12" not in table()[0], 5), table()[1]
    assert "10.0.0.11" in table()[0]


def test_prometheus_series_unique_with_a_nat_rule_named_like_a_rule(dm):
    """An inbound NAT rule may share its name with a load-balancing rule (ARM
    keeps them apart); their series differ by kind, so a scrape never holds
    a series twice (Prometheus would refuse the whole scrape)."""
    api = dm.api
    lbm = rid("loadBalancers", "lbm")
    api.ok("PUT", rid("virtualNetworks", "vnet"),
           h.vnet_body(["10.0.0.0/16"], {"sub": "10.0.0.0/24"}), status=(200, 201))
    api.ok("PUT", lbm, h.lb_body(
        frontends=[h.frontend("fe", "10.0.0.70", "vnet", "sub")],
        pools=[h.pool("pool", [h.address("a1", "10.0.0.71", "vnet")])],
        rules=[h.rule("m", "lbm", "fe", "pool", "Tcp", 80, 80)]), status=(200, 201))
    api.ok("PUT", lbm + "/inboundNatRules/m",
           {"properties": {"frontendIPConfiguration": h.ref("lbm", "frontendIPConfigurations",
                                                            "fe"),
                           "protocol": "Tcp", "frontendPort": 2222, "backendPort": 22}},
           status=201)
    try:
        text = api.request("GET", "/sluice/metrics", api_version=None).text
        lines = [ln.rsplit(" ", 1)[0] for ln in text.splitlines() if not ln.startswith("#")]
        assert len(lines) == len(set(lines)), sorted(ln for ln in lines if lines.count(ln) > 1)
        assert 'sluice_rule_packets_total{rule="lbm/m",kind="inboundNatRule"}' in lines
        assert 'sluice_rule_packets_total{rule="lbm/m",kind="loadBalancingRule"}' in lines
    finally:
        api.ok("DELETE", lbm, status=(200, 202, 204))


def test_tables_digest_follows_the_pool(daemons):
    """GET /sluice/status "tables": each rule's Maglev table digest. Two
    sluiced given the same configuration in different orders of changes
    report the same digests (the same backend for every flow); a member
    added changes the digest of the rules on its pool only."""
    vnet = h.vnet_body(["10.0.0.0/16"], {"sub": "10.0.0.0/24"})
    addrs = [h.address("a%d" % i, "10.0.0.%d" % (11 + i), "vnet") for i in range(3)]
    fe = [h.frontend("fe", "10.0.0.10", "vnet", "sub")]

    def lb(pool_addrs):
        return h.lb_body(frontends=fe,
                         pools=[h.pool("pool", pool_addrs),
                                h.pool("other", [h.address("o", "10.0.0.99", "vnet")])],
                         rules=[h.rule("http", "lb", "fe", "pool", "Tcp", 80, 80),
                                h.rule("dns", "lb", "fe", "other", "Udp", 53, 53)])

    one, two = daemons.start(), daemons.start()
    one.api.ok("PUT", rid("virtualNetworks", "vnet"), vnet, status=201)
    one.api.ok("PUT", LB, lb(addrs), status=201)
    # the other host reaches the same configuration another way: a member at a time
    two.api.ok("PUT", rid("virtualNetworks", "vnet"), vnet, status=201)
    two.api.ok("PUT", LB, lb(addrs[:1]), status=201)
    before = two.api.status()["tables"]
    for a in addrs[1:]:
        body = two.api.get(POOL).json
        body["properties"]["loadBalancerBackendAddresses"].append(a)
        two.api.ok("PUT", POOL, body, status=200)
    t1, t2 = one.api.status()["tables"], two.api.status()["tables"]
    assert set(t1) == {"lb/http", "lb/dns"}
    assert t1 == t2
    assert t1["lb/http"]["backends"] == 3
    assert all(len(v["digest"]) == 8 for v in t1.values())
    # two members more than before: lb/http's table changed, lb/dns's did not
    assert before["lb/http"]["digest"] != t2["lb/http"]["digest"]
    assert before["lb/dns"] == t2["lb/dns"]
