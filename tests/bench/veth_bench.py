#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""veth_bench.py: sluiced on a kernel interface, net_af_packet beside
net_af_xdp (sluice's XDP program attached), on the same veth pair, with the
same traffic, in the same run.

A veth pair is made in a network namespace of this run's own:

    dpdk-testpmd (CPU 0)                              sluiced (CPU 1)
    net_pcap rx (the trace, replayed) --io--> net_af_packet on vb-gen
                                           vb-gen <==veth==> vb-lb
                                    net_af_packet or net_af_xdp on vb-lb

The generator replays a fixed 64-byte trace (tests/bench/trace.py: TCP ACKs
from distinct clients to the frontend 10.0.0.10:80) from memory and sends it
into vb-gen; testpmd's io mode forwards what comes back from sluice on
vb-gen to net_pcap, which drops it. sluiced runs one worker lcore (its main
lcore shares the worker's CPU; the main loop sleeps between its
millisecond ticks), first on net_af_packet, then on net_af_xdp with
start_queue=0,queue_count=1: its XDP program redirects every frame of the
trace (all to a frontend) to the AF_XDP socket. The kernel keeps its own
address, 10.0.0.3/24, on vb-lb; sluice's port address is 10.0.0.2.

For each run and port kind (the CSV has every run):

  offered      the generator's rate into vb-gen (testpmd's Tx-pps on it)
  sluice rx/tx sluice's received and forwarded Mpps (rx_mpps and tx_mpps of
               its stats line): one worker, so Mpps per worker
  back         what reached the generator from sluice (testpmd's Rx-pps)
  TSC/pkt      sluice's worker's TSC ticks a packet over its busy loop
               iterations (tsc_per_pkt of its stats line: receive, process
               and transmit, the PMDs' system calls included)
  veth drops   frames vb-gen could not hand to vb-lb (CSV only)
  xsk lost     AF_XDP: the share of the frames sluice's XDP program
               redirected that sluice never read (its socket's ring full),
               from the final report's XDP counters and packet count
  CPU          each CPU's user and kernel (system + softirq) time over the
               window, from /proc/stat
  others       the user time of processes other than testpmd and sluiced,
               as a share of both CPUs over the window: the machine's other
               work, which the figures of that run suffered

Each rate is the median of the per-second samples of the window (from the
generator's second sample to its last: the first covers its start-up);
then the median and spread over the runs.

  veth_bench.py [--runs 3] [--seconds 5] [--mode DNAT|IPinIP] [--flows 1000]
                [--ports af_packet,af_xdp] [--csv out.csv]

Needs root (network namespaces; AF_XDP). Exit status 1 when a run gave no
samples, sluiced failed or received nothing, or its XDP program redirected
nothing; 2 when not root or bad usage.
"""
import argparse
import json
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
sys.path.insert(0, HERE)
import bench  # noqa: E402
import slharness  # noqa: E402
import trace  # noqa: E402

NS_PREFIX = "slvb-"
GEN_IF, LB_IF = "vb-gen", "vb-lb"
GEN_CPU, LB_CPU = 0, 1
KERNEL_V4 = "10.0.0.3"
# vb-gen's own MAC is not the router's, to which sluice sends: what sluice
# sends is another host's to vb-gen's kernel (dropped at once), and reaches
# testpmd's socket (promiscuous)
GEN_MAC = "02:00:5e:00:00:fd"


def sh(args, ns=None, check=True):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    if check and p.returncode != 0:
        raise RuntimeError(f"failed: {' '.join(cmd)}\n{p.stdout}{p.stderr}")
    return p.stdout


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale():
    """Namespaces of earlier runs whose process is gone."""
    for line in sh(["ip", "netns", "list"], check=False).splitlines():
        name = line.split()[0] if line.strip() else ""
        m = re.match(rf"^{NS_PREFIX}(\d+)$", name)
        if m and not pid_alive(int(m.group(1))):
            sh(["ip", "netns", "del", name], check=False)


class VethBed:
    """The namespace and the veth pair (vb-gen: the router's MAC; vb-lb:
    sluice's MAC and the kernel's address)."""

    def __init__(self):
        self.ns = f"{NS_PREFIX}{os.getpid()}"

    def up(self):
        remove_stale()
        sh(["ip", "netns", "add", self.ns])
        try:
            ns = self.ns
            sh(["ip", "link", "set", "lo", "up"], ns=ns)
            # no IPv6: no router solicitations or MLD reports on the veth
            sh(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1"], ns=ns)
            sh(["ip", "link", "add", GEN_IF, "type", "veth", "peer", "name", LB_IF], ns=ns)
            sh(["ip", "link", "set", GEN_IF, "address", GEN_MAC, "up"], ns=ns)
            sh(["ip", "link", "set", LB_IF, "address", slharness.SLUICE_MAC, "up"], ns=ns)
            sh(["ip", "addr", "add", KERNEL_V4 + "/24", "dev", LB_IF], ns=ns)
        except Exception:
            self.down()
            raise

    def down(self):
        pids = sh(["ip", "netns", "pids", self.ns], check=False).split()
        for p in pids:
            try:
                os.kill(int(p), signal.SIGKILL)
            except ProcessLookupError:
                pass
        sh(["ip", "netns", "del", self.ns], check=False)

    def tx_dropped(self, ifname):
        """The veth's transmit drops (a frame the peer's receive ring had no room for)."""
        st = json.loads(sh(["ip", "-s", "-j", "link", "show", ifname], ns=self.ns))
        return st[0]["stats64"]["tx"]["dropped"]


def port_profile(kind):
    """sluice's port on vb-lb: net_af_packet (sluice's MAC, promiscuous) or
    net_af_xdp (the interface's MAC, which is sluice's here)."""
    port = {"name": "veth0", "rxQueues": 1, "rxDescriptors": 2048, "txDescriptors": 2048,
            "neighbourDiscovery": False,
            "ipv4Address": "10.0.0.2/24", "ipv6Address": "fd00::2/64",
            "gateway": {"ipv4": "10.0.0.1", "ipv6": "fd00::1"},
            "neighbours": [{"ipAddress": "10.0.0.1", "macAddress": slharness.ROUTER_MAC},
                           {"ipAddress": "fd00::1", "macAddress": slharness.ROUTER_MAC}]}
    if kind == "af_packet":
        port.update(device="net_af_packet0", macAddress=slharness.SLUICE_MAC, promiscuous=True,
                    devargs=f"iface={LB_IF},qpairs=1,blocksz=4096,framesz=2048,framecnt=2048")
    else:
        port.update(device="net_af_xdp0", devargs=f"iface={LB_IF},start_queue=0,queue_count=1")
    return {"ports": [port]}


def eal_mem():
    return shlex.split(os.environ.get("SL_EAL_MEM", "--no-huge -m 1024"))


class Sluiced:
    """sluiced in the namespace, pinned to LB_CPU; its stats lines are read as they come."""

    def __init__(self, bed, kind, mode, work):
        prof = os.path.join(work, f"ports-{kind}.json")
        cfg = os.path.join(work, f"config-{mode}.json")
        with open(prof, "w") as f:
            json.dump(port_profile(kind), f)
        with open(cfg, "w") as f:
            json.dump(bench.bench_config(mode), f)
        cmd = (["ip", "netns", "exec", bed.ns, "taskset", "-c", str(LB_CPU),
                slharness.sluiced_path(), f"--lcores=0@{LB_CPU},1@{LB_CPU}", "--no-pci",
                "--no-telemetry", "--log-level=lib.eal:error",
                f"--file-prefix=slvb{os.getpid()}s"] + eal_mem() +
               ["--", "--ports", prof, "--config", cfg, "--stats-interval", "1", "--no-api"])
        self.samples = []  # (time, rx pps, tx pps)
        self.lines = []
        self.ready = threading.Event()
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.append(line)
            m = re.search(r"rx_mpps=([\d.]+) tx_mpps=([\d.]+) tsc_per_pkt=([\d.]+)", line)
            if m:
                self.samples.append((time.monotonic(), float(m.group(1)) * 1e6,
                                     float(m.group(2)) * 1e6, float(m.group(3))))
                self.ready.set()
        self.ready.set()

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
        try:
            self.p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.reader.join(timeout=5)
        return self.p.returncode

    def text(self):
        return "".join(self.lines)


class Generator:
    """testpmd in the namespace, pinned to GEN_CPU; its per-second Tx-pps
    (offered) and Rx-pps (what sluice sent back) on vb-gen (port 1) are read
    as they come, with the time each arrived."""

    def __init__(self, bed, pcap, n_packets, sluiced_pid):
        cmd = (["ip", "netns", "exec", bed.ns, "taskset", "-c", str(GEN_CPU), "stdbuf", "-oL",
                "dpdk-testpmd", f"--lcores=0@{GEN_CPU},1@{GEN_CPU}", "--no-pci",
                "--no-telemetry", "--log-level=lib.eal:error",
                f"--file-prefix=slvb{os.getpid()}g"] + eal_mem() +
               ["--vdev", f"net_pcap0,rx_pcap={pcap},infinite_rx=1",
                "--vdev", f"net_af_packet0,iface={GEN_IF},qpairs=1,blocksz=4096,framesz=2048,"
                          "framecnt=2048",
                "--", "--forward-mode=io", "--port-topology=paired", "--stats-period=1",
                "--nb-cores=1", "--rxd=2048", "--txd=2048", "--burst=32",
                f"--total-num-mbufs={max(16384, n_packets + 16384)}"])
        self.samples = []  # (time, Tx-pps, Rx-pps on vb-gen, CPU snapshot)
        self.lines = []
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.pids = (self.p.pid, sluiced_pid)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        port, rx = None, 0
        for line in self.p.stdout:
            self.lines.append(line)
            m = re.search(r"NIC statistics for port (\d+)", line)
            if m:
                port = int(m.group(1))
            m = re.search(r"Rx-pps:\s+(\d+)", line)
            if m and port == 1:
                rx = int(m.group(1))
            m = re.search(r"Tx-pps:\s+(\d+)", line)
            if m and port == 1:
                self.samples.append((time.monotonic(), int(m.group(1)), rx,
                                     cpu_snapshot(self.pids)))

    def run(self, seconds, timeout):
        """Until seconds after its first sample (start-up), and two samples at
        least, then stop; returns the samples. (testpmd prints every second or
        two: its sleep and its TSC clock disagree a little here.)"""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.p.poll() is None:
            s = list(self.samples)
            if len(s) >= 2 and s[-1][0] - s[0][0] >= seconds - 0.1:
                break
            time.sleep(0.05)
        samples = list(self.samples)
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
        try:
            self.p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.reader.join(timeout=5)
        if len(samples) < 2:
            sys.stderr.write("".join(self.lines)[-3000:])
        return samples


def user_ticks(pid):
    """A process's user time (all its threads), in /proc/stat's ticks; 0 once gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[11])
    except (OSError, IndexError, ValueError):
        return 0


def cpu_snapshot(pids):
    """(/proc/stat of each CPU, the user time of the generator and sluiced)."""
    return cpu_times(), sum(user_ticks(p) for p in pids)


def others_share(s0, s1):
    """The share of the two CPUs' time that other processes spent in user mode
    (this machine's other work: the figure of how disturbed a run was)."""
    (c0, own0), (c1, own1) = s0, s1
    user = sum(c1[c][0] - c0[c][0] for c in (GEN_CPU, LB_CPU))
    total = sum(c1[c][3] - c0[c][3] for c in (GEN_CPU, LB_CPU))
    return max(0.0, 100.0 * (user - (own1 - own0)) / total) if total else 0.0


def cpu_times():
    """(user+nice, system, softirq, total) jiffies of each CPU."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            m = re.match(r"^cpu(\d+) (.*)", line)
            if m:
                v = [int(x) for x in m.group(2).split()]
                out[int(m.group(1))] = (v[0] + v[1], v[2], v[6], sum(v[:8]))
    return out


def cpu_share(before, after, cpu):
    b, a = before.get(cpu), after.get(cpu)
    if b is None or a is None or a[3] == b[3]:
        return (0.0, 0.0, 0.0)
    total = a[3] - b[3]
    return tuple(100.0 * (a[i] - b[i]) / total for i in range(3))


def one_run(bed, kind, a, pcap, n_packets, work):
    """One port kind for a.seconds: a row of figures (rates in pps)."""
    d = Sluiced(bed, kind, a.mode, work)
    try:
        if not d.ready.wait(timeout=30) or d.p.poll() is not None:
            sys.stderr.write(d.text()[-3000:])
            return None
        drops0 = bed.tx_dropped(GEN_IF)
        samples = Generator(bed, pcap, n_packets, d.p.pid).run(a.seconds, a.seconds + 30)
        drops = bed.tx_dropped(GEN_IF) - drops0
    finally:
        rc = d.stop()
    # the generator's first sample covers its start-up; sluiced's samples
    # (each the second before it) from then to the generator's last are full seconds
    gen = [x[1] for x in samples[1:]]
    back = [x[2] for x in samples[1:]]
    t0, t1 = (samples[0][0], samples[-1][0]) if samples else (0.0, 0.0)
    s0, s1 = (samples[0][3], samples[-1][3]) if samples else (None, None)
    window = [s for s in d.samples if t0 < s[0] <= t1 + 0.05]
    text = d.text()
    xdp = re.search(r"XDP on \S+ \(port \S+, program \d+, (\w+)\): (\d+) redirected, (\d+) passed",
                    text)
    if kind == "af_xdp" and (xdp is None or int(xdp.group(2)) == 0):
        sys.stderr.write(f"af_xdp: sluice's XDP program redirected nothing\n{text[-3000:]}")
        return None
    if rc != 0 or not gen or not window:
        sys.stderr.write(f"{kind}: sluiced exit {rc}, {len(gen)} generator samples, "
                         f"{len(window)} sluiced samples\n{text[-3000:]}")
        return None
    pkts_in = re.search(r"packets in (\d+)", text)
    return {"kind": kind, "offered": statistics.median(gen), "back": statistics.median(back),
            "rx": statistics.median(s[1] for s in window),
            "tx": statistics.median(s[2] for s in window),
            "tsc": statistics.median(s[3] for s in window),
            "veth_drops": drops,
            "cpu_gen": cpu_share(s0[0], s1[0], GEN_CPU), "cpu_lb": cpu_share(s0[0], s1[0], LB_CPU),
            "others": others_share(s0, s1),
            "xdp_mode": xdp.group(1) if xdp else "",
            "xdp_redirected": int(xdp.group(2)) if xdp else 0,
            "xdp_passed": int(xdp.group(3)) if xdp else 0,
            # redirected by the program but never read by sluice: lost at the socket
            "xsk_lost": int(xdp.group(2)) - int(pkts_in.group(1)) if xdp and pkts_in else 0}


def fmt_cpu(c):
    """user / kernel (system and softirq together: whether the kernel charges
    softirq work done in a system call to the caller depends on its build)"""
    return f"{c[0]:.0f}/{c[1] + c[2]:.0f}"


def report(rows, kinds):
    """The medians over the runs (and the spread of the rates)."""
    print(f"\n{'':<10}{'offered':>20}{'sluice rx':>20}{'tx':>7}{'back':>7}{'TSC/':>7}{'xsk':>8}"
          f"{'CPU0':>11}{'CPU1':>11}{'others':>8}")
    print(f"{'port':<10}{'Mpps (spread)':>20}{'Mpps (spread)':>20}{'Mpps':>7}{'Mpps':>7}{'pkt':>7}"
          f"{'lost %':>8}{'usr/ker %':>11}{'usr/ker %':>11}{'%':>8}")
    for k in kinds:
        rs = [r for r in rows if r["kind"] == k]
        if not rs:
            continue

        def med(key, spread=True):
            v = [r[key] / 1e6 for r in rs]
            m = statistics.median(v)
            return f"{m:.3f} ({min(v):.3f}-{max(v):.3f})" if spread else f"{m:.3f}"
        cg = tuple(statistics.median(r["cpu_gen"][i] for r in rs) for i in range(3))
        cl = tuple(statistics.median(r["cpu_lb"][i] for r in rs) for i in range(3))
        lost = statistics.median(100.0 * r["xsk_lost"] / max(r["xdp_redirected"], 1) for r in rs)
        print(f"{k:<10}{med('offered'):>20}{med('rx'):>20}{med('tx', False):>7}"
              f"{med('back', False):>7}{statistics.median(r['tsc'] for r in rs):>7.0f}"
              + (f"{lost:>8.1f}" if k == "af_xdp" else f"{'-':>8}") +
              f"{fmt_cpu(cg):>11}{fmt_cpu(cl):>11}"
              f"{statistics.median(r['others'] for r in rs):>8.0f}")


def write_csv(path, rows):
    with open(path, "w") as f:
        f.write("port,run,offered_mpps,rx_mpps,tx_mpps,back_mpps,tsc_per_pkt,veth_drops,"
                "xdp_mode,xdp_redirected,xdp_passed,xsk_lost,"
                "cpu0_user,cpu0_sys,cpu0_softirq,cpu1_user,cpu1_sys,cpu1_softirq,others_user\n")
        for r in rows:
            f.write(f"{r['kind']},{r['run']},{r['offered'] / 1e6:.4f},{r['rx'] / 1e6:.4f},"
                    f"{r['tx'] / 1e6:.4f},{r['back'] / 1e6:.4f},{r['tsc']:.0f},{r['veth_drops']},"
                    f"{r['xdp_mode']},{r['xdp_redirected']},{r['xdp_passed']},{r['xsk_lost']},"
                    + ",".join(f"{x:.1f}" for x in r["cpu_gen"] + r["cpu_lb"] + (r["others"],))
                    + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--mode", choices=("DNAT", "IPinIP"), default="DNAT")
    ap.add_argument("--flows", type=int, default=1000)
    ap.add_argument("--ports", default="af_packet,af_xdp")
    ap.add_argument("--csv")
    a = ap.parse_args(argv)
    kinds = [k.strip() for k in a.ports.split(",") if k.strip()]
    if any(k not in ("af_packet", "af_xdp") for k in kinds) or not kinds:
        ap.error("--ports: af_packet, af_xdp or both")
    if os.geteuid() != 0:
        sys.stderr.write("veth_bench.py: needs root (network namespaces, AF_XDP)\n")
        return 2
    if os.cpu_count() < 2:
        sys.stderr.write("veth_bench.py: needs two CPUs (the generator's and sluiced's)\n")
        return 2
    work = tempfile.mkdtemp(prefix="sluice-veth-bench-")
    pcap = os.path.join(work, "trace.pcap")
    n_packets = trace.write(pcap, a.flows)
    print(f"trace: {a.flows} flows, 64-byte TCP/IPv4 to 10.0.0.10:80; sluiced {a.mode}, one "
          f"worker on CPU {LB_CPU}; testpmd on CPU {GEN_CPU}; {a.runs} run(s) of {a.seconds} s",
          flush=True)
    bed = VethBed()
    bed.up()
    rows = []
    try:
        for run in range(a.runs):
            for k in kinds:
                r = one_run(bed, k, a, pcap, n_packets, work)
                if r is None:
                    print(f"run {run + 1}: {k}: no figures", flush=True)
                    return 1
                r["run"] = run
                rows.append(r)
                print(f"run {run + 1}/{a.runs} {k:<10} offered {r['offered'] / 1e6:.3f} Mpps, "
                      f"sluiced rx {r['rx'] / 1e6:.3f} tx {r['tx'] / 1e6:.3f} Mpps"
                      + (f" (XDP {r['xdp_mode']})" if r["xdp_mode"] else "")
                      + f"; other work {r['others']:.0f}% of the CPUs", flush=True)
    finally:
        bed.down()
    report(rows, kinds)
    if a.csv:
        write_csv(a.csv, rows)
    # every run received and forwarded (a sluiced that only receives fails)
    return 0 if all(r["rx"] > 0 and r["tx"] > 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
