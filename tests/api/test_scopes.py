# SPDX-License-Identifier: BSD-3-Clause
"""A resource is its subscription, resource group and name (docs/api.md,
"Resource identity"): the same name in two resource groups is two resources,
each read, replaced and deleted by its own path, references resolve by the
scope their id names, and what sluice reports (counters, Prometheus labels)
labels the two load balancers apart ("<resourceGroup>:<name>"). Also: a
child PUT without a body, and the load balancer of the seed's exported ARM
template (backend addresses whose virtualNetwork has no id, a frontend subnet
in another resource group) taken as a REST body.
"""
import copy
import json
import os
import re
import tempfile

import pytest

import apihelpers as h


def scope(rg, sub=h.SUB):
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network"


A, B = scope("rgA"), scope("rgB")


def rid(sc, *segments):
    return h.rid(*segments, scope=sc)


def vnet(net):
    return h.vnet_body([f"{net}.0.0/16"], {"s": f"{net}.1.0/24"})


def lb(sc, fe_ip, addr_ip):
    """Load balancer "lb" in scope sc: frontend fe in sc's v/s, IP-based pool p
    (address x), an empty pool np, rule r (Tcp 80) from fe to p."""
    def ref(kind, name):
        return {"id": rid(sc, "loadBalancers", "lb", kind, name)}
    return {"location": "eastus", "sku": {"name": "Standard"}, "properties": {
        "frontendIPConfigurations": [{"name": "fe", "properties": {
            "privateIPAddress": fe_ip,
            "subnet": {"id": rid(sc, "virtualNetworks", "v", "subnets", "s")}}}],
        "backendAddressPools": [
            {"name": "p", "properties": {"loadBalancerBackendAddresses": [
                {"name": "x", "properties": {
                    "ipAddress": addr_ip,
                    "virtualNetwork": {"id": rid(sc, "virtualNetworks", "v")}}}]}},
            {"name": "np"}],
        "loadBalancingRules": [{"name": "r", "properties": {
            "frontendIPConfiguration": ref("frontendIPConfigurations", "fe"),
            "backendAddressPool": ref("backendAddressPools", "p"),
            "protocol": "Tcp", "frontendPort": 80, "backendPort": 80}}]}}


def stats(api):
    r = api.request("GET", "/sluice/stats", api_version=None)
    assert r.status == 200, r
    return r.json


@pytest.fixture(scope="module")
def api(module_daemons):
    return module_daemons.start().api


def test_same_name_in_two_groups_is_two_resources(api):
    api.ok("PUT", rid(A, "virtualNetworks", "v"), vnet("10.1"), status=201)
    api.ok("PUT", rid(B, "virtualNetworks", "v"), vnet("10.2"), status=201)
    api.ok("PUT", rid(A, "loadBalancers", "lb"), lb(A, "10.1.1.10", "10.1.1.4"), status=201)
    r = api.ok("PUT", rid(B, "loadBalancers", "lb"), lb(B, "10.2.1.10", "10.2.1.4"),
               status=201)
    assert r.json["id"] == rid(B, "loadBalancers", "lb")

    # each GET answers its own, and each list holds its own
    for sc, net in ((A, "10.1"), (B, "10.2")):
        g = api.get(rid(sc, "loadBalancers", "lb")).json
        assert g["id"] == rid(sc, "loadBalancers", "lb")
        fe = h.child(g, "frontendIPConfigurations", "fe")["properties"]
        assert fe["privateIPAddress"] == f"{net}.1.10"
        assert fe["subnet"]["id"] == rid(sc, "virtualNetworks", "v", "subnets", "s")
        lst = api.get(rid(sc, "loadBalancers")).json["value"]
        assert [x["id"] for x in lst] == [rid(sc, "loadBalancers", "lb")]
        v = api.get(rid(sc, "virtualNetworks", "v")).json
        assert v["properties"]["addressSpace"]["addressPrefixes"] == [f"{net}.0.0/16"]

    # counters and Prometheus series name the two apart
    s = stats(api)
    rules = {x["name"] for x in s["rules"]}
    assert {"rgA:lb/r", "rgB:lb/r"} <= rules, rules
    backends = {x["name"]: x["address"] for x in s["backends"]}
    assert backends["rgA:lb/p/x"] == "10.1.1.4" and backends["rgB:lb/p/x"] == "10.2.1.4"
    m = api.request("GET", "/sluice/metrics", api_version=None).text
    assert 'sluice_rule_packets_total{rule="rgA:lb/r",kind="loadBalancingRule"}' in m, m
    assert 'sluice_rule_packets_total{rule="rgB:lb/r",kind="loadBalancingRule"}' in m, m

    # a PUT of B's pool changes B's alone
    before_a = api.get(rid(A, "loadBalancers", "lb")).json
    body = api.get(rid(B, "loadBalancers", "lb", "backendAddressPools", "p")).json
    body["properties"]["loadBalancerBackendAddresses"][0]["properties"]["ipAddress"] = "10.2.1.5"
    api.ok("PUT", rid(B, "loadBalancers", "lb", "backendAddressPools", "p"), body, status=200)
    assert api.get(rid(A, "loadBalancers", "lb")).json == before_a
    assert {x["name"]: x["address"] for x in stats(api)["backends"]}["rgB:lb/p/x"] == "10.2.1.5"


