# SPDX-License-Identifier: BSD-3-Clause
"""sluice on an AF_XDP port (pmd-config/af-xdp.json) that shares its kernel
interface with the host, in realnet.py's routed bed.

The lb namespace's lb0 keeps a kernel address (HOST_V4 / HOST_V6, a default
route via the router) while sluiced serves the same interface through
net_af_xdp with its own address (realnet.LB_V4, the DNAT backends' gateway).
sluice's XDP program redirects sluice's traffic and passes the rest to the
kernel. Covered: real kernel TCP through a DNAT frontend (both backends,
the bytes of a download, every redirected frame received), UDP through it,
and TCP through Floating IP with L2 delivery; the host's own TCP service,
ping and outgoing connections on the same interface meanwhile; the XDP
counters in /sluice/stats and /sluice/metrics; configuration changes through
the REST API (a new frontend works once published and reached the kernel
before; a removed backend gets no new connections); the program detached at
SIGTERM, left by SIGKILL and removed by the next sluiced; and the refusals
(missing interface, a foreign XDP program, a second sluiced, exceptionPath,
the kernel's address as the port's, no CAP_NET_ADMIN), each leaving the
interface as it was. Skipped only where the kernel has no AF_XDP or XDP.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import netns  # noqa: E402
import realnet  # noqa: E402
import slharness  # noqa: E402
from realnet import (BACKENDS, LB_V4, LB_V6, ROUTER_B, VIP_DNAT, VIP_L2, VIP_L2_6,  # noqa: E402
                     until)

HOST_V4, HOST_V6 = "10.66.2.3", "fd66:2::3"   # the kernel's own addresses on lb0
HOST_PORT = 8080                               # the kernel's own TCP service there
NEW_VIP = "10.66.2.40"                         # the frontend added through the API
API = "?api-version=2020-05-01"
LB_REAL = f"{realnet.NET}/loadBalancers/lb-real"
VNET_B = f"{realnet.NET}/virtualNetworks/vnet-b"
PORT_NAME = "xdp"                              # the port's name in pmd-config/af-xdp.json
AF_XDP = 44


# -- helpers --------------------------------------------------------------------
def _skip_without_af_xdp():
    """The kernel's part: AF_XDP sockets (sluiced checks XDP itself, XdpUnsupported)."""
    try:
        socket.socket(AF_XDP, socket.SOCK_RAW, 0).close()
    except OSError as e:
        if e.errno in (97, 93):  # EAFNOSUPPORT, EPROTONOSUPPORT
            pytest.skip(f"this kernel has no AF_XDP sockets (CONFIG_XDP_SOCKETS): {e}")


def xdp_profile(**port_changes):
    """pmd-config/af-xdp.json (sluiced fills ${SLUICE_IFACE} and ${SLUICE_IPV4}
    from PROFILE_ENV) plus the port's IPv6 address and the router as gateway."""
    with open(os.path.join(slharness.ROOT, "pmd-config", "af-xdp.json")) as f:
        prof = json.load(f)
    port = prof["ports"][0]
    port["ipv6Address"] = LB_V6 + "/64"
    port["gateway"] = {"ipv4": ROUTER_B[0], "ipv6": ROUTER_B[1]}
    port.update(port_changes)
    return prof


PROFILE_ENV = {"SLUICE_IFACE": "lb0", "SLUICE_IPV4": LB_V4 + "/24"}


def attached(net):
    """(id, name) of the XDP program on lb0, or None."""
    m = re.search(r"prog/xdp id (\d+) name (\S+)", net.run("lb", ["ip", "link", "show", "lb0"]))
    return (int(m.group(1)), m.group(2)) if m else None


def lb0_state(net):
    """What a refused sluiced must leave as it was: the link (flags, XDP) and the addresses."""
    return (net.run("lb", ["ip", "-d", "link", "show", "lb0"]),
            net.run("lb", ["ip", "addr", "show", "dev", "lb0"]))


