"""LangGraph's own tests, run against graphpool: fetch, rewrite, run twice, compare.

What it does
------------
1. **Fetch.** ``pip download --no-deps --no-binary :all:`` the published source
   distributions of the pinned ``langgraph`` and ``langgraph-prebuilt`` releases
   (:data:`PINS`, which must equal the installed ones) into ``.cache/langgraph-sdist/``.
   ``.cache/`` ignores itself (it holds a ``.gitignore`` of ``*``). Nothing of
   LangGraph's is committed here.
2. **Prepare.** Unpack the chosen test files (:data:`DISTS`), their helper modules and
   syrupy snapshots into ``.cache/langgraph-suite/tree-<hash>/``, and rewrite every
   module (:mod:`.rewrite`). LangGraph's conftest files are replaced by
   :mod:`.suite_conftest` (LangGraph's fixture names and ids, without the PostgreSQL
   and Redis parametrisations, as LangGraph's own ``NO_DOCKER`` mode has them). The
   prebuilt package's ``tests`` becomes ``tests_prebuilt`` so both packages live in
   one pytest session.
3. **Run twice** over the same rewritten files: the *reference* run, whose imports
   resolve to LangGraph, and the *graphpool* run, side by side. Each is split by
   file into :data:`SHARDS` pytest subprocesses of about equal length (plain
   subprocesses, not pytest-xdist), each in its own process group, with a per-test
   timeout; a group still running at the deadline is killed. A complete reference
   run is cached with the tree (see :func:`run_suite`).
4. **Compare.** Each test gets one verdict (:func:`.report.verdicts`).

The rules
---------
* A LangGraph import is **public** when its module and name are in
  :data:`.rewrite.PUBLIC_NAMES` (``langgraph.graph``, ``.types``, ``.errors``,
  ``.func``, ``.runtime``, ``.config``, ``.store.*``, ``.cache.*``, ``.prebuilt*``,
  the public names of ``.constants``, the savers of ``.checkpoint.*`` ...), except
  names with a leading underscore. Everything else is **internal**: ``Pregel``,
  ``NodeBuilder``, ``langgraph.pregel.*``, ``langgraph.channels.*``,
  ``langgraph._internal.*``, checkpoint internals (``Checkpoint``,
  ``CheckpointTuple``, ``ChannelVersions``, serializers) and internal constants.
* Public imports are rewritten **per name** to ask the shim (:mod:`.shim`), which
  gives graphpool's object of that name, or a placeholder that fails whatever test
  uses it. A public name graphpool lacks therefore makes its tests **fail**. Every
  module-level statement is guarded, so a class or helper built on a missing name
  fails the tests that use it, not the file.
* A test is **not applicable** when its own code, or a module-level helper or a
  helper-module name it uses (followed transitively), names an internal import or
  spells out an internal key as a string (``"__pregel_runtime"``, ``"__pregel_pull"``).
  This is decided per test function from the syntax tree, the same for both runs,
  and such tests are not run at all. Parameter and local-variable annotations do not
  count; ``class State(TypedDict)`` field annotations do.
* A test that does not pass on LangGraph itself is a **reference failure** and is
  counted for neither side. LangGraph's own skips are **skipped**.
* Every other test **passes** or **fails** on graphpool. A test the reference run
  ran but the graphpool run never reported (not collected, killed) fails.
* pass fraction = passed / (passed + failed).
* ``ratchet.txt`` lists the tests that pass on graphpool. ``test_langgraph_suite``
  fails when one of them fails on graphpool while it passes on LangGraph. Refresh
  it with ``python -m tests.langgraph_suite --update-ratchet`` from the repository
  root.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import rewrite

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CACHE = Path(os.environ.get("GRAPHPOOL_SUITE_CACHE", REPO / ".cache"))
RATCHET = HERE / "ratchet.txt"

PINS = {"langgraph": "1.2.24", "langgraph-prebuilt": "1.1.3"}


@dataclass(frozen=True)
class Dist:
    """One source distribution: where its tests go in the tree, and which ones run."""

    name: str
    folder: str  # the tree's folder for it (its node ids start with this)
    package: str  # its test package, renamed when two would clash
    files: tuple[str, ...]


DISTS = (
    Dist(
        "langgraph",
        "langgraph",
        "tests",
        (
            "test_pregel.py",
            "test_pregel_async.py",
            "test_state.py",
            "test_messages_state.py",
            "test_interruption.py",
            "test_retry.py",
            "test_time_travel.py",
            "test_time_travel_async.py",
            "test_runtime.py",
            "test_large_cases.py",
            "test_large_cases_async.py",
            "test_subgraph_persistence.py",
            "test_subgraph_persistence_async.py",
            "test_parent_command.py",
            "test_parent_command_async.py",
            "test_interrupt_state.py",
            "test_pydantic.py",
            "test_managed_values.py",
            "test_type_checking.py",
            "test_stream_namespaces.py",
        ),
    ),
    Dist(
        "langgraph-prebuilt",
        "langgraph_prebuilt",
        "tests_prebuilt",
        ("test_tool_node.py", "test_injected_state_not_required.py"),
    ),
)

PER_TEST_TIMEOUT = 20
DEADLINE = float(os.environ.get("GRAPHPOOL_SUITE_DEADLINE", "300"))


class SuiteError(Exception):
    """The harness could not prepare or run the suite (not a graphpool test failure)."""


def _cache_dir(*parts: str) -> Path:
    path = CACHE.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    ignore = CACHE / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# fetched and generated files of tests/langgraph_suite\n*\n")
    return path


def check_pins() -> None:
    for dist, pinned in PINS.items():
        installed = importlib.metadata.version(dist)
        if installed != pinned:
            raise SuiteError(
                f"{dist} {installed} is installed but the suite and its ratchet are for "
                f"{pinned}: install {dist}=={pinned}, or move PINS in {__file__} and "
                "refresh the ratchet"
            )


def fetch(dist: str, version: str) -> Path:
    """The sdist of ``dist==version``, downloaded once into the cache."""
    folder = _cache_dir("langgraph-sdist")
    stem = f"{dist.replace('-', '_')}-{version}"
    for candidate in (folder / f"{stem}.tar.gz", folder / f"{dist}-{version}.tar.gz"):
        if candidate.exists() and tarfile.is_tarfile(candidate):
            return candidate
        candidate.unlink(missing_ok=True)  # a download cut short
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-binary",
        ":all:",
        f"{dist}=={version}",
        "-d",
        str(folder),
        "-q",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    for candidate in (folder / f"{stem}.tar.gz", folder / f"{dist}-{version}.tar.gz"):
        if candidate.exists():
            return candidate
    raise SuiteError(f"pip download of {dist}=={version} failed:\n{done.stdout}{done.stderr}")


def _tree_key() -> str:
    digest = hashlib.sha256(json.dumps([PINS, [d.files for d in DISTS]]).encode())
    for name in ("rewrite.py", "shim.py", "suite_conftest.py", "suite_plugin.py"):
        digest.update((HERE / name).read_bytes())
    return digest.hexdigest()[:12]


def _members(archive: tarfile.TarFile) -> dict[str, tarfile.TarInfo]:
    """The archive's ``tests/`` files, by their path inside ``tests/``."""
    found = {}
    for member in archive.getmembers():
        rest = member.name.partition("/")[2]
        if member.isfile() and rest.startswith("tests/"):
            found[rest.removeprefix("tests/")] = member
    return found


