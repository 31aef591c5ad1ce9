# SPDX-License-Identifier: BSD-3-Clause
"""The REST API's Unix socket and its limits (docs/reliability.md, section 7).

- The socket is born with its final mode: sluiced runs under strace, which
  holds it 0.3 s after each bind() and 0.1 s before each later
  chmod/chown/listen, with umask 0 (the widest a bare bind() would give);
  a watcher stats the socket file all along and must never see it wider
  than 0600 (or, with --api-group, than 0660 of that group).
- --api-group: a real unprivileged user in the group gets answers, one
  outside it is refused by the kernel; the group by number works too; an
  unknown group refuses the start (UnknownApiGroup).
- Limits, each with its ARM error and its counter in GET /sluice/status
  ("api"): the request rate per uid (a group member past it gets 429 with
  Retry-After; root is not held back), the header size (431), the body size (413, the limit
  named, with a length or chunked), connections at once (503 for a
  newcomer while everyone is busy), and slow clients (slowloris): with
  every slot held by a client sending a byte now and then, a normal GET
  is answered at once in place of the slowest one, and the slow ones are
  closed with 408 after --api-request-timeout, counted.
"""
import grp
import json
import os
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time

import pytest

import apihelpers as h
import slharness

GROUP = "slsocktest"
USER_IN = "slsockin"
USER_OUT = "slsockout"


def status_api(d):
    return d.api.status()["api"]


def raw_request(sock_path, data, timeout=10.0):
    """Send data on a fresh connection and read until the server closes it: the bytes."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock_path)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out and b"Connection: close" not in out:
                head, _, body = out.partition(b"\r\n\r\n")
                n = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
                     if line.lower().startswith(b"content-length:")]
                if n and len(body) >= n[0]:
                    break
        return out
    finally:
        s.close()


def parse_raw(out):
    """(status, headers dict with lower-case names, JSON body or None) of a raw answer."""
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {k.strip().lower(): v.strip() for k, v in
            (line.split(":", 1) for line in lines[1:] if ":" in line)}
    try:
        j = json.loads(body) if body.strip() else None
    except ValueError:
        j = None
    return status, hdrs, j


# --------------------------------------------------------------------------
# The mode from the start
# --------------------------------------------------------------------------

def spawn_traced(workdir, extra):
    """sluiced under strace (bind held 0.3 s on its way out; chmod, chown and listen
    0.1 s on their way in) with umask 0."""
    sock = os.path.join(workdir, "s.sock")
    prof = os.path.join(workdir, "ports.json")
    with open(prof, "w") as f:
        json.dump(h.NULL_PROFILE, f)
    cmd = ([slharness.sluiced_path()] + slharness.eal_args() +
           ["--", "--ports", prof, "--api-socket", sock] + list(extra))
    held = "chmod,fchmodat,chown,lchown,fchownat,listen"
    strace = ["strace", "-f", "--seccomp-bpf", "-qq", "-o", "/dev/null",
              "-e", "trace=bind," + held,
              "-e", "inject=bind:delay_exit=300000",
              "-e", f"inject={held}:delay_enter=100000"]
    log = open(os.path.join(workdir, "sluiced.log"), "w")
    p = subprocess.Popen(strace + ["sh", "-c", 'umask 0; exec "$@"', "sh"] + cmd,
                         stdout=log, stderr=subprocess.STDOUT)
    return p, sock, log


def watch_modes(p, sock, timeout=40.0):
    """Every (mode, gid) the socket file showed from its creation until it answered."""
    seen = []
    deadline = time.time() + timeout
    while time.time() < deadline and p.poll() is None:
        try:
            st = os.lstat(sock)
        except FileNotFoundError:
            time.sleep(0.001)
            continue
        m = (stat.S_IMODE(st.st_mode), st.st_gid)
        if not seen or seen[-1] != m:
            seen.append(m)
        try:
            if h.Api(sock).request("GET", "/sluice/status", api_version=None,
                                   timeout=1).status == 200:
                return seen
        except OSError:
            pass
        time.sleep(0.001)
    raise AssertionError(f"the API did not answer; modes seen: {seen}")


def sluiced_on(sock):
    """The pids of the sluiced processes whose command line names sock."""
    pids = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv[0].endswith(b"/sluiced") and sock.encode() in argv:
            pids.append(int(pid))
    return pids


def run_traced(tmp_path, extra):
    workdir = str(tmp_path)
    p, sock, log = spawn_traced(workdir, extra)
    try:
        return watch_modes(p, sock)
    finally:
        # sluiced itself: strace, stopped, would leave it running
        for pid in sluiced_on(sock):
            os.kill(pid, signal.SIGKILL)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()


def test_socket_born_0600(tmp_path):
    seen = run_traced(tmp_path, [])
    assert seen, "the socket file was never seen"
    assert all(mode == 0o600 for mode, _ in seen), f"modes seen: {[oct(m) for m, _ in seen]}"


# --------------------------------------------------------------------------
# --api-group, with real users
# --------------------------------------------------------------------------

def sh(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def operators():
    """A group, a user in it and a user outside it; removed after."""
    for u in (USER_IN, USER_OUT):
        subprocess.run(["userdel", u], stderr=subprocess.DEVNULL)
    subprocess.run(["groupdel", GROUP], stderr=subprocess.DEVNULL)
    sh("groupadd", GROUP)
    try:
        sh("useradd", "-M", "-N", "-s", "/usr/sbin/nologin", "-G", GROUP, USER_IN)
        sh("useradd", "-M", "-N", "-s", "/usr/sbin/nologin", USER_OUT)
        yield grp.getgrnam(GROUP).gr_gid
    finally:
        for u in (USER_IN, USER_OUT):
            subprocess.run(["userdel", u], stderr=subprocess.DEVNULL)
        subprocess.run(["groupdel", GROUP], stderr=subprocess.DEVNULL)


GET_AS = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
try:
    s.connect(sys.argv[1])
except PermissionError:
    print("EACCES"); sys.exit(0)
s.sendall(b"GET /sluice/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
out = b""
while True:
    c = s.recv(65536)
    if not c:
        break
    out += c
print(out.split(b"\r\n", 1)[0].decode())
"""


