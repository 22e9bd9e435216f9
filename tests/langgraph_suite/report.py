"""Verdicts per test, failure classes, the ratchet file, and the printed summary."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from . import driver
from .driver import PINS, RATCHET, Outcome

UPDATE_COMMAND = "python -m tests.langgraph_suite --update-ratchet"


@dataclass
class Verdicts:
    """Each test's verdict (see the rules in :mod:`.driver`)."""

    passed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # id -> failure class
    messages: dict[str, str] = field(default_factory=dict)  # id -> graphpool's message
    not_applicable: dict[str, str] = field(default_factory=dict)  # id -> internal used
    skipped: dict[str, str] = field(default_factory=dict)  # LangGraph's own skips
    reference_failures: dict[str, str] = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        total = len(self.passed) + len(self.failed)
        return len(self.passed) / total if total else 0.0


# (pattern on graphpool's message, class); the first match wins. "{1}" is group 1.
RULES: list[tuple[str, str]] = [
    (
        r"must be a callable or a langchain Runnable, got <Compiled",
        "subgraph as a node (a compiled graph passed to add_node)",
    ),
    (r"compile\(checkpointer=bool\)", "compile(checkpointer=True/False) for subgraphs"),
    (r"compile\(checkpointer=", "compile(checkpointer=...) refuses the value"),
    (r"Unknown stream_mode '(\w+)'", "stream_mode='{1}' unsupported"),
    (
        r"add_node\(\) got options graphpool does not support yet: \['?([^\]']*)'?\]",
        "add_node({1}=...) unsupported",
    ),
    (r"Command\.PARENT", "Command.PARENT (subgraphs)"),
    (r"State schema <class '\w+'> declares no keys", "root state schema that is not a dict"),
    (r"add_node\((\w+)=", "add_node({1}=...) unsupported"),
    (r"Cannot read the type hints of state schema", "root state schema that is not a dict"),
    (r"as_node='__copy__'", "update_state(as_node='__copy__')"),
    (r"Cannot checkpoint the write", "a state value graphpool cannot checkpoint"),
    (r"required positional argument: 'runtime'", "node or route taking runtime"),
    (r"([\w.]+)\(\) got an unexpected keyword argument '(\w+)'", "unsupported argument"),
    (r"(?:'|type object ')(\w+)' (?:object )?has no attribute '(\w+)'", "no attribute"),
    (r"Regex pattern did not match", "error message differs (pytest.raises(match=...))"),
    (r"DID NOT RAISE", "no error where LangGraph raises one"),
    (r"not reported by the graphpool run", "not run on graphpool (collection error or killed)"),
    (r"Timeout", "timed out"),
]
_COMPILED = [(re.compile(pattern), label) for pattern, label in RULES]
# A bare assertion says nothing; these calls in the test hint at the cause.
FEATURE_ORDER = [
    "subgraphs=",
    "stream without stream_mode",
    "interrupt_before=",
    "interrupt_after=",
    "context=",
    "durability=",
    "debug=",
    "version=",
]


def classify(message: str, missing: str | None, features: list[str]) -> str:
    """The failure class of one graphpool failure."""
    if missing:
        return f"missing name {missing}"
    for pattern, label in _COMPILED:
        match = pattern.search(message)
        if not match:
            continue
        if label == "unsupported argument":
            return f"unsupported argument {match.group(1)}({match.group(2)}=...)"
        if label == "no attribute":
            return f"missing method {match.group(1)}.{match.group(2)}"
        return label.replace("{1}", match.group(1) if match.groups() else "")
    kind = message.split(":", 1)[0].rpartition(".")[2].strip() or "Error"
    if kind.startswith("assert") or kind == "AssertionError":
        for feature in FEATURE_ORDER:
            hits = [f for f in features if feature in f]
            if hits:
                return f"AssertionError, in a test that calls {hits[0]}"
        return "AssertionError (other)"
    return _normalised(message)


