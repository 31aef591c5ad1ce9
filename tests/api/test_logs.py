# SPDX-License-Identifier: BSD-3-Clause
"""sluiced's log (docs/operations.md, "Logs"): every line is "LEVEL WHO:
message", --log-level sets the levels of sluice's modules, and every
configuration change has an audit line (sluice.audit) saying who made it
(the REST caller's uid and pid from the socket's peer credentials; the
sender of a SIGHUP; "file changed"), what it changed (method and path, a
pool's addresses added, removed and changed) and the result (the generation
published, or the refusal's HTTP status and code). One sluiced with a
configuration file for the module; the tests run in file order."""
import json
import os
import re
import signal
import tempfile
import time

import pytest

import apihelpers as h
import slharness
from apihelpers import rid

LB = rid("loadBalancers", "lb")
POOL = rid("loadBalancers", "lb", "backendAddressPools", "pool")
SPARE = rid("loadBalancers", "lb", "backendAddressPools", "spare")
VNET = rid("virtualNetworks", "vnet")
ME = f"uid {os.getuid()} pid {os.getpid()} ("  # this process: it makes the requests
LINE = re.compile(r"^(EMERG|ALERT|CRIT|ERR|WARNING|NOTICE|INFO|DEBUG) \S+: \S")


def file_config(port=8080):
    """A file's own load balancer (the module's SIGHUP and file-change tests edit it)."""
    return {"virtualNetworks": [{"name": "fvnet", "properties": {
        "addressSpace": {"addressPrefixes": ["10.8.0.0/16"]},
        "subnets": [{"name": "s", "properties": {"addressPrefix": "10.8.0.0/24"}}]}}],
        "loadBalancers": [{"name": "flb", "sku": {"name": "Standard"}, "properties": {
            "frontendIPConfigurations": [{"name": "fe", "properties": {
                "privateIPAddress": "10.8.0.10",
                "subnet": {"id": "virtualNetworks/fvnet/subnets/s"}}}],
            "backendAddressPools": [{"name": "p", "properties": {
                "loadBalancerBackendAddresses": [{"name": "f1", "properties": {
                    "ipAddress": "10.8.0.21", "virtualNetwork": {"id": "fvnet"}}}]}}],
            "loadBalancingRules": [{"name": "r", "properties": {
                "frontendIPConfiguration": {"id": "frontendIPConfigurations/fe"},
                "backendAddressPool": {"id": "backendAddressPools/p"},
                "protocol": "Tcp", "frontendPort": port, "backendPort": port}}]}}]}


def write_atomic(path, obj):
    with open(path + ".new", "w") as f:
        json.dump(obj, f, indent=1)
    os.rename(path + ".new", path)


@pytest.fixture(scope="module")
def dm(module_daemons):
    work = tempfile.mkdtemp(prefix="slapi-logs-")
    path = os.path.join(work, "config.json")
    write_atomic(path, file_config())
    dm = module_daemons.start(config=path, workdir=work)
    dm.config_path = path
    dm.api.ok("PUT", VNET, h.vnet_body(["10.0.0.0/16"], {"sub": "10.0.0.0/24"}), status=201)
    dm.api.ok("PUT", LB, h.lb_body(
        frontends=[h.frontend("fe", "10.0.0.10", "vnet", "sub")],
        pools=[h.pool("pool", [h.address("a1", "10.0.0.11", "vnet")]),
               h.pool("spare", [h.address("s1", "10.0.0.31", "vnet"),
                                h.address("s2", "10.0.0.32", "vnet")])],
        rules=[h.rule("http", "lb", "fe", "pool", "Tcp", 80, 80)]), status=201)
    return dm


def audit_line(dm, mark, *texts, timeout=5.0):
    """The first audit line after offset mark of the log that holds every text."""
    deadline = time.time() + timeout
    while True:
        lines = [ln for ln in dm.output()[mark:].splitlines() if " sluice.audit: " in ln]
        hits = [ln for ln in lines if all(t in ln for t in texts)]
        if hits:
            return hits[0]
        if time.time() > deadline:
            raise AssertionError(f"no audit line with {texts!r} in:\n" + "\n".join(lines))
        time.sleep(0.03)


def generation(api):
    r = api.request("GET", "/sluice/stats", api_version=None)
    assert r.status == 200, r
    return r.json["generation"]


def pool_body(*addresses):
    return {"properties": {"loadBalancerBackendAddresses": list(addresses)}}


# --------------------------------------------------------------------------
# Changes through the REST API
# --------------------------------------------------------------------------

def test_put_names_the_caller_the_resource_and_the_generation(dm):
    mark = len(dm.output())
    dm.api.ok("PUT", POOL, pool_body(h.address("a1", "10.0.0.11", "vnet"),
                                     h.address("a2", "10.0.0.12", "vnet")), status=200)
    line = audit_line(dm, mark, f"PUT {POOL}:")
    g = generation(dm.api)
    assert line.startswith("NOTICE sluice.audit: " + ME), line
    assert line.endswith(f": PUT {POOL}: generation {g} published; "
                         "addresses added pool/a2 10.0.0.12"), line


