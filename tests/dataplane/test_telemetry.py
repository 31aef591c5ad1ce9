# SPDX-License-Identifier: BSD-3-Clause
"""sluice's commands on DPDK's telemetry socket (dataplane/sl_telemetry.h).

One sluiced, with telemetry on and its own --file-prefix, replays a known
trace on net_pcap and stays up: 10 TCP segments to a DNAT rule, 4 UDP datagrams
to a rule whose pool has a backend in adminState Down, 3 UDP datagrams to a
port no rule has (no_frontend). dpdk-telemetry.py must show those counters
under /sluice/stats, equal to GET /sluice/stats'; /sluice/rules,
/sluice/backends (with health), /sluice/flows and /sluice/lcores must agree.
A second load balancer's pool is probed over loopback: 127.0.0.1 answers the probe (a
listener of this test), 127.0.0.2 refuses it, so /sluice/backends reports one
Up and one Down. 70 rules and 150 more backends (names with '-' and '.')
make those lists longer than one 16 KiB reply: the pages must cover each
entry once, under its position in the list, and each reply must fit.
"""
import json
import os
import socket
import time

import pytest

import dphelpers as h
import sldpdk
from scapy.all import IP, wrpcap

VIP = h.fe_addr(1, 10)
N_TCP, N_UDP, N_STRAY = 10, 4, 3
N_BIG_RULES, N_BIG_BACKENDS = 70, 150
ARM = h.ARM


def lb_config(probe_port):
    lb = (h.LB("lb1", 1).frontend("fe", VIP)
          .pool("pool-a", [h.be_addr(1, 1, 4), h.be_addr(1, 1, 5)])
          .pool("pool.b", [h.be_addr(1, 2, 4), h.be_addr(1, 2, 5)])
          .pool("big-pool", [h.be_addr(1, 3, 1 + i) for i in range(N_BIG_BACKENDS)],
                neighbours=False)
          .rule("web.http", "fe", "pool-a", "Tcp", 80, 8080)
          .rule("dns", "fe", "pool.b", "Udp", 53))
    for i in range(N_BIG_RULES):
        lb.rule(f"r-{i}", "fe", "big-pool", "Tcp", 10000 + i)
    pools = {p["name"]: p for p in lb.pools}
    pools["pool.b"]["properties"]["loadBalancerBackendAddresses"][0]["properties"][
        "adminState"] = "Down"
    big = pools["big-pool"]["properties"]["loadBalancerBackendAddresses"]
    for i, a in enumerate(big):
        a["name"] = f"be-{i}.x"
    # lb2's pool is probed over loopback (its vnet holds 127.0.0.0/8)
    lb2 = (h.LB("lb2", 9).frontend("fe", h.fe_addr(9, 10))
           .pool("probed", ["127.0.0.1", "127.0.0.2"], neighbours=False)
           .rule("probed", "fe", "probed", "Tcp", 9000))
    vnet9 = h.make_vnet(9)
    vnet9["properties"]["addressSpace"]["addressPrefixes"].append("127.0.0.0/8")
    cfg = h.make_config([h.make_vnet(1), vnet9], [lb, lb2])
    lbj = cfg["loadBalancers"][1]
    probe_id = h.lb_child_id("lb2", "probes", "tcp")
    lbj["properties"]["probes"] = [{"name": "tcp", "id": probe_id, "properties": {
        "protocol": "Tcp", "port": probe_port, "intervalInSeconds": 5, "numberOfProbes": 1}}]
    lbj["properties"]["loadBalancingRules"][0]["properties"]["probe"] = {"id": probe_id}
    return lb, cfg


def trace():
    tcp = [h.pkt(h.client(i), VIP, "tcp", 40000 + i, 80) for i in range(N_TCP)]
    udp = [h.pkt(h.client(i), VIP, "udp", 41000 + i, 53) for i in range(N_UDP)]
    stray = [h.pkt(h.client(i), VIP, "udp", 42000 + i, 5353) for i in range(N_STRAY)]
    return tcp, udp, stray


