# SPDX-License-Identifier: BSD-3-Clause
"""restartnet.py: one sluice host restarted under traffic, in network
namespaces (tests/e2e/test_restarts.py, scripts/soak.sh restart).

    client 10.88.1.2
       |  (segment A)
    router 10.88.1.1 -- 10.88.2.1     route 10.77.100.0/24 via 10.88.2.2 (static)
       |  (segment B: a bridge)
       +-- lb1: lb0, sluiced on net_af_packet, port address 10.88.2.2
       +-- backend1..3 10.88.2.11..13

scalenet.py's test bed with one sluice host and no BIRD: the router holds a
static route to the frontends through sluice's port address, and the
backends' default route (their DNAT replies) goes through it too, so a
DNAT reply reaches sluice after a restart when its reply table is empty
(stateless reverse DNAT). Five frontends on the same three backends, port
PORT, one per delivery mode (MODES): DNAT, and Floating IP delivered by L2,
IPinIP, GUE and VXLAN. The backends take VXLAN with a kernel vxlan device;
IP-in-IP and GUE, which the kernel here cannot decapsulate (no ipip, no
fou module), with ipipdecap.py into a TUN that holds both frontends.
Floating IP replies leave from the frontend address straight to the router
(direct server return).

Sluiced runs sluiced as the service does (--config and --state-dir) and
restarts it: stop() with SIGTERM or SIGKILL, start() again with the same
state directory and no --config (the configuration comes back from the
state directory alone); restart() measures the outage: from the signal to
the first packet forwarded by the new process.
"""
import json
import os
import shutil
import subprocess
import sys
import time

import realnet
import scalenet
import slharness
from netns import sh
from scalenet import BACKENDS, FRONTENDS, HOSTS, IPIP_TUN, PORT, ROUTER_B

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = "lb1"
VIP_GUE = "10.77.100.50"
GUE_PORT = 6080
# delivery mode -> (frontend, rule name lb/rule in sluiced's statistics)
MODES = {"DNAT": (scalenet.VIP_DNAT, "lb-fleet/dnat"),
         "L2": (scalenet.VIP_L2, "lb-fleet/l2"),
         "IPinIP": (scalenet.VIP_IPIP, "lb-fleet-ip/ipip"),
         "GUE": (VIP_GUE, "lb-fleet-gue/gue"),
         "VXLAN": (scalenet.VIP_VXLAN, "lb-fleet-vx/vxlan")}


class RestartNet(scalenet.ScaleNet):
    """ScaleNet's namespaces with lb1 only, static routes instead of BGP."""

    def up(self):
        try:
            self._ns("bridge")
            sh(["ip", "-n", self.ns["bridge"], "link", "add", "br0", "type", "bridge",
                "stp_state", "0", "mcast_snooping", "0", "forward_delay", "0"])
            sh(["ip", "-n", self.ns["bridge"], "link", "set", "br0", "up"])
            self._client_and_router()
            self._ns(HOST)
            self._seg_b_port(HOST, "lb0", HOSTS[HOST][2])
            port_v4 = HOSTS[HOST][0]
            self.run("router", ["ip", "route", "add", FRONTENDS[0], "via", port_v4])
            for name in BACKENDS:
                self._backend(name)
                self.run(name, ["ip", "route", "replace", "default", "via", port_v4])
                self.run(name, ["ip", "addr", "add", VIP_GUE + "/32", "dev", IPIP_TUN])
        except Exception:
            self.down()
            raise
        return self


def config():
    """scalenet's four frontends on all three backends, and a fifth delivered by GUE."""
    pool = tuple(BACKENDS)
    cfg = scalenet.config(pool=pool)
    vg = "vnet-gue"
    prefixes = [FRONTENDS[0], FRONTENDS[1], scalenet.SEG_B[0], scalenet.SEG_B[1]]
    cfg["virtualNetworks"].append(realnet._vnet(vg, prefixes, {"mode": "GUE"}))
    cfg["loadBalancers"].append(
        realnet._lb("lb-fleet-gue", [("gue", VIP_GUE, vg)], [("gue", list(pool), vg, 4)],
                    [("gue", "gue", "gue", "Tcp", PORT, True)], backends=BACKENDS))
    return cfg


def port_profile():
    """realnet's af_packet port readdressed for lb1; no exception path."""
    v4, v6, mac = HOSTS[HOST]
    prof = realnet.port_profile()
    prof["ports"][0].update({"macAddress": mac, "ipv4Address": v4 + "/24",
                             "ipv6Address": v6 + "/64",
                             "gateway": {"ipv4": ROUTER_B[0], "ipv6": ROUTER_B[1]}})
    return prof