def _prepare_dist(
    dist: Dist, archive_path: Path, tree: Path, na: dict[str, str], feats: dict[str, list[str]]
) -> None:
    target = tree / dist.folder / dist.package
    target.mkdir(parents=True)
    renames = {"tests": dist.package} if dist.package != "tests" else {}
    with tarfile.open(archive_path) as archive:
        members = _members(archive)
        if not any(name.startswith("test_") for name in members):
            raise SuiteError(f"{archive_path.name} has no tests/ folder")
        missing = [f for f in dist.files if f not in members]
        if missing:
            raise SuiteError(f"{archive_path.name} lacks {missing}")

        def text(name: str) -> str:
            handle = archive.extractfile(members[name])
            assert handle is not None
            return handle.read().decode("utf-8")

        helpers = sorted(
            n
            for n in members
            if n.endswith(".py")
            and "/" not in n
            and not n.startswith(("test_", "conftest"))
            and n != "__init__.py"
        )
        tainted: dict[str, dict[str, str]] = {}
        (target / "__init__.py").write_text("")
        for name in [*helpers, *dist.files]:
            module = f"{dist.package}.{name.removesuffix('.py')}"
            done = rewrite.rewrite(
                text(name), package=dist.package, renames=renames, helpers=tainted
            )
            tainted[module] = done.tainted
            (target / name).write_text(done.source, encoding="utf-8")
            for key, why in done.not_applicable.items():
                na[f"{dist.folder}/{dist.package}/{name}::{key}"] = why
            for key, found in done.features.items():
                feats[f"{dist.folder}/{dist.package}/{name}::{key}"] = found
            snapshot = f"__snapshots__/{name.removesuffix('.py')}.ambr"
            if name in dist.files and snapshot in members:
                (target / "__snapshots__").mkdir(exist_ok=True)
                (target / snapshot).write_text(text(snapshot), encoding="utf-8")


