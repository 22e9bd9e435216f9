"""Package metadata: what an index page and pip show, and what the sdist leaves out."""

from __future__ import annotations

import fnmatch
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
META = PROJECT["project"]


def test_index_metadata_is_there() -> None:
    assert META["authors"] and META["keywords"]
    classifiers = META["classifiers"]
    assert "Typing :: Typed" in classifiers
    assert "License :: OSI Approved :: MIT License" in classifiers
    low = META["requires-python"].removeprefix(">=3.")
    assert f"Programming Language :: Python :: 3.{low}" in classifiers
    assert {"Homepage", "Source", "Issues"} <= set(META["urls"])
    assert all(url.startswith("https://") for url in META["urls"].values())


def test_the_all_extra_holds_every_feature_extra() -> None:
    extras = META["optional-dependencies"]
    (spec,) = extras["all"]
    named = set(spec.split("[", 1)[1].rstrip("]").split(","))
    assert named == set(extras) - {"all", "test", "dev"}


def _matches(path: str, pattern: str) -> bool:
    """Does a gitignore-style pattern (as hatch reads sdist excludes) match a
    path relative to the project root? (Just the forms used here.)"""
    if pattern.startswith("/"):  # anchored at the root
        head, _, tail = pattern[1:].partition("/")
        first, _, rest = path.partition("/")
        if not fnmatch.fnmatchcase(first, head):
            return False
        return not tail or not rest or fnmatch.fnmatchcase(rest, tail) or tail == ""
    return any(fnmatch.fnmatchcase(part, pattern.rstrip("/")) for part in path.split("/"))


@pytest.mark.parametrize("demo_file", ["seed.json", "seed.png", "run.png", "threads.db"])
def test_files_the_readme_demos_write_are_ignored_and_left_out_of_the_sdist(
    demo_file: str,
) -> None:
    ignored = [
        line.strip()
        for line in (ROOT / ".gitignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    excluded = PROJECT["tool"]["hatch"]["build"]["targets"]["sdist"]["exclude"]
    for patterns in (ignored, excluded):
        assert any(_matches(demo_file, p) for p in patterns)
        # the README's own picture and the tracked sources stay
        for kept in ("docs/seed_timeline.png", "src/graphpool/__init__.py", "tests/conftest.py"):
            assert not any(_matches(kept, p) for p in patterns), kept
