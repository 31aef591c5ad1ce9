#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""hostile.py: well-formed traffic at full rate beside hostile traffic: what
the bad packets cost the good ones, that every bad packet is counted by
reason, and that established flows keep their backends while a SYN flood
larger than the flow table fills it.

Traces (one pass, replayed by net_pcap with infinite_rx=1, 60-byte frames):
  good      --good-flows established TCP flows to the frontend, each a SYN
            then ACKs (--packets-per-flow in all), round robin over the flows
            (every flow's SYN comes in the first round);
  mix S     the good trace with bad packets interleaved evenly so that they
            are S % of the pass: a SYN flood (distinct 5-tuples, more than
            the flow table holds), malformed frames (every class the parser
            counts), fragments whose other parts never come (first ones,
            middle and last ones), ICMP errors to the frontend quoting
            nothing, garbage, or a packet no frontend sent.
Rate: sluiced (--mode, DNAT by default; one worker lcore, flow tracking
with a small table) on the good trace alone and on each mix, alternating,
--runs times: the good packets forwarded a second (the median of a run's
per-second samples after the first, then the median over the runs), and
the worker's TSC ticks a packet. A mix passes when a loaded worker's good
rate, by the ticks (rate_phase), falls by no more than its bad share plus
--margin.
Accounting: at the end of every run each reason's drop counter equals what
the trace holds for that reason times the packets received (whole passes
plus the prefix of the last), the forwarded bad packets (flood SYNs, first
fragments, errors quoting a frontend's packet) are counted on their paths,
and rx == tx + dropped.
Backends (DNAT, whatever --mode says; --no-backends-check leaves it out):
the highest-share mix plus --late-flows flows that start after the flood in
each pass, with TX written to a pcap on /dev/shm; once the table is full
(--fill-passes passes) a backend is added to the pool through the REST API,
and --fill-passes passes later sluiced stops. Each flow's backend is its TX
packets' destination address: every established flow must keep one backend,
the late ones included (their SYNs find the table full; their first packet
without SYN takes the way of a flood SYN's entry).
Instructions (--instructions; needs valgrind): each trace once under
callgrind (--instructions-seconds each): instructions and mispredicted
conditional branches a packet (callgrind's branch model) in the worker's
whole loop (the PMD's receive, the burst, the flow table's sweep: what its
ticks count), and what a bad packet adds over a good one. These do not
drift with the machine's load as the ticks do; the rate phase's verdict is
applied to them too (the good rate's fall, were the ticks a packet its
instructions). With --cache-sim, the
misses of callgrind's cache model a packet too (instruction and data, first
and last level): the cost a packet's count of instructions does not show.

  hostile.py [--shares 10,30,50] [--runs 3] [--seconds 5] [--good-flows 200]
             [--packets-per-flow 250] [--flow-table 800] [--margin 0.05]
             [--no-rate] [--no-backends-check] [--instructions [--cache-sim]]
             [--csv out.csv]
"""
import argparse
import collections
import json
import os
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
sys.path.insert(0, HERE)
import bench  # noqa: E402
import slharness  # noqa: E402
import trace  # noqa: E402

MODE = "DNAT"
FRONTEND = bytes((10, 0, 0, 10))
N_BACKENDS = 16
# labels of a trace's packets
GOOD, LATE = "good", "late"
# what sluice does with each bad class: a drop reason, or "fwd:PATH" (forwarded,
# counted on that path: "stateless" is the flood, whose SYNs are forwarded)
FLOOD = "flood"


def tcp4(src, sport, flags, dst=FRONTEND, dport=80, ip_id=0, seq=1000):
    """A 60-byte IPv4/TCP frame to the frontend (valid checksums)."""
    l4 = bytearray(struct.pack("!HHIIBBHHH", sport, dport, seq, 1 if flags & 0x10 else 0, 0x50,
                               flags, 65535, 0, 0))
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(l4))
    l4[16:18] = struct.pack("!H", trace.csum(pseudo + bytes(l4)))
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), ip_id, 0x4000, 64, 6, 0,
                               src, dst))
    ip[10:12] = struct.pack("!H", trace.csum(bytes(ip)))
    f = trace.SLUICE_MAC + trace.ROUTER_MAC + b"\x08\x00" + bytes(ip) + bytes(l4)
    return f + bytes(60 - len(f))


def client(i, net=18):
    """Client i of 198.<net>.0.0/16 and its port."""
    return struct.pack("!I", (198 << 24) | (net << 16) | (i % 65000 + 1)), 1024 + (i * 7919) % 60000


def good_packets(flows, per_flow, net=18, label=GOOD):
    """[(label, frame)]: each flow's SYN, then its ACKs, round robin over the flows."""
    out = []
    for k in range(per_flow):
        for i in range(flows):
            src, sport = client(i, net)
            out.append((label, tcp4(src, sport, 0x02 if k == 0 else 0x10, seq=1000 + k)))
    return out


def flood_packets(n):
    """n SYNs of distinct 5-tuples from 100.64.0.0/10 (spoofed sources)."""
    out = []
    for i in range(n):
        src = struct.pack("!I", (100 << 24) | (64 << 16) | (i % 250000 + 1))
        out.append((FLOOD, tcp4(src, 1024 + (i * 104729) % 64000, 0x02, ip_id=i & 0xFFFF)))
    return out


def templates():
    """The malformed, fragment and ICMP error templates: [(class, expectation, label, frame)],
    expectation a drop reason or "fwd:PATH". Fragments and ICMP errors get their
    identifying fields varied per copy (fragment ids, quoted ports) by bad_packets()."""
    from scapy.all import (ICMP, IP, TCP, UDP, Dot1Q, Ether, ICMPv6PacketTooBig, IPv6,
                           IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, Raw, raw)
    mac = dict(dst=slharness.SLUICE_MAC, src=slharness.ROUTER_MAC)
    eth = Ether(**mac)
    fe, fe6, c, c6 = "10.0.0.10", "fd00::10", "198.18.200.1", "2001:db8::7"

    def eth_ip(b, etype=0x0800):
        return raw(Ether(type=etype, **mac)) + b

    def ip4(**kw):
        return raw(IP(src=c, dst=fe, **kw) / TCP(sport=4000, dport=80) / Raw(b"p" * 20))

    m = [
        ("not_ip", "LLDP", eth_ip(b"\x00" * 46, 0x88CC)),
        ("l2_truncated", "10-byte frame", tcp4(b"\xc6\x12\xc8\x01", 4001, 0x10)[:10]),
        ("l2_truncated", "802.1Q tag cut short", raw(eth)[:12] + b"\x81\x00\x00"),
        ("vlan_stacked", "802.1Q in 802.1Q",
         raw(eth / Dot1Q(vlan=100) / Dot1Q(vlan=200) / IP(src=c, dst=fe) / TCP(sport=4002, dport=80))),
        ("vlan_stacked", "802.1ad outer tag", raw(Ether(type=0x88A8, **mac) / Dot1Q(vlan=100) /
                                                  IP(src=c, dst=fe) / TCP(sport=4003, dport=80))),
        ("ipv4_truncated", "12 bytes of IPv4", eth_ip(ip4()[:12])),
        ("ipv4_bad_version", "version 5", eth_ip(bytes([0x55]) + ip4()[1:])),
        ("ipv4_bad_ihl", "IHL 4", eth_ip(bytes([0x44]) + ip4()[1:])),
        ("ipv4_bad_ihl", "IHL 15 beyond the frame", eth_ip(bytes([0x4F]) + ip4()[1:40])),
        ("ipv4_bad_length", "total length beyond the frame", eth_ip(ip4(len=1000))),
        ("ipv4_bad_length", "total length below the header", eth_ip(ip4(len=16))),
        ("ipv4_bad_length", "IP options: length beyond the frame",
         eth_ip(raw(IP(src=c, dst=fe, options=b"\x01" * 8, len=600) / TCP(sport=4004, dport=80)))),
        ("ipv6_truncated", "30 bytes of IPv6", eth_ip(raw(IPv6(src=c6, dst=fe6))[:30], 0x86DD)),
        ("ipv6_bad_version", "version 4 in IPv6",
         eth_ip(bytes([0x40]) + raw(IPv6(src=c6, dst=fe6) / TCP(dport=80))[1:], 0x86DD)),
        ("ipv6_bad_length", "payload length beyond the frame",
         eth_ip(raw(IPv6(src=c6, dst=fe6, plen=900) / TCP(sport=4005, dport=80)), 0x86DD)),
        ("ipv6_bad_ext_header", "fragment header then another extension header",
         raw(eth / IPv6(src=c6, dst=fe6) / IPv6ExtHdrFragment(id=7, m=1) / IPv6ExtHdrDestOpt() /
             TCP(sport=4006, dport=80))),
        ("ipv6_bad_ext_header", "a chain of 12 destination options headers",
         raw(eth / IPv6(src=c6, dst=fe6) / (IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                                           IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                                           IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                                           IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                                           IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                                           IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt()) /
             TCP(sport=4007, dport=80))),
        ("ipv6_mapped_address", "to ::ffff:10.0.0.10",
         raw(eth / IPv6(src=c6, dst="::ffff:" + fe) / TCP(sport=4008, dport=80))),
        ("l4_unsupported", "GRE", raw(eth / IP(src=c, dst=fe, proto=47) / Raw(b"\x00" * 8))),
        ("l4_unsupported", "ICMP timestamp request", raw(eth / IP(src=c, dst=fe) / ICMP(type=13))),
        ("l4_truncated", "10 bytes of TCP",
         eth_ip(raw(IP(src=c, dst=fe, len=30) / TCP(sport=4009, dport=80))[:30])),
        ("l4_truncated", "4 bytes of UDP",
         eth_ip(raw(IP(src=c, dst=fe, len=24) / UDP(sport=4010, dport=80))[:24])),
        ("tcp_bad_offset", "data offset 4", raw(eth / IP(src=c, dst=fe) / TCP(sport=4011, dport=80,
                                                                              dataofs=4))),
        ("tcp_bad_offset", "data offset 15", raw(eth / IP(src=c, dst=fe) / TCP(sport=4012, dport=80,
                                                                               dataofs=15))),
        ("udp_bad_length", "UDP length beyond the payload",
         raw(eth / IP(src=c, dst=fe) / UDP(sport=4013, dport=80, len=100) / Raw(b"u" * 4))),
        ("udp_bad_length", "UDP length 4",
         raw(eth / IP(src=c, dst=fe) / UDP(sport=4014, dport=80, len=4) / Raw(b"u" * 4))),
        ("no_frontend", "another address", raw(eth / IP(src=c, dst="10.0.0.99") /
                                               TCP(sport=4015, dport=80))),
        ("no_frontend", "another port", raw(eth / IP(src=c, dst=fe) / TCP(sport=4016, dport=81))),
        ("no_frontend", "UDP to the TCP frontend", raw(eth / IP(src=c, dst=fe) /
                                                       UDP(sport=4017, dport=80))),
        ("no_frontend", "IPv6, no IPv6 frontend", raw(eth / IPv6(src=c6, dst=fe6) /
                                                      TCP(sport=4018, dport=80))),
    ]
    out = [("malformed", r, label, f) for r, label, f in m]
    frag = [
        # the first fragment carries the ports: forwarded by the 3-tuple, left in the fragment table
        ("fwd:fragment", "first fragment",
         raw(eth / IP(src="198.18.201.1", dst=fe, flags="MF", frag=0, proto=6) /
             Raw(raw(TCP(sport=4100, dport=80))[:20] + b"f" * 4))),
        ("fragment_no_rule", "middle fragment",
         raw(eth / IP(src="198.18.202.1", dst=fe, flags="MF", frag=3, proto=6) / Raw(b"m" * 24))),
        ("fragment_no_rule", "last fragment",
         raw(eth / IP(src="198.18.202.1", dst=fe, frag=6, proto=6) / Raw(b"l" * 16))),
        ("ipv6_fragment", "IPv6 first fragment, no IPv6 frontend",
         raw(eth / IPv6(src=c6, dst=fe6) / IPv6ExtHdrFragment(id=9, m=1, nh=6) /
             Raw(raw(TCP(sport=4101, dport=80))[:20] + b"f" * 4))),
    ]
    out += [("fragment", r, label, f) for r, label, f in frag]
    quoted_client = IP(src="198.18.203.1", dst="192.0.2.1") / UDP(sport=5000, dport=53)
    from_fe = IP(src=fe, dst="198.18.204.1") / TCP(sport=80, dport=5001)
    icmp = [
        ("icmp_no_flow", "frag needed quoting nothing",
         raw(eth / IP(src="192.0.2.254", dst=fe) / ICMP(type=3, code=4, nexthopmtu=1400))),
        ("icmp_no_flow", "unreachable quoting 28 bytes of garbage",
         raw(eth / IP(src="192.0.2.254", dst=fe) / ICMP(type=3, code=1) / Raw(b"\xa5" * 28))),
        ("icmp_no_flow", "time exceeded quoting a packet of no frontend",
         raw(eth / IP(src="192.0.2.254", dst=fe) / ICMP(type=11) / Raw(raw(quoted_client)[:28]))),
        ("icmp_no_flow", "frag needed with a bad checksum",
         raw(eth / IP(src="192.0.2.254", dst=fe) / ICMP(type=3, code=4, chksum=0x1234) /
             Raw(raw(from_fe)[:28]))),
        ("l4_unsupported", "IPv6 packet too big to an address that is no frontend",
         raw(eth / IPv6(src="2001:db8::fe", dst=fe6) / ICMPv6PacketTooBig(mtu=1280) /
             Raw(b"\x00" * 48))),
        # quotes a packet the frontend would have sent to a client: sent on to that
        # client's backend (path MTU discovery); sluice cannot tell it was forged
        ("fwd:icmp_error_forwarded", "frag needed quoting a frontend's packet",
         raw(eth / IP(src="192.0.2.254", dst=fe) / ICMP(type=3, code=4, nexthopmtu=1400) /
             Raw(raw(from_fe)[:28]))),
    ]
    out += [("icmp", r, label, f) for r, label, f in icmp]
    # runts stay runts (net_pcap delivers them as they are): they are part of the test
    return out


# each bad class's part of the bad packets
WEIGHTS = (("flood", 0.4), ("malformed", 0.3), ("fragment", 0.15), ("icmp", 0.15))


def bad_packets(n_bad, tmpl, classes=None):
    """[(label, frame)] of n_bad bad packets by WEIGHTS (of the classes named, all by
    default); label is the expectation ("flood", a drop reason, "fwd:PATH").
    Returns (packets, the flood's size)."""
    by_class = collections.defaultdict(list)
    for cls, r, label, f in tmpl:
        by_class[cls].append((r, label, f))
    weights = [(c, w) for c, w in WEIGHTS if classes is None or c in classes]
    total_w = sum(w for _, w in weights)
    n_flood = int(round(n_bad * dict(weights).get("flood", 0) / total_w))
    rest = n_bad - n_flood
    groups = [flood_packets(n_flood)] if n_flood else []
    for cls, w in weights:
        if cls == "flood":
            continue
        k = int(round(n_bad * w / total_w)) if cls != weights[-1][0] else rest
        rest -= k
        t = by_class[cls]
        g = []
        for i in range(k):
            r, _, f = t[i % len(t)]
            if cls == "fragment" and f[12:14] == b"\x08\x00":
                # a datagram id of its own: no later fragment finds an earlier one's entry
                f = bytearray(f)
                f[18:20] = struct.pack("!H", (i + 1) & 0xFFFF)
                f[24:26] = b"\0\0"
                f[24:26] = struct.pack("!H", trace.csum(bytes(f[14:34])))
                f = bytes(f)
            g.append((r, f))
        groups.append(g)
    # spread each class over the bad packets
    merged = []
    idx = [0] * len(groups)
    total = sum(len(g) for g in groups)
    for j in range(total):
        # the class most behind its share goes next
        k = min((i for i in range(len(groups)) if idx[i] < len(groups[i])),
                key=lambda i: (idx[i] + 1) / len(groups[i]))
        merged.append(groups[k][idx[k]])
        idx[k] += 1
    return merged, n_flood


def interleave(good, bad):
    """good and bad evenly interleaved (bad packet j after good packet ~j*len(good)/len(bad))."""
    out, j, n = [], 0, len(good) + len(bad)
    for i in range(n):
        if j < len(bad) and (i + 1) * len(bad) // n > j:
            out.append(bad[j])
            j += 1
        else:
            out.append(good[i - j])
    return out


def write_pcap(path, packets):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for _, fr in packets:
            f.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)))
            f.write(fr)


