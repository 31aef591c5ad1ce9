#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""run_examples.py: run the shell examples of sluice's Markdown documents.

Every fenced block in `sh`, `bash` or `shell` in the repository's Markdown
files (README.md, docs/, scripts/pktgen/README.md, ...) is an example, and
runs literally as written: each file's blocks in document order in one bash
(so a later block sees the variables and working directory an earlier one
left), from the repository root, with `set -euo pipefail`, so that a
failing command fails its block. A `console` block runs its `$ ` lines. Each
file gets a fresh bash in a session of its own; what a file's blocks leave
running is ended when the file is done.

A block's needs are said by an HTML comment on the line before its fence:

    <!-- example: needs sluiced -->
        before this block, start sluiced with its REST API on the default
        socket, /run/sluice/sluiced.sock, on a net_null port
        (pmd-config/null.json) with examples/config.json; it runs until the
        file is done. Earlier blocks of the file run without it.
    <!-- example: not run: REASON -->
        the block is not run; the reason is required (a real NIC, the test
        command itself, a long run, ...).

A block without a marker runs. Every fence must name a language: output
samples and usage synopses are `text`, so that a shell example cannot hide
in an unmarked fence.

The environment the examples see: `sluicectl` on PATH (as `meson install`
puts it), and curl with `--fail-with-body` (a .curlrc in a private
CURL_HOME), so that a request sluiced refuses fails the block as a failing
command would.

    tests/docs/run_examples.py [--list] [FILE.md ...]   (default: every file)
"""
import argparse
import dataclasses
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
TOOLS = os.path.join(ROOT, "tests", "tools")
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)

import slharness  # noqa: E402

SHELL_LANGUAGES = {"sh", "bash", "shell"}
CONSOLE_LANGUAGE = "console"
API_SOCKET = "/run/sluice/sluiced.sock"
BLOCK_TIMEOUT_S = 240
FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([^\s`]*)")
MARKER = re.compile(r"^\s*<!--\s*example:\s*(.*?)\s*-->\s*$")
MARKER_ANYWHERE = re.compile(r"<!--\s*example:")


class MarkdownError(Exception):
    """A document whose fences or example markers are wrong."""


@dataclasses.dataclass
class Block:
    path: str          # relative to the repository root
    line: int          # the opening fence's line, 1-based
    language: str
    text: str
    needs_sluiced: bool = False
    not_run: str = ""  # the reason, when the block is not run

    @property
    def runs(self):
        return self.language in SHELL_LANGUAGES | {CONSOLE_LANGUAGE} and not self.not_run

    def where(self):
        return f"{self.path}:{self.line}"

    def script(self):
        """The text bash runs: the block itself, or a console block's commands."""
        if self.language != CONSOLE_LANGUAGE:
            return self.text
        out, continued = [], False
        for line in self.text.splitlines():
            if continued:
                out.append(line)
            elif line.startswith("$ "):
                out.append(line[2:])
            else:
                continue
            continued = line.endswith("\\")
        return "\n".join(out) + "\n"


def markdown_files(root=ROOT):
    """The repository's Markdown files, tracked or not (ignored ones left out)."""
    r = subprocess.run(["git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard",
                        "*.md"], capture_output=True, text=True)
    if r.returncode == 0:
        names = set(r.stdout.split())
    else:
        names = set()
        for d, dirs, files in os.walk(root):
            dirs[:] = [x for x in dirs if not x.startswith((".", "build"))]
            names.update(os.path.relpath(os.path.join(d, f), root)
                         for f in files if f.endswith(".md"))
    return sorted(n for n in names if os.path.exists(os.path.join(root, n)))


def parse_marker(text, where):
    """(needs_sluiced, not_run reason) of a marker's text."""
    if text == "needs sluiced":
        return True, ""
    m = re.fullmatch(r"not run:\s*(.*)", text)
    if m:
        if not m.group(1):
            raise MarkdownError(f"{where}: 'not run' needs a reason")
        return False, m.group(1)
    raise MarkdownError(f"{where}: unknown example marker '{text}' "
                        "(known: 'needs sluiced', 'not run: REASON')")


