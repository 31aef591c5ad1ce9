# SPDX-License-Identifier: BSD-3-Clause
"""Every validation code of docs/error-codes.md that a request can reach, one
request each: the status, the code, the target (and the JSON path's last
key), and, after each refusal, the configuration as GET shows it and the
commit count unchanged (Api.refused).

Codes that only the configuration file reaches (ConfigFileUnreadable,
InvalidJson, InvalidMaglevTableSize through settings, an unknown top-level key)
are tested through --config and inotify at the end of this module.
Not reachable at all: InvalidArgument and InvalidPortList (a programming
error, and the port profile, which the API cannot change), SnapshotBuildFailed
and OutOfMemory (a bug and an allocation failure).
"""
import json
import os

import pytest

import apihelpers as h
from apihelpers import rid

LB = rid("loadBalancers", "lb1")
LB_T = "loadBalancers/lb1"
OTHER_RG = "/subscriptions/subid/resourceGroups/otherrg/providers/Microsoft.Network"


def lbc(kind, name):
    return rid("loadBalancers", "lb1", kind, name)


# The configuration every case starts from (and must find unchanged):
#   vnet1 10.0.0.0/16 + fd00:1::/48: sub4 10.0.0.0/24, sub6 fd00:1::/64, tiny 10.0.1.0/29
#   vnet2 10.2.0.0/16: sub4 10.2.0.0/24
#   vnet2 of resource group otherrg 10.3.0.0/16: sub4 10.3.0.0/24 (another vnet2)
#   lb1 (Standard): fe1 10.0.0.10, fe6 fd00:1::10; pool1 {a1 10.0.0.11, a2 10.0.0.12};
#       nicpool (empty, for NICs); rule r1 fe1 Tcp 80 -> pool1:8080
BASE_RULE = h.rule("r1", "lb1", "fe1", "pool1", "Tcp", 80, 8080)


@pytest.fixture(scope="module")
def api(module_daemons):
    api = module_daemons.start().api
    api.ok("PUT", rid("virtualNetworks", "vnet1"),
           h.vnet_body(["10.0.0.0/16", "fd00:1::/48"],
                       {"sub4": "10.0.0.0/24", "sub6": "fd00:1::/64", "tiny": "10.0.1.0/29"}),
           status=201)
    api.ok("PUT", rid("virtualNetworks", "vnet2"),
           h.vnet_body(["10.2.0.0/16"], {"sub4": "10.2.0.0/24"}), status=201)
    api.ok("PUT", rid("virtualNetworks", "vnet2", scope=OTHER_RG),
           h.vnet_body(["10.3.0.0/16"], {"sub4": "10.3.0.0/24"}), status=201)
    api.ok("PUT", LB, h.lb_body(
        frontends=[h.frontend("fe1", "10.0.0.10", "vnet1", "sub4"),
                   h.frontend("fe6", "fd00:1::10", "vnet1", "sub6")],
        pools=[h.pool("pool1", [h.address("a1", "10.0.0.11", "vnet1"),
                                h.address("a2", "10.0.0.12", "vnet1")]),
               h.pool("nicpool", [])],
        rules=[BASE_RULE]), status=201)
    return api


def rule_props(**kw):
    return {"properties": h.rule("x", "lb1", kw.pop("fe", "fe1"), kw.pop("pool", "pool1"),
                                 **kw)["properties"]}


def addr_pool(*addresses):
    return {"properties": {"loadBalancerBackendAddresses": list(addresses)}}


def many_addresses(n, start=0, vnet_ref="vnet1"):
    """n addresses of 10.0.x.y (from 10.0.16.0), the vnet by bare name (short bodies)."""
    out = []
    for i in range(start, start + n):
        ip = f"10.0.{16 + i // 250}.{1 + i % 250}"
        out.append({"name": f"m{i}", "properties": {"ipAddress": ip,
                                                    "virtualNetwork": {"id": vnet_ref}}})
    return out