class Trace:
    """A pass: its packets' labels, written to path."""

    def __init__(self, path, packets, n_flood=0):
        self.path = path
        self.labels = [lab for lab, _ in packets]
        self.n = len(packets)
        self.n_flood = n_flood
        self.per_pass = collections.Counter(self.labels)
        write_pcap(path, packets)

    def expected(self, rx):
        """Each label's packets among the first rx packets of the replay."""
        full, rem = divmod(rx, self.n)
        c = collections.Counter({k: v * full for k, v in self.per_pass.items()})
        c.update(self.labels[:rem])
        return c

    def good_share(self):
        return sum(v for k, v in self.per_pass.items() if k in (GOOD, LATE)) / self.n


def flow_table_ways(flows):
    """The ways of sluiced's table for --flow-table-size flows (sl_flow_buckets_for, 80 % fill)."""
    want = (flows * 100 + 79) // 80
    want = (want + 7) // 8
    n = 1
    while n < want:
        n <<= 1
    return n * 8


def check_accounting(stats, tr):
    """[problem] for a run's final statistics against trace tr: each drop reason's
    count, the forwarded bad packets' paths, rx == tx + dropped."""
    problems = []
    exp = tr.expected(stats["rx"])
    want_drops = collections.Counter({k: v for k, v in exp.items()
                                      if k not in (GOOD, LATE, FLOOD) and not k.startswith("fwd:")})
    got = {k: v for k, v in stats["drops"].items() if v}
    for r in set(want_drops) | set(got):
        if got.get(r, 0) != want_drops.get(r, 0):
            problems.append(f"drops.{r}: counted {got.get(r, 0)}, the trace holds {want_drops.get(r, 0)}")
    for k, v in exp.items():
        if k.startswith("fwd:"):
            path = k[4:]
            if stats["paths"].get(path, 0) != v:
                problems.append(f"paths.{path}: counted {stats['paths'].get(path, 0)}, the trace holds {v}")
    lost = stats["rx"] - stats["tx"] - stats["dropped"]
    if lost != 0:
        problems.append(f"rx {stats['rx']} != tx {stats['tx']} + dropped {stats['dropped']} "
                        f"({lost} unaccounted)")
    return problems