def _normalised(message: str) -> str:
    """An unmatched message, shortened into a class: its first line, without ids."""
    line = message.strip().splitlines()[0] if message.strip() else "(no message)"
    line = re.sub(r"\(graphpool: raised by node .*", "", line)
    line = re.sub(r"^(\w+\.)+(?=\w+(Error|Exception)\b)", "", line)
    line = re.sub(r"0x[0-9a-f]+|[0-9a-f]{8}-[0-9a-f-]{27}", "...", line)
    return line[:100]


def verdicts(reference: Outcome, graphpool: Outcome, features: dict[str, list[str]]) -> Verdicts:
    """Put each test under one verdict."""
    out = Verdicts()
    for test in sorted(set(reference.results) | set(graphpool.results)):
        ref = reference.results.get(test)
        ours = graphpool.results.get(test)
        if (ref or ours or {}).get("outcome") == "na":
            out.not_applicable[test] = str((ref or ours or {}).get("message", ""))
        elif ref is None:
            out.reference_failures[test] = "not reported by the reference run"
        elif ref["outcome"] == "skipped":
            out.skipped[test] = str(ref.get("message", ""))
        elif ref["outcome"] != "passed":
            out.reference_failures[test] = str(ref.get("message", ""))
        elif ours is not None and ours["outcome"] == "passed":
            out.passed.append(test)
        else:
            if ours is None:
                message = "not reported by the graphpool run"
                file_error = graphpool.collect_errors.get(test.partition("::")[0])
                if file_error:
                    message += f"; its file failed to collect: {file_error[-300:]}"
                elif not graphpool.complete:
                    message += " (the run was killed at the deadline)"
                missing = None
            else:
                message = str(ours.get("message", ""))
                if ours["outcome"] == "skipped":
                    message = f"skipped on graphpool only: {message}"
                lacking = ours.get("missing")
                missing = str(lacking) if lacking else None
            key = test.partition("[")[0]
            out.messages[test] = message
            out.failed[test] = classify(message, missing, features.get(key, []))
    return out


def read_ratchet(path: Path = RATCHET) -> set[str]:
    if not path.exists():
        return set()
    lines = path.read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def write_ratchet(passed: list[str], path: Path = RATCHET) -> None:
    header = (
        f"# LangGraph's own tests (langgraph {PINS['langgraph']}, langgraph-prebuilt "
        f"{PINS['langgraph-prebuilt']}) that pass on graphpool.\n"
        f"# tests/langgraph_suite/test_langgraph_suite.py fails when one of them fails.\n"
        f"# Written by: {UPDATE_COMMAND}\n"
    )
    path.write_text(header + "".join(f"{test}\n" for test in sorted(passed)), encoding="utf-8")


@dataclass
class RatchetCheck:
    """The ratchet against a run: what regressed, what is new, what could not be judged."""

    regressions: dict[str, str]  # passed before, fails on graphpool now (LangGraph passes)
    new: list[str]  # passes now, not in the ratchet
    unjudged: dict[str, str]  # in the ratchet, but now n/a, skipped, or failing on LangGraph


def check_ratchet(ratchet: set[str], found: Verdicts) -> RatchetCheck:
    regressions = {
        t: f"{found.failed[t]}: {found.messages[t]}" for t in ratchet if t in found.failed
    }
    unjudged = {}
    for test in ratchet - set(found.passed) - set(regressions):
        if test in found.reference_failures:
            unjudged[test] = "fails on LangGraph"
        elif test in found.not_applicable:
            unjudged[test] = "now not applicable"
        elif test in found.skipped:
            unjudged[test] = "skipped by LangGraph"
        else:
            unjudged[test] = "no longer collected"
    return RatchetCheck(regressions, sorted(set(found.passed) - ratchet), unjudged)


