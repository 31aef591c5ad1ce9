# SPDX-License-Identifier: BSD-3-Clause
"""etcdcluster.py: a real etcd cluster on loopback ports, for the fleet tests.

EtcdCluster(n) starts n etcd members (Debian's etcd-server, v3 API) bootstrapped
statically (--initial-cluster): free loopback ports chosen at start, data
directories in a temporary directory (on /dev/shm when there is one: a
loaded test machine's disk would make fsync the slowest part of every write),
short heartbeat and election timeouts so that a killed leader is replaced in
about a second. It is a context manager: every member is killed and every
file removed on exit, also when a test fails.

    with EtcdCluster(3) as c:
        c.endpoints()            # ["http://127.0.0.1:P1", ...]
        c.leader()               # index of the leader member
        c.kill(c.leader())       # SIGKILL (or another signal)
        c.wait_leader()          # a new leader is elected
        c.restart(i)             # the member again, on its data directory

Member state is read with etcdctl (`endpoint status -w json`); put() and
get() are etcdctl too, so that the tests can look at what the fleet wrote
without going through sluiced.
"""
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ETCD = "/usr/bin/etcd"
ETCDCTL = "/usr/bin/etcdctl"


class EtcdError(Exception):
    """etcd or etcdctl did not do what was asked (the message says what and why)."""


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (bound together, then released)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class Member:
    def __init__(self, name, client_port, peer_port, data_dir, log_path):
        self.name = name
        self.client_port = client_port
        self.peer_port = peer_port
        self.data_dir = data_dir
        self.log_path = log_path
        self.proc = None

    @property
    def client_url(self):
        return f"http://127.0.0.1:{self.client_port}"

    @property
    def peer_url(self):
        return f"http://127.0.0.1:{self.peer_port}"

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