def sluiced_run(tr, a, work, extra_devargs="", api=False):
    """Start sluiced on trace tr; returns (Popen, stats file, log file, api socket)."""
    class Opt:
        frontends, family, proto, workers, size = 1, 4, "tcp", 1, "64"
    cmd = bench.sluiced_cmd(tr.path, a.mode, work, tr.n, a.flow_table, Opt, bench.eal_mem())
    if extra_devargs:
        prof = os.path.join(work, "ports.json")
        with open(prof) as f:
            p = json.load(f)
        p["ports"][0]["devargs"] += extra_devargs
        with open(prof, "w") as f:
            json.dump(p, f)
    st = os.path.join(work, "stats.json")
    if os.path.exists(st):
        os.unlink(st)
    cmd = [x for x in cmd if x != "--no-api"] + ["--stats-file", st]
    sock = os.path.join(work, "api.sock")
    if api:
        cmd += ["--api-socket", sock, "--state-dir", work]
    else:
        cmd.append("--no-api")
    log = open(os.path.join(work, "sluiced.log"), "w")
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, text=True), st, log, sock


def timed(p, log, seconds, limit=120):
    """Let sluiced p forward for `seconds` after its first statistics line (its
    start-up, which loads the trace, takes longer on a loaded machine), then
    stop it (SIGINT). Returns its output."""
    deadline = time.time() + limit
    start = None
    while p.poll() is None and time.time() < deadline:
        if start is None:
            with open(log.name) as f:
                if "stats: " in f.read():
                    start = time.time()
        elif time.time() - start >= seconds:
            break
        time.sleep(0.1)
    if p.poll() is None:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    log.close()
    with open(log.name) as f:
        return f.read()


