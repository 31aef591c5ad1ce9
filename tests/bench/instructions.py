#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""instructions.py: instructions a packet in sluiced's packet path, counted
by valgrind's callgrind.

Timings on a shared machine drift by ±20%; instruction counts do not, so
this is the figure to compare two builds' packet paths by. sluiced runs
under callgrind on the same replayed trace as bench.py (net_pcap,
infinite_rx=1, --no-huge), with counting switched on only inside the
worker's burst function (sl_worker_burst: parse, classify, pick, rewrite
and the TX burst, callees included; the PMD's receive is outside it), for
--seconds, then stopped. Prints instructions per packet for each mode and
the functions they went to.

  instructions.py [--modes IPinIP,DNAT] [--flows 10000] [--seconds 40]
                  [--flow-table N] [--no-flow-tracking-too] [--top 8]

Needs valgrind (apt-get install valgrind). Under callgrind sluiced runs
about 50 times slower; --seconds of 30-40 give a few million packets.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
sys.path.insert(0, HERE)
import bench  # noqa: E402
import trace  # noqa: E402


def count(pcap, mode, seconds, work, n_packets, flow_table, a, branch_sim=False, cache_sim=False,
          toggle="sl_worker_burst*"):
    """(packets, instructions in sl_worker_burst, [(instructions, function)]); with
    branch_sim, (packets, instructions, mispredicted conditional branches, functions):
    callgrind's branch simulator, a model of a predictor, not this CPU's own. With
    cache_sim too, a fifth item: {event: count} of callgrind's cache model (I1mr
    and D1mr+D1mw first-level misses, ILmr and DLmr+DLmw last-level misses)."""
    out = os.path.join(work, f"callgrind-{mode}-{flow_table}.out")
    # one lcore is plenty under valgrind; the worker is lcore 1 as in bench.py
    cmd = bench.sluiced_cmd(pcap, mode, work, n_packets, flow_table, a, ["--no-huge", "-m", "1024"])
    cmd = (["timeout", "-s", "INT", str(seconds), "valgrind", "--tool=callgrind",
            f"--callgrind-out-file={out}", "--collect-atstart=no",
            f"--toggle-collect={toggle}"] + (["--branch-sim=yes"] if branch_sim else [])
           + (["--cache-sim=yes"] if cache_sim else []) + cmd)
    p = subprocess.run(cmd, capture_output=True, text=True)
    m = re.search(r"packets in (\d+)", p.stdout)
    ir = re.search(r"I\s+refs:\s+([\d,]+)", p.stderr)
    if m is None or ir is None or int(m.group(1)) == 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit(f"instructions.py: no count for {mode}")
    ann = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", out],
                         capture_output=True, text=True).stdout
    if branch_sim or cache_sim:
        # the totals line: Ir [cache events] [Bc Bcm Bi Bim], each "N (100.0%)"
        tot = next(line for line in ann.splitlines() if "PROGRAM TOTALS" in line)
        ev = next(line for line in ann.splitlines() if line.startswith("Events shown"))
        vals = dict(zip(ev.split(":")[1].split(),
                        (int(x.replace(",", "")) for x in re.findall(r"([\d,]+) \(", tot))))
        if cache_sim:
            return int(m.group(1)), vals["Ir"], vals.get("Bcm", 0), [], vals
        return int(m.group(1)), vals["Ir"], vals["Bcm"], []
    funcs = []
    for line in ann.splitlines():
        f = re.match(r"\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?\S*?:(\S+)(?:\s+\[(\S+)\])?", line)
        if f and "PROGRAM TOTALS" not in line:
            obj = os.path.basename(f.group(3)) if f.group(3) else ""
            funcs.append((int(f.group(1).replace(",", "")), f"{f.group(2)}  {obj}".rstrip()))
    return int(m.group(1)), int(ir.group(1).replace(",", "")), funcs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--modes", default="IPinIP,DNAT")
    ap.add_argument("--flows", type=int, default=10000)
    ap.add_argument("--seconds", type=int, default=40)
    ap.add_argument("--flow-table", type=int, default=None,
                    help="flows per worker lcore (default: the flow count; 0: no flow tracking)")
    ap.add_argument("--no-flow-tracking-too", action="store_true")
    ap.add_argument("--top", type=int, default=8, help="functions to list per mode")
    a = ap.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("instructions.py: needs valgrind (apt-get install valgrind)")
    # the fields bench.sluiced_cmd reads
    a.workers, a.frontends, a.family, a.proto, a.size = 1, 1, 4, "tcp", "64"
    ft = a.flows if a.flow_table is None else a.flow_table
    work = tempfile.mkdtemp(prefix="sluice-instr-")
    pcap = os.path.join(work, "trace.pcap")
    n_packets = trace.write(pcap, a.flows, "64", a.proto, a.family, a.frontends)
    print(f"trace: {a.flows} flows, 64-byte TCP/IPv4; callgrind, {a.seconds} s a mode", flush=True)
    runs = []
    for m in [x.strip() for x in a.modes.split(",") if x.strip()]:
        runs.append((m, ft))
        if a.no_flow_tracking_too and ft:
            runs.append((m, 0))
    for m, table in runs:
        pk, ir, funcs = count(pcap, m, a.seconds, work, n_packets, table, a)
        tag = "flow tracking" if table else "stateless"
        print(f"\n{m}, {tag}: {ir / pk:.1f} instructions a packet ({pk} packets)")
        for n, f in funcs[:a.top]:
            print(f"  {n / pk:8.1f}  {f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
