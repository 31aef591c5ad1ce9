# SPDX-License-Identifier: BSD-3-Clause
"""ARM template deployments (docs/deployments.md) against a real sluiced.

PUT/GET/DELETE .../providers/Microsoft.Resources/deployments/{name}, POST
.../validate and .../whatIf: templates expanded in sluiced (parameters,
variables, copy loops, nested children, dependsOn), every supported resource
put into one copy of the configuration, validated whole and committed as one
publication; refusals change nothing and leave a Failed record. The seed's
two templates are fixtures in templates/ (exported_lb.json, vm_with_nic.json).

One sluiced serves most tests; each test uses resource groups and resource
names of its own (names are unique per type in a sluice instance).
"""
import copy
import json
import os
import re
import threading

import pytest

import apihelpers as h

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
NET = "Microsoft.Network"


def scope(rg):
    return f"/subscriptions/{h.SUB}/resourceGroups/{rg}/providers/{NET}"


def res_id(rg, *segments):
    return h.rid(*segments, scope=scope(rg))


def dep_path(rg, name="", action="", rg_word="resourcegroups"):
    p = f"/subscriptions/{h.SUB}/{rg_word}/{rg}/providers/Microsoft.Resources/deployments"
    if name:
        p += "/" + name
    if action:
        p += "/" + action
    return p


def template(resources, parameters=None, variables=None, outputs=None):
    return {"$schema": SCHEMA, "contentVersion": "1.0.0.0", "parameters": parameters or {},
            "variables": variables or {}, "resources": resources, "outputs": outputs or {}}


def body(tmpl, params=None, mode="Incremental", **props):
    p = {"mode": mode, "template": tmpl}
    if params is not None:
        p["parameters"] = {k: {"value": v} for k, v in params.items()}
    p.update(props)
    return {"properties": p}


def deploy(api, rg, name, tmpl, params=None, mode="Incremental", action="", method=None,
           **props):
    return api.request(method or ("POST" if action else "PUT"), dep_path(rg, name, action),
                       body(tmpl, params, mode, **props))


def load_fixture(name):
    with open(os.path.join(HERE, "templates", name)) as f:
        return json.load(f)


# ---------------------------------------------------------------------------
# Templates of the tests' own
# ---------------------------------------------------------------------------

def vnet_res(name_expr, prefix, subnets, nested=()):
    """A virtual network with inline subnets {name: prefix} and nested subnet resources."""
    r = {"type": f"{NET}/virtualNetworks", "apiVersion": "2020-05-01", "name": name_expr,
         "location": "eastus",
         "properties": {"addressSpace": {"addressPrefixes": [prefix]},
                        "subnets": [{"name": n, "properties": {"addressPrefix": a}}
                                    for n, a in subnets.items()]}}
    if nested:
        r["resources"] = [{"type": "subnets", "apiVersion": "2020-05-01", "name": n,
                           "dependsOn": [name_expr_id(name_expr)],
                           "properties": {"addressPrefix": a}} for n, a in nested]
    return r


def name_expr_id(name_expr):
    inner = name_expr[1:-1] if name_expr.startswith("[") else f"'{name_expr}'"
    return f"[resourceId('{NET}/virtualNetworks', {inner})]"


def stack_template():
    """vnet (+ a nested subnet) + N NICs (resource copy) in the NIC pool + an LB with a
    frontend, an address pool filled by a property copy loop, a NIC pool, a rule and a
    probe (named by no rule: no probe traffic leaves the test), outputs."""
    p = "parameters('prefix')"
    vnet = f"[concat({p}, '-vnet')]"
    lb = f"[concat({p}, '-lb')]"
    vnet_id = f"[resourceId('{NET}/virtualNetworks', concat({p}, '-vnet'))]"
    lb_child = (lambda kind, n:
                f"[resourceId('{NET}/loadBalancers/{kind}', concat({p}, '-lb'), '{n}')]")
    return template(
        parameters={"prefix": {"type": "string", "defaultValue": "st"},
                    "nicCount": {"type": "int", "defaultValue": 2},
                    "addressCount": {"type": "int", "defaultValue": 3},
                    "backendPort": {"type": "int", "defaultValue": 8080}},
        variables={"feSubnet": "fe", "beSubnet": "be"},
        resources=[
            vnet_res(vnet, "10.61.0.0/16", {"fe": "10.61.1.0/24"},
                     nested=[("be", "10.61.2.0/24")]),
            {"type": f"{NET}/loadBalancers", "apiVersion": "2020-05-01", "name": lb,
             "location": "eastus", "sku": {"name": "Standard"},
             "dependsOn": [f"[resourceId('{NET}/virtualNetworks/subnets', "
                           f"concat({p}, '-vnet'), 'be')]"],
             "properties": {
                 "frontendIPConfigurations": [{"name": "fe", "properties": {
                     "privateIPAddress": "10.61.1.10", "privateIPAllocationMethod": "Static",
                     "subnet": {"id": f"[resourceId('{NET}/virtualNetworks/subnets', "
                                      f"concat({p}, '-vnet'), variables('feSubnet'))]"}}}],
                 "backendAddressPools": [
                     {"name": "ippool", "properties": {"copy": [{
                         "name": "loadBalancerBackendAddresses",
                         "count": "[parameters('addressCount')]",
                         "input": {
                             "name": "[concat('addr', copyIndex('loadBalancerBackendAddresses'))]",
                             "properties": {
                                 "ipAddress": "[concat('10.61.2.', add(100, copyIndex("
                                              "'loadBalancerBackendAddresses')))]",
                                 "virtualNetwork": {"id": vnet_id}}}}]}},
                     {"name": "nicpool"}],
                 "probes": [{"name": "hp", "properties": {
                     "protocol": "Tcp", "port": "[parameters('backendPort')]",
                     "intervalInSeconds": 5, "numberOfProbes": 2}}],
                 "loadBalancingRules": [{"name": "http", "properties": {
                     "frontendIPConfiguration": {"id": lb_child("frontendIPConfigurations", "fe")},
                     "backendAddressPool": {"id": lb_child("backendAddressPools", "ippool")},
                     "protocol": "Tcp", "frontendPort": 80,
                     "backendPort": "[parameters('backendPort')]"}}]}},
            {"type": f"{NET}/networkInterfaces", "apiVersion": "2020-05-01",
             "name": f"[concat({p}, '-nic', copyIndex())]", "location": "eastus",
             "copy": {"name": "nics", "count": "[parameters('nicCount')]"},
             "dependsOn": [f"[resourceId('{NET}/loadBalancers', concat({p}, '-lb'))]"],
             "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {
                 "privateIPAllocationMethod": "Static",
                 "privateIPAddress": "[concat('10.61.2.', add(10, copyIndex()))]",
                 "subnet": {"id": f"[resourceId('{NET}/virtualNetworks/subnets', "
                                  f"concat({p}, '-vnet'), variables('beSubnet'))]"},
                 "loadBalancerBackendAddressPools": [
                     {"id": lb_child("backendAddressPools", "nicpool")}]}}]}}],
        outputs={"lbId": {"type": "string",
                          "value": f"[resourceId('{NET}/loadBalancers', concat({p}, '-lb'))]"},
                 "addresses": {"type": "int", "value": "[parameters('addressCount')]"}})


