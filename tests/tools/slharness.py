# SPDX-License-Identifier: BSD-3-Clause
"""slharness.py: run sluiced from tests.

run_pcap() writes a port profile and a configuration, runs sluiced on a
net_pcap port that reads the given packets and writes what it transmits,
waits for it to go idle and exit, and returns the transmitted packets, the
JSON statistics and the output.
"""
import http.client
import json
import os
import queue
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
import itertools

from scapy.all import rdpcap, wrpcap

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SLUICE_MAC = "02:00:5e:00:00:01"
ROUTER_MAC = "02:00:5e:00:00:fe"
PORT_IPV4 = "10.0.0.2"
PORT_IPV6 = "fd00::2"
_run_ids = itertools.count()


def build_dir():
    return os.path.join(ROOT, os.environ.get("SLUICE_BUILD", "build"))


def sluiced_path():
    return os.path.join(build_dir(), "dataplane", "sluiced")


_build_result = []


def ensure_built():
    """Configure and build SLUICE_BUILD when it lacks sluiced (once per process).
    Returns None, or the error text of the failed step."""
    if _build_result:
        return _build_result[0]
    exe, bdir, err = sluiced_path(), build_dir(), None
    if not os.path.isdir(bdir):
        r = subprocess.run(["meson", "setup", bdir], cwd=ROOT, capture_output=True, text=True)
        if r.returncode != 0:
            err = f"meson setup {bdir} failed:\n{r.stdout}\n{r.stderr}"
    if err is None and not os.path.exists(exe):
        r = subprocess.run(["ninja", "-C", bdir], cwd=ROOT, capture_output=True, text=True)
        if r.returncode != 0 or not os.path.exists(exe):
            err = f"ninja -C {bdir} failed:\n{r.stdout[-4000:]}\n{r.stderr[-2000:]}"
    _build_result.append(err)
    return err


def eal_args(lcores="0,1"):
    """EAL options: memory from SL_EAL_MEM (scripts/common.sh sets it), a private
    file prefix so runs never share DPDK runtime files."""
    mem = os.environ.get("SL_EAL_MEM", "--no-huge -m 512")
    prefix = f"--file-prefix=sl{os.getpid()}x{next(_run_ids)}"
    lc = ["--lcores", lcores] if "@" in lcores else ["-l", lcores]
    return lc + ["--no-pci", "--no-telemetry", "--log-level=lib.eal:error", prefix] + shlex.split(mem)


def port_profile(rx, tx, neighbours, mac=SLUICE_MAC, ipv4=PORT_IPV4, ipv6=PORT_IPV6,
                 gateway=None, mtu=0, discovery=False, vlan=0, mbuf_size=0):
    """A net_pcap port. Neighbour discovery is off by default: a replayed pcap
    has nobody to answer, and the tests count every packet sluice sends.
    mbuf_size sets the profile's mbufSize (0: the default)."""
    port = {
        "name": "wire0",
        "device": "net_pcap0",
        "devargs": f"rx_pcap={rx},tx_pcap={tx}",
        "rxQueues": 1,
        "neighbourDiscovery": discovery,
        "macAddress": mac,
        "neighbours": [{"ipAddress": a, "macAddress": m} for a, m in neighbours.items()],
    }
    if ipv4:
        port["ipv4Address"] = ipv4
    if ipv6:
        port["ipv6Address"] = ipv6
    if gateway:
        port["gateway"] = gateway
    if mtu:
        port["mtu"] = mtu
    if vlan:
        port["vlanId"] = vlan
    if mbuf_size:
        return {"mbufSize": mbuf_size, "ports": [port]}
    return {"ports": [port]}


@dataclass
class Result:
    rc: int
    out: list
    stats: dict
    stdout: str
    stderr: str
    workdir: str = field(default="")