def get_as(user, sock):
    """GET /sluice/status as user: the status line, or EACCES."""
    r = subprocess.run(["runuser", "-u", user, "--", "/usr/bin/python3", "-c", GET_AS, sock],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def open_workdir():
    """A work directory others may pass through, in /tmp (pytest's own are 0700): the
    socket's own mode decides who gets in. The daemons fixture removes it."""
    w = tempfile.mkdtemp(prefix="slsock-")
    os.chmod(w, 0o755)
    return w


def test_api_group_lets_its_members_in(daemons, operators):
    d = daemons.start(workdir=open_workdir(), extra_args=["--api-group", GROUP])
    st = os.lstat(d.sock)
    assert stat.S_IMODE(st.st_mode) == 0o660 and st.st_gid == operators, (oct(st.st_mode),
                                                                           st.st_gid)
    assert get_as(USER_IN, d.sock) == "HTTP/1.1 200 OK"
    assert get_as(USER_OUT, d.sock) == "EACCES"


def test_api_group_by_number_and_born_narrow(operators, tmp_path):
    seen = run_traced(tmp_path, ["--api-group", str(operators)])
    # 0600 of sluiced's own group, then 0600 of the group, then 0660 of the group
    assert seen[-1] == (0o660, operators), seen
    for mode, gid in seen:
        assert mode in (0o600, 0o660) and (mode == 0o600 or gid == operators), seen


def test_unknown_group_refuses_start(daemons, tmp_path):
    d = daemons.spawn(workdir=str(tmp_path), extra_args=["--api-group", "no-such-group-x"])
    assert d.wait_exit(20) != 0
    out = d.output()
    assert "UnknownApiGroup" in out and "no-such-group-x" in out, out
    assert not os.path.exists(d.sock)


GETS_AS = r"""
import socket, sys
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sys.argv[1])
    s.sendall(b"GET /sluice/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    out = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        out += c
    s.close()
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    ra = [l.split(":", 1)[1].strip() for l in lines if l.lower().startswith("retry-after:")]
    code = body.split(b'"code":', 1)[1].split(b'"')[1].decode() if b'"code":' in body else "-"
    print(lines[0].split()[1], ra[0] if ra else "-", code)
"""


def test_rate_limit_per_uid(daemons, operators):
    d = daemons.start(workdir=open_workdir(),
                      extra_args=["--api-group", GROUP, "--api-rate-limit", "5"])
    r = subprocess.run(["runuser", "-u", USER_IN, "--", "/usr/bin/python3", "-c", GETS_AS,
                        d.sock, "8"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    answers = [line.split() for line in r.stdout.splitlines()]
    assert [a[0] for a in answers[:5]] == ["200"] * 5, answers
    refused = [a for a in answers if a[0] == "429"]
    assert refused, answers
    assert all(a[2] == "TooManyRequests" and int(a[1]) >= 1 for a in refused), answers
    # root is not held back, the member's bucket stays empty for a while
    for _ in range(20):
        assert d.api.request("GET", "/sluice/status", api_version=None).status == 200
    c = status_api(d)
    assert c["counters"]["rateLimited"] == len(refused), c
    assert c["limits"]["requestsPerSecond"] == 5
    # a second later the member is served again
    time.sleep(1.2)
    r = subprocess.run(["runuser", "-u", USER_IN, "--", "/usr/bin/python3", "-c", GETS_AS,
                        d.sock, "1"], capture_output=True, text=True, timeout=60)
    assert r.stdout.split()[0] == "200", r.stdout


# --------------------------------------------------------------------------
# Header and body sizes
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small(module_daemons):
    return module_daemons.start(extra_args=["--api-max-header-bytes", "2048",
                                            "--api-max-body-bytes", "100000"])


def test_header_limit(small):
    ok = small.api.request("GET", "/sluice/status", api_version=None,
                           headers={"X-Pad": "a" * 1500})
    assert ok.status == 200, ok
    r = small.api.request("GET", "/sluice/status", api_version=None,
                          headers={"X-Pad": "a" * 3000})
    assert r.status == 431 and r.error["code"] == "RequestHeaderFieldsTooLarge", r
    assert "2048" in r.error["message"], r
    # far past what a connection may buffer: libmicrohttpd's own 431, and sluiced goes on
    out = raw_request(small.sock, b"GET /sluice/status HTTP/1.1\r\nHost: x\r\nX-Pad: " +
                      b"a" * (1 << 20) + b"\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 431"), out[:200]
    assert status_api(small)["counters"]["headersTooLarge"] == 1


def test_body_limit(small):
    pool = h.rid("loadBalancers", "lb", "backendAddressPools", "p")
    before = status_api(small)["counters"]["bodiesTooLarge"]
    r = small.api.put(pool, b"{" + b" " * 100000 + b"}")
    assert r.status == 413 and r.error["code"] == "RequestEntityTooLarge", r
    assert "100000" in r.error["message"] and "--api-max-body-bytes" in r.error["message"], r
    # chunked, no length given: cut at the limit all the same
    body = b"{" + b" " * 150000 + b"}"
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 8192]), body[i:i + 8192])
                      for i in range(0, len(body), 8192)) + b"0\r\n\r\n"
    out = raw_request(small.sock, (f"PUT {pool}?api-version={h.API_VERSION} HTTP/1.1\r\n"
                                   "Host: x\r\nTransfer-Encoding: chunked\r\n"
                                   "Content-Type: application/json\r\n\r\n").encode() + chunks)
    status, _, j = parse_raw(out)
    assert status == 413 and j["error"]["code"] == "RequestEntityTooLarge", out[:400]
    assert "at least" in j["error"]["message"], j
    assert status_api(small)["counters"]["bodiesTooLarge"] == before + 2


