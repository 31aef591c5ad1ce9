# SPDX-License-Identifier: BSD-3-Clause
"""Fixtures of the end-to-end tier: the namespace test bed (netns.py), HTTP
servers on the backends, sluiced on net_af_packet inside its own namespace,
and a curl client. Needs root; everything is removed afterwards, also when a
test fails."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tools"))

import netns  # noqa: E402

# Test modules import the helpers below as `e2ehelpers` (this module: a name
# that stays unique when several tiers' conftest modules are loaded at once).
sys.modules.setdefault("e2ehelpers", sys.modules[__name__])
import slharness  # noqa: E402
from netns import HTTP_PORT, VIP_L2, VIP_VXLAN, VNI  # noqa: E402


def pytest_collection_modifyitems(config, items):
    reason = None
    if os.geteuid() != 0:
        reason = "end-to-end tests need root (network namespaces, veths, bridges)"
    elif not os.path.exists(slharness.sluiced_path()):
        reason = (f"sluiced is not built at {slharness.sluiced_path()} "
                  "(build it, or set SLUICE_BUILD to the build folder)")
    if reason:
        for it in items:
            if str(it.fspath).startswith(HERE + os.sep):
                it.add_marker(pytest.mark.skip(reason=reason))


def _can_make_namespaces():
    name = f"{netns.PREFIX}{os.getpid()}-probe"
    try:
        netns.sh(["ip", "netns", "add", name])
        netns.sh(["ip", "-n", name, "link", "add", "pa", "type", "veth", "peer", "name", "pb"])
        netns.sh(["ip", "-n", name, "link", "add", "br0", "type", "bridge"])
        netns.sh(["ip", "-n", name, "link", "add", "vx0", "type", "vxlan", "id", "1",
                  "dstport", "4789"])
        return None
    except (netns.CommandError, OSError) as e:
        return str(e).splitlines()[0]
    finally:
        netns.sh(["ip", "netns", "del", name], check=False)


@pytest.fixture(scope="session")
def topology():
    netns.remove_stale()
    why = _can_make_namespaces()
    if why:
        pytest.skip(f"cannot build network namespaces, veths, bridges and VXLAN here: {why}")
    t = netns.Topology().up(vips=(VIP_L2, VIP_VXLAN))
    try:
        for b in ("backend1", "backend2"):
            t.add_vip(b, VIP_L2)
        t.add_vip("backend3", VIP_VXLAN)
        t.add_vxlan("backend3", VNI)
        yield t
    finally:
        t.down()


@pytest.fixture(scope="session")
def http_servers(topology):
    """python3 -m http.server on port 80 of every backend, each with its own index.html."""
    procs = {}
    root = tempfile.mkdtemp(prefix="sluice-e2e-www-")
    try:
        for b in netns.BACKENDS:
            d = os.path.join(root, b)
            os.makedirs(d)
            with open(os.path.join(d, "index.html"), "w") as f:
                f.write(b + "\n")
            log = open(os.path.join(root, b + ".log"), "w")
            procs[b] = subprocess.Popen(
                ["ip", "netns", "exec", topology.ns[b], sys.executable, "-m", "http.server",
                 str(HTTP_PORT), "--bind", "0.0.0.0", "--directory", d],
                stdout=log, stderr=subprocess.STDOUT)
            log.close()
        deadline = time.time() + 10
        waiting = set(procs)
        while waiting and time.time() < deadline:
            for b in list(waiting):
                if procs[b].poll() is not None:
                    pytest.fail(f"HTTP server on {b} exited: see {root}/{b}.log")
                out = netns.sh(["ss", "-Htln", f"sport = :{HTTP_PORT}"], ns=topology.ns[b],
                               check=False)
                if out.strip():
                    waiting.discard(b)
            time.sleep(0.05)
        if waiting:
            pytest.fail(f"HTTP servers not listening after 10 s: {sorted(waiting)}")
        yield procs
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.terminate()
        for p in procs.values():
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(root, ignore_errors=True)


class NetnsDaemon(slharness.Daemon):
    """slharness.Daemon, with sluiced started inside network namespace ns."""

    def __init__(self, ns, profile, config, env=None, lcores="0,1"):
        self.dir = tempfile.mkdtemp(prefix="sluice-e2e-")
        self.profile = os.path.join(self.dir, "ports.json")
        self.config = os.path.join(self.dir, "config.json")
        self.stats = os.path.join(self.dir, "stats.json")
        self.log = os.path.join(self.dir, "sluiced.log")
        with open(self.profile, "w") as f:
            json.dump(profile, f, indent=1)
        with open(self.config, "w") as f:
            json.dump(config, f, indent=1)
        cmd = ["ip", "netns", "exec", ns, slharness.sluiced_path()] + \
            slharness.eal_args(lcores) + \
            ["--", "--ports", self.profile, "--config", self.config, "--no-api",
             "--stats-file", self.stats, "--stats-interval", "0.2"]
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT,
                                     text=True, env=dict(os.environ, **(env or {})))

    def output(self):
        """The log so far (also after stop(), which closes the log file)."""
        if not self.logf.closed:
            self.logf.flush()
        with open(self.log, errors="replace") as f:
            return f.read()


def port_profile(neighbours):
    """pmd-config/af-packet.json (its ${...} variables filled by sluiced from
    the environment) plus static neighbours {ip: mac}."""
    with open(os.path.join(slharness.ROOT, "pmd-config", "af-packet.json")) as f:
        prof = json.load(f)
    prof["ports"][0]["neighbours"] = [{"ipAddress": a, "macAddress": m}
                                      for a, m in neighbours.items()]
    return prof


PROFILE_ENV = {"SLUICE_IFACE": netns.LB_IFACE, "SLUICE_MAC": netns.SLUICE_MAC,
               "SLUICE_IPV4": netns.SLUICE_IP}


@pytest.fixture
def sluiced(topology, request):
    """start(config) runs sluiced in the lb namespace, waits until it writes
    statistics, and returns the NetnsDaemon; it is stopped at teardown (its
    log is printed when the test failed)."""
    daemons = []

    def start(config, neighbours=None):
        if neighbours is None:
            neighbours = {ip: mac for ip, mac in netns.BACKENDS.values()}
        d = NetnsDaemon(topology.ns["lb"], port_profile(neighbours), config, env=PROFILE_ENV)
        daemons.append(d)
        d.wait_stats(lambda s: True, timeout=20)
        return d

    yield start
    failed = getattr(request.node, "rep_call", None) is None or request.node.rep_call.failed
    for d in daemons:
        d.stop()
        if failed:
            print(f"--- sluiced log (kept in {d.dir}) ---\n{d.output()}")
        else:
            shutil.rmtree(d.dir, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
