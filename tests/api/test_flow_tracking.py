# SPDX-License-Identifier: BSD-3-Clause
"""Flow tracking, adminState and drain at the dataplane, driven through the REST API.

As test_dataplane.py: sluiced runs on net_af_packet over one end of a veth
pair inside a network namespace of this module's own; a small agent
(Python, raw AF_PACKET socket, inside the namespace) injects frames on the
other end and reports, per flow (protocol, source address, source port),
what sluiced sent back out: the destination MAC (the backend's static
neighbour) and the DNATed destination. The agent is one long-lived process
driven over stdin/stdout, so a test pays for its start once and a flood of
20,000 SYNs takes a second or two instead of a scapy minute.

What is checked (dataplane/core/sl_flow_policy.h, sl_flow_choice / sl_flow_track):
- a flow keeps its backend while that backend is in the snapshot and takes
  flows, whatever the pool's Maglev table now says (pool grows);
- adminState Down: no new flows, established TCP flows stay, UDP flows and
  TCP flows seen only with a SYN move (flows.rehashed);
- a backend removed from the pool: its flows re-hash;
- drainPeriodInSeconds: a Down backend keeps its established flows that long,
  then they expire (flows.expired) and move;
- a SYN flood into a small table: new flows overflow statelessly
  (flows.tableFull), established ones are never evicted.
Needs root.
"""
import json
import os
import subprocess
import time

import pytest

import apihelpers as h
import slharness
from apihelpers import rid

NS = f"slapi-{os.getpid()}-ft"
LB_IF, PEER_IF = "slft-lb0", "slft-peer0"
SLUICE_MAC, SLUICE_IP = "02:77:00:00:00:05", "10.77.0.5"
CLIENT_MAC, CLIENT_IP = "02:77:00:00:00:02", "10.77.0.2"
VIP, PORT = "10.77.0.10", 80
BACKENDS = {  # name -> (address, neighbour MAC)
    "a": ("10.77.0.11", "02:77:00:00:00:11"),
    "b": ("10.77.0.12", "02:77:00:00:00:12"),
    "c": ("10.77.0.13", "02:77:00:00:00:13"),
    "d": ("10.77.0.14", "02:77:00:00:00:14"),
}
BY_MAC = {mac: name for name, (_, mac) in BACKENDS.items()}
TCP, UDP = 6, 17
SYN, ACK = 0x02, 0x10