# --------------------------------------------------------------------------
# Connections and slow clients
# --------------------------------------------------------------------------

class Slow:
    """A client that sends a request a byte every `every` seconds, and what it got."""

    def __init__(self, sock, every=0.25):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(30)
        self.s.connect(sock)
        self.every = every
        self.got = b""
        self.closed_after = None
        self.t0 = time.time()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        req = b"GET /sluice/status HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 4096
        for b in req:
            try:
                self.s.send(bytes([b]))
            except OSError:
                break
            self.s.settimeout(self.every)
            try:
                c = self.s.recv(4096)
                if not c:
                    break
                self.got += c
            except socket.timeout:
                continue
            except OSError:
                break
        self.closed_after = time.time() - self.t0
        self.s.close()


def test_connection_limit_and_slowloris(daemons):
    n = 8
    d = daemons.start(extra_args=["--api-max-connections", str(n),
                                  "--api-request-timeout", "3"])
    slow = [Slow(d.sock) for _ in range(n)]
    time.sleep(0.2)
    # every slot is taken by a client that has not waited a second yet: refused
    status, hdrs, j = parse_raw(raw_request(d.sock, b"GET /sluice/status HTTP/1.1\r\n"
                                            b"Host: x\r\n\r\n"))
    assert status == 503 and j["error"]["code"] == "TooManyConnections", (status, j)
    assert hdrs.get("retry-after") == "1", hdrs
    time.sleep(1.0)
    # now the slowest one makes room, and a normal client is answered at once
    t0 = time.time()
    r = d.api.request("GET", "/sluice/status", api_version=None)
    waited = time.time() - t0
    print(f"\nslowloris: {n} slow clients on {n} connections: a normal GET answered in "
          f"{waited * 1000:.1f} ms")
    assert r.status == 200, r
    assert waited < 1.0, waited
    for s in slow:
        s.t.join(10)
    assert all(s.closed_after is not None for s in slow)
    # each slow client was answered 408 and closed within the request timeout (3 s) and a grace
    for s in slow:
        assert s.got.startswith(b"HTTP/1.1 408"), s.got[:200]
        assert s.closed_after < 3 + 1.5, s.closed_after
    c = status_api(d)["counters"]
    print(f"slowloris: slow clients closed after {min(s.closed_after for s in slow):.2f} to "
          f"{max(s.closed_after for s in slow):.2f} s; counters {c}")
    assert c["slowClientsClosed"] == n and c["connectionsRefused"] == 1, c
    assert c["connectionsOpen"] <= 1, c


