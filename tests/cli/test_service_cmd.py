# SPDX-License-Identifier: BSD-3-Clause
"""`sluicectl service show/out/in` (docs/sluicectl.md): the host's service
state, as a table and as JSON, against a sluiced without --bird-config (the
state changes, nothing is announced) and one with it (the generated BIRD
include follows)."""
import json
import os

import pytest

import clihelpers as h

RG = "rgSvc"


def rows(r):
    return dict((k, v) for k, v in h.table_rows(r.stdout))


def make_lb(cli):
    """vnet1 and lb1: frontend 10.3.255.10, rule http on pool0 (a1 10.3.0.4)."""
    cli.ok("vnet", "create", "-g", RG, "-n", "vnet1", "--address-prefixes", "10.3.0.0/16",
           "--subnet-name", "fe", "--subnet-prefixes", "10.3.255.0/24")
    cli.ok("lb", "create", "-g", RG, "-n", "lb1", "--private-ip-address", "10.3.255.10",
           "--vnet-name", "vnet1", "--subnet", "fe", "--backend-pool-name", "pool0")
    cli.ok("lb", "address-pool", "address", "add", "-g", RG, "--lb-name", "lb1",
           "--pool-name", "pool0", "-n", "a1", "--vnet", "vnet1", "--ip-address", "10.3.0.4")
    cli.ok("lb", "rule", "create", "-g", RG, "--lb-name", "lb1", "-n", "http",
           "--protocol", "Tcp", "--frontend-port", "80", "--backend-port", "8080",
           "--frontend-ip-name", "LoadBalancerFrontEnd", "--backend-pool-name", "pool0")
    return "lb1"


@pytest.fixture(scope="module")
def lb(cli):
    return make_lb(cli)


def test_service_out_and_in_without_bird(cli, lb):
    r = rows(cli.ok("service", "show"))
    assert r["state"].startswith("InService since ")
    assert r["announcing"] == "no (sluiced runs without --bird-config)"
    assert r["frontend 10.3.255.10"] == "withdrawn: AnnouncementsOff"
    assert "packetsSinceWithdrawal" not in r

    r = rows(cli.ok("service", "out"))
    assert r["state"].startswith("OutOfService since ")
    assert r["packetsSinceWithdrawal"] == "0"
    j = cli.json("service", "show")
    assert j["state"] == "OutOfService" and j["announcing"] is False
    assert j["bird"]["state"] == "Off"
    assert cli.json("status")["service"]["state"] == "OutOfService"
    with open(os.path.join(cli.daemon.state_dir, "service.json")) as f:
        assert json.load(f)["state"] == "OutOfService"

    j = cli.json("service", "in")
    assert j["state"] == "InService"
    assert rows(cli.ok("service", "show"))["state"].startswith("InService since ")


def test_service_needs_a_command(cli):
    r = cli.run("service")
    assert r.returncode == 2 and "required: COMMAND" in r.stderr, r.stderr
    helptext = cli.ok("service", "--help").stdout
    for c in ("show", "out", "in"):
        assert f"    {c} " in helptext, helptext


def test_service_with_bird_config(sluiced_binary, tmp_path):
    include = tmp_path / "sluice-frontends.conf"
    d = h.ApiDaemon(extra_args=["--bird-config", str(include), "--bird-socket",
                                str(tmp_path / "absent.ctl")])
    try:
        d.wait_api()
        cli = h.Cli(d)
        make_lb(cli)
        r = rows(cli.ok("service", "show"))
        assert r["announcing"] == f"yes: {include}"
        assert r["bird"].startswith("Unreachable (" + str(tmp_path / "absent.ctl") + ")") or \
            r["bird"].startswith("Pending ("), r
        assert r["frontend 10.3.255.10"] == "announced"
        assert "route 10.3.255.10/32 blackhole;" in include.read_text()
        r = rows(cli.ok("service", "out"))
        assert r["frontend 10.3.255.10"] == "withdrawn: OutOfService"
        assert "route " not in include.read_text()
        cli.ok("service", "in")
        assert "route 10.3.255.10/32 blackhole;" in include.read_text()
    finally:
        d.stop()
