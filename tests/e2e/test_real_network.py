# SPDX-License-Identifier: BSD-3-Clause
"""sluice on a routed network with nothing static (realnet.py): the client is
behind a router, the backends on sluice's segment; every MAC is found by
ARP/ND. DNAT with the return path (TCP and UDP, IPv4 and IPv6), Floating IP
with L2 and VXLAN delivery, ping of a frontend, and path MTU discovery
through sluice (the router's fragmentation-needed reaches the backend that
owns the flow)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import realnet  # noqa: E402
from e2ehelpers import NetnsDaemon  # noqa: E402
from realnet import until  # noqa: E402
from realnet import (BACKENDS, CLIENT, VIP_DNAT, VIP_L2, VIP_L2_6, VIP_VXLAN,  # noqa: E402
                     VIP_VXLAN_6)


@pytest.fixture(scope="module")
def net():
    yield from realnet.built("rn")


@pytest.fixture(scope="module")
def servers(net):
    """HTTP (dual stack, port 80) and a UDP echo (5353) on every backend; each
    answers with its name. backend1/2 also serve a 256 KB file."""
    root = tempfile.mkdtemp(prefix="sluice-realnet-www-")
    procs = []
    try:
        for b in BACKENDS:
            d = os.path.join(root, b)
            os.makedirs(d)
            with open(os.path.join(d, "index.html"), "w") as f:
                f.write(b + "\n")
            with open(os.path.join(d, "big"), "wb") as f:
                f.write(os.urandom(256 * 1024))
            procs.append(subprocess.Popen(
                ["ip", "netns", "exec", net.ns[b], sys.executable, "-m", "http.server",
                 str(realnet.HTTP_PORT), "--bind", "::", "--directory", d],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            procs.append(subprocess.Popen(
                ["ip", "netns", "exec", net.ns[b], sys.executable, "-c", realnet.UDP_ECHO, b,
                 str(realnet.UDP_PORT)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        realnet.wait_listening(net, BACKENDS, realnet.HTTP_PORT)
        yield root
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def lb(net, servers):
    d = NetnsDaemon(net.ns["lb"], realnet.port_profile(), realnet.config())
    try:
        d.wait_stats(lambda s: s.get("generation", 0) >= 1, timeout=20)
        yield d
    finally:
        d.stop()
        print(f"--- sluiced log ({d.dir}) ---\n{d.output()}")
        shutil.rmtree(d.dir, ignore_errors=True)


def curl(net, url, timeout=5, out=None):
    cmd = ["curl", "-sS", "-g", "--noproxy", "*", "--connect-timeout", "3", "--max-time",
           str(timeout), url]
    if out:
        cmd += ["-o", out, "-w", "%{size_download}"]
    p = subprocess.run(["ip", "netns", "exec", net.ns["client"]] + cmd, capture_output=True,
                       text=True, timeout=timeout + 3)
    return p.returncode, (p.stdout.strip() if p.returncode == 0 else p.stderr.strip())


def udp_ask(net, addr):
    p = subprocess.run(["ip", "netns", "exec", net.ns["client"], sys.executable, "-c",
                        realnet.UDP_ASK, addr, str(realnet.UDP_PORT)],
                       capture_output=True, text=True, timeout=10)
    return p.returncode, (p.stdout.strip() if p.returncode == 0 else p.stderr.strip())


def stats(lb):
    return lb.wait_stats(lambda s: True)


@pytest.mark.parametrize("fam", [4, 6])
def test_dnat_tcp_with_return_path(net, lb, fam):
    """Real TCP through DNAT: the backends reply through sluice (their gateway),
    which sends the reply from the frontend; connections spread over both."""
    vip = VIP_DNAT[0] if fam == 4 else f"[{VIP_DNAT[1]}]"
    first = until(lambda: curl(net, f"http://{vip}/")[0] == 0, timeout=15)
    assert first, f"no answer through {vip}: {curl(net, f'http://{vip}/')}"
    seen = set()
    for _ in range(12):
        rc, body = curl(net, f"http://{vip}/")
        assert rc == 0, body
        seen.add(body)
    assert seen == {"backend1", "backend2"}
    assert until(lambda: stats(lb)["paths"]["reply"] > 0, timeout=3)
    assert stats(lb)["drops"].get("reply_no_flow", 0) == 0


@pytest.mark.parametrize("fam", [4, 6])
def test_dnat_udp_with_return_path(net, lb, fam):
    """A connected UDP socket receives only from the address it sent to: the
    reply must come from the frontend's address and port."""
    vip = VIP_DNAT[0] if fam == 4 else VIP_DNAT[1]
    rc, out = until(lambda: (lambda r: r if r[0] == 0 else None)(udp_ask(net, vip)),
                    timeout=10) or udp_ask(net, vip)
    assert rc == 0, out
    realnet.assert_backend_answer(out)


def rule_packets(lb, name):
    return {r["name"]: r["packets"] for r in stats(lb)["rules"]}.get(name, 0)


