# SPDX-License-Identifier: BSD-3-Clause
"""Failures: the CLI errors of the address-pool config file (az's words), sluiced's
validation errors in az's shape with exit status 1 (and nothing changed), no
sluiced to talk to, usage errors (exit 2), and --help at every level (exit 0)."""
import json
import os

import pytest

import clihelpers as h

RG = "rgErr"
VNET = h.arm(RG, "virtualNetworks", "ev")


@pytest.fixture(scope="module")
def lb(cli):
    cli.ok("vnet", "create", "-g", RG, "-n", "ev", "--address-prefixes", "10.3.0.0/16",
           "--subnet-name", "fe", "--subnet-prefixes", "10.3.255.0/24")
    cli.ok("lb", "create", "-g", RG, "-n", "elb", "--private-ip-address", "10.3.255.1",
           "--vnet-name", "ev", "--subnet", "fe")
    return "elb"


def pool_create(cli, *args, **kw):
    return cli.run("lb", "address-pool", "create", "-g", RG, "--lb-name", "elb", "-n", "p",
                   *args, **kw)


def test_config_file_must_be_a_list(cli, lb, tmp_path):
    f = tmp_path / "c.json"
    for text in ('{"name": "a1", "virtualNetwork": "ev", "ipAddress": "10.3.0.4"}', '"x"', "3"):
        f.write_text(text)
        r = pool_create(cli, "--backend-address-config-file", f"@{f}")
        assert r.returncode == 1, r
        assert h.error_lines(r.stderr) == ["ERROR: " + h.MSG_NOT_A_LIST]
        assert r.stdout == ""
    cli.fail("lb", "address-pool", "show", "-g", RG, "--lb-name", "elb", "-n", "p",
             code="ResourceNotFound")


@pytest.mark.parametrize("entry", [
    {"virtualNetwork": VNET, "ipAddress": "10.3.0.4"},                  # no name
    {"name": "a1", "virtualNetwork": VNET},                             # no ipAddress
    {"name": "a1", "ipAddress": "10.3.0.4"},                            # no vnet, no --vnet
    {"name": "a1", "ipAddress": "10.3.0.4", "subnet": "fe"},            # subnet name, no vnet
    "10.3.0.4",                                                         # not an object
])
def test_config_file_address_information(cli, lb, tmp_path, entry):
    f = tmp_path / "c.json"
    f.write_text(json.dumps([{"name": "ok", "virtualNetwork": VNET, "ipAddress": "10.3.0.5"},
                             entry]))
    r = pool_create(cli, "--backend-addresses-config-file", f"@{f}")
    assert r.returncode == 1, r
    assert h.error_lines(r.stderr) == ["ERROR: " + h.MSG_ADDRESS_INFO]


def test_backend_address_information(cli, lb):
    """The same message for --backend-address, and for address add."""
    for args in (["--backend-address", "name=a1"],
                 ["--backend-address", "ip-address=10.3.0.4", "--vnet", "ev"],
                 ["--backend-address", "name=a1", "ip-address=10.3.0.4"]):
        r = pool_create(cli, *args)
        assert r.returncode == 1, r
        assert h.error_lines(r.stderr) == ["ERROR: " + h.MSG_ADDRESS_INFO]
    cli.ok("lb", "address-pool", "create", "-g", RG, "--lb-name", "elb", "-n", "empty")
    r = cli.run("lb", "address-pool", "address", "add", "-g", RG, "--lb-name", "elb",
                "--pool-name", "empty", "-n", "a1", "--ip-address", "10.3.0.4")
    assert r.returncode == 1, r
    assert h.error_lines(r.stderr) == ["ERROR: " + h.MSG_ADDRESS_INFO]


def test_only_one_of_backend_address_and_config_file(cli, lb, tmp_path):
    f = tmp_path / "c.json"
    f.write_text(json.dumps([{"name": "a1", "virtualNetwork": VNET, "ipAddress": "10.3.0.4"}]))
    for opt in ("--backend-address-config-file", "--backend-addresses-config-file"):
        r = pool_create(cli, "--backend-address", "name=a2", "ip-address=10.3.0.5",
                        "--vnet", "ev", opt, f"@{f}")
        assert r.returncode == 2, r
        assert h.error_lines(r.stderr) == ["ERROR: " + h.MSG_ONE_OF]


def test_config_file_unreadable_or_not_json(cli, lb, tmp_path):
    r = pool_create(cli, "--backend-address-config-file", f"@{tmp_path}/missing.json")
    assert r.returncode == 1 and r.stderr.startswith("ERROR: Cannot read the config file"), r
    (tmp_path / "bad.json").write_text("[{,}]")
    r = pool_create(cli, "--backend-address-config-file", f"@{tmp_path}/bad.json")
    assert r.returncode == 1 and "is not valid JSON" in r.stderr, r


