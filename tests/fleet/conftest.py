# SPDX-License-Identifier: BSD-3-Clause
"""Fixtures of the fleet tier (docs/fleet.md): a real three-member etcd
cluster on loopback ports (tests/tools/etcdcluster.py) and three sluiced
hosts on net_null ports, each with its own REST API socket, --state-dir and
--fleet-name, sharing one --fleet-prefix. Needs no root and no NIC.

Test modules use these as `import fleethelpers`. The REST helpers (Api,
bodies, rid) are the API tier's (tests/api/conftest.py, loaded here as
`apihelpers`).
"""
import importlib.util
import os
import shutil
import signal
import sys
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.abspath(os.path.join(HERE, "..", "tools"))
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)
sys.modules.setdefault("fleethelpers", sys.modules[__name__])

if "apihelpers" not in sys.modules:
    _spec = importlib.util.spec_from_file_location(
        "apihelpers", os.path.join(HERE, "..", "api", "conftest.py"))
    _mod = importlib.util.module_from_spec(_spec)
    sys.modules["apihelpers"] = _mod
    _spec.loader.exec_module(_mod)

import apihelpers as h  # noqa: E402
import etcdcluster  # noqa: E402
import slharness  # noqa: E402

ROOT = slharness.ROOT
SLUICECTL = os.path.join(ROOT, "control", "sluicectl")
# Every host: its main lcore on CPU 0, its one worker on CPU 1, so that the
# three busy-polling workers share one CPU and the control threads, etcd and
# the test keep the other.
LCORES = "0@0,1@1"
HOSTS = 3


@pytest.fixture(scope="session", autouse=True)
def sluiced_binary():
    """Build sluiced when the build directory lacks it; fail (not skip) when that fails."""
    err = slharness.ensure_built()
    if err:
        pytest.fail(err, pytrace=False)
    return slharness.sluiced_path()


class Host:
    """One sluiced of the fleet: an ApiDaemon (REST API on WORKDIR/s.sock,
    --state-dir WORKDIR/state) with --fleet-etcd, --fleet-prefix and
    --fleet-name. restart() starts it again on the same directory."""

    def __init__(self, name, endpoints, prefix, config=None):
        self.name = name
        self.endpoints = endpoints
        self.prefix = prefix
        self.config = config
        self.workdir = None
        self.daemon = None
        self.old = []  # earlier daemons of this host (their logs)
        self.start()

    def start(self, wait=True):
        args = ["--fleet-etcd", ",".join(self.endpoints), "--fleet-prefix", self.prefix,
                "--fleet-name", self.name]
        if self.daemon is not None:
            self.old.append(self.daemon)
        self.daemon = h.ApiDaemon(workdir=self.workdir, config=self.config, extra_args=args,
                                  lcores=LCORES, wait=False)
        self.workdir = self.daemon.workdir
        if wait:
            self.daemon.wait_ready(timeout=30)
        return self

    @property
    def api(self):
        return self.daemon.api

    @property
    def sock(self):
        return self.daemon.sock

    @property
    def proc(self):
        return self.daemon.proc

    def stop(self):
        return self.daemon.stop()

    def restart(self):
        self.stop()
        return self.start()

    def signal(self, sig):
        self.daemon.d.signal(sig)

    def status(self, timeout=10.0):
        r = self.api.request("GET", "/sluice/status", api_version=None, timeout=timeout)
        assert r.status == 200, f"{self.name}: GET /sluice/status: {r}"
        return r.json

    def fleet(self):
        return self.status()["fleet"]

    def applied(self):
        return self.fleet()["appliedRevision"]

    def stats(self):
        r = self.api.request("GET", "/sluice/stats", api_version=None)
        assert r.status == 200, f"{self.name}: GET /sluice/stats: {r}"
        return r.json

    def output(self):
        return "".join(d.output() for d in self.old + [self.daemon])

    def cleanup(self):
        if self.proc.poll() is None:
            try:
                self.signal(signal.SIGCONT)
            except ProcessLookupError:
                pass
        for d in self.old + [self.daemon]:
            d.cleanup(remove_workdir=False)
        if not h.keep_tmp():
            shutil.rmtree(self.workdir, ignore_errors=True)


class Fleet:
    """The etcd cluster and the hosts of one test module."""

    def __init__(self, etcd, prefix):
        self.etcd = etcd
        self.prefix = prefix
        self.hosts = []

    def add(self, name, config=None):
        host = Host(name, self.etcd.endpoints(), self.prefix, config)
        self.hosts.append(host)
        return host

    def by_name(self, name):
        return next(x for x in self.hosts if x.name == name)

    def converge(self, revision=None, hosts=None, timeout=20.0, interval=0.005):
        """Wait until every host (of hosts) reports appliedRevision >= revision
        (default: the newest revision of PREFIX/config in etcd) and all report
        the same one; returns (revision, seconds waited, {host: status})."""
        hosts = hosts or self.hosts
        if revision is None:
            # at least 1: PREFIX/config absent means the fleet is not seeded yet
            revision = max(1, self.etcd.get(self.prefix + "/config")[1])
        t0 = time.monotonic()
        last = {}
        while True:
            last = {x.name: x.status() for x in hosts}
            revs = {s["fleet"]["appliedRevision"] for s in last.values()}
            if len(revs) == 1 and min(revs) >= revision:
                return revs.pop(), time.monotonic() - t0, last
            if time.monotonic() - t0 > timeout:
                raise AssertionError(
                    f"the hosts did not converge on revision {revision} in {timeout} s: " +
                    ", ".join(f"{n}: {s['fleet']}" for n, s in last.items()))
            time.sleep(interval)

    def assert_identical(self, statuses=None, hosts=None):
        """The hosts have applied the same revision, publish the same Maglev tables
        (digests) and show the same resources."""
        hosts = hosts or self.hosts
        statuses = statuses or {x.name: x.status() for x in hosts}
        revs = {n: s["fleet"]["appliedRevision"] for n, s in statuses.items()}
        assert len(set(revs.values())) == 1, f"applied revisions differ: {revs}"
        tables = {n: s["tables"] for n, s in statuses.items()}
        first = next(iter(tables.values()))
        for n, t in tables.items():
            assert t == first, f"tables differ between hosts: {tables}"
        snaps = {x.name: x.api.snapshot() for x in hosts}
        ref = next(iter(snaps.values()))
        for n, s in snaps.items():
            assert s == ref, f"{n}'s resources differ from {hosts[0].name}'s"
        return first

    def print_logs(self):
        for x in self.hosts:
            print(f"--- {x.name} ({x.workdir}) ---\n{x.output()[-6000:]}")
        for i in range(len(self.etcd.members)):
            print(f"--- etcd {self.etcd.members[i].name} ---\n{self.etcd.log(i)}")


def new_prefix():
    return "/sluice/test-" + uuid.uuid4().hex[:10]


@pytest.fixture(scope="module")
def etcd():
    with etcdcluster.EtcdCluster(3) as c:
        yield c


@pytest.fixture(scope="module")
def fleet(etcd, request):
    """Three hosts (host0, host1, host2) on one prefix; host0 has seeded it."""
    f = Fleet(etcd, new_prefix())
    try:
        for i in range(HOSTS):
            f.add(f"host{i}")
        yield f
    finally:
        if getattr(request.node, "_fleet_failed", False):
            f.print_logs()
        for x in f.hosts:
            x.cleanup()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
    if rep.failed:
        mod = item.getparent(pytest.Module)
        if mod is not None:
            mod._fleet_failed = True
