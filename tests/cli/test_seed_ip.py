# SPDX-License-Identifier: BSD-3-Clause
"""The seed's "Configuring Backend Pool by IP Address and Virtual Network" CLI
section, with `az network` replaced by `sluicectl network`: the pool created
from two --backend-address, then again from the seed's JSON configuration
file, shown, and a NIC given one of the backend addresses. The seed's lines
name no resource group: SLUICE_RESOURCE_GROUP gives it, as `az configure
--defaults group=` would."""
import json
import os

import clihelpers as h

RG = "myResourceGroup"
VNET_ID = h.arm(RG, "virtualNetworks", "myVnet")
ENV = {"SLUICE_RESOURCE_GROUP": RG}

# The seed's JSON configuration file, its placeholders filled in.
SEED_CONFIG_FILE = """
        [
          {
            "name": "address1",
            "virtualNetwork": "/subscriptions/{subscriptionId}/resourceGroups/{resource-group-name}/providers/Microsoft.Network/virtualNetworks/{vnet-name}",
            "ipAddress": "10.0.0.4"
          },
          {
            "name": "address2",
            "virtualNetwork": "/subscriptions/{subscriptionId}/resourceGroups/{resource-group-name}/providers/Microsoft.Network/virtualNetworks/{vnet-name}",
            "ipAddress": "10.0.0.5"
          }
        ]
""".replace("{subscriptionId}", h.SUB).replace("{resource-group-name}", RG) \
   .replace("{vnet-name}", "myVnet")


def addresses(pool):
    return [(a["name"], a["properties"]["ipAddress"], a["properties"]["virtualNetwork"]["id"])
            for a in pool["properties"]["loadBalancerBackendAddresses"]]


def test_seed_backend_pool_by_ip_address(cli, tmp_path):
    cli.ok("network", "vnet", "create", "-n", "myVnet", "--address-prefixes", "10.0.0.0/16",
           "--subnet-name", "mySubnet", "--subnet-prefixes", "10.0.0.0/24", env=ENV)
    cli.ok("network", "lb", "create", "-n", "myLB", "--vnet-name", "myVnet",
           "--subnet", "mySubnet", "--private-ip-address", "10.0.0.7", env=ENV)

    # Create and populate the Backend Pool via the command line parameters.
    r = cli.ok(*f"network lb address-pool create --lb-name myLB --name myBackendPool "
                f"--vnet {VNET_ID} --backend-address name=addr1 ip-address=10.0.0.4 "
                f"--backend-address name=addr2 ip-address=10.0.0.5".split(), env=ENV)
    # members: name, address, vnet, weight, kind, admin state, health (no probe: Up)
    assert h.table_rows(r.stdout) == [["addr1", "10.0.0.4", "myVnet", "1", "address", "None", "Up"],
                                      ["addr2", "10.0.0.5", "myVnet", "1", "address", "None", "Up"]]
    pool = cli.json("lb", "address-pool", "show", "--lb-name", "myLB", "-n", "myBackendPool",
                    env=ENV)
    assert addresses(pool) == [("addr1", "10.0.0.4", VNET_ID), ("addr2", "10.0.0.5", VNET_ID)]

    # Create and populate the Backend Pool via JSON configuration file (it replaces the pool).
    (tmp_path / "config_file.json").write_text(SEED_CONFIG_FILE)
    cli.ok(*f"network lb address-pool create --lb-name myLB --name myBackendPool "
            f"--vnet {VNET_ID} --backend-address-config-file @config_file.json".split(),
           env=ENV, cwd=str(tmp_path))

    # Retrieve the Backend Pool information to confirm the Backend Addresses are added.
    show = "network lb address-pool show -g MyResourceGroup --lb-name MyLb -n MyBackendPool"
    pool = cli.json(*show.split())
    assert addresses(pool) == [("address1", "10.0.0.4", VNET_ID), ("address2", "10.0.0.5", VNET_ID)]
    assert pool["properties"]["backendIPConfigurations"] == []
    assert pool["properties"]["provisioningState"] == "Succeeded"
    rows = h.table_rows(cli.ok(*show.split()).stdout)
    assert [r[:5] for r in rows] == [["address1", "10.0.0.4", "myVnet", "1", "address"],
                                     ["address2", "10.0.0.5", "myVnet", "1", "address"]]

    # Create a Network Interface with the IP Address of one of the Backend Addresses.
    cli.ok(*"network nic create --resource-group myResourceGroup --name myNic --vnet-name myVnet "
            "--subnet mySubnet --network-security-group myNetworkSecurityGroup --lb-name myLB "
            "--private-ip-address 10.0.0.4".split())
    nic = cli.json("nic", "show", "-g", RG, "-n", "myNic")
    p = nic["properties"]["ipConfigurations"][0]["properties"]
    assert p["privateIPAddress"] == "10.0.0.4"
    assert p["privateIPAllocationMethod"] == "Static"
    # The pool is still IP-based, with the same addresses.
    pool = cli.json(*show.split())
    assert addresses(pool) == [("address1", "10.0.0.4", VNET_ID), ("address2", "10.0.0.5", VNET_ID)]
    assert pool["properties"]["backendIPConfigurations"] == []

    # What sluiced persisted (its generations and journals) holds what the CLI created.
    text = ""
    for name in os.listdir(cli.daemon.state_dir):
        if name.startswith(("generation-", "journal-")) and "." not in name:
            with open(os.path.join(cli.daemon.state_dir, name)) as f:
                text += f.read()
    assert "address1" in text and "myNic" in text
    st = cli.json("status")
    assert st["stateDirectory"] == cli.daemon.state_dir
    assert st["configFile"] == ""


def test_seed_config_file_inline_and_plain_path(cli, tmp_path):
    """az reads @file; sluicectl also takes a plain path or the JSON text itself."""
    path = tmp_path / "addrs.json"
    path.write_text(json.dumps([{"name": "a9", "virtualNetwork": "myVnet", "ipAddress": "10.0.0.9"}]))
    cli.ok("lb", "address-pool", "create", "--lb-name", "myLB", "-n", "p2",
           "--backend-addresses-config-file", str(path), env=ENV)
    pool = cli.json("lb", "address-pool", "show", "--lb-name", "myLB", "-n", "p2", env=ENV)
    assert addresses(pool) == [("a9", "10.0.0.9", VNET_ID)]
    cli.ok("lb", "address-pool", "update", "--lb-name", "myLB", "-n", "p2",
           "--backend-address-config-file",
           '[{"name": "a10", "properties": {"ipAddress": "10.0.0.10", "weight": 4, '
           f'"virtualNetwork": {{"id": "{VNET_ID}"}}}}}}]', env=ENV)
    pool = cli.json("lb", "address-pool", "show", "--lb-name", "myLB", "-n", "p2", env=ENV)
    assert addresses(pool) == [("a10", "10.0.0.10", VNET_ID)]
    assert pool["properties"]["loadBalancerBackendAddresses"][0]["properties"]["weight"] == 4