def test_validation_error_surfaced(cli, lb):
    before = h.commits(cli)
    r = cli.fail("lb", "address-pool", "create", "-g", RG, "--lb-name", "elb", "-n", "far",
                 "--vnet", "ev", "--backend-address", "name=a1", "ip-address=10.9.0.4",
                 code="BackendAddressNotInVirtualNetwork")
    lines = h.error_lines(r.stderr)
    assert lines[0] == ("ERROR: (BackendAddressNotInVirtualNetwork) 10.9.0.4 is outside every "
                        "address prefix of virtual network 'ev'.")
    assert "Target: loadBalancers/elb/backendAddressPools/far/loadBalancerBackendAddresses/a1" \
        in lines
    assert any(ln.startswith("JSON path: $.") and ln.endswith(".ipAddress") for ln in lines)
    assert r.stdout == ""
    # Refused: nothing committed, nothing there.
    assert h.commits(cli) == before
    cli.fail("lb", "address-pool", "show", "-g", RG, "--lb-name", "elb", "-n", "far",
             code="ResourceNotFound")

    # Others, each with its code: an HA ports rule that is not All, a weight out of
    # range, a probe path on Tcp, a duplicate frontend address, an api-version.
    cli.ok("lb", "address-pool", "create", "-g", RG, "--lb-name", "elb", "-n", "near",
           "--vnet", "ev", "--backend-address", "name=a1", "ip-address=10.3.0.4")
    pa = ["-g", RG, "--lb-name", "elb"]
    cli.fail("lb", "rule", "create", *pa, "-n", "r", "--protocol", "Tcp", "--frontend-port", "0",
             "--backend-pool-name", "near", code="InvalidHaPortsRule")
    cli.fail("lb", "address-pool", "address", "add", *pa, "--pool-name", "near", "-n", "a2",
             "--ip-address", "10.3.0.5", "--weight", "1001", code="PropertyValueOutOfRange")
    cli.fail("lb", "probe", "create", *pa, "-n", "p", "--protocol", "Tcp", "--port", "80",
             "--path", "/x", code="PropertyNotAllowed")
    cli.fail("lb", "frontend-ip", "create", *pa, "-n", "fe2", "--private-ip-address",
             "10.3.255.1", code="PrivateIPAddressInUse")
    cli.fail("--api-version", "2020", "lb", "list", "-g", RG, code="InvalidApiVersionParameter")
    cli.fail("lb", "address-pool", "create", *pa[2:], "-g", "otherRg", "-n", "x",
             code="ParentResourceNotFound")
    assert h.commits(cli) == before + 1


def test_in_use_and_not_found(cli, lb):
    pa = ["-g", RG, "--lb-name", "elb"]
    cli.ok("lb", "address-pool", "create", *pa, "-n", "used")
    cli.ok("lb", "rule", "create", *pa, "-n", "u", "--protocol", "Udp", "--frontend-port", "53",
           "--backend-pool-name", "used")
    r = cli.fail("lb", "address-pool", "delete", *pa, "-n", "used",
                 code="InUseResourceCannotBeDeleted")
    assert "Exception Details:\t(InvalidResourceReference)" in r.stderr
    assert "\tTarget: loadBalancers/elb/loadBalancingRules/u" in r.stderr.splitlines()
    cli.ok("lb", "address-pool", "show", *pa, "-n", "used")
    r = cli.fail("nic", "show", "-g", RG, "-n", "nope", code="ResourceNotFound")
    assert f"Target: {h.arm(RG, 'networkInterfaces', 'nope')}" in r.stderr.splitlines()
    cli.fail("nic", "ip-config", "update", "-g", RG, "--nic-name", "nope", "-n", "x",
             "--private-ip-address", "10.3.0.9", code="ResourceNotFound")


def test_name_with_slash_is_a_usage_error(cli, lb):
    for args in (["lb", "create", "-g", RG, "-n", "elb/backendAddressPools/q",
                  "--private-ip-address", "10.3.255.9"],
                 ["lb", "address-pool", "create", "-g", RG, "--lb-name", "elb", "-n", "a/b"],
                 ["lb", "list", "-g", "r/g"]):
        r = cli.run(*args)
        assert r.returncode == 2 and "is not a valid name" in r.stderr, r


