# SPDX-License-Identifier: BSD-3-Clause
"""Request errors of the REST API (docs/api.md): api-version, paths, methods,
bodies, names, DELETE. One sluiced for the module."""
import json

import pytest

import apihelpers as h
from apihelpers import rid

LB = rid("loadBalancers", "lb")
POOL = rid("loadBalancers", "lb", "backendAddressPools", "pool")
RULE = rid("loadBalancers", "lb", "loadBalancingRules", "http")

# The seed's VM body (Microsoft.Compute is not served here)
SEED_VM_PATH = "/subscriptions/subid/resourceGroups/testrg/providers/Microsoft.Compute/virtualMachines/myVM"
SEED_VM_BODY = {"location": "eastus", "properties": {"hardwareProfile": {"vmSize": "Standard_D1_v2"}}}


@pytest.fixture(scope="module")
def api(module_daemons):
    api = module_daemons.start().api
    api.ok("PUT", rid("virtualNetworks", "vnet"),
           h.vnet_body(["10.0.0.0/16"], {"sub": "10.0.0.0/24"}), status=201)
    api.ok("PUT", LB, h.lb_body(
        frontends=[h.frontend("fe", "10.0.0.10", "vnet", "sub")],
        pools=[h.pool("pool", [h.address("a1", "10.0.0.11", "vnet")]),
               h.pool("spare", [h.address("a1", "10.0.0.11", "vnet")])],
        rules=[h.rule("http", "lb", "fe", "pool", "Tcp", 80, 80)]), status=201)
    return api


# --------------------------------------------------------------------------
# api-version
# --------------------------------------------------------------------------

def test_missing_api_version(api):
    for method, body in (("GET", None), ("PUT", {"properties": {}}), ("DELETE", None)):
        r = api.refused(method, POOL, body, 400, "MissingApiVersionParameter", "api-version",
                        api_version=None)
        assert "api-version" in r.error["message"]
    api.refused("GET", rid("loadBalancers"), None, 400, "MissingApiVersionParameter",
                api_version="")


@pytest.mark.parametrize("version", ["2020-5-1", "2020-05-01-beta", "20200501", "latest",
                                     "2020-13-01", "2020-05-32", "2020-05-01x"])
def test_malformed_api_version(api, version):
    r = api.refused("GET", POOL, None, 400, "InvalidApiVersionParameter", "api-version",
                    api_version=version)
    assert version in r.error["message"]


@pytest.mark.parametrize("version", ["2020-05-01", "2023-04-01-preview", "2017-08-01"])
def test_good_api_versions(api, version):
    r = api.get(POOL, api_version=version)
    assert r.status == 200, r


# --------------------------------------------------------------------------
# Paths
# --------------------------------------------------------------------------

@pytest.mark.parametrize("path,code", [
    ("/", "InvalidRequestUri"),
    ("/foo", "InvalidRequestUri"),
    ("/subscriptions/subid/resourceGroups/testrg", "InvalidRequestUri"),
    ("/subscriptions/subid/resourceGroups/testrg/providers/Microsoft.Network", "InvalidRequestUri"),
    ("/subscriptions/subid/resourceGroups/testrg/providers/Microsoft.Compute/virtualMachines",
     "InvalidResourceNamespace"),
    (h.SCOPE + "/publicIPAddresses/pip", "InvalidResourceType"),
    (h.SCOPE + "/loadBalancers/lb/outboundRules/o", "InvalidResourceType"),
    (h.SCOPE + "/virtualNetworks/vnet/frontendIPConfigurations/fe", "InvalidResourceType"),
    (h.SCOPE + "/loadBalancers/lb/backendAddressPools/pool/loadBalancerBackendAddresses/a1",
     "InvalidRequestUri"),
    ("/sluice/nothing", "InvalidRequestUri"),
])
def test_unknown_paths(api, path, code):
    # sluice's own endpoints answer other methods with 405 first
    for method in ("GET",) if path.startswith("/sluice/") else ("GET", "PUT", "DELETE"):
        body = {"properties": {}} if method == "PUT" else None
        r = api.refused(method, path, body, 404, code)
        assert r.error["target"]