def test_references_resolve_by_scope(api):
    # a NIC of group A in B's network joins B's pool "np": B's pool lists it, A's does not
    nic = h.nic_body([("ipc1", {
        "privateIPAddress": "10.2.1.20",
        "subnet": {"id": rid(B, "virtualNetworks", "v", "subnets", "s")},
        "loadBalancerBackendAddressPools": [
            {"id": rid(B, "loadBalancers", "lb", "backendAddressPools", "np")}]})])
    api.ok("PUT", rid(A, "networkInterfaces", "nic"), nic, status=201)
    ipc = rid(A, "networkInterfaces", "nic", "ipConfigurations", "ipc1")
    pb = api.get(rid(B, "loadBalancers", "lb", "backendAddressPools", "np")).json
    assert pb["properties"]["backendIPConfigurations"] == [{"id": ipc}]
    pa = api.get(rid(A, "loadBalancers", "lb", "backendAddressPools", "np")).json
    assert pa["properties"]["backendIPConfigurations"] == []
    # a NIC of the same name in group B is another NIC, in A's pool
    nic_b = h.nic_body([("ipc1", {
        "privateIPAddress": "10.1.1.20",
        "subnet": {"id": rid(A, "virtualNetworks", "v", "subnets", "s")},
        "loadBalancerBackendAddressPools": [
            {"id": rid(A, "loadBalancers", "lb", "backendAddressPools", "np")}]})])
    api.ok("PUT", rid(B, "networkInterfaces", "nic"), nic_b, status=201)
    names = {x["name"] for x in stats(api)["backends"]}
    assert {"rgA:lb/np/rgB:nic/ipc1", "rgB:lb/np/rgA:nic/ipc1"} <= names, names

    # a relative id names no scope: with two load balancers "lb" it is ambiguous
    bad = copy.deepcopy(nic)
    bad["properties"]["ipConfigurations"][0]["properties"][
        "loadBalancerBackendAddressPools"] = [{"id": "loadBalancers/lb/backendAddressPools/np"}]
    r = api.refused("PUT", rid(A, "networkInterfaces", "nic"), bad, 400,
                    "AmbiguousResourceReference")
    assert "full id" in r.error["message"], r
    # a scope that holds no such network
    bad = h.nic_body([("ipc1", {"privateIPAddress": "10.1.1.21", "subnet": {
        "id": rid(scope("rgC"), "virtualNetworks", "v", "subnets", "s")}})])
    api.refused("PUT", rid(A, "networkInterfaces", "nic2"), bad, 400, "InvalidResourceReference")


def test_delete_one_of_two(api):
    api.ok("DELETE", rid(A, "networkInterfaces", "nic"), status=200)
    api.ok("DELETE", rid(B, "networkInterfaces", "nic"), status=200)
    api.ok("DELETE", rid(B, "loadBalancers", "lb"), status=200)
    assert api.get(rid(B, "loadBalancers", "lb")).status == 404
    g = api.get(rid(A, "loadBalancers", "lb"))
    assert g.status == 200 and g.json["id"] == rid(A, "loadBalancers", "lb"), g
    # alone again, the load balancer is labelled by its name
    rules = {x["name"] for x in stats(api)["rules"]}
    assert "lb/r" in rules and not any(":" in n for n in rules), rules


def test_child_put_without_body(api):
    pool = rid(A, "loadBalancers", "lb", "backendAddressPools", "empty")
    r = api.put(pool, None)
    assert r.status == 201, r
    assert r.json["id"] == pool
    assert r.json["properties"]["provisioningState"] == "Succeeded"
    assert r.json["properties"].get("loadBalancerBackendAddresses", []) == []
    # again: the same empty pool
    assert api.put(pool, None).status == 200
    # a top-level resource needs its body
    api.refused("PUT", rid(A, "loadBalancers", "lb2"), None, 400, "InvalidRequestContent")


# The seed's exported template's load balancer (backend-pool-management.md,
# "ARM Template"), its expressions evaluated: loadBalancers_myLB_name "myLB",
# the locations "eastus", virtualNetworks_myVNET_externalid as written.
SEED_SUB, SEED_RG = "6bb4a28a-db84-4e8a-b1dc-fabf7bd9f0b2", "ErRobin4"
SEED_SCOPE = scope(SEED_RG, SEED_SUB)
SEED_LB_BODY = {
    "location": "eastus",
    "sku": {"name": "Standard"},
    "properties": {
        "frontendIPConfigurations": [{
            "name": "LoadBalancerFrontEnd",
            "properties": {
                "privateIPAddress": "10.0.0.7",
                "privateIPAllocationMethod": "Dynamic",
                "subnet": {"id": SEED_SCOPE + "/virtualNetworks/myVNET/subnets/Subnet-1"},
                "privateIPAddressVersion": "IPv4"}}],
        "backendAddressPools": [{
            "name": "myBackendPool",
            "properties": {"loadBalancerBackendAddresses": [
                {"name": "addr1", "properties": {"ipAddress": "10.0.0.4",
                                                 "virtualNetwork": {"location": "eastus"}}},
                {"name": "addr2", "properties": {"ipAddress": "10.0.0.5",
                                                 "virtualNetwork": {"location": "eastus"}}}]}}],
        "loadBalancingRules": [],
        "probes": [],
        "inboundNatRules": [],
        "outboundRules": [],
        "inboundNatPools": []}}
