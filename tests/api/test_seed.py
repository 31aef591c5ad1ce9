# SPDX-License-Identifier: BSD-3-Clause
"""The seed document's REST examples (backend-pool-management.md), verbatim.

The bodies below are the seed's text as written; only the placeholders
({subscription-id}, {resource-group-name}, {vnet-name}, {subnet-name},
{load-balancer-name}, {backend-pool-name}) are replaced by real names. The
seed's URLs are used with the same substitution (its typos in the GET URLs,
"{resource-group-name/providers" and the missing "/subscriptions", fixed).
One sluiced serves the whole module; the tests run in file order and build
on each other, as the seed's steps do.
"""
import re

import pytest

import apihelpers as h
from apihelpers import rid

NAMES = {
    "{subscription-id}": h.SUB,
    "{subscriptionId}": h.SUB,
    "{resource-group-name}": h.RG,
    "{vnet-name}": "myVnet",
    "{subnet-name}": "mySubnet",
    "{load-balancer-name}": "lb",
    "{backend-pool-name}": "myBackendPool",
    "{nic-name}": "myNic",
}

# "Create the Backend Pool and define the Backend Addresses via a PUT Backend Pool request"
SEED_POOL_BODY = """{
  "properties": {
    "loadBalancerBackendAddresses": [
      {
        "name": "address1",
        "properties": {
          "virtualNetwork": {
            "id": "/subscriptions/{subscription-id}/resourceGroups/{resource-group-name}/providers/Microsoft.Network/virtualNetworks/{vnet-name}"
          },
          "ipAddress": "10.0.0.4"
        }
      },
      {
        "name": "address2",
        "properties": {
          "virtualNetwork": {
            "id": "/subscriptions/{subscription-id}/resourceGroups/{resource-group-name}/providers/Microsoft.Network/virtualNetworks/{vnet-name}"
          },
          "ipAddress": "10.0.0.5"
        }
      }
    ]
  }
}"""

# "Create a Network Interface and add it to the Backend Pool you have created
# via the IP Configurations property of the Network Interface"
SEED_NIC_BODY = """{
  "properties": {
    "enableAcceleratedNetworking": true,
    "ipConfigurations": [
      {
        "name": "ipconfig1",
        "properties": {
          "subnet": {
            "id": "/subscriptions/{subscription-id}/resourceGroups/{resource-group-name}/providers/Microsoft.Network/virtualNetworks/{vnet-name}/subnets/{subnet-name}"
          },
          "loadBalancerBackendAddressPools": {
                                    "id": "/subscriptions/{subscription-id}/resourceGroups/{resource-group-name}/providers/Microsoft.Network/loadBalancers/{load-balancer-name}/backendAddressPools/{backend-pool-name}"
          }
        }
      }
    ]
  },
  "location": "eastus"
}"""

# "Create a Network Interface and add it to the Backend Pool by setting the IP
# Address to one of the Backend Addresses"
SEED_NIC_BY_IP_BODY = """{
  "properties": {
    "enableAcceleratedNetworking": true,
    "ipConfigurations": [
      {
        "name": "ipconfig1",
        "properties": {
          "privateIPAddress": "10.0.0.4",
          "subnet": {
            "id": "/subscriptions/{subscription-id}/resourceGroups/{resource-group-name}/providers/Microsoft.Network/virtualNetworks/{vnet-name}/subnets/{subnet-name}"
          }
        }
      }
    ]
  },
  "location": "eastus"
}"""

# The seed's pool URL (its example names: subid, testrg, lb, backend).
SEED_POOL_URL = ("/subscriptions/subid/resourceGroups/testrg/providers/Microsoft.Network/"
                 "loadBalancers/lb/backendAddressPools/backend")

FRONTEND_IP = "10.0.0.7"   # the seed's ARM template frontend


def fill(text, **more):
    for k, v in dict(NAMES, **more).items():
        text = text.replace(k, v)
    assert not re.search(r"\{[A-Za-z-]+\}", text), text
    return text


def url(template, **more):
    return fill(template, **more)


POOL_BY_NIC = rid("loadBalancers", "lb", "backendAddressPools", "myBackendPool")
NIC = rid("networkInterfaces", "myNic")
IPCONFIG_ID = NIC + "/ipConfigurations/ipconfig1"


@pytest.fixture(scope="module")
def api(module_daemons):
    return module_daemons.start().api


