# SPDX-License-Identifier: BSD-3-Clause
"""`sluicectl vnet` (and vnet subnet) and `sluicectl nic` (and nic ip-config,
nic ip-config address-pool), each change checked through the API (-o json)."""
import clihelpers as h

RG = "rgNet"


def test_vnet_and_subnets(cli):
    g = ["-g", RG]
    cli.ok("vnet", "create", *g, "-n", "v1", "--address-prefixes", "10.5.0.0/16", "fd05::/48",
           "--subnet-name", "s1", "--subnet-prefixes", "10.5.1.0/24")
    v = cli.json("vnet", "show", *g, "-n", "v1")
    assert v["id"] == h.arm(RG, "virtualNetworks", "v1")
    assert v["type"] == "Microsoft.Network/virtualNetworks"
    assert v["properties"]["addressSpace"]["addressPrefixes"] == ["10.5.0.0/16", "fd05::/48"]
    assert [(s["name"], s["properties"]["addressPrefix"]) for s in v["properties"]["subnets"]] == \
        [("s1", "10.5.1.0/24")]
    assert "floatingIpDelivery" not in v["properties"]

    # sluice extension: Floating IP delivery.
    cli.ok("vnet", "create", *g, "-n", "vx", "--address-prefixes", "10.6.0.0/16",
           "--floating-ip-delivery", "vxlan", "--vni", "4242", "--udp-port", "4790")
    v = cli.json("vnet", "show", *g, "-n", "vx")
    assert v["properties"]["floatingIpDelivery"] == {"mode": "VXLAN", "vni": 4242, "udpPort": 4790}
    cli.ok("vnet", "update", *g, "-n", "vx", "--floating-ip-delivery", "GUE")
    v = cli.json("vnet", "show", *g, "-n", "vx")
    assert v["properties"]["floatingIpDelivery"] == {"mode": "GUE"}
    cli.ok("vnet", "update", *g, "-n", "vx", "--udp-port", "6081",
           "--address-prefixes", "10.6.0.0/16", "10.7.0.0/16")
    v = cli.json("vnet", "show", *g, "-n", "vx")
    assert v["properties"]["floatingIpDelivery"] == {"mode": "GUE", "udpPort": 6081}
    assert v["properties"]["addressSpace"]["addressPrefixes"] == ["10.6.0.0/16", "10.7.0.0/16"]
    rows = h.table_rows(cli.ok("vnet", "show", *g, "-n", "vx").stdout)
    assert rows[0][0] == "vx" and "GUE (udpPort=6081)" in rows[0]

    # Subnets: PUT and DELETE of the child; update keeps the vnet's other subnets.
    cli.ok("vnet", "subnet", "create", *g, "--vnet-name", "v1", "-n", "s2",
           "--address-prefixes", "10.5.2.0/24")
    cli.ok("vnet", "subnet", "create", *g, "--vnet-name", "v1", "-n", "s6",
           "--address-prefix", "fd05:0:0:6::/64")
    s = cli.json("vnet", "subnet", "show", *g, "--vnet-name", "v1", "-n", "s2")
    assert s["id"] == h.arm(RG, "virtualNetworks", "v1", "subnets", "s2")
    assert s["properties"]["addressPrefix"] == "10.5.2.0/24"
    cli.ok("vnet", "subnet", "update", *g, "--vnet-name", "v1", "-n", "s2",
           "--address-prefixes", "10.5.4.0/23")
    listed = cli.json("vnet", "subnet", "list", *g, "--vnet-name", "v1")["value"]
    assert [(x["name"], x["properties"]["addressPrefix"]) for x in listed] == [
        ("s1", "10.5.1.0/24"), ("s2", "10.5.4.0/23"), ("s6", "fd05:0:0:6::/64")]
    cli.ok("vnet", "subnet", "delete", *g, "--vnet-name", "v1", "-n", "s6")
    rows = h.table_rows(cli.ok("vnet", "subnet", "list", *g, "--vnet-name", "v1").stdout)
    assert rows == [["s1", "10.5.1.0/24", "Succeeded"], ["s2", "10.5.4.0/23", "Succeeded"]]
    # A subnet outside the vnet: refused by sluiced's validation.
    cli.fail("vnet", "subnet", "create", *g, "--vnet-name", "v1", "-n", "bad",
             "--address-prefixes", "10.99.0.0/24", code="NetcfgSubnetRangeOutsideVnet")

    assert [x["name"] for x in cli.json("vnet", "list", *g)["value"]] == ["v1", "vx"]
    cli.ok("vnet", "delete", *g, "-n", "vx")
    assert [x["name"] for x in cli.json("vnet", "list", *g)["value"]] == ["v1"]