class EtcdCluster:
    def __init__(self, size=3, heartbeat_ms=100, election_ms=500, token=None):
        if not os.access(ETCD, os.X_OK):
            raise EtcdError(f"{ETCD} is missing: apt-get install etcd-server etcd-client")
        base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) \
            else None
        self.dir = tempfile.mkdtemp(prefix="sluice-etcd-", dir=base)
        self.heartbeat_ms = heartbeat_ms
        self.election_ms = election_ms
        self.token = token or os.path.basename(self.dir)
        ports = free_ports(2 * size)
        self.members = [Member(f"m{i}", ports[2 * i], ports[2 * i + 1],
                               os.path.join(self.dir, f"m{i}.etcd"),
                               os.path.join(self.dir, f"m{i}.log"))
                        for i in range(size)]

    # -- life cycle -------------------------------------------------------
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def _command(self, m, state):
        initial = ",".join(f"{x.name}={x.peer_url}" for x in self.members)
        return [ETCD, "--name", m.name, "--data-dir", m.data_dir,
                "--listen-client-urls", m.client_url, "--advertise-client-urls", m.client_url,
                "--listen-peer-urls", m.peer_url, "--initial-advertise-peer-urls", m.peer_url,
                "--initial-cluster", initial, "--initial-cluster-state", state,
                "--initial-cluster-token", self.token,
                "--heartbeat-interval", str(self.heartbeat_ms),
                "--election-timeout", str(self.election_ms),
                "--logger", "zap", "--log-level", "warn"]

    def _spawn(self, m, state):
        log = open(m.log_path, "a")
        try:
            m.proc = subprocess.Popen(self._command(m, state), stdout=log,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()

    def start(self, timeout=30.0):
        """Start every member and wait until the cluster has a leader and takes a write."""
        for m in self.members:
            self._spawn(m, "new")
        self.wait_healthy(timeout)
        return self

    def restart(self, i, timeout=30.0):
        """Start member i again on its data directory (after kill()); waits until it
        answers as a member that knows the leader."""
        m = self.members[i]
        if m.alive():
            raise EtcdError(f"member {m.name} is running")
        self._spawn(m, "existing")
        deadline = time.time() + timeout
        while time.time() < deadline:
            st = self._status(m)
            if st is not None and st.get("leader"):
                return
            self._check_alive(m)
            time.sleep(0.1)
        raise EtcdError(f"member {m.name} did not rejoin in {timeout} s:\n{self.log(i)}")

    def kill(self, i, sig=signal.SIGKILL):
        """Send sig to member i; with SIGKILL (or SIGTERM) wait until it is gone."""
        m = self.members[i]
        if not m.alive():
            return
        m.proc.send_signal(sig)
        if sig in (signal.SIGKILL, signal.SIGTERM):
            m.proc.wait(10)

    def kill_all(self, sig=signal.SIGKILL):
        for i in range(len(self.members)):
            self.kill(i, sig)

    def restart_all(self, timeout=30.0):
        """Start every member that is not running; waits until the cluster is healthy."""
        for m in self.members:
            if not m.alive():
                self._spawn(m, "existing")
        self.wait_healthy(timeout)

    def stop(self):
        """Kill every member and remove the data (keeps it with SLUICE_KEEP_TMP=1)."""
        for m in self.members:
            if m.proc is not None and m.proc.poll() is None:
                m.proc.kill()
                try:
                    m.proc.wait(10)
                except subprocess.TimeoutExpired:
                    pass
        if not os.environ.get("SLUICE_KEEP_TMP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- state ------------------------------------------------------------
    def endpoints(self):
        """Every member's client URL, running or not (what sluiced is given)."""
        return [m.client_url for m in self.members]

    def live_endpoints(self):
        return [m.client_url for m in self.members if m.alive()]

    def log(self, i):
        try:
            with open(self.members[i].log_path, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def _check_alive(self, m):
        if m.proc.poll() is not None:
            raise EtcdError(f"etcd member {m.name} exited {m.proc.returncode}:\n"
                            + self.log(self.members.index(m)))

    def etcdctl(self, *args, endpoints=None, timeout=5.0, check=True):
        """Run etcdctl (v3 API) against endpoints (default: the running members)."""
        eps = endpoints or self.live_endpoints()
        cmd = [ETCDCTL, "--endpoints", ",".join(eps), "--dial-timeout", "1s",
               "--command-timeout", f"{max(1, int(timeout - 1))}s"] + list(args)
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                               env=dict(os.environ, ETCDCTL_API="3"))
        except subprocess.TimeoutExpired:
            raise EtcdError(f"{' '.join(cmd)}: no answer in {timeout} s") from None
        if check and p.returncode != 0:
            raise EtcdError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()}")
        return p

    def _status(self, m):
        """The member's `endpoint status` object, or None when it does not answer."""
        if not m.alive():
            return None
        p = self.etcdctl("endpoint", "status", "-w", "json", endpoints=[m.client_url],
                         timeout=3.0, check=False)
        if p.returncode != 0:
            return None
        try:
            return json.loads(p.stdout)[0]["Status"]
        except (ValueError, LookupError, TypeError):
            return None

    def leader(self):
        """The index of the member that the running members agree is the leader, or
        None (no quorum, or members disagree during an election)."""
        ids = {}
        seen = set()
        for i, m in enumerate(self.members):
            st = self._status(m)
            if st is None:
                continue
            ids[st["header"]["member_id"]] = i
            seen.add(st.get("leader"))
        if len(seen) != 1:
            return None
        return ids.get(seen.pop())

    def wait_leader(self, timeout=15.0, not_member=None):
        """Wait until a leader (other than member not_member) is agreed on; its index."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            i = self.leader()
            if i is not None and i != not_member:
                return i
            time.sleep(0.1)
        raise EtcdError(f"no leader elected in {timeout} s")

    def move_leader(self, i, timeout=15.0):
        """Make member i the leader (etcdctl move-leader, sent to the current one)."""
        cur = self.wait_leader(timeout)
        if cur == i:
            return
        st = self._status(self.members[i])
        if st is None:
            raise EtcdError(f"member {self.members[i].name} does not answer")
        self.etcdctl("move-leader", format(int(st["header"]["member_id"]), "x"),
                     endpoints=[self.members[cur].client_url], timeout=timeout)
        deadline = time.time() + timeout
        while self.leader() != i:
            if time.time() > deadline:
                raise EtcdError(f"member {self.members[i].name} did not become the leader")
            time.sleep(0.1)

    def wait_healthy(self, timeout=30.0):
        """Wait until a leader is elected and a write through every running member succeeds."""
        deadline = time.time() + timeout
        err = None
        while time.time() < deadline:
            for m in self.members:
                if m.proc is not None:
                    self._check_alive(m)
            try:
                if self.leader() is not None:
                    for m in self.members:
                        if m.alive():
                            self.etcdctl("put", "/sluice-etcdcluster/health", m.name,
                                         endpoints=[m.client_url], timeout=3.0)
                    return
            except EtcdError as e:
                err = e
            time.sleep(0.1)
        raise EtcdError(f"the etcd cluster was not healthy in {timeout} s: {err}\n"
                        + "\n".join(self.log(i) for i in range(len(self.members))))

    # -- keys ---------------------------------------------------------------
    def put(self, key, value):
        self.etcdctl("put", key, value)

    def get(self, key):
        """(value as str, mod_revision) of key, or (None, 0) when it is absent."""
        p = self.etcdctl("get", key, "-w", "json")
        kvs = json.loads(p.stdout).get("kvs") or []
        if not kvs:
            return None, 0
        kv = kvs[0]
        return base64.b64decode(kv["value"]).decode(), int(kv["mod_revision"])

    def get_prefix(self, prefix):
        """{key: value} of every key under prefix."""
        p = self.etcdctl("get", prefix, "--prefix", "-w", "json")
        out = {}
        for kv in json.loads(p.stdout).get("kvs") or []:
            out[base64.b64decode(kv["key"]).decode()] = base64.b64decode(kv["value"]).decode()
        return out

    def lease_ttl(self, key):
        """The seconds left of key's lease: None when the key is absent, 0 when it
        has no lease."""
        p = self.etcdctl("get", key, "-w", "json")
        kvs = json.loads(p.stdout).get("kvs") or []
        if not kvs:
            return None
        lease = int(kvs[0].get("lease") or 0)
        if lease == 0:
            return 0
        q = self.etcdctl("lease", "timetolive", format(lease, "x"), "-w", "json")
        return max(0, int(json.loads(q.stdout).get("ttl", 0)))

    def revision(self):
        """The cluster's current revision (the header of a range)."""
        p = self.etcdctl("get", "/sluice-etcdcluster/none", "-w", "json")
        return int(json.loads(p.stdout)["header"]["revision"])