def test_vnet_and_standard_load_balancer(api):
    vnet = h.vnet_body(["10.0.0.0/16"], {"mySubnet": "10.0.0.0/24"})
    r = api.ok("PUT", rid("virtualNetworks", "myVnet"), vnet, status=201)
    assert r.json["id"] == rid("virtualNetworks", "myVnet")
    assert r.json["type"] == "Microsoft.Network/virtualNetworks"
    assert r.json["properties"]["provisioningState"] == "Succeeded"
    sn = h.child(r.json, "subnets", "mySubnet")
    assert sn["id"] == rid("virtualNetworks", "myVnet", "subnets", "mySubnet")
    assert sn["properties"]["provisioningState"] == "Succeeded"

    lb = h.lb_body(frontends=[h.frontend("LoadBalancerFrontEnd", FRONTEND_IP, "myVnet",
                                         "mySubnet", privateIPAddressVersion="IPv4")])
    r = api.ok("PUT", rid("loadBalancers", "lb"), lb, status=201)
    assert r.json["sku"] == {"name": "Standard"}
    fe = h.child(r.json, "frontendIPConfigurations", "LoadBalancerFrontEnd")
    assert fe["id"] == rid("loadBalancers", "lb", "frontendIPConfigurations",
                           "LoadBalancerFrontEnd")
    assert fe["type"] == "Microsoft.Network/loadBalancers/frontendIPConfigurations"
    assert fe["properties"]["privateIPAddress"] == FRONTEND_IP
    assert fe["properties"]["provisioningState"] == "Succeeded"


def test_seed_pool_by_ip_address_created_then_updated(api):
    body = fill(SEED_POOL_BODY)
    r1 = api.put(SEED_POOL_URL, body)
    assert r1.status == 201, r1
    r2 = api.put(SEED_POOL_URL, body)
    assert r2.status == 200, r2
    # same stored resource, same etag; the answer is what GET shows
    assert r1.json["etag"] == r2.json["etag"]
    g = api.get(SEED_POOL_URL)
    assert g.status == 200, g
    assert g.json == r2.json
    p = g.json
    assert p["name"] == "backend"
    assert p["id"] == SEED_POOL_URL
    assert p["type"] == "Microsoft.Network/loadBalancers/backendAddressPools"
    assert isinstance(p["etag"], str) and p["etag"]
    props = p["properties"]
    assert props["provisioningState"] == "Succeeded"
    addrs = {a["name"]: a["properties"] for a in props["loadBalancerBackendAddresses"]}
    assert sorted(addrs) == ["address1", "address2"]
    assert addrs["address1"]["ipAddress"] == "10.0.0.4"
    assert addrs["address2"]["ipAddress"] == "10.0.0.5"
    vnet_id = rid("virtualNetworks", "myVnet")
    assert addrs["address1"]["virtualNetwork"]["id"] == vnet_id
    assert props.get("backendIPConfigurations", []) == []
    assert props.get("loadBalancingRules", []) == []


def test_seed_pool_list(api):
    r = api.get(rid("loadBalancers", "lb", "backendAddressPools"))
    assert r.status == 200, r
    assert set(r.json) == {"value"}
    assert h.names(r.json["value"]) == ["backend"]
    assert r.json["value"][0] == api.get(SEED_POOL_URL).json
    # the load balancer shows the pool too, rendered the same way
    lb = api.get(rid("loadBalancers", "lb")).json
    assert h.child(lb, "backendAddressPools", "backend") == r.json["value"][0]


def test_seed_pool_by_nic(api):
    # "Create the Backend Pool": the seed sends no body (an empty resource)
    r = api.put(POOL_BY_NIC, None)
    assert r.status == 201, r
    r = api.put(POOL_BY_NIC, "{}")
    assert r.status == 200, r
    r = api.put(POOL_BY_NIC, {"properties": {}})
    assert r.status == 200, r
    assert r.json["properties"]["provisioningState"] == "Succeeded"
    assert r.json["properties"].get("backendIPConfigurations", []) == []

    # "Create a Network Interface and add it to the Backend Pool"
    r = api.put(url("/subscriptions/{subscription-id}/resourceGroups/{resource-group-name}/"
                    "providers/Microsoft.Network/networkInterfaces/{nic-name}"),
                fill(SEED_NIC_BODY))
    assert r.status == 201, r
    assert r.json["id"] == NIC
    assert r.json["type"] == "Microsoft.Network/networkInterfaces"
    assert r.json["location"] == "eastus"
    ipc = h.child(r.json, "ipConfigurations", "ipconfig1")
    assert ipc["id"] == IPCONFIG_ID
    # no privateIPAddress: a dynamic one, the subnet's lowest free address from .4
    # (.4 and .5 are the pool's backend addresses, .7 the frontend)
    assert ipc["properties"]["privateIPAddress"] == "10.0.0.6"
    assert ipc["properties"]["privateIPAllocationMethod"] == "Dynamic"
    assert ipc["properties"]["provisioningState"] == "Succeeded"

    # "Retrieve the Backend Pool information ... to confirm that this Network
    # Interface is added to the Backend Pool"
    g = api.get(url("/subscriptions/{subscription-id}/resourceGroups/{resource-group-name}/"
                    "providers/Microsoft.Network/loadBalancers/{load-balancer-name}/"
                    "backendAddressPools/{backend-pool-name}"))
    assert g.status == 200, g
    assert g.json["properties"]["backendIPConfigurations"] == [{"id": IPCONFIG_ID}]
    assert g.json["properties"]["provisioningState"] == "Succeeded"

    # the NIC keeps its dynamic address when PUT again without one
    r = api.put(NIC, fill(SEED_NIC_BODY))
    assert r.status == 200, r
    assert h.child(r.json, "ipConfigurations", "ipconfig1")["properties"][
        "privateIPAddress"] == "10.0.0.6"