# The agent: runs inside the namespace. One JSON command per stdin line, one
# JSON answer per stdout line.
#   {"op": "xchg", "pkts": [[proto, src, sport, flags], ...], "timeout": s}
#       send one frame per flow to VIP:PORT, wait until sluiced sent one out for
#       each flow (or timeout), answer {"proto/src/sport": [record, ...]}
#   {"op": "flood", "n": N, "batch": B, "budget": s}
#       N TCP SYNs from random sources and ports, in batches; answer {"sent", "seconds"}
AGENT = r"""
import json, random, socket, struct, sys, threading, time
cfg = json.loads(sys.argv[1])
SMAC = bytes.fromhex(cfg["sluice_mac"].replace(":", ""))
CMAC = bytes.fromhex(cfg["client_mac"].replace(":", ""))
VIP = socket.inet_aton(cfg["vip"])
DPORT = cfg["dport"]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)  # SO_RCVBUFFORCE
s.bind((cfg["iface"], 0))
mreq = struct.pack("iHH8s", socket.if_nametoindex(cfg["iface"]), 1, 0, b"")
s.setsockopt(263, 1, mreq)  # SOL_PACKET, PACKET_ADD_MEMBERSHIP, PACKET_MR_PROMISC

def csum(b):
    if len(b) % 2:
        b += b"\0"
    v = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while v >> 16:
        v = (v & 0xFFFF) + (v >> 16)
    return ~v & 0xFFFF

ident = [0]
def frame(proto, src, sport, flags=0, seq=0, ack=0, payload=b""):
    src = socket.inet_aton(src)
    if proto == 6:
        l4 = struct.pack("!HHIIBBHHH", sport, DPORT, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
        off = 16
    else:
        l4 = struct.pack("!HHHH", sport, DPORT, 8 + len(payload), 0) + payload
        off = 6
    c = csum(src + VIP + struct.pack("!BBH", 0, proto, len(l4)) + l4)
    if proto == 17 and c == 0:
        c = 0xFFFF
    l4 = l4[:off] + struct.pack("!H", c) + l4[off + 2:]
    ident[0] = (ident[0] + 1) & 0xFFFF
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), ident[0], 0, 64, proto, 0, src, VIP)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return SMAC + CMAC + b"\x08\x00" + ip + l4

lock = threading.Lock()
seen = {}
def rx():
    while True:
        data, addr = s.recvfrom(65535)
        if addr[2] == 4 or data[6:12] != SMAC or data[12:14] != b"\x08\x00":
            continue  # our own frames, or not from sluiced
        ihl = (data[14] & 15) * 4
        proto = data[23]
        if proto not in (6, 17):
            continue
        l4 = 14 + ihl
        sport, dport = struct.unpack("!HH", data[l4:l4 + 4])
        key = "%d/%s/%d" % (proto, socket.inet_ntoa(data[26:30]), sport)
        rec = {"dmac": ":".join("%02x" % x for x in data[0:6]),
               "dst": socket.inet_ntoa(data[30:34]), "dport": dport,
               "flags": data[l4 + 13] if proto == 6 else 0}
        with lock:
            seen.setdefault(key, []).append(rec)
threading.Thread(target=rx, daemon=True).start()

def xchg(c):
    pkts = c["pkts"]
    keys = ["%d/%s/%d" % (p[0], p[1], p[2]) for p in pkts]
    with lock:
        for k in keys:
            seen.pop(k, None)
    for p in pkts:
        proto, src, sport, flags = p
        n = sport & 0xFFFF
        s.send(frame(proto, src, sport, flags, seq=1000 + n + (1 if flags & 0x10 else 0),
                     ack=1 if flags & 0x10 else 0, payload=b"" if proto == 6 else b"ping"))
    deadline = time.time() + c.get("timeout", 5.0)
    while time.time() < deadline:
        with lock:
            if all(k in seen for k in keys):
                break
        time.sleep(0.01)
    time.sleep(0.1)  # anything extra
    with lock:
        return {k: list(seen.get(k, [])) for k in keys}

def flood(c):
    rnd = random.Random(c.get("seed", 1))
    t0 = time.time()
    sent = 0
    while sent < c["n"] and time.time() - t0 < c["budget"]:
        batch = []
        for _ in range(min(c["batch"], c["n"] - sent)):
            src = "10.%d.%d.%d" % (rnd.randrange(100, 200), rnd.randrange(256),
                                   rnd.randrange(1, 255))
            batch.append(frame(6, src, rnd.randrange(1024, 65536), 0x02, seq=rnd.getrandbits(32)))
        for f in batch:
            s.send(f)
        sent += len(batch)
        time.sleep(c.get("pause", 0.002))
    return {"sent": sent, "seconds": time.time() - t0}

print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    c = json.loads(line)
    if c["op"] == "quit":
        break
    r = xchg(c) if c["op"] == "xchg" else flood(c)
    print(json.dumps(r), flush=True)
"""


@pytest.fixture(scope="module")
def netns():
    with h.veth_netns(NS, LB_IF, PEER_IF, SLUICE_MAC, CLIENT_MAC) as ns:
        yield ns


class Agent(slharness.NsAgent):
    """The injecting and capturing agent inside the namespace."""

    def __init__(self, ns):
        super().__init__(ns, AGENT, {"iface": PEER_IF, "sluice_mac": SLUICE_MAC,
                                     "client_mac": CLIENT_MAC, "vip": VIP, "dport": PORT},
                         what="the agent", ready_timeout=15.0)

    def send(self, pkts, timeout=5.0):
        """pkts: (proto, src, sport, flags). Returns {(proto, src, sport): [records]}."""
        out = self.call({"op": "xchg", "pkts": [list(p) for p in pkts], "timeout": timeout},
                        timeout + 10)
        return {tuple(int(x) if i != 1 else x for i, x in enumerate(k.split("/"))): v
                for k, v in out.items()}

    def flood(self, n, batch=256, pause=0.01, budget=20.0):
        return self.call({"op": "flood", "n": n, "batch": batch, "pause": pause,
                          "budget": budget}, budget + 15)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(3)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def agent(netns):
    ags = []

    def start():
        a = Agent(netns)
        ags.append(a)
        return a

    yield start
    for a in ags:
        a.close()


def profile():
    with open(os.path.join(h.slharness.ROOT, "pmd-config", "af-packet.json")) as f:
        prof = json.load(f)
    prof["ports"][0]["neighbours"] = [{"ipAddress": ip, "macAddress": mac}
                                      for ip, mac in BACKENDS.values()]
    return prof


