# SPDX-License-Identifier: BSD-3-Clause
"""scalenet.py: a sluice fleet behind an ECMP router, in network namespaces.

    client 10.88.1.2 / fd88:1::2
       |  (segment A)
    router 10.88.1.1 / fd88:1::1 -- 10.88.2.1 / fd88:2::1   BIRD: BGP + BFD to lb1 and lb2,
       |                                        ECMP routes into its kernel
       |  (segment B: a bridge)
       +-- lb1: lb0 (sluiced on net_af_packet), TAP sl0 10.88.2.2 / fd88:2::2, BIRD
       +-- lb2: lb0 (sluiced on net_af_packet), TAP sl0 10.88.2.3 / fd88:2::3, BIRD
       +-- backend1..3 10.88.2.11..13

The frontends (10.77.100.0/24) are on no segment: the router reaches them
only through the host routes that the sluice hosts announce over BGP, each
with its port address as next hop; with both announcing, the router's
kernel holds one route with two next hops and spreads flows over them by
5-tuple (fib_multipath_hash_policy=1).

Each sluice host runs its own sluiced (REST API on its own socket) and its
own BIRD (its own control socket), both configured from examples/bird/
(render_host_conf, render_router_conf); BIRD peers with the router over
the kernel's stack on the exception-path TAP, whose packets leave by
sluiced's port.

The backends hold both Floating IP frontends: VIP_L2 on lo (arp_ignore),
VIP_VXLAN behind a kernel vxlan device whose MAC is eth0's. Their replies
from a frontend address go straight to the router (a policy route: direct
server return); their replies from their own address (DNAT) take an ECMP
default route over both sluice hosts' port addresses, hashed by 5-tuple, so
a reply often reaches the host that did not see the request (stateless
reverse DNAT). With fib_multipath_use_neigh and short neighbour timers a
backend stops using the next hop of a host that died once its ARP entry
fails. Names carry netns.PREFIX, like netns.py's.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import realnet
from netns import PREFIX, sh, sysctl

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
EXAMPLES = os.path.join(ROOT, "examples", "bird")

CLIENT = ("10.88.1.2", "fd88:1::2")
ROUTER_A = ("10.88.1.1", "fd88:1::1")
ROUTER_B = ("10.88.2.1", "fd88:2::1")
SEG_B = ("10.88.2.0/24", "fd88:2::/64")
# sluice hosts: (IPv4, IPv6, MAC of the port)
HOSTS = {"lb1": ("10.88.2.2", "fd88:2::2", "02:88:00:00:00:02"),
         "lb2": ("10.88.2.3", "fd88:2::3", "02:88:00:00:00:03")}
BACKENDS = {"backend1": ("10.88.2.11", "fd88:2::11", "02:88:00:00:00:11"),
            "backend2": ("10.88.2.12", "fd88:2::12", "02:88:00:00:00:12"),
            "backend3": ("10.88.2.13", "fd88:2::13", "02:88:00:00:00:13")}
FRONTENDS = ("10.77.100.0/24", "fd77:100::/64")
VIP_DNAT = "10.77.100.10"
VIP_L2 = "10.77.100.20"
VIP_VXLAN = "10.77.100.30"
VIP_IPIP = "10.77.100.40"
VIPS = {"dnat": VIP_DNAT, "l2": VIP_L2, "vxlan": VIP_VXLAN, "ipip": VIP_IPIP}
IPIP_TUN = "ipip0"
VNI = 7700
PORT = 7000
TAP = "sl0"
HOST_ASN, ROUTER_ASN = 65010, 65000
SHORT = {"client": "c", "router": "r", "bridge": "s", "lb1": "l1", "lb2": "l2",
         "backend1": "b1", "backend2": "b2", "backend3": "b3"}
DSR_TABLE = 100


class ScaleNet(realnet.RealNet):
    """The namespaces, links and addresses above (no daemon); RealNet's
    namespace, segment-B and teardown helpers with this bed's names."""

    def __init__(self, tag):
        super().__init__(tag)
        self.short = SHORT
        self.ns = {h: f"{PREFIX}{os.getpid()}-{tag}{s}" for h, s in SHORT.items()}
        self.seg_a = {"client": CLIENT, "router": ROUTER_A, "router_b": ROUTER_B}

    def up(self):
        try:
            self._ns("bridge")
            sh(["ip", "-n", self.ns["bridge"], "link", "add", "br0", "type", "bridge",
                "stp_state", "0", "mcast_snooping", "0", "forward_delay", "0"])
            sh(["ip", "-n", self.ns["bridge"], "link", "set", "br0", "up"])
            self._client_and_router()
            for host, (_, _, mac) in HOSTS.items():
                self._ns(host)
                self._seg_b_port(host, "lb0", mac)
                sysctl(self.ns[host], **{"net.ipv6.conf.lb0.disable_ipv6": 1})
            for name in BACKENDS:
                self._backend(name)
        except Exception:
            self.down()
            raise
        return self

    def _client_and_router(self):
        self._ns("client")
        self._segment_a_router()
        sysctl(self.ns["router"], **{"net.ipv4.fib_multipath_hash_policy": 1,
                                     "net.ipv6.fib_multipath_hash_policy": 1})

    def _backend(self, name):
        v4, v6, mac = BACKENDS[name]
        self._ns(name)
        ns = self.ns[name]
        self._seg_b_port(name, "eth0", mac)
        sh(["ip", "-n", ns, "addr", "add", v4 + "/24", "dev", "eth0"])
        sh(["ip", "-n", ns, "-6", "addr", "add", v6 + "/64", "dev", "eth0", "nodad"])
        sysctl(ns, **{"net.ipv4.conf.all.arp_ignore": 1, "net.ipv4.conf.all.arp_announce": 2,
                      "net.ipv4.fib_multipath_hash_policy": 1,
                      "net.ipv4.fib_multipath_use_neigh": 1,
                      # a dead sluice host's ARP entry fails within about 3 s
                      "net.ipv4.neigh.eth0.base_reachable_time_ms": 1000,
                      "net.ipv4.neigh.eth0.delay_first_probe_time": 1,
                      "net.ipv4.neigh.eth0.retrans_time_ms": 300,
                      "net.ipv4.neigh.eth0.ucast_solicit": 2,
                      "net.ipv4.neigh.eth0.mcast_solicit": 2})
        # DNAT replies: ECMP over both sluice hosts
        hops = []
        for h4, _, _ in HOSTS.values():
            hops += ["nexthop", "via", h4]
        sh(["ip", "-n", ns, "route", "add", "default"] + hops)
        # direct server return: replies from a frontend address go to the router
        sh(["ip", "-n", ns, "route", "add", "default", "via", ROUTER_B[0], "table",
            str(DSR_TABLE)])
        sh(["ip", "-n", ns, "rule", "add", "from", FRONTENDS[0], "lookup", str(DSR_TABLE)])
        sh(["ip", "-n", ns, "addr", "add", VIP_L2 + "/32", "dev", "lo"])
        sh(["ip", "-n", ns, "link", "add", "vx0", "type", "vxlan", "id", str(VNI), "local", v4,
            "dstport", "4789", "nolearning"])
        sh(["ip", "-n", ns, "link", "set", "vx0", "address", mac, "up"])
        sh(["ip", "-n", ns, "addr", "add", VIP_VXLAN + "/32", "dev", "vx0"])
        sysctl(ns, **{"net.ipv4.conf.vx0.rp_filter": 0})
        # IP-in-IP: no ipip module here; ipipdecap.py hands the inner packets
        # to a TUN that holds the frontend address (start_echo_servers)
        sh(["ip", "-n", ns, "tuntap", "add", "dev", IPIP_TUN, "mode", "tun"])
        sh(["ip", "-n", ns, "link", "set", IPIP_TUN, "up"])
        sh(["ip", "-n", ns, "addr", "add", VIP_IPIP + "/32", "dev", IPIP_TUN])
        sysctl(ns, **{f"net.ipv4.conf.{IPIP_TUN}.rp_filter": 0})

    # -- the router's view ------------------------------------------------
    def nexthops(self, vip):
        """The router kernel's next hops for vip's host route: [] when it has none."""
        out = self.run("router", ["ip", "-4", "route", "show", "exact", vip + "/32"])
        if not out.strip():
            return []
        hops = re.findall(r"nexthop via (\S+)", out)
        if hops:
            return sorted(hops)
        m = re.search(r"\bvia (\S+)", out)
        return [m.group(1)] if m else []