def rate_run(tr, a, work):
    """One timed run: (good packets forwarded a second, the worker's TSC ticks a
    packet in each second after the first that had packets, final stats, problems)."""
    for attempt in range(3):
        p, st, log, _ = sluiced_run(tr, a, work)
        out = timed(p, log, a.seconds + 1)
        samples = [(float(x) * 1e6, float(t))
                   for x, t in re.findall(r"rx_mpps=([\d.]+) tx_mpps=[\d.]+ tsc_per_pkt=([\d.]+)", out)]
        if samples and os.path.exists(st):
            break
        sys.stderr.write(f"no samples (attempt {attempt + 1} of 3, rc {p.returncode}):\n{out[-2000:]}\n")
    else:
        raise SystemExit("sluiced gave no samples")
    with open(st) as f:
        stats = json.load(f)
    problems = check_accounting(stats, tr)
    rx_rate, _ = bench.steady_sluiced(samples)
    ticks = [t for _, t in bench.after_startup(samples) if t > 0]
    return rx_rate * 1e6 * tr.good_share(), ticks, stats, problems


def build_traces(a, work, tmpl):
    good = good_packets(a.good_flows, a.packets_per_flow)
    ways = flow_table_ways(a.flow_table)
    traces = {0: Trace(os.path.join(work, "good.pcap"), good)}
    for s in a.shares:
        n_bad = int(round(len(good) * s / (100.0 - s)))
        bad, n_flood = bad_packets(n_bad, tmpl, a.classes)
        traces[s] = Trace(os.path.join(work, f"mix{s}.pcap"), interleave(good, bad), n_flood)
        print(f"mix {s} %: {len(good)} good and {n_bad} bad packets a pass "
              f"({ {k: v for k, v in sorted(collections.Counter(l for l, _ in bad).items())} }); "
              f"the flood's {n_flood} SYNs against a table of {ways} ways"
              + ("" if n_flood > ways or "flood" not in a.classes else "  ** NOT LARGER THAN THE TABLE **"),
              flush=True)
    return traces, ways