def test_nic_membership_is_read_only_on_the_pool(api):
    g = api.get(POOL_BY_NIC).json
    other = dict(g, properties=dict(g["properties"], backendIPConfigurations=[
        {"id": rid("networkInterfaces", "otherNic", "ipConfigurations", "ipconfig1")}]))
    api.refused("PUT", POOL_BY_NIC, other, 400,
                "BackendAddressPoolMembershipIsSetOnNetworkInterface", target=POOL_BY_NIC)
    empty = dict(g, properties=dict(g["properties"], backendIPConfigurations=[]))
    api.refused("PUT", POOL_BY_NIC, empty, 400,
                "BackendAddressPoolMembershipIsSetOnNetworkInterface", target=POOL_BY_NIC)
    # the same through the load balancer
    lb = api.get(rid("loadBalancers", "lb")).json
    h.child(lb, "backendAddressPools", "myBackendPool")["properties"][
        "backendIPConfigurations"] = []
    api.refused("PUT", rid("loadBalancers", "lb"), lb, 400,
                "BackendAddressPoolMembershipIsSetOnNetworkInterface")

    # the GET body sent back unchanged is accepted (and, changing nothing, commits nothing)
    commits = api.commits()
    r = api.put(POOL_BY_NIC, g)
    assert r.status == 200, r
    assert r.json == g
    assert api.commits() == commits
    lb = api.get(rid("loadBalancers", "lb")).json
    r = api.put(rid("loadBalancers", "lb"), lb)
    assert r.status == 200, r
    assert r.json == lb


def test_nic_based_pool_cannot_take_ip_addresses(api):
    g = api.get(POOL_BY_NIC).json
    body = dict(g, properties=dict(g["properties"], loadBalancerBackendAddresses=[
        h.address("address9", "10.0.0.9", "myVnet")]))
    api.refused("PUT", POOL_BY_NIC, body, 400,
                "CannotMixIPBasedAddressesAndIPConfigurationsOnLoadBalancerBackendAddressPool",
                target="networkInterfaces/myNic/ipConfigurations/ipconfig1")


def test_seed_second_nic_with_private_ip(api):
    before_pool = api.get(SEED_POOL_URL).json
    r = api.put(rid("networkInterfaces", "myNic2"), fill(SEED_NIC_BY_IP_BODY))
    assert r.status == 201, r
    ipc = h.child(r.json, "ipConfigurations", "ipconfig1")
    assert ipc["properties"]["privateIPAddress"] == "10.0.0.4"
    assert ipc["properties"].get("privateIPAllocationMethod", "Static") != "Dynamic"
    assert ipc["properties"]["provisioningState"] == "Succeeded"
    # it joins no pool: the pools are as they were
    assert api.get(SEED_POOL_URL).json == before_pool
    assert api.get(POOL_BY_NIC).json["properties"]["backendIPConfigurations"] == [
        {"id": IPCONFIG_ID}]
    lst = api.get(rid("networkInterfaces"))
    assert lst.status == 200, lst
    assert sorted(h.names(lst.json["value"])) == ["myNic", "myNic2"]


def test_nic_based_pool_is_in_use_until_the_nic_leaves(api):
    """A pool that a NIC lists cannot be deleted (nor its load balancer); the
    membership ends on the NIC, then the pool goes."""
    r = api.refused("DELETE", POOL_BY_NIC, None, 400, "InUseResourceCannotBeDeleted",
                    target=POOL_BY_NIC)
    d = r.error["details"][0]
    assert d["code"] == "InvalidResourceReference", r
    assert d["target"] == "networkInterfaces/myNic/ipConfigurations/ipconfig1", r
    api.refused("DELETE", rid("loadBalancers", "lb"), None, 400, "InUseResourceCannotBeDeleted",
                target=rid("loadBalancers", "lb"))
    # the NIC leaves the pool (its body without loadBalancerBackendAddressPools)
    nic = api.get(NIC).json
    del nic["properties"]["ipConfigurations"][0]["properties"]["loadBalancerBackendAddressPools"]
    r = api.put(NIC, nic)
    assert r.status == 200, r
    assert h.child(r.json, "ipConfigurations", "ipconfig1")["properties"][
        "privateIPAddress"] == "10.0.0.6"
    assert api.get(POOL_BY_NIC).json["properties"]["backendIPConfigurations"] == []
    r = api.delete(POOL_BY_NIC)
    assert r.status == 200, r
    assert api.get(POOL_BY_NIC).status == 404
