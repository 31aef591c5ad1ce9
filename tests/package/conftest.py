# SPDX-License-Identifier: BSD-3-Clause
"""Fixtures of the package tier: the Debian package built from a copy of
the tree (`dpkg-buildpackage -b -us -uc`, once per session), its files
unpacked, its control files, and the systemd unit read as systemd reads it.

    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/package

SLUICE_DEB=PATH tests an existing sluice_*.deb instead of building one.
The package is built with DEB_BUILD_OPTIONS=nocheck (the unit tier runs the
unit tests) and as many jobs as there are CPUs.
"""
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
for p in (os.path.join(ROOT, "dist"), os.path.join(ROOT, "tests", "tools")):
    if p not in sys.path:
        sys.path.insert(0, p)

# Test modules import the helpers below as `pkghelpers` (a name that stays
# unique when several tiers' conftest modules are loaded at once).
sys.modules.setdefault("pkghelpers", sys.modules[__name__])

BUILD_TIMEOUT_S = 900


def source_files(root):
    """The tree's files as a checkout has them: tracked and untracked, ignored ones left out."""
    r = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others",
                        "--exclude-standard"], capture_output=True)
    if r.returncode != 0:
        return None
    return [f for f in r.stdout.decode().split("\0") if f and os.path.lexists(os.path.join(root, f))]


def copy_tree(dest):
    files = source_files(ROOT)
    if files is None:
        shutil.copytree(ROOT, dest, symlinks=True,
                        ignore=shutil.ignore_patterns("build*", "obj-*", ".git"))
        return
    for f in files:
        os.makedirs(os.path.dirname(os.path.join(dest, f)), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, f), os.path.join(dest, f), follow_symlinks=False)


def build_deb(work):
    """dpkg-buildpackage in a copy of the tree under work; the .deb's path."""
    src = os.path.join(work, "sluice")
    copy_tree(src)
    env = dict(os.environ, DEB_BUILD_OPTIONS=f"nocheck parallel={os.cpu_count() or 1}",
               DEB_BUILD_PROFILES="nocheck")
    r = subprocess.run(["dpkg-buildpackage", "-b", "-us", "-uc"], cwd=src, env=env,
                       capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    if r.returncode != 0:
        pytest.fail(f"dpkg-buildpackage -b -us -uc failed ({r.returncode}):\n"
                    f"{r.stdout[-6000:]}\n{r.stderr[-4000:]}", pytrace=False)
    debs = [f for f in os.listdir(work) if re.fullmatch(r"sluice_[^_]+_[^_]+\.deb", f)]
    assert len(debs) == 1, f"dpkg-buildpackage left {os.listdir(work)}"
    return os.path.join(work, debs[0])


@pytest.fixture(scope="session")
def workdir():
    d = tempfile.mkdtemp(prefix="sluice-package-")
    yield d
    if not os.environ.get("SLUICE_KEEP_TMP"):
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def deb(workdir):
    """The sluice .deb: SLUICE_DEB, or built now."""
    given = os.environ.get("SLUICE_DEB")
    if given:
        return os.path.abspath(given)
    for tool in ("dpkg-buildpackage", "dh"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: apt-get install dpkg-dev debhelper "
                        "(scripts/common.sh's SL_PACKAGES)", pytrace=False)
    return build_deb(workdir)


@pytest.fixture(scope="session")
def pkgroot(deb, workdir):
    """The package's files unpacked (dpkg-deb -x), its control files in DEBIAN/."""
    root = os.path.join(workdir, "root")
    shutil.rmtree(root, ignore_errors=True)
    subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
    subprocess.run(["dpkg-deb", "-e", deb, os.path.join(root, "DEBIAN")], check=True)
    return root


@pytest.fixture(scope="session")
def contents(deb):
    """{path: (mode string, size)} of dpkg-deb -c, paths without the leading './'."""
    out = subprocess.run(["dpkg-deb", "-c", deb], check=True, capture_output=True,
                         text=True).stdout
    files = {}
    for line in out.splitlines():
        f = line.split(None, 5)
        path = f[5].split(" -> ")[0]
        files[path[2:] if path.startswith("./") else path] = (f[0], int(f[2]))
    return files


def control_field(deb, field):
    return subprocess.run(["dpkg-deb", "-f", deb, field], check=True, capture_output=True,
                          text=True).stdout.strip()


def multiarch():
    return subprocess.run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"], check=True,
                          capture_output=True, text=True).stdout.strip()


# --------------------------------------------------------------------------
# The unit as systemd reads it
# --------------------------------------------------------------------------

UNIT_PATH = "lib/systemd/system/sluiced.service"


def read_unit(path):
    """{section: {key: [values]}} of a unit file (comments and blank lines skipped)."""
    unit, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(("#", ";")):
                continue
            m = re.fullmatch(r"\[(\w+)\]", line)
            if m:
                section = unit.setdefault(m.group(1), {})
                continue
            key, _, value = line.partition("=")
            section.setdefault(key.strip(), []).append(value.strip())
    return unit


def read_env_file(path):
    """An EnvironmentFile= as systemd reads it: KEY=VALUE, # comments, quotes removed."""
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(("#", ";")):
                continue
            key, _, value = line.partition("=")
            words = shlex.split(value, comments=False) if value.strip() else [""]
            env[key.strip()] = " ".join(words)
    return env


def expand_command(line, env):
    """A command line of the unit as systemd runs it: words split as a shell
    would, $VAR alone as a word replaced by its value split at whitespace
    (zero or more words), ${VAR} replaced inside a word."""
    argv = []
    for word in shlex.split(line):
        m = re.fullmatch(r"\$(\w+)", word)
        if m:
            argv += env.get(m.group(1), "").split()
            continue
        argv.append(re.sub(r"\$\{(\w+)\}", lambda v: env.get(v.group(1), ""), word))
    return argv