def classes(found: Verdicts) -> list[tuple[int, str]]:
    counts = Counter(found.failed.values())
    return sorted(((n, label) for label, n in counts.items()), key=lambda x: (-x[0], x[1]))


def summary(found: Verdicts, reference: Outcome, graphpool: Outcome, limit: int = 40) -> str:
    """The text printed by the CI test and the command line."""
    passed, failed = len(found.passed), len(found.failed)
    ref_time = "cached" if reference.cached else f"{reference.seconds:.0f} s"
    lines = [
        f"LangGraph's own tests on graphpool (langgraph {PINS['langgraph']}, "
        f"langgraph-prebuilt {PINS['langgraph-prebuilt']})",
        f"pass fraction {found.fraction:.1%} = {passed} passed / "
        f"({passed} passed + {failed} failed)",
        f"not applicable {len(found.not_applicable)}, skipped by LangGraph {len(found.skipped)}, "
        f"reference failures {len(found.reference_failures)}",
        f"runs: reference {ref_time}, graphpool {graphpool.seconds:.0f} s"
        + ("" if graphpool.complete else " (INCOMPLETE: killed at the deadline)"),
        "failure classes (tests, class):",
    ]
    ranked = classes(found)
    lines += [f"  {n:5d}  {label}" for n, label in ranked[:limit]]
    if len(ranked) > limit:
        rest = sum(n for n, _ in ranked[limit:])
        lines.append(f"  {rest:5d}  ... {len(ranked) - limit} more classes")
    for test, why in sorted(found.reference_failures.items()):
        lines.append(f"reference failure (not counted): {test}: {why[:200]}")
    return "\n".join(lines)


def by_file(found: Verdicts) -> str:
    """Passed, failed and not applicable per test file, as a Markdown table."""
    counts: dict[str, list[int]] = {}
    for column, tests in enumerate((found.passed, found.failed, found.not_applicable)):
        for test in tests:
            name = Path(test.partition("::")[0]).stem
            counts.setdefault(name, [0, 0, 0])[column] += 1
    rows = ["| file | passed | failed | not applicable |", "| --- | ---: | ---: | ---: |"]
    for name, (ok, bad, na) in sorted(counts.items(), key=lambda kv: (-sum(kv[1]), kv[0])):
        rows.append(f"| `{name}` | {ok} | {bad} | {na} |")
    return "\n".join(rows)


def markdown(found: Verdicts, min_count: int = 1) -> str:
    """The failure classes as a Markdown table, for the README section."""
    rows = [by_file(found), "", "| tests | failure class |", "| ---: | --- |"]
    other = 0
    for n, label in classes(found):
        if n >= min_count:
            cell = label.replace("|", "/").replace("__", "\\_\\_")  # not Markdown bold
            rows.append(f"| {n} | {cell} |")
        else:
            other += n
    if other:
        rows.append(f"| {other} | other classes of fewer than {min_count} tests each |")
    return "\n".join(rows)


def measure(*, fresh_reference: bool = False) -> tuple[Verdicts, Outcome, Outcome]:
    """Prepare the tree, run both targets over the whole suite, and judge each test."""
    tree = driver.prepare()
    reference, graphpool = driver.run_suite(tree, fresh_reference=fresh_reference)
    features = json.loads((tree / "features.json").read_text(encoding="utf-8"))
    return verdicts(reference, graphpool, features), reference, graphpool


def rerun(tests: list[str]) -> set[str]:
    """Run these tests again on graphpool alone; the ones that pass this time."""
    tree = driver.prepare()
    only = driver.CACHE / "langgraph-suite" / "rerun.txt"
    only.write_text("".join(f"{t}\n" for t in tests), encoding="utf-8")
    files = sorted({t.partition("::")[0] for t in tests})
    _, graphpool = driver.run_suite(tree, files=files, only=only, targets=("graphpool",))
    return {t for t in tests if graphpool.results.get(t, {}).get("outcome") == "passed"}
