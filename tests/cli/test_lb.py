# SPDX-License-Identifier: BSD-3-Clause
"""Every `sluicectl lb` command group: lb, frontend-ip, address-pool (and its
address subgroup), rule, probe, inbound-nat-rule; plus status and stats. Each
change is checked through the API afterwards (-o json)."""
import time

import pytest

import clihelpers as h

RG = "rgLb"
VNET = h.arm(RG, "virtualNetworks", "vnet1")


def lbj(cli, *args):
    return cli.json("lb", *args)


@pytest.fixture(scope="module")
def lb(cli):
    cli.ok("vnet", "create", "-g", RG, "-n", "vnet1", "--address-prefixes", "10.1.0.0/16",
           "fd01::/48", "--subnet-name", "fe", "--subnet-prefixes", "10.1.255.0/24")
    r = cli.ok("lb", "create", "-g", RG, "-n", "lb1", "--private-ip-address", "10.1.255.10",
               "--vnet-name", "vnet1", "--subnet", "fe", "--backend-pool-name", "pool0")
    assert h.table_rows(r.stdout) == [["lb1", "Standard", "10.1.255.10", "pool0", "0", "0", "0",
                                       "Succeeded"]]
    return "lb1"


def test_lb_create_show_list_update_delete(cli, lb):
    got = lbj(cli, "show", "-g", RG, "-n", lb)
    assert got["name"] == "lb1"
    assert got["id"] == h.arm(RG, "loadBalancers", "lb1")
    assert got["type"] == "Microsoft.Network/loadBalancers"
    assert got["sku"] == {"name": "Standard"}
    fe = got["properties"]["frontendIPConfigurations"]
    assert [f["name"] for f in fe] == ["LoadBalancerFrontEnd"]
    assert fe[0]["properties"]["privateIPAddress"] == "10.1.255.10"
    assert fe[0]["properties"]["subnet"]["id"] == VNET + "/subnets/fe"
    assert [p["name"] for p in got["properties"]["backendAddressPools"]] == ["pool0"]

    # Global options after the command words, as az takes them.
    cli.ok("lb", "create", "-n", "lbTmp", "--sku", "basic", "-g", RG, "--frontend-ip-name", "f",
           "--private-ip-address", "10.1.255.99", "--private-ip-address-version", "ipv4")
    names = [x["name"] for x in lbj(cli, "list", "-g", RG)["value"]]
    assert names == ["lb1", "lbTmp"]
    rows = h.table_rows(cli.ok("lb", "list", "-g", RG).stdout)
    assert [r[0] for r in rows] == ["lb1", "lbTmp"] and rows[1][1] == "Basic"
    tsv = cli.ok("lb", "list", "-g", RG, "-o", "tsv").stdout.splitlines()
    assert [ln.split("\t")[0] for ln in tsv] == ["lb1", "lbTmp"]
    # Another resource group sees none of them.
    assert lbj(cli, "list", "-g", "otherRg")["value"] == []

    cli.ok("lb", "update", "-g", RG, "-n", "lbTmp", "--sku", "Standard", "--set", "tags.env=test")
    got = lbj(cli, "show", "-g", RG, "-n", "lbTmp")
    assert got["sku"]["name"] == "Standard"
    assert got["tags"] == {"env": "test"}
    assert got["properties"]["frontendIPConfigurations"][0]["properties"]["privateIPAddress"] == \
        "10.1.255.99"

    r = cli.ok("lb", "delete", "-g", RG, "-n", "lbTmp")
    assert r.stdout == ""
    assert [x["name"] for x in lbj(cli, "list", "-g", RG)["value"]] == ["lb1"]
    cli.fail("lb", "show", "-g", RG, "-n", "lbTmp", code="ResourceNotFound")
    cli.ok("lb", "delete", "-g", RG, "-n", "lbTmp")  # nothing to delete: 204, success