def test_who_drained_this_backend(dm):
    mark = len(dm.output())
    dm.api.ok("PUT", POOL, pool_body(h.address("a1", "10.0.0.11", "vnet", adminState="Down"),
                                     h.address("a2", "10.0.0.12", "vnet")), status=200)
    line = audit_line(dm, mark, "10.0.0.11")
    assert line.startswith("NOTICE sluice.audit: " + ME), line
    assert f"PUT {POOL}: generation {generation(dm.api)} published; addresses changed " \
           "pool/a1 10.0.0.11 adminState None -> Down" in line, line


def test_a_put_that_changes_nothing(dm):
    body = dm.api.get(POOL).json
    g = generation(dm.api)
    mark = len(dm.output())
    dm.api.ok("PUT", POOL, body, status=200)
    line = audit_line(dm, mark, f"PUT {POOL}:")
    assert line.endswith(f"PUT {POOL}: unchanged (no new generation)"), line
    assert generation(dm.api) == g


def test_delete_names_the_addresses_it_removed(dm):
    mark = len(dm.output())
    dm.api.ok("DELETE", SPARE, status=200)
    line = audit_line(dm, mark, f"DELETE {SPARE}:")
    assert line.startswith("NOTICE sluice.audit: " + ME), line
    assert line.endswith(f"generation {generation(dm.api)} published; addresses removed "
                         "spare/s1 10.0.0.31, spare/s2 10.0.0.32"), line
    mark = len(dm.output())
    dm.api.ok("DELETE", SPARE, status=204)
    assert audit_line(dm, mark, f"DELETE {SPARE}:").endswith(": nothing to delete")


@pytest.mark.parametrize("case", ["duplicate", "in use", "no api-version", "method", "not json"])
def test_a_refused_change_logs_its_code(dm, case):
    two = pool_body(h.address("a1", "10.0.0.11", "vnet"), h.address("a2", "10.0.0.11", "vnet"))
    method, path, body, status, code, kw = {
        "duplicate": ("PUT", POOL, two, 400, "DuplicateIPAddressInBackendAddressPool", {}),
        "in use": ("DELETE", VNET, None, 400, "InUseResourceCannotBeDeleted", {}),
        "no api-version": ("DELETE", LB, None, 400, "MissingApiVersionParameter",
                           {"api_version": None}),
        "method": ("POST", "/sluice/stats", b"{}", 405, "MethodNotAllowed",
                   {"api_version": None}),
        "not json": ("PUT", POOL, b"{nope", 400, "InvalidRequestContent", {}),
    }[case]
    mark = len(dm.output())
    r = dm.api.request(method, path, body, **kw)
    assert r.status == status and r.error["code"] == code, r
    line = audit_line(dm, mark, f"{method} {path}:")
    assert line.startswith("WARNING sluice.audit: " + ME), line
    assert f": {method} {path}: refused: {status} {code}: " in line, line
    assert r.error["message"][:60] in line, line


def test_a_get_is_not_a_change(dm):
    mark = len(dm.output())
    dm.api.ok("GET", POOL, status=200)
    dm.api.request("GET", rid("loadBalancers", "nope"))
    time.sleep(0.2)
    assert " sluice.audit: " not in dm.output()[mark:]


def test_service_state_change(dm):
    for state, was in (("OutOfService", "InService"), ("InService", "OutOfService")):
        mark = len(dm.output())
        r = dm.api.request("PUT", "/sluice/service", {"state": state}, api_version=None)
        assert r.status == 200, r
        line = audit_line(dm, mark, "PUT /sluice/service:")
        assert line.startswith("NOTICE sluice.audit: " + ME), line
        assert line.endswith(f"PUT /sluice/service: service state {state} (was {was})"), line
    mark = len(dm.output())
    r = dm.api.request("PUT", "/sluice/service", {"state": "Sideways"}, api_version=None)
    assert r.status == 400, r
    line = audit_line(dm, mark, "PUT /sluice/service:")
    assert line.startswith("WARNING sluice.audit: " + ME), line
    assert "refused: 400 InvalidServiceState: " in line, line


# --------------------------------------------------------------------------
# The configuration file: SIGHUP (with its sender) and changes on disk
# --------------------------------------------------------------------------

