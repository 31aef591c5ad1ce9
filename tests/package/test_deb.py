# SPDX-License-Identifier: BSD-3-Clause
"""The sluice .deb (dpkg-buildpackage -b -us -uc on a copy of the tree):
what it holds (dpkg-deb -c) and declares (dpkg-deb -I: conffiles, depends,
maintainer scripts), that the packaged sluiced finds the packaged XDP
object, that the man pages render without warnings and name every option
of --help and every sluicectl command, that the bash completion completes
what sluicectl's parser accepts, that `systemd-analyze verify` accepts the
unit (and refuses a broken copy of it), and that `meson install` installs
the same files for other hosts.

    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/package/test_deb.py
"""
import gzip
import json
import os
import re
import shutil
import subprocess

import pytest

import argtree
import pkghelpers as ph


def test_files(contents, deb):
    ma = ph.multiarch()
    want = {
        "usr/bin/sluiced": "x", "usr/bin/sluicectl": "x",
        f"usr/lib/{ma}/sluice/sl_xdp_steer.o": "",
        "usr/libexec/sluice/sluice-hugepages": "x",
        ph.UNIT_PATH: "",
        "usr/share/man/man8/sluiced.8.gz": "", "usr/share/man/man8/sluicectl.8.gz": "",
        "usr/share/bash-completion/completions/sluicectl": "",
        "etc/sluice/ports.json": "", "etc/sluice/config.json": "", "etc/sluice/sluiced.env": "",
        "usr/share/doc/sluice/copyright": "",
        "usr/share/doc/sluice/examples/config.json": "",
        "usr/share/doc/sluice/examples/pmd-config/mlx5.json": "",
        "usr/share/doc/sluice/docs/operations.md.gz": "",
    }
    missing = [p for p in want if p not in contents]
    assert not missing, f"{os.path.basename(deb)} lacks {missing}"
    for path, x in want.items():
        mode, size = contents[path]
        assert mode.startswith("-"), f"{path}: {mode}"
        assert size > 0, f"{path} is empty"
        assert (mode[3] == "x") == (x == "x"), f"{path}: mode {mode}"
    # every example profile of the tree, as it is (not compressed: operators copy them)
    for name in os.listdir(os.path.join(ph.ROOT, "pmd-config")):
        assert f"usr/share/doc/sluice/examples/pmd-config/{name}" in contents, name


def test_control(deb, pkgroot):
    assert ph.control_field(deb, "Package") == "sluice"
    depends = ph.control_field(deb, "Depends")
    for d in ("librte-eal23", "librte-ethdev23", "libcjson1", "libmicrohttpd12", "libbpf1",
              "librte-mempool-ring23", "librte-net-af-packet23", "python3", "procps"):
        assert re.search(rf"(^|, ){re.escape(d)}( |,|$)", depends), f"Depends lacks {d}: {depends}"
    with open(os.path.join(pkgroot, "DEBIAN", "conffiles")) as f:
        conffiles = f.read().split()
    assert sorted(conffiles) == ["/etc/sluice/config.json", "/etc/sluice/ports.json",
                                 "/etc/sluice/sluiced.env"]
    scripts = {}
    for name in ("preinst", "postinst", "prerm", "postrm"):
        path = os.path.join(pkgroot, "DEBIAN", name)
        scripts[name] = open(path).read() if os.path.exists(path) else ""
    # registered with systemd; enabled only where it was enabled before (not at
    # first install: the port must be named first), so the start in postinst
    # (deb-systemd-invoke starts enabled units only) starts nothing new
    assert "deb-systemd-helper update-state 'sluiced.service'" in scripts["postinst"]
    assert "if deb-systemd-helper debian-installed 'sluiced.service'" in scripts["postinst"]
    assert "restart" not in scripts["postinst"]  # an upgrade restarts nothing
    assert "stop" not in scripts["preinst"]
    # removal stops it
    assert re.search(r"\"\$1\" = remove.*\n\s*deb-systemd-invoke stop 'sluiced.service'",
                     scripts["prerm"]), scripts["prerm"]


def test_defaults_are_valid(pkgroot):
    """The shipped configuration and profile parse; the env file names the profile's variables."""
    with open(os.path.join(pkgroot, "etc/sluice/config.json")) as f:
        json.load(f)
    with open(os.path.join(pkgroot, "etc/sluice/ports.json")) as f:
        profile = json.load(f)
    with open(os.path.join(pkgroot, "etc/sluice/sluiced.env")) as f:
        env_text = f.read()
    for var in set(re.findall(r"\$\{(\w+)\}", json.dumps(profile))):
        assert re.search(rf"^#?{var}=", env_text, re.M), f"sluiced.env does not show {var}"