def test_server_refuses_percent_encoded_slash_in_a_name(cli, lb):
    """SERVER BUG (sl_api.c / sl_resource.c): libmicrohttpd hands the handler a
    percent-decoded path, which sl_res_path_parse() then splits on '/', so a name
    holding an encoded '/' becomes more path segments: this PUT of load balancer
    'elb/backendAddressPools/q' creates pool 'q' under 'elb' (201) instead of being
    refused as a name with '/' (InvalidResourceName)."""
    import http.client
    import socket

    class Conn(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.connect(cli.daemon.socket)

    c = Conn("sluice", timeout=10)
    c.request("PUT", h.arm(RG, "loadBalancers", "elb%2FbackendAddressPools%2Fq")
              + "?api-version=2020-05-01", body=b'{"properties": {}}',
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    body = r.read()
    c.close()
    pools = [p["name"] for p in cli.json("lb", "address-pool", "list", "-g", RG,
                                         "--lb-name", "elb")["value"]]
    assert "q" not in pools, f"{r.status} {body[:300]!r}: pool 'q' was created"
    assert r.status in (400, 404), body


def test_no_server(tmp_path):
    c = h.Cli(None)
    for sock in (str(tmp_path / "none.sock"), None):
        args = ["--socket", sock] if sock else []
        env = {} if sock else {"SLUICE_SOCKET": str(tmp_path / "env.sock")}
        r = c.run(*args, "lb", "list", "-g", "rg", env=env)
        assert r.returncode == 1, r
        lines = h.error_lines(r.stderr)
        assert len(lines) == 1 and lines[0].startswith("ERROR: Cannot reach sluiced: there is "
                                                       "no socket at "), r
        assert (sock or str(tmp_path / "env.sock")) in lines[0]
    # A stale socket file nobody listens on.
    import socket
    path = str(tmp_path / "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()
    r = c.run("--socket", path, "status")
    assert r.returncode == 1 and "nothing answers on" in r.stderr, r



def test_fleet_status_without_a_fleet(cli):
    """A sluiced without --fleet-etcd: `fleet status` says so (404 FleetNotConfigured), exit 1."""
    r = cli.run("fleet", "status")
    assert r.returncode == 1, r
    assert r.stdout == "", r
    assert h.error_lines(r.stderr)[0].startswith("ERROR: (FleetNotConfigured) "), r


def test_usage_errors(cli):
    # No resource group (neither -g nor SLUICE_RESOURCE_GROUP).
    r = cli.run("lb", "list")
    assert r.returncode == 2 and "-g/--resource-group" in r.stderr, r
    r = cli.run("lb", "list", env={"SLUICE_RESOURCE_GROUP": RG})
    assert r.returncode == 0, r
    for args in (["lb"], ["lb", "frobnicate"], ["lb", "rule", "create", "-g", RG,
                                               "--lb-name", "x", "-n", "r"],
                 ["lb", "rule", "create", "-g", RG, "--lb-name", "x", "-n", "r", "--protocol",
                  "Icmp", "--frontend-port", "1"],
                 ["lb", "list", "-g", RG, "-o", "yaml"],
                 ["lb", "address-pool", "create", "-g", RG, "--lb-name", "x", "-n", "p",
                  "--backend-address", "name=a", "colour=red"],
                 ["nic", "create", "-g", RG, "-n", "n", "--subnet", "s"],
                 ["nic", "create", "-g", RG, "-n", "n", "--vnet-name", "v", "--subnet", "s",
                  "--lb-address-pools", "p"],
                 []):
        r = cli.run(*args)
        assert r.returncode == 2, (args, r)
        assert r.stdout == "", (args, r)
        assert r.stderr.strip(), (args, r)


@pytest.mark.parametrize("words", [
    [], ["network"], ["lb"], ["network", "lb", "address-pool"],
    ["lb", "address-pool", "create"], ["lb", "address-pool", "address", "add"],
    ["lb", "rule", "create"], ["lb", "probe", "update"], ["lb", "inbound-nat-rule", "list"],
    ["lb", "frontend-ip", "show"], ["nic", "create"], ["nic", "ip-config", "update"],
    ["nic", "ip-config", "address-pool", "add"], ["vnet", "create"], ["vnet", "subnet", "create"],
    ["status"], ["stats"], ["fleet"], ["fleet", "status"],
])
def test_help(words):
    c = h.Cli(None)
    r = c.run(*words, "--help")
    assert r.returncode == 0, r
    assert r.stdout.startswith("usage: sluicectl"), r
    assert "--socket PATH" in r.stdout and "-g RG" in r.stdout
    assert r.stderr == ""
    leaf = words and words[-1] in ("create", "update", "add", "list", "show", "status", "stats")
    if leaf:
        assert "examples:\n  sluicectl" in r.stdout
    else:
        assert "commands:" in r.stdout


def test_program_file():
    path = h.SLUICECTL
    assert os.access(path, os.X_OK)
    with open(path) as f:
        assert f.readline() == "#!/usr/bin/python3\n"