# -- configuration ------------------------------------------------------------
def config(pool=("backend1", "backend2"), down=()):
    """Four frontends on the same pool members, port PORT: VIP_DNAT (DNAT),
    VIP_L2 (Floating IP, L2 delivery), VIP_VXLAN (Floating IP, VXLAN),
    VIP_IPIP (Floating IP, IP-in-IP); the members named in `down` are
    adminState Down."""
    vb, vx, vi = "vnet-b", "vnet-vx", "vnet-ipip"
    prefixes = [FRONTENDS[0], FRONTENDS[1], SEG_B[0], SEG_B[1]]
    lbs = [realnet._lb("lb-fleet",
                       [("dnat", VIP_DNAT, vb), ("l2", VIP_L2, vb)],
                       [("dnat", list(pool), vb, 4), ("l2", list(pool), vb, 4)],
                       [("dnat", "dnat", "dnat", "Tcp", PORT, False),
                        ("l2", "l2", "l2", "Tcp", PORT, True)], backends=BACKENDS),
           realnet._lb("lb-fleet-vx", [("vxlan", VIP_VXLAN, vx)],
                       [("vxlan", list(pool), vx, 4)],
                       [("vxlan", "vxlan", "vxlan", "Tcp", PORT, True)], backends=BACKENDS),
           realnet._lb("lb-fleet-ip", [("ipip", VIP_IPIP, vi)],
                       [("ipip", list(pool), vi, 4)],
                       [("ipip", "ipip", "ipip", "Tcp", PORT, True)], backends=BACKENDS)]
    for lb in lbs:
        for p in lb["properties"]["backendAddressPools"]:
            for a in p["properties"]["loadBalancerBackendAddresses"]:
                if a["name"] in down:
                    a["properties"]["adminState"] = "Down"
    return {"virtualNetworks": [realnet._vnet(vb, prefixes, {"mode": "L2"}),
                                realnet._vnet(vx, prefixes, {"mode": "VXLAN", "vni": VNI}),
                                realnet._vnet(vi, prefixes, {"mode": "IPinIP"})],
            "loadBalancers": lbs}


