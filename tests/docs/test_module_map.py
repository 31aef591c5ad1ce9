# SPDX-License-Identifier: BSD-3-Clause
"""docs/architecture.md opens with a map of the modules; these tests keep it
true of the tree: every C module of dataplane/core/, common/, control/ and
dataplane/ is named in the map, the map names nothing that is not there, and
the one rule of layering it states holds (no dataplane file but sluiced.c
includes a control/ header; core includes nothing outside core; common only
core).

    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/docs/test_module_map.py
"""
import glob
import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FOLDERS = ["dataplane/core", "common", "control", "dataplane"]


def module_map():
    """The text of the 'Module map' section."""
    with open(os.path.join(ROOT, "docs", "architecture.md")) as f:
        text = f.read()
    start = text.index("## Module map")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def modules(folder):
    """Module names (file names without .c/.h) of a folder, not recursive."""
    names = set()
    for path in glob.glob(os.path.join(ROOT, folder, "*.[ch]")):
        names.add(os.path.splitext(os.path.basename(path))[0])
    return names


def named_in_map(text):
    """Every sl_* / sluiced name in backquotes in the map (a name may carry
    .c or .h, or be a sibling written as `_lb` after its stem)."""
    names = set()
    for cell in re.findall(r"`([^`]+)`", text):
        m = re.fullmatch(r"(sl_\w+|sluiced)(\.[ch])?", cell)
        if m:
            names.add(m.group(1))
    for stem, suffixes in re.findall(r"`(sl_\w+)` \(\+ ([^)]*)\)", text):
        for suffix in re.findall(r"`_(\w+)`", suffixes):
            names.add(f"{stem}_{suffix}")
    return names


def test_every_module_is_in_the_map():
    text = module_map()
    named = named_in_map(text)
    missing = sorted(f"{folder}/{m}" for folder in FOLDERS for m in modules(folder)
                     if m not in named)
    assert not missing, f"modules missing from docs/architecture.md's map: {missing}"


def test_the_map_names_only_modules_that_exist():
    existing = set().union(*(modules(folder) for folder in FOLDERS))
    stale = sorted(n for n in named_in_map(module_map()) if n not in existing)
    assert not stale, f"the map names modules that are not in the tree: {stale}"


def includes(path):
    with open(path) as f:
        return re.findall(r'^#include "([^"]+)"', f.read(), re.M)


def test_layering():
    control = {os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "control", "*.h"))}
    common = {os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "common", "*.h"))}
    core = {os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "dataplane/core", "*.h"))}
    wrong = []
    for path in glob.glob(os.path.join(ROOT, "dataplane", "*.[ch]")):
        if os.path.basename(path) != "sluiced.c":
            wrong += [f"{path}: {h}" for h in includes(path) if h in control]
    for path in glob.glob(os.path.join(ROOT, "dataplane/core", "*.[ch]")):
        wrong += [f"{path}: {h}" for h in includes(path) if h not in core]
    for path in glob.glob(os.path.join(ROOT, "common", "*.[ch]")):
        wrong += [f"{path}: {h}" for h in includes(path) if h not in core | common]
    assert not wrong, "includes against the layering of docs/architecture.md:\n" + "\n".join(
        os.path.relpath(w, ROOT) for w in wrong)