def rate_phase(a, traces, rows):
    """Alternate good and each mix for a.runs rounds; returns [problem].

    Two figures per trace: the good packets forwarded a second (wall clock;
    the median of each run's seconds after the first, then over the runs),
    and the worker's TSC ticks a packet over its busy loop iterations (per
    second). The verdict is on the second: a fully loaded worker forwards
    good share / ticks a packet, so the good rate falls by 1 - g *
    ticks(good) / ticks(mix). Other processes on the worker's core only add
    ticks (an iteration preempted half way counts the wait), so the fewest
    ticks of any second of any run is the nearest to the packets' own
    cost: the verdict uses it. On a quiet machine the wall-clock rate falls
    alike; on a shared one it measures the neighbours too."""
    problems = []
    rate = collections.defaultdict(list)
    ticks = collections.defaultdict(list)
    for run in range(a.runs):
        for s, tr in traces.items():
            work = tempfile.mkdtemp(prefix="sluice-hostile-run-", dir=a.work)
            good_rate, tpp, stats, probs = rate_run(tr, a, work)
            rate[s].append(good_rate)
            ticks[s] += tpp
            rows.append((s, run, good_rate, min(tpp) if tpp else 0.0, stats))
            problems += [f"mix {s} % run {run + 1}: {p}" for p in probs]
            shutil.rmtree(work, ignore_errors=True)
        print(f"run {run + 1}/{a.runs} done", flush=True)
    alone = statistics.median(rate[0])
    if not all(ticks[s] for s in traces):
        return problems + ["a trace had no second with packets: the machine gave sluiced no time"]
    t_alone = min(ticks[0])
    print(f"\n{'trace':<6}{'bad':>5}{'good Mpps':>11}{'spread':>14}{'fall':>8}"
          f"{'TSC/pkt min':>12}{'median':>8}{'fall':>8}{'allowed':>9}")

    def line(name, s, v, t, fall_w, fall_t, tail=""):
        return (f"{name:<6}{s:>4}%{v / 1e6:>11.3f}{min(rate[s]) / 1e6:>7.3f}-{max(rate[s]) / 1e6:<6.3f}"
                f"{fall_w:>8}{t:>12.1f}{statistics.median(ticks[s]):>8.0f}{fall_t:>8}{tail}")
    print(line("good", 0, alone, t_alone, "", ""))
    for s in a.shares:
        v, t = statistics.median(rate[s]), min(ticks[s])
        g = traces[s].good_share()
        fall_w = (alone - v) / alone if alone else 1.0
        fall_t = 1.0 - g * t_alone / t if t else 1.0
        allowed = s / 100.0 + a.margin
        verdict = "ok" if fall_t <= allowed else "FAIL"
        print(line("mix", s, v, t, f"{fall_w * 100:.1f}%", f"{fall_t * 100:.1f}%",
                   f"{allowed * 100:>8.0f}% {verdict}"))
        if fall_t > allowed:
            problems.append(f"mix {s} %: a loaded worker's good rate falls by {fall_t * 100:.1f} % "
                            f"(ticks a packet {t_alone:.0f} alone, {t:.0f} in the mix), more than "
                            f"{allowed * 100:.0f} %")
    return problems


