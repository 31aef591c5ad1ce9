# SPDX-License-Identifier: BSD-3-Clause
"""Shared helpers of the sluicectl tier: one sluiced per test module (net_null
port, REST API on a Unix socket, a state directory, no --config), and
control/sluicectl run as a program with /usr/bin/python3.

Test modules use these as `import clihelpers` (an alias of this module set
below): a bare `import conftest` is ambiguous once several tiers with their
own conftest.py run in one pytest session.

The binary is SLUICE_BUILD's (default build/, as slharness): for example
`meson setup build-cli && ninja -C build-cli` then
`SLUICE_BUILD=build-cli /usr/bin/python3 -m pytest -q tests/cli`.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.abspath(os.path.join(HERE, "..", "tools"))
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)

sys.modules.setdefault("clihelpers", sys.modules[__name__])

import slharness  # noqa: E402

ROOT = slharness.ROOT
SLUICECTL = os.path.join(ROOT, "control", "sluicectl")
PYTHON = "/usr/bin/python3"
SUB = "00000000-0000-0000-0000-000000000000"
NULL_PROFILE = {"ports": [{"name": "null0", "device": "net_null0", "devargs": "size=64,copy=0",
                           "macAddress": "02:00:5e:00:00:01", "ipv4Address": "10.0.0.2"}]}

# The seed's texts, word for word: "Address must have name, ip-address ..." etc.
MSG_NOT_A_LIST = "Config file must be a list."
MSG_ADDRESS_INFO = ("Each backend address must have name, ip-address, "
                    "(vnet name and subnet name | subnet id) information.")
MSG_ONE_OF = ("Only one of --backend-address and --backend-addresses-config-file "
              "can be provided at the same time.")


def arm(rg, *segments, sub=SUB):
    """The ARM id of a resource: arm("rg", "loadBalancers", "lb")."""
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network" + \
        "".join("/" + s for s in segments)


def load_sluicectl(name="sluicectl_under_test"):
    """control/sluicectl as a module (main() does not run), for tests of its functions
    that need no sluiced."""
    import importlib.machinery
    import importlib.util
    loader = importlib.machinery.SourceFileLoader(name, SLUICECTL)
    spec = importlib.util.spec_from_loader(name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def keep_tmp():
    return bool(os.environ.get("SLUICE_KEEP_TMP"))


# --------------------------------------------------------------------------
# The binary
# --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def sluiced_binary():
    """Build sluiced when the build directory lacks it; fail (not skip) when that fails."""
    err = slharness.ensure_built()
    if err:
        pytest.fail(err, pytrace=False)
    return slharness.sluiced_path()


# --------------------------------------------------------------------------
# sluiced with its REST API
# --------------------------------------------------------------------------

class ApiDaemon(slharness.Daemon):
    """slharness.Daemon without --config: --api-socket DIR/s.sock --state-dir DIR/state."""

    def __init__(self, profile=NULL_PROFILE, lcores="0,1", extra_args=()):
        self.dir = tempfile.mkdtemp(prefix="sluice-cli-")
        self.profile = os.path.join(self.dir, "ports.json")
        self.stats = os.path.join(self.dir, "stats.json")
        self.log = os.path.join(self.dir, "sluiced.log")
        self.socket = os.path.join(self.dir, "s.sock")
        self.state_dir = os.path.join(self.dir, "state")
        os.makedirs(self.state_dir)
        with open(self.profile, "w") as f:
            json.dump(profile, f)
        cmd = [slharness.sluiced_path()] + slharness.eal_args(lcores) + [
            "--", "--ports", self.profile, "--api-socket", self.socket,
            "--state-dir", self.state_dir, "--stats-file", self.stats,
            "--stats-interval", "0.2"] + list(extra_args)
        self.cmd = cmd
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT, text=True)

    def output(self):
        if not self.logf.closed:
            self.logf.flush()
        with open(self.log, errors="replace") as f:
            return f.read()

    def wait_api(self, timeout=30.0):
        """Until the socket accepts a connection; fails with the log if sluiced exits."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sluiced exited {self.proc.returncode}:\n{self.output()}")
            if os.path.exists(self.socket):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    s.connect(self.socket)
                    return
                except OSError:
                    pass
                finally:
                    s.close()
            time.sleep(0.05)
        raise TimeoutError(f"no REST API on {self.socket} after {timeout} s:\n{self.output()}")


class Cli:
    """control/sluicectl against one sluiced. run(*args) returns the CompletedProcess;
    ok() and json() assert exit status 0, fail() asserts a failure."""

    def __init__(self, daemon, rg=None):
        self.daemon = daemon
        self.rg = rg

    def env(self, extra=None):
        e = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
        e.update(extra or {})
        return e

    def run(self, *args, socket_opt=True, rg=True, env=None, cwd=None, timeout=60):
        cmd = [PYTHON, SLUICECTL]
        if socket_opt and self.daemon is not None:
            cmd += ["--socket", self.daemon.socket]
        if rg and self.rg:
            cmd += ["-g", self.rg]
        cmd += [str(a) for a in args]
        return subprocess.run(cmd, capture_output=True, text=True, env=self.env(env), cwd=cwd,
                              timeout=timeout)

    def _why(self, r):
        log = self.daemon.output()[-3000:] if self.daemon is not None else ""
        return (f"{' '.join(r.args)}\nexit {r.returncode}\nstdout:\n{r.stdout}\n"
                f"stderr:\n{r.stderr}\nsluiced log (tail):\n{log}")

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        assert r.returncode == 0, self._why(r)
        return r

    def json(self, *args, **kw):
        r = self.ok(*args, "-o", "json", **kw)
        return json.loads(r.stdout) if r.stdout.strip() else None

    def fail(self, *args, status=1, code=None, **kw):
        """The command exits with status; with code, stderr is az's error block for it."""
        r = self.run(*args, **kw)
        assert r.returncode == status, self._why(r)
        if code is not None:
            lines = r.stderr.splitlines()
            assert lines and lines[0].startswith(f"ERROR: ({code}) "), self._why(r)
            assert f"Code: {code}" in lines, self._why(r)
            assert any(ln.startswith("Message: ") and len(ln) > 9 for ln in lines), self._why(r)
            assert any(ln.startswith("Target: ") for ln in lines), self._why(r)
        return r


def error_lines(stderr):
    return [ln for ln in stderr.splitlines() if ln.strip()]


def commits(cli):
    return cli.json("status", rg=False)["commits"]


def table_rows(stdout):
    """The rows of a table (header and dashes dropped), split on runs of 2+ spaces."""
    import re
    lines = [ln for ln in stdout.splitlines() if ln.strip()]
    assert len(lines) >= 2 and set(lines[1].replace(" ", "")) == {"-"}, stdout
    return [re.split(r"\s{2,}", ln.strip()) for ln in lines[2:]]


def tsv_rows(stdout):
    """The rows of -o tsv output (empty cells kept)."""
    return [ln.split("\t") for ln in stdout.splitlines()]


@pytest.fixture(scope="module")
def sluiced(sluiced_binary, request):
    """One sluiced for the test module, its REST API ready."""
    d = ApiDaemon()
    try:
        d.wait_api()
    except Exception:
        d.stop()
        raise
    yield d
    rc = d.stop()
    if rc not in (0, None) or keep_tmp():
        print(f"--- sluiced exited {rc}; log kept in {d.dir} ---\n{d.output()}")
    else:
        shutil.rmtree(d.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def cli(sluiced):
    """sluicectl --socket <this module's sluiced> (no resource group: pass -g)."""
    return Cli(sluiced)