def port_profile(host):
    """realnet's af_packet port with sluice's TAP, readdressed for host."""
    v4, v6, mac = HOSTS[host]
    prof = realnet.port_profile(tap=TAP)
    prof["ports"][0].update({"macAddress": mac, "ipv4Address": v4 + "/24",
                             "ipv6Address": v6 + "/64",
                             "gateway": {"ipv4": ROUTER_B[0], "ipv6": ROUTER_B[1]}})
    return prof


# -- BIRD configurations: examples/bird/ with this test bed's values ------------
def _set_defines(text, values):
    for name, value in values.items():
        text, n = re.subn(rf"(?m)^define {name} = [^;]*;", f"define {name} = {value};", text)
        assert n == 1, f"no 'define {name}' in the example"
    return text


def _test_bed_timers(text):
    """Log to stderr; the first connection attempt without the 2 s delay."""
    text = text.replace("log syslog all;", "log stderr all;")
    return text.replace("connect delay time 2;", "connect delay time 1;")


def render_host_conf(host, include):
    """examples/bird/sluice-host.conf for host, including `include`."""
    with open(os.path.join(EXAMPLES, "sluice-host.conf")) as f:
        text = f.read()
    v4, v6, _ = HOSTS[host]
    text = _set_defines(text, {"HOST_ASN": HOST_ASN, "ROUTER_ASN": ROUTER_ASN, "HOST_V4": v4,
                               "HOST_V6": v6, "ROUTER_V4": ROUTER_B[0],
                               "ROUTER_V6": ROUTER_B[1]})
    assert text.count('"/etc/bird/sluice-frontends.conf"') == 1
    text = text.replace('"/etc/bird/sluice-frontends.conf"', f'"{include}"')
    assert '"sl-uplink"' in text
    return _test_bed_timers(text.replace('"sl-uplink"', f'"{TAP}"'))