def start_servers(net):
    """scalenet's echo server (it answers "<backend> <line>") on PORT of every
    backend, and ipipdecap.py with GUE on GUE_PORT; the processes, once ready."""
    procs = [subprocess.Popen(["ip", "netns", "exec", net.ns[b], sys.executable, "-c",
                               scalenet.ECHO_SERVER, b, str(PORT)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for b in BACKENDS]
    for b in BACKENDS:
        p = subprocess.Popen(["ip", "netns", "exec", net.ns[b], sys.executable,
                              os.path.join(HERE, "ipipdecap.py"), IPIP_TUN, str(GUE_PORT)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(p)
        assert p.stdout.readline().strip() == "ready", f"{b}: ipipdecap.py did not start"
    realnet.wait_listening(net, BACKENDS, PORT)
    return procs


def forwarded(stats):
    """Packets forwarded, all rules together, by a statistics snapshot."""
    return sum(r.get("packets", 0) for r in stats.get("rules", []))


class Sluiced:
    """sluiced on lb1, restarted with the same state directory."""

    STATS_INTERVAL = "0.05"

    def __init__(self, net, cfg):
        self.net = net
        self.dir = scalenet.workdir()
        self.state_dir = os.path.join(self.dir, "state")
        os.makedirs(self.state_dir)
        self.config_path = os.path.join(self.dir, "config.json")
        with open(self.config_path, "w") as f:
            json.dump(cfg, f, indent=1)
        self.daemon = None
        self.logs = []
        self.generation = None

    def start(self, with_config=False):
        """Start sluiced (with --config only when asked: the first start);
        returns once it writes statistics with a configuration."""
        args = ["--state-dir", self.state_dir, "--stats-interval", self.STATS_INTERVAL]
        self.daemon = slharness.Daemon(port_profile(),
                                       self.config_path if with_config else None,
                                       extra_args=args, netns=self.net.ns[HOST])
        self.logs.append(self.daemon.log)
        s = self.daemon.wait_stats(lambda s: s.get("generation", 0) >= 1, timeout=30)
        self.generation = s["generation"]
        return s

    def stop(self, sig):
        """SIGTERM or SIGKILL; returns once the process is gone."""
        self.daemon.signal(sig)
        try:
            self.daemon.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.daemon.proc.kill()
            self.daemon.proc.wait()
            raise AssertionError(f"sluiced did not exit 30 s after signal {sig}")
        self.daemon.logf.close()
        return self.daemon.proc.returncode

    def restart(self, sig, timeout=30.0, on_exit=None):
        """Stop with sig and start again (on_exit() called in between);
        returns the times, in ms from the signal: exited, up (statistics
        with a configuration), first (the first packet the new process
        forwarded)."""
        t0 = time.monotonic()
        rc = self.stop(sig)
        exited = time.monotonic()
        if on_exit is not None:
            on_exit()
        s = self.start()
        up = time.monotonic()
        deadline = up + timeout
        while forwarded(s) == 0:
            assert time.monotonic() < deadline, \
                f"nothing forwarded {timeout} s after the restart:\n{self.output()}"
            time.sleep(0.005)
            s = self.daemon.read_stats() or {}
        first = time.monotonic()
        ms = lambda t: round((t - t0) * 1000)  # noqa: E731
        return {"rc": rc, "exited_ms": ms(exited), "up_ms": ms(up), "first_ms": ms(first),
                "rules": sorted(r["name"] for r in s.get("rules", []))}

    def stats(self):
        return self.daemon.wait_stats(lambda s: True)

    def output(self):
        return self.daemon.output() if self.daemon else ""

    def close(self):
        """Stop sluiced (SIGTERM) and print the last log; remove the files."""
        if self.daemon is not None and self.daemon.proc.poll() is None:
            self.daemon.stop()
        out = self.output()
        shutil.rmtree(self.dir, ignore_errors=True)
        for log in self.logs:
            shutil.rmtree(os.path.dirname(log), ignore_errors=True)
        return out


def connections_client(net):
    """scalenet's client: holds connections open, a line each way every 100 ms."""
    return slharness.NsAgent(net.ns["client"], scalenet.CLIENT_PROGRAM, {},
                             what="the client")


def survivors(rep):
    """Per mode, from the client's report after a mark: survived (alive,
    answered since the mark, only ever by the backend that answered first)
    and what became of the others."""
    out = {}
    for mode, r in rep.items():
        out[mode] = {"opened": r["opened"], "survived": r["kept"], "broken": r["broken"],
                     "stalled": r["stalled"], "unanswered": r["opened"] - r["fresh"],
                     "moved": r["moved"], "reasons": r["reasons"],
                     "max_gap_ms": r["max_gap_ms"]}
    return out
