#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""make_rest_corpus.py: write the seed corpus of fuzz_rest (tests/fuzz/corpus/fuzz_rest).

One request a file, in fuzz_rest.c's format ("METHOD TARGET", header
lines, an empty line, the body), over the configuration fuzz_rest.c
commits (lb1 with fe0, pool0, nicpool, r0, probe1 in vnet1/s4; nic0 with ip1):
every endpoint of docs/api.md and docs/deployments.md (GET, PUT and
DELETE of each resource and collection, the template deployments and
their validate and whatIf, sluice's own endpoints), and requests each
refusal answers (no or a bad api-version, an encoded slash, an unknown
method, invalid JSON, a name that differs from the path's).

The seeds are checked in; run this again (python3 tests/fuzz/make_rest_corpus.py)
only to change them. Reproducers of fixed bugs live beside them and are kept.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "fuzz_rest")
SCOPE = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network"
DEPLOY = "/subscriptions/s/resourcegroups/rg/providers/Microsoft.Resources/deployments"
Q = "?api-version=2020-05-01"
VNET = SCOPE + "/virtualNetworks/vnet1"
LB = SCOPE + "/loadBalancers/lb1"


def ref(i):
    return {"id": i}


def req(method, target, body=None, headers=None):
    lines = [f"{method} {target}"]
    hdrs = {"Host": "sluice"}
    if body is not None:
        hdrs["Content-Type"] = "application/json"
    hdrs.update(headers or {})
    lines += [f"{k}: {v}" for k, v in hdrs.items()]
    text = "\r\n".join(lines) + "\r\n\r\n"
    if body is not None:
        text += body if isinstance(body, str) else json.dumps(body, indent=1)
    return text


ADDR = {"name": "a1", "properties": {"ipAddress": "10.0.0.5", "virtualNetwork": ref(VNET)}}
RULE = {"properties": {"frontendIPConfiguration": ref(LB + "/frontendIPConfigurations/fe0"),
                       "backendAddressPool": ref(LB + "/backendAddressPools/pool0"),
                       "probe": ref(LB + "/probes/probe1"),
                       "protocol": "Udp", "frontendPort": 53, "backendPort": 53,
                       "enableFloatingIP": False, "loadDistribution": "SourceIP"}}
TEMPLATE = {
    "template": {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/"
                   "deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"prefix": {"type": "string", "defaultValue": "10.1.0.0/16"}},
        "variables": {"name": "[concat('vnet', '2')]"},
        "resources": [{
            "type": "Microsoft.Network/virtualNetworks", "apiVersion": "2020-05-01",
            "name": "[variables('name')]", "location": "[resourceGroup().location]",
            "properties": {"addressSpace": {"addressPrefixes": ["[parameters('prefix')]"]},
                           "subnets": [{"name": "s", "properties":
                                        {"addressPrefix": "10.1.0.0/24"}}]}}],
        "outputs": {"id": {"type": "string",
                           "value": "[resourceId('Microsoft.Network/virtualNetworks', "
                                    "variables('name'))]"}}},
    "parameters": {"prefix": {"value": "10.1.0.0/16"}}}

SEEDS = {
    # resources: collections and items
    "get_vnets": req("GET", SCOPE + "/virtualNetworks" + Q),
    "get_vnet": req("GET", VNET + Q),
    "get_subnets": req("GET", VNET + "/subnets" + Q),
    "get_subnet": req("GET", VNET + "/subnets/s4" + Q),
    "put_vnet": req("PUT", SCOPE + "/virtualNetworks/vnet9" + Q, {
        "properties": {"addressSpace": {"addressPrefixes": ["10.9.0.0/16", "fd09::/48"]},
                       "subnets": [{"name": "a", "properties":
                                    {"addressPrefix": "10.9.1.0/24"}}]}}),
    "put_subnet": req("PUT", VNET + "/subnets/s5" + Q,
                      {"properties": {"addressPrefix": "10.0.5.0/24"}}),
    "delete_subnet_in_use": req("DELETE", VNET + "/subnets/s4" + Q),
    "delete_vnet_in_use": req("DELETE", VNET + Q),
    "get_nics": req("GET", SCOPE + "/networkInterfaces" + Q),
    "get_nic": req("GET", SCOPE + "/networkInterfaces/nic0" + Q),
    "get_ipconfigs": req("GET", SCOPE + "/networkInterfaces/nic0/ipConfigurations" + Q),
    "put_nic": req("PUT", SCOPE + "/networkInterfaces/nic1" + Q, {
        "properties": {"ipConfigurations": [{"name": "ip1", "properties": {
            "privateIPAddress": "10.0.1.7", "subnet": ref(VNET + "/subnets/s4"),
            "loadBalancerBackendAddressPools": [ref(LB + "/backendAddressPools/nicpool")]}}]}}),
    "put_ipconfig": req("PUT", SCOPE + "/networkInterfaces/nic0/ipConfigurations/ip2" + Q,
                        {"properties": {"privateIPAddress": "10.0.1.8",
                                        "subnet": ref(VNET + "/subnets/s4")}}),
    "delete_nic": req("DELETE", SCOPE + "/networkInterfaces/nic0" + Q),
    "get_lbs": req("GET", SCOPE + "/loadBalancers" + Q),
    "get_lb": req("GET", LB + Q),
    "get_frontends": req("GET", LB + "/frontendIPConfigurations" + Q),
    "get_pool": req("GET", LB + "/backendAddressPools/pool0" + Q),
    "get_rules": req("GET", LB + "/loadBalancingRules" + Q),
    "get_probe": req("GET", LB + "/probes/probe1" + Q),
    "get_natrules": req("GET", LB + "/inboundNatRules" + Q),
    "put_lb": req("PUT", SCOPE + "/loadBalancers/lb2" + Q, {
        "sku": {"name": "Standard"}, "properties": {
            "frontendIPConfigurations": [{"name": "f", "properties":
                                          {"privateIPAddress": "2001:db8::10"}}],
            "backendAddressPools": [{"name": "p", "properties": {
                "loadBalancerBackendAddresses": [
                    {"name": "b", "properties": {"ipAddress": "fd00::4",
                                                 "virtualNetwork": ref(VNET)}}]}}]}}),
    "put_frontend": req("PUT", LB + "/frontendIPConfigurations/fe1" + Q,
                        {"properties": {"privateIPAddress": "192.0.2.11"}}),
    "put_pool": req("PUT", LB + "/backendAddressPools/pool0" + Q, {
        "properties": {"loadBalancerBackendAddresses": [
            ADDR, {"name": "a0", "properties": {"ipAddress": "10.0.0.4",
                                                "virtualNetwork": ref(VNET)}}]}}),
    "put_pool_empty_body": req("PUT", LB + "/backendAddressPools/pool1" + Q,
                               headers={"Content-Length": "0"}),
    "put_rule": req("PUT", LB + "/loadBalancingRules/r1" + Q, RULE),
    "put_probe": req("PUT", LB + "/probes/probe2" + Q, {
        "properties": {"protocol": "Http", "port": 8080, "requestPath": "/health",
                       "intervalInSeconds": 5, "numberOfProbes": 2}}),
    "put_natrule": req("PUT", LB + "/inboundNatRules/ssh" + Q, {
        "properties": {"frontendIPConfiguration": ref(LB + "/frontendIPConfigurations/fe0"),
                       "protocol": "Tcp", "frontendPort": 2222, "backendPort": 22}}),
    "delete_rule": req("DELETE", LB + "/loadBalancingRules/r0" + Q),
    "delete_pool_in_use": req("DELETE", LB + "/backendAddressPools/pool0" + Q),
    "delete_lb": req("DELETE", LB + Q),
    "delete_absent": req("DELETE", LB + "/probes/nothere" + Q),
    # refusals
    "no_api_version": req("GET", LB),
    "bad_api_version": req("GET", LB + "?api-version=2020-13-01-preview"),
    "encoded_slash": req("GET", LB + "%2Fprobes/probe1" + Q),
    "percent_name": req("PUT", LB + "/backendAddressPools/p%20q" + Q + "&x=1+2",
                        {"properties": {}}),
    "method_not_allowed": req("POST", SCOPE + "/loadBalancers" + Q, "{}"),
    "invalid_json": req("PUT", LB + "/backendAddressPools/pool0" + Q,
                        '{"properties": {"loadBalancerBackendAddresses": [,]}}'),
    "name_differs": req("PUT", LB + "/probes/probe1" + Q,
                        {"name": "other", "properties": {"protocol": "Tcp", "port": 1}}),
    "unknown_type": req("GET", SCOPE + "/publicIPAddresses/x" + Q),
    # template deployments
    "deploy_put": req("PUT", DEPLOY + "/d1" + Q, {"properties": {
        "mode": "Incremental", **TEMPLATE}}),
    "deploy_get": req("GET", DEPLOY + "/d1" + Q),
    "deploy_list": req("GET", DEPLOY + Q),
    "deploy_delete": req("DELETE", DEPLOY + "/d1" + Q),
    "deploy_validate": req("POST", DEPLOY + "/d1/validate" + Q, {"properties": {
        "mode": "Incremental", **TEMPLATE}}),
    "deploy_whatif": req("POST", DEPLOY + "/d1/whatIf" + Q, {"properties": {
        "mode": "Incremental", **TEMPLATE}}),
    # sluice's own endpoints
    "sluice_status": req("GET", "/sluice/status"),
    "sluice_stats": req("GET", "/sluice/stats"),
    "sluice_metrics": req("GET", "/sluice/metrics"),
    "sluice_probes": req("GET", "/sluice/probes"),
    "sluice_neighbours": req("GET", "/sluice/neighbours"),
    "sluice_service_get": req("GET", "/sluice/service"),
    "sluice_service_put": req("PUT", "/sluice/service", {"state": "OutOfService"}),
    "sluice_service_put_bad": req("PUT", "/sluice/service", {"state": "Maybe"}),
    "sluice_unknown": req("GET", "/sluice/nothing"),
    "sluice_post": req("POST", "/sluice/status", "{}"),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, text in SEEDS.items():
        with open(os.path.join(OUT, name), "w") as f:
            f.write(text)
    print(f"{len(SEEDS)} seeds in {OUT}")


if __name__ == "__main__":
    main()