def test_seed_vm_put_is_not_served(api):
    """The seed's last step (PUT a Microsoft.Compute VM) is another namespace."""
    r = api.refused("PUT", SEED_VM_PATH, SEED_VM_BODY, 404, "InvalidResourceNamespace",
                    api_version="2019-12-01")
    assert "Microsoft.Compute" in r.error["message"]


@pytest.mark.parametrize("path", [
    rid("loadBalancers", "nope"),
    rid("loadBalancers", "lb", "backendAddressPools", "nope"),
    rid("loadBalancers", "nope", "backendAddressPools", "pool"),
    rid("virtualNetworks", "vnet", "subnets", "nope"),
    rid("networkInterfaces", "nope"),
    rid("networkInterfaces", "nope", "ipConfigurations", "ipconfig1"),
    rid("loadBalancers", "lb", scope="/subscriptions/subid/resourceGroups/otherrg/providers/"
                                     "Microsoft.Network"),
])
def test_unknown_resource(api, path):
    r = api.refused("GET", path, None, 404, "ResourceNotFound", path)
    assert path in r.error["message"]


def test_put_below_a_missing_parent(api):
    path = rid("loadBalancers", "nope", "backendAddressPools", "pool")
    api.refused("PUT", path, {"properties": {}}, 404, "ParentResourceNotFound", path)
    path = rid("virtualNetworks", "nope", "subnets", "s")
    api.refused("PUT", path, {"properties": {"addressPrefix": "10.0.0.0/24"}}, 404,
                "ParentResourceNotFound", path)


def test_collections_and_case(api):
    """Paths are case-insensitive, a trailing '/' is allowed, a collection lists."""
    r = api.get(h.SCOPE.replace("Microsoft.Network", "microsoft.network").replace(
        "resourceGroups", "resourcegroups") + "/LOADBALANCERS/LB/backendAddressPools/POOL/")
    assert r.status == 200, r
    assert r.json["name"] == "pool"
    r = api.get(rid("loadBalancers"))
    assert r.status == 200 and h.names(r.json["value"]) == ["lb"], r
    r = api.get(rid("loadBalancers", "lb", "loadBalancingRules"))
    assert r.status == 200 and h.names(r.json["value"]) == ["http"], r
    r = api.get(rid("virtualNetworks", "vnet", "subnets"))
    assert r.status == 200 and h.names(r.json["value"]) == ["sub"], r
    r = api.get(rid("networkInterfaces"))
    assert r.status == 200 and r.json == {"value": []}, r
    # another resource group holds nothing
    r = api.get(rid("loadBalancers", scope="/subscriptions/subid/resourceGroups/otherrg/"
                                           "providers/Microsoft.Network"))
    assert r.status == 200 and r.json == {"value": []}, r


# --------------------------------------------------------------------------
# Methods
# --------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["POST", "PATCH", "HEAD", "OPTIONS"])
def test_other_methods(api, method):
    before, commits = api.snapshot(), api.commits()
    r = api.request(method, POOL, {"properties": {}} if method in ("POST", "PATCH") else None)
    assert r.status == 405, r
    if method != "HEAD":
        assert r.error["code"] == "MethodNotAllowed", r
    assert api.snapshot() == before and api.commits() == commits


def test_put_and_delete_on_a_collection(api):
    api.refused("PUT", rid("loadBalancers", "lb", "backendAddressPools"), {"properties": {}}, 405,
                "MethodNotAllowed")
    api.refused("DELETE", rid("loadBalancers"), None, 405, "MethodNotAllowed")


def test_sluice_endpoints_take_only_get(api):
    for path in ("/sluice/status", "/sluice/stats"):
        r = api.request("POST", path, "{}", api_version=None)
        assert r.status == 405 and r.error["code"] == "MethodNotAllowed", r


# --------------------------------------------------------------------------
# Bodies
# --------------------------------------------------------------------------

def test_body_over_the_limit(api):
    """The default body limit (32 MiB, above the 16 MiB a configuration file may hold)
    refuses one byte more, naming the limit; the limit exactly is taken."""
    limit = 32 * 1024 * 1024
    pad = " " * limit
    body = '{"properties": {}}' + pad
    r = api.refused("PUT", POOL, body, 413, "RequestEntityTooLarge", target="body")
    assert "33554432" in r.error["message"] and "--api-max-body-bytes" in r.error["message"], r
    # the limit exactly is taken (the same JSON, whitespace to the limit)
    body = body[:limit]
    r = api.put(rid("loadBalancers", "lb", "backendAddressPools", "big"), body)
    assert r.status == 201, r
    api.ok("DELETE", rid("loadBalancers", "lb", "backendAddressPools", "big"), status=200)