@pytest.mark.parametrize("fam", [4, 6])
def test_floating_ip_l2_delivery(net, lb, fam):
    """Direct server return by MAC rewrite: backend3 holds the frontend on its
    loopback and answers the client itself (through the router)."""
    vip, rule = (VIP_L2, "lb-real/httpl2") if fam == 4 else (f"[{VIP_L2_6}]", "lb-real/httpl2v6")
    before = rule_packets(lb, rule)
    rc, body = until(lambda: (lambda r: r if r[0] == 0 else None)(
        curl(net, f"http://{vip}/")), timeout=10) or curl(net, f"http://{vip}/")
    assert (rc, body) == (0, "backend3")
    # through sluice, not around it
    assert until(lambda: rule_packets(lb, rule) > before, timeout=3)


@pytest.mark.parametrize("fam", [4, 6])
def test_floating_ip_vxlan_into_the_kernel(net, lb, fam):
    """VXLAN into the kernel's vxlan device: over IPv4 (vx0) for the IPv4
    frontend, over IPv6 (vx1) for the IPv6 one."""
    vip, dev = (VIP_VXLAN, "vx0") if fam == 4 else (f"[{VIP_VXLAN_6}]", "vx1")
    rc, body = until(lambda: (lambda r: r if r[0] == 0 else None)(
        curl(net, f"http://{vip}/")), timeout=10) or curl(net, f"http://{vip}/")
    assert (rc, body) == (0, "backend3")
    rx = int(net.run("backend3", ["cat", f"/sys/class/net/{dev}/statistics/rx_packets"]))
    assert rx > 0


@pytest.mark.parametrize("fam", [4, 6])
def test_ping_a_frontend(net, lb, fam):
    vip = VIP_DNAT[0] if fam == 4 else VIP_DNAT[1]
    cmd = ["ping", "-c", "3", "-i", "0.2", "-W", "2", vip]
    if fam == 6:
        cmd.insert(1, "-6")
    p = subprocess.run(["ip", "netns", "exec", net.ns["client"]] + cmd, capture_output=True,
                       text=True, timeout=15)
    assert p.returncode == 0, p.stdout + p.stderr
    assert " 0% packet loss" in p.stdout


def test_every_mac_found_by_arp_and_nd(net, lb):
    """No static neighbour anywhere: the router learned sluice's MAC for the
    frontends, the backends for their gateway (sluice's port address)."""
    curl(net, f"http://{VIP_DNAT[0]}/")
    router = net.run("router", ["ip", "neigh", "show", "dev", "eth1"])
    for vip in (VIP_DNAT[0], VIP_DNAT[1], VIP_L2):
        line = [l for l in router.splitlines() if l.startswith(vip + " ")]
        assert line and realnet.LB_MAC in line[0], router
    b1 = net.run("backend1", ["ip", "neigh", "show"])
    assert any(l.startswith(realnet.LB_V4 + " ") and realnet.LB_MAC in l for l in b1.splitlines()), b1
    assert any(l.startswith(realnet.LB_V6 + " ") and realnet.LB_MAC in l for l in b1.splitlines()), b1


@pytest.mark.parametrize("fam", [4, 6])
def test_path_mtu_discovery_through_sluice(net, lb, fam):
    """The router's link to the client has MTU 1280. A backend's 1500-byte
    segments (from the frontend, after the return path) make the router send
    fragmentation-needed (IPv6: packet too big) to the frontend; sluice hands
    it to the backend that owns the flow, rewritten to its address and port,
    and the download completes in smaller segments."""
    before = stats(lb)["paths"]["icmp_error_forwarded"]
    net.run("router", ["ip", "link", "set", "eth0", "mtu", "1280"])
    try:
        vip = VIP_DNAT[0] if fam == 4 else f"[{VIP_DNAT[1]}]"
        out = os.path.join(tempfile.mkdtemp(prefix="sluice-pmtu-"), "big")
        rc, size = curl(net, f"http://{vip}/big", timeout=15, out=out)
        assert rc == 0, size
        assert int(float(size)) == 256 * 1024
        # (the statistics file is written every 0.2 s)
        assert until(lambda: stats(lb)["paths"]["icmp_error_forwarded"] > before, timeout=3)
        # the backend that served it now knows the path MTU to the client
        client = CLIENT[0] if fam == 4 else CLIENT[1]
        mtus = [net.run(b, ["ip", "route", "get", client]) for b in ("backend1", "backend2")]
        assert any("mtu 1280" in m for m in mtus), mtus
    finally:
        net.run("router", ["ip", "link", "set", "eth0", "mtu", "1500"])


def test_no_unexpected_drops(net, lb):
    """Nothing dropped for a reason the test bed does not explain, and the
    control thread sent a handful of ARP/ND and echo packets, not a storm
    (neighbours are asked for once, then re-probed after a minute)."""
    s = stats(lb)
    assert s["paths"]["injected"] < 400, s["paths"]
    allowed = {"not_ip", "no_frontend", "not_for_us", "l4_unsupported", "no_neighbour"}
    bad = {k: v for k, v in s["drops"].items() if v and k not in allowed}
    assert not bad, json.dumps(s["drops"])
