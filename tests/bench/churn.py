#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""churn.py: thousands of REST changes as fast as the API takes them while
one worker forwards a replayed trace at full rate; nothing may be lost, no
established flow may leave a surviving backend, memory may not grow.

sluiced runs on one worker lcore with flow tracking over a replayed trace
(net_pcap, infinite_rx=1): --flows TCP flows (a SYN, then ACKs: established
flows) spread over ten frontend ports of one load balancer:
  fe0 10.0.0.10:80..83  rules web0..3 (always there) -> pools p0..p3, each
                        with two anchor backends 10.1.P.1-2 that the churn
                        never removes, sets Down or reweights, among
                        members the churn adds, removes, flips and replaces
  fe2 10.0.0.12:80..81  rules spare0..1 (always there) -> pools q0..q1,
                        no anchors: the churn may empty them
  fe1 10.0.0.11:100..103 rules x0..3, added and removed by the churn (each
                        time to a pool drawn at random)
Rules are DNAT (backend port = 80+P, 90+Q, 100+K), so what sluiced sends
names its backend in its destination address.

The churn: --changes changes drawn from a seeded mix (--seed): an address
added to a pool, one removed, an admin state flip (Up/Down/None), a weight
change, a whole pool replaced (anchors kept), a rule added, a rule removed;
--clients K clients at once (each owns every K-th pool and rule). Per
change: the round trip, and request-to-publication from GET /sluice/status
read right after it (with K > 1 the latest commit's at that moment).

Goals, each a failure (exit status 1) when missed:
  loss      rx - tx - dropped = 0 (stats at exit), every drop of a policy
            reason: no_frontend (a packet to fe1 while its rule is absent;
            at most fe1's share of the received), no_backend (only on fe1
            and fe2, whose pools may be empty or all Down); fe0 drops none
  moves     what sluiced transmitted goes through a FIFO to flow_moves
            (tests/bench/flow_moves.c): a flow of web0..3 pinned to an anchor
            by its first packet there never goes elsewhere (0 moved, and
            there are pinned flows to judge); flows.tableFull = 0. The worker
            writes every packet it sends into the FIFO: the full rate is
            that of forwarding plus that write (--no-capture: net_pcap drops
            them, no move check, the rate and latencies without it)
  memory    VmRSS and the DPDK heap (telemetry /eal/heap_info) before the
            churn, after it and after --settle seconds: growth from before
            to settled at most --rss-bound MiB and --heap-bound MiB (VmRSS
            not judged in a sanitized build: ASan's quarantine holds freed
            memory; LeakSanitizer judges leaks there)
  exit      sluiced exits 0 on SIGINT (under ASan: LeakSanitizer ran and
            found nothing, the sanitizers reported nothing)

  churn.py [--changes 10000] [--flows 4000] [--clients 1] [--seed 1]
           [--no-capture] [--json out.json]
"""
import argparse
import importlib.util
import ipaddress
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import sldpdk  # noqa: E402
import slharness  # noqa: E402

_spec = importlib.util.spec_from_file_location("sl_bench_trace", os.path.join(HERE, "trace.py"))
bench_trace = importlib.util.module_from_spec(_spec)  # trace.py: not the standard library's trace
_spec.loader.exec_module(bench_trace)

ARM = "/subscriptions/churn/resourceGroups/churn/providers/Microsoft.Network"
API = "?api-version=2020-05-01"
VNET = f"{ARM}/virtualNetworks/churn-vnet"
LB = f"{ARM}/loadBalancers/churn-lb"
FE = {"fe0": "10.0.0.10", "fe1": "10.0.0.11", "fe2": "10.0.0.12"}
P_POOLS, Q_POOLS, X_RULES = 4, 2, 4
MAX_EXTRA = 24       # members a pool has at most besides its anchors
KINDS = [("add", 20), ("remove", 20), ("admin", 15), ("weight", 15), ("replace", 10),
         ("rule_add", 10), ("rule_remove", 10)]
POLICY_DROPS = {"no_frontend", "no_backend"}


def anchors(p):
    return [f"10.1.{p}.1", f"10.1.{p}.2"]


def all_anchors():
    return [a for p in range(P_POOLS) for a in anchors(p)]


def judged_ports():
    return [80 + p for p in range(P_POOLS)]


def targets():
    """(frontend address, proto, port) the trace's flows go to, round robin."""
    t = [(FE["fe0"], "tcp", 80 + p) for p in range(P_POOLS)]
    t += [(FE["fe2"], "tcp", 80 + q) for q in range(Q_POOLS)]
    t += [(FE["fe1"], "tcp", 100 + k) for k in range(X_RULES)]
    return t


# --------------------------------------------------------------------------
# The configuration and the model the churn edits
# --------------------------------------------------------------------------

class Model:
    """What the configuration holds: pool -> members, churn rule -> pool or None."""

    def __init__(self, rng):
        self.rng = rng
        self.pools = {}
        for p in range(P_POOLS):
            self.pools[f"p{p}"] = [{"name": f"anchor{i}", "ip": a, "anchor": True}
                                   for i, a in enumerate(anchors(p))] + self.fresh(f"p{p}", 4)
        for q in range(Q_POOLS):
            self.pools[f"q{q}"] = self.fresh(f"q{q}", 4)
        self.xrules = {f"x{k}": rng.choice(sorted(self.pools)) for k in range(X_RULES)}

    @staticmethod
    def candidate(pool, x):
        net = 2 if pool[0] == "p" else 3
        return f"10.{net}.{int(pool[1:])}.{x}"

    def fresh(self, pool, n, avoid=()):
        used = {m["name"] for m in avoid}
        xs = [x for x in range(1, 251) if f"m{x}" not in used]
        out = []
        for x in self.rng.sample(xs, n):
            m = {"name": f"m{x}", "ip": self.candidate(pool, x), "anchor": False}
            if self.rng.random() < 0.3:
                m["weight"] = self.rng.randint(1, 100)
            if self.rng.random() < 0.2:
                m["admin"] = self.rng.choice(["Up", "Down"])
            out.append(m)
        return out

    def pool_body(self, pool):
        addrs = []
        for m in self.pools[pool]:
            props = {"ipAddress": m["ip"], "virtualNetwork": {"id": VNET}}
            if "weight" in m:
                props["weight"] = m["weight"]
            if "admin" in m:
                props["adminState"] = m["admin"]
            addrs.append({"name": m["name"], "properties": props})
        return {"properties": {"loadBalancerBackendAddresses": addrs}}


def rule_body(fe, port, pool, backend_port):
    return {"properties": {
        "frontendIPConfiguration": {"id": f"{LB}/frontendIPConfigurations/{fe}"},
        "backendAddressPool": {"id": f"{LB}/backendAddressPools/{pool}"},
        "protocol": "Tcp", "frontendPort": port, "backendPort": backend_port,
        "enableFloatingIP": False, "idleTimeoutInMinutes": 30}}


def base_config(model):
    rules = []
    for p in range(P_POOLS):
        rules.append({"name": f"web{p}", **rule_body("fe0", 80 + p, f"p{p}", 80 + p)})
    for q in range(Q_POOLS):
        rules.append({"name": f"spare{q}", **rule_body("fe2", 80 + q, f"q{q}", 90 + q)})
    for r, pool in model.xrules.items():
        rules.append({"name": r, **rule_body("fe1", 100 + int(r[1:]), pool, 100 + int(r[1:]))})
    return {
        "virtualNetworks": [{"name": "churn-vnet", "id": VNET, "properties": {
            "addressSpace": {"addressPrefixes": ["10.0.0.0/8"]}}}],
        "loadBalancers": [{"name": "churn-lb", "id": LB, "sku": {"name": "Standard"}, "properties": {
            "frontendIPConfigurations": [{"name": n, "properties": {"privateIPAddress": a}}
                                         for n, a in FE.items()],
            "backendAddressPools": [{"name": n, **model.pool_body(n)} for n in model.pools],
            "loadBalancingRules": rules}}],
    }


# --------------------------------------------------------------------------
# The churn
# --------------------------------------------------------------------------

def next_change(model, rng, pools, xrules):
    """Edit model with one change drawn from the mix; returns (kind, method, path, body).
    pools, xrules: the names this client owns."""
    kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
    pool = rng.choice(pools)
    members = model.pools[pool]
    extra = [m for m in members if not m["anchor"]]
    if kind == "add" and len(extra) >= MAX_EXTRA:
        kind = "remove"
    if kind in ("remove", "admin", "weight") and not extra:
        kind = "add"
    absent = [r for r in xrules if model.xrules[r] is None]
    present = [r for r in xrules if model.xrules[r] is not None]
    if kind == "rule_add" and not absent:
        kind = "rule_remove"
    if kind == "rule_remove" and not present:
        kind = "rule_add"
    if kind.startswith("rule_") and not xrules:
        kind = "replace"
    if kind == "rule_add":
        r = rng.choice(absent)
        model.xrules[r] = rng.choice(list(model.pools))
        k = int(r[1:])
        return kind, "PUT", f"{LB}/loadBalancingRules/{r}{API}", \
            rule_body("fe1", 100 + k, model.xrules[r], 100 + k)
    if kind == "rule_remove":
        r = rng.choice(present)
        model.xrules[r] = None
        return kind, "DELETE", f"{LB}/loadBalancingRules/{r}{API}", None
    if kind == "add":
        members.append(model.fresh(pool, 1, avoid=members)[0])
    elif kind == "remove":
        members.remove(rng.choice(extra))
    elif kind == "admin":
        m = rng.choice(extra)
        m["admin"] = rng.choice([s for s in ("Up", "Down", "None") if s != m.get("admin", "None")])
    elif kind == "weight":
        m = rng.choice(extra)
        m["weight"] = rng.choice([w for w in (1, 2, 5, 10, 50, 100) if w != m.get("weight", 1)])
    else:  # replace: anchors kept, every other member new (a q pool may become empty)
        keep = [m for m in members if m["anchor"]]
        n = rng.randint(0 if pool[0] == "q" and extra else 1, 12)  # never a no-op
        model.pools[pool] = keep + model.fresh(pool, n, avoid=members)
    return kind, "PUT", f"{LB}/backendAddressPools/{pool}{API}", model.pool_body(pool)


def send(conn, method, path, body=None):
    data = json.dumps(body) if body is not None else None
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    text = r.read()
    return r.status, (json.loads(text) if text else None)


def churn_client(sock, model, lock, seed, n, pools, xrules, rows, errors):
    rng = random.Random(seed)
    conn = slharness.UnixHTTPConnection(sock, timeout=60)
    for _ in range(n):
        with lock:  # the model is shared; each client edits only what it owns
            kind, method, path, body = next_change(model, rng, pools, xrules)
        t0 = time.perf_counter()
        status, out = send(conn, method, path, body)
        rtt = (time.perf_counter() - t0) * 1e6
        if status not in (200, 201):
            errors.append(f"{kind} {method} {path}: {status} {out}")
            return
        _, st = send(conn, "GET", "/sluice/status")
        lc = st["lastCommitMicroseconds"]
        rows.append((kind, rtt, lc["requestToPublish"], lc["compile"], lc["publish"], lc["persist"]))
    conn.close()


def run_churn(sock, model, changes, clients, seed):
    """Returns (rows, errors, seconds)."""
    lock = threading.Lock()
    rows, errors, threads = [], [], []
    pools = sorted(model.pools)
    xrules = sorted(model.xrules)
    for c in range(clients):
        n = changes // clients + (1 if c < changes % clients else 0)
        mine_p = pools[c::clients] or pools[c % len(pools)::len(pools)]
        mine_x = xrules[c::clients]
        threads.append(threading.Thread(target=churn_client, args=(
            sock, model, lock, seed * 1000 + c, n, mine_p, mine_x, rows, errors)))
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return rows, errors, time.time() - t0


# --------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------

def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q / 100.0 * (len(v) - 1))))] if v else 0