HOSTS_MARK = "# One pair per sluice host: its port addresses.\n"


def render_router_conf():
    """examples/bird/router.conf for this router: its sessions to lb1 and lb2."""
    with open(os.path.join(EXAMPLES, "router.conf")) as f:
        text = f.read()
    text = _set_defines(text, {"HOST_ASN": HOST_ASN, "ROUTER_ASN": ROUTER_ASN,
                               "ROUTER_ID": ROUTER_B[0],
                               "FRONTENDS_V4": f"[ {FRONTENDS[0]}{{32,32}} ]",
                               "FRONTENDS_V6": f"[ {FRONTENDS[1]}{{128,128}} ]"})
    head, mark, _ = text.partition(HOSTS_MARK)
    assert mark, "router.conf lost its per-host section"
    pairs = "".join(f"\nprotocol bgp {h}_v4 from sluice_host4 {{\n\tneighbor {v4} as HOST_ASN;\n}}\n"
                    f"\nprotocol bgp {h}_v6 from sluice_host6 {{\n\tneighbor {v6} as HOST_ASN;\n}}\n"
                    for h, (v4, v6, _) in HOSTS.items())
    return _test_bed_timers(head + mark + pairs)


def bird_parse(conf_path):
    """bird -p: (ok, message)."""
    p = subprocess.run(["bird", "-p", "-c", conf_path], capture_output=True, text=True,
                       timeout=10)
    return p.returncode == 0, (p.stdout + p.stderr).strip()


EMPTY_FRONTENDS = ("protocol static sluice_frontends4 {\n\tipv4;\n}\n"
                   "protocol static sluice_frontends6 {\n\tipv6;\n}\n")


class Bird:
    """BIRD in namespace ns with its own configuration, socket and log."""

    def __init__(self, ns, conf_text, workdir, name):
        self.dir = workdir
        self.conf = os.path.join(workdir, f"{name}-bird.conf")
        self.sock = os.path.join(workdir, f"{name}-bird.ctl")
        self.log = os.path.join(workdir, f"{name}-bird.log")
        self.ns = ns
        with open(self.conf, "w") as f:
            f.write(conf_text)
        ok, msg = bird_parse(self.conf)
        assert ok, f"{self.conf}: {msg}"
        self.logf = open(self.log, "a")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, "bird", "-f", "-c", self.conf, "-s", self.sock,
             "-P", os.path.join(workdir, f"{name}-bird.pid")],
            stdout=self.logf, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while not os.path.exists(self.sock):
            assert self.proc.poll() is None, f"BIRD exited: {self.output()}"
            assert time.time() < deadline, "BIRD's control socket did not appear"
            time.sleep(0.05)

    def birdc(self, *args):
        return sh(["birdc", "-s", self.sock] + list(args), timeout=10)

    def output(self):
        if not self.logf.closed:
            self.logf.flush()
        with open(self.log, errors="replace") as f:
            return f.read()

    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()


def workdir():
    return tempfile.mkdtemp(prefix="sluice-scale-")