@pytest.fixture(scope="module")
def daemon():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    lb, cfg = lb_config(listener.getsockname()[1])
    tcp, udp, stray = trace()
    d = None
    prefix = sldpdk.new_prefix("tel")
    try:
        work = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"sluice-{prefix}")
        os.makedirs(work, exist_ok=True)
        rx, tx = os.path.join(work, "in.pcap"), os.path.join(work, "out.pcap")
        wrpcap(rx, tcp + udp + stray)
        cfg_path = os.path.join(work, "config.json")
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)
        sock = os.path.join(work, "api.sock")
        d = h.slharness.Daemon(h.slharness.port_profile(rx, tx, h.neighbours_of([lb])),
                               cfg_path, eal=sldpdk.eal_args(prefix),
                               extra_args=["--api-socket", sock, "--flow-table-size", "4096"])
        d.wait_stats(lambda s: s["rx"] == N_TCP + N_UDP + N_STRAY and s["tx"] == N_TCP + N_UDP)
        yield {"d": d, "prefix": prefix, "sock": sock, "tcp": tcp, "udp": udp, "lb": lb}
    finally:
        listener.close()
        rc = d.stop() if d is not None else 0
        sldpdk.remove_runtime(prefix)
        assert rc == 0, f"sluiced exited {rc} (sanitizer report?):\n{d.output()}"


def rest_stats(sock):
    status, _, body = h.slharness.api_request(sock, "GET", "/sluice/stats")
    assert status == 200, body
    return json.loads(body)


def ip_bytes(pkts):
    return sum(p[IP].len for p in pkts)


def all_pages(prefix, command):
    """Every entry of a paged command by its key (its position in the list),
    following "next"; checks each reply's size and that the keys are 0..total-1."""
    entries, offset, pages = {}, 0, 0
    while True:
        size, page, _ = sldpdk.telemetry_raw(prefix, f"{command},{offset}")
        assert size < 16384, f"{command},{offset}: {size} bytes"
        key = command.rsplit("/", 1)[1]
        assert page["offset"] == offset
        for k, v in page[key].items():
            assert k not in entries, f"{k} on two pages"
            entries[k] = v
        pages += 1
        if "next" not in page:
            assert set(entries) == {str(i) for i in range(page["total"])}
            return entries, page["total"], pages
        assert page["next"] == offset + len(page[key]) and page[key], page
        offset = page["next"]


def test_stats_counters_after_known_traffic(daemon):
    tel = sldpdk.telemetry(daemon["prefix"], "/sluice/stats")
    assert tel["rx"] == N_TCP + N_UDP + N_STRAY
    assert tel["tx"] == N_TCP + N_UDP
    assert tel["dropped"] == N_STRAY
    assert tel["drops"]["no_frontend"] == N_STRAY
    assert sum(tel["drops"].values()) == N_STRAY
    assert tel["flows"]["live"] == N_TCP + N_UDP
    assert tel["flows"]["misses"] == N_TCP + N_UDP
    # the counters of GET /sluice/stats, but the lists that other commands page through
    rest = rest_stats(daemon["sock"])
    for k in ("lcores", "rules", "backends", "elapsedSeconds"):
        rest.pop(k)
    # per-frontend counters are REST's and Prometheus's (a list of objects: not telemetry's)
    rest.pop("frontends")
    assert "frontends" not in tel
    tel.pop("elapsedSeconds")
    assert tel == rest


def test_rules(daemon):
    listed, total, pages = all_pages(daemon["prefix"], "/sluice/rules")
    assert total == 3 + N_BIG_RULES and pages >= 2
    rules = {r["name"]: r for r in listed.values()}
    assert len(rules) == total
    web = rules["lb1/web.http"]
    assert web == {"name": "lb1/web.http", "kind": "loadBalancingRule", "frontend": VIP,
                   "protocol": "Tcp", "frontendPort": 80, "backendPort": 8080,
                   "pool": "lb1/pool-a", "floatingIp": 0, "packets": N_TCP,
                   "bytes": ip_bytes(daemon["tcp"])}
    assert rules["lb1/dns"]["packets"] == N_UDP
    assert rules["lb1/dns"]["bytes"] == ip_bytes(daemon["udp"])
    assert rules["lb1/dns"]["protocol"] == "Udp"
    assert set(rules) >= {f"lb1/r-{i}" for i in range(N_BIG_RULES)}
    assert rules["lb1/r-69"]["frontendPort"] == 10069