def fe(addr, vnet="vnet1", subnet="sub4", **props):
    return {"properties": h.frontend("x", addr, vnet, subnet, **props)["properties"]}


def nic_ipc(subnet=("vnet1", "sub4"), **props):
    p = {"subnet": h.subnet_ref(*subnet)}
    p.update(props)
    return p


RULE_T = LB_T + "/loadBalancingRules/r2"
POOL_T = LB_T + "/backendAddressPools/pool2"
FE_T = LB_T + "/frontendIPConfigurations/fe2"

# (id, method, path, body, status, code, target, last key of jsonPath or None)
CASES = [
    # Reading the JSON
    ("InvalidRequestFormat", "PUT", lbc("loadBalancingRules", "r2"),
     rule_props(fport="81"), 400, "InvalidRequestFormat", RULE_T, "frontendPort"),
    ("InvalidRequestFormat-float", "PUT", lbc("loadBalancingRules", "r2"),
     rule_props(fport=81.5), 400, "InvalidRequestFormat", RULE_T, "frontendPort"),
    ("InvalidRequestFormat-bool", "PUT", lbc("loadBalancingRules", "r2"),
     rule_props(fport=81, enableFloatingIP="true"), 400, "InvalidRequestFormat", RULE_T,
     "enableFloatingIP"),
    ("InvalidRequestFormat-duplicate-key", "PUT", lbc("loadBalancingRules", "r2"),
     '{"properties": {"frontendIPConfiguration": {"id": "fe1"}, "backendAddressPool": '
     '{"id": "pool1"}, "protocol": "Tcp", "frontendPort": 81, "FrontendPort": 82}}',
     400, "InvalidRequestFormat", RULE_T, None),
    ("UnknownProperty", "PUT", rid("virtualNetworks", "vnet3"),
     h.vnet_body(["10.3.0.0/16"], {}, floatingIpDelivery={"mode": "L2", "color": "blue"}),
     400, "UnknownProperty", "virtualNetworks/vnet3", "color"),
    ("MissingRequiredProperty", "PUT", lbc("loadBalancingRules", "r2"),
     {"properties": {k: v for k, v in rule_props(fport=81)["properties"].items()
                     if k != "frontendPort"}},
     400, "MissingRequiredProperty", RULE_T, "frontendPort"),
    ("MissingRequiredProperty-addressPrefixes", "PUT", rid("virtualNetworks", "vnet3"),
     h.vnet_body([], {}), 400, "MissingRequiredProperty", "virtualNetworks/vnet3", None),
    ("InvalidPropertyValue", "PUT", lbc("loadBalancingRules", "r2"),
     rule_props(protocol="Icmp", fport=81), 400, "InvalidPropertyValue", RULE_T, "protocol"),
    ("InvalidPropertyValue-sku", "PUT", rid("loadBalancers", "lb2"),
     h.lb_body(sku="Premium"), 400, "InvalidPropertyValue", "loadBalancers/lb2", "name"),
    ("InvalidPropertyValue-DNAT", "PUT", rid("virtualNetworks", "vnet3"),
     h.vnet_body(["10.3.0.0/16"], {}, floatingIpDelivery={"mode": "DNAT"}),
     400, "InvalidPropertyValue", "virtualNetworks/vnet3", "mode"),
    ("PropertyValueOutOfRange", "PUT", lbc("loadBalancingRules", "r2"),
     rule_props(fport=65535), 400, "PropertyValueOutOfRange", RULE_T, "frontendPort"),
    ("PropertyValueOutOfRange-idle", "PUT", lbc("loadBalancingRules", "r2"),
     rule_props(fport=81, idleTimeoutInMinutes=3), 400, "PropertyValueOutOfRange", RULE_T,
     "idleTimeoutInMinutes"),
    ("PropertyValueOutOfRange-weight", "PUT", lbc("backendAddressPools", "pool2"),
     addr_pool(h.address("w", "10.0.0.40", "vnet1", weight=1001)),
     400, "PropertyValueOutOfRange", POOL_T + "/loadBalancerBackendAddresses/w", "weight"),
    ("PropertyNotAllowed", "PUT", lbc("probes", "pr1"),
     {"properties": {"protocol": "Tcp", "port": 80, "requestPath": "/"}},
     400, "PropertyNotAllowed", LB_T + "/probes/pr1", "requestPath"),
    ("PropertyNotAllowed-vni", "PUT", rid("virtualNetworks", "vnet3"),
     h.vnet_body(["10.3.0.0/16"], {}, floatingIpDelivery={"mode": "GUE", "vni": 5}),
     400, "PropertyNotAllowed", "virtualNetworks/vnet3", "vni"),

    # Names, ids and references
    ("InvalidResourceName", "PUT", rid("virtualNetworks", "bad-"),
     h.vnet_body(["10.3.0.0/16"], {}), 400, "InvalidResourceName", "virtualNetworks", "name"),
    ("InvalidResourceName-81", "PUT", rid("virtualNetworks", "v" * 81),
     h.vnet_body(["10.3.0.0/16"], {}), 400, "InvalidResourceName", "virtualNetworks", "name"),
    ("InvalidResourceName-address", "PUT", lbc("backendAddressPools", "pool2"),
     addr_pool(h.address("no space", "10.0.0.40", "vnet1")),
     400, "InvalidResourceName", POOL_T + "/loadBalancerBackendAddresses", "name"),
    ("InvalidResourceId", "PUT", lbc("backendAddressPools", "pool2"),
     addr_pool(dict(h.address("b1", "10.0.0.40", "vnet1"),
                    id=lbc("backendAddressPools", "pool2") + "/loadBalancerBackendAddresses/b9")),
     400, "InvalidResourceId", POOL_T + "/loadBalancerBackendAddresses/b1", "id"),
    ("DuplicateResourceName", "PUT", rid("loadBalancers", "lb2"),
     h.lb_body(frontends=[h.frontend("fe", "10.0.0.50", "vnet1", "sub4"),
                          h.frontend("FE", "10.0.0.51", "vnet1", "sub4")]),
     400, "DuplicateResourceName", "loadBalancers/lb2/frontendIPConfigurations/FE", "name"),
    ("DuplicateResourceName-address", "PUT", lbc("backendAddressPools", "pool2"),
     addr_pool(h.address("b1", "10.0.0.40", "vnet1"), h.address("B1", "10.0.0.41", "vnet1")),
     400, "DuplicateResourceName", POOL_T + "/loadBalancerBackendAddresses/B1", "name"),
    ("InvalidResourceReference", "PUT", lbc("loadBalancingRules", "r2"),
     rule_props(fport=81, pool="nope"), 400, "InvalidResourceReference", RULE_T, "id"),
    ("InvalidResourceReference-vnet", "PUT", lbc("backendAddressPools", "pool2"),
     addr_pool(h.address("b1", "10.0.0.40", "vnet9")),
     400, "InvalidResourceReference", POOL_T + "/loadBalancerBackendAddresses/b1", "id"),
    ("InvalidResourceReference-subnet", "PUT", lbc("frontendIPConfigurations", "fe2"),
     fe("10.0.0.20", subnet="nosuch"), 400, "InvalidResourceReference", FE_T, "id"),

    # Settings and virtual networks
    ("InvalidAddressPrefix", "PUT", rid("virtualNetworks", "vnet3"),
     h.vnet_body(["10.3.0.1/16"], {}), 400, "InvalidAddressPrefix", "virtualNetworks/vnet3",
     None),
    ("InvalidAddressPrefix-mapped", "PUT", rid("virtualNetworks", "vnet3"),
     h.vnet_body(["::ffff:10.3.0.0/112"], {}), 400, "InvalidAddressPrefix",
     "virtualNetworks/vnet3", None),
    ("NetcfgSubnetRangeOutsideVnet", "PUT", rid("virtualNetworks", "vnet1", "subnets", "sub9"),
     {"properties": {"addressPrefix": "10.9.0.0/24"}}, 400, "NetcfgSubnetRangeOutsideVnet",
     "virtualNetworks/vnet1/subnets/sub9", "addressPrefix"),

    # Load balancers and frontends
    ("FeatureNotSupported", "PUT", rid("loadBalancers", "lb2"),
     h.lb_body(frontends=[h.frontend("fe", "10.0.0.50", "vnet1", "sub4")],
               outboundRules=[{"name": "o1", "properties": {}}]),
     400, "FeatureNotSupported", "loadBalancers/lb2", "outboundRules"),
    ("LoadBalancerWithoutFrontendIPCantHaveChildResources", "PUT", rid("loadBalancers", "lb2"),
     h.lb_body(pools=[h.pool("p", [])]), 400,
     "LoadBalancerWithoutFrontendIPCantHaveChildResources", "loadBalancers/lb2", None),
    ("InvalidIPAddress", "PUT", lbc("frontendIPConfigurations", "fe2"),
     fe("10.0.0.300"), 400, "InvalidIPAddress", FE_T, "privateIPAddress"),
    ("InvalidIPAddress-broadcast", "PUT", lbc("frontendIPConfigurations", "fe2"),
     fe("255.255.255.255"), 400, "InvalidIPAddress", FE_T, "privateIPAddress"),
    ("PrivateIPAddressVersionMismatch", "PUT", lbc("frontendIPConfigurations", "fe2"),
     fe("10.0.0.20", privateIPAddressVersion="IPv6"), 400, "PrivateIPAddressVersionMismatch",
     FE_T, "privateIPAddressVersion"),
    ("PrivateIPAddressNotInSubnet", "PUT", lbc("frontendIPConfigurations", "fe2"),
     fe("10.0.1.20"), 400, "PrivateIPAddressNotInSubnet", FE_T, None),
    ("LoadBalancerFrontendsInDifferentVirtualNetworks", "PUT",
     lbc("frontendIPConfigurations", "fe2"), fe("10.2.0.20", vnet="vnet2"), 400,
     "LoadBalancerFrontendsInDifferentVirtualNetworks", FE_T, None),
    ("PrivateIPAddressInUse", "PUT", rid("loadBalancers", "lb2"),
     h.lb_body(frontends=[h.frontend("fe", "10.0.0.10", "vnet1", "sub4")]), 400,
     "PrivateIPAddressInUse", "loadBalancers/lb2/frontendIPConfigurations/fe", None),
    ("PrivateIPAddressInUse-nic", "PUT", rid("networkInterfaces", "nic9"),
     h.nic_body([("ip1", nic_ipc(privateIPAddress="10.0.0.10"))]), 400,
     "PrivateIPAddressInUse", "networkInterfaces/nic9/ipConfigurations/ip1", None),

    # Backend pools
    ("IPBasedBackendAddressPoolRequiresStandardSku", "PUT", rid("loadBalancers", "lb2"),
     h.lb_body(frontends=[h.frontend("fe", "10.0.0.50", "vnet1", "sub4")],
               pools=[h.pool("p", [h.address("b", "10.0.0.51", "vnet1")])], sku=None),
     400, "IPBasedBackendAddressPoolRequiresStandardSku", "loadBalancers/lb2/backendAddressPools/p",
     None),
    ("BackendAddressPoolSizeLimitExceeded", "PUT", lbc("backendAddressPools", "pool2"),
     addr_pool(*many_addresses(5001)), 400, "BackendAddressPoolSizeLimitExceeded", POOL_T, None),
    ("BackendAddressVirtualNetworkMismatch", "PUT", lbc("backendAddressPools", "pool2"),
     addr_pool(h.address("b1", "10.2.0.5", "vnet2")), 400,
     "BackendAddressVirtualNetworkMismatch", POOL_T + "/loadBalancerBackendAddresses/b1", None),
    ("BackendAddressNotInVirtualNetwork", "PUT", lbc("backendAddressPools", "pool2"),
     addr_pool(h.address("b1", "10.5.0.4", "vnet1")), 400,
     "BackendAddressNotInVirtualNetwork", POOL_T + "/loadBalancerBackendAddresses/b1", None),
    ("DuplicateIPAddressInBackendAddressPool", "PUT", lbc("backendAddressPools", "pool2"),
     addr_pool(h.address("b1", "10.0.0.40", "vnet1"), h.address("b2", "10.0.0.40", "vnet1")),
     400, "DuplicateIPAddressInBackendAddressPool",
     POOL_T + "/loadBalancerBackendAddresses/b2", None),
    ("LoadBalancerBackendAddressLimitExceeded", "PUT", rid("loadBalancers", "lb2"),
     h.lb_body(frontends=[h.frontend("fe", "10.0.0.50", "vnet1", "sub4")],
               pools=[{"name": f"p{k}", "properties": {
                   "loadBalancerBackendAddresses": many_addresses(5000 if k < 4 else 1,
                                                                  start=5000 * k)}}
                      for k in range(5)]),
     400, "LoadBalancerBackendAddressLimitExceeded", "loadBalancers/lb2", None),

    # Load-balancing rules
    ("InvalidHaPortsRule", "PUT", lbc("loadBalancingRules", "r2"),
     rule_props(protocol="All", fport=81), 400, "InvalidHaPortsRule", RULE_T, None),
    ("InvalidHaPortsRule-port0", "PUT", lbc("loadBalancingRules", "r2"),
     rule_props(protocol="Tcp", fport=0), 400, "InvalidHaPortsRule", RULE_T, None),
    ("FloatingIPRequiresSameFrontendAndBackendPort", "PUT", lbc("loadBalancingRules", "r2"),
     rule_props(fport=81, bport=8081, enableFloatingIP=True), 400,
     "FloatingIPRequiresSameFrontendAndBackendPort", RULE_T, "backendPort"),
    ("BackendAddressIPVersionMismatch", "PUT", lbc("loadBalancingRules", "r2"),
     rule_props(fe="fe6", fport=80), 400, "BackendAddressIPVersionMismatch", RULE_T, None),
    ("RulesUseSameFrontendIPConfigurationProtocolAndPort", "PUT",
     lbc("loadBalancingRules", "r2"), rule_props(fport=80, bport=8082), 400,
     "RulesUseSameFrontendIPConfigurationProtocolAndPort", RULE_T, None),
    ("RulesUseSameFrontendIPConfigurationProtocolAndPort-ha", "PUT",
     lbc("loadBalancingRules", "r2"), rule_props(protocol="All", fport=0, bport=0), 400,
     "RulesUseSameFrontendIPConfigurationProtocolAndPort", RULE_T, None),
    ("RulesOfSameLoadBalancerTypeUseSameBackendPortProtocolAndIPConfig", "PUT",
     lbc("loadBalancingRules", "r2"), rule_props(fport=81, bport=8080), 400,
     "RulesOfSameLoadBalancerTypeUseSameBackendPortProtocolAndIPConfig", RULE_T, None),

    # Network interfaces (the seed's NIC-based pools)
    ("CannotMixIPBasedAddressesAndIPConfigurationsOnLoadBalancerBackendAddressPool", "PUT",
     rid("networkInterfaces", "nic9"),
     h.nic_body([("ip1", nic_ipc(loadBalancerBackendAddressPools=[
         h.ref("lb1", "backendAddressPools", "pool1")]))]),
     400, "CannotMixIPBasedAddressesAndIPConfigurationsOnLoadBalancerBackendAddressPool",
     "networkInterfaces/nic9/ipConfigurations/ip1", "id"),
    ("DuplicateIpConfigurationReferenceOnBackendAddressPool", "PUT",
     rid("networkInterfaces", "nic9"),
     h.nic_body([("ip1", nic_ipc(loadBalancerBackendAddressPools=[
         h.ref("lb1", "backendAddressPools", "nicpool"),
         h.ref("lb1", "backendAddressPools", "nicpool")]))]),
     400, "InvalidRequestFormat", "networkInterfaces/nic9/ipConfigurations/ip1", "id"),
    ("NetworkInterfaceMustHaveOneOneIPConfigAsPrimary", "PUT", rid("networkInterfaces", "nic9"),
     h.nic_body([("ip1", nic_ipc()), ("ip2", nic_ipc())]),
     400, "NetworkInterfaceMustHaveOneOneIPConfigAsPrimary", "networkInterfaces/nic9", None),
    ("BackendAddressVirtualNetworkMismatch-nic", "PUT", rid("networkInterfaces", "nic9"),
     h.nic_body([("ip1", nic_ipc(subnet=("vnet2", "sub4"), loadBalancerBackendAddressPools=[
         h.ref("lb1", "backendAddressPools", "nicpool")]))]),
     400, "BackendAddressVirtualNetworkMismatch", "networkInterfaces/nic9/ipConfigurations/ip1",
     "id"),
    ("SubnetIsFull", "PUT", rid("networkInterfaces", "nic9"),
     # tiny is 10.0.1.0/29: .0-.3 and .7 reserved, .4-.6 free: the fourth finds none
     h.nic_body([("ip1", nic_ipc(subnet=("vnet1", "tiny"), primary=True)),
                 ("ip2", nic_ipc(subnet=("vnet1", "tiny"))),
                 ("ip3", nic_ipc(subnet=("vnet1", "tiny"))),
                 ("ip4", nic_ipc(subnet=("vnet1", "tiny")))]),
     400, "SubnetIsFull", "networkInterfaces/nic9/ipConfigurations/ip4", "id"),
    # a reference names its resource group: vnet1 is not in otherrg
    ("InvalidResourceReference-scope", "PUT", rid("networkInterfaces", "nic9"),
     h.nic_body([("ip1", {"subnet": {"id": rid("virtualNetworks", "vnet1", "subnets", "sub4",
                                               scope=OTHER_RG)}})]),
     400, "InvalidResourceReference", "networkInterfaces/nic9/ipConfigurations/ip1", "id"),
    # a relative id names no resource group, and testrg and otherrg both have a vnet2
    ("AmbiguousResourceReference", "PUT", rid("networkInterfaces", "nic9"),
     h.nic_body([("ip1", {"privateIPAddress": "10.2.0.9",
                          "subnet": {"id": "virtualNetworks/vnet2/subnets/sub4"}})]),
     400, "AmbiguousResourceReference", "networkInterfaces/nic9/ipConfigurations/ip1", "id"),
    # an address without virtualNetwork.id, and no frontend subnet to take the vnet from
    ("BackendAddressVirtualNetworkNotDetermined", "PUT", rid("loadBalancers", "lb9"),
     h.lb_body(frontends=[{"name": "f", "properties": {"privateIPAddress": "10.0.0.99"}}],
               pools=[h.pool("p", [{"name": "x", "properties": {
                   "ipAddress": "10.0.0.98", "virtualNetwork": {"location": "eastus"}}}])]),
     400, "BackendAddressVirtualNetworkNotDetermined",
     "loadBalancers/lb9/backendAddressPools/p/loadBalancerBackendAddresses/x", "id"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_refused(api, case):
    _, method, path, body, status, code, target, key = case
    r = api.refused(method, path, body, status, code, target)
    if key is not None:
        jp = r.error.get("jsonPath", "")
        assert jp.startswith("$") and jp.endswith("." + key), f"jsonPath {jp!r}: {r}"


def test_refused_detail_messages(api):
    """The message names the values involved; the duplicate-reference detail code is in it."""
    r = api.refused("PUT", lbc("loadBalancingRules", "r2"), rule_props(fport=65535), 400,
                    "PropertyValueOutOfRange", RULE_T)
    assert "65535" in r.error["message"]
    case = next(c for c in CASES if c[0] == "DuplicateIpConfigurationReferenceOnBackendAddressPool")
    r = api.refused(case[1], case[2], case[3], case[4], case[5], case[6])
    assert "DuplicateIpConfigurationReferenceOnBackendAddressPool" in r.error["message"]


def test_inbound_nat_rule_referenced_by_two_ipconfigurations(api):
    api.ok("PUT", lbc("inboundNatRules", "ssh"),
           {"properties": {"frontendIPConfiguration": h.ref("lb1", "frontendIPConfigurations",
                                                            "fe1"),
                           "protocol": "Tcp", "frontendPort": 2222, "backendPort": 22}},
           status=201)
    try:
        nat = [h.ref("lb1", "inboundNatRules", "ssh")]
        api.refused("PUT", rid("networkInterfaces", "nic9"),
                    h.nic_body([("ip1", nic_ipc(primary=True, loadBalancerInboundNatRules=nat)),
                                ("ip2", nic_ipc(loadBalancerInboundNatRules=nat))]),
                    400, "InboundNatRuleReferencedByMultipleIpConfigurations",
                    "networkInterfaces/nic9/ipConfigurations/ip2")
    finally:
        api.ok("DELETE", lbc("inboundNatRules", "ssh"), status=200)


def test_load_balancing_rule_limit(api):
    rules = [h.rule(f"r{i}", "lb2", "fe", "p", "Tcp", i, i) for i in range(1, 1502)]
    body = h.lb_body(frontends=[h.frontend("fe", "10.0.0.50", "vnet1", "sub4")],
                     pools=[h.pool("p", [h.address("b", "10.0.0.51", "vnet1")])], rules=rules)
    api.refused("PUT", rid("loadBalancers", "lb2"), body, 400, "LoadBalancingRuleLimitExceeded",
                "loadBalancers/lb2")


def test_accepted_at_the_limits(api):
    """The values at each limit pass, so the refusals above are the limits'."""
    r = api.ok("PUT", lbc("loadBalancingRules", "r2"),
               rule_props(fport=65534, bport=65535, idleTimeoutInMinutes=30), status=201)
    assert r.json["properties"]["frontendPort"] == 65534
    api.ok("DELETE", lbc("loadBalancingRules", "r2"), status=200)
    api.ok("PUT", lbc("backendAddressPools", "pool2"), addr_pool(*many_addresses(5000)),
           status=201)
    api.ok("DELETE", lbc("backendAddressPools", "pool2"), status=200)
    # three ipConfigurations fit in the /29
    r = api.ok("PUT", rid("networkInterfaces", "nic9"),
               h.nic_body([("ip1", nic_ipc(subnet=("vnet1", "tiny"), primary=True)),
                           ("ip2", nic_ipc(subnet=("vnet1", "tiny"))),
                           ("ip3", nic_ipc(subnet=("vnet1", "tiny")))]), status=201)
    got = sorted(c["properties"]["privateIPAddress"]
                 for c in r.json["properties"]["ipConfigurations"])
    assert got == ["10.0.1.4", "10.0.1.5", "10.0.1.6"]
    api.ok("DELETE", rid("networkInterfaces", "nic9"), status=200)


def test_counter_ids_exhausted(daemons):
    """16384 rules in all (SL_MAX_RULE_COUNTERS): eleven load balancers of 1500
    rules, the eleventh refused at compile time."""
    api = daemons.start().api
    api.ok("PUT", rid("virtualNetworks", "v"), h.vnet_body(["10.0.0.0/16"], {"s": "10.0.0.0/24"}),
           status=201)

    def lb(k):
        return h.lb_body(frontends=[h.frontend("fe", f"10.0.0.{10 + k}", "v", "s")],
                         pools=[h.pool("p", [h.address("b", f"10.0.0.{100 + k}", "v")])],
                         rules=[h.rule(f"r{i}", f"lb{k}", "fe", "p", "Tcp", i, i)
                                for i in range(1, 1501)])
    for k in range(10):
        api.ok("PUT", rid("loadBalancers", f"lb{k}"), lb(k), status=201)
    r = api.refused("PUT", rid("loadBalancers", "lb10"), lb(10), 400, "CounterIdsExhausted")
    assert "jsonPath" not in r.error or r.error["jsonPath"] == ""


# --------------------------------------------------------------------------
# Codes only the configuration file reaches
# --------------------------------------------------------------------------

GOOD_FILE = {"virtualNetworks": [{"name": "fv", "properties": {
    "addressSpace": {"addressPrefixes": ["10.8.0.0/16"]},
    "subnets": [{"name": "s", "properties": {"addressPrefix": "10.8.0.0/24"}}]}}]}


def write_atomic(path, text):
    with open(path + ".new", "w") as f:
        f.write(text)
    os.rename(path + ".new", path)


FILE_CASES = [
    ("InvalidJson", '{"virtualNetworks": [ {"name": ', "InvalidJson", None),
    ("InvalidMaglevTableSize", json.dumps(dict(GOOD_FILE, settings={"maglevTableSize": 65536})),
     "InvalidMaglevTableSize", "$.settings.maglevTableSize"),
    ("InvalidMaglevTableSize-pool", json.dumps(dict(GOOD_FILE, settings={"maglevTableSize": 7},
                                                    loadBalancers=[{
        "name": "flb", "sku": {"name": "Standard"}, "properties": {
            "frontendIPConfigurations": [{"name": "fe", "properties": {
                "privateIPAddress": "10.8.0.10", "subnet": {"id": "virtualNetworks/fv/subnets/s"}}}],
            "backendAddressPools": [{"name": "p", "properties": {
                "loadBalancerBackendAddresses": [
                    {"name": f"a{i}", "properties": {"ipAddress": f"10.8.0.{20 + i}",
                                                     "virtualNetwork": {"id": "fv"}}}
                    for i in range(8)]}}]}}])),
     "InvalidMaglevTableSize", None),
    ("UnknownProperty-top", json.dumps(dict(GOOD_FILE, publicIPAddresses=[])), "UnknownProperty",
     "$.publicIPAddresses"),
    ("UnknownProperty-settings", json.dumps(dict(GOOD_FILE, settings={"tableSize": 7})),
     "UnknownProperty", "$.settings.tableSize"),
    ("PropertyValueOutOfRange-hashSeed", json.dumps(dict(GOOD_FILE,
                                                         settings={"hashSeed": 4294967296})),
     "PropertyValueOutOfRange", "$.settings.hashSeed"),
    ("ConfigFileUnreadable", "x" * (16 * 1024 * 1024 + 1), "ConfigFileUnreadable", None),
]


@pytest.fixture(scope="module")
def file_daemon(module_daemons, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("cfg"))
    path = os.path.join(d, "config.json")
    write_atomic(path, json.dumps(GOOD_FILE))
    dm = module_daemons.start(config=path)
    dm.config_path = path
    return dm


@pytest.mark.parametrize("case", FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_file_only_codes(file_daemon, case):
    _, text, code, jpath = case
    dm, api = file_daemon, file_daemon.api
    before, commits = api.snapshot(), api.commits()
    assert h.names(before["virtualNetworks"]) == ["fv"]
    mark = len(dm.output())
    write_atomic(dm.config_path, text)
    out = dm.wait_log(code, after=mark, timeout=5)
    line = next(l for l in out[mark:].splitlines() if code in l)
    assert dm.config_path in line, line
    assert "refused" in line, line
    if jpath:
        assert jpath in line, line
    assert api.snapshot() == before
    assert api.commits() == commits
    # put the good file back (so the next case starts from it)
    mark = len(dm.output())
    write_atomic(dm.config_path, json.dumps(GOOD_FILE))
    dm.wait_log("file changed: " + dm.config_path, after=mark, timeout=5)  # applied/unchanged