def test_sighup_names_its_sender(dm):
    mark = len(dm.output())
    os.kill(dm.proc.pid, signal.SIGHUP)
    line = audit_line(dm, mark, "SIGHUP")
    assert line.startswith(f"NOTICE sluice.audit: SIGHUP from {ME}"), line
    assert line.endswith(f"): {dm.config_path}: unchanged"), line
    # a broken file on SIGHUP: refused, with its code
    write_atomic(dm.config_path, {"virtualNetworks": 5})
    audit_line(dm, mark, "file changed: ", "InvalidRequestFormat", timeout=5)
    mark = len(dm.output())
    os.kill(dm.proc.pid, signal.SIGHUP)
    line = audit_line(dm, mark, "SIGHUP")
    assert line.startswith(f"WARNING sluice.audit: SIGHUP from {ME}"), line
    assert f"{dm.config_path}: refused, the running configuration stays: " in line, line
    assert "InvalidRequestFormat" in line, line


def test_file_change(dm):
    mark = len(dm.output())
    write_atomic(dm.config_path, file_config(port=8081))
    line = audit_line(dm, mark, "file changed: ", "published", timeout=5)
    assert line == (f"NOTICE sluice.audit: file changed: {dm.config_path}: generation "
                    f"{generation(dm.api)} published"), line


# --------------------------------------------------------------------------
# The line format and --log-level
# --------------------------------------------------------------------------

def test_every_line_has_the_format(dm):
    """Every line sluiced wrote to stderr (its stdout, in the same file here, has the
    periodic statistics lines): DPDK's (EAL) and sluice's, every module."""
    out = dm.output()
    logged = [ln for ln in out.splitlines() if ln and not ln.startswith("stats: t=")]
    bad = [ln for ln in logged if not LINE.match(ln)]
    assert not bad, bad
    for who in ("sluice.main: ", "sluice.port: ", "sluice.audit: "):
        assert any(who in ln for ln in logged), who


def journal_stream_run(tmp_path, extra=()):
    """sluiced over a few packets, stderr to a file that JOURNAL_STREAM names (as
    systemd does for a service), --exit-idle-ms; returns its stderr."""
    from scapy.all import Ether, IP, UDP, wrpcap
    rx, prof = str(tmp_path / "in.pcap"), str(tmp_path / "ports.json")
    wrpcap(rx, [Ether(dst=slharness.SLUICE_MAC) / IP(dst="10.9.9.9") / UDP(dport=9)] * 3)
    with open(prof, "w") as f:
        json.dump(slharness.port_profile(rx, str(tmp_path / "out.pcap"), {}), f)
    err = tmp_path / "stderr"
    with open(err, "w") as f:
        st = os.fstat(f.fileno())
        env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
        cmd = [slharness.sluiced_path()] + slharness.eal_args() + [
            "--", "--ports", prof, "--no-api", "--exit-idle-ms", "300"] + list(extra)
        import subprocess
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=f, env=env, timeout=60)
    assert p.returncode == 0, err.read_text()
    return err.read_text()


def test_journal_gets_each_lines_priority(tmp_path):
    out = journal_stream_run(tmp_path)
    lines = [ln for ln in out.splitlines() if ln]
    assert lines
    prio = {"EMERG": 0, "ALERT": 1, "CRIT": 2, "ERR": 3, "WARNING": 4, "NOTICE": 5, "INFO": 6,
            "DEBUG": 7}
    for ln in lines:
        m = re.match(r"^<(\d)>(\w+) \S+: ", ln)
        assert m and prio.get(m.group(2)) == int(m.group(1)), ln
    assert any(ln.startswith("<5>NOTICE sluice.main: running with") for ln in lines), out


def test_log_level(daemons):
    d = daemons.start(extra_args=["--log-level", "audit:warning", "--log-level", "port:err"])
    d.api.ok("PUT", VNET, h.vnet_body(["10.0.0.0/16"], {"sub": "10.0.0.0/24"}), status=201)
    r = d.api.request("DELETE", LB, api_version=None)
    assert r.status == 400, r
    line = audit_line(d, 0, f"DELETE {LB}:")
    assert line.startswith("WARNING sluice.audit: ") and "MissingApiVersionParameter" in line
    out = d.output()
    assert f"PUT {VNET}" not in out, out  # NOTICE: below the audit module's level
    assert "sluice.port: " not in out, out  # its INFO line at start
    assert "INFO sluice.main: " in out, out  # the other modules keep theirs
    d2 = daemons.start(extra_args=["--log-level", "warning"])
    d2.api.ok("PUT", VNET, h.vnet_body(["10.0.0.0/16"], {"sub": "10.0.0.0/24"}), status=201)
    time.sleep(0.2)
    assert not re.search(r"^(INFO|NOTICE) sluice\.", d2.output(), re.M), d2.output()


@pytest.mark.parametrize("arg, why", [
    ("loud", "'loud' is not a level"),
    ("nope:debug", "'nope' names no sluice module"),
    (":debug", "'' names no sluice module"),
])
def test_log_level_refused(daemons, arg, why):
    d = daemons.spawn(extra_args=["--log-level", arg])
    rc = d.wait_exit()
    assert rc != 0
    assert f"--log-level: {why}" in d.output(), d.output()
