# SPDX-License-Identifier: BSD-3-Clause
"""sluiced.service run by hand, as systemd would run it (this machine runs
no systemd): the unit's ExecStartPre and ExecStart lines from the package,
expanded with its EnvironmentFile, the package's files in place of the
installed ones, temporary folders in place of RuntimeDirectory= and
StateDirectory=, in a network namespace of the test's own with a veth for
the shipped default profile (net_af_packet on SLUICE_IFACE). The test binds
the NOTIFY_SOCKET and sets WATCHDOG_USEC and WATCHDOG_PID as systemd does,
and checks:

- READY=1 arrives once the port is up and the configuration is published
  (the log says both before it; the API answers the packaged sluicectl; the
  state directory holds the committed configuration);
- WATCHDOG=1 arrives every half period while the worker runs;
- a stuck worker stops it: the worker lcore's thread, and only it, is
  stopped with ptrace (PTRACE_SEIZE + PTRACE_INTERRUPT: the other threads
  run on, the control thread answers the API), and WATCHDOG=1 stops while a
  STATUS= line and the log name the lcore; past WATCHDOG_USEC without it,
  systemd would kill and restart the service (Restart=on-failure). The
  thread let go, the feeding resumes;
- ExecReload (SIGHUP) re-reads the configuration; SIGTERM, what systemd
  sends to stop, brings STOPPING=1 and exit status 0.

What the test changes in the shipped sluiced.env, and why: the interface
and address (SLUICE_IFACE, SLUICE_IPV4: the test's veth), the EAL file
prefix (a private one, so that no other sluiced's runtime files are
touched), --flow-table-size 65536 (this machine's hugepages are shared),
--no-huge when scripts/common.sh found no hugepages (SL_EAL_MEM), and
WATCHDOG_USEC (2 s, where the unit says 10 s, to keep the test short).

    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/package/test_service.py
"""
import ctypes
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

import pkghelpers as ph

WATCHDOG_USEC = 2_000_000
PERIOD = WATCHDOG_USEC / 2e6  # sluiced checks and feeds every half period
NS = f"slpkg-{os.getpid()}"
FILE_PREFIX = f"slpkg{os.getpid()}"

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (network namespace, ptrace, hugepages)")


class Notifications:
    """The NOTIFY_SOCKET: every datagram with the monotonic time it arrived."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.05)
        self.messages = []  # (time, text)
        self.lock = threading.Lock()
        self.done = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.done:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.messages.append((time.monotonic(), data.decode()))

    def all(self, since=0.0):
        with self.lock:
            return [(t, m) for t, m in self.messages if t >= since]

    def wait(self, pattern, timeout, since=0.0, alive=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for t, m in self.all(since):
                if re.search(pattern, m):
                    return t, m
            if alive is not None and not alive():
                break
            time.sleep(0.02)
        return None

    def close(self):
        self.done = True
        self.thread.join(2)
        self.sock.close()


def sh(*args, timeout=20):
    return subprocess.run(list(args), check=True, capture_output=True, text=True, timeout=timeout)


def hugepages_usable():
    if "--no-huge" in os.environ.get("SL_EAL_MEM", ""):
        return False
    try:
        with open("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages") as f:
            return int(f.read()) >= 160 and os.path.ismount("/dev/hugepages")
    except OSError:
        return False


class Service:
    """The unit's lines, expanded and run by hand."""

    def __init__(self, pkgroot, tmp):
        self.pkgroot = pkgroot
        self.unit = ph.read_unit(os.path.join(pkgroot, ph.UNIT_PATH))["Service"]
        self.runtime = os.path.join(tmp, "run")
        self.state = os.path.join(tmp, "state")
        os.makedirs(self.runtime, mode=0o755)
        os.makedirs(self.state, mode=0o700)
        self.log_path = os.path.join(tmp, "sluiced.log")
        self.notify_path = os.path.join(tmp, "notify")
        self.env = self._environment()
        self.proc = None

    def _environment(self):
        (env_file,) = self.unit["EnvironmentFile"]
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
               "LANG": "C.UTF-8"}
        env.update(ph.read_env_file(self.map(env_file)))
        assert "--file-prefix sluice" in env["SLUICED_EAL_ARGS"], env["SLUICED_EAL_ARGS"]
        env["SLUICED_EAL_ARGS"] = env["SLUICED_EAL_ARGS"].replace(
            "--file-prefix sluice", f"--file-prefix {FILE_PREFIX}")
        if not hugepages_usable():
            env["SLUICED_EAL_ARGS"] += " --no-huge -m 512"
            env["SLUICE_HUGEPAGES"] = "0"
        env["SLUICED_ARGS"] = (env["SLUICED_ARGS"] + " --flow-table-size 65536").strip()
        env["SLUICE_IFACE"] = "sl0"
        env["SLUICE_IPV4"] = "192.0.2.2/24"
        env["RUNTIME_DIRECTORY"] = self.runtime
        env["STATE_DIRECTORY"] = self.state
        env["NOTIFY_SOCKET"] = self.notify_path
        env["WATCHDOG_USEC"] = str(WATCHDOG_USEC)
        return env

    def map(self, arg):
        """An installed path as this test has it: the directories systemd would
        create, else the package's file."""
        for key, base, local in (("RuntimeDirectory", "/run/", self.runtime),
                                 ("StateDirectory", "/var/lib/", self.state)):
            d = base + self.unit[key][0]
            if arg == d or arg.startswith(d + "/"):
                return local + arg[len(d):]
        if arg.startswith("/") and os.path.lexists(os.path.join(self.pkgroot, arg[1:])):
            return os.path.join(self.pkgroot, arg[1:])
        return arg

    def command(self, key, extra_env=None):
        (line,) = self.unit[key]
        assert not line.startswith(("-", "@", "+", "!", ":")), f"{key}: prefix not handled: {line}"
        return [self.map(a) for a in ph.expand_command(line, dict(self.env, **(extra_env or {})))]

    def start(self):
        argv = self.command("ExecStart")
        self.logf = open(self.log_path, "w")
        # WATCHDOG_PID is the main process's pid, as systemd sets it: sh's, kept by exec
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", NS, "sh", "-c",
             'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"', "sh"] + argv,
            env=self.env, stdout=self.logf, stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        self.logf.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.logf.closed:
            self.logf.close()
        return self.proc.returncode


