# SPDX-License-Identifier: BSD-3-Clause
"""sluicectl top (docs/sluicectl.md, "top"): the live view in a real terminal
(tmux: the frame it draws in 80 columns, q and Ctrl-C quit it cleanly),
--once's plain frame and -o json's rates under known traffic, and the frame
with and without per-frontend counters.

sluiced replays a trace forever (net_pcap, infinite_rx): 100 TCP flows to
frontend 10.9.0.1:80 (rule "web", to a pool of two loopback backends: "up",
whose Tcp probe finds the test's listener, and "dead", probed Down) and 50
packets to port 81, which no rule takes (dropped, no_frontend). So two thirds
of what arrives is forwarded by "web", a third dropped, rule "idle" (port
8080) sees nothing, and every forwarded packet is 46 bytes of IP (368 bits).
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest

import clihelpers as h
import slharness
import sltrace
from scapy.all import IP, TCP, Ether, Raw, wrpcap

FRONTEND = "10.9.0.1"
WEB_FLOWS, STRAY = 100, 50
BITS_PER_PACKET = 8 * (20 + 20 + 6)  # IPv4 + TCP headers and sltrace's 6-byte payload


def config(probe_port):
    def addr(name, ip):
        return {"name": name, "properties": {"ipAddress": ip, "virtualNetwork": {"id": "tvnet"}}}

    def rule(name, port, probe=True):
        p = {"frontendIPConfiguration": {"id": "frontendIPConfigurations/fe"},
             "backendAddressPool": {"id": "backendAddressPools/web"},
             "protocol": "Tcp", "frontendPort": port, "backendPort": port}
        if probe:
            p["probe"] = {"id": "probes/tp"}
        return {"name": name, "properties": p}
    return {
        "virtualNetworks": [{"name": "tvnet", "properties": {
            "addressSpace": {"addressPrefixes": ["127.0.0.0/8"]}}}],
        "loadBalancers": [{"name": "tlb", "sku": {"name": "Standard"}, "properties": {
            "frontendIPConfigurations": [{"name": "fe",
                                          "properties": {"privateIPAddress": FRONTEND}}],
            "backendAddressPools": [{"name": "web", "properties": {
                "loadBalancerBackendAddresses": [addr("up", "127.0.0.1"),
                                                 addr("dead", "127.0.0.9")]}}],
            "probes": [{"name": "tp", "properties": {"protocol": "Tcp", "port": probe_port,
                                                     "intervalInSeconds": 5,
                                                     "numberOfProbes": 1}}],
            "loadBalancingRules": [rule("web", 80), rule("idle", 8080, probe=False)]}}]}


@pytest.fixture(scope="module")
def traffic(sluiced_binary):
    """sluiced under the known traffic, its "dead" backend probed Down."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))  # "up" answers the probe; 127.0.0.9 refuses it
    listener.listen(64)
    work = tempfile.mkdtemp(prefix="sluice-top-")
    pcap, cfg = os.path.join(work, "trace.pcap"), os.path.join(work, "config.json")
    stray = [Ether(dst=slharness.SLUICE_MAC, src=slharness.ROUTER_MAC)
             / IP(src=f"198.19.0.{i + 1}", dst=FRONTEND) / TCP(sport=40000 + i, dport=81)
             / Raw(b"x" * 6) for i in range(STRAY)]
    wrpcap(pcap, sltrace.generate([(FRONTEND, "tcp", 80)], WEB_FLOWS, 1, 6, seed=5) + stray)
    with open(cfg, "w") as f:
        json.dump(config(listener.getsockname()[1]), f)
    profile = {"ports": [{"name": "wire0", "device": "net_pcap0",
                          "devargs": f"rx_pcap={pcap},infinite_rx=1", "rxQueues": 1,
                          "extraMbufs": 4096, "neighbourDiscovery": False,
                          "macAddress": slharness.SLUICE_MAC, "ipv4Address": "10.0.0.2",
                          "gateway": {"ipv4": "10.0.0.1"},
                          "neighbours": [{"ipAddress": "10.0.0.1",
                                          "macAddress": slharness.ROUTER_MAC}]}]}
    d = h.ApiDaemon(profile=profile, extra_args=["--config", cfg])
    try:
        d.wait_api()
        cli = h.Cli(d)
        deadline = time.time() + 20
        while True:
            health = {t["address"]: t["health"] for t in cli.json("probes")["value"]}
            if health == {"up": "Up", "dead": "Down"}:
                break
            assert time.time() < deadline, f"probes: {health}"
            time.sleep(0.3)
        yield cli
    finally:
        rc = d.stop()
        listener.close()
        if rc not in (0, None) or h.keep_tmp():
            print(f"--- sluiced exited {rc}; log kept in {d.dir} ---\n{d.output()}")
        else:
            shutil.rmtree(d.dir, ignore_errors=True)
            shutil.rmtree(work, ignore_errors=True)