def test_invalid_json_body(api):
    body = '{\n  "properties": {\n    "loadBalancerBackendAddresses": [,]\n  }\n}\n'
    r = api.refused("PUT", POOL, body, 400, "InvalidRequestContent")
    msg = r.error["message"]
    assert "line 3" in msg and "column" in msg, msg
    assert "offset" in msg, msg
    # data after the JSON value
    r = api.refused("PUT", POOL, '{"properties": {}} x', 400, "InvalidRequestContent")
    assert "line 1" in r.error["message"]
    # an empty body: a load balancer needs one (a child without one has empty properties)
    api.refused("PUT", LB, "", 400, "InvalidRequestContent")
    api.refused("PUT", POOL, "\xff\xfe", 400, "InvalidRequestContent")


@pytest.mark.parametrize("body", ["[]", '"pool"', "42", "null"])
def test_body_not_an_object(api, body):
    api.refused("PUT", POOL, body, 400, "InvalidRequestFormat")


def test_wrong_json_types(api):
    g = api.get(RULE).json
    bad = json.loads(json.dumps(g))
    bad["properties"]["frontendPort"] = "80"
    r = api.refused("PUT", RULE, bad, 400, "InvalidRequestFormat",
                    "loadBalancers/lb/loadBalancingRules/http")
    assert r.error["jsonPath"].endswith(".frontendPort"), r
    assert "frontendPort" in r.error["message"]
    bad["properties"]["frontendPort"] = 80
    bad["properties"]["enableFloatingIP"] = 1
    api.refused("PUT", RULE, bad, 400, "InvalidRequestFormat")
    r = api.refused("PUT", POOL, {"properties": []}, 400, "InvalidRequestFormat")
    r = api.refused("PUT", POOL, {"properties": {"loadBalancerBackendAddresses": {}}}, 400,
                    "InvalidRequestFormat")


def test_name_in_body(api):
    g = api.get(POOL).json
    r = api.refused("PUT", POOL, dict(g, name="other"), 400, "InvalidRequestFormat")
    assert "other" in r.error["message"]
    api.refused("PUT", POOL, dict(g, name=5), 400, "InvalidRequestFormat")
    api.refused("PUT", LB, dict(api.get(LB).json, name="lb9"), 400, "InvalidRequestFormat")
    # the same name (in any case) is fine
    r = api.put(POOL, dict(g, name="POOL"))
    assert r.status == 200, r
    assert r.json["name"] == "pool"


def test_read_only_properties_are_ignored(api):
    """A GET answer PUT back, read-only fields and all, is accepted and changes nothing."""
    for path in (LB, POOL, RULE, rid("virtualNetworks", "vnet")):
        g = api.get(path).json
        r = api.put(path, g)
        assert r.status == 200, r
        assert r.json == g
    g = api.get(POOL).json
    g["etag"] = 'W/"00000000"'
    g["id"] = "/something/else"
    g["type"] = "Microsoft.Compute/virtualMachines"
    g["properties"]["provisioningState"] = "Failed"
    g["properties"]["loadBalancingRules"] = []
    r = api.put(POOL, g)
    assert r.status == 200, r
    assert r.json == api.get(POOL).json
    assert r.json["id"] == POOL
    assert r.json["properties"]["provisioningState"] == "Succeeded"
    assert r.json["properties"]["loadBalancingRules"] == [{"id": RULE}]


# --------------------------------------------------------------------------
# Names, null, child resources of NICs
# --------------------------------------------------------------------------

def test_name_too_long_is_a_validation_error(api):
    """An 81-character name is InvalidResourceName (400, error-codes.md); a longer one
    must be the same, not a 404 path error."""
    for n in (81, 95, 96, 100, 200):
        path = rid("virtualNetworks", "v" * n)
        r = api.refused("PUT", path, h.vnet_body(["10.3.0.0/16"], {}), 400,
                        "InvalidResourceName")
        assert r.error["target"], r