def prepare() -> Path:
    """The rewritten test tree, built once per harness version (see :func:`_tree_key`)."""
    check_pins()
    work = _cache_dir("langgraph-suite")
    tree = work / f"tree-{_tree_key()}"
    if (tree / "ready").exists():
        return tree
    building = work / f"building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir()
    na: dict[str, str] = {}
    feats: dict[str, list[str]] = {}
    for dist in DISTS:
        _prepare_dist(dist, fetch(dist.name, PINS[dist.name]), building, na, feats)
    shutil.copy(HERE / "shim.py", building / "_lgshim.py")
    shutil.copy(HERE / "suite_plugin.py", building / "_lgsuite_plugin.py")
    shutil.copy(HERE / "suite_conftest.py", building / "conftest.py")
    (building / "pytest.ini").write_text("[pytest]\nconsole_output_style = classic\n")
    (building / "na.json").write_text(json.dumps(na, indent=0, sort_keys=True))
    (building / "features.json").write_text(json.dumps(feats, indent=0, sort_keys=True))
    (building / "ready").write_text("")
    shutil.rmtree(tree, ignore_errors=True)
    building.rename(tree)
    for old in work.glob("tree-*"):
        if old != tree:
            shutil.rmtree(old, ignore_errors=True)
    return tree


# Seconds each file took in the reference run (2-core machine), to balance the shards.
WEIGHTS = {"test_pregel_async.py": 56, "test_pregel.py": 21, "test_tool_node.py": 6}
SHARDS = 2


def shards(files: list[str] | None = None) -> list[list[str]]:
    """The test files, in :data:`SHARDS` groups of about equal running time."""
    paths = files or [f"{d.folder}/{d.package}/{f}" for d in DISTS for f in d.files]
    groups: list[tuple[float, list[str]]] = [(0.0, []) for _ in range(SHARDS)]
    for path in sorted(paths, key=lambda p: -WEIGHTS.get(p.rpartition("/")[2], 2)):
        load, group = min(groups, key=lambda g: g[0])
        groups.remove((load, group))
        groups.append((load + WEIGHTS.get(path.rpartition("/")[2], 2), [*group, path]))
    return [group for _, group in groups if group]


@dataclass
class Run:
    """One pytest subprocess over some files of the tree, and what it reported."""

    target: str
    out: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    seconds: float = 0.0
    killed: bool = False
    done: bool = False


@dataclass
class Outcome:
    """What one target's runs reported, all shards together."""

    target: str
    results: dict[str, dict[str, object]] = field(default_factory=dict, repr=False)
    collect_errors: dict[str, str] = field(default_factory=dict, repr=False)
    complete: bool = True  # every shard finished; none was killed
    seconds: float = 0.0
    cached: bool = False
    logs: list[str] = field(default_factory=list)


def _graphpool_path() -> str:
    import graphpool

    return str(Path(graphpool.__file__).resolve().parents[1])