def curl(net, url, timeout=5, out=None, connect=2):
    cmd = ["curl", "-sS", "-g", "--noproxy", "*", "--connect-timeout", str(connect),
           "--max-time", str(timeout), url]
    if out:
        cmd += ["-o", out, "-w", "%{size_download}"]
    p = subprocess.run(["ip", "netns", "exec", net.ns["client"]] + cmd, capture_output=True,
                       text=True, timeout=timeout + 3)
    return p.returncode, (p.stdout.strip() if p.returncode == 0 else p.stderr.strip())


def curl_until(net, url, timeout=15):
    """curl until it answers; (rc, body) of the last try. Besides ARP/ND
    settling, this rides out a worker that goes unscheduled for seconds on a
    busy machine (runnable, but given no CPU time while other busy-polling
    processes run); that no frame is lost is checked separately
    (assert_nothing_lost)."""
    return until(lambda: (lambda r: r if r[0] == 0 else None)(curl(net, url)),
                 timeout=timeout) or curl(net, url)


def assert_nothing_lost(lb, timeout=15):
    """Every frame the XDP program redirected reached sluice (its ports' rx),
    and the program dropped none (a queue without sluice's socket)."""
    def same():
        st = lb.stats()
        x = st["xdp"][0]
        return (sum(l["rx"] for l in st["lcores"]), x["redirected"], x["dropped"])
    rx, redirected, dropped = until(lambda: (lambda v: v if v[0] == v[1] else None)(same()),
                                    timeout=timeout) or same()
    assert rx == redirected and dropped == 0, \
        f"sluice received {rx} frames, the XDP program redirected {redirected}, dropped {dropped}"


def ping(net, addr, count=2):
    cmd = ["ping", "-6" if ":" in addr else "-4", "-c", str(count), "-i", "0.2", "-W", "2", addr]
    p = subprocess.run(["ip", "netns", "exec", net.ns["client"]] + cmd, capture_output=True,
                       text=True, timeout=15)
    return p.returncode, p.stdout + p.stderr


def kernel_in_addr_errors(net):
    """Ip InAddrErrors of the lb namespace's kernel: packets it received for an
    address it does not own (and does not forward)."""
    lines = [l.split() for l in net.run("lb", ["cat", "/proc/net/snmp"]).splitlines()
             if l.startswith("Ip:")]
    return int(dict(zip(lines[0], lines[1]))["InAddrErrors"])


class Sluiced:
    """sluiced in the lb namespace on the AF_XDP profile, with a REST API socket."""

    def __init__(self, net, tmp, tag, config_path, profile=None):
        self.sock = os.path.join(tmp, f"api-{tag}.sock")
        self.d = slharness.Daemon(profile or xdp_profile(), config_path, netns=net.ns["lb"],
                                  env=PROFILE_ENV, extra_args=["--api-socket", self.sock])
        self.proc = self.d.proc

    def ready(self, timeout=20):
        """Until the API answers and the configuration is published; skips the
        module where sluiced finds that the kernel cannot run XDP."""
        def up():
            if self.proc.poll() is not None:
                return True
            try:
                return os.path.exists(self.sock) and slharness.api_request(
                    self.sock, "GET", "/sluice/status", timeout=2)[0] == 200
            except OSError:
                return False
        ok = until(up, timeout)
        if self.proc.poll() is not None:
            out = self.d.output()
            if "XdpUnsupported" in out:
                pytest.skip("the kernel cannot run sluice's AF_XDP port: " +
                            next(l for l in out.splitlines() if "XdpUnsupported" in l))
            raise AssertionError(f"sluiced exited ({self.proc.returncode}):\n{out}")
        assert ok, "the REST API did not answer:\n" + self.d.output()
        self.d.wait_stats(lambda s: s.get("generation", 0) >= 1, timeout=10)
        return self

    def api(self, method, path, body=None, status=(200, 201)):
        # a change is answered once every worker took it (a slow worker, a slow answer)
        st, _, data = slharness.api_request(self.sock, method, path, body, timeout=30)
        text = data.decode(errors="replace")
        assert st in status, f"{method} {path}: {st} {text[:2000]}"
        return json.loads(text) if text.strip().startswith("{") else text

    def stats(self):
        return self.api("GET", "/sluice/stats")

    def xdp(self):
        x = self.stats()["xdp"]
        assert len(x) == 1, x
        return x[0]

    def rule_packets(self, name):
        return {r["name"]: r["packets"] for r in self.stats()["rules"]}.get(name, 0)

    def output(self):
        return self.d.output()

    def stop(self):
        return self.d.stop()

    def kill(self):
        return self.d.kill()