def start_sluiced(daemons, ns, flow_table_size):
    return daemons.start(profile=profile(), netns=ns,
                         extra_args=["--flow-table-size", str(flow_table_size)],
                         env={"SLUICE_IFACE": LB_IF, "SLUICE_MAC": SLUICE_MAC,
                              "SLUICE_IPV4": SLUICE_IP})


def pool_body(members, drain=None):
    """members: names, or (name, adminState)."""
    addrs = []
    for m in members:
        name, admin = (m, None) if isinstance(m, str) else m
        extra = {"adminState": admin} if admin else {}
        addrs.append(h.address(name, BACKENDS[name][0], "vnet", **extra))
    props = {"loadBalancerBackendAddresses": addrs}
    if drain is not None:
        props["drainPeriodInSeconds"] = drain
    return {"properties": props}


def put_pool(api, members, drain=None, status=200):
    api.ok("PUT", rid("loadBalancers", "lb", "backendAddressPools", "pool"),
           pool_body(members, drain), status=status)


def configure(api, members, drain=None):
    """vnet, load balancer with one frontend, the pool, a Tcp and a Udp rule on PORT (DNAT)."""
    api.ok("PUT", rid("virtualNetworks", "vnet"),
           h.vnet_body(["10.77.0.0/24"], {"default": "10.77.0.0/24"}), status=201)
    api.ok("PUT", rid("loadBalancers", "lb"), h.lb_body(
        frontends=[h.frontend("fe", VIP, "vnet", "default")]), status=201)
    put_pool(api, members, drain, status=201)
    for name, proto in (("tcp", "Tcp"), ("udp", "Udp")):
        api.ok("PUT", rid("loadBalancers", "lb", "loadBalancingRules", name),
               h.rule(name, "lb", "fe", "pool", proto, PORT, PORT, enableFloatingIP=False),
               status=201)


def flow_stats(api):
    r = api.request("GET", "/sluice/stats", api_version=None)
    assert r.status == 200, r
    return r.json


def delta(after, before):
    return {k: after["flows"][k] - before["flows"][k] for k in after["flows"]}


def tcp_flow(sport, src=CLIENT_IP):
    return (TCP, src, sport)


def udp_flow(sport, src=CLIENT_IP):
    return (UDP, src, sport)


def pkt(flow, flags=0):
    return flow + (flags,)


def route(ag, flows, flags=0, timeout=5.0):
    """Send one packet per flow; returns {flow: backend name}. Each flow's packet
    must come out exactly once, DNATed to the backend its MAC names."""
    out = ag.send([pkt(f, flags) for f in flows], timeout=timeout)
    missing = [f for f in flows if not out.get(f)]
    assert not missing, f"{len(missing)} of {len(flows)} packets did not come out: {missing}"
    got = {}
    for f in flows:
        recs = out[f]
        assert len(recs) == 1, (f, recs)
        r = recs[0]
        name = BY_MAC.get(r["dmac"])
        assert name is not None, (f, r)
        assert (r["dst"], r["dport"]) == (BACKENDS[name][0], PORT), (f, r)
        if f[0] == TCP:
            assert r["flags"] == flags, (f, r)
        got[f] = name
    return got


def on(assign, backend):
    return [f for f, b in assign.items() if b == backend]