def test_frontend_ip(cli, lb):
    cli.ok("lb", "frontend-ip", "create", "-g", RG, "--lb-name", lb, "-n", "fe2",
           "--private-ip-address", "10.1.255.11", "--vnet-name", "vnet1", "--subnet", "fe")
    cli.ok("lb", "frontend-ip", "create", "-g", RG, "--lb-name", lb, "-n", "fe6",
           "--private-ip-address", "fd01::ff:6", "--private-ip-address-version", "IPv6")
    fe = lbj(cli, "frontend-ip", "show", "-g", RG, "--lb-name", lb, "-n", "fe2")
    assert fe["id"] == h.arm(RG, "loadBalancers", lb, "frontendIPConfigurations", "fe2")
    assert fe["properties"]["privateIPAddress"] == "10.1.255.11"
    assert fe["properties"]["subnet"]["id"] == VNET + "/subnets/fe"
    cli.ok("lb", "frontend-ip", "update", "-g", RG, "--lb-name", lb, "-n", "fe2",
           "--private-ip-address", "10.1.255.12")
    fe = lbj(cli, "frontend-ip", "show", "-g", RG, "--lb-name", lb, "-n", "fe2")
    assert fe["properties"]["privateIPAddress"] == "10.1.255.12"
    assert fe["properties"]["subnet"]["id"] == VNET + "/subnets/fe"
    listed = lbj(cli, "frontend-ip", "list", "-g", RG, "--lb-name", lb)["value"]
    assert [(f["name"], f["properties"]["privateIPAddress"]) for f in listed] == [
        ("LoadBalancerFrontEnd", "10.1.255.10"), ("fe2", "10.1.255.12"), ("fe6", "fd01::ff:6")]
    rows = h.table_rows(cli.ok("lb", "frontend-ip", "list", "-g", RG, "--lb-name", lb).stdout)
    assert rows[2][:3] == ["fe6", "fd01::ff:6", "IPv6"]
    cli.ok("lb", "frontend-ip", "delete", "-g", RG, "--lb-name", lb, "-n", "fe6")
    listed = lbj(cli, "frontend-ip", "list", "-g", RG, "--lb-name", lb)["value"]
    assert [f["name"] for f in listed] == ["LoadBalancerFrontEnd", "fe2"]


def pool_addrs(pool):
    return [(a["name"], a["properties"]["ipAddress"], a["properties"].get("weight", 1))
            for a in pool["properties"].get("loadBalancerBackendAddresses", [])]


def test_address_pool_and_addresses(cli, lb):
    pa = ["-g", RG, "--lb-name", lb]
    cli.ok("lb", "address-pool", "create", *pa, "-n", "web", "--vnet", "vnet1",
           "--backend-address", "name=w1", "ip-address=10.1.1.1",
           "--backend-address", "name=w2", "ip-address=10.1.1.2", "weight=3",
           "--backend-address", "name=w3", "ip-address=10.1.1.3", f"vnet={VNET}",
           "subnet=fe", "admin-state=up")
    pool = lbj(cli, "address-pool", "show", *pa, "-n", "web")
    assert pool_addrs(pool) == [("w1", "10.1.1.1", 1), ("w2", "10.1.1.2", 3),
                                ("w3", "10.1.1.3", 1)]
    w3 = pool["properties"]["loadBalancerBackendAddresses"][2]["properties"]
    assert w3["virtualNetwork"]["id"] == VNET
    assert w3["subnet"]["id"] == VNET + "/subnets/fe"
    assert w3["adminState"] == "Up"
    # An address given only a subnet id takes its vnet from it.
    cli.ok("lb", "address-pool", "address", "add", *pa, "--pool-name", "web", "-n", "w4",
           "--ip-address", "10.1.1.4", "--subnet", VNET + "/subnets/fe")
    addr = lbj(cli, "address-pool", "address", "show", *pa, "--pool-name", "web", "-n", "w4")
    assert addr["properties"]["virtualNetwork"]["id"] == VNET

    listed = lbj(cli, "address-pool", "list", *pa)["value"]
    assert [p["name"] for p in listed] == ["pool0", "web"]
    rows = h.table_rows(cli.ok("lb", "address-pool", "list", *pa).stdout)
    assert [r[:2] for r in rows] == [["pool0", "0"], ["web", "4"]]

    # address add: no --vnet, so the vnet the pool's addresses share; same name replaces.
    cli.ok("lb", "address-pool", "address", "add", *pa, "--pool-name", "web", "-n", "w5",
           "--ip-address", "10.1.1.5", "--weight", "7")
    cli.ok("lb", "address-pool", "address", "add", *pa, "--pool-name", "web", "-n", "W1",
           "--ip-address", "10.1.1.11", "--vnet", "vnet1")
    pool = lbj(cli, "address-pool", "show", *pa, "-n", "web")
    assert pool_addrs(pool) == [("W1", "10.1.1.11", 1), ("w2", "10.1.1.2", 3),
                                ("w3", "10.1.1.3", 1), ("w4", "10.1.1.4", 1),
                                ("w5", "10.1.1.5", 7)]
    assert pool["properties"]["loadBalancerBackendAddresses"][4]["properties"]["virtualNetwork"] \
        == {"id": VNET}
    cli.ok("lb", "address-pool", "address", "remove", *pa, "--pool-name", "web", "-n", "w3")
    cli.ok("lb", "address-pool", "address", "remove", *pa, "--pool-name", "web", "-n", "nope")
    listed = lbj(cli, "address-pool", "address", "list", *pa, "--pool-name", "web")
    assert [a["name"] for a in listed] == ["W1", "w2", "w4", "w5"]
    rows = h.tsv_rows(cli.ok("lb", "address-pool", "address", "list", *pa,
                             "--pool-name", "web", "-o", "tsv").stdout)
    assert rows[1] == ["w2", "10.1.1.2", "vnet1", "", "3", ""]
    cli.fail("lb", "address-pool", "address", "show", *pa, "--pool-name", "web", "-n", "w3",
             code="ResourceNotFound")

    # update replaces the list; --set edits any property.
    cli.ok("lb", "address-pool", "update", *pa, "-n", "web", "--vnet", "vnet1",
           "--backend-address", "name=n1", "ip-address=10.1.2.1",
           "--backend-address", "name=n2", "ip-address=10.1.2.2")
    assert pool_addrs(lbj(cli, "address-pool", "show", *pa, "-n", "web")) == [
        ("n1", "10.1.2.1", 1), ("n2", "10.1.2.2", 1)]
    cli.ok("lb", "address-pool", "update", *pa, "-n", "web",
           "--set", "loadBalancerBackendAddresses[1].properties.weight=9")
    assert pool_addrs(lbj(cli, "address-pool", "show", *pa, "-n", "web")) == [
        ("n1", "10.1.2.1", 1), ("n2", "10.1.2.2", 9)]

    cli.ok("lb", "address-pool", "create", *pa, "-n", "gone")
    cli.ok("lb", "address-pool", "delete", *pa, "-n", "gone")
    assert [p["name"] for p in lbj(cli, "address-pool", "list", *pa)["value"]] == ["pool0", "web"]