# -- the programs the test runs in the namespaces -------------------------------
ECHO_SERVER = r"""
import asyncio, sys
name = sys.argv[1].encode()
async def serve(r, w):
    try:
        while True:
            line = await r.readline()
            if not line:
                break
            words = line.split()
            if len(words) > 1:  # "<seq> <seconds>": answered that much later
                await asyncio.sleep(float(words[1]))
            w.write(name + b" " + line)
            await w.drain()
    except OSError:
        pass
    w.close()
async def main():
    s = await asyncio.start_server(serve, "0.0.0.0", int(sys.argv[2]), backlog=1024,
                                   reuse_address=True)
    async with s:
        await s.serve_forever()
asyncio.run(main())
"""

# A client that holds connections open and exchanges a line on each every
# 100 ms: one line in flight per connection, answered "<backend> <line>".
# Commands (JSON lines on stdin, one JSON answer each):
#   {"cmd": "open", "mode": M, "vip": A, "port": P, "n": N}   N connections
#   {"cmd": "mark"}     restart the outage measurement (max silence per connection)
#                       and what counts as fresh; with "fresh_only": true, only the
#                       latter
#   {"cmd": "hold", "mode": M, "s": S, "every": K}: every K-th connection of mode
#                       M asks for its next answer S seconds late (the backend
#                       then speaks first after a restart); max_gap_ms leaves
#                       them out until the next hold
#   {"cmd": "report"}   per mode: opened, alive, broken (+ reasons), backends,
#                       stalled (no answer for over 3 s), max_gap_ms since mark,
#                       fresh (answered since mark), moved (answered by two backends),
#                       kept (not broken, answered since mark, by one backend only)
#   {"cmd": "choices", "vip": A, "port": P, "sports": [...]}: one short
#       connection from each source port (closed with RST); the backend names
#   {"cmd": "close"}
CLIENT_PROGRAM = r"""
import json, selectors, socket, struct, sys, threading, time
sel = selectors.DefaultSelector()
lock = threading.Lock()
conns = []
mark = [time.time(), time.time()]   # since: silences measured, answers fresh

class Conn:
    def __init__(self, mode, s):
        self.mode, self.s, self.buf, self.seq = mode, s, b"", 0
        self.waiting, self.broken, self.names = False, None, set()
        self.hold, self.held = b"", False
        self.last = time.time(); self.gap = 0.0

def fail(c, why):
    if c.broken is None:
        c.broken = why
        try:
            sel.unregister(c.s)
        except (KeyError, ValueError):
            pass
        c.s.close()

def loop():
    tick = time.time()
    while True:
        now = time.time()
        if now >= tick:
            tick = now + 0.1
            with lock:
                for c in conns:
                    if c.broken is None and not c.waiting:
                        c.seq += 1
                        try:
                            c.s.send(b"%d%s\n" % (c.seq, c.hold))
                            c.waiting, c.hold = True, b""
                        except OSError as e:
                            fail(c, "send: " + str(e))
        for key, _ in sel.select(timeout=max(0.0, tick - time.time())):
            c = key.data
            with lock:
                try:
                    d = c.s.recv(4096)
                except OSError as e:
                    fail(c, "recv: " + str(e)); continue
                if not d:
                    fail(c, "closed by the peer"); continue
                c.buf += d
                while b"\n" in c.buf:
                    line, c.buf = c.buf.split(b"\n", 1)
                    name, _, seq = line.decode().partition(" ")
                    seq = seq.split(" ")[0]
                    c.names.add(name)
                    if seq == str(c.seq):
                        t = time.time()
                        c.gap = max(c.gap, t - max(c.last, mark[0]))
                        c.last = t
                        c.waiting = False

def connect(vip, port, sport=0):
    s = socket.socket()
    if sport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", sport))
    s.settimeout(3)
    s.connect((vip, port))
    return s

def first_answer(s):
    s.sendall(b"0\n")
    buf = b""
    while not buf.endswith(b"\n"):
        d = s.recv(100)
        if not d:
            raise OSError("closed")
        buf += d
    return buf.decode().split(" ")[0]

def report():
    out = {}
    now = time.time()
    with lock:
        for c in conns:
            r = out.setdefault(c.mode, {"opened": 0, "alive": 0, "broken": 0, "reasons": [],
                                        "backends": {}, "stalled": 0, "max_gap_ms": 0,
                                        "fresh": 0, "moved": 0, "kept": 0})
            r["opened"] += 1
            r["fresh"] += c.last > mark[1]
            r["moved"] += len(c.names) > 1
            r["kept"] += c.broken is None and c.last > mark[1] and len(c.names) == 1
            for n in c.names:
                r["backends"][n] = r["backends"].get(n, 0) + 1
            if c.broken is not None:
                r["broken"] += 1
                if len(r["reasons"]) < 3:
                    r["reasons"].append(c.broken)
            elif now - c.last > 3.0:
                r["stalled"] += 1
            else:
                r["alive"] += 1
            gap = max(c.gap, now - max(c.last, mark[0]) if c.waiting else 0)
            if not c.held:
                r["max_gap_ms"] = max(r["max_gap_ms"], int(gap * 1000))
    return out

threading.Thread(target=loop, daemon=True).start()
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    cmd = json.loads(line)
    try:
        if cmd["cmd"] == "open":
            errors = []
            for _ in range(cmd["n"]):
                try:
                    s = connect(cmd["vip"], cmd["port"])
                    name = first_answer(s)
                    s.setblocking(False)
                    c = Conn(cmd["mode"], s)
                    c.names.add(name)
                    with lock:
                        conns.append(c)
                        sel.register(s, selectors.EVENT_READ, c)
                except OSError as e:
                    errors.append(str(e))
            ans = {"errors": errors[:3], "failed": len(errors)}
        elif cmd["cmd"] == "mark":
            with lock:
                mark[1] = time.time()
                if not cmd.get("fresh_only"):
                    mark[0] = mark[1]
                    for c in conns:
                        c.gap = 0.0
            ans = {"ok": True}
        elif cmd["cmd"] == "hold":
            with lock:
                for c in conns:
                    c.held = False
                mine = [c for c in conns if c.mode == cmd["mode"] and c.broken is None]
                for c in mine[::cmd["every"]]:
                    c.hold, c.held = b" %.3f" % cmd["s"], True
            ans = {"held": len(mine[::cmd["every"]])}
        elif cmd["cmd"] == "report":
            ans = report()
        elif cmd["cmd"] == "choices":
            names = []
            for sport in cmd["sports"]:
                try:
                    s = connect(cmd["vip"], cmd["port"], sport)
                    names.append(first_answer(s))
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    s.close()
                except OSError as e:
                    names.append("error: " + str(e))
            ans = {"names": names}
        elif cmd["cmd"] == "close":
            with lock:
                for c in conns:
                    fail(c, "closed")
                conns.clear()
            ans = {"ok": True}
    except Exception as e:
        ans = {"error": repr(e)}
    print(json.dumps(ans), flush=True)
"""