def counts_summary(stats, tr):
    """One run's counters, as the report prints them."""
    d = {k: v for k, v in stats["drops"].items() if v}
    paths = {k: v for k, v in stats["paths"].items() if v}
    return (f"rx {stats['rx']} ({stats['rx'] / tr.n:.1f} passes), tx {stats['tx']}, dropped "
            f"{stats['dropped']}, unaccounted {stats['rx'] - stats['tx'] - stats['dropped']}\n"
            f"  drops {d}\n  paths {paths}\n  flows {stats['flows']}")


def tx_backends(path, limit):
    """{(client address, port): {backend address: packets}} of the TCP packets of a TX pcap."""
    seen = collections.defaultdict(collections.Counter)
    with open(path, "rb") as f:
        data = f.read(limit)
    off, n = 24, 0
    while off + 16 <= len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        fr = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(fr) < 38 or fr[12:14] != b"\x08\x00" or fr[23] != 6:
            continue
        ihl = (fr[14] & 15) * 4
        seen[(fr[26:30], fr[14 + ihl:16 + ihl])][fr[30:34]] += 1
        n += 1
    return seen, n


def api(sock, method, path, body=None):
    st, _, data = slharness.api_request(sock, method, path, body)
    return st, (json.loads(data) if data else None)


def backends_phase(a, tmpl):
    """The highest-share mix plus late flows, TX captured; a backend added once the
    table is full. Returns ([problem], {moved, early, late_moved, late_seen, stats})."""
    s = max(a.shares)
    good = good_packets(a.good_flows, a.packets_per_flow)
    late = good_packets(a.late_flows, 10, net=19, label=LATE)
    n_bad = int(round(len(good) * s / (100.0 - s)))
    bad, n_flood = bad_packets(n_bad, tmpl, a.classes)
    work = tempfile.mkdtemp(prefix="sluice-hostile-backends-", dir="/dev/shm")
    try:
        tr = Trace(os.path.join(work, "mix.pcap"), interleave(good, bad) + late, n_flood)
        txp = os.path.join(work, "tx.pcap")
        # DNAT whatever --mode says: the backend is then the TX packets' destination address
        dnat = argparse.Namespace(**dict(vars(a), mode="DNAT"))
        p, st, log, sock = sluiced_run(tr, dnat, work, f",tx_pcap={txp}", api=True)
        try:
            deadline = time.time() + 30
            while not os.path.exists(sock):
                if p.poll() is not None or time.time() > deadline:
                    raise SystemExit("sluiced did not start: " + open(log.name).read()[-2000:])
                time.sleep(0.05)

            def rx():
                return api(sock, "GET", "/sluice/stats")[1]["rx"]

            def wait_rx(target):
                while rx() < target:
                    if os.path.getsize(txp) > a.capture_limit:
                        raise SystemExit(f"TX capture past {a.capture_limit} bytes")
                    time.sleep(0.01)
            wait_rx(a.fill_passes * tr.n)
            before = api(sock, "GET", "/sluice/stats")[1]
            pool = bench.bench_config(MODE)["loadBalancers"][0]["properties"]["backendAddressPools"][0]
            addrs = pool["properties"]["loadBalancerBackendAddresses"]
            new = json.loads(json.dumps(addrs[0]))
            new["name"] = f"be{N_BACKENDS}"
            new["properties"]["ipAddress"] = f"10.1.0.{N_BACKENDS + 1}"
            body = {"properties": {"loadBalancerBackendAddresses": addrs + [new]}}
            put_at = before["rx"]
            code, out = api(sock, "PUT", f"{bench.LB}/backendAddressPools/pool?api-version=2020-05-01",
                            body)
            if code not in (200, 201):
                raise SystemExit(f"PUT pool: {code} {out}")
            put_done = rx()
            wait_rx(put_done + a.fill_passes * tr.n)
        finally:
            p.send_signal(signal.SIGINT)
            p.wait(30)
            log.close()
        with open(st) as f:
            stats = json.load(f)
        problems = [f"backends run: {x}" for x in check_accounting(stats, tr)]
        seen, n_tcp = tx_backends(txp, a.capture_limit)
        early = [client(i) for i in range(a.good_flows)]
        lates = [client(i, 19) for i in range(a.late_flows)]
        key = lambda c: (c[0], struct.pack("!H", c[1]))  # noqa: E731
        moved = [c for c in early if len(seen[key(c)]) != 1]
        late_moved = [c for c in lates if len(seen[key(c)]) > 1]
        late_seen = [c for c in lates if seen[key(c)]]
        print(f"\nbackends: mix {s} % + {a.late_flows} late flows, {n_flood} flood SYNs against "
              f"{flow_table_ways(a.flow_table)} ways; a 17th backend added after {put_at} packets "
              f"({put_at / tr.n:.1f} passes), stopped after {stats['rx']} "
              f"({stats['rx'] / tr.n:.1f} passes); {n_tcp} TCP packets captured")
        print(f"  table at the change: live {before['flows']['live']}, tableFull "
              f"{before['flows']['tableFull']}")
        print(f"  established flows (SYN before the flood filled the table): "
              f"{len(moved)} of {len(early)} changed backend")
        print(f"  late flows (first packet after the flood): {len(late_moved)} of {len(late_seen)} "
              f"changed backend (their SYNs find no room; their first packet without SYN "
              f"takes a flood SYN's way)")
        print("  " + counts_summary(stats, tr).replace("\n", "\n  "))
        if moved:
            problems.append(f"{len(moved)} established flows changed backend")
        if late_moved:
            problems.append(f"{len(late_moved)} flows that started during the flood changed backend")
        if any(not seen[key(c)] for c in early):
            problems.append("established flows missing from the capture")
        return problems, {"moved": len(moved), "early": len(early), "late_moved": len(late_moved),
                          "late_seen": len(late_seen), "stats": stats}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shares", default="10,30,50", help="bad packets' shares of the mixes, percent")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--good-flows", type=int, default=200)
    ap.add_argument("--packets-per-flow", type=int, default=250)
    ap.add_argument("--late-flows", type=int, default=200)
    ap.add_argument("--flow-table", type=int, default=800, help="sluiced's --flow-table-size")
    ap.add_argument("--margin", type=float, default=0.05,
                    help="noise allowed beyond the bad share (fraction)")
    ap.add_argument("--fill-passes", type=int, default=3)
    ap.add_argument("--capture-limit", type=int, default=1 << 30, help="bytes of TX capture at most")
    ap.add_argument("--mode", default=MODE, help="the rule's delivery (bench.py's modes)")
    ap.add_argument("--classes", default=",".join(c for c, _ in WEIGHTS),
                    help="the bad classes in the mixes")
    ap.add_argument("--no-rate", action="store_true")
    ap.add_argument("--no-backends-check", action="store_true")
    ap.add_argument("--instructions", action="store_true",
                    help="also count instructions and mispredicted branches a packet (callgrind)")
    ap.add_argument("--instructions-seconds", type=int, default=20)
    ap.add_argument("--cache-sim", action="store_true",
                    help="with --instructions: callgrind's cache model's misses a packet too")
    ap.add_argument("--csv")
    a = ap.parse_args(argv)
    a.classes = [c.strip() for c in a.classes.split(",") if c.strip()]
    a.shares = [int(x) for x in a.shares.split(",") if x.strip()]
    return a