def packaged_help(pkgroot):
    r = subprocess.run([os.path.join(pkgroot, "usr/bin/sluiced"), "--help"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_sluiced_finds_the_packaged_xdp_object(pkgroot):
    """--help names where an installed sluiced looks for the XDP object: the package puts it there."""
    m = re.search(r"else (/\S+/sl_xdp_steer\.o)\)", packaged_help(pkgroot))
    assert m, "sluiced --help does not name the installed XDP object"
    path = os.path.join(pkgroot, m.group(1).lstrip("/"))
    assert os.path.isfile(path), f"{m.group(1)} is not in the package"
    with open(path, "rb") as f:
        head = f.read(20)
    assert head[:4] == b"\x7fELF" and int.from_bytes(head[18:20], "little") == 247, "not BPF"
    r = subprocess.run([os.path.join(pkgroot, "usr/bin/sluiced"), "--version"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout.startswith("sluiced ")


def render_man(path):
    r = subprocess.run(["man", "--warnings", "-l", path], capture_output=True, text=True,
                       env=dict(os.environ, MANWIDTH="100", LC_ALL="C.UTF-8", MAN_KEEP_FORMATTING=""),
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == "", f"{path}: groff warnings:\n{r.stderr}"
    # man hyphenates and pads; join what it split so that names can be found
    text = re.sub(r"\u2010\n\s*", "", r.stdout)
    return re.sub(r"\s+", " ", text.replace("\u2010", "-").replace("\u2212", "-"))


def test_sluiced_man_page_has_every_option(pkgroot):
    text = render_man(os.path.join(pkgroot, "usr/share/man/man8/sluiced.8.gz"))
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "SIGNALS", "FILES"):
        assert f" {section} " in f" {text} ", f"sluiced(8) has no {section}"
    options = set(re.findall(r"(?<![\w-])--[a-z][\w-]+", packaged_help(pkgroot)))
    assert len(options) > 15
    missing = sorted(o for o in options if o not in text)
    assert not missing, f"sluiced(8) lacks options of --help: {missing}"
    assert "/etc/sluice/ports.json" in text


def test_sluicectl_man_page_has_every_command(pkgroot):
    text = render_man(os.path.join(pkgroot, "usr/share/man/man8/sluicectl.8.gz"))
    parser = argtree.load_sluicectl(os.path.join(pkgroot, "usr/bin/sluicectl")).build_parser()
    leaves = 0
    for path, p, _help in argtree.commands(parser):
        if argtree.subcommands(p):
            continue
        leaves += 1
        name = "sluicectl " + " ".join(path)
        assert name in text, f"sluicectl(8) lacks {name}"
        section = text.split(name, 1)[1][:6000]
        for a in p._actions:
            for o in a.option_strings:
                assert o in section or o in ("-h", "--help") or a.dest in argtree.global_dests(parser), \
                    f"sluicectl(8): {name} lacks {o}"
    assert leaves > 40


COMPLETE = r'''
source "$1"
complete_line() {
	read -ra COMP_WORDS <<<"$1"
	[[ $1 == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	_sluicectl
	echo "${COMPREPLY[*]}"
}
while IFS= read -r line; do complete_line "$line"; done
'''


def complete(script, lines):
    r = subprocess.run(["bash", "--norc", "-c", COMPLETE, "complete", script],
                       input="".join(line + "\n" for line in lines), capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = r.stdout.split("\n")[:len(lines)]
    return [set(o.split()) for o in out]


def test_bash_completion(pkgroot):
    """For every command of the packaged sluicectl: its subcommands after its
    words, its options after a dash; option values from their choices."""
    script = os.path.join(pkgroot, "usr/share/bash-completion/completions/sluicectl")
    assert subprocess.run(["bash", "-n", script]).returncode == 0
    parser = argtree.load_sluicectl(os.path.join(pkgroot, "usr/bin/sluicectl")).build_parser()
    cases = [("sluicectl ", {n for n, a, _p, _h in argtree.subcommands(parser) for n in [n] + a})]
    for path, p, _help in argtree.commands(parser):
        words = "sluicectl " + " ".join(path) + " "
        subs = {w for n, a, _p, _h in argtree.subcommands(p) for w in [n] + a}
        opts = {o for a in p._actions for o in a.option_strings}
        cases.append((words, subs))
        cases.append((words + "--", {o for o in opts if o.startswith("--")}))
    cases += [
        ("sluicectl -o ", {"table", "json", "tsv", "none"}),
        ("sluicectl network lb ", {n for n, a, _p, _h in
                                   argtree.subcommands(dict((n, p) for n, _a, p, _h in
                                                            argtree.subcommands(parser))["lb"])
                                   for n in [n] + a}),
        ("sluicectl --socket /tmp/x service ", {"show", "out", "in"}),
        ("sluicectl lb rule create --protocol ", {"Tcp", "Udp", "All"}),
        ("sluicectl lb rule create --protocol T", {"Tcp"}),
        ("sluicectl st", {"status", "stats"}),
    ]
    got = complete(script, [c[0] for c in cases])
    wrong = [(line, sorted(want), sorted(g)) for (line, want), g in zip(cases, got) if g != want]
    assert not wrong, "completions differ (line, expected, got):\n" + "\n".join(map(str, wrong[:10]))


def verify_root(pkgroot, workdir, unit_text=None):
    """A root for systemd-analyze verify --root: the package, the host's units
    (the targets the unit is ordered against) and /bin/kill (ExecReload)."""
    vroot = os.path.join(workdir, "verify-root")
    shutil.rmtree(vroot, ignore_errors=True)
    shutil.copytree(pkgroot, vroot, symlinks=True, ignore=shutil.ignore_patterns("DEBIAN"))
    for unit in os.listdir("/lib/systemd/system"):
        src, dst = os.path.join("/lib/systemd/system", unit), os.path.join(vroot, "lib/systemd/system", unit)
        if not os.path.lexists(dst) and os.path.isfile(src) and not os.path.islink(src):
            shutil.copy2(src, dst)
    os.makedirs(os.path.join(vroot, "bin"), exist_ok=True)
    shutil.copy2("/bin/kill", os.path.join(vroot, "bin", "kill"))
    if unit_text is not None:
        with open(os.path.join(vroot, ph.UNIT_PATH), "w") as f:
            f.write(unit_text)
    return vroot


def analyze_verify(vroot):
    return subprocess.run(["systemd-analyze", "verify", f"--root={vroot}",
                           os.path.join(vroot, ph.UNIT_PATH)],
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, MANPATH=os.path.join(vroot, "usr/share/man")))


def test_unit_verifies(pkgroot, workdir):
    """systemd-analyze verify (offline, on the package's files) accepts the unit
    with no warning, and refuses a copy whose Type= and WatchdogSec= are broken
    (so that this check can fail)."""
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is missing: apt-get install systemd", pytrace=False)
    r = analyze_verify(verify_root(pkgroot, workdir))
    assert r.returncode == 0 and r.stderr.strip() == "", f"verify: {r.returncode}\n{r.stderr}"
    with open(os.path.join(pkgroot, ph.UNIT_PATH)) as f:
        text = f.read()
    broken = text.replace("Type=notify", "Type=notifyy").replace("WatchdogSec=", "WatchdogSec=x")
    r = analyze_verify(verify_root(pkgroot, workdir, broken))
    assert "notifyy" in r.stderr and r.stderr.count("Failed to parse") >= 2, r.stderr


def test_unit_settings(pkgroot):
    unit = ph.read_unit(os.path.join(pkgroot, ph.UNIT_PATH))
    svc = unit["Service"]
    assert svc["Type"] == ["notify"]
    assert int(svc["WatchdogSec"][0]) > 0
    assert svc["RuntimeDirectory"] == ["sluice"] and svc["StateDirectory"] == ["sluice"]
    assert svc["EnvironmentFile"] == ["/etc/sluice/sluiced.env"]
    assert svc["ExecStartPre"] == ["/usr/libexec/sluice/sluice-hugepages"]
    start = svc["ExecStart"][0]
    for arg in ("--ports /etc/sluice/ports.json", "--config /etc/sluice/config.json",
                "--state-dir /var/lib/sluice", "--api-socket /run/sluice/sluiced.sock"):
        assert arg in start, f"ExecStart lacks {arg}"
    assert svc["Restart"] == ["on-failure"]
    assert "multi-user.target" in unit["Install"]["WantedBy"]


def meson_installed(build, dest):
    """The files `meson install` of build puts on a host (absolute paths), installed under dest."""
    r = subprocess.run(["meson", "install", "-C", build, "--no-rebuild", "--quiet",
                        "--destdir", dest], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    out = set()
    for d, _dirs, files in os.walk(dest):
        out.update("/" + os.path.relpath(os.path.join(d, f), dest) for f in files)
    return out


def test_meson_install_installs_the_same(contents, workdir):
    """What the package holds, `meson install` of the build folder installs too
    (under its prefix): the .deb adds only debhelper's changelog and copyright."""
    build = os.path.join(ph.ROOT, os.environ.get("SLUICE_BUILD", "build"))
    if not os.path.isfile(os.path.join(build, "build.ninja")):
        pytest.fail(f"no configured build folder at {build}", pytrace=False)
    opts = {o["name"]: o["value"] for o in json.loads(subprocess.run(
        ["meson", "introspect", "--buildoptions", build], capture_output=True, text=True,
        check=True).stdout)}
    prefix = opts["prefix"].rstrip("/")
    sysconf = os.path.join(prefix, opts["sysconfdir"])
    unitdir = opts["systemdunitdir"] or os.path.join(prefix, "lib/systemd/system")

    def normal(path):
        for base, to in ((unitdir, "lib/systemd/system"), (sysconf, "etc"), (prefix, "usr")):
            if path.startswith(base + "/"):
                path = to + path[len(base):]
                break
        return path

    installed = {normal(p) for p in meson_installed(build, os.path.join(workdir, "meson-dest"))}
    packaged = {re.sub(r"\.gz$", "", p) for p, (mode, _s) in contents.items()
                if mode.startswith("-")}
    packaged -= {"usr/share/doc/sluice/changelog", "usr/share/doc/sluice/copyright"}
    assert packaged - installed == set(), "in the .deb only"
    assert installed - packaged == set(), "installed by meson only"