def test_flows_keep_backend_across_pool_changes_admin_down_and_removal(daemons, netns, agent):
    t_start = time.time()
    d = start_sluiced(daemons, netns, 4096)
    api = d.api
    configure(api, ["a", "b"])
    ag = agent()

    # -- 1. pool {a, b}: 24 TCP flows established (SYN, then ACK), 16 UDP flows
    est = [tcp_flow(40000 + i) for i in range(24)]
    udp = [udp_flow(50000 + i) for i in range(16)]
    s0 = flow_stats(api)
    first = route(ag, est, SYN)
    assert route(ag, est, ACK) == first, "an established flow changed backend with no change"
    assert set(first.values()) == {"a", "b"}, first
    udp_first = route(ag, udp)
    assert set(udp_first.values()) <= {"a", "b"}, udp_first
    assert on(udp_first, "b"), f"no UDP flow on b (16 flows over a, b): {udp_first}"
    s1 = flow_stats(api)
    dl = delta(s1, s0)
    assert (dl["misses"], dl["hits"], dl["rehashed"]) == (24 + 16, 24, 0), dl
    assert s1["flows"]["live"] >= 24 + 16, s1["flows"]

    # -- 2. pool {a, b, c, d}: the Maglev table changes (half of its slots go to
    # c and d), yet every tracked flow keeps its backend; new flows spread over all four.
    put_pool(api, ["a", "b", "c", "d"])
    assert route(ag, est, ACK) == first, "established flows moved when the pool grew"
    assert route(ag, udp) == udp_first, "UDP flows moved when the pool grew"
    new = [tcp_flow(41000 + i) for i in range(24)]
    t_new = time.time()
    new_first = route(ag, new, SYN)
    assert set(new_first.values()) <= {"a", "b", "c", "d"}, new_first
    assert set(new_first.values()) & {"c", "d"}, f"no new flow on c or d: {new_first}"
    s2 = flow_stats(api)
    dl = delta(s2, s1)
    assert (dl["misses"], dl["hits"], dl["rehashed"]) == (24, 24 + 16, 0), dl

    # -- 3. b adminState Down: b takes no new flows; its established TCP flows
    # stay; its SYN-only TCP flows and its UDP flows move.
    put_pool(api, ["a", ("b", "Down"), "c", "d"])
    syn_only_b = on(new_first, "b")
    after = route(ag, new, ACK)
    syn_only_elapsed = time.time() - t_new
    for f in new:
        if f in syn_only_b:
            assert after[f] != "b", f"a SYN-only flow stayed on Down backend b: {f}"
        else:
            assert after[f] == new_first[f], (f, new_first[f], after[f])
    assert route(ag, est, ACK) == first, \
        "established TCP flows of Down backend b (or of a) moved"
    udp_b = on(udp_first, "b")
    udp_now = route(ag, udp)
    for f in udp:
        if f in udp_b:
            assert udp_now[f] in {"a", "c", "d"}, f"a UDP flow stayed on Down backend b: {f}"
        else:
            assert udp_now[f] == udp_first[f], (f, udp_first[f], udp_now[f])
    newer = [tcp_flow(42000 + i) for i in range(24)]
    newer_first = route(ag, newer, SYN)
    assert "b" not in newer_first.values(), f"new flows reached Down backend b: {newer_first}"
    s3 = flow_stats(api)
    dl = delta(s3, s2)
    if syn_only_elapsed < 9.0:  # SYN-only flows time out after 10 s (then: misses, not rehashed)
        assert dl["rehashed"] == len(syn_only_b) + len(udp_b), (dl, syn_only_b, udp_b)
        assert dl["hits"] == (24 - len(syn_only_b)) + 24 + (16 - len(udp_b)), dl
        assert dl["misses"] == 24, dl
    else:
        assert dl["rehashed"] >= len(udp_b), dl

    # -- 4. a removed from the pool: its flows re-hash (to c or d: b is Down);
    # b's established flows still stay on b.
    put_pool(api, [("b", "Down"), "c", "d"])
    est_a = on(first, "a")
    moved = route(ag, est, ACK)
    for f in est:
        if f in est_a:
            assert moved[f] in {"c", "d"}, (f, moved[f])
        else:
            assert moved[f] == "b", f"an established flow of Down backend b moved: {f} {moved[f]}"
    udp_a = on(udp_now, "a")
    udp_later = route(ag, udp)
    for f in udp:
        if f in udp_a:
            assert udp_later[f] in {"c", "d"}, (f, udp_later[f])
        else:
            assert udp_later[f] == udp_now[f], (f, udp_now[f], udp_later[f])
    s4 = flow_stats(api)
    dl = delta(s4, s3)
    assert dl["rehashed"] == len(est_a) + len(udp_a), (dl, len(est_a), len(udp_a))
    assert dl["hits"] == (24 - len(est_a)) + (16 - len(udp_a)), dl
    assert dl["misses"] == 0, dl
    # the re-hashed flows are tracked again, on their new backend
    assert route(ag, est, ACK) == moved
    assert route(ag, udp) == udp_later
    assert d.proc.poll() is None
    print(f"flow tracking across pool changes: {time.time() - t_start:.1f} s; flows "
          f"{s4['flows']}; a/b established {len(est_a)}/{24 - len(est_a)}, "
          f"UDP on b {len(udp_b)}, SYN-only on b {len(syn_only_b)}")


DRAIN_S = 2