def simple_lb(name, vnet, fe_ip, addresses):
    """An LB whose pool's addresses are {name: ip} in vnet (of this deployment's group)."""
    vid = f"[resourceId('{NET}/virtualNetworks', '{vnet}')]"
    return {"type": f"{NET}/loadBalancers", "apiVersion": "2020-05-01", "name": name,
            "location": "eastus", "sku": {"name": "Standard"},
            "properties": {
                "frontendIPConfigurations": [{"name": "fe", "properties": {
                    "privateIPAddress": fe_ip,
                    "subnet": {"id": f"[concat({vid[1:-1]}, '/subnets/default')]"}}}],
                "backendAddressPools": [{"name": "pool", "properties": {
                    "loadBalancerBackendAddresses": [
                        {"name": n, "properties": {"ipAddress": ip,
                                                  "virtualNetwork": {"id": vid}}}
                        for n, ip in addresses.items()]}}]}}


def simple_vnet(name, prefix):
    return vnet_res(name, prefix, {"default": prefix})


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def d(module_daemons):
    return module_daemons.start()


@pytest.fixture(scope="module")
def api(d):
    return d.api


ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")
DURATION = re.compile(r"^PT\d+\.\d{7}S$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


# ---------------------------------------------------------------------------
# Deploying
# ---------------------------------------------------------------------------

def test_stack_deploys_in_one_publication(api):
    commits = api.commits()
    r = deploy(api, "stackrg", "stack1", stack_template())
    assert r.status == 201, r
    assert api.commits() == commits + 1  # one publication for 5 resources and their children
    rec = r.json
    assert rec["id"] == dep_path("stackrg", "stack1", rg_word="resourceGroups")
    assert (rec["name"], rec["type"]) == ("stack1", "Microsoft.Resources/deployments")
    p = rec["properties"]
    assert p["provisioningState"] == "Succeeded", rec
    assert p["mode"] == "Incremental"
    assert ISO.match(p["timestamp"]) and DURATION.match(p["duration"]), p
    assert UUID.match(p["correlationId"]), p
    assert re.match(r"^\d+$", p["templateHash"]), p
    assert p["parameters"]["addressCount"]["value"] == 3
    assert p["outputs"]["lbId"]["value"] == res_id("stackrg", "loadBalancers", "st-lb")
    assert p["outputs"]["addresses"]["value"] == 3
    ids = [o["id"] for o in p["outputResources"]]
    assert ids == [res_id("stackrg", "virtualNetworks", "st-vnet"),
                   res_id("stackrg", "virtualNetworks", "st-vnet", "subnets", "be"),
                   res_id("stackrg", "loadBalancers", "st-lb"),
                   res_id("stackrg", "networkInterfaces", "st-nic0"),
                   res_id("stackrg", "networkInterfaces", "st-nic1")], ids
    assert "error" not in p and "skippedResources" not in p
    assert p["providers"] == [{"namespace": NET, "resourceTypes": [
        {"resourceType": "virtualNetworks", "locations": ["eastus"]},
        {"resourceType": "virtualNetworks/subnets", "locations": []},
        {"resourceType": "loadBalancers", "locations": ["eastus"]},
        {"resourceType": "networkInterfaces", "locations": ["eastus"]}]}], p["providers"]
    deps = {x["resourceName"]: [y["id"] for y in x["dependsOn"]] for x in p["dependencies"]}
    assert deps["st-lb"] == [res_id("stackrg", "virtualNetworks", "st-vnet", "subnets", "be")]
    assert deps["st-vnet/be"] == [res_id("stackrg", "virtualNetworks", "st-vnet")]

    # what it made, as GET shows it
    vnet = api.get(res_id("stackrg", "virtualNetworks", "st-vnet")).json
    assert h.names(vnet["properties"]["subnets"]) == ["fe", "be"]
    lb = api.get(res_id("stackrg", "loadBalancers", "st-lb")).json
    ippool = h.child(lb, "backendAddressPools", "ippool")
    assert [(a["name"], a["properties"]["ipAddress"])
            for a in ippool["properties"]["loadBalancerBackendAddresses"]] == [
        ("addr0", "10.61.2.100"), ("addr1", "10.61.2.101"), ("addr2", "10.61.2.102")]
    assert h.child(lb, "loadBalancingRules", "http")["properties"]["backendPort"] == 8080
    assert h.child(lb, "probes", "hp")["properties"]["port"] == 8080
    nicpool = h.child(lb, "backendAddressPools", "nicpool")
    assert sorted(c["id"] for c in nicpool["properties"]["backendIPConfigurations"]) == [
        res_id("stackrg", "networkInterfaces", f"st-nic{i}", "ipConfigurations", "ipconfig1")
        for i in range(2)]

    # the same again: 200, nothing to publish
    r = deploy(api, "stackrg", "stack1", stack_template())
    assert r.status == 200, r
    assert api.commits() == commits + 1
    # a change of 4 resources: 200 and again one publication
    r = deploy(api, "stackrg", "stack1", stack_template(),
               {"nicCount": 3, "addressCount": 5, "backendPort": 8081})
    assert r.status == 200, r
    assert api.commits() == commits + 2
    lb = api.get(res_id("stackrg", "loadBalancers", "st-lb")).json
    assert len(h.child(lb, "backendAddressPools", "ippool")["properties"][
        "loadBalancerBackendAddresses"]) == 5
    assert h.child(lb, "probes", "hp")["properties"]["port"] == 8081
    assert api.get(res_id("stackrg", "networkInterfaces", "st-nic2")).status == 200


def test_paths_are_case_insensitive(api):
    t = template([simple_vnet("ci-vnet", "10.62.0.0/24")])
    path = (f"/SUBSCRIPTIONS/{h.SUB}/resourceGroups/cirg/Providers/microsoft.resources/"
            "DEPLOYMENTS/ci")
    r = api.put(path, body(t))
    assert r.status == 201, r
    r = api.get(dep_path("cirg", "CI"))
    assert r.status == 200 and r.json["name"] == "ci", r
    r = api.request("POST", dep_path("cirg", "ci", "VALIDATE"), body(t))
    assert r.status == 200, r
    r = api.request("POST", dep_path("cirg", "ci", "whatif"), body(t))
    assert r.status == 200, r


def test_parent_child_names_and_nested_children(api):
    """A child typed as such ("vnet/subnet") and children nested in "resources"
    (short types) land in their parents."""
    rg = "kidsrg"
    vid = f"[resourceId('{NET}/virtualNetworks', 'kids-vnet')]"
    lbid = f"[resourceId('{NET}/loadBalancers', 'kids-lb')]"
    t = template([
        simple_vnet("kids-vnet", "10.63.0.0/16"),
        {"type": f"{NET}/virtualNetworks/subnets", "apiVersion": "2020-05-01",
         "name": "kids-vnet/extra", "dependsOn": [vid],
         "properties": {"addressPrefix": "10.63.9.0/24"}},
        {"type": f"{NET}/loadBalancers", "apiVersion": "2020-05-01", "name": "kids-lb",
         "location": "eastus", "sku": {"name": "Standard"}, "dependsOn": [vid],
         "properties": {"frontendIPConfigurations": [{"name": "fe", "properties": {
             "privateIPAddress": "10.63.0.10",
             "subnet": {"id": f"[concat({vid[1:-1]}, '/subnets/default')]"}}}]},
         "resources": [
             {"type": "backendAddressPools", "apiVersion": "2020-05-01", "name": "pool",
              "dependsOn": [lbid],
              "properties": {"loadBalancerBackendAddresses": [
                  {"name": "a", "properties": {"ipAddress": "10.63.0.21",
                                               "virtualNetwork": {"id": vid}}}]}},
             {"type": "probes", "apiVersion": "2020-05-01", "name": "hp", "dependsOn": [lbid],
              "properties": {"protocol": "Tcp", "port": 80}}]},
        {"type": f"{NET}/loadBalancers/inboundNatRules", "apiVersion": "2020-05-01",
         "name": "kids-lb/ssh", "dependsOn": [lbid],
         "properties": {"frontendIPConfiguration": {
             "id": f"[resourceId('{NET}/loadBalancers/frontendIPConfigurations', "
                   "'kids-lb', 'fe')]"},
             "protocol": "Tcp", "frontendPort": 2222, "backendPort": 22}}])
    commits = api.commits()
    r = deploy(api, rg, "kids", t)
    assert r.status == 201, r
    assert api.commits() == commits + 1
    ids = [o["id"] for o in r.json["properties"]["outputResources"]]
    assert res_id(rg, "virtualNetworks", "kids-vnet", "subnets", "extra") in ids
    assert res_id(rg, "loadBalancers", "kids-lb", "backendAddressPools", "pool") in ids
    assert res_id(rg, "loadBalancers", "kids-lb", "inboundNatRules", "ssh") in ids
    vnet = api.get(res_id(rg, "virtualNetworks", "kids-vnet")).json
    assert h.names(vnet["properties"]["subnets"]) == ["default", "extra"]
    lb = api.get(res_id(rg, "loadBalancers", "kids-lb")).json
    assert h.names(lb["properties"]["backendAddressPools"]) == ["pool"]
    assert h.names(lb["properties"]["probes"]) == ["hp"]
    assert h.names(lb["properties"]["inboundNatRules"]) == ["ssh"]


def test_same_template_in_two_groups(api):
    """The same names in two resource groups are two resources; Complete mode in one
    group leaves the other's alone."""
    t = template([simple_vnet("twin-vnet", "10.79.0.0/24"),
                  dict(simple_lb("twin-lb", "twin-vnet", "[parameters('fe')]",
                                 {"a": "10.79.0.21"}),
                       dependsOn=[name_expr_id("twin-vnet")])],
                 parameters={"fe": {"type": "string"}})
    for rg, fe in (("twin1", "10.79.0.10"), ("twin2", "10.79.0.11")):  # frontends differ
        r = deploy(api, rg, "twin", t, {"fe": fe})
        assert r.status == 201, r
    for rg in ("twin1", "twin2"):
        assert api.get(res_id(rg, "loadBalancers", "twin-lb")).status == 200
    r = deploy(api, "twin1", "twin", template([simple_vnet("twin-vnet", "10.79.0.0/24")]),
               mode="Complete")
    assert r.status == 200, r
    assert api.get(res_id("twin1", "loadBalancers", "twin-lb")).status == 404
    assert api.get(res_id("twin2", "loadBalancers", "twin-lb")).status == 200


# ---------------------------------------------------------------------------
# Complete mode and what-if
# ---------------------------------------------------------------------------

def test_incremental_then_complete(api):
    rg = "cmprg"
    vnet = simple_vnet("cmp-vnet", "10.64.0.0/16")
    lb1 = simple_lb("cmp-lb1", "cmp-vnet", "10.64.0.10", {"a": "10.64.0.21"})
    lb2 = simple_lb("cmp-lb2", "cmp-vnet", "10.64.0.11", {"b": "10.64.0.22"})
    lb3 = simple_lb("cmp-lb3", "cmp-vnet", "10.64.0.12", {"c": "10.64.0.23"})
    for lb in (lb1, lb2, lb3):
        lb["dependsOn"] = [f"[resourceId('{NET}/virtualNetworks', 'cmp-vnet')]"]
    r = deploy(api, rg, "first", template([vnet, lb1, lb2, lb3]))
    assert r.status == 201, r
    # a resource of another group, and one the template names only by a child
    api.ok("PUT", res_id("otherrg", "virtualNetworks", "cmp-other"),
           h.vnet_body(["10.65.0.0/24"], {"default": "10.65.0.0/24"}), status=201)
    pool_child = {"type": f"{NET}/loadBalancers/backendAddressPools", "apiVersion": "2020-05-01",
                  "name": "cmp-lb3/pool2", "properties": {}}
    second = template([vnet, lb1, pool_child])

    # Incremental what-if: lb2 is left alone (Ignore); Complete: deleted (listed first)
    r = deploy(api, rg, "second", second, action="whatIf")
    assert r.status == 200, r
    kinds = {c["resourceId"]: c["changeType"] for c in r.json["properties"]["changes"]}
    assert kinds[res_id(rg, "loadBalancers", "cmp-lb2")] == "Ignore", kinds
    commits, snap = api.commits(), api.snapshot()
    r = deploy(api, rg, "second", second, mode="Complete", action="whatIf")
    assert r.status == 200, r
    changes = r.json["properties"]["changes"]
    assert r.json["status"] == "Succeeded"
    assert [(c["resourceId"], c["changeType"]) for c in changes] == [
        (res_id(rg, "loadBalancers", "cmp-lb2"), "Delete"),
        (res_id(rg, "virtualNetworks", "cmp-vnet"), "NoChange"),
        (res_id(rg, "loadBalancers", "cmp-lb1"), "NoChange"),
        (res_id(rg, "loadBalancers", "cmp-lb3", "backendAddressPools", "pool2"), "Create")], \
        changes
    assert changes[0]["before"]["name"] == "cmp-lb2" and changes[0]["after"] is None
    assert api.commits() == commits and api.snapshot() == snap  # what-if changes nothing

    r = deploy(api, rg, "second", second, mode="Complete")
    assert r.status == 201, r
    assert api.commits() == commits + 1
    assert r.json["properties"]["mode"] == "Complete"
    assert api.get(res_id(rg, "loadBalancers", "cmp-lb2")).status == 404
    assert api.get(res_id(rg, "loadBalancers", "cmp-lb1")).status == 200
    lb3 = api.get(res_id(rg, "loadBalancers", "cmp-lb3")).json  # parent of a named child
    assert h.names(lb3["properties"]["backendAddressPools"]) == ["pool", "pool2"]
    assert api.get(res_id("otherrg", "virtualNetworks", "cmp-other")).status == 200


def test_what_if_create_modify_nochange_ignore(api):
    rg = "wirg"
    vnet = simple_vnet("wi-vnet", "10.66.0.0/16")
    lb = simple_lb("wi-lb", "wi-vnet", "10.66.0.10", {"a": "10.66.0.21", "b": "10.66.0.22"})
    assert deploy(api, rg, "base", template([vnet, lb])).status == 201
    api.ok("PUT", res_id(rg, "virtualNetworks", "wi-alone"),
           h.vnet_body(["10.67.0.0/24"], {"default": "10.67.0.0/24"}), status=201)
    lb2 = copy.deepcopy(lb)
    addrs = lb2["properties"]["backendAddressPools"][0]["properties"][
        "loadBalancerBackendAddresses"]
    addrs[1]["properties"]["ipAddress"] = "10.66.0.23"  # modified
    del addrs[0]                                        # removed
    lb2["properties"]["frontendIPConfigurations"][0]["properties"][
        "privateIPAllocationMethod"] = "Static"           # added
    nic = {"type": f"{NET}/networkInterfaces", "apiVersion": "2020-05-01", "name": "wi-nic",
           "location": "eastus", "properties": {"ipConfigurations": [{
               "name": "ipconfig1", "properties": {
                   "privateIPAddress": "10.66.0.40", "privateIPAllocationMethod": "Static",
                   "subnet": {"id": res_id(rg, "virtualNetworks", "wi-vnet", "subnets",
                                           "default")}}}]}}
    commits, snap = api.commits(), api.snapshot()
    r = deploy(api, rg, "next", template([vnet, lb2, nic]), action="whatIf")
    assert r.status == 200, r
    assert api.commits() == commits and api.snapshot() == snap
    ch = {c["resourceId"]: c for c in r.json["properties"]["changes"]}
    assert ch[res_id(rg, "virtualNetworks", "wi-vnet")]["changeType"] == "NoChange"
    assert ch[res_id(rg, "virtualNetworks", "wi-vnet")]["delta"] == []
    assert ch[res_id(rg, "virtualNetworks", "wi-alone")]["changeType"] == "Ignore"
    create = ch[res_id(rg, "networkInterfaces", "wi-nic")]
    assert create["changeType"] == "Create" and create["before"] is None
    assert create["after"]["id"] == res_id(rg, "networkInterfaces", "wi-nic")
    mod = ch[res_id(rg, "loadBalancers", "wi-lb")]
    assert mod["changeType"] == "Modify", mod
    assert mod["before"]["etag"] != mod["after"]["etag"]
    delta = {x["path"]: x for x in mod["delta"]}
    fe = delta["properties.frontendIPConfigurations"]
    assert fe["propertyChangeType"] == "Array"
    assert fe["children"][0]["propertyChangeType"] == "Modify"
    assert {"path": "properties.privateIPAllocationMethod", "propertyChangeType": "Create",
            "after": "Static"} in fe["children"][0]["children"]
    pools = delta["properties.backendAddressPools"]
    assert pools["propertyChangeType"] == "Array"
    pool_delta = {x["path"]: x for x in pools["children"][0]["children"]}
    addr = pool_delta["properties.loadBalancerBackendAddresses"]
    assert addr["propertyChangeType"] == "Array"
    assert [c["propertyChangeType"] for c in addr["children"]] == ["Modify", "Delete"]
    assert addr["children"][1]["before"]["name"] == "b"
    # etag and provisioningState are no change of their own
    assert not any("etag" in p or "provisioningState" in p for p in delta), delta


def test_validate_stores_nothing(api):
    rg = "valrg"
    t = template([simple_vnet("val-vnet", "10.68.0.0/24")])
    commits, snap = api.commits(), api.snapshot()
    r = deploy(api, rg, "v1", t, action="validate")
    assert r.status == 200, r
    assert r.json["id"] == dep_path(rg, "v1", rg_word="resourceGroups")
    p = r.json["properties"]
    assert p["provisioningState"] == "Succeeded" and p["mode"] == "Incremental"
    assert p["validatedResources"] == [{"id": res_id(rg, "virtualNetworks", "val-vnet")}]
    assert re.match(r"^\d+$", p["templateHash"])
    assert api.commits() == commits and api.snapshot() == snap
    assert api.get(dep_path(rg, "v1")).status == 404
    assert api.get(res_id(rg, "virtualNetworks", "val-vnet")).status == 404
    # a template that would be refused is refused by validate as by PUT
    bad = template([simple_lb("val-lb", "val-nothere", "10.68.0.10", {})])
    r = deploy(api, rg, "v2", bad, action="validate")
    assert r.status == 400 and r.error["code"] == "InvalidTemplateDeployment", r
    r = deploy(api, rg, "v2", bad, action="whatIf")
    assert r.status == 400 and r.error["code"] == "InvalidTemplateDeployment", r
    assert api.get(dep_path(rg, "v2")).status == 404


# ---------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------

def test_bad_expression_is_invalid_template(api):
    rg = "exprrg"
    t = template([simple_vnet("[concat('expr', parameters('x')]", "10.69.0.0/24")],
                 parameters={"x": {"type": "string", "defaultValue": "-v"}})
    commits, snap = api.commits(), api.snapshot()
    r = deploy(api, rg, "bad", t)
    assert r.status == 400, r
    e = r.error
    assert e["code"] == "InvalidTemplate", r
    assert "concat('expr', parameters('x')" in e["message"], e
    assert re.search(r"position \d+", e["message"]) or re.search(r"character \d+", e["message"]), e
    assert e["jsonPath"].startswith("$.resources[0]"), e
    assert api.commits() == commits and api.snapshot() == snap
    rec = api.get(dep_path(rg, "bad")).json
    assert rec["properties"]["provisioningState"] == "Failed"
    assert rec["properties"]["error"]["code"] == "InvalidTemplate"


def test_validation_failure_changes_nothing(api):
    rg = "failrg"
    vnet = simple_vnet("fail-vnet", "10.70.0.0/16")
    lb = simple_lb("fail-lb", "fail-vnet", "10.70.0.10", {"a": "10.70.0.21"})
    assert deploy(api, rg, "ok", template([vnet, lb])).status == 201
    before = {k: api.get(res_id(rg, *k)).json for k in
              [("virtualNetworks", "fail-vnet"), ("loadBalancers", "fail-lb")]}
    commits, snap = api.commits(), api.snapshot()
    status_before = api.status()

    # the vnet grows a subnet, the pool a new address, and a rule names a pool that
    # does not exist: the whole deployment is refused
    vnet2 = simple_vnet("fail-vnet", "10.70.0.0/16")
    vnet2["properties"]["subnets"].append({"name": "more",
                                           "properties": {"addressPrefix": "10.70.9.0/24"}})
    lb2 = simple_lb("fail-lb", "fail-vnet", "10.70.0.10",
                    {"a": "10.70.0.21", "b": "10.70.0.22"})
    lb2["properties"]["loadBalancingRules"] = [{"name": "r", "properties": {
        "frontendIPConfiguration": {"id": res_id(rg, "loadBalancers", "fail-lb",
                                                 "frontendIPConfigurations", "fe")},
        "backendAddressPool": {"id": res_id(rg, "loadBalancers", "fail-lb",
                                            "backendAddressPools", "nosuchpool")},
        "protocol": "Tcp", "frontendPort": 80, "backendPort": 80}}]
    r = deploy(api, rg, "ok", template([vnet2, lb2]))
    assert r.status == 400, r
    e = r.error
    assert e["code"] == "InvalidTemplateDeployment", r
    assert len(e["details"]) == 1, e
    det = e["details"][0]
    assert det["target"] == res_id(rg, "loadBalancers", "fail-lb"), det
    assert det["jsonPath"].startswith("$.resources[1].properties.loadBalancingRules[0]"), det
    assert det["code"] and det["message"], det
    # everything as it was
    assert api.commits() == commits and api.snapshot() == snap
    assert api.status()["commits"] == status_before["commits"]
    for k, v in before.items():
        assert api.get(res_id(rg, *k)).json == v
    # the record of that name says why
    rec = api.get(dep_path(rg, "ok")).json
    assert rec["properties"]["provisioningState"] == "Failed", rec
    assert rec["properties"]["error"]["code"] == "InvalidTemplateDeployment"
    assert rec["properties"]["error"]["details"][0]["target"] == det["target"]
    assert rec["properties"]["outputResources"] == []


def test_unsupported_types_refused_or_skipped(api):
    rg = "vmrg"
    api.ok("PUT", res_id(rg, "virtualNetworks", "vmVNET"),
           h.vnet_body(["10.71.0.0/16"], {"frontSubnet": "10.71.0.0/24"}), status=201)
    t = load_fixture("vm_with_nic.json")
    params = {"diagStorageName": "sluicestore", "diagStorageSuffix": "core.example",
              "operatorName": "operator", "operatorSecret": "Secret-Pa55-vm",
              "osPublisher": "Debian", "diagStorageLocation": "eastus",
              "deployLocation": "eastus", "networkName": "vmVNET", "interfaceName": "vm-nic",
              "staticAddress": "10.71.0.5"}
    commits, snap = api.commits(), api.snapshot()
    r = deploy(api, rg, "vm", t, params)
    assert r.status == 400, r
    e = r.error
    assert e["code"] == "InvalidTemplateDeployment"
    got = sorted((x["target"], x["resourceType"]) for x in e["details"])
    assert got == sorted([
        (f"/subscriptions/{h.SUB}/resourceGroups/{rg}/providers/Microsoft.Storage/"
         "storageAccounts/sluicestore", "Microsoft.Storage/storageAccounts"),
        (res_id(rg, "networkSecurityGroups", "appSecurityGroup"),
         f"{NET}/networkSecurityGroups"),
        (f"/subscriptions/{h.SUB}/resourceGroups/{rg}/providers/Microsoft.Compute/"
         "virtualMachines/appServer", "Microsoft.Compute/virtualMachines")]), e
    assert all(x["code"] == "UnsupportedResourceType" for x in e["details"])
    assert "skipUnsupportedResources" in e["message"]
    assert api.commits() == commits and api.snapshot() == snap
    assert "Secret-Pa55-vm" not in r.text

    r = deploy(api, rg, "vm", t, params, skipUnsupportedResources=True)
    assert r.status == 200, r  # a Failed record of that name was there
    p = r.json["properties"]
    assert p["provisioningState"] == "Succeeded"
    assert sorted(s["resourceType"] for s in p["skippedResources"]) == [
        "Microsoft.Compute/virtualMachines", f"{NET}/networkSecurityGroups",
        "Microsoft.Storage/storageAccounts"]
    assert [o["id"] for o in p["outputResources"]] == [res_id(rg, "networkInterfaces", "vm-nic")]
    assert api.commits() == commits + 1
    nic = api.get(res_id(rg, "networkInterfaces", "vm-nic")).json
    ipc = {k.lower(): v for k, v in nic["properties"]["ipConfigurations"][0]["properties"].items()}
    assert ipc["privateipaddress"] == "10.71.0.5"  # the template spells it privateIpAddress
    assert "value" not in p["parameters"]["operatorSecret"]
    assert "Secret-Pa55-vm" not in r.text
    # what-if lists the skipped ones as Unsupported
    r = deploy(api, rg, "vm", t, params, action="whatIf", skipUnsupportedResources=True)
    kinds = {c["resourceId"].rsplit("/", 1)[1]: c["changeType"]
             for c in r.json["properties"]["changes"]}
    assert kinds["appServer"] == kinds["sluicestore"] == kinds["appSecurityGroup"] == \
        "Unsupported", kinds
    assert kinds["vm-nic"] == "NoChange", kinds


@pytest.mark.parametrize("props, code", [
    ({"templateLink": {"uri": "https://example.invalid/t.json"}}, "TemplateLinkNotSupported"),
    ({"parametersLink": {"uri": "https://example.invalid/p.json"}}, "ParametersLinkNotSupported"),
    ({"mode": "Sometimes"}, "InvalidDeploymentMode"),
    ({"mode": None}, "InvalidDeploymentMode"),
    ({"template": "not an object"}, "InvalidRequestContent"),
    ({"template": None}, "InvalidRequestContent"),
    ({"parameters": {"p": "no value object"}}, "InvalidRequestContent"),
    ({"skipUnsupportedResources": "yes"}, "InvalidRequestContent"),
])
def test_request_shape_refused(api, props, code):
    b = body(template([simple_vnet("shape-vnet", "10.72.0.0/24")]))
    for k, v in props.items():
        if v is None:
            del b["properties"][k]
        else:
            b["properties"][k] = v
    commits = api.commits()
    r = api.put(dep_path("shaperg", "shape"), b)
    assert r.status == 400 and r.error["code"] == code, r
    assert api.commits() == commits
    assert api.get(dep_path("shaperg", "shape")).status == 404  # no record of a malformed request


def test_request_errors(api):
    t = body(template([]))
    r = api.put(dep_path("errrg", "x"), t, api_version=None)
    assert r.status == 400 and r.error["code"] == "MissingApiVersionParameter", r
    r = api.put(dep_path("errrg", "bad%20name!"), t)
    assert r.status == 400 and r.error["code"] == "InvalidDeploymentName", r
    r = api.put(dep_path("errrg", "x" * 65), t)
    assert r.status == 400 and r.error["code"] == "InvalidDeploymentName", r
    r = api.request("PATCH", dep_path("errrg", "x"), t)
    assert r.status == 405, r
    r = api.request("GET", dep_path("errrg", "x", "validate"))
    assert r.status == 405, r
    r = api.request("POST", dep_path("errrg", "x", "cancel"), t)
    assert r.status == 404, r
    r = api.put(dep_path("errrg", "x"), None)
    assert r.status == 400 and r.error["code"] == "InvalidRequestContent", r
    r = api.put(dep_path("errrg", "x"), "{not json")
    assert r.status == 400 and r.error["code"] == "InvalidRequestContent", r
    r = api.get(dep_path("errrg", "nothere"))
    assert r.status == 404 and r.error["code"] == "DeploymentNotFound", r


# ---------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------

def test_records_get_list_delete(d, api):
    rg = "recrg"
    for i, name in enumerate(["one", "Two", "three"]):
        t = template([simple_vnet(f"rec-vnet{i}", f"10.73.{i}.0/24")])
        assert deploy(api, rg, name, t).status == 201
    lst = api.get(dep_path(rg)).json["value"]
    assert [x["name"] for x in lst] == ["three", "Two", "one"]  # newest first
    assert api.get(dep_path("elsewhere")).json == {"value": []}
    assert api.get(dep_path(rg, "two")).json["name"] == "Two"  # names case-insensitive
    # a redeploy of a name replaces its record and makes it the newest
    assert deploy(api, rg, "ONE", template([simple_vnet("rec-vnet0", "10.73.0.0/24")])
                  ).status == 200
    assert [x["name"] for x in api.get(dep_path(rg)).json["value"]] == ["ONE", "three", "Two"]
    commits = api.commits()
    r = api.delete(dep_path(rg, "three"))
    assert r.status == 200, r
    r = api.delete(dep_path(rg, "three"))
    assert r.status == 204, r
    assert api.commits() == commits
    assert api.get(res_id(rg, "virtualNetworks", "rec-vnet2")).status == 200  # resources stay
    assert [x["name"] for x in api.get(dep_path(rg)).json["value"]] == ["ONE", "Two"]
    # each change is audited: who, what, the result
    log = d.wait_log("deployments/three: deployment record three deleted")
    assert re.search(r"sluice\.audit: uid \d+ pid \d+ \(python3\): PUT /subscriptions/subid/"
                     r"resourcegroups/recrg/providers/Microsoft\.Resources/deployments/Two: "
                     r"generation \d+ published; deployment Two \(Incremental\): 1 resources", log), log


def test_secure_parameters_never_answered(d, api):
    rg = "securerg"
    secret = "Very-Secret-4711"
    t = template([simple_vnet("sec-vnet", "10.74.0.0/24")],
                 parameters={"password": {"type": "securestring"},
                             "token": {"type": "secureObject"},
                             "tier": {"type": "string", "defaultValue": "gold"}},
                 outputs={"pw": {"type": "securestring", "value": "[parameters('password')]"},
                          "tier": {"type": "string", "value": "[parameters('tier')]"}})
    params = {"password": secret, "token": {"k": secret}}
    answers = [deploy(api, rg, "sec", t, params, action="validate"),
               deploy(api, rg, "sec", t, params, action="whatIf"),
               deploy(api, rg, "sec", t, params),
               api.get(dep_path(rg, "sec")), api.get(dep_path(rg))]
    for r in answers:
        assert r.status in (200, 201), r
        assert secret not in r.text, r
    p = answers[2].json["properties"]
    assert p["parameters"]["password"] == {"type": "SecureString"} or \
        "value" not in p["parameters"]["password"], p["parameters"]
    assert "value" not in p["parameters"]["token"]
    assert p["parameters"]["tier"]["value"] == "gold"
    assert "value" not in p["outputs"]["pw"] and p["outputs"]["tier"]["value"] == "gold"
    # a failed one neither
    bad = copy.deepcopy(t)
    bad["resources"][0]["properties"]["addressSpace"]["addressPrefixes"] = ["not-a-prefix"]
    r = deploy(api, rg, "sec", bad, params)
    assert r.status == 400 and secret not in r.text, r
    assert secret not in api.get(dep_path(rg, "sec")).text
    with open(os.path.join(d.state_dir, "deployments.json")) as f:
        assert secret not in f.read()


def test_secure_values_redacted_everywhere(d, api):
    """A secure value's text reads [secure] in every answer, record and audit line,
    a validation error quoting it and what-if's payloads included; the resource
    itself keeps what the template wrote."""
    rg = "redactrg"
    secret = "S3cr3tVal"
    params = {"pw": secret}
    pw = {"pw": {"type": "securestring"}}
    bad = template([vnet_res("red-bad", "[parameters('pw')]", {})], parameters=pw)
    mark = len(d.output())
    for action in ("", "validate", "whatIf"):
        r = deploy(api, rg, "red", bad, params, action=action)
        assert r.status == 400, r
        assert secret not in r.text and "[secure]" in r.text, r
    rec = api.get(dep_path(rg, "red"))
    assert rec.json["properties"]["provisioningState"] == "Failed", rec
    assert secret not in rec.text, rec
    # a location from it: the record's providers, what-if's after, the resource's GET
    good = template([vnet_res("red-vnet", "10.79.0.0/24", {"default": "10.79.0.0/24"})],
                    parameters=pw)
    good["resources"][0]["location"] = "[parameters('pw')]"
    w = deploy(api, rg, "red", good, params, action="whatIf")
    assert w.status == 200 and secret not in w.text, w
    after = w.json["properties"]["changes"][0]["after"]
    assert after["location"] == "[secure]", after
    r = deploy(api, rg, "red", good, params)
    assert r.status == 200 and secret not in r.text, r
    assert r.json["properties"]["providers"][0]["resourceTypes"][0]["locations"] == ["[secure]"]
    assert api.get(res_id(rg, "virtualNetworks", "red-vnet")).json["location"] == secret
    w = deploy(api, rg, "red", good, params, action="whatIf")  # its before: stored, redacted
    assert w.status == 200 and secret not in w.text, w
    for r in (api.get(dep_path(rg, "red")), api.get(dep_path(rg))):
        assert secret not in r.text, r
    d.wait_log("deployments/red: generation")
    audit = [ln for ln in d.output()[mark:].splitlines() if " sluice.audit: " in ln]
    assert any("[secure]" in ln for ln in audit), audit
    assert not [ln for ln in audit if secret in ln], audit
    with open(os.path.join(d.state_dir, "deployments.json")) as f:
        assert secret not in f.read()


def test_validation_error_of_another_group_is_not_the_templates(api):
    """An error is pinned on a template resource only when that resource is at fault:
    rgA's lb loses its subnet in rgB's vnet to a Complete deployment to rgB that names
    an lb of its own; an empty Complete deployment to cx takes cy's NIC's subnet."""
    a, b = "xgrpa", "xgrpb"
    assert deploy(api, b, "v", template([simple_vnet("xg-v", "10.80.0.0/24")])).status == 201
    lb = simple_lb("xg-lb", "xg-v", "10.80.0.10", {})
    lb["properties"]["frontendIPConfigurations"][0]["properties"]["subnet"]["id"] = \
        res_id(b, "virtualNetworks", "xg-v", "subnets", "default")
    assert deploy(api, a, "lb", template([lb])).status == 201
    own = simple_lb("xg-lb", "xg-w", "10.81.0.10", {})
    r = deploy(api, b, "c", template([simple_vnet("xg-w", "10.81.0.0/24"), own]),
               mode="Complete")
    assert r.status == 400, r
    det = r.error["details"][0]
    assert det["target"].startswith(res_id(a, "loadBalancers", "xg-lb")), det
    assert "jsonPath" not in det, det

    x, y = "xgrpx", "xgrpy"
    assert deploy(api, x, "v", template([simple_vnet("xg-cv", "10.82.0.0/24")])).status == 201
    nic = {"type": f"{NET}/networkInterfaces", "apiVersion": "2020-05-01", "name": "xg-cn",
           "properties": {"ipConfigurations": [{"name": "ic", "properties": {
               "privateIPAllocationMethod": "Static", "privateIPAddress": "10.82.0.4",
               "subnet": {"id": res_id(x, "virtualNetworks", "xg-cv", "subnets", "default")}}}]}}
    assert deploy(api, y, "n", template([nic])).status == 201
    for action in ("validate", ""):
        r = deploy(api, x, "empty", template([]), mode="Complete", action=action)
        assert r.status == 400, r
        det = r.error["details"][0]
        assert det["target"].startswith(res_id(y, "networkInterfaces", "xg-cn")), det
        assert "jsonPath" not in det, det
    assert api.get(res_id(x, "virtualNetworks", "xg-cv")).status == 200


def test_concurrent_deployments_are_serialised(api):
    rg = "concrg"
    vnet = simple_vnet("conc-vnet", "10.75.0.0/16")
    sets = {f"c{i}": {f"a{i}x{j}": f"10.75.{i}.{10 + j}" for j in range(i + 2)}
            for i in range(6)}
    templates = {n: template([vnet, dict(simple_lb("conc-lb", "conc-vnet", "10.75.0.5",
                                                   addrs),
                                         dependsOn=[name_expr_id("conc-vnet")])])
                 for n, addrs in sets.items()}
    assert deploy(api, rg, "seed", templates["c0"]).status == 201
    commits = api.commits()
    results = {}
    barrier = threading.Barrier(len(sets))

    def fire(name):
        barrier.wait()
        results[name] = deploy(h.Api(api.sock), rg, name, templates[name])

    threads = [threading.Thread(target=fire, args=(n,)) for n in sets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(r.status in (200, 201) for r in results.values()), results
    # each one whole: the pool is exactly one deployment's addresses
    pool = api.get(res_id(rg, "loadBalancers", "conc-lb", "backendAddressPools", "pool")).json
    got = {a["name"]: a["properties"]["ipAddress"]
           for a in pool["properties"]["loadBalancerBackendAddresses"]}
    assert got in list(sets.values()), got
    # the last record (newest) is the one whose addresses are there
    newest = api.get(dep_path(rg)).json["value"][0]["name"]
    assert sets[newest] == got, (newest, got)
    assert commits < api.commits() <= commits + len(sets)


def test_state_write_failure_is_deployment_failed(daemons):
    import shutil
    d = daemons.start()
    rg = "wfrg"
    t = template([simple_vnet("wf-vnet", "10.76.0.0/24")])
    assert deploy(d.api, rg, "a", t).status == 201
    commits, snap = d.api.commits(), d.api.snapshot()
    saved = d.state_dir + ".saved"
    shutil.move(d.state_dir, saved)
    try:
        r = deploy(d.api, rg, "b", template([simple_vnet("wf-vnet2", "10.76.1.0/24")]))
        assert r.status == 500, r
        assert r.error["code"] == "DeploymentFailed", r
        assert r.error["details"][0]["code"] == "StateWriteFailed", r
        assert d.api.commits() == commits and d.api.snapshot() == snap
    finally:
        shutil.move(saved, d.state_dir)
    rec = d.api.get(dep_path(rg, "b")).json
    assert rec["properties"]["provisioningState"] == "Failed"
    assert rec["properties"]["error"]["code"] == "DeploymentFailed"


def test_records_survive_a_restart(daemons):
    d = daemons.start()
    rg = "rsrg"
    t = template([simple_vnet("rs-vnet", "10.77.0.0/24")],
                 parameters={"pw": {"type": "securestring", "defaultValue": "x"}})
    assert deploy(d.api, rg, "kept", t, {"pw": "Restart-Secret-1"}).status == 201
    bad = template([simple_vnet("[oops(", "10.77.0.0/24")])
    assert deploy(d.api, rg, "failed", bad).status == 400
    before = d.api.get(dep_path(rg)).json
    assert d.stop() == 0
    d2 = daemons.start(workdir=d.workdir)
    assert d2.api.get(dep_path(rg)).json == before
    assert d2.api.get(dep_path(rg, "failed")).json["properties"]["provisioningState"] == "Failed"
    assert "Restart-Secret-1" not in json.dumps(before)
    # a new deployment after the restart is the newest
    assert deploy(d2.api, rg, "after", t, {"pw": "y"}).status == 201
    assert [x["name"] for x in d2.api.get(dep_path(rg)).json["value"]] == [
        "after", "failed", "kept"]


def test_damaged_records_file_is_set_aside(daemons):
    d = daemons.start()
    assert deploy(d.api, "dmgrg", "x", template([simple_vnet("dmg-vnet", "10.78.0.0/24")])
                  ).status == 201
    assert d.stop() == 0
    path = os.path.join(d.state_dir, "deployments.json")
    with open(path, "w") as f:
        f.write('{"version": 1, "deployments": [{"subscription": ')
    d2 = daemons.start(workdir=d.workdir)
    d2.wait_log("set aside")
    assert os.path.exists(path + ".damaged")
    assert d2.api.get(dep_path("dmgrg")).json == {"value": []}
    # the configuration itself is there
    assert d2.api.get(res_id("dmgrg", "virtualNetworks", "dmg-vnet")).status == 200


def test_records_limit_per_group(daemons):
    """ARM keeps 800 deployments per resource group and deletes the oldest to make
    room (run without a state directory: 800 rewrites of the records file are slow)."""
    d = daemons.start(state=False)
    t = template([])
    for i in range(801):
        r = deploy(d.api, "limrg", f"d{i}", t)
        assert r.status == 201, r
    names = [x["name"] for x in d.api.get(dep_path("limrg")).json["value"]]
    assert len(names) == 800 and names[0] == "d800" and names[-1] == "d1", names[-3:]
    assert d.api.get(dep_path("limrg", "d0")).status == 404


# ---------------------------------------------------------------------------
# The seed's exported template
# ---------------------------------------------------------------------------

def test_exported_lb_template(api):
    """A template in the shape of an exported one: SecureString location
    parameters, addresses whose virtualNetwork has only a location (placed in the
    frontend subnet's vnet), a Dynamic frontend with its address given, empty
    outboundRules and inboundNatPools, a separate pool resource depending on the
    LB by resourceId, its frontend in a virtual network of another resource group
    (and subscription) created first by REST, named by the parameter's default."""
    vnet = ("/subscriptions/3c9a1f52-7e0d-4b8e-a6a1-0d5b2c7e9f14/resourceGroups/NetCore7/"
            "providers/Microsoft.Network/virtualNetworks/coreVNET")
    api.ok("PUT", vnet, h.vnet_body(["10.40.0.0/16"], {"frontSubnet": "10.40.1.0/24"}),
           status=201)
    t = load_fixture("exported_lb.json")
    params = {"loadBalancers_edgeLB_location": "westeurope",
              "loadBalancers_edgeLB_location_1": "westeurope",
              "backendAddressPools_appPool_location": "westeurope",
              "backendAddressPools_appPool_location_1": "westeurope"}
    commits = api.commits()
    r = deploy(api, "lbrg", "exported", t, params)
    assert r.status == 201, r
    assert api.commits() == commits + 1
    p = r.json["properties"]
    assert all("value" not in p["parameters"][k] for k in params), p
    assert p["parameters"]["loadBalancers_edgeLB_name"]["value"] == "edgeLB"
    deps = {x["resourceName"]: [y["id"] for y in x["dependsOn"]] for x in p["dependencies"]}
    assert deps["edgeLB/appPool"] == [res_id("lbrg", "loadBalancers", "edgeLB")]
    pool = api.get(res_id("lbrg", "loadBalancers", "edgeLB", "backendAddressPools",
                          "appPool")).json
    addrs = pool["properties"]["loadBalancerBackendAddresses"]
    assert [(a["name"], a["properties"]["ipAddress"]) for a in addrs] == [
        ("app-a", "10.40.1.21"), ("app-b", "10.40.1.22")]
    lb = api.get(res_id("lbrg", "loadBalancers", "edgeLB")).json
    fe = h.child(lb, "frontendIPConfigurations", "edgeFrontend")
    assert fe["properties"]["subnet"]["id"].lower() == (vnet + "/subnets/frontSubnet").lower()
    assert fe["properties"]["privateIPAddress"] == "10.40.1.10"

# ---------------------------------------------------------------------------
# Traffic
# ---------------------------------------------------------------------------

def test_deployed_pool_forwards(daemons):
    """A pool deployed by a template (its addresses from a property copy loop)
    forwards: sluiced on net_af_packet in a namespace of the test's own, SYNs to
    the frontend come out DNATed to the deployed backends (as test_dataplane)."""
    import test_dataplane as dp
    ns_name = f"slapi-{os.getpid()}-dep"
    with h.veth_netns(ns_name, dp.LB_IF, dp.PEER_IF, dp.SLUICE_MAC, dp.CLIENT_MAC) as ns:
        d = daemons.start(profile=dp.profile(), netns=ns,
                          env={"SLUICE_IFACE": dp.LB_IF, "SLUICE_MAC": dp.SLUICE_MAC,
                               "SLUICE_IPV4": dp.SLUICE_IP})
        rg = "trafficrg"
        vid = f"[resourceId('{NET}/virtualNetworks', 'tr-vnet')]"
        lbid = f"resourceId('{NET}/loadBalancers', 'tr-lb')"
        backends = [dp.A[0], dp.B[0]]
        t = template(
            parameters={"backends": {"type": "array"}},
            resources=[
                simple_vnet("tr-vnet", "10.77.0.0/24"),
                {"type": f"{NET}/loadBalancers", "apiVersion": "2020-05-01", "name": "tr-lb",
                 "location": "eastus", "sku": {"name": "Standard"}, "dependsOn": [vid],
                 "properties": {
                     "frontendIPConfigurations": [{"name": "fe", "properties": {
                         "privateIPAddress": dp.VIP,
                         "subnet": {"id": f"[concat({vid[1:-1]}, '/subnets/default')]"}}}],
                     "backendAddressPools": [{"name": "pool", "properties": {"copy": [{
                         "name": "loadBalancerBackendAddresses",
                         "count": "[length(parameters('backends'))]",
                         "input": {
                             "name": "[concat('b', copyIndex('loadBalancerBackendAddresses'))]",
                             "properties": {
                                 "ipAddress": "[parameters('backends')[copyIndex("
                                              "'loadBalancerBackendAddresses')]]",
                                 "virtualNetwork": {"id": vid}}}}]}}],
                     "loadBalancingRules": [{"name": "http", "properties": {
                         "frontendIPConfiguration": {
                             "id": f"[concat({lbid}, '/frontendIPConfigurations/fe')]"},
                         "backendAddressPool": {
                             "id": f"[concat({lbid}, '/backendAddressPools/pool')]"},
                         "protocol": "Tcp", "frontendPort": dp.PORT, "backendPort": dp.PORT,
                         "enableFloatingIP": False}}]}}])
        commits = d.api.commits()
        r = deploy(d.api, rg, "traffic", t, {"backends": backends})
        assert r.status == 201, r
        assert d.api.commits() == commits + 1
        out = dp.inject(ns, 41000)
        assert len(out) == dp.N_FLOWS, f"{len(out)} of {dp.N_FLOWS} packets came out:\n{out}"
        macs = dict([dp.A, dp.B])
        for p in out:
            assert p["dst"] in backends and p["dmac"] == macs[p["dst"]], p
            assert (p["src"], p["dport"]) == (dp.CLIENT_IP, dp.PORT), p
        packets = dp.backend_packets(d.api)
        assert sum(packets.get(b, 0) for b in backends) >= dp.N_FLOWS, packets