def test_nic_and_ip_configs(cli):
    g = ["-g", RG]
    cli.ok("vnet", "create", *g, "-n", "nv", "--address-prefixes", "10.8.0.0/16",
           "--subnet-name", "sn", "--subnet-prefixes", "10.8.0.0/24")
    cli.ok("lb", "create", *g, "-n", "nlb", "--private-ip-address", "10.8.0.100",
           "--vnet-name", "nv", "--subnet", "sn")
    for pool in ("pa", "pb"):
        cli.ok("lb", "address-pool", "create", *g, "--lb-name", "nlb", "-n", pool)
    cli.ok("lb", "inbound-nat-rule", "create", *g, "--lb-name", "nlb", "-n", "ssh",
           "--protocol", "Tcp", "--frontend-port", "2222", "--backend-port", "22")
    pool_id = h.arm(RG, "loadBalancers", "nlb", "backendAddressPools", "pb")

    cli.ok("nic", "create", *g, "-n", "nic1", "--vnet-name", "nv", "--subnet", "sn",
           "--private-ip-address", "10.8.0.10", "--mac-address", "02:00:00:00:08:01",
           "--lb-name", "nlb", "--lb-address-pools", "pa", pool_id,
           "--lb-inbound-nat-rules", "ssh", "--ip-config-name", "primary")
    nic = cli.json("nic", "show", *g, "-n", "nic1")
    assert nic["id"] == h.arm(RG, "networkInterfaces", "nic1")
    assert nic["properties"]["macAddress"] == "02:00:00:00:08:01"
    ipc = nic["properties"]["ipConfigurations"][0]
    assert ipc["name"] == "primary"
    p = ipc["properties"]
    assert (p["privateIPAddress"], p["privateIPAllocationMethod"], p["primary"]) == \
        ("10.8.0.10", "Static", True)
    assert [x["id"] for x in p["loadBalancerBackendAddressPools"]] == [
        h.arm(RG, "loadBalancers", "nlb", "backendAddressPools", "pa"), pool_id]
    assert [x["id"] for x in p["loadBalancerInboundNatRules"]] == [
        h.arm(RG, "loadBalancers", "nlb", "inboundNatRules", "ssh")]
    for pool in ("pa", "pb"):
        bic = cli.json("lb", "address-pool", "show", *g, "--lb-name", "nlb", "-n", pool)
        assert bic["properties"]["backendIPConfigurations"] == [{"id": ipc["id"]}]

    # ip-config create: PUT of the child; no --subnet: the primary's.
    cli.ok("nic", "ip-config", "create", *g, "--nic-name", "nic1", "-n", "second",
           "--lb-name", "nlb", "--lb-address-pools", "pa")
    sec = cli.json("nic", "ip-config", "show", *g, "--nic-name", "nic1", "-n", "second")
    assert sec["id"] == h.arm(RG, "networkInterfaces", "nic1", "ipConfigurations", "second")
    sp = sec["properties"]
    assert sp["subnet"]["id"] == h.arm(RG, "virtualNetworks", "nv", "subnets", "sn")
    assert sp["privateIPAllocationMethod"] == "Dynamic" and sp["privateIPAddress"] == "10.8.0.4"
    pa = cli.json("lb", "address-pool", "show", *g, "--lb-name", "nlb", "-n", "pa")
    assert sorted(x["id"].rsplit("/", 1)[1] for x in pa["properties"]["backendIPConfigurations"]) \
        == ["primary", "second"]

    # ip-config update: GET the NIC, modify, PUT the NIC.
    cli.ok("nic", "ip-config", "update", *g, "--nic-name", "nic1", "-n", "second",
           "--private-ip-address", "10.8.0.20", "--lb-name", "nlb", "--lb-address-pools", "pb",
           "--make-primary")
    nic = cli.json("nic", "show", *g, "-n", "nic1")
    by = {x["name"]: x["properties"] for x in nic["properties"]["ipConfigurations"]}
    assert (by["second"]["privateIPAddress"], by["second"]["privateIPAllocationMethod"]) == \
        ("10.8.0.20", "Static")
    assert (by["second"]["primary"], by["primary"]["primary"]) == (True, False)
    assert [x["id"].rsplit("/", 1)[1] for x in by["second"]["loadBalancerBackendAddressPools"]] \
        == ["pb"]
    # No pools given: the ipConfiguration leaves every pool.
    cli.ok("nic", "ip-config", "update", *g, "--nic-name", "nic1", "-n", "primary",
           "--lb-address-pools")
    pa = cli.json("lb", "address-pool", "show", *g, "--lb-name", "nlb", "-n", "pa")
    assert pa["properties"]["backendIPConfigurations"] == []
    # ip-config address-pool add / remove.
    cli.ok("nic", "ip-config", "address-pool", "add", *g, "--nic-name", "nic1",
           "--ip-config-name", "primary", "--lb-name", "nlb", "--address-pool", "pa")
    cli.ok("nic", "ip-config", "address-pool", "remove", *g, "--nic-name", "nic1",
           "--ip-config-name", "second", "--address-pool", pool_id)
    pa = cli.json("lb", "address-pool", "show", *g, "--lb-name", "nlb", "-n", "pa")
    pb = cli.json("lb", "address-pool", "show", *g, "--lb-name", "nlb", "-n", "pb")
    assert [x["id"].rsplit("/", 1)[1] for x in pa["properties"]["backendIPConfigurations"]] == \
        ["primary"]
    assert pb["properties"]["backendIPConfigurations"] == []
    rows = h.tsv_rows(cli.ok("nic", "ip-config", "list", *g, "--nic-name", "nic1",
                             "-o", "tsv").stdout)
    assert [r[:5] for r in rows] == [["primary", "10.8.0.10", "Static", "nv/sn", "false"],
                                     ["second", "10.8.0.20", "Static", "nv/sn", "true"]]
    # The pool's table shows the member with its NIC's address.
    rows = h.table_rows(cli.ok("lb", "address-pool", "show", *g, "--lb-name", "nlb",
                               "-n", "pa").stdout)
    assert rows == [["nic1/primary", "10.8.0.10", "nv", "1", "nic", "None"]]

    cli.ok("nic", "ip-config", "delete", *g, "--nic-name", "nic1", "-n", "second")
    listed = cli.json("nic", "ip-config", "list", *g, "--nic-name", "nic1")["value"]
    assert [x["name"] for x in listed] == ["primary"]

    # nic update, list, delete.
    cli.ok("nic", "update", *g, "-n", "nic1", "--mac-address", "02:00:00:00:08:02")
    assert cli.json("nic", "show", *g, "-n", "nic1")["properties"]["macAddress"] == \
        "02:00:00:00:08:02"
    cli.ok("nic", "create", *g, "-n", "nic2", "--vnet-name", "nv", "--subnet",
           h.arm(RG, "virtualNetworks", "nv", "subnets", "sn"))
    rows = h.tsv_rows(cli.ok("nic", "list", *g, "-o", "tsv").stdout)
    assert [r[:4] for r in rows] == [["nic1", "02:00:00:00:08:02", "10.8.0.10", "nv/sn"],
                                     ["nic2", "", "10.8.0.4", "nv/sn"]]
    cli.ok("nic", "delete", *g, "-n", "nic2")
    assert [x["name"] for x in cli.json("nic", "list", *g)["value"]] == ["nic1"]