def test_probe(cli, lb):
    pa = ["-g", RG, "--lb-name", lb]
    cli.ok("lb", "probe", "create", *pa, "-n", "hp", "--protocol", "http", "--port", "8080",
           "--path", "/healthz", "--interval", "5", "--threshold", "3")
    cli.ok("lb", "probe", "create", *pa, "-n", "tp", "--protocol", "Tcp", "--port", "22",
           "--number-of-probes", "4", "--probe-threshold", "2")
    p = lbj(cli, "probe", "show", *pa, "-n", "hp")["properties"]
    assert (p["protocol"], p["port"], p["requestPath"], p["intervalInSeconds"],
            p["numberOfProbes"]) == ("Http", 8080, "/healthz", 5, 3)
    cli.ok("lb", "probe", "update", *pa, "-n", "hp", "--interval", "10", "--port", "8081")
    p = lbj(cli, "probe", "show", *pa, "-n", "hp")["properties"]
    assert (p["port"], p["intervalInSeconds"], p["requestPath"]) == (8081, 10, "/healthz")
    listed = lbj(cli, "probe", "list", *pa)["value"]
    assert [(x["name"], x["properties"].get("probeThreshold")) for x in listed] == [
        ("hp", None), ("tp", 2)]
    rows = h.table_rows(cli.ok("lb", "probe", "list", *pa).stdout)
    assert rows[0][:4] == ["hp", "Http", "8081", "10"]
    cli.ok("lb", "probe", "delete", *pa, "-n", "tp")
    assert [x["name"] for x in lbj(cli, "probe", "list", *pa)["value"]] == ["hp"]