def start_echo_servers(net):
    """ECHO_SERVER on PORT of every backend, and its IP-in-IP decapsulator
    (ipipdecap.py on IPIP_TUN); returns the processes once all are ready."""
    procs = [subprocess.Popen(["ip", "netns", "exec", net.ns[b], sys.executable, "-c",
                               ECHO_SERVER, b, str(PORT)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for b in BACKENDS]
    for b in BACKENDS:
        p = subprocess.Popen(["ip", "netns", "exec", net.ns[b], sys.executable,
                              os.path.join(HERE, "ipipdecap.py"), IPIP_TUN],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(p)
        assert p.stdout.readline().strip() == "ready", f"{b}: ipipdecap.py did not start"
    realnet.wait_listening(net, BACKENDS, PORT)
    return procs


# -- a sluice host: sluiced + its TAP's addresses + BIRD ------------------------
class SluiceHost:
    """One fleet member: sluiced in its namespace (REST API on its own socket,
    BIRD's include written by sluiced), the TAP addressed as the port, and
    BIRD rendered from examples/bird/sluice-host.conf. With sync, sluiced
    runs flow sync (--sync-peers) with every other host's port address."""

    def __init__(self, net, name, cfg, grace_ms=0, sync=True):
        self.net, self.name, self.cfg, self.grace_ms = net, name, cfg, grace_ms
        self.sync = sync
        self.dir = workdir()
        self.config_path = os.path.join(self.dir, "config.json")
        self.api_sock = os.path.join(self.dir, "api.sock")
        self.frontends = os.path.join(self.dir, "bird-frontends.conf")
        self.daemon = None
        self.bird = None
        self.write_config(cfg)

    def write_config(self, cfg):
        """Replace the configuration file (sluiced applies it through inotify)."""
        import json
        tmp = self.config_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(cfg, f, indent=1)
        os.replace(tmp, self.config_path)
        self.cfg = cfg

    def start(self):
        import slharness
        ns = self.net.ns[self.name]
        args = ["--api-socket", self.api_sock, "--bird-config", self.frontends,
                "--bird-socket", os.path.join(self.dir, f"{self.name}-bird.ctl"),
                "--withdraw-grace-ms", str(self.grace_ms)]
        if self.sync:
            args += ["--sync-peers", ",".join(v4 for h, (v4, _, _) in HOSTS.items()
                                              if h != self.name)]
        self.daemon = slharness.Daemon(port_profile(self.name), self.config_path,
                                       extra_args=args, netns=ns)
        self.daemon.wait_stats(lambda s: s.get("generation", 0) >= 1, timeout=20)
        v4, v6, _ = HOSTS[self.name]
        self.net.run(self.name, ["ip", "link", "set", TAP, "up"])
        self.net.run(self.name, ["ip", "addr", "replace", v4 + "/24", "dev", TAP])
        self.net.run(self.name, ["ip", "-6", "addr", "replace", v6 + "/64", "dev", TAP,
                                 "nodad"])
        self.net.run(self.name, ["ip", "route", "replace", "default", "via", ROUTER_B[0]])
        deadline = time.time() + 10
        while not os.path.exists(self.frontends):
            assert time.time() < deadline, f"{self.name}: sluiced did not write {self.frontends}"
            time.sleep(0.05)
        if self.bird is None or self.bird.proc.poll() is not None:
            self.bird = Bird(ns, render_host_conf(self.name, self.frontends), self.dir,
                             self.name)
        return self

    def alive(self):
        return self.daemon is not None and self.daemon.proc.poll() is None

    def api(self, method, path, body=None):
        import json
        import slharness
        status, _, data = slharness.api_request(self.api_sock, method, path, body)
        return status, (json.loads(data) if data else None)

    def service(self, state):
        status, body = self.api("PUT", "/sluice/service", {"state": state})
        assert status == 200, (status, body)
        return body

    def stats(self):
        return self.daemon.wait_stats(lambda s: True)

    def forwarded(self, rule):
        """Packets sluiced forwarded for rule (lb/rule), by its statistics."""
        return {r["name"]: r["packets"] for r in self.stats()["rules"]}.get(rule, 0)

    def kill(self):
        """The host dies: sluiced and BIRD get SIGKILL at once."""
        self.daemon.proc.kill()
        if self.bird is not None:
            self.bird.kill()
        self.daemon.proc.wait()

    def stop(self, keep_log=True):
        """SIGTERM (sluiced withdraws, waits out its grace period, exits)."""
        log = ""
        if self.daemon is not None:
            self.daemon.stop(timeout=30)
            log = self.daemon.output()
        if self.bird is not None:
            self.bird.stop()
            log += "\n--- BIRD ---\n" + self.bird.output()
            self.bird = None
        return log