def test_drain_period_ends_established_flows_of_a_down_backend(daemons, netns, agent):
    """drainPeriodInSeconds 2: after adminState Down, b's established flows stay on b
    for the drain period and then expire (flows.expired) and move to a. The drain
    of a flow starts at its first packet after the change (sl_flow_choice sets the
    deadline lazily), so the test sends that packet at once; later packets must not
    push the deadline out (sl_flow_track: "a draining flow does not outlive its
    drain deadline")."""
    d = start_sluiced(daemons, netns, 4096)
    api = d.api
    configure(api, ["a", "b"], drain=DRAIN_S)
    ag = agent()
    est = [tcp_flow(43000 + i) for i in range(16)]
    first = route(ag, est, SYN)
    assert route(ag, est, ACK) == first
    on_b = on(first, "b")
    assert on_b, f"no flow on b: {first}"

    put_pool(api, ["a", ("b", "Down")], drain=DRAIN_S)
    t_down = time.time()
    # the first packet of each flow after the change starts its drain (sluiced
    # starts it lazily, per flow: see sl_flow_choice); send it right away
    assert route(ag, est, ACK) == first, "established flows of b left before the drain period"
    t_first = time.time()
    time.sleep(max(0.0, t_down + DRAIN_S / 2 - time.time()))
    assert route(ag, est, ACK) == first, \
        f"established flows of b left {time.time() - t_down:.1f} s into a {DRAIN_S} s drain"
    s_mid = flow_stats(api)
    # after the drain period (counted from the packet that started it, + margin)
    time.sleep(max(0.0, t_first + DRAIN_S + 0.8 - time.time()))
    after = route(ag, est, ACK)
    waited = time.time() - t_down
    stayed = [f for f in on_b if after[f] == "b"]
    assert not stayed, (f"{len(stayed)} of {len(on_b)} established flows of Down backend b "
                        f"still reach b {waited:.1f} s after adminState Down with "
                        f"drainPeriodInSeconds {DRAIN_S} (flows {flow_stats(api)['flows']})")
    for f in est:
        assert after[f] == "a", (f, after[f])
    s_end = flow_stats(api)
    dl = delta(s_end, s_mid)
    assert dl["expired"] >= len(on_b), dl
    assert dl["misses"] + dl["rehashed"] >= len(on_b), dl


FLOOD = 20000


def test_syn_flood_into_a_small_table_evicts_no_established_flow(daemons, netns, agent):
    d = start_sluiced(daemons, netns, 2048)
    api = d.api
    configure(api, ["a", "b"])
    ag = agent()
    est = [tcp_flow(44000 + i) for i in range(64)]
    first = route(ag, est, SYN)
    assert route(ag, est, ACK) == first
    s0 = flow_stats(api)

    # paced (af_packet's ring holds 512 frames), bounded to 20 s
    r = ag.flood(FLOOD, batch=256, pause=0.01, budget=20.0)
    assert r["sent"] == FLOOD, r
    # wait until sluiced has read what the kernel queued for it
    last, stable_since, deadline = -1, time.time(), time.time() + 10
    while time.time() < deadline:
        rx = flow_stats(api)["rx"]
        if rx != last:
            last, stable_since = rx, time.time()
        elif time.time() - stable_since > 0.3:
            break
        time.sleep(0.05)
    s1 = flow_stats(api)
    dl = delta(s1, s0)
    assert dl["tableFull"] > 0, f"a {FLOOD}-SYN flood never found a full bucket: {s1['flows']}"
    # the flood's packets were forwarded (statelessly when the table was full), not dropped
    read = s1["rx"] - s0["rx"]
    assert read > FLOOD // 2, (s0["rx"], s1["rx"])
    # each flood SYN is a new flow: a miss that was either inserted or refused (table full)
    assert dl["misses"] == read, (dl, read)
    assert dl["tableFull"] + (s1["flows"]["live"] - s0["flows"]["live"]) == read, (dl, s0, s1)
    assert dl["hits"] == 0 and dl["expired"] == 0, dl
    dropped = {k: v - s0["drops"].get(k, 0) for k, v in s1["drops"].items()
               if v != s0["drops"].get(k, 0) and k != "not_ip"}
    assert not dropped, dropped
    # live entries never exceed the table (8-way buckets: capacity / 0.8, rounded up)
    assert s1["flows"]["live"] <= 4096, s1["flows"]

    # the pool grows (the Maglev table changes): every established flow keeps its backend
    put_pool(api, ["a", "b", "c"])
    after = route(ag, est, ACK)
    moved = {f: (first[f], after[f]) for f in est if after[f] != first[f]}
    assert not moved, f"{len(moved)} of 64 established flows lost their backend: {moved}"
    s2 = flow_stats(api)
    assert s2["flows"]["hits"] - s1["flows"]["hits"] == 64, (s1["flows"], s2["flows"])
    assert d.proc.poll() is None, d.output()
    assert api.request("GET", "/sluice/status", api_version=None).status == 200
    print(f"SYN flood: {r['sent']} SYNs in {r['seconds']:.2f} s, {s1['rx'] - s0['rx']} read by "
          f"sluiced; flows {s1['flows']}")