def run_pcap(config, packets, neighbours, timeout=60, extra_args=(), queues=1, lcores="0,1",
             **profile_kw):
    """Run sluiced over packets; config is a dict (or a str of JSON text).

    With queues > 1 the packets are dealt round robin over that many input
    files (net_pcap gives one queue pair per rx_pcap/tx_pcap pair) and the
    output files are read back in queue order.
    """
    d = tempfile.mkdtemp(prefix="sluice-dp-")
    rxs = [os.path.join(d, f"in{q}.pcap") for q in range(queues)]
    txs = [os.path.join(d, f"out{q}.pcap") for q in range(queues)]
    cfg, prof, st = (os.path.join(d, n) for n in ("config.json", "ports.json", "stats.json"))
    for q in range(queues):
        wrpcap(rxs[q], packets[q::queues])
    with open(cfg, "w") as f:
        f.write(config if isinstance(config, str) else json.dumps(config, indent=1))
    profile = port_profile(rxs[0], txs[0], neighbours, **profile_kw)
    if queues > 1:
        port = profile["ports"][0]
        port["devargs"] = ",".join([f"rx_pcap={r}" for r in rxs] + [f"tx_pcap={t}" for t in txs])
        port["rxQueues"] = queues
    with open(prof, "w") as f:
        json.dump(profile, f, indent=1)
    cmd = [sluiced_path()] + eal_args(lcores) + ["--", "--ports", prof, "--config", cfg, "--no-api",
                                          "--stats-file", st, "--exit-idle-ms", "400"] + list(extra_args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    out = []
    for tx in txs:
        if os.path.exists(tx) and os.path.getsize(tx) > 24:
            out += list(rdpcap(tx))
    stats = {}
    if os.path.exists(st):
        with open(st) as f:
            stats = json.load(f)
    return Result(p.returncode, out, stats, p.stdout, p.stderr, d)


class Daemon:
    """sluiced running in the background (for reload tests).

    Optional, defaulting to the original behaviour: config_path None runs
    without --config (the REST API tier starts from --state-dir or nothing);
    env adds environment variables; netns runs sluiced inside that network
    namespace (ip netns exec); eal replaces eal_args(lcores) (the EAL
    options). self.cmd is the command line.
    """

    def __init__(self, profile, config_path=None, lcores="0,1", extra_args=(), env=None,
                 netns=None, eal=None):
        self.dir = tempfile.mkdtemp(prefix="sluice-daemon-")
        self.profile = os.path.join(self.dir, "ports.json")
        self.stats = os.path.join(self.dir, "stats.json")
        self.log = os.path.join(self.dir, "sluiced.log")
        with open(self.profile, "w") as f:
            json.dump(profile, f)
        cmd = [sluiced_path()] + (list(eal) if eal is not None else eal_args(lcores))
        cmd += ["--", "--ports", self.profile]
        if config_path is not None:
            cmd += ["--config", config_path]
        cmd += ["--stats-file", self.stats, "--stats-interval", "0.2"] + list(extra_args)
        if not any(a == "--no-api" or a.startswith("--api-socket") for a in extra_args):
            cmd.append("--no-api")  # no test shares the default socket by accident
        if netns is not None:
            cmd = ["ip", "netns", "exec", netns] + cmd
        self.cmd = cmd
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT, text=True,
                                     env=dict(os.environ, **env) if env else None)

    def read_stats(self):
        try:
            with open(self.stats) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def wait_stats(self, pred, timeout=15.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sluiced exited: " + self.output())
            s = self.read_stats()
            if s is not None and pred(s):
                return s
            time.sleep(0.1)
        raise TimeoutError("statistics condition not met; log:\n" + self.output())

    def signal(self, sig):
        self.proc.send_signal(sig)

    def output(self):
        """The log so far (also after stop(), which closes the log file)."""
        if not self.logf.closed:
            self.logf.flush()
        with open(self.log, errors="replace") as f:
            return f.read()

    def kill(self):
        """SIGKILL, no clean shutdown (persistence tests)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.logf.closed:
            self.logf.close()
        return self.proc.returncode

    def stop(self, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        return self.proc.returncode


# --------------------------------------------------------------------------
# The REST API: HTTP/1.1 over sluiced's Unix socket (docs/api.md)
# --------------------------------------------------------------------------

class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over an AF_UNIX stream socket; the host part is ignored by sluiced."""

    def __init__(self, path, timeout=10.0):
        super().__init__("sluice", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


def api_request(sock_path, method, path, body=None, headers=None, timeout=10.0):
    """One request on a fresh connection. body: bytes, str, or a JSON-able value.
    Returns (status, response headers as a dict, body bytes)."""
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    hdrs = {"Content-Type": "application/json"} if body is not None else {}
    hdrs.update(headers or {})
    c = UnixHTTPConnection(sock_path, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=hdrs)
        r = c.getresponse()
        data = r.read()
        return r.status, dict(r.getheaders()), data
    finally:
        c.close()


class NsAgent:
    """A helper process started in network namespace ns (a Python script given
    as text, with one JSON argument) that speaks JSON lines: it prints
    {"ready": true} once set up, then answers each command written to its
    stdin with one line. `what` names it in failure messages."""

    def __init__(self, ns, script, arg, what="the agent", ready_timeout=15.0):
        self.what = what
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, "-c", script, json.dumps(arg)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        assert self._answer(ready_timeout) == {"ready": True}

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _answer(self, timeout):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"{self.what} did not answer in {timeout} s") from None
        if line is None:
            raise AssertionError(f"{self.what} exited: {self.proc.stderr.read()}")
        return json.loads(line)

    def call(self, cmd, timeout):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self._answer(timeout)
