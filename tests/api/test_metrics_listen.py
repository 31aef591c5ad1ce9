# SPDX-License-Identifier: BSD-3-Clause
"""--metrics-listen ADDR:PORT: the Prometheus text over HTTP on TCP (docs/api.md).

sluiced on a net_null port with a configuration, --metrics-listen on
loopback with port 0 (the port it chose is in its log). The listener
serves GET and HEAD /metrics, the same series as GET /sluice/metrics on
the API socket, in a text promtool accepts; every other path is 404,
every other method 405, and nothing sent to it changes the configuration
or the service state. One address holds at most 8 of its connections. Bad addresses and a port in use stop sluiced at
start; without the option sluiced listens on no TCP port.
"""
import http.client
import os
import re
import shutil
import socket
import subprocess
import time

import pytest

import apihelpers as h
from apihelpers import rid

VIP = "10.0.0.10"


def configure(api):
    """A load balancer with frontend fe (VIP), pool pool and rule http."""
    api.ok("PUT", rid("virtualNetworks", "vnet"),
           h.vnet_body(["10.0.0.0/24"], {"default": "10.0.0.0/24"}), status=201)
    api.ok("PUT", rid("loadBalancers", "lb"), h.lb_body(
        frontends=[h.frontend("fe", VIP, "vnet", "default")],
        pools=[h.pool("pool", [h.address("a", "10.0.0.11", "vnet")])],
        rules=[h.rule("http", "lb", "fe", "pool", "Tcp", 80, 80)]), status=201)


def request(addr, method, path, body=None):
    c = http.client.HTTPConnection(addr[0], addr[1], timeout=10)
    try:
        c.request(method, path, body=body,
                  headers={"Content-Type": "application/json"} if body else {})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


def series(text):
    """The series (name and labels) of a Prometheus text, without the values."""
    return sorted(line.rsplit(" ", 1)[0] for line in text.splitlines()
                  if line and not line.startswith("#"))


@pytest.fixture(scope="module")
def sluiced(module_daemons):
    d = module_daemons.start(extra_args=["--metrics-listen", "127.0.0.1:0"])
    configure(d.api)
    return d, h.metrics_address(d)


def test_serves_the_api_metrics(sluiced):
    d, addr = sluiced
    status, headers, body = request(addr, "GET", "/metrics")
    assert status == 200, body
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = body.decode()
    api = d.api.request("GET", "/sluice/metrics", api_version=None)
    assert api.status == 200
    # the counters move between the two requests (net_null never stops); the series do not
    assert series(text) == series(api.text)
    assert f'sluice_frontend_packets_total{{frontend="lb/fe",address="{VIP}"}}' in series(text)
    assert 'sluice_rule_packets_total{rule="lb/http",kind="loadBalancingRule"}' in series(text)


def test_connections_per_host(sluiced):
    """8 connections held open from one address: a ninth from it is closed unanswered;
    once they go, it is served."""
    _, addr = sluiced
    held = [socket.create_connection(addr, timeout=10) for _ in range(8)]
    try:
        time.sleep(0.3)
        s = socket.create_connection(addr, timeout=10)
        try:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            got = s.recv(100)
        except (ConnectionResetError, BrokenPipeError):
            got = b""
        finally:
            s.close()
        assert got == b"", got
    finally:
        for c in held:
            c.close()
    time.sleep(0.3)
    status, _, _ = request(addr, "GET", "/metrics")
    assert status == 200


@pytest.mark.skipif(shutil.which("promtool") is None, reason="needs promtool (Debian prometheus)")
def test_promtool_accepts_the_text(sluiced):
    _, addr = sluiced
    _, _, body = request(addr, "GET", "/metrics")
    p = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                       timeout=30)
    assert p.returncode == 0, (p.stdout + p.stderr).decode()


def test_head(sluiced):
    _, addr = sluiced
    status, headers, body = request(addr, "HEAD", "/metrics")
    assert status == 200
    assert body == b""
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")


@pytest.mark.parametrize("path", ["/", "/metrics/", "/metricsx", "/sluice/metrics",
                                  "/sluice/stats", "/sluice/status", rid("loadBalancers")])
def test_other_paths_404(sluiced, path):
    _, addr = sluiced
    for method in ("GET", "PUT", "DELETE"):
        status, _, body = request(addr, method, path, b"{}" if method == "PUT" else None)
        assert status == 404, (method, path, body)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_405(sluiced, method):
    _, addr = sluiced
    status, headers, _ = request(addr, method, "/metrics", b"x" * 100)
    assert status == 405
    assert headers["Allow"] == "GET, HEAD"


def test_read_only(sluiced):
    """Requests that would change the configuration or the service state on the
    API socket change nothing when sent to the listener."""
    d, addr = sluiced
    before, commits = d.api.snapshot(), d.api.commits()
    service = d.api.request("GET", "/sluice/service", api_version=None).json
    lb = rid("loadBalancers", "lb") + "?api-version=" + h.API_VERSION
    assert request(addr, "DELETE", lb)[0] == 404
    assert request(addr, "PUT", rid("loadBalancers", "lb2") + "?api-version=" + h.API_VERSION,
                   b'{"location": "eastus", "properties": {}}')[0] == 404
    assert request(addr, "PUT", "/sluice/service", b'{"state": "OutOfService"}')[0] == 404
    assert d.api.snapshot() == before
    assert d.api.commits() == commits
    assert d.api.request("GET", "/sluice/service", api_version=None).json == service


def test_ipv6_loopback(daemons):
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    d = daemons.start(extra_args=["--metrics-listen", "[::1]:0"])
    host, port = h.metrics_address(d)
    assert host == "::1"
    status, _, body = request((host, port), "GET", "/metrics")
    assert status == 200
    assert b"sluice_rx_packets_total" in body


@pytest.mark.parametrize("spec", ["localhost:9470", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
                                  "127.0.0.1:http", "::1:9470", "[::1]", "[::1:9470",
                                  "[127.0.0.1]:9470", ":9470"])
def test_bad_address_refused(daemons, spec):
    d = daemons.spawn(extra_args=["--metrics-listen", spec])
    assert d.wait_exit(20) != 0
    assert "--metrics-listen" in d.output() and spec in d.output(), d.output()


def test_port_in_use(daemons):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    try:
        spec = f"127.0.0.1:{s.getsockname()[1]}"
        d = daemons.spawn(extra_args=["--metrics-listen", spec])
        assert d.wait_exit(20) != 0
        out = d.output()
        assert "MetricsListenFailed" in out and spec in out, out
    finally:
        s.close()


def tcp_listening_inodes():
    """Socket inodes in LISTEN state (0A) in /proc/net/tcp and tcp6."""
    inodes = set()
    for f in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(f) as fh:
                next(fh)
                for line in fh:
                    cols = line.split()
                    if cols[3] == "0A":
                        inodes.add(cols[9])
        except OSError:
            pass
    return inodes


def socket_inodes(pid):
    out = set()
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]", target)
        if m:
            out.add(m.group(1))
    return out


def test_off_by_default(daemons, sluiced):
    """Without --metrics-listen sluiced listens on no TCP port (with it, on one)."""
    d = daemons.start()
    assert "Prometheus metrics on" not in d.output()
    assert not socket_inodes(d.proc.pid) & tcp_listening_inodes()
    with_listener, _ = sluiced
    assert len(socket_inodes(with_listener.proc.pid) & tcp_listening_inodes()) == 1