def test_null_properties_count_as_absent(api):
    """configuration.md: "null counts as absent" -- {"properties": null} is {}."""
    path = rid("loadBalancers", "lb", "backendAddressPools", "nullpool")
    r = api.put(path, {"properties": None})
    assert r.status == 201, r
    assert r.json["properties"]["provisioningState"] == "Succeeded"
    api.ok("DELETE", path, status=200)


def test_nic_ipconfiguration_put_keeps_its_dynamic_address(api):
    """A Dynamic address stays with its ipConfiguration when a PUT gives none: the
    NIC's own PUT keeps it (sl_keep_dynamic_ips), and so must a PUT of the
    ipConfiguration itself (networkInterfaces/{nic}/ipConfigurations/{ipc})."""
    sub = h.subnet_ref("vnet", "sub")
    ipc = {"subnet": sub}
    first = api.ok("PUT", rid("networkInterfaces", "nicA"), h.nic_body([("ipconfig1", ipc)]),
                   status=201).json
    second = api.ok("PUT", rid("networkInterfaces", "nicB"), h.nic_body([("ipconfig1", ipc)]),
                    status=201).json
    a = first["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"]
    b = second["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"]
    assert a != b
    try:
        # nicA goes: its address is free again, and lower than nicB's
        api.ok("DELETE", rid("networkInterfaces", "nicA"), status=200)
        r = api.put(rid("networkInterfaces", "nicB"), h.nic_body([("ipconfig1", ipc)]))
        assert r.status == 200, r
        assert r.json["properties"]["ipConfigurations"][0]["properties"][
            "privateIPAddress"] == b
        r = api.put(rid("networkInterfaces", "nicB", "ipConfigurations", "ipconfig1"),
                    {"properties": ipc})
        assert r.status == 200, r
        assert r.json["properties"]["privateIPAddress"] == b, \
            f"PUT of the ipConfiguration moved its Dynamic address from {b}: {r}"
    finally:
        api.delete(rid("networkInterfaces", "nicA"))
        api.delete(rid("networkInterfaces", "nicB"))


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------

def test_keep_alive_and_errors_on_one_connection(api):
    c = h.slharness.UnixHTTPConnection(api.sock)
    try:
        for _ in range(3):
            for method, path, body, status in (
                    ("GET", POOL, None, 200),
                    ("GET", rid("loadBalancers", "nope"), None, 404),
                    ("PUT", POOL, "{", 400),
                    ("GET", rid("loadBalancers"), None, 200)):
                c.request(method, path + "?api-version=" + h.API_VERSION, body=body)
                r = c.getresponse()
                data = r.read()
                assert r.status == status, (method, path, r.status, data)
                assert json.loads(data)
    finally:
        c.close()


def test_a_slow_client_does_not_hold_up_others(api):
    """The server runs in sluiced's control loop: a client that sends half a request,
    or nothing, must not stop another from being answered."""
    import socket
    import time
    half = socket.socket(socket.AF_UNIX)
    idle = socket.socket(socket.AF_UNIX)
    try:
        half.connect(api.sock)
        idle.connect(api.sock)
        half.sendall(b"PUT " + POOL.encode() + b"?api-version=2020-05-01 HTTP/1.1\r\n"
                     b"Host: sluice\r\nContent-Length: 1000\r\n\r\n{\"properties\"")
        t = time.time()
        before = api.snapshot()
        assert api.put(POOL, api.get(POOL).json).status == 200
        assert time.time() - t < 2.0
        assert api.snapshot() == before
    finally:
        half.close()
        idle.close()


def test_large_answers(api):
    """A pool of 5000 addresses: an 800 KB answer, whole."""
    path = rid("loadBalancers", "lb", "backendAddressPools", "large")
    addrs = [h.address(f"m{i}", f"10.0.{16 + i // 250}.{1 + i % 250}", "vnet")
             for i in range(5000)]
    r = api.put(path, {"properties": {"loadBalancerBackendAddresses": addrs}})
    assert r.status == 201, r
    g = api.get(path)
    assert g.status == 200 and len(g.json["properties"]["loadBalancerBackendAddresses"]) == 5000
    assert api.get(LB).json["properties"]["backendAddressPools"][-1] == g.json
    api.ok("DELETE", path, status=200)


