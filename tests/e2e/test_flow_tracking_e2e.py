# SPDX-License-Identifier: BSD-3-Clause
"""Flow tracking end to end, with real kernel TCP: long-lived connections keep
their backend when the pool grows and when their backend goes adminState
Down; new connections follow the pool, skip Down backends and, with a Tcp
probe on the rule, skip a backend whose server died within
intervalInSeconds x numberOfProbes.

The test bed is netns.py's (client, three backends, sluiced on a bridge, L2
Floating IP delivery), built by this module under its own names (so the
frontend address and the probe source address it adds touch no other test).
Each backend runs a small threaded TCP server that answers every line with
its backend name; the client namespace runs one Python process, driven over
stdin/stdout, that holds the long-lived connections and opens fresh ones.
sluiced runs with its REST API (the pool and the rule change through it) and
probes from 10.77.0.6, a kernel address on its own veth in its namespace.
Needs root.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest

import netns
from realnet import until
import slharness

VIP = "10.77.0.30"
PORT = 7070
PROBE_SRC = "10.77.0.6"
API_VERSION = "2020-05-01"
LB = f"{netns.NET}/loadBalancers/lb-ft"
VNET_ID = f"{netns.NET}/virtualNetworks/vnet-ft"
NAMES = ("backend1", "backend2", "backend3")
PROBE_INTERVAL_S, PROBE_COUNT = 5, 2
PROBE_MARGIN_S = 3.0

# A backend: answers every line with its name, on persistent connections.
SERVER = r"""
import socketserver, sys
name, port = sys.argv[1], int(sys.argv[2])
class H(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write((name + "\n").encode())
            self.wfile.flush()
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
S(("0.0.0.0", port), H).serve_forever()
"""

# The client: one JSON command per stdin line, one JSON answer per stdout line.
#   {"op": "open", "tag": T, "n": N}  N long-lived connections T0..T<N-1>, each asked once
#   {"op": "ask", "ids": [...]}       a line on each of those connections
#   {"op": "fresh", "n": N}           N new connections, each asked once and closed
# Answers are backend names, or "closed", "timeout", "refused", "error:<what>".
CLIENT = r"""
import json, socket, sys
cfg = json.loads(sys.argv[1])
conns = {}
def ask(c):
    s, f = c
    try:
        s.sendall(b"who\n")
        line = f.readline()
        return line.decode().strip() if line else "closed"
    except socket.timeout:
        return "timeout"
    except ConnectionResetError:
        return "reset"
    except OSError as e:
        return "error:%s" % e
def connect():
    s = socket.create_connection((cfg["vip"], cfg["port"]), timeout=cfg["timeout"])
    s.settimeout(cfg["timeout"])
    return s, s.makefile("rb")
def one(tag=None):
    try:
        c = connect()
    except ConnectionRefusedError:
        return "refused"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return "error:%s" % e
    r = ask(c)
    if tag is None:
        c[1].close()
        c[0].close()
    else:
        conns[tag] = c
    return r
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    c = json.loads(line)
    if c["op"] == "open":
        r = {"%s%d" % (c["tag"], i): one("%s%d" % (c["tag"], i)) for i in range(c["n"])}
    elif c["op"] == "ask":
        r = {i: ask(conns[i]) if i in conns else "unknown" for i in c["ids"]}
    elif c["op"] == "fresh":
        r = [one() for _ in range(c["n"])]
    else:
        break
    print(json.dumps(r), flush=True)
"""


class Client(slharness.NsAgent):
    def __init__(self, ns):
        super().__init__(ns, CLIENT, {"vip": VIP, "port": PORT, "timeout": 2.0},
                         what="the client", ready_timeout=10)

    def open(self, tag, n):
        return self.call({"op": "open", "tag": tag, "n": n}, 5 + 5 * n)

    def ask(self, ids):
        return self.call({"op": "ask", "ids": list(ids)}, 5 + 3 * len(ids))

    def fresh(self, n):
        return self.call({"op": "fresh", "n": n}, 5 + 5 * n)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(3)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


class Env:
    """Everything the two tests share; `ready_for_probe` is set when the first test
    reached its end state (pool {b1, b2 Down, b3}, long-lived connections open)."""

    def __init__(self):
        self.topology = None
        self.servers = {}
        self.daemon = None
        self.sock = None
        self.client = None
        self.tmp = tempfile.mkdtemp(prefix="sluice-ft-e2e-")
        self.long = {}  # connection id -> backend
        self.ready_for_probe = False

    def api(self, method, path, body=None, status=(200, 201)):
        url = path + ("&" if "?" in path else "?") + f"api-version={API_VERSION}" \
            if path.startswith("/subscriptions") else path
        st, _, data = slharness.api_request(self.sock, method, url, body)
        text = data.decode(errors="replace")
        if status is not None:
            assert st in status, f"{method} {path}: {st} {text[:2000]}"
        return st, (json.loads(text) if text.strip() else None)

    def put_pool(self, members):
        """members: names, or (name, adminState)."""
        addrs = []
        for m in members:
            name, admin = (m, None) if isinstance(m, str) else m
            props = {"ipAddress": netns.BACKENDS[name][0], "virtualNetwork": {"id": VNET_ID}}
            if admin:
                props["adminState"] = admin
            addrs.append({"name": name, "properties": props})
        self.api("PUT", f"{LB}/backendAddressPools/pool",
                 {"properties": {"loadBalancerBackendAddresses": addrs}})

    def stats(self):
        return self.api("GET", "/sluice/stats")[1]

    def start_server(self, name):
        log = open(os.path.join(self.tmp, name + ".log"), "w")
        self.servers[name] = subprocess.Popen(
            ["ip", "netns", "exec", self.topology.ns[name], sys.executable, "-c", SERVER, name,
             str(PORT)], stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def server_listening(self, name):
        out = netns.sh(["ss", "-Htln", f"sport = :{PORT}"], ns=self.topology.ns[name],
                       check=False)
        return bool(out.strip())

    def down(self):
        if self.client is not None:
            self.client.close()
        if self.daemon is not None:
            self.daemon.stop()
        for p in self.servers.values():
            if p.poll() is None:
                p.kill()
                p.wait()
        if self.topology is not None:
            self.topology.down()


@pytest.fixture(scope="module")
def env():
    netns.remove_stale()
    e = Env()
    try:
        try:
            e.topology = netns.Topology(tag=f"{os.getpid()}-ft").up(vips=(VIP,))
        except (netns.CommandError, OSError) as ex:
            pytest.skip(f"cannot build the network namespace test bed here: {ex}")
        t = e.topology
        for b in NAMES:
            t.add_vip(b, VIP)
            e.start_server(b)
        # a kernel address for the probes on sluiced's veth (sluiced reads the same frames
        # through af_packet and drops them: not a frontend)
        netns.sh(["ip", "-n", t.ns["lb"], "addr", "add", f"{PROBE_SRC}/24", "dev",
                  netns.LB_IFACE])
        with open(os.path.join(slharness.ROOT, "pmd-config", "af-packet.json")) as f:
            prof = json.load(f)
        prof["ports"][0]["neighbours"] = [{"ipAddress": a, "macAddress": m}
                                          for a, m in netns.BACKENDS.values()]
        e.sock = os.path.join(e.tmp, "api.sock")
        e.daemon = slharness.Daemon(
            prof, None, extra_args=["--api-socket", e.sock, "--flow-table-size", "65536",
                                    "--probe-source-v4", PROBE_SRC],
            env={"SLUICE_IFACE": netns.LB_IFACE, "SLUICE_MAC": netns.SLUICE_MAC,
                 "SLUICE_IPV4": netns.SLUICE_IP},
            netns=t.ns["lb"])

        def api_up():
            if e.daemon.proc.poll() is not None:
                raise AssertionError("sluiced exited:\n" + e.daemon.output())
            try:
                return os.path.exists(e.sock) and \
                    slharness.api_request(e.sock, "GET", "/sluice/status", timeout=2)[0] == 200
            except OSError:
                return False
        assert until(api_up, 20), "the REST API did not answer:\n" + e.daemon.output()
        missing = [b for b in NAMES if not until(lambda: e.server_listening(b), 10)]
        assert not missing, f"servers not listening: {missing}"
        e.client = Client(t.ns["client"])
        yield e
    finally:
        if e.daemon is not None and e.daemon.proc.poll() is None and getattr(
                e, "failed", False):
            print("--- sluiced log ---\n" + e.daemon.output())
        e.down()


@pytest.fixture(autouse=True)
def _log_on_failure(request, env):
    yield
    rep = getattr(request.node, "rep_call", None)
    if rep is None or rep.failed:
        env.failed = True


def test_long_lived_connections_keep_their_backend(env):
    t0 = time.time()
    c = env.client
    env.api("PUT", VNET_ID, netns.vnet("vnet-ft", "10.77.0.0/24", {"mode": "L2"}))
    env.api("PUT", LB, netns.load_balancer("lb-ft", "vnet-ft", VIP, ["backend1", "backend2"],
                                           port=PORT))

    # -- pool {b1, b2}: 12 long-lived connections over both
    first = c.open("L", 12)
    assert set(first.values()) == {"backend1", "backend2"}, first
    env.long.update(first)
    assert c.ask(first) == first

    # -- pool {b1, b2, b3}: a third of the Maglev slots go to b3, yet every
    # connection is still answered by its backend (a moved one would be reset)
    env.put_pool(["backend1", "backend2", "backend3"])
    assert c.ask(first) == first, "connections changed backend when the pool grew"
    fresh = c.fresh(24)
    assert set(fresh) <= set(NAMES), fresh
    assert "backend3" in fresh, f"no new connection reached backend3: {fresh}"
    more = c.open("M", 12)  # long-lived connections over all three (b3's for the probe step)
    assert set(more.values()) <= set(NAMES), more
    env.long.update(more)

    # -- b2 adminState Down: its connections stay; new ones never reach it
    env.put_pool(["backend1", ("backend2", "Down"), "backend3"])
    now = c.ask(env.long)
    assert now == env.long, {i: (env.long[i], now[i]) for i in now if now[i] != env.long[i]}
    assert "backend2" in env.long.values()
    fresh = c.fresh(24)
    assert set(fresh) <= {"backend1", "backend3"}, \
        f"new connections reached Down backend2 or failed: {fresh}"
    assert c.ask(env.long) == env.long
    st = env.stats()
    assert st["flows"]["hits"] > 0 and st["flows"]["misses"] > 0, st["flows"]
    drops = netns.unexpected_drops(st)
    assert not drops, (drops, st)
    env.ready_for_probe = True
    print(f"long-lived connections: {time.time() - t0:.1f} s; long-lived on "
          f"{sorted(env.long.values())}; flows {st['flows']}")


def probes_of(env):
    st, body = env.api("GET", "/sluice/probes", status=None)
    if st != 200 or not isinstance(body, dict):
        return None
    return {p.get("address"): p for p in body.get("value", [])}


def test_probe_takes_a_dead_backend_out_of_new_connections(env):
    if not env.ready_for_probe:
        pytest.skip("the previous step did not complete")
    c = env.client
    env.api("PUT", f"{LB}/probes/tcp", {"properties": {
        "protocol": "Tcp", "port": PORT, "intervalInSeconds": PROBE_INTERVAL_S,
        "numberOfProbes": PROBE_COUNT}})
    rule = netns.load_balancer("lb-ft", "vnet-ft", VIP, [], port=PORT)["properties"][
        "loadBalancingRules"][0]
    rule["properties"]["probe"] = {"id": f"{LB}/probes/tcp"}
    env.api("PUT", f"{LB}/loadBalancingRules/http", rule)

    # probing active: GET /sluice/probes reports backend1 probed successfully
    def b1_probed():
        p = probes_of(env)
        return p is not None and p.get("backend1", {}).get("lastResult") == "Success"
    if not until(b1_probed, 3.0):
        pytest.skip(f"health probes are not active in this sluiced (GET /sluice/probes: "
                    f"{env.api('GET', '/sluice/probes', status=None)})")

    # b1's server dies: its probes are refused; new connections must avoid it
    # within intervalInSeconds x numberOfProbes (+ margin)
    b3_long = [i for i, b in env.long.items() if b == "backend3"]
    b2_long = [i for i, b in env.long.items() if b == "backend2"]
    assert b3_long, env.long
    # no member is probed down yet: no new flow was placed elsewhere than a
    # host that sees every backend up would place it
    assert env.stats()["healthDiverted"] == 0
    env.servers["backend1"].send_signal(signal.SIGKILL)
    env.servers["backend1"].wait(5)
    t_kill = time.time()
    bound = PROBE_INTERVAL_S * PROBE_COUNT + PROBE_MARGIN_S
    rounds, t_avoid, t_down = [], None, None
    while time.time() - t_kill < bound + 2:
        if t_down is None:
            p = probes_of(env) or {}
            if p.get("backend1", {}).get("health") == "Down":
                t_down = time.time() - t_kill
        r = c.fresh(4)
        rounds.append((round(time.time() - t_kill, 2), r))
        if all(x == "backend3" for x in r):
            if t_avoid is None:
                t_avoid = time.time() - t_kill
        else:
            t_avoid = None  # not yet stable
        if t_avoid is not None and t_down is not None and len(rounds) >= 3 and \
                all(all(x == "backend3" for x in rr) for _, rr in rounds[-3:]):
            break
        time.sleep(0.25)
    print(f"probe: backend1 probed Down {t_down if t_down is None else round(t_down, 2)} s "
          f"after its server died; new connections avoid it from "
          f"{t_avoid if t_avoid is None else round(t_avoid, 2)} s "
          f"(bound {PROBE_INTERVAL_S} x {PROBE_COUNT} + {PROBE_MARGIN_S} = {bound} s)")
    assert t_down is not None and t_down <= bound, (t_down, rounds)
    assert t_avoid is not None and t_avoid <= bound, (t_avoid, rounds)
    fresh = c.fresh(12)
    assert fresh == ["backend3"] * 12, fresh
    # backend1 probed down here only: the new flows whose slot in the
    # probe-blind table (backend1 and backend3; backend2 is adminState Down)
    # is backend1's went to backend3 instead, and are counted; a host that
    # saw backend1 up would have sent them to it (docs/flows.md)
    diverted = env.stats()["healthDiverted"]
    n_fresh = 12 + 4 * len(rounds)
    assert 0 < diverted <= n_fresh, (diverted, n_fresh)
    # b3's connections were never disturbed; b2's (adminState Down) still stay
    ans = c.ask(b3_long + b2_long)
    assert ans == {i: env.long[i] for i in b3_long + b2_long}, ans
    drops = netns.unexpected_drops(env.stats())
    assert not drops, drops
