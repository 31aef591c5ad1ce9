# SPDX-License-Identifier: BSD-3-Clause
"""The docs examples tier: every shell example of the repository's Markdown
files that needs no NIC runs as written (run_examples.py says how), so the
README and docs/ cannot drift from what sluice does.

    SLUICE_BUILD=build /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/docs
"""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import run_examples  # noqa: E402
import slharness  # noqa: E402  (run_examples puts tests/tools on the path)

FILES = run_examples.markdown_files()


def files_with_examples():
    """The files with at least one example that runs; a file whose markers
    are wrong is kept, so that its test reports the error."""
    out = []
    for path in FILES:
        try:
            blocks = run_examples.shell_blocks(path)
        except run_examples.MarkdownError:
            out.append(path)
            continue
        if any(b.runs for b in blocks):
            out.append(path)
    return out


def markdown_blocks(path):
    """(the file's shell blocks, None), or (None, what is wrong with its Markdown)."""
    try:
        return run_examples.shell_blocks(path), None
    except run_examples.MarkdownError as e:
        return None, str(e)


@pytest.fixture(scope="session", autouse=True)
def sluiced_binary():
    """Build sluiced when the build directory lacks it; fail (not skip) when that fails."""
    err = slharness.ensure_built()
    if err:
        pytest.fail(err, pytrace=False)


@pytest.mark.parametrize("path", FILES)
def test_markers(path):
    """Every fence names a language, every marker is known and stands before
    a shell block, and every block that is not run says why."""
    blocks, error = markdown_blocks(path)
    if error:
        pytest.fail(error, pytrace=False)
    for b in blocks:
        assert b.runs or b.not_run, f"{b.where()}: neither run nor marked 'not run: REASON'"


def test_readme_examples_run():
    """The README's first command and its walkthroughs are among what runs."""
    blocks = run_examples.shell_blocks("README.md")
    assert any(b.runs and "scripts/demo.sh" in b.text for b in blocks)
    assert any(b.runs and b.needs_sluiced and "curl" in b.text for b in blocks)


@pytest.mark.parametrize("path", files_with_examples())
def test_examples(path):
    """The file's examples, in order, in one shell; fails at the first block that fails."""
    blocks, error = markdown_blocks(path)
    if error:
        pytest.fail(error, pytrace=False)
    api_dir = os.path.dirname(run_examples.API_SOCKET)
    if any(b.runs and b.needs_sluiced for b in blocks) and not os.access(
            api_dir if os.path.isdir(api_dir) else os.path.dirname(api_dir), os.W_OK):
        pytest.skip(f"its examples use sluiced's default socket in {api_dir}, "
                    "which this user cannot create (run as root)")
    results = run_examples.run_file(path)
    failed = [r for r in results if r.status == "failed"]
    if failed:
        pytest.fail("\n\n".join(run_examples.describe_failure(r) for r in failed), pytrace=False)
    assert any(r.status == "passed" for r in results)