def instructions_phase(a, traces):
    """Instructions and mispredicted conditional branches a packet in the worker's
    whole loop, under callgrind (tests/bench/instructions.py; stable where the
    ticks drift): the good trace alone, then each mix; a bad packet's figures
    are what the mix adds over its good share, per bad packet. With --cache-sim,
    callgrind's cache model's misses a packet too: first-level instruction (I1)
    and data (D1) misses and last-level (LL) misses. Returns [problem]: a mix
    whose good rate, were the ticks a packet its instructions, would fall by
    more than the rate phase allows."""
    import instructions  # noqa: E402 (valgrind only for this phase)
    if shutil.which("valgrind") is None:
        return ["--instructions needs valgrind (apt-get install valgrind)"]

    class Opt:
        frontends, family, proto, workers, size = 1, 4, "tcp", 1, "64"
    rows, problems = {}, []
    for s, tr in traces.items():
        work = tempfile.mkdtemp(prefix="sluice-hostile-cg-", dir=a.work)
        r = instructions.count(tr.path, a.mode, a.instructions_seconds, work, tr.n,
                               a.flow_table, Opt, branch_sim=True, cache_sim=a.cache_sim,
                               toggle="sl_worker_main")
        pk, ir, bcm = r[0], r[1], r[2]
        row = [ir / pk, bcm / pk]
        if a.cache_sim:
            ev = r[4]
            row += [ev["I1mr"] / pk, (ev["D1mr"] + ev["D1mw"]) / pk,
                    (ev["ILmr"] + ev["DLmr"] + ev["DLmw"]) / pk]
        rows[s] = row
        shutil.rmtree(work, ignore_errors=True)
    names = ["instr", "mispred"] + (["I1 miss", "D1 miss", "LL miss"] if a.cache_sim else [])
    print(f"\n{a.mode}, callgrind, {a.instructions_seconds} s a trace ({', '.join(a.classes)});"
          " a packet, then what a bad packet adds (x good: its instructions over a good one's)")
    print(f"{'trace':<10}" + "".join(f"{n:>10}" for n in names) + "  |" +
          "".join(f"{n:>10}" for n in names) + f"{'x good':>8}{'fall':>8}{'allowed':>9}")
    g = rows[0]
    print(f"{'good':<10}" + "".join(f"{v:>10.2f}" for v in g))
    for s in a.shares:
        row = rows[s]
        gs = traces[s].good_share()
        bad = [(v - gs * gv) / (1 - gs) for v, gv in zip(row, g)]
        # the rate phase's verdict with instructions for ticks
        fall = 1 - gs * g[0] / row[0]
        allowed = (1 - gs) + a.margin
        print(f"{f'mix {s} %':<10}" + "".join(f"{v:>10.2f}" for v in row) + "  |" +
              "".join(f"{v:>10.2f}" for v in bad) + f"{bad[0] / g[0]:>8.2f}"
              f"{fall:>8.1%}{allowed:>9.0%}")
        if fall > allowed:
            problems.append(f"mix {s} %: by instructions a packet ({g[0]:.0f} alone, {row[0]:.0f} "
                            f"in the mix) the good rate falls by {fall:.1%}, more than {allowed:.0%}")
    return problems