def refused(net, profile, wrap=(), env=None, timeout=30):
    """Run sluiced that must not start: (exit status, output). wrap goes
    between `ip netns exec NS` and sluiced (setpriv, ...)."""
    d = tempfile.mkdtemp(prefix="sluice-xdp-refused-")
    try:
        path = os.path.join(d, "ports.json")
        with open(path, "w") as f:
            json.dump(profile, f)
        cmd = ["ip", "netns", "exec", net.ns["lb"]] + list(wrap) + [slharness.sluiced_path()] + \
            slharness.eal_args() + ["--", "--ports", path, "--no-api", "--stats-interval", "0"]
        p = subprocess.run(cmd, capture_output=True, timeout=timeout,
                           env=dict(os.environ, **(env or PROFILE_ENV)))
        out = (p.stdout + p.stderr).decode(errors="replace")
        # the message is whole text: nothing past its end (a format without its argument)
        assert "\ufffd" not in out and all(c.isprintable() or c in "\n\t" for c in out), \
            repr(out)
        if "XdpUnsupported" in out:
            pytest.skip("the kernel cannot run sluice's AF_XDP port: " + out.strip())
        return p.returncode, out
    finally:
        shutil.rmtree(d, ignore_errors=True)


# -- fixtures -------------------------------------------------------------------
@pytest.fixture(scope="module")
def net():
    """realnet's bed; lb0 gets the kernel's own addresses (IPv6 re-enabled)
    and a default route via the router."""
    _skip_without_af_xdp()
    netns.remove_stale()
    n = realnet.RealNet("xd").up()
    try:
        lb = n.ns["lb"]
        netns.sysctl(lb, **{"net.ipv6.conf.lb0.disable_ipv6": 0})
        n.run("lb", ["ip", "addr", "add", HOST_V4 + "/24", "dev", "lb0"])
        n.run("lb", ["ip", "-6", "addr", "add", HOST_V6 + "/64", "dev", "lb0", "nodad"])
        n.run("lb", ["ip", "route", "add", "default", "via", ROUTER_B[0]])
        n.run("lb", ["ip", "-6", "route", "add", "default", "via", ROUTER_B[1]])
        yield n
    finally:
        n.down()