def si_value(text):
    """"7.38M" -> 7380000.0 (sluicectl's si())."""
    m = re.fullmatch(r"([\d.]+)([kMGT]?)", text)
    assert m, text
    return float(m.group(1)) * {"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}[m.group(2)]


def section(lines, title):
    """The rows (split on spaces) of a frame's section, its heading dropped."""
    i = next(k for k, ln in enumerate(lines) if ln.startswith(title + " "))
    rows = []
    for ln in lines[i + 1:]:
        if not ln.strip():
            break
        rows.append(ln.split())
    return rows


def check_frame(lines):
    """What every frame shows under the known traffic, in 80 columns."""
    assert all(len(ln) <= 80 for ln in lines), [ln for ln in lines if len(ln) > 80]
    assert re.match(r"sluice top  generation [1-9]\d*  up \d+:\d\d:\d\d  rates over "
                    r"\d+\.\d s  ", lines[0]), lines[0]
    assert re.match(r"TOTAL  rx [\d.]+ [kMG]pps  tx [\d.]+ [kMG]pps  dropped [\d.]+ [kMG]?pps  "
                    r"forwarded [\d.]+ [kMG]bit/s$", lines[1]), lines[1]
    heading = next(ln for ln in lines if ln.startswith("LCORE "))
    assert heading.split() == ["LCORE", "RX", "pps", "TX", "pps", "DROP", "pps", "bit/s",
                               "FLOWS"], heading
    (lc,) = section(lines, "LCORE")
    assert lc[0] == "1" and si_value(lc[1]) > 0 and si_value(lc[4]) > 0, lc
    rules = {r[0]: r for r in section(lines, "RULE")}
    assert si_value(rules["tlb/web"][1]) > 0 and si_value(rules["tlb/web"][2]) > 0, rules
    assert rules["tlb/idle"][1:3] == ["0", "0"], rules
    backends = {r[0]: r for r in section(lines, "BACKEND")}
    assert backends["tlb/web/up"][1:3] == ["127.0.0.1", "Up"], backends
    assert si_value(backends["tlb/web/up"][3]) > 0, backends
    assert backends["tlb/web/dead"][1:3] == ["127.0.0.9", "Down"], backends
    drops = {r[0]: r for r in section(lines, "DROPS")}
    assert si_value(drops["no_frontend"][1]) > 0, drops


# --------------------------------------------------------------------------
# --once
# --------------------------------------------------------------------------

def test_once(traffic):
    t0 = time.time()
    r = traffic.ok("top", "--once")
    assert time.time() - t0 >= 1.0  # two samples a second apart
    lines = r.stdout.splitlines()
    check_frame(lines)
    assert "\x1b" not in r.stdout  # plain text


def test_once_json_rates_of_the_known_traffic(traffic):
    r = traffic.json("top", "--once", "--interval", "2")
    assert 1.8 <= r["intervalSeconds"] <= 3, r["intervalSeconds"]
    rx = r["total"]["rxPps"]
    assert rx > 1000, r["total"]
    rules = {x["name"]: x for x in r["rules"]}
    web = rules["tlb/web"]
    # two thirds forwarded by web, a third dropped, as the trace has them
    assert abs(web["pps"] / rx - WEB_FLOWS / (WEB_FLOWS + STRAY)) < 0.03, (web, r["total"])
    assert abs(r["total"]["dropPps"] / rx - STRAY / (WEB_FLOWS + STRAY)) < 0.03, r["total"]
    drops = {d["reason"]: d for d in r["drops"]}
    assert abs(drops["no_frontend"]["pps"] / r["total"]["dropPps"] - 1) < 0.01, r["drops"]
    assert rules["tlb/idle"]["pps"] == 0 and rules["tlb/idle"]["bitsPerSecond"] == 0
    # 368 bits a forwarded packet: per rule, per lcore and in total
    assert abs(web["bitsPerSecond"] / web["pps"] / BITS_PER_PACKET - 1) < 0.01, web
    (lc,) = r["lcores"]
    assert abs(lc["rxPps"] / rx - 1) < 0.03 and lc["flowsLive"] >= 1, lc
    assert abs(lc["bitsPerSecond"] / web["bitsPerSecond"] - 1) < 0.03, (lc, web)
    assert r["total"]["bitsPerSecond"] == lc["bitsPerSecond"]
    backends = {b["name"]: b for b in r["backends"]}
    assert backends["tlb/web/up"]["health"] == "Up" and backends["tlb/web/dead"]["health"] == "Down"
    assert abs(sum(b["pps"] for b in r["backends"]) / web["pps"] - 1) < 0.03, r["backends"]
    # the generation of the stats (the probes' verdicts republished the configuration)
    assert r["generation"] == traffic.json("stats")["generation"]


def test_once_without_sluiced():
    cli = h.Cli(None)
    r = cli.run("--socket", "/nonexistent/s.sock", "top", "--once", "--interval", "0.1")
    assert r.returncode == 1 and "ERROR: Cannot reach sluiced: there is no socket" in r.stderr, r


def test_live_view_needs_a_terminal(traffic):
    r = traffic.run("top")  # stdout is a pipe here
    assert r.returncode == 2, r
    assert "top needs a terminal; use --once" in r.stderr, r
    r = traffic.run("top", "--once", "--interval", "0")
    assert r.returncode == 2 and "--interval" in r.stderr, r


# --------------------------------------------------------------------------
# The live view in a terminal (tmux)
# --------------------------------------------------------------------------

class Tmux:
    """A tmux server of the test's own (its socket in a temporary directory), one
    80x24 window running `sluicectl top` under bash, which writes top's exit
    status to a file and stays (Ctrl-C reaches top alone: bash traps it)."""

    def __init__(self, sock_path):
        if shutil.which("tmux") is None:
            pytest.fail("tmux is needed (apt-get install tmux; scripts/common.sh installs it)")
        self.dir = tempfile.mkdtemp(prefix="sluice-tmux-")
        self.sock = os.path.join(self.dir, "tmux.sock")
        self.rc = os.path.join(self.dir, "rc")
        top = f"{h.PYTHON} {h.SLUICECTL} --socket {sock_path} top"
        script = f"trap : INT; {top}; echo exit=$? > {self.rc}; echo top exited; sleep 120"
        self.tmux("new-session", "-d", "-x", "80", "-y", "24", "-s", "top",
                  "bash --norc --noprofile -c '" + script + "'")

    def tmux(self, *args):
        p = subprocess.run(["tmux", "-S", self.sock, "-f", "/dev/null"] + list(args),
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 0, f"tmux {' '.join(args)}: {p.stderr}"
        return p.stdout

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", "top").splitlines()

    def wait_screen(self, pred, timeout=15):
        deadline = time.time() + timeout
        while True:
            lines = self.screen()
            try:
                if pred(lines):
                    return lines
            except (AssertionError, StopIteration, KeyError, IndexError, ValueError):
                pass
            if time.time() > deadline:
                raise AssertionError("the screen never showed it:\n" + "\n".join(lines))
            time.sleep(0.2)

    def exit_status(self, timeout=5):
        deadline = time.time() + timeout
        while not os.path.exists(self.rc) or not open(self.rc).read().strip():
            assert time.time() < deadline, "top did not exit:\n" + "\n".join(self.screen())
            time.sleep(0.05)
        return open(self.rc).read().strip()

    def close(self):
        subprocess.run(["tmux", "-S", self.sock, "kill-server"], capture_output=True, timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.mark.parametrize("key", ["q", "C-c"])
def test_live_view_in_a_terminal(traffic, key):
    t = Tmux(traffic.daemon.socket)
    try:
        assert t.tmux("display", "-p", "-t", "top", "#{window_width}x#{window_height}") \
            .strip() == "80x24"
        # the first frame has totals but no rates yet ("-"); the next has them
        lines = t.wait_screen(lambda s: check_frame([ln.rstrip() for ln in s]) is None)
        assert sum(1 for ln in lines if ln.strip()) <= 24
        # nothing cut at the right edge: each heading ends with its last column's title
        assert next(ln for ln in lines if ln.startswith("LCORE")).rstrip().endswith("FLOWS")
        assert next(ln for ln in lines if ln.startswith("BACKEND")).rstrip().endswith("bit/s")
        # it keeps redrawing: the uptime moves on
        up = re.search(r" up (\S+) ", lines[0]).group(1)
        t.wait_screen(lambda s: re.search(r" up (\S+) ", s[0]).group(1) != up, timeout=5)
        t.tmux("send-keys", "-t", "top", key)
        assert t.exit_status() == "exit=0"
        after = t.wait_screen(lambda s: any("top exited" in ln for ln in s), timeout=5)
        text = "\n".join(after)
        # the terminal is given back as it was: top's screen is gone, no traceback
        assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
        assert "LCORE" not in text and "sluice top" not in text, text
    finally:
        t.close()


# --------------------------------------------------------------------------
# The frame itself: frontends (when /sluice/stats counts them), small screens
# --------------------------------------------------------------------------

def sample(k, frontends=True):
    s = {"elapsedSeconds": 100.0 + k, "generation": 3, "rx": 3000 * k, "tx": 2000 * k,
         "dropped": 1000 * k, "drops": {"no_backend": 1000 * k, "not_ip": 0},
         "flows": {"live": 7, "misses": 10 * k, "expired": 0, "rehashed": 0, "tableFull": 0},
         "lcores": [{"lcore": 1, "rx": 3000 * k, "tx": 2000 * k, "dropped": 1000 * k,
                     "forwardedBytes": 100000 * k, "flowsLive": 7}],
         "rules": [{"name": f"lb/r{i}", "packets": 100 * i * k, "bytes": 5000 * i * k}
                   for i in range(10)],
         "backends": [{"name": f"lb/pool/b{i}", "address": f"10.0.0.{i}",
                       "packets": 10 * i * k, "bytes": 500 * i * k} for i in range(30)]}
    if frontends:
        s["frontends"] = [{"name": "lb/fe6", "address": "2001:db8:1234:5678:9abc:def0:1:10",
                           "packets": 2000 * k, "bytes": 80000 * k, "newFlows": 10 * k,
                           "dropped": 1000 * k, "drops": {"no_backend": 1000 * k}},
                          {"name": "lb/fe4", "address": "192.0.2.10", "packets": 0, "bytes": 0,
                           "newFlows": 0, "dropped": 0, "drops": {"no_backend": 0}}]
    return {"stats": s, "probes": [{"loadBalancer": "lb", "pool": "pool", "address": "b2",
                                    "health": "Down"}], "t": float(k)}


def test_frame_with_and_without_frontends():
    top = h.load_sluicectl("sluicectl_top")
    r = top.top_rates(sample(1), sample(3))
    assert r["intervalSeconds"] == 2.0
    fe = {f["name"]: f for f in r["frontends"]}["lb/fe6"]
    assert (fe["pps"], fe["bitsPerSecond"], fe["newFlowsPerSecond"], fe["dropPps"]) == \
        (2000, 640000, 10, 1000)
    lines = [t for t, _ in top.top_frame(r)]
    assert all(len(ln) <= 80 for ln in lines), lines
    rows = section(lines, "FRONTEND")
    assert rows[0] == ["lb/fe6", "2001:db8:1234:5678:9abc:def0:1:10", "2.00k", "640k", "10",
                       "1.00k"], rows
    assert rows[1][:2] == ["lb/fe4", "192.0.2.10"], rows
    # a Down backend comes first, whatever its rate
    assert section(lines, "BACKEND")[0][:3] == ["lb/pool/b2", "10.0.0.2", "Down"]
    r = top.top_rates(sample(1, frontends=False), sample(3, frontends=False))
    assert "frontends" not in r
    lines = [t for t, _ in top.top_frame(r)]
    assert not any(ln.startswith("FRONTEND") for ln in lines)
    assert section(lines, "RULE")[0] == ["lb/r9", "900", "360k", "2.70k"]


def test_frame_fits_the_screen():
    top = h.load_sluicectl("sluicectl_top")
    r = top.top_rates(sample(1), sample(2))
    full = top.top_frame(r)
    for height in (24, 40):
        frame = top.top_frame(r, height=height)
        assert len(frame) <= height < len(full)
        texts = [t for t, _ in frame]
        # every section keeps its heading; long ones end with how many rows are left out
        for title in ("LCORE", "FRONTEND", "RULE", "BACKEND", "DROPS"):
            assert any(t.startswith(title + " ") for t in texts), (title, texts)
        more = [int(m.group(1)) for t in texts for m in [re.match(r"\.\.\. (\d+) more$", t)] if m]
        assert more and sum(more) - len(more) == len(full) - len(frame), texts
    wide = [t for t, _ in top.top_frame(r, width=120)]
    assert max(len(t) for t in wide) > 80 and all(len(t) <= 120 for t in wide)
    # no second sample yet: totals, and '-' for every rate
    first = [t for t, _ in top.top_frame(top.top_rates(None, sample(1)))]
    assert "collecting rates" in first[0] and first[1].startswith("TOTAL  rx -  tx -")
