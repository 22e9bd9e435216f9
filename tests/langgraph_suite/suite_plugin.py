"""pytest plugin for one run over the prepared tree; copied there as ``_lgsuite_plugin``.

* Marks the tests that :mod:`rewrite` found not applicable as skipped, with a reason
  starting ``n/a:`` (read from ``LGSUITE_NA``, a JSON file of
  ``{"path::test": reason}``).
* Runs ``async def`` tests without a marker under anyio, as the prebuilt package's
  ``asyncio_mode = "auto"`` does.
* With ``LGSUITE_ONLY`` (a file of node ids), deselects every other test.
* Appends one JSON line per finished test to ``LGSUITE_OUT``, as it goes, so a run
  killed at the overall timeout still leaves what it did. A last line
  ``{"done": ...}`` marks a complete run.
* Leaves with ``os._exit`` once pytest is done: a thread that a hung test left behind
  cannot keep the process alive.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import sys
from typing import Any

import pytest

_OUT = os.environ.get("LGSUITE_OUT", "")
_NA: dict[str, str] = {}
if os.environ.get("LGSUITE_NA"):
    with open(os.environ["LGSUITE_NA"], encoding="utf-8") as _file:
        _NA = json.load(_file)
_ONLY: set[str] | None = None
if os.environ.get("LGSUITE_ONLY"):
    with open(os.environ["LGSUITE_ONLY"], encoding="utf-8") as _file:
        _ONLY = {line.strip() for line in _file if line.strip()}

_MISSING = re.compile(r"missing name (langgraph[\w.]*)")
_phases: dict[str, list[pytest.TestReport]] = {}
_exitstatus = -1


def _emit(record: dict[str, Any]) -> None:
    if _OUT:
        with open(_OUT, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")


def _test_key(item: pytest.Item) -> str:
    path, _, rest = item.nodeid.partition("::")
    return f"{path}::{rest.partition('[')[0]}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _ONLY is not None:
        keep = [item for item in items if item.nodeid in _ONLY]
        config.hook.pytest_deselected(items=[i for i in items if i.nodeid not in _ONLY])
        items[:] = keep
    for item in items:
        reason = _NA.get(_test_key(item))
        if reason:
            item.add_marker(pytest.mark.skip(reason=f"n/a: {reason}"))
        func = getattr(item, "obj", None)
        if inspect.iscoroutinefunction(func) and item.get_closest_marker("anyio") is None:
            item.add_marker(pytest.mark.anyio)


def _message(report: pytest.TestReport) -> tuple[str, str | None]:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = report.longreprtext
    message = crash.message if crash is not None else text.strip().splitlines()[-1:] or [""]
    if isinstance(message, list):
        message = message[0]
    missing = _MISSING.search(text)
    return message[:600], missing.group(1) if missing else None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    phases = _phases.setdefault(report.nodeid, [])
    phases.append(report)
    if report.when != "teardown":
        return
    del _phases[report.nodeid]
    record: dict[str, Any] = {"id": report.nodeid, "outcome": "passed"}
    record["duration"] = round(sum(r.duration for r in phases), 3)
    for phase in phases:
        if phase.failed:
            message, missing = _message(phase)
            record.update(outcome="failed", when=phase.when, message=message, missing=missing)
            break
        if phase.skipped:
            reason = phase.longrepr[2] if isinstance(phase.longrepr, tuple) else str(phase.longrepr)
            reason = reason.removeprefix("Skipped: ")
            na = reason.startswith("n/a: ")
            record.update(outcome="na" if na else "skipped", message=reason.removeprefix("n/a: "))
            break
    _emit(record)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _emit({"collect_error": report.nodeid, "message": report.longreprtext[-2000:]})


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _exitstatus
    _exitstatus = int(exitstatus)
    _emit({"done": True, "exitstatus": _exitstatus})


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0 if _exitstatus in (0, 1) else 3)
