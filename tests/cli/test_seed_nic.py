# SPDX-License-Identifier: BSD-3-Clause
"""The seed's "Configuring Backend Pool by NIC" CLI section, with `az network`
replaced by `sluicectl network`, word for word (--resourceGroup, the
--network-security-group that sluice ignores, the pool spelled myBackEndPool
and shown as MyBackendPool of MyLb in MyResourceGroup: names are
case-insensitive). The vnet and the load balancer the section presupposes
come first, shaped as the seed's ARM template."""
import clihelpers as h

RG = "myResourceGroup"


def test_seed_backend_pool_by_nic(cli):
    cli.ok("network", "vnet", "create", "-g", RG, "-n", "myVnet", "--address-prefixes",
           "10.0.0.0/16", "--subnet-name", "mySubnet", "--subnet-prefixes", "10.0.0.0/24")
    cli.ok("network", "lb", "create", "-g", RG, "-n", "myLB", "--sku", "Standard",
           "--vnet-name", "myVnet", "--subnet", "mySubnet", "--private-ip-address", "10.0.0.7")

    # Create the Backend Pool.
    r = cli.ok(*"network lb address-pool create --resourceGroup myResourceGroup "
                "--lb-name myLB --name myBackendPool".split())
    assert "has no members" in r.stdout

    # Create a new Network Interface and add it to the Backend Pool.
    r = cli.ok(*"network nic create --resource-group myResourceGroup --name myNic "
                "--vnet-name myVnet --subnet mySubnet --network-security-group "
                "myNetworkSecurityGroup --lb-name myLB --lb-address-pools myBackEndPool".split())
    assert "network-security-group is ignored" in r.stderr

    nic = cli.json("network", "nic", "show", "-g", RG, "-n", "myNic")
    ipc = nic["properties"]["ipConfigurations"][0]
    assert ipc["name"] == "ipconfig1"
    assert ipc["id"] == h.arm(RG, "networkInterfaces", "myNic", "ipConfigurations", "ipconfig1")
    p = ipc["properties"]
    assert p["subnet"]["id"] == h.arm(RG, "virtualNetworks", "myVnet", "subnets", "mySubnet")
    assert [x["id"] for x in p["loadBalancerBackendAddressPools"]] == [
        h.arm(RG, "loadBalancers", "myLB", "backendAddressPools", "myBackEndPool")]
    assert p["primary"] is True
    # No address given: the subnet's lowest free one (.0-.3 reserved, .7 is the frontend).
    assert p["privateIPAllocationMethod"] == "Dynamic"
    assert p["privateIPAddress"] == "10.0.0.4"

    # Retrieve the Backend Pool to confirm the IP address has been added.
    show = "network lb address-pool show -g MyResourceGroup --lb-name MyLb -n MyBackendPool"
    pool = cli.json(*show.split())
    assert pool["name"] == "myBackendPool"
    assert pool["id"] == h.arm(RG, "loadBalancers", "myLB", "backendAddressPools", "myBackendPool")
    assert pool["properties"]["backendIPConfigurations"] == [{"id": ipc["id"]}]
    assert pool["properties"].get("loadBalancerBackendAddresses", []) == []
    rows = h.table_rows(cli.ok(*show.split()).stdout)
    assert rows == [["myNic/ipconfig1", "10.0.0.4", "myVnet", "1", "nic", "None"]]

    # The NIC's ipConfiguration reaches the dataplane once a rule uses the pool.
    cli.ok("lb", "rule", "create", "-g", RG, "--lb-name", "myLB", "-n", "http",
           "--protocol", "Tcp", "--frontend-port", "80", "--backend-port", "80")
    rule = cli.json("lb", "rule", "show", "-g", RG, "--lb-name", "myLB", "-n", "http")
    assert rule["properties"]["backendAddressPool"]["id"].endswith("/backendAddressPools/myBackendPool")
    stats = cli.json("stats")
    assert [r["name"] for r in stats["rules"]] == ["myLB/http"]
    assert [(b["name"], b["address"]) for b in stats["backends"]] == [
        ("myLB/myBackendPool/myNic/ipconfig1", "10.0.0.4")]
    pool = cli.json(*show.split())
    assert pool["properties"]["loadBalancingRules"] == [
        {"id": h.arm(RG, "loadBalancers", "myLB", "loadBalancingRules", "http")}]

    # Membership by NIC is changed on the NIC: leave the pool, and it is empty again.
    cli.ok("nic", "ip-config", "address-pool", "remove", "-g", RG, "--nic-name", "myNic",
           "--ip-config-name", "ipconfig1", "--lb-name", "myLB", "--address-pool", "myBackendPool")
    pool = cli.json(*show.split())
    assert pool["properties"]["backendIPConfigurations"] == []
    cli.ok("nic", "ip-config", "address-pool", "add", "-g", RG, "--nic-name", "myNic",
           "--ip-config-name", "ipconfig1", "--lb-name", "myLB", "--address-pool", "myBackendPool")
    pool = cli.json(*show.split())
    assert pool["properties"]["backendIPConfigurations"] == [{"id": ipc["id"]}]
