"""Every Python block of the README runs as written, so the docs cannot rot.

A block runs in a fresh namespace, unless its first line says it continues an
earlier section (``# continues "Section": ...``): then it runs after the block
it names, in that block's namespace. An HTML comment just above a block may say
``<!-- readme-test: needs MODULE -->`` (skipped, with the reason shown, when the
module is missing) or ``<!-- readme-test: skip, REASON -->``.

All blocks run in one fresh interpreter, in a scratch folder (the files they
write land there), so their global effects (logging handlers, default pools)
stay out of this test process.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

_FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
_MARK = re.compile(r"<!-- readme-test: (.*?) -->\s*$")
_CONTINUES = re.compile(r'^# continues "([^"]+)"')


def blocks(text: str) -> list[dict[str, Any]]:
    """The README's Python blocks: section, line, code, marker, section continued."""
    found = []
    for match in _FENCE.finditer(text):
        before = text[: match.start()]
        line = before.count("\n") + 1
        prose = re.sub(r"^```.*?^```", "", before, flags=re.S | re.M)  # not code comments
        headings = re.findall(r"^#+ (.+)$", prose, re.M)
        previous = before.rstrip("\n").rsplit("\n", 1)[-1]
        mark = _MARK.match(previous)
        code = match.group(1)
        continues = _CONTINUES.match(code)
        found.append(
            {
                "id": f"line {line}",
                "section": headings[-1] if headings else "",
                "code": code,
                "mark": mark.group(1) if mark else "",
                "continues": continues.group(1) if continues else None,
            }
        )
    return found


RUNNER = r"""
import importlib.util, json, sys, traceback

def installed(name):
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:  # its parent package is missing
        return False

blocks, out = json.load(open(sys.argv[1])), sys.argv[2]
spaces, results = {}, {}
for block in blocks:
    mark = block["mark"]
    if mark.startswith("skip"):
        results[block["id"]] = ["skip", mark.partition(",")[2].strip() or mark]
        continue
    if mark.startswith("needs "):
        missing = [m for m in mark[6:].split() if not installed(m)]
        if missing:
            results[block["id"]] = ["skip", f"needs {', '.join(missing)}, not installed"]
            continue
    if block["continues"]:
        if block["continues"] not in spaces:
            why = f"continues {block['continues']!r}, which ran no block"
            results[block["id"]] = ["error", why]
            continue
        space = spaces[block["continues"]]
    else:
        space = {"__name__": "readme_block"}
    try:
        exec(compile(block["code"], f"README.md {block['id']}", "exec"), space)
    except BaseException:
        results[block["id"]] = ["error", traceback.format_exc()]
    else:
        results[block["id"]] = ["ok", ""]
        spaces.setdefault(block["section"], space)
    json.dump(results, open(out, "w"))
json.dump(results, open(out, "w"))
"""

BLOCKS = blocks(README.read_text())


def run_blocks(found: list[dict[str, Any]], folder: Path) -> dict[str, list[str]]:
    """Run ``found`` in a fresh interpreter in ``folder``: ``{id: [status, detail]}``."""
    (folder / "blocks.json").write_text(json.dumps(found))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHPOOL_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), *sys.path])
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, "blocks.json", "results.json"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    results = folder / "results.json"
    assert results.exists(), done.stderr[-3000:]
    # a logging format that does not fit a record is printed, not raised
    assert "--- Logging error ---" not in done.stderr, done.stderr[-3000:]
    return json.loads(results.read_text())


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, list[str]]:
    return run_blocks(BLOCKS, tmp_path_factory.mktemp("readme"))


FAKE = """# Doc

## One

```python
x = 1
```

## Two

```python
print(x)
```

```python
# continues "One": its `x`
assert x == 1
```

<!-- readme-test: needs no_such_module_here -->
```python
import no_such_module_here
```
"""


def test_a_fragment_fails_and_a_continuation_or_a_marked_block_does_not(tmp_path) -> None:
    found = blocks(FAKE)
    assert [b["continues"] for b in found] == [None, None, "One", None]
    got = run_blocks(found, tmp_path)
    assert [got[b["id"]][0] for b in found] == ["ok", "error", "ok", "skip"]
    assert "NameError: name 'x' is not defined" in got[found[1]["id"]][1]
    assert "needs no_such_module_here" in got[found[3]["id"]][1]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("block", BLOCKS, ids=[b["id"] for b in BLOCKS])
def test_readme_block_runs(block: dict[str, Any], outcomes: dict[str, list[str]]) -> None:
    status, detail = outcomes.get(block["id"], ["error", "the runner never reached it"])
    if status == "skip":
        pytest.skip(f"README {block['id']} ({block['section']}): {detail}")
    assert status == "ok", f"README {block['id']} ({block['section']}) failed:\n{detail}"


def test_the_readme_has_python_blocks_and_every_continuation_names_a_section() -> None:
    sections = {b["section"] for b in BLOCKS if not b["continues"]}
    assert len(BLOCKS) >= 8
    for block in BLOCKS:
        assert block["continues"] in (None, *sections), block["id"]


def test_images_are_absolute_links_to_files_in_the_repository() -> None:
    for target in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README.read_text()):
        assert target.startswith("https://"), target
        path = target.split("/main/", 1)[1]
        assert (ROOT / path).is_file(), target


def test_the_environment_table_lists_every_variable() -> None:
    from graphpool._env import VARIABLES

    text = README.read_text()
    for name in VARIABLES:
        assert f"| `{name}` |" in text, name
