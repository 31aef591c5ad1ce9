# SPDX-License-Identifier: BSD-3-Clause
"""The configuration file beside the REST API (docs/api.md, "The configuration
file and the state directory"): applied at start, when it changes on disk
(inotify, no SIGHUP), and on SIGHUP; a broken file changes nothing and is
logged with the file, the JSON path and the code; resources created through
the API that the file does not name survive a reload. One sluiced for the
module; the tests run in file order."""
import json
import os
import signal

import pytest

import apihelpers as h
from apihelpers import rid

FLB = rid("loadBalancers", "flb")
FPOOL = rid("loadBalancers", "flb", "backendAddressPools", "p")
RELOAD_S = 2.0   # "within ~2 s" (the settle time is 0.1 s)


def file_config(addresses=("10.8.0.21", "10.8.0.22"), port=80):
    """Resources as a file holds them: no ids, references by relative id or name."""
    return {
        "virtualNetworks": [{"name": "fvnet", "properties": {
            "addressSpace": {"addressPrefixes": ["10.8.0.0/16"]},
            "subnets": [{"name": "s", "properties": {"addressPrefix": "10.8.0.0/24"}}]}}],
        "loadBalancers": [{"name": "flb", "sku": {"name": "Standard"}, "properties": {
            "frontendIPConfigurations": [{"name": "fe", "properties": {
                "privateIPAddress": "10.8.0.10",
                "subnet": {"id": "virtualNetworks/fvnet/subnets/s"}}}],
            "backendAddressPools": [{"name": "p", "properties": {
                "loadBalancerBackendAddresses": [
                    {"name": f"a{i}", "properties": {"ipAddress": a,
                                                     "virtualNetwork": {"id": "fvnet"}}}
                    for i, a in enumerate(addresses)]}}],
            "loadBalancingRules": [{"name": "r", "properties": {
                "frontendIPConfiguration": {"id": "frontendIPConfigurations/fe"},
                "backendAddressPool": {"id": "backendAddressPools/p"},
                "protocol": "Tcp", "frontendPort": port, "backendPort": port}}]}}],
    }


def write_atomic(path, obj):
    text = obj if isinstance(obj, str) else json.dumps(obj, indent=1)
    with open(path + ".new", "w") as f:
        f.write(text)
    os.rename(path + ".new", path)


def write_in_place(path, obj):
    with open(path, "w") as f:
        f.write(json.dumps(obj, indent=1))


def pool_ips(api, missing_ok=False):
    r = api.get(FPOOL)
    if missing_ok and r.status == 404:
        return None
    assert r.status == 200, r
    return sorted(a["properties"]["ipAddress"]
                  for a in r.json["properties"]["loadBalancerBackendAddresses"])


def wait_pool(api, want):
    got, waited = h.wait_until(lambda: pool_ips(api, True) == sorted(want), RELOAD_S + 0.5)
    assert got, f"after {waited:.2f} s the pool is {pool_ips(api, True)}, not {sorted(want)}"
    assert waited <= RELOAD_S, f"applied after {waited:.2f} s"
    return waited


@pytest.fixture(scope="module")
def dm(module_daemons, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("cfgfile"))
    path = os.path.join(d, "sluice.json")
    write_atomic(path, file_config())
    dm = module_daemons.start(config=path)
    dm.config_path = path
    return dm


def test_start_with_the_file(dm):
    api = dm.api
    st = api.status()
    assert st["configFile"] == dm.config_path
    assert st["stateDirectory"] == dm.state_dir
    snap = api.snapshot()
    assert h.names(snap["virtualNetworks"]) == ["fvnet"]
    assert h.names(snap["loadBalancers"]) == ["flb"]
    lb = snap["loadBalancers"][0]
    assert lb["id"] == FLB
    assert lb["properties"]["provisioningState"] == "Succeeded"
    assert h.names(lb["properties"]["loadBalancingRules"]) == ["r"]
    assert pool_ips(api) == ["10.8.0.21", "10.8.0.22"]
    assert api.get(FPOOL).json["properties"]["loadBalancingRules"] == [
        {"id": FLB + "/loadBalancingRules/r"}]


def test_file_change_applies_without_sighup(dm):
    api = dm.api
    commits = api.commits()
    write_atomic(dm.config_path, file_config(("10.8.0.21", "10.8.0.22", "10.8.0.23")))
    wait_pool(api, ["10.8.0.21", "10.8.0.22", "10.8.0.23"])
    assert api.commits() == commits + 1
    # written in place (no rename) is seen as well
    write_in_place(dm.config_path, file_config(("10.8.0.23",)))
    wait_pool(api, ["10.8.0.23"])
    assert api.commits() == commits + 2
    assert "file changed" in dm.output()


@pytest.mark.parametrize("kind", ["InvalidJson", "DuplicateIPAddressInBackendAddressPool",
                                  "InvalidRequestFormat"])