def memory(pid, prefix):
    """(VmRSS in KiB, DPDK heap bytes allocated on socket 0)."""
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    heap = sldpdk.telemetry(prefix, "/eal/heap_info,0")
    return rss, int(heap["Alloc_size"])


def api_get(sock, path):
    st, _, body = slharness.api_request(sock, "GET", path)
    if st != 200:
        raise SystemExit(f"GET {path}: {st} {body[:300]}")
    return json.loads(body)


def wait_established(sock, proc, flows, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("sluiced exited before the churn")
        s = api_get(sock, "/sluice/stats")
        if s["flows"]["live"] >= flows * 0.95 and s["tx"] > 4 * flows:
            return s
        time.sleep(0.2)
    raise SystemExit(f"traffic did not establish {flows} flows in {timeout} s: {s['flows']}")


def sanitized():
    """Whether SLUICE_BUILD was configured with -Db_sanitize (ASan keeps freed
    memory in its quarantine, up to 256 MiB: resident growth means nothing there)."""
    path = os.path.join(slharness.build_dir(), "meson-info", "intro-buildoptions.json")
    try:
        with open(path) as f:
            opts = {o["name"]: o["value"] for o in json.load(f)}
    except (OSError, ValueError):
        return False
    return opts.get("b_sanitize", "none") != "none"


def sanitizer_reports(log_text):
    keys = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
    return [ln for ln in log_text.splitlines() if any(k in ln for k in keys)]


# --------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------

def write_trace(path, flows, per_flow):
    """Flow i (client 198.18.0.0 + i, tests/bench/trace.py's source port) to
    targets()[i mod 10]: a SYN, then ACKs; 64-byte frames. Returns the packets."""
    t = targets()
    n = 0
    with open(path, "wb") as f:
        f.write(bench_trace.struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(flows):
            addr, _, port = t[i % len(t)]
            dst = ipaddress.IPv4Address(addr).packed
            for k in range(per_flow):
                fr = bench_trace.frame(i, 60, "tcp", False, 1, dport=port,
                                       flags=0x02 if k == 0 else 0x10, dst=dst)
                f.write(bench_trace.struct.pack("<IIII", 0, 0, len(fr), len(fr)) + fr)
                n += 1
    return n


def write_inputs(work, a, model):
    pcap = os.path.join(work, "trace.pcap")
    n_packets = write_trace(pcap, a.flows, a.packets_per_flow)
    cfg = os.path.join(work, "config.json")
    with open(cfg, "w") as f:
        json.dump(base_config(model), f)
    fifo = None if a.no_capture else os.path.join(work, "tx.fifo")
    tx = ""
    if fifo:
        os.mkfifo(fifo)
        tx = f",tx_pcap={fifo}"
    prof = os.path.join(work, "ports.json")
    with open(prof, "w") as f:
        json.dump({"ports": [{"name": "churn0", "device": "net_pcap0",
                              "devargs": f"rx_pcap={pcap},infinite_rx=1{tx}",
                              "rxQueues": 1, "extraMbufs": n_packets + 4096,
                              "neighbourDiscovery": False, "macAddress": slharness.SLUICE_MAC,
                              "ipv4Address": "10.0.0.2", "gateway": {"ipv4": "10.0.0.1"},
                              "neighbours": [{"ipAddress": "10.0.0.1",
                                              "macAddress": slharness.ROUTER_MAC}]}]}, f)
    return prof, cfg, fifo, n_packets


def start(work, a, prof, cfg, fifo, prefix):
    """The flow_moves reader on the FIFO (none without one), then sluiced writing into it."""
    reader_out = open(os.path.join(work, "moves.json"), "w")
    reader = None
    tool = os.path.join(slharness.build_dir(), "tests", "bench", "flow_moves")
    if fifo:
        if not os.path.exists(tool):
            raise SystemExit(f"{tool} is missing: ninja -C {slharness.build_dir()}")
        reader = subprocess.Popen([tool, "--anchors", ",".join(all_anchors()),
                                   "--ports", ",".join(map(str, judged_ports())), fifo],
                                  stdout=reader_out)
    sock = os.path.join(work, "api.sock")
    stats_file = os.path.join(work, "stats.json")
    cmd = ([slharness.sluiced_path()] + sldpdk.eal_args(prefix) +
           ["--", "--ports", prof, "--config", cfg, "--api-socket", sock, "--state-dir", work,
            "--stats-file", stats_file, "--flow-table-size", str(max(65536, 4 * a.flows))])
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    log = open(os.path.join(work, "sluiced.log"), "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.time() + 60
    while not os.path.exists(sock):
        if proc.poll() is not None or time.time() > deadline:
            if reader:
                reader.kill()
            raise SystemExit("sluiced did not start; see " + log.name)
        time.sleep(0.05)
    return proc, reader, reader_out, log, sock, stats_file


def stop(proc, reader, reader_out, log):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log.close()
    if reader:
        try:
            reader.wait(60)
        except subprocess.TimeoutExpired:
            reader.kill()
            reader.wait()
    reader_out.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--changes", type=int, default=10000)
    ap.add_argument("--flows", type=int, default=4000)
    ap.add_argument("--packets-per-flow", type=int, default=4)
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--settle", type=float, default=3.0)
    ap.add_argument("--rss-bound", type=float, default=8.0, help="MiB")
    ap.add_argument("--heap-bound", type=float, default=1.0, help="MiB")
    ap.add_argument("--no-capture", action="store_true",
                    help="no FIFO: net_pcap drops what sluiced sends (no move check)")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--keep", action="store_true", help="keep the run's directory")
    a = ap.parse_args(argv)

    work = tempfile.mkdtemp(prefix="sluice-churn-")
    t_start = time.time()
    model = Model(random.Random(a.seed))
    prof, cfg, fifo, trace_packets = write_inputs(work, a, model)
    prefix = sldpdk.new_prefix("churn")
    proc, reader, reader_out, log, sock, stats_file = start(work, a, prof, cfg, fifo, prefix)
    try:
        t_up = time.time()
        s0 = wait_established(sock, proc, a.flows)
        t_est = time.time()
        mem_before = memory(proc.pid, prefix)
        t_before = time.time()
        rows, errors, seconds = run_churn(sock, model, a.changes, a.clients, a.seed)
        mem_after = memory(proc.pid, prefix)
        time.sleep(a.settle)
        mem_settled = memory(proc.pid, prefix)
        status = api_get(sock, "/sluice/status")
        live = api_get(sock, "/sluice/stats")
        traffic_seconds = time.time() - t_before
    finally:
        stop(proc, reader, reader_out, log)
    t_end = time.time()
    print(f"phases (s): inputs and start {t_up - t_start:.1f}, flows established {t_est - t_up:.1f}, "
          f"churn and settle {traffic_seconds:.1f}, exit {t_end - t_est - traffic_seconds:.1f}",
          file=sys.stderr)
    with open(log.name, errors="replace") as f:
        log_text = f.read()
    with open(stats_file) as f:
        final = json.load(f)
    with open(reader_out.name) as f:
        text = f.read().strip()
    moves = json.loads(text) if text else {}
    fig = figures(a, rows, seconds, s0, live, final, status, moves, mem_before, mem_after,
                  mem_settled, traffic_seconds, trace_packets)
    failures = check(a, fig, errors, proc.returncode, reader.returncode if reader else None,
                     log_text)
    report(a, fig, failures)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(fig, failures=failures), f, indent=1)
    if failures:
        print(f"(files kept in {work})")
    elif not a.keep:
        subprocess.run(["rm", "-rf", work])
    return 1 if failures else 0


def figures(a, rows, seconds, s0, live, final, status, moves, before, after, settled, tsec,
            trace_packets):
    fe = {f["name"].split("/")[-1]: f for f in final.get("frontends", [])}
    lat = {}
    for col, k in (("roundTrip", 1), ("requestToPublish", 2), ("compile", 3), ("publish", 4),
                   ("persist", 5)):
        v = [r[k] for r in rows]
        lat[col] = {"p50": pct(v, 50), "p99": pct(v, 99), "max": max(v) if v else 0}
    kinds = {}
    for kind, _ in KINDS:
        v = [r[1] for r in rows if r[0] == kind]
        kinds[kind] = {"n": len(v), "p50": pct(v, 50), "p99": pct(v, 99)}
    return {
        "changes": len(rows), "clients": a.clients, "seconds": seconds,
        "changesPerSecond": len(rows) / seconds if seconds else 0,
        "incrementalCommits": status.get("incrementalCommits", 0), "commits": status.get("commits", 0),
        "latencyMicroseconds": lat, "roundTripByKind": kinds,
        "rx": final["rx"], "tx": final["tx"], "dropped": final["dropped"],
        "drops": {k: v for k, v in final["drops"].items() if v},
        "unaccounted": final["rx"] - final["tx"] - final["dropped"],
        "pps": (live["rx"] - s0["rx"]) / tsec if tsec else 0,
        "frontendDrops": {n: f.get("drops", {}) for n, f in fe.items()},
        "flows": final["flows"], "fe1Share": X_RULES / len(targets()),
        "tracePackets": trace_packets, "moves": moves,
        "rssKiB": [before[0], after[0], settled[0]],
        "heapBytes": [before[1], after[1], settled[1]], "sanitized": sanitized(),
    }


def check(a, fig, errors, rc, reader_rc, log_text):
    bad = list(errors[:5])
    if fig["changes"] != a.changes:
        bad.append(f"{fig['changes']} of {a.changes} changes made")
    if fig["unaccounted"] != 0:
        bad.append(f"{fig['unaccounted']} packets lost (rx - tx - dropped)")
    if fig["dropped"] != sum(fig["drops"].values()):
        bad.append(f"dropped {fig['dropped']} != the sum of the reasons {fig['drops']}")
    other = {k: v for k, v in fig["drops"].items() if k not in POLICY_DROPS}
    if other:
        bad.append(f"drops of reasons that are not policy: {other}")
    nf = fig["drops"].get("no_frontend", 0)
    if nf > fig["rx"] * fig["fe1Share"]:
        bad.append(f"no_frontend {nf} > fe1's share of the packets")
    fe0 = {k: v for k, v in fig["frontendDrops"].get("fe0", {}).items() if v}
    if fe0:
        bad.append(f"fe0 (anchored pools) dropped {fe0}")
    nb = sum(d.get("no_backend", 0) for n, d in fig["frontendDrops"].items() if n in ("fe1", "fe2"))
    if nb != fig["drops"].get("no_backend", 0):
        bad.append(f"no_backend {fig['drops'].get('no_backend', 0)} but fe1+fe2 counted {nb}")
    mv = fig["moves"]
    if a.no_capture:
        pass
    elif reader_rc != 0 or not mv:
        bad.append(f"flow_moves failed (exit {reader_rc})")
    else:
        if mv["moved"] != 0:
            bad.append(f"{mv['moved']} established flows left their anchor backend: {mv['examples']}")
        if mv["pinnedFlows"] == 0:
            bad.append("no flow was pinned to an anchor: nothing judged")
        if mv["packets"] != fig["tx"]:
            bad.append(f"flow_moves read {mv['packets']} packets, sluiced sent {fig['tx']}")
    if fig["flows"].get("tableFull", 0):
        bad.append(f"flow table full {fig['flows']['tableFull']} times: the move check needs every flow tracked")
    rss, heap = fig["rssKiB"], fig["heapBytes"]
    if (rss[2] - rss[0]) / 1024 > a.rss_bound and not fig["sanitized"]:
        bad.append(f"VmRSS grew {(rss[2] - rss[0]) / 1024:.1f} MiB > {a.rss_bound} MiB")
    if (heap[2] - heap[0]) / 2**20 > a.heap_bound:
        bad.append(f"DPDK heap grew {(heap[2] - heap[0]) / 2**20:.1f} MiB > {a.heap_bound} MiB")
    if rc != 0:
        bad.append(f"sluiced exited {rc}")
    bad += [f"sanitizer: {ln}" for ln in sanitizer_reports(log_text)[:5]]
    return bad


def report(a, fig, failures):
    mv = fig["moves"]
    print(f"{fig['changes']} changes in {fig['seconds']:.1f} s ({fig['changesPerSecond']:.0f}/s, "
          f"{a.clients} client(s), {fig['incrementalCommits']} of {fig['commits']} commits incremental), "
          f"traffic {fig['pps'] / 1e6:.2f} Mpps")
    print(f"packets: {fig['rx']} received, {fig['tx']} sent, {fig['dropped']} dropped {fig['drops']}, "
          f"{fig['unaccounted']} unaccounted")
    if mv:
        print(f"flows: {mv['flows']} seen, {mv['pinnedFlows']} pinned to an anchor, {mv['moved']} moved "
              f"off it; {mv['changes']} backend changes in all (removed or Down members' flows); "
              f"flow table {fig['flows']}")
    print(f"{'microseconds':<24}{'p50':>10}{'p99':>10}{'max':>10}")
    for k, v in fig["latencyMicroseconds"].items():
        print(f"{k:<24}{v['p50']:>10.0f}{v['p99']:>10.0f}{v['max']:>10.0f}")
    print("round trip by kind: " + ", ".join(f"{k} {v['n']} p50 {v['p50']:.0f} p99 {v['p99']:.0f}"
                                              for k, v in fig["roundTripByKind"].items()))
    rss, heap = fig["rssKiB"], fig["heapBytes"]
    print(f"VmRSS MiB before/after/settled: {rss[0] / 1024:.1f} / {rss[1] / 1024:.1f} / "
          f"{rss[2] / 1024:.1f}; DPDK heap MiB: {heap[0] / 2**20:.2f} / {heap[1] / 2**20:.2f} / "
          f"{heap[2] / 2**20:.2f}" + (" (sanitized build: resident growth not judged, "
                                      "LeakSanitizer judges leaks at exit)" if fig["sanitized"] else ""))
    print("PASS" if not failures else "FAIL:\n  " + "\n  ".join(failures))


if __name__ == "__main__":
    sys.exit(main())