@pytest.fixture(scope="module")
def tmp():
    d = tempfile.mkdtemp(prefix="sluice-xdp-e2e-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def servers(net, tmp):
    """HTTP on port 80 of every backend (its name; backend1/2 also a 256 KB
    file `big`), a UDP echo on backend1/2 (realnet.UDP_PORT), and the host's
    own HTTP service on HOST_V4:HOST_PORT in the lb namespace, answering
    `lb-host`."""
    procs = []
    try:
        for b, ns, bind, port in [(b, net.ns[b], "::", realnet.HTTP_PORT) for b in BACKENDS] + \
                [("lb-host", net.ns["lb"], HOST_V4, HOST_PORT)]:
            d = os.path.join(tmp, "www", b)
            os.makedirs(d)
            with open(os.path.join(d, "index.html"), "w") as f:
                f.write(b + "\n")
            with open(os.path.join(d, "big"), "wb") as f:
                f.write(os.urandom(256 * 1024))
            procs.append(subprocess.Popen(
                ["ip", "netns", "exec", ns, sys.executable, "-m", "http.server", str(port),
                 "--bind", bind, "--directory", d],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for b in ("backend1", "backend2"):
            procs.append(subprocess.Popen(
                ["ip", "netns", "exec", net.ns[b], sys.executable, "-c", realnet.UDP_ECHO, b,
                 str(realnet.UDP_PORT)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        realnet.wait_listening(net, BACKENDS, realnet.HTTP_PORT)
        realnet.wait_listening(net, ["lb"], HOST_PORT)
        yield os.path.join(tmp, "www")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture(scope="module")
def config_path(tmp):
    path = os.path.join(tmp, "config.json")
    with open(path, "w") as f:
        json.dump(realnet.config(vxlan=False), f, indent=1)
    return path


@pytest.fixture(scope="module")
def lb(net, servers, tmp, config_path):
    s = Sluiced(net, tmp, "main", config_path)
    try:
        yield s.ready()
    finally:
        s.stop()
        print(f"--- sluiced log ({s.d.dir}) ---\n{s.output()}")
        shutil.rmtree(s.d.dir, ignore_errors=True)


# -- a, b: traffic through sluice and to the host on the same interface -----------
def test_program_attached(net, lb):
    prog = attached(net)
    assert prog is not None and prog[1] == "sl_xdp_steer", prog
    x = lb.xdp()
    assert (x["port"], x["interface"], x["programId"]) == (PORT_NAME, "lb0", prog[0]), x
    assert x["mode"] in ("native", "generic"), x


def test_dnat_tcp(net, lb, servers):
    """Real kernel TCP through the DNAT frontend: both backends answer across
    connections, a 256 KB download arrives byte for byte, the replies came
    back through the XDP program (redirected as DNAT replies)."""
    before = lb.xdp()
    seen = set()
    for _ in range(16):
        rc, body = curl_until(net, f"http://{VIP_DNAT[0]}/")
        assert rc == 0, body
        seen.add(body)
    assert seen == {"backend1", "backend2"}
    out = os.path.join(servers, "..", "download")
    rc, size = curl(net, f"http://{VIP_DNAT[0]}/big", timeout=30, out=out)
    assert rc == 0, size
    with open(out, "rb") as f:
        got = f.read()
    originals = []
    for b in ("backend1", "backend2"):
        with open(os.path.join(servers, b, "big"), "rb") as f:
            originals.append(f.read())
    assert len(got) == 256 * 1024 and got in originals
    after = lb.xdp()
    assert after["redirectedBy"]["toSluice"] - before["redirectedBy"]["toSluice"] >= 17 * 3
    assert after["redirectedBy"]["reply"] - before["redirectedBy"]["reply"] >= 17 * 3
    assert lb.stats()["drops"].get("reply_no_flow", 0) == 0
    assert_nothing_lost(lb)


def test_dnat_tcp_ipv6(net, lb):
    """The same over IPv6: ND for the frontend and for sluice's gateway
    address go to sluice, not to the kernel that holds HOST_V6."""
    rc, body = curl_until(net, f"http://[{VIP_DNAT[1]}]/")
    assert rc == 0 and body in ("backend1", "backend2"), body
    assert lb.xdp()["redirectedBy"]["neighbour"] > 0


@pytest.mark.parametrize("fam", [4, 6])
def test_dnat_udp(net, lb, fam):
    """UDP through the DNAT frontend: the backend's reply is a UDP endpoint's
    (address, 17, port) in the program's map, redirected and sent from the
    frontend (a connected socket takes nothing else)."""
    before = lb.xdp()["redirectedBy"]["reply"]
    realnet.assert_backend_answer(realnet.udp_ask_until(net, VIP_DNAT[0 if fam == 4 else 1]))
    assert lb.xdp()["redirectedBy"]["reply"] > before


@pytest.mark.parametrize("fam", [4, 6])
def test_floating_ip_l2(net, lb, fam):
    """Floating IP with L2 delivery: backend3 holds the frontend and answers itself."""
    vip, rule = (VIP_L2, "lb-real/httpl2") if fam == 4 else (f"[{VIP_L2_6}]",
                                                             "lb-real/httpl2v6")
    before = lb.rule_packets(rule)
    assert curl_until(net, f"http://{vip}/") == (0, "backend3")
    assert until(lambda: lb.rule_packets(rule) > before, timeout=3)


@pytest.mark.parametrize("fam", [4, 6])
def test_ping_a_frontend(net, lb, fam):
    """sluice answers ICMP echo to a frontend: redirected, not the kernel's."""
    before = lb.xdp()["redirectedBy"]["toSluice"]
    vip = VIP_DNAT[0 if fam == 4 else 1]
    whole = lambda r: r if r[0] == 0 and " 0% packet loss" in r[1] else None  # noqa: E731
    rc, out = until(lambda: whole(ping(net, vip, count=3)), timeout=15) or ping(net, vip, count=3)
    assert rc == 0 and " 0% packet loss" in out, out
    assert lb.xdp()["redirectedBy"]["toSluice"] >= before + 3


def test_host_keeps_its_addresses(net, lb):
    """The kernel's own TCP service and ping on lb0 answer meanwhile, passed
    by the XDP program; sluice's frontend answers between them."""
    before = lb.xdp()
    for _ in range(3):
        assert curl(net, f"http://{HOST_V4}:{HOST_PORT}/") == (0, "lb-host")
        rc, body = curl_until(net, f"http://{VIP_DNAT[0]}/")
        assert rc == 0 and body in ("backend1", "backend2"), body
    for addr in (HOST_V4, HOST_V6):
        rc, out = ping(net, addr)
        assert rc == 0 and " 0% packet loss" in out, out
    after = lb.xdp()
    # 3 connections (>= 5 packets each from the client) and 4 echo requests
    assert after["passed"] - before["passed"] >= 3 * 5 + 4, (before, after)
    assert after["redirected"] > 0 and after["passed"] > 0
    metrics = lb.api("GET", "/sluice/metrics")
    vals = {v: int(m.group(1)) for v in ("redirected", "passed", "dropped")
            for m in [re.search(rf'^sluice_xdp_packets_total{{port="{PORT_NAME}",'
                                rf'verdict="{v}"}} (\d+)$', metrics, re.M)] if m}
    assert set(vals) == {"redirected", "passed", "dropped"}, metrics
    assert vals["redirected"] >= after["redirected"] and vals["passed"] >= after["passed"]
    assert re.search(rf'^sluice_xdp_redirected_packets_total{{port="{PORT_NAME}",'
                     r'kind="reply"} [1-9]', metrics, re.M), metrics
    # sluicectl stats shows them too
    ctl = subprocess.run([sys.executable, os.path.join(slharness.ROOT, "control", "sluicectl"),
                          "--socket", lb.sock, "stats"], capture_output=True, text=True,
                         timeout=30)
    assert ctl.returncode == 0, ctl.stderr
    rows = [l for l in ctl.stdout.splitlines() if l.split()[:1] == ["xdp"]]
    got = {k: int(l.split()[-1]) for l in rows for k in ("redirected", "passed", "dropped")
           if re.search(rf"\) {k}\s+\d+$", l)}
    assert set(got) == {"redirected", "passed", "dropped"}, ctl.stdout
    assert got["passed"] >= after["passed"] and got["redirected"] >= after["redirected"]


def host_curl(net, url, source):
    """curl from the lb namespace's kernel, from one of its own addresses."""
    p = subprocess.run(["ip", "netns", "exec", net.ns["lb"], "curl", "-sS", "--noproxy", "*",
                        "--interface", source, "--connect-timeout", "2", "--max-time", "4",
                        url], capture_output=True, text=True, timeout=8)
    return p.returncode, (p.stdout.strip() if p.returncode == 0 else p.stderr.strip())


def test_host_connects_to_a_dnat_backend(net, lb):
    """The host's own connection to a DNAT backend endpoint (backend1:80, as a
    health probe would): the backend's replies are to a host address, so the
    program passes them to the kernel instead of taking them for DNAT
    replies. An address the host adds on the way is known within a second
    or two (sluiced re-reads the host's addresses every second)."""
    url = f"http://{BACKENDS['backend1'][0]}/"
    assert host_curl(net, url, HOST_V4) == (0, "backend1")
    extra = "10.66.2.4"
    net.run("lb", ["ip", "addr", "add", extra + "/24", "dev", "lb0"])
    try:
        assert until(lambda: "the host's addresses changed" in lb.output(), timeout=5), \
            lb.output()
        assert host_curl(net, url, extra) == (0, "backend1")
    finally:
        net.run("lb", ["ip", "addr", "del", extra + "/24", "dev", "lb0"], check=False)


# -- c: configuration changes through the REST API -----------------------------------
def test_new_frontend_through_the_api(net, lb):
    """NEW_VIP is not a frontend yet: the router is told (a static neighbour)
    that it is on lb0, and the XDP program hands the client's SYNs to the
    kernel, which does not own it. Published through the API, it answers
    (the router finds it by ARP, which sluice answers now)."""
    router = net.ns["router"]
    netns.sh(["ip", "neigh", "replace", NEW_VIP, "lladdr", realnet.LB_MAC, "dev", "eth1",
              "nud", "permanent"], ns=router)
    try:
        errors, passed = kernel_in_addr_errors(net), lb.xdp()["passed"]
        rc, out = curl(net, f"http://{NEW_VIP}/", timeout=2, connect=1)
        assert rc != 0, f"{NEW_VIP} answered before it was published: {out}"
        assert kernel_in_addr_errors(net) > errors
        assert lb.xdp()["passed"] > passed
    finally:
        netns.sh(["ip", "neigh", "del", NEW_VIP, "dev", "eth1"], ns=router, check=False)
    body = realnet._lb("lb-new", [("fe-new", NEW_VIP, "vnet-b")],
                       [("web-new", ["backend1", "backend2"], "vnet-b", 4)],
                       [("http-new", "fe-new", "web-new", "Tcp", realnet.HTTP_PORT, False)])
    lb.api("PUT", f"{realnet.NET}/loadBalancers/lb-new{API}", body)
    rc, first = curl_until(net, f"http://{NEW_VIP}/")
    assert rc == 0 and first in ("backend1", "backend2"), first
    seen = {first} | {curl_until(net, f"http://{NEW_VIP}/")[1] for _ in range(11)}
    assert seen == {"backend1", "backend2"}
    assert until(lambda: lb.rule_packets("lb-new/http-new") > 0, timeout=3)


def test_removed_backend_gets_no_new_connections(net, lb):
    """backend2 leaves the IPv4 pool: every new connection goes to backend1."""
    member = {"name": "backend1", "properties": {"ipAddress": BACKENDS["backend1"][0],
                                                 "virtualNetwork": {"id": VNET_B}}}
    lb.api("PUT", f"{LB_REAL}/backendAddressPools/web4{API}",
           {"properties": {"loadBalancerBackendAddresses": [member]}})
    answers = [curl_until(net, f"http://{VIP_DNAT[0]}/") for _ in range(12)]
    assert answers == [(0, "backend1")] * 12


def test_second_sluiced_refused(net, lb):
    """One sluiced an interface: a second one stops before touching it."""
    prog, state = attached(net), lb0_state(net)
    rc, out = refused(net, xdp_profile())
    assert rc != 0
    assert "InterfaceInUse" in out and f"in use by another sluiced (pid {lb.proc.pid})" in out, out
    assert attached(net) == prog and lb0_state(net) == state
    assert curl_until(net, f"http://{VIP_DNAT[0]}/") == (0, "backend1")
    assert_nothing_lost(lb)


# -- d: the program's life: detached at exit, a killed sluiced's removed ---------------
def test_sigterm_detaches(net, lb):
    assert attached(net) is not None
    assert lb.stop() == 0, lb.output()
    assert attached(net) is None
    assert "prog/xdp" not in net.run("lb", ["ip", "link", "show", "lb0"])
    rc, out = ping(net, HOST_V4)   # the kernel keeps the interface
    assert rc == 0, out


def test_sigkill_leaves_the_program_and_the_next_sluiced_removes_it(net, servers, tmp,
                                                                   config_path):
    a = Sluiced(net, tmp, "killed", config_path).ready()
    left = attached(net)
    assert left is not None and left[1] == "sl_xdp_steer"
    a.kill()
    shutil.rmtree(a.d.dir, ignore_errors=True)
    assert attached(net) == left, "the program went with the killed sluiced"
    rc, out = ping(net, HOST_V4)   # the left program still passes the host's traffic
    assert rc == 0, out
    b = Sluiced(net, tmp, "next", config_path)
    try:
        b.ready()
        assert f"removed XDP program {left[0]} that an earlier sluiced left attached" in \
            b.output(), b.output()
        now = attached(net)
        assert now is not None and now[0] != left[0] and now[1] == "sl_xdp_steer"
        rc, body = curl_until(net, f"http://{VIP_DNAT[0]}/")
        assert rc == 0 and body in ("backend1", "backend2"), body
        assert b.stop() == 0, b.output()
        assert attached(net) is None
    finally:
        b.stop()
        print(f"--- sluiced log ({b.d.dir}) ---\n{b.output()}")
        shutil.rmtree(b.d.dir, ignore_errors=True)


# -- e: refusals that leave the interface alone -------------------------------------------
def test_missing_interface_refused(net):
    rc, out = refused(net, xdp_profile(), env=dict(PROFILE_ENV, SLUICE_IFACE="nosuch0"))
    assert rc != 0
    assert "InterfaceNotFound" in out and "interface nosuch0 does not exist" in out, out


@pytest.fixture
def foreign_program(net, tmp):
    """A tiny XDP program of someone else's (it passes everything), attached
    to lb0 in generic mode; detached after."""
    src, obj = os.path.join(tmp, "foreign.c"), os.path.join(tmp, "foreign.o")
    with open(src, "w") as f:
        f.write('__attribute__((section("xdp"), used)) int foreign(void *ctx) { return 2; }\n'
                'char _license[] __attribute__((section("license"), used)) = "GPL";\n')
    subprocess.run(["clang", "-O2", "-target", "bpf", "-c", src, "-o", obj], check=True,
                   capture_output=True, timeout=30)
    net.run("lb", ["ip", "link", "set", "dev", "lb0", "xdpgeneric", "obj", obj, "sec", "xdp"])
    try:
        prog = attached(net)
        assert prog is not None and prog[1] == "foreign", prog
        yield prog
    finally:
        net.run("lb", ["ip", "link", "set", "dev", "lb0", "xdpgeneric", "off"], check=False)


def test_foreign_xdp_program_refused(net, foreign_program):
    state = lb0_state(net)
    rc, out = refused(net, xdp_profile())
    assert rc != 0
    assert "InterfaceInUse" in out and \
        f"already runs XDP program 'foreign' (id {foreign_program[0]})" in out, out
    assert lb0_state(net) == state and attached(net) == foreign_program


@pytest.mark.parametrize("case", ["exceptionPath", "kernel address", "no CAP_NET_ADMIN"])
def test_bad_setup_refused(net, case):
    state = lb0_state(net)
    wrap, env = (), None
    if case == "exceptionPath":
        prof = xdp_profile(exceptionPath={"tap": "sl0"})
        expect = ["InvalidPortProfile", "needs no exception path", "remove exceptionPath"]
    elif case == "kernel address":
        env = dict(PROFILE_ENV, SLUICE_IPV4=HOST_V4 + "/24")
        prof = xdp_profile()
        expect = ["InvalidPortProfile", f"{HOST_V4} is an address of the host's kernel"]
    else:
        drop = "-net_admin,-sys_admin,-bpf"
        wrap = ["setpriv", f"--bounding-set={drop}", f"--inh-caps={drop}"]
        prof = xdp_profile()
        expect = ["XdpSetupFailed", "needs root (CAP_NET_ADMIN",
                  "to load its XDP program (target: xdp)"]
    rc, out = refused(net, prof, wrap=wrap, env=env)
    assert rc != 0
    for text in expect:
        assert text in out, out
    assert lb0_state(net) == state and attached(net) is None