def remove_eal_files():
    """What EAL keeps of our private file prefix (nothing of anyone else's)."""
    for f in glob.glob(f"/dev/hugepages/{FILE_PREFIX}map_*"):
        os.unlink(f)
    shutil.rmtree(f"/run/dpdk/{FILE_PREFIX}", ignore_errors=True)


@pytest.fixture(scope="module")
def service(pkgroot, workdir):
    subprocess.run(["ip", "netns", "del", NS], capture_output=True)
    sh("ip", "netns", "add", NS)
    tmp = os.path.join(workdir, "service")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    svc = None
    notes = None
    try:
        for cmd in (["ip", "link", "set", "lo", "up"],
                    ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"],
                    ["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"],
                    ["ip", "link", "add", "sl0", "type", "veth", "peer", "name", "sl1"],
                    ["ip", "link", "set", "sl0", "up"], ["ip", "link", "set", "sl1", "up"]):
            sh("ip", "netns", "exec", NS, *cmd)
        svc = Service(pkgroot, tmp)
        notes = Notifications(svc.notify_path)
        pre = subprocess.run(["ip", "netns", "exec", NS] + svc.command("ExecStartPre"),
                             env=svc.env, capture_output=True, text=True, timeout=60)
        assert pre.returncode == 0, f"ExecStartPre failed:\n{pre.stdout}{pre.stderr}"
        svc.pre_output = pre.stdout
        svc.start()
        svc.notes = notes
        svc.ready = notes.wait(r"^READY=1", 90, alive=svc.alive)
        yield svc
    finally:
        if svc is not None and svc.proc is not None:
            svc.stop()
        if notes is not None:
            notes.close()
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)
        remove_eal_files()


def test_ready_once_ports_up_and_configuration_published(service):
    assert "hugepages" in service.pre_output, service.pre_output
    assert service.ready is not None, "no READY=1; sluiced's log:\n" + service.log()
    _t, msg = service.ready
    assert re.search(r"STATUS=running: 1 worker lcore\(s\), 1 port\(s\), generation 1", msg), msg
    log = service.log()
    # written before READY=1 was sent
    assert re.search(r"port0: port \d+ \(net_af_packet\) up", log), log
    assert "configuration generation 1 published" in log, log
    with open(f"/proc/{service.proc.pid}/comm") as f:
        assert f.read().strip() == "sluiced"  # the pid systemd would watch is sluiced's
    assert glob.glob(os.path.join(service.state, "generation-*"))
    ctl = subprocess.run([service.map("/usr/bin/sluicectl"), "--socket",
                          os.path.join(service.runtime, "sluiced.sock"), "status", "-o", "json"],
                         capture_output=True, text=True, timeout=30)
    assert ctl.returncode == 0, ctl.stderr


def watchdog_times(notes, since, until=None):
    return [t for t, m in notes.all(since) if m == "WATCHDOG=1" and (until is None or t < until)]