def test_backends_with_health(daemon):
    prefix = daemon["prefix"]
    deadline = time.time() + 15
    while True:  # the first probes run within a second or two of the start
        backends, total, pages = all_pages(prefix, "/sluice/backends")
        probed = {b["address"]: b for b in backends.values() if b["pool"] == "lb2/probed"}
        if probed["127.0.0.2"]["health"] == "Down" or time.time() > deadline:
            break
        time.sleep(0.3)
    assert probed["127.0.0.1"]["health"] == "Up" and probed["127.0.0.1"]["takesNewFlows"] == 1
    assert probed["127.0.0.2"]["health"] == "Down" and probed["127.0.0.2"]["takesNewFlows"] == 0
    assert total == len(backends) == 6 + N_BIG_BACKENDS and pages >= 2
    a = {b["address"]: b for b in backends.values() if b["pool"] == "lb1/pool-a"}
    assert sum(b["packets"] for b in a.values()) == N_TCP
    assert sum(b["bytes"] for b in a.values()) == ip_bytes(daemon["tcp"])
    b = {x["address"]: x for x in backends.values() if x["pool"] == "lb1/pool.b"}
    down, up = b[h.be_addr(1, 2, 4)], b[h.be_addr(1, 2, 5)]
    assert (down["adminDown"], down["takesNewFlows"], down["packets"]) == (1, 0, 0)
    assert (up["adminDown"], up["takesNewFlows"], up["packets"]) == (0, 1, N_UDP)
    assert up["health"] == down["health"] == "Up"  # no probe on that pool
    names = {v["name"] for v in backends.values()}
    assert len(names) == total
    assert {f"lb1/big-pool/be-{i}.x" for i in range(N_BIG_BACKENDS)} <= names


def test_flows_and_lcores(daemon):
    prefix = daemon["prefix"]
    flows = sldpdk.telemetry(prefix, "/sluice/flows")
    assert flows["live"] == N_TCP + N_UDP and flows["capacityPerLcore"] == 4096
    assert flows["lcores"] == {"1": {"lcore": 1, "live": N_TCP + N_UDP}}
    lcores = sldpdk.telemetry(prefix, "/sluice/lcores")
    assert lcores["total"] == 1 and "next" not in lcores
    lc = lcores["lcores"]["1"]
    assert (lc["rx"], lc["tx"], lc["dropped"]) == (N_TCP + N_UDP + N_STRAY, N_TCP + N_UDP,
                                                   N_STRAY)
    # the bytes it forwarded, as GET /sluice/stats counts them (its rules' bytes)
    rest = [r for r in rest_stats(daemon["sock"])["lcores"] if r["lcore"] == 1][0]
    assert lc["forwardedBytes"] == rest["forwardedBytes"] > 0


def test_beside_ethdev_and_bad_parameters(daemon):
    prefix = daemon["prefix"]
    _, cmds, hello = sldpdk.telemetry_raw(prefix, "/")
    assert {"/sluice/stats", "/sluice/rules", "/sluice/backends", "/sluice/flows",
            "/sluice/lcores", "/ethdev/stats", "/ethdev/list"} <= set(cmds)
    assert hello["pid"] == daemon["d"].proc.pid
    assert sldpdk.telemetry(prefix, "/ethdev/stats,0")["ipackets"] == N_TCP + N_UDP + N_STRAY
    assert "error" in sldpdk.telemetry(prefix, "/sluice/rules,x")
    page = sldpdk.telemetry(prefix, "/sluice/rules,100000")
    assert page["total"] == 3 + N_BIG_RULES and "next" not in page
    _, helptext, _ = sldpdk.telemetry_raw(prefix, "/help,/sluice/backends")
    assert "health" in helptext["/sluice/backends"].lower()