def test_broken_file_keeps_the_running_configuration(dm, kind):
    api = dm.api
    before, commits = api.snapshot(), api.commits()
    mark = len(dm.output())
    if kind == "InvalidJson":
        write_atomic(dm.config_path, '{"loadBalancers": [ {"name": ')
        jpath = None
    elif kind == "DuplicateIPAddressInBackendAddressPool":
        write_atomic(dm.config_path, file_config(("10.8.0.30", "10.8.0.30")))
        jpath = ("$.loadBalancers[0].properties.backendAddressPools[0].properties."
                 "loadBalancerBackendAddresses[1].properties.ipAddress")
    else:
        bad = file_config(("10.8.0.30",))
        bad["loadBalancers"][0]["properties"]["loadBalancingRules"][0]["properties"][
            "frontendPort"] = "80"
        write_atomic(dm.config_path, bad)
        jpath = "$.loadBalancers[0].properties.loadBalancingRules[0].properties.frontendPort"
    out = dm.wait_log(kind, after=mark, timeout=RELOAD_S + 1)
    line = next(l for l in out[mark:].splitlines() if kind in l)
    assert dm.config_path in line, line
    assert "refused" in line, line
    if jpath:
        assert jpath in line, line
    assert api.snapshot() == before
    assert api.commits() == commits
    assert dm.proc.poll() is None


def test_sighup_applies_the_file(dm):
    api = dm.api
    write_atomic(dm.config_path, file_config(("10.8.0.21", "10.8.0.22")))
    wait_pool(api, ["10.8.0.21", "10.8.0.22"])
    # change the file's pool through the API; the file on disk does not change
    g = api.get(FPOOL).json
    g["properties"]["loadBalancerBackendAddresses"] = g["properties"][
        "loadBalancerBackendAddresses"][:1]
    api.ok("PUT", FPOOL, g, status=200)
    assert pool_ips(api) == ["10.8.0.21"]
    commits = api.commits()
    mark = len(dm.output())
    dm.d.signal(signal.SIGHUP)
    dm.wait_log("SIGHUP", after=mark, timeout=5)
    # the file's load balancer replaces the running one whole
    wait_pool(api, ["10.8.0.21", "10.8.0.22"])
    assert api.commits() == commits + 1
    # a broken file on SIGHUP: refused, logged, nothing changes
    mark = len(dm.output())
    write_atomic(dm.config_path, '{"virtualNetworks": 5}')
    dm.wait_log("InvalidRequestFormat", after=mark, timeout=RELOAD_S + 1)
    before, commits = api.snapshot(), api.commits()
    mark = len(dm.output())
    dm.d.signal(signal.SIGHUP)
    out = dm.wait_log("SIGHUP", after=mark, timeout=5)
    assert "InvalidRequestFormat" in out[mark:]
    assert api.snapshot() == before and api.commits() == commits


def test_api_resources_survive_a_reload(dm):
    api = dm.api
    # an API vnet and load balancer, and an API pool inside the file's load balancer
    api.ok("PUT", rid("virtualNetworks", "apivnet"),
           h.vnet_body(["10.9.0.0/16"], {"s": "10.9.0.0/24"}), status=201)
    api.ok("PUT", rid("loadBalancers", "apilb"), h.lb_body(
        frontends=[h.frontend("fe", "10.9.0.10", "apivnet", "s")],
        pools=[h.pool("p", [h.address("a", "10.9.0.11", "apivnet")])],
        rules=[h.rule("r", "apilb", "fe", "p", "Tcp", 443, 443)]), status=201)
    api_lb = api.get(rid("loadBalancers", "apilb")).json
    write_atomic(dm.config_path, file_config(("10.8.0.24",), port=8080))
    wait_pool(api, ["10.8.0.24"])
    snap = api.snapshot()
    assert h.names(snap["virtualNetworks"]) == ["fvnet", "apivnet"]
    assert h.names(snap["loadBalancers"]) == ["flb", "apilb"]
    assert api.get(rid("loadBalancers", "apilb")).json == api_lb
    rule = api.get(FLB + "/loadBalancingRules/r").json
    assert rule["properties"]["frontendPort"] == 8080
    # a file resource deleted through the API comes back with the next reload
    api.ok("DELETE", FLB, status=200)
    assert api.get(FLB).status == 404
    write_atomic(dm.config_path, file_config(("10.8.0.25",)))
    wait_pool(api, ["10.8.0.25"])
    assert api.get(rid("loadBalancers", "apilb")).json == api_lb


def test_broken_file_at_start_is_refused(daemons, tmp_path):
    path = str(tmp_path / "bad.json")
    bad = file_config()
    bad["loadBalancers"][0]["properties"]["loadBalancingRules"][0]["properties"][
        "protocol"] = "Icmp"
    write_atomic(path, bad)
    d = daemons.spawn(config=path)
    rc = d.wait_exit(20)
    assert rc != 0
    out = d.output()
    line = next(l for l in out.splitlines() if "InvalidPropertyValue" in l)
    assert path in line
    assert "$.loadBalancers[0].properties.loadBalancingRules[0].properties.protocol" in line
