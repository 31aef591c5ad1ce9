# SPDX-License-Identifier: BSD-3-Clause
"""Shared helpers of the REST API tier (docs/api.md): sluiced in the background
on a net_null port, its REST API on a Unix socket, HTTP/1.1 with http.client.

Test modules use these as `import apihelpers` (an alias of this module set
below): a bare `import conftest` is ambiguous once several tiers with their
own conftest.py run in one pytest session.

Names used throughout (the seed's placeholders filled in):
  {subscription-id} subid, {resource-group-name} testrg, {vnet-name} myVnet,
  {subnet-name} mySubnet, {load-balancer-name} lb.
"""
import json
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.abspath(os.path.join(HERE, "..", "tools"))
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)

sys.modules.setdefault("apihelpers", sys.modules[__name__])

import slharness  # noqa: E402

API_VERSION = "2020-05-01"
SUB = "subid"
RG = "testrg"
SCOPE = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network"

NULL_PROFILE = {"ports": [{"name": "null0", "device": "net_null0", "devargs": "size=64,copy=0",
                           "macAddress": "02:00:5e:00:00:01", "ipv4Address": "10.0.0.2"}]}


def rid(*segments, scope=SCOPE):
    """The ARM id (and URL path) of a resource: rid("loadBalancers", "lb")."""
    return scope + "".join("/" + s for s in segments)


# --------------------------------------------------------------------------
# The binary (as the dataplane tier does it)
# --------------------------------------------------------------------------

@pytest.fixture(scope="session", autouse=True)
def sluiced_binary():
    """Build sluiced when the build directory lacks it; fail (not skip) when that fails."""
    err = slharness.ensure_built()
    if err:
        pytest.fail(err, pytrace=False)
    return slharness.sluiced_path()


def keep_tmp():
    return bool(os.environ.get("SLUICE_KEEP_TMP"))


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------

class Resp:
    def __init__(self, status, headers, data):
        self.status = status
        self.headers = headers
        self.data = data
        self.text = data.decode(errors="replace")
        try:
            self.json = json.loads(self.text) if self.text.strip() else None
        except ValueError:
            self.json = None

    @property
    def error(self):
        """The {"code", "message", "target", ...} of an error answer."""
        assert isinstance(self.json, dict) and "error" in self.json, \
            f"not an error answer ({self.status}): {self.text[:2000]}"
        return self.json["error"]

    def __repr__(self):
        return f"<{self.status} {self.text[:3000]}>"