def start(tree: Path, target: str, paths: list[str], shard: int, only: Path | None) -> Run:
    results = _cache_dir("langgraph-suite", "results")
    run = Run(target, results / f"{target}-{shard}.jsonl", results / f"{target}-{shard}.log")
    run.out.unlink(missing_ok=True)
    env = dict(
        os.environ,
        LGSUITE_TARGET=target,
        LGSUITE_OUT=str(run.out),
        LGSUITE_NA=str(tree / "na.json"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.pop("LGSUITE_ONLY", None)
    if only is not None:
        env["LGSUITE_ONLY"] = str(only)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(tree), _graphpool_path(), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "_lgsuite_plugin",
        "-c",
        str(tree / "pytest.ini"),
        "--rootdir",
        str(tree),
        f"--timeout={PER_TEST_TIMEOUT}",
        "--snapshot-warn-unused",
        "--tb=no",
        "-rN",
        "--disable-warnings",
        *paths,
    ]
    with open(run.log, "wb") as log:
        run.proc = subprocess.Popen(
            command, cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    run.started = time.monotonic()
    return run


def _wait(runs: list[Run], deadline: float) -> None:
    """Wait for the runs; kill the process group of any still going at the deadline."""
    end = time.monotonic() + deadline
    going = list(runs)
    while going:
        for run in list(going):
            assert run.proc is not None
            if run.proc.poll() is not None:
                run.seconds = time.monotonic() - run.started
                going.remove(run)
            elif time.monotonic() > end:
                run.killed = True
                os.killpg(run.proc.pid, signal.SIGKILL)
                run.proc.wait()
                run.seconds = time.monotonic() - run.started
                going.remove(run)
        time.sleep(0.2)


def _collect(outcome: Outcome, run: Run) -> None:
    outcome.seconds = max(outcome.seconds, run.seconds)
    outcome.logs.append(str(run.log))
    done = False
    if run.out.exists():
        for line in run.out.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if "id" in record:
                outcome.results[str(record["id"])] = record
            elif "collect_error" in record:
                outcome.collect_errors[str(record["collect_error"])] = str(record["message"])
            elif record.get("done"):
                done = True
    outcome.complete = outcome.complete and done and not run.killed


def _reference_key(tree: Path) -> str:
    versions = [
        importlib.metadata.version(d)
        for d in (
            "langgraph",
            "langgraph-prebuilt",
            "langgraph-checkpoint",
            "langgraph-checkpoint-sqlite",
            "langchain-core",
            "pydantic",
        )
    ]
    return hashlib.sha256(json.dumps([tree.name, versions, sys.version]).encode()).hexdigest()[:12]


def run_suite(
    tree: Path,
    *,
    files: list[str] | None = None,
    only: Path | None = None,
    fresh_reference: bool = False,
    deadline: float = DEADLINE,
    targets: tuple[str, ...] = ("langgraph", "graphpool"),
) -> tuple[Outcome, Outcome]:
    """Run the reference and the graphpool targets side by side; (reference, graphpool).

    A complete reference run of the whole suite is kept in the cache, keyed by the
    tree and the installed LangGraph packages, and reused unless ``fresh_reference``.
    """
    cached = tree / f"reference-{_reference_key(tree)}.json"  # goes when the tree goes
    reuse = files is None and only is None and not fresh_reference and cached.exists()
    if reuse:
        targets = ("graphpool",)
    groups = shards(files)
    runs = [start(tree, t, group, i, only) for t in targets for i, group in enumerate(groups)]
    _wait(runs, deadline)
    outcomes = {t: Outcome(t) for t in ("langgraph", "graphpool")}
    for run in runs:
        _collect(outcomes[run.target], run)
    reference = outcomes["langgraph"]
    if reuse:
        data = json.loads(cached.read_text(encoding="utf-8"))
        reference.results, reference.collect_errors = data["results"], data["collect_errors"]
        reference.cached = True
    elif files is None and only is None and reference.complete:
        data = {"results": reference.results, "collect_errors": reference.collect_errors}
        cached.write_text(json.dumps(data), encoding="utf-8")
    return reference, outcomes["graphpool"]