def extract(path, root=ROOT):
    """The fenced blocks of one Markdown file, in order; MarkdownError when a
    fence names no language, a fence is not closed, or a marker is wrong or
    stands before no shell block."""
    with open(os.path.join(root, path), encoding="utf-8") as f:
        lines = f.read().splitlines()
    blocks, i = [], 0
    pending = None  # (line number, marker text) waiting for its block
    while i < len(lines):
        line = lines[i]
        m = MARKER.match(line)
        if m:
            if pending:
                raise MarkdownError(f"{path}:{pending[0]}: example marker before no shell block")
            pending = (i + 1, m.group(1))
            i += 1
            continue
        if MARKER_ANYWHERE.search(line):
            raise MarkdownError(f"{path}:{i + 1}: an example marker must stand alone on its line")
        f = FENCE.match(line)
        if not f:
            if line.strip() and pending:
                raise MarkdownError(f"{path}:{pending[0]}: example marker before no shell block")
            i += 1
            continue
        indent, fence, language = f.groups()
        if not language:
            raise MarkdownError(f"{path}:{i + 1}: a fence without a language (shell examples are "
                                "sh, output samples and synopses text)")
        start, body = i + 1, []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence[0] * len(fence)):
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        if i == len(lines):
            raise MarkdownError(f"{path}:{start}: fence not closed")
        i += 1
        block = Block(path, start, language, "\n".join(body) + "\n")
        if pending:
            if language not in SHELL_LANGUAGES | {CONSOLE_LANGUAGE}:
                raise MarkdownError(f"{path}:{pending[0]}: example marker before a {language} "
                                    "block (markers are for shell examples)")
            block.needs_sluiced, block.not_run = parse_marker(pending[1], f"{path}:{pending[0]}")
            pending = None
        blocks.append(block)
    if pending:
        raise MarkdownError(f"{path}:{pending[0]}: example marker before no shell block")
    return blocks


def shell_blocks(path, root=ROOT):
    return [b for b in extract(path, root) if b.language in SHELL_LANGUAGES | {CONSOLE_LANGUAGE}]


# --------------------------------------------------------------------------
# sluiced for the blocks that need it
# --------------------------------------------------------------------------