class Api:
    """The REST API of one sluiced, by socket path."""

    def __init__(self, sock):
        self.sock = sock

    def request(self, method, path, body=None, api_version=API_VERSION, headers=None,
                timeout=30.0):
        if api_version is not None:
            path += ("&" if "?" in path else "?") + "api-version=" + api_version
        return Resp(*slharness.api_request(self.sock, method, path, body, headers, timeout))

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def put(self, path, body, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def status(self):
        r = self.request("GET", "/sluice/status", api_version=None)
        assert r.status == 200, r
        return r.json

    def commits(self):
        return self.status()["commits"]

    def snapshot(self):
        """Every resource of the default scope, as GET shows it (the three lists)."""
        out = {}
        for coll in ("virtualNetworks", "networkInterfaces", "loadBalancers"):
            r = self.get(rid(coll))
            assert r.status == 200, r
            out[coll] = r.json["value"]
        return out

    # Assertions used everywhere ------------------------------------------
    def ok(self, method, path, body=None, status=(200, 201), **kw):
        r = self.request(method, path, body, **kw)
        want = status if isinstance(status, tuple) else (status,)
        assert r.status in want, f"{method} {path}: {r}"
        return r

    def refused(self, method, path, body, status, code, target=None, **kw):
        """The request is refused with status and code (and target, when given), and
        the configuration, as GET shows it, and the commit count stay as they were."""
        before, commits = self.snapshot(), self.commits()
        r = self.request(method, path, body, **kw)
        assert r.status == status, f"{method} {path}: want {status} {code}, got {r}"
        err = r.error
        assert err["code"] == code, f"{method} {path}: want {code}, got {r}"
        if target is not None:
            assert err["target"] == target, f"{method} {path}: want target {target!r}, got {r}"
        assert err.get("message"), r
        assert self.snapshot() == before, f"{method} {path} was refused but changed the configuration"
        assert self.commits() == commits, f"{method} {path} was refused but committed"
        return r


# --------------------------------------------------------------------------
# sluiced with its REST API
# --------------------------------------------------------------------------

class ApiDaemon:
    """sluiced (slharness.Daemon) with --api-socket DIR/s.sock --state-dir DIR/state
    [--config FILE]. The directory may be reused by a later instance (restart)."""

    def __init__(self, workdir=None, config=None, profile=NULL_PROFILE, state=True,
                 extra_args=(), env=None, netns=None, lcores="0,1", wait=True, eal=None):
        self.workdir = workdir or tempfile.mkdtemp(prefix="slapi-")
        self.sock = os.path.join(self.workdir, "s.sock")
        self.state_dir = os.path.join(self.workdir, "state") if state else None
        self.config = config
        args = ["--api-socket", self.sock]
        if self.state_dir:
            os.makedirs(self.state_dir, exist_ok=True)
            args += ["--state-dir", self.state_dir]
        self.d = slharness.Daemon(profile, config, lcores=lcores,
                                  extra_args=args + list(extra_args), env=env, netns=netns,
                                  eal=eal)
        self.api = Api(self.sock)
        if wait:
            self.wait_ready()

    @property
    def proc(self):
        return self.d.proc

    def output(self):
        return self.d.output()

    def wait_ready(self, timeout=20.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.d.proc.poll() is not None:
                raise RuntimeError(f"sluiced exited {self.d.proc.returncode}:\n{self.output()}")
            if os.path.exists(self.sock):
                try:
                    r = self.api.request("GET", "/sluice/status", api_version=None, timeout=2)
                    if r.status == 200:
                        return self
                except OSError:
                    pass
            time.sleep(0.03)
        raise TimeoutError(f"the REST API did not answer in {timeout} s:\n{self.output()}")

    def wait_exit(self, timeout=20.0):
        try:
            return self.d.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.d.kill()
            raise

    def stop(self):
        return self.d.stop()

    def kill(self):
        return self.d.kill()

    def wait_log(self, text, after=0, timeout=10.0):
        """Wait until text appears in the log after offset `after`; returns the log."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            out = self.output()
            if text in out[after:]:
                return out
            if self.d.proc.poll() is not None:
                break
            time.sleep(0.03)
        raise AssertionError(f"{text!r} not in the log:\n{self.output()}")

    def cleanup(self, remove_workdir=True):
        self.d.kill()
        if not keep_tmp():
            shutil.rmtree(self.d.dir, ignore_errors=True)
            if remove_workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)


class Daemons:
    """Starts ApiDaemons and, at teardown, kills them and prints the logs of the
    failed test's daemons."""

    def __init__(self):
        self.all = []

    def start(self, **kw):
        d = ApiDaemon(wait=False, **kw)
        self.all.append(d)
        d.wait_ready()
        return d

    def spawn(self, **kw):
        """Start without waiting for the API (for starts that must fail)."""
        d = ApiDaemon(wait=False, **kw)
        self.all.append(d)
        return d

    def finish(self, failed):
        dirs = set()
        for d in self.all:
            if failed:
                print(f"--- sluiced log ({d.d.dir}, {' '.join(d.d.cmd)}) ---\n{d.output()}")
            d.cleanup(remove_workdir=False)
            dirs.add(d.workdir)
        if not keep_tmp() and not failed:
            for w in dirs:
                shutil.rmtree(w, ignore_errors=True)


def _failed(request):
    rep = getattr(request.node, "rep_call", None)
    return rep is None or rep.failed


@pytest.fixture
def daemons(request):
    """Per test: daemons.start(config=..., workdir=...) -> ApiDaemon."""
    ds = Daemons()
    yield ds
    ds.finish(_failed(request))


@pytest.fixture(scope="module")
def module_daemons(request):
    """Per module (tests that share one sluiced)."""
    ds = Daemons()
    yield ds
    ds.finish(getattr(request.node, "_api_failed", False))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
    if rep.failed:
        mod = item.getparent(pytest.Module)
        if mod is not None:
            mod._api_failed = True


# --------------------------------------------------------------------------
# Resource bodies
# --------------------------------------------------------------------------

def vnet_body(prefixes, subnets, **props):
    """subnets: {name: prefix}."""
    p = {"addressSpace": {"addressPrefixes": list(prefixes)},
         "subnets": [{"name": n, "properties": {"addressPrefix": a}} for n, a in subnets.items()]}
    p.update(props)
    return {"location": "eastus", "properties": p}


def frontend(name, addr, vnet, subnet, **props):
    p = {"privateIPAddress": addr, "privateIPAllocationMethod": "Static",
         "subnet": {"id": rid("virtualNetworks", vnet, "subnets", subnet)}}
    p.update(props)
    return {"name": name, "properties": p}


def address(name, ip, vnet, **props):
    p = {"ipAddress": ip, "virtualNetwork": {"id": rid("virtualNetworks", vnet)}}
    p.update(props)
    return {"name": name, "properties": p}


def pool(name, addresses):
    return {"name": name, "properties": {"loadBalancerBackendAddresses": addresses}}


def ref(lb, kind, name):
    return {"id": rid("loadBalancers", lb, kind, name)}


def rule(name, lb, fe, pool_name, protocol="Tcp", fport=80, bport=None, **props):
    p = {"frontendIPConfiguration": ref(lb, "frontendIPConfigurations", fe),
         "backendAddressPool": ref(lb, "backendAddressPools", pool_name),
         "protocol": protocol, "frontendPort": fport,
         "backendPort": fport if bport is None else bport}
    p.update(props)
    return {"name": name, "properties": p}


def lb_body(frontends=(), pools=(), rules=(), sku="Standard", **props):
    p = {"frontendIPConfigurations": list(frontends), "backendAddressPools": list(pools),
         "loadBalancingRules": list(rules)}
    p.update(props)
    b = {"location": "eastus", "properties": p}
    if sku is not None:
        b["sku"] = {"name": sku}
    return b


def nic_body(ipconfigs):
    """ipconfigs: list of (name, properties)."""
    return {"location": "eastus",
            "properties": {"ipConfigurations": [{"name": n, "properties": p}
                                                for n, p in ipconfigs]}}


def subnet_ref(vnet, subnet):
    return {"id": rid("virtualNetworks", vnet, "subnets", subnet)}


def names(items):
    return [i["name"] for i in items]


def child(resource, coll, name):
    """A child (frontend, pool, subnet...) of a GET answer by name."""
    for c in resource["properties"].get(coll, []):
        if c["name"].lower() == name.lower():
            return c
    raise AssertionError(f"no {coll} {name!r} in {json.dumps(resource)[:2000]}")


def metrics_address(d, timeout=20.0):
    """The (host, port) of an ApiDaemon's --metrics-listen, from the log line that
    announces it ("Prometheus metrics on http://HOST:PORT/metrics")."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = re.search(r"Prometheus metrics on http://(\S+)/metrics", d.output())
        if m:
            host, port = m.group(1).rsplit(":", 1)
            return host.strip("[]"), int(port)
        if d.proc.poll() is not None:
            break
        time.sleep(0.03)
    raise AssertionError(f"no metrics listener announced:\n{d.output()}")


def wait_until(pred, timeout, interval=0.02):
    """Poll pred() until it returns a true value; returns (value, seconds waited)."""
    t0 = time.time()
    while True:
        v = pred()
        if v:
            return v, time.time() - t0
        if time.time() - t0 > timeout:
            return v, time.time() - t0
        time.sleep(interval)


# --------------------------------------------------------------------------
# A network namespace holding a veth pair: sluiced on one end (net_af_packet),
# the test's scapy/raw-socket client on the other.
# --------------------------------------------------------------------------

def sh(*args, check=True):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=20)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {p.stdout}{p.stderr}")
    return p.stdout


@contextlib.contextmanager
def veth_netns(ns, lb_if, peer_if, lb_mac, peer_mac):
    """Create namespace ns with veth lb_if (MAC lb_mac, for sluiced) and
    peer_if (peer_mac, for the client), IPv6 off (no stray solicitations);
    yield ns; kill what runs in it and delete it, even on failure. Skips the
    test when not root or namespaces cannot be made."""
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces)")
    sh("ip", "netns", "del", ns, check=False)
    try:
        sh("ip", "netns", "add", ns)
    except (RuntimeError, OSError) as e:
        pytest.skip(f"cannot create a network namespace here: {e}")
    try:
        sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
        sh("ip", "-n", ns, "link", "add", lb_if, "type", "veth", "peer", "name", peer_if)
        sh("ip", "-n", ns, "link", "set", lb_if, "address", lb_mac)
        sh("ip", "-n", ns, "link", "set", peer_if, "address", peer_mac)
        for i in ("lo", lb_if, peer_if):
            sh("ip", "-n", ns, "link", "set", i, "up")
        yield ns
    finally:
        for pid in sh("ip", "netns", "pids", ns, check=False).split():
            try:
                os.kill(int(pid), 9)
            except (ProcessLookupError, ValueError):
                pass
        sh("ip", "netns", "del", ns, check=False)