def test_watchdog_fed_while_the_worker_runs(service):
    assert service.ready is not None
    t0 = time.monotonic()
    time.sleep(6 * PERIOD)
    fed = watchdog_times(service.notes, t0)
    assert len(fed) >= 4, f"{len(fed)} WATCHDOG=1 in {6 * PERIOD} s"
    gaps = [b - a for a, b in zip(fed, fed[1:])]
    assert max(gaps) < WATCHDOG_USEC / 1e6, gaps  # systemd never waits out the period


def worker_threads(pid):
    """{lcore id: thread id} of the EAL worker threads."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            m = re.fullmatch(r"(?:rte|lcore)-worker-(\d+)", f.read().strip())
        if m:
            out[int(m.group(1))] = int(tid)
    return out


class StoppedThread:
    """One thread stopped by ptrace (PTRACE_SEIZE, PTRACE_INTERRUPT): the rest
    of its process runs on. Let go on exit (PTRACE_DETACH)."""
    SEIZE, INTERRUPT, DETACH, WALL = 0x4206, 0x4207, 17, 0x40000000

    def __init__(self, tid):
        self.tid = tid
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
        self.libc.ptrace.restype = ctypes.c_long

    def _ptrace(self, req):
        if self.libc.ptrace(req, self.tid, None, None) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"ptrace({req:#x}, {self.tid}): {os.strerror(e)}")

    def __enter__(self):
        self._ptrace(self.SEIZE)
        self._ptrace(self.INTERRUPT)
        os.waitpid(self.tid, self.WALL)
        return self

    def __exit__(self, *exc):
        self._ptrace(self.DETACH)


def thread_state(pid, tid):
    with open(f"/proc/{pid}/task/{tid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def test_stuck_worker_stops_the_watchdog(service):
    assert service.ready is not None and service.alive()
    pid = service.proc.pid
    workers = worker_threads(pid)
    assert list(workers) == [1], workers
    sock = os.path.join(service.runtime, "sluiced.sock")
    with StoppedThread(workers[1]):
        stopped = time.monotonic()
        assert thread_state(pid, workers[1]) == "t"
        stuck = service.notes.wait(r"^STATUS=worker lcore 1 stuck", 4 * PERIOD, since=stopped)
        time.sleep(4 * PERIOD)
        end = time.monotonic()
        # the rest of sluiced runs on: the control thread answers the API
        ctl = subprocess.run([service.map("/usr/bin/sluicectl"), "--socket", sock, "stats",
                              "-o", "json"], capture_output=True, text=True, timeout=30)
        assert ctl.returncode == 0, ctl.stderr
        assert service.alive()
    assert stuck is not None, "no STATUS= about the stuck lcore:\n" + str(service.notes.all(stopped))
    # a check within the first half period may still see the iterations made before the stop
    late = watchdog_times(service.notes, stopped + PERIOD * 1.5, end)
    assert late == [], f"WATCHDOG=1 while lcore 1 was stopped, {[t - stopped for t in late]}"
    last = max(watchdog_times(service.notes, 0, end))
    assert end - last > 2 * WATCHDOG_USEC / 1e6, "systemd would not have seen the watchdog expire"
    assert re.search(r"worker lcore 1 has made no progress for [\d.]+ s: watchdog not fed",
                     service.log()), service.log()
    # let go: fed again, and said
    resumed = service.notes.wait(r"^WATCHDOG=1$", 4 * PERIOD, since=end)
    assert resumed is not None, "the watchdog was not fed again after the worker resumed"
    assert service.notes.wait(r"^STATUS=running: every worker lcore makes progress again",
                              4 * PERIOD, since=end)
    assert "every worker lcore makes progress again" in service.log()


def test_reload_and_stop(service):
    assert service.ready is not None and service.alive()
    pid = service.proc.pid
    reload_ = service.command("ExecReload", {"MAINPID": str(pid)})
    assert reload_[-1] == str(pid), reload_
    subprocess.run(reload_, check=True, timeout=10)
    deadline = time.monotonic() + 15
    while "SIGHUP from" not in service.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    # the audit line names the sender (the unit's ExecReload: kill) and the result
    assert re.search(r"NOTICE sluice\.audit: SIGHUP from uid 0 pid \d+ \(kill\): "
                     r"\S+/etc/sluice/config\.json: unchanged", service.log()), service.log()
    t = time.monotonic()
    service.proc.send_signal(signal.SIGTERM)  # systemctl stop: KillSignal=SIGTERM
    assert service.notes.wait(r"^STOPPING=1", 10, since=t), service.notes.all(t)
    assert service.stop() == 0, service.log()
    assert not os.path.exists(os.path.join(service.runtime, "sluiced.sock"))