def test_rule(cli, lb):
    pa = ["-g", RG, "--lb-name", lb]
    cli.ok("lb", "address-pool", "create", *pa, "-n", "rp", "--vnet", "vnet1",
           "--backend-address", "name=r1", "ip-address=10.1.3.1")
    cli.ok("lb", "probe", "create", *pa, "-n", "rprobe", "--protocol", "Tcp", "--port", "80")
    cli.ok("lb", "frontend-ip", "create", *pa, "-n", "feR", "--private-ip-address", "10.1.255.20")
    cli.ok("lb", "rule", "create", *pa, "-n", "http", "--protocol", "Tcp", "--frontend-port", "80",
           "--backend-port", "8080", "--frontend-ip-name", "LoadBalancerFrontEnd",
           "--backend-pool-name", "rp", "--probe-name", "rprobe", "--idle-timeout", "5",
           "--enable-tcp-reset", "--load-distribution", "sourceIPprotocol")
    r = lbj(cli, "rule", "show", *pa, "-n", "http")
    p = r["properties"]
    assert r["id"] == h.arm(RG, "loadBalancers", lb, "loadBalancingRules", "http")
    assert p["frontendIPConfiguration"]["id"] == h.arm(RG, "loadBalancers", lb,
                                                        "frontendIPConfigurations",
                                                        "LoadBalancerFrontEnd")
    assert p["backendAddressPool"]["id"] == h.arm(RG, "loadBalancers", lb, "backendAddressPools", "rp")
    assert p["probe"]["id"] == h.arm(RG, "loadBalancers", lb, "probes", "rprobe")
    assert (p["protocol"], p["frontendPort"], p["backendPort"], p["idleTimeoutInMinutes"],
            p["enableTcpReset"], p["loadDistribution"]) == ("Tcp", 80, 8080, 5, True,
                                                            "SourceIPProtocol")
    # HA ports with Floating IP on another frontend.
    cli.ok("lb", "rule", "create", *pa, "-n", "ha", "--protocol", "All", "--frontend-port", "0",
           "--backend-port", "0", "--frontend-ip-name", "feR", "--backend-pool-name", "rp",
           "--floating-ip", "true")
    cli.ok("lb", "rule", "update", *pa, "-n", "http", "--load-distribution", "SourceIP",
           "--backend-port", "8081", "--probe-name", "")
    p = lbj(cli, "rule", "show", *pa, "-n", "http")["properties"]
    assert (p["loadDistribution"], p["backendPort"], "probe" in p) == ("SourceIP", 8081, False)
    assert p["backendAddressPool"]["id"].endswith("/backendAddressPools/rp")
    listed = lbj(cli, "rule", "list", *pa)["value"]
    assert [(x["name"], x["properties"]["enableFloatingIP"] if "enableFloatingIP"
             in x["properties"] else False) for x in listed] == [("http", False), ("ha", True)]
    rows = h.tsv_rows(cli.ok("lb", "rule", "list", *pa, "-o", "tsv").stdout)
    assert rows[0][:8] == ["http", "Tcp", "80", "8081", "LoadBalancerFrontEnd", "rp", "", "false"]
    assert rows[1][:8] == ["ha", "All", "0", "0", "feR", "rp", "", "true"]
    # The pool lists its rules; the dataplane has them.
    pool = lbj(cli, "address-pool", "show", *pa, "-n", "rp")
    assert sorted(x["id"].rsplit("/", 1)[1] for x in pool["properties"]["loadBalancingRules"]) == \
        ["ha", "http"]
    stats = cli.json("stats")
    assert {"lb1/http", "lb1/ha"} <= {x["name"] for x in stats["rules"]}
    assert "lb1/rp/r1" in {x["name"] for x in stats["backends"]}
    # Deleting the pool the rules use is refused, with the reason in the details.
    r = cli.fail("lb", "address-pool", "delete", *pa, "-n", "rp",
                 code="InUseResourceCannotBeDeleted")
    assert "Exception Details:\t(InvalidResourceReference)" in r.stderr
    cli.ok("lb", "rule", "delete", *pa, "-n", "ha")
    assert [x["name"] for x in lbj(cli, "rule", "list", *pa)["value"]] == ["http"]


def test_rule_defaults_to_the_only_frontend_and_pool(cli):
    g = ["-g", RG]
    cli.ok("lb", "create", *g, "-n", "lbOne", "--private-ip-address", "10.1.255.50",
           "--backend-pool-name", "only")
    cli.ok("lb", "rule", "create", *g, "--lb-name", "lbOne", "-n", "dns", "--protocol", "Udp",
           "--frontend-port", "53")
    p = lbj(cli, "rule", "show", *g, "--lb-name", "lbOne", "-n", "dns")["properties"]
    assert p["frontendIPConfiguration"]["id"].endswith("/frontendIPConfigurations/LoadBalancerFrontEnd")
    assert p["backendAddressPool"]["id"].endswith("/backendAddressPools/only")
    cli.ok("lb", "frontend-ip", "create", *g, "--lb-name", "lbOne", "-n", "second",
           "--private-ip-address", "10.1.255.51")
    r = cli.fail("lb", "rule", "create", *g, "--lb-name", "lbOne", "-n", "dns2",
                 "--protocol", "Udp", "--frontend-port", "54", status=2)
    assert "--frontend-ip-name is required" in r.stderr
    cli.ok("lb", "delete", *g, "-n", "lbOne")