def main(argv=None):
    a = parse_args(argv)
    a.work = tempfile.mkdtemp(prefix="sluice-hostile-")
    tmpl = templates()
    problems = []
    try:
        traces, ways = build_traces(a, a.work, tmpl)
        if "flood" in a.classes:
            problems += [f"mix {s} %: its flood ({tr.n_flood}) is not larger than the table ({ways})"
                         for s, tr in traces.items() if s and tr.n_flood <= ways]
        rows = []
        if a.instructions:
            problems += instructions_phase(a, traces)
        if not a.no_rate:
            problems += rate_phase(a, traces, rows)
            last = {r[0]: r[4] for r in rows}
            for s, stats in last.items():
                print(f"\ncounters of the last {'good' if s == 0 else f'mix {s} %'} run: "
                      + counts_summary(stats, traces[s]))
        if not a.no_backends_check:
            problems += backends_phase(a, tmpl)[0]
        if a.csv:
            with open(a.csv, "w") as f:
                f.write("share,run,good_pps,tsc_per_pkt,rx,tx,dropped\n")
                for s, run, v, t, st in rows:
                    f.write(f"{s},{run},{v:.0f},{t:.1f},{st['rx']},{st['tx']},{st['dropped']}\n")
    finally:
        shutil.rmtree(a.work, ignore_errors=True)
    for p in problems:
        print("PROBLEM: " + p)
    print("hostile: " + ("ok" if not problems else f"{len(problems)} problem(s)"))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