# --------------------------------------------------------------------------
# The hammer (scripts/soak.sh api runs it for minutes)
# --------------------------------------------------------------------------

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_hammer_with_slow_clients(daemons):
    """SOAK_API_SECONDS (default 6) of 4 clients changing and reading the configuration
    and 16 slow clients coming back as soon as they are closed, on 16 connections
    (--api-request-timeout 5): every
    normal request answered right (503 only with Retry-After, and answered on retry),
    the slow ones closed and counted, and sluiced's memory level after the first quarter."""
    seconds = float(os.environ.get("SOAK_API_SECONDS", "6"))
    d = daemons.start(extra_args=["--api-max-connections", "16", "--api-request-timeout", "5",
                                  "--api-rate-limit", "0"])
    d.api.ok("PUT", h.rid("virtualNetworks", "vnet"),
             h.vnet_body(["10.0.0.0/16"], {"default": "10.0.0.0/24"}), status=201)
    stop = threading.Event()
    waits, errors, counts = [], [], {"ok": 0, "retried": 0}
    lock = threading.Lock()

    def slow_loop():
        while not stop.is_set():
            try:
                s = Slow(d.sock, every=0.3)
                s.t.join()
            except OSError:
                time.sleep(0.1)

    def client(i):
        n = 0
        while not stop.is_set():
            n += 1
            pool = h.rid("loadBalancers", f"lb{i}")
            body = h.lb_body(frontends=[h.frontend("fe", f"10.0.0.{10 + 50 * i + n % 40}",
                                                   "vnet", "default")],
                             pools=[h.pool("p", [h.address("a", f"10.0.9.{n % 250 + 1}",
                                                           "vnet")])])
            for method, want in (("PUT", (200, 201)), ("GET", (200,))):
                t0 = time.time()
                while True:
                    try:
                        r = d.api.request(method, pool, body if method == "PUT" else None)
                    except OSError as e:  # refused while the house was full
                        r = None
                        why = repr(e)
                    if r is not None and r.status == 503:
                        assert r.error["code"] == "TooManyConnections", r
                        assert r.headers.get("Retry-After") == "1", r.headers
                        why = "503"
                    elif r is not None:
                        break
                    with lock:
                        counts["retried"] += 1
                    if time.time() - t0 > 15:
                        with lock:
                            errors.append(f"{method} not answered in 15 s: {why}")
                        return
                    time.sleep(0.2)
                with lock:
                    waits.append(time.time() - t0)
                    if r.status in want:
                        counts["ok"] += 1
                    else:
                        errors.append(f"{method} {pool}: {r}")

    threads = ([threading.Thread(target=slow_loop, daemon=True) for _ in range(16)] +
               [threading.Thread(target=client, args=(i,), daemon=True) for i in range(4)])
    for t in threads:
        t.start()
    time.sleep(seconds / 4)
    rss_early = rss_kib(d.proc.pid)
    time.sleep(seconds * 3 / 4)
    stop.set()
    for t in threads:
        t.join(30)
    rss_late = rss_kib(d.proc.pid)
    c = status_api(d)["counters"]
    waits.sort()
    p50 = waits[len(waits) // 2] if waits else None
    print(f"\nhammer: {seconds:.0f} s, {counts['ok']} requests answered right, "
          f"{counts['retried']} retries, wait p50 {p50:.3f} s max {waits[-1]:.3f} s; "
          f"slow clients closed {c['slowClientsClosed']}, connections refused "
          f"{c['connectionsRefused']}; RSS {rss_early} -> {rss_late} KiB")
    assert not errors, errors[:5]
    assert counts["ok"] > 0 and c["slowClientsClosed"] > 0, (counts, c)
    assert waits[-1] < 15, waits[-1]
    # memory: no growth beyond a few MiB once running (libmicrohttpd pools, cJSON)
    assert rss_late - rss_early < 16 * 1024, (rss_early, rss_late)