def test_inbound_nat_rule(cli, lb):
    pa = ["-g", RG, "--lb-name", lb]
    cli.ok("lb", "inbound-nat-rule", "create", *pa, "-n", "ssh1", "--protocol", "Tcp",
           "--frontend-port", "2201", "--backend-port", "22",
           "--frontend-ip-name", "LoadBalancerFrontEnd")
    cli.ok("lb", "inbound-nat-rule", "create", *pa, "-n", "ssh2", "--protocol", "Tcp",
           "--frontend-port", "2202", "--backend-port", "22", "--frontend-ip-name", "LoadBalancerFrontEnd",
           "--idle-timeout", "10", "--enable-tcp-reset", "true")
    r = lbj(cli, "inbound-nat-rule", "show", *pa, "-n", "ssh1")
    assert r["id"] == h.arm(RG, "loadBalancers", lb, "inboundNatRules", "ssh1")
    p = r["properties"]
    assert (p["protocol"], p["frontendPort"], p["backendPort"]) == ("Tcp", 2201, 22)
    assert p["frontendIPConfiguration"]["id"].endswith("/frontendIPConfigurations/LoadBalancerFrontEnd")
    cli.ok("lb", "inbound-nat-rule", "update", *pa, "-n", "ssh2", "--frontend-port", "2203")
    assert lbj(cli, "inbound-nat-rule", "show", *pa, "-n", "ssh2")["properties"]["frontendPort"] == 2203
    listed = lbj(cli, "inbound-nat-rule", "list", *pa)["value"]
    assert [(x["name"], x["properties"]["frontendPort"]) for x in listed] == [
        ("ssh1", 2201), ("ssh2", 2203)]
    cli.ok("lb", "inbound-nat-rule", "delete", *pa, "-n", "ssh2")
    assert [x["name"] for x in lbj(cli, "inbound-nat-rule", "list", *pa)["value"]] == ["ssh1"]
    assert len(lbj(cli, "show", "-g", RG, "-n", lb)["properties"]["inboundNatRules"]) == 1


def test_status_and_stats(cli, lb):
    before = h.commits(cli)
    cli.ok("lb", "probe", "create", "-g", RG, "--lb-name", lb, "-n", "counted", "--protocol",
           "Tcp", "--port", "1")
    st = cli.json("status")
    assert st["commits"] == before + 1
    assert set(st["lastCommitMicroseconds"]) == {"requestToPublish", "validate", "compile", "persist", "publish"}
    rows = h.table_rows(cli.ok("status").stdout)
    assert ["commits", str(before + 1)] in rows
    stats = cli.json("stats")
    assert stats["rx"] > 0 and stats["drops"]["not_ip"] > 0
    rows = h.table_rows(cli.ok("stats").stdout)
    assert rows[0][0] == "rx" and any(r[:2] == ["drop", "not_ip"] for r in rows)
    # status and stats need no resource group, even from the environment.
    cli.ok("network", "status", "-o", "tsv")


def test_probes_and_member_health(cli):
    """A rule with a Tcp probe to a closed loopback port: `sluicectl probes` lists
    the target with its error, and the pool's members show their admin state and
    health."""
    cli.ok("vnet", "create", "-g", RG, "-n", "vnetp", "--address-prefixes", "127.0.0.0/8")
    cli.ok("lb", "create", "-g", RG, "-n", "lbp", "--private-ip-address", "10.9.0.1",
           "--backend-pool-name", "pp")
    cli.ok("lb", "address-pool", "update", "-g", RG, "--lb-name", "lbp", "-n", "pp",
           "--backend-address", "name=dead", "ip-address=127.0.0.9", "vnet=vnetp")
    cli.ok("lb", "probe", "create", "-g", RG, "--lb-name", "lbp", "-n", "tp", "--protocol", "Tcp",
           "--port", "9", "--interval", "5", "--number-of-probes", "1")
    cli.ok("lb", "rule", "create", "-g", RG, "--lb-name", "lbp", "-n", "r", "--protocol", "Tcp",
           "--frontend-port", "80", "--backend-port", "80", "--backend-pool-name", "pp",
           "--probe-name", "tp")
    deadline = time.time() + 15
    while time.time() < deadline:
        targets = cli.json("probes")["value"]
        if targets and targets[0]["health"] == "Down":
            break
        time.sleep(0.5)
    assert len(targets) == 1, targets
    t = targets[0]
    assert (t["loadBalancer"], t["probe"], t["pool"], t["address"]) == ("lbp", "tp", "pp", "dead")
    assert t["health"] == "Down" and t["lastError"] == "connection refused", t
    rows = h.table_rows(cli.ok("probes").stdout)
    assert rows[0][:8] == ["lbp", "tp", "pp", "dead", "127.0.0.9", "Tcp", "9", "Down"]
    members = h.table_rows(cli.ok("lb", "address-pool", "show", "-g", RG, "--lb-name", "lbp",
                                  "-n", "pp").stdout)
    assert any(r[0] == "dead" and r[-2:] == ["None", "Down"] for r in members), members