def socket_answers(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


class Sluiced:
    """sluiced as the examples expect it: the REST API on the default socket,
    examples/config.json, a net_null port (pmd-config/null.json). As root it
    runs in a network namespace of its own (sldocs-PID), so the example
    configuration's health probes send nothing onto the host's networks; the
    API socket is a file, reachable from any namespace."""

    def __init__(self, timeout=30.0):
        if socket_answers(API_SOCKET):
            raise RuntimeError(f"another sluiced already serves {API_SOCKET}; stop it first")
        with open(os.path.join(ROOT, "pmd-config", "null.json")) as f:
            profile = json.load(f)
        self.netns, self.final_output = None, None
        if os.geteuid() == 0:
            name = f"sldocs-{os.getpid()}"
            subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
            self.netns = name
        try:
            self.daemon = slharness.Daemon(profile, os.path.join(ROOT, "examples", "config.json"),
                                           extra_args=["--api-socket", API_SOCKET],
                                           netns=self.netns)
        except OSError:
            self._delete_netns()
            raise
        deadline = time.time() + timeout
        while not socket_answers(API_SOCKET):
            if not self.alive():
                self.stop()
                raise RuntimeError(f"sluiced exited ({self.daemon.proc.returncode}):\n"
                                   + self.output())
            if time.time() > deadline:
                self.stop()
                raise RuntimeError(f"sluiced did not serve {API_SOCKET} in {timeout} s:\n"
                                   + self.output())
            time.sleep(0.1)

    def _delete_netns(self):
        if self.netns:
            subprocess.run(["ip", "netns", "del", self.netns], capture_output=True)
            self.netns = None

    def output(self):
        """sluiced's output so far (all of it once stopped)."""
        return self.daemon.output() if self.final_output is None else self.final_output

    def alive(self):
        return self.daemon.proc.poll() is None

    def stop(self):
        """SIGTERM and wait (slharness.Daemon.stop); the exit status."""
        rc = self.daemon.stop()
        self.final_output = self.daemon.output()
        self._delete_netns()
        if not os.environ.get("SLUICE_KEEP_TMP"):
            shutil.rmtree(self.daemon.dir, ignore_errors=True)
        return rc


# --------------------------------------------------------------------------
# Running one file's blocks
# --------------------------------------------------------------------------

@dataclasses.dataclass
class BlockResult:
    block: Block
    status: str        # passed, failed, not run, not reached
    output: str = ""
    detail: str = ""   # why it failed


def example_env(workdir):
    """The environment of a file's examples: this one, plus sluicectl on PATH
    and curl failing on HTTP errors."""
    bindir = os.path.join(workdir, "bin")
    os.makedirs(bindir)
    os.symlink(os.path.join(ROOT, "control", "sluicectl"), os.path.join(bindir, "sluicectl"))
    curl_home = os.path.join(workdir, "curl")
    os.makedirs(curl_home)
    with open(os.path.join(curl_home, ".curlrc"), "w") as f:
        f.write("fail-with-body\n")
    env = dict(os.environ)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env["CURL_HOME"] = curl_home
    return env


def end_session(proc, grace_s=3.0):
    """End what the file's bash and its blocks left running (its process
    group): SIGTERM, then SIGKILL to what is left after grace_s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.time() + grace_s
        while time.time() < deadline:
            proc.poll()
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


def run_file(path, timeout=BLOCK_TIMEOUT_S, echo=None):
    """Run the shell blocks of one Markdown file; a BlockResult for each.
    echo, when given, is called with each result as it is known."""
    blocks = shell_blocks(path)
    results = []
    work = tempfile.mkdtemp(prefix="sluice-docs-")
    shell = subprocess.Popen(["bash", "--noprofile", "--norc", "-s"], cwd=ROOT, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=example_env(work),
                             start_new_session=True)
    shell.stdin.write("set -euo pipefail\n"
                      "trap 'echo \"example: line $LINENO: exit $?: $BASH_COMMAND\" >&2' ERR\n")
    shell.stdin.flush()
    daemon, broken = None, None

    def note(result):
        results.append(result)
        if echo:
            echo(result)

    try:
        for n, block in enumerate(blocks):
            if broken:
                note(BlockResult(block, "not reached"))
                continue
            if not block.runs:
                note(BlockResult(block, "not run"))
                continue
            if block.needs_sluiced and daemon is None:
                try:
                    daemon = Sluiced()
                except RuntimeError as e:
                    broken = BlockResult(block, "failed", detail=f"starting sluiced: {e}")
                    note(broken)
                    continue
            script = os.path.join(work, f"block{n}.sh")
            out, done = script + ".out", script + ".done"
            with open(script, "w") as f:
                f.write(block.script())
            shell.stdin.write(f"source {shlex.quote(script)} </dev/null >{shlex.quote(out)} 2>&1\n"
                              f": >{shlex.quote(done)}\n")
            shell.stdin.flush()
            deadline = time.time() + timeout
            detail = ""
            while not os.path.exists(done):
                if shell.poll() is not None:
                    detail = f"exit status {shell.returncode}"
                    break
                if time.time() > deadline:
                    detail = f"still running after {timeout} s"
                    break
                time.sleep(0.05)
            if not detail and daemon is not None and not daemon.alive():
                detail = f"sluiced exited ({daemon.daemon.proc.returncode}):\n{daemon.output()}"
            output = ""
            if os.path.exists(out):
                with open(out, errors="replace") as f:
                    output = f.read()
            if detail:
                broken = BlockResult(block, "failed", output, detail)
                note(broken)
            else:
                note(BlockResult(block, "passed", output))
    finally:
        try:
            shell.stdin.close()
        except OSError:
            pass
        try:
            shell.wait(10)
        except subprocess.TimeoutExpired:
            pass
        end_session(shell)
        if daemon is not None:
            rc = daemon.stop()
            if rc != 0 and not broken and results:
                last = results[-1]
                last.status, last.detail = "failed", (f"sluiced exited with {rc} when stopped:\n"
                                                      + daemon.output())
        if not os.environ.get("SLUICE_KEEP_TMP"):
            shutil.rmtree(work, ignore_errors=True)
    return results


def describe_failure(r, tail=6000):
    """A failed block: where, what, why, and its output's tail."""
    b = r.block
    lines = [f"{b.where()}: example ({b.language}) failed: {r.detail}"]
    m = re.findall(r"^example: line (\d+): exit (\d+): (.*)$", r.output, re.M)
    if m:
        line, status, cmd = m[-1]
        lines.append(f"{b.path}:{b.line + int(line)}: exit {status}: {cmd}")
    lines.append("--- the block")
    lines.append(b.text.rstrip("\n"))
    lines.append("--- its output" + (" (the end)" if len(r.output) > tail else ""))
    lines.append(r.output[-tail:].rstrip("\n"))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", help="Markdown files, relative to the repository root")
    ap.add_argument("--list", action="store_true", help="list the examples and whether each runs")
    args = ap.parse_args()
    files = args.files or markdown_files()
    failed = 0
    for path in files:
        try:
            blocks = shell_blocks(path)
        except MarkdownError as e:
            print(f"error: {e}")
            failed += 1
            continue
        if args.list:
            for b in blocks:
                what = f"not run: {b.not_run}" if b.not_run else (
                    "runs, with sluiced" if b.needs_sluiced else "runs")
                print(f"{b.where()}: {what}")
            continue
        if not any(b.runs for b in blocks):
            continue

        def echo(r):
            print(f"{r.block.where()}: {r.status}", flush=True)
            if r.status == "failed":
                print(describe_failure(r), flush=True)

        results = run_file(path, echo=echo)
        failed += sum(r.status == "failed" for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