# The seed's VM template's network interface, evaluated in the seed's group
# (subnetRef is resourceId() there): "privateIpAddress", as written.
SEED_NIC_BODY = {
    "location": "eastus",
    "properties": {"ipConfigurations": [{
        "name": "ipconfig1",
        "properties": {
            "privateIPAllocationMethod": "Static",
            "privateIpAddress": "10.0.0.5",
            "subnet": {"id": SEED_SCOPE + "/virtualNetworks/myVNET/subnets/Subnet-1"}}}]}}


def test_seed_template_load_balancer(api):
    api.ok("PUT", SEED_SCOPE + "/virtualNetworks/myVNET",
           h.vnet_body(["10.0.0.0/16"], {"Subnet-1": "10.0.0.0/24"}), status=201)
    url = rid(scope("testrg"), "loadBalancers", "myLB")
    r = api.ok("PUT", url, SEED_LB_BODY, status=201)
    # GET shows the addresses as they were sent: no id is made up
    pool = h.child(r.json, "backendAddressPools", "myBackendPool")
    addrs = pool["properties"]["loadBalancerBackendAddresses"]
    assert [a["properties"]["virtualNetwork"] for a in addrs] == [{"location": "eastus"}] * 2
    assert r.json["properties"]["outboundRules"] == []
    backends = {x["name"]: x["address"] for x in stats(api)["backends"]}
    assert backends["myLB/myBackendPool/addr1"] == "10.0.0.4", backends
    # the template's second resource, the pool alone (a child PUT)
    child = {"properties": SEED_LB_BODY["properties"]["backendAddressPools"][0]["properties"]}
    api.ok("PUT", url + "/backendAddressPools/myBackendPool", child, status=200)
    # outboundRules and inboundNatPools are accepted empty only
    body = copy.deepcopy(SEED_LB_BODY)
    body["properties"]["outboundRules"] = [{"name": "o", "properties": {}}]
    api.refused("PUT", url, body, 400, "FeatureNotSupported")

    # the VM template's NIC: "privateIpAddress" is privateIPAddress
    r = api.ok("PUT", SEED_SCOPE + "/networkInterfaces/nic", SEED_NIC_BODY, status=201)
    props = h.child(r.json, "ipConfigurations", "ipconfig1")["properties"]
    assert props["privateIpAddress"] == "10.0.0.5"
    assert "privateIPAddress" not in props  # no dynamic address added beside it
    other = copy.deepcopy(SEED_NIC_BODY)
    api.refused("PUT", SEED_SCOPE + "/networkInterfaces/nic2", other, 400,
                "PrivateIPAddressInUse")


def test_address_network_not_determined(api):
    """No frontend names a subnet: an address without virtualNetwork.id has no network."""
    body = {"sku": {"name": "Standard"}, "properties": {
        "frontendIPConfigurations": [{"name": "fe", "properties": {
            "privateIPAddress": "10.0.0.8"}}],
        "backendAddressPools": [{"name": "p", "properties": {"loadBalancerBackendAddresses": [
            {"name": "addr1", "properties": {"ipAddress": "10.0.0.4",
                                             "virtualNetwork": {"location": "eastus"}}}]}}]}}
    r = api.refused("PUT", rid(A, "loadBalancers", "lbx"), body, 400,
                    "BackendAddressVirtualNetworkNotDetermined",
                    target="loadBalancers/lbx/backendAddressPools/p/"
                           "loadBalancerBackendAddresses/addr1")
    assert "virtualNetwork.id" in r.error["message"], r


def test_file_resource_without_id_is_in_every_scope(daemons):
    """A configuration file's resource without an id answers in every resource
    group; a PUT in one of them replaces it (no second one of its name)."""
    workdir = tempfile.mkdtemp(prefix="slapi-")
    cfg = os.path.join(workdir, "config.json")
    with open(cfg, "w") as f:
        json.dump({"virtualNetworks": [{"name": "fv", "properties": {
            "addressSpace": {"addressPrefixes": ["10.5.0.0/16"]}}}]}, f)
    api = daemons.start(config=cfg, workdir=workdir).api
    for sc in (A, B):
        g = api.get(rid(sc, "virtualNetworks", "fv"))
        assert g.status == 200 and g.json["id"] == rid(sc, "virtualNetworks", "fv"), g
    r = api.put(rid(B, "virtualNetworks", "fv"), vnet("10.5"))
    assert r.status == 200, r
    assert api.get(rid(A, "virtualNetworks", "fv")).status == 404
    assert len(api.get(rid(B, "virtualNetworks")).json["value"]) == 1
    assert re.search(r"/resourceGroups/rgB/", api.get(rid(B, "virtualNetworks", "fv")).json["id"])