def test_neighbours(cli):
    """`sluicectl neighbours`: the backends sluice must find by ARP, with their
    state (the test port never answers: incomplete, then failed) and no MAC."""
    cli.ok("vnet", "create", "-g", RG, "-n", "vnetn", "--address-prefixes", "10.44.0.0/16")
    cli.ok("lb", "create", "-g", RG, "-n", "lbn", "--private-ip-address", "10.44.0.1",
           "--backend-pool-name", "pn")
    cli.ok("lb", "address-pool", "update", "-g", RG, "--lb-name", "lbn", "-n", "pn",
           "--backend-address", "name=n1", "ip-address=10.44.0.21", "vnet=vnetn")
    cli.ok("lb", "rule", "create", "-g", RG, "--lb-name", "lbn", "-n", "r", "--protocol", "Tcp",
           "--frontend-port", "80", "--backend-port", "80", "--backend-pool-name", "pn")
    n = cli.json("neighbours")
    entry = [e for e in n["neighbours"] if e["ipAddress"] == "10.44.0.21"]
    assert len(entry) == 1 and entry[0]["state"] in ("incomplete", "failed"), n
    assert entry[0]["macAddress"] is None
    assert "solicitsSent" in n["counters"]
    rows = h.tsv_rows(cli.ok("neighbours", "-o", "tsv").stdout)
    assert any(r[1:4] == ["10.44.0.21", "", r[3]] and r[3] in ("incomplete", "failed")
               for r in rows), rows
    assert h.table_rows(cli.ok("neighbours").stdout)


def test_one_name_in_two_resource_groups(cli, lb):
    """A resource is its resource group and name: `-g` picks which of two lb1s;
    `stats` names their rules apart while both exist."""
    other = "rgLb2"
    cli.ok("vnet", "create", "-g", other, "-n", "vnet1", "--address-prefixes", "10.45.0.0/16",
           "--subnet-name", "fe", "--subnet-prefixes", "10.45.255.0/24")
    cli.ok("lb", "create", "-g", other, "-n", lb, "--private-ip-address", "10.45.255.10",
           "--vnet-name", "vnet1", "--subnet", "fe", "--backend-pool-name", "pool0")
    cli.ok("lb", "rule", "create", "-g", other, "--lb-name", lb, "-n", "r2", "--protocol", "Tcp",
           "--frontend-port", "80", "--backend-port", "80", "--backend-pool-name", "pool0")
    mine, theirs = lbj(cli, "show", "-g", RG, "-n", lb), lbj(cli, "show", "-g", other, "-n", lb)
    assert mine["id"] == h.arm(RG, "loadBalancers", lb)
    assert theirs["id"] == h.arm(other, "loadBalancers", lb)
    assert theirs["properties"]["frontendIPConfigurations"][0]["properties"][
        "subnet"]["id"] == h.arm(other, "virtualNetworks", "vnet1") + "/subnets/fe"
    rules = [r["name"] for r in cli.json("stats")["rules"]]
    assert f"{other}:{lb}/r2" in rules and not any(r.startswith(f"{lb}/") for r in rules), rules
    cli.ok("lb", "delete", "-g", other, "-n", lb)
    cli.fail("lb", "show", "-g", other, "-n", lb, code="ResourceNotFound")
    assert lbj(cli, "show", "-g", RG, "-n", lb)["id"] == mine["id"]
    cli.ok("vnet", "delete", "-g", other, "-n", "vnet1")