def test_curl_as_docs_api_md_shows(api, tmp_path):
    """docs/api.md's curl --unix-socket lines; the body over 1 MiB, so curl sends
    Expect: 100-continue."""
    import shutil
    import subprocess
    if shutil.which("curl") is None:
        pytest.skip("no curl")
    body = json.dumps({"properties": {"loadBalancerBackendAddresses": [
        h.address("address1", "10.0.0.4", "vnet"), h.address("address2", "10.0.0.5", "vnet")]}})
    body += " " * (1536 * 1024)
    f = tmp_path / "pool.json"
    f.write_text(body)
    base = "http://sluice" + h.SCOPE
    url = f"{base}/loadBalancers/lb/backendAddressPools/backend?api-version=2020-05-01"
    p = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", "--unix-socket", api.sock,
                        "-X", "PUT", "-H", "Content-Type: application/json", url,
                        "--data-binary", f"@{f}"], capture_output=True, text=True, timeout=20)
    text, _, code = p.stdout.rpartition("\n")
    assert code == "201", p.stdout[-2000:] + p.stderr
    assert json.loads(text)["name"] == "backend"
    p = subprocess.run(["curl", "-s", "--unix-socket", api.sock, url], capture_output=True,
                       text=True, timeout=20)
    got = json.loads(p.stdout)
    assert [a["properties"]["ipAddress"]
            for a in got["properties"]["loadBalancerBackendAddresses"]] == ["10.0.0.4", "10.0.0.5"]
    api.ok("DELETE", rid("loadBalancers", "lb", "backendAddressPools", "backend"), status=200)


# --------------------------------------------------------------------------
# DELETE
# --------------------------------------------------------------------------

def test_delete_absent(api):
    for path in (rid("loadBalancers", "nope"),
                 rid("loadBalancers", "lb", "backendAddressPools", "nope"),
                 rid("loadBalancers", "nope", "backendAddressPools", "nope"),
                 rid("networkInterfaces", "nope"),
                 rid("virtualNetworks", "vnet", "subnets", "nope")):
        before, commits = api.snapshot(), api.commits()
        r = api.delete(path)
        assert r.status == 204, r
        assert r.data == b""
        assert api.snapshot() == before and api.commits() == commits


def test_delete_in_use(api):
    r = api.refused("DELETE", POOL, None, 400, "InUseResourceCannotBeDeleted", POOL)
    assert r.error["details"], r
    d = r.error["details"][0]
    assert d["code"] == "InvalidResourceReference", r
    assert d["target"] == "loadBalancers/lb/loadBalancingRules/http", r
    assert d["message"]
    # the pool's GET names the rule that holds it
    assert api.get(POOL).json["properties"]["loadBalancingRules"] == [{"id": RULE}]
    # the vnet is used by the frontend's subnet and the addresses
    r = api.refused("DELETE", rid("virtualNetworks", "vnet"), None, 400,
                    "InUseResourceCannotBeDeleted", rid("virtualNetworks", "vnet"))
    assert r.error["details"][0]["code"] == "InvalidResourceReference"
    api.refused("DELETE", rid("loadBalancers", "lb", "frontendIPConfigurations", "fe"), None, 400,
                "InUseResourceCannotBeDeleted")


def test_delete_then_get(api):
    spare = rid("loadBalancers", "lb", "backendAddressPools", "spare")
    assert api.get(spare).status == 200
    commits = api.commits()
    r = api.delete(spare)
    assert r.status == 200, r
    assert api.commits() == commits + 1
    r = api.get(spare)
    assert r.status == 404 and r.error["code"] == "ResourceNotFound", r
    assert api.delete(spare).status == 204
    assert h.names(api.get(rid("loadBalancers", "lb", "backendAddressPools")).json["value"]) == \
        ["pool"]
    # a rule, then its pool, then the load balancer, then the vnet
    for path in (RULE, POOL, LB, rid("virtualNetworks", "vnet")):
        r = api.delete(path)
        assert r.status == 200, f"DELETE {path}: {r}"
        r = api.get(path)
        assert r.status == 404 and r.error["code"] == "ResourceNotFound", r
    assert api.snapshot() == {"virtualNetworks": [], "networkInterfaces": [], "loadBalancers": []}
