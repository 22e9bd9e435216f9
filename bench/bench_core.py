#!/usr/bin/env python
"""Core benchmark: graphpool vs LangGraph, side by side in one process.

Scenarios (see bench/README.md):

1. chain   - per-step overhead of a 100-node chain of trivial nodes (us/step).
2. seed    - invokes/s of the seed fan-out/fan-in graph, no sleeps.
3. fanout  - wall time of one invoke of a 64-wide fan-out of 100 ms sleeping nodes.

The graph-building code is written once and parametrised by a namespace that
holds ``StateGraph``, ``START`` and ``END`` from either ``langgraph.graph`` or
``graphpool``.  For every repeat both libraries are measured back to back (the
order alternates between repeats); the median over repeats is reported.

Usage::

    python bench/bench_core.py [--repeats N] [--out bench/results/core.md]
    python bench/bench_core.py --only langgraph      # graphpool not installed yet
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import importlib
import operator
import os
import platform
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from typing_extensions import TypedDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "bench" / "results" / "core.md"

LIBS = ("langgraph", "graphpool")

# --------------------------------------------------------------------------
# Scenario parameters
# --------------------------------------------------------------------------

CHAIN_LEN = 100
CHAIN_INVOKES = 20  # timed invokes per repeat, at the least (see MIN_S)
CHAIN_MAX_S = 3.0  # per-repeat safety cap (reported if hit)
CHAIN_CONFIG = {"recursion_limit": 1000}

SEED_INVOKES = 300  # timed invokes per repeat, at the least (see MIN_S)
SEED_MAX_S = 3.0  # per-repeat safety cap (reported if hit)

FANOUT_WIDTH = 64
FANOUT_SLEEP_S = 0.1
FANOUT_IDEAL_S = FANOUT_SLEEP_S

IMPORT_RUNS = 5  # fresh interpreters per repeat and library; the best one counts

# Targets from the issues (only used to annotate the report).
TARGET_CHAIN_RATIO = 0.2  # graphpool/langgraph us-per-step
TARGET_CHAIN_US = 5.0  # graphpool us per step (issue 12)
TARGET_SEED_PER_S = 6000  # graphpool invokes/s of the seed graph (issue 12)
TARGET_IMPORT_S = 0.08  # `import graphpool` (issue 12)
TARGET_FANOUT_S = 0.15  # graphpool wall seconds per invoke


# --------------------------------------------------------------------------
# Library namespaces
# --------------------------------------------------------------------------


def load_lib(name: str) -> types.SimpleNamespace:
    """Return a namespace with StateGraph/START/END (+ name, version) of a library."""
    from importlib.metadata import PackageNotFoundError, version

    if name not in LIBS:  # pragma: no cover - argparse restricts choices
        raise ValueError(name)
    mod = importlib.import_module("langgraph.graph" if name == "langgraph" else "graphpool")
    ver: str
    try:
        ver = version(name)
    except PackageNotFoundError:
        ver = str(getattr(mod, "__version__", "unknown"))
    if name == "graphpool":  # prefer the package's own __version__ (editable installs)
        ver = str(getattr(mod, "__version__", ver))
    return types.SimpleNamespace(
        name=name, version=ver, StateGraph=mod.StateGraph, START=mod.START, END=mod.END
    )


# --------------------------------------------------------------------------
# Graph builders (written once, parametrised by the library namespace)
# --------------------------------------------------------------------------


class ChainState(TypedDict):
    x: int


def build_chain(ns: types.SimpleNamespace, n: int = CHAIN_LEN):
    """START -> n0 -> n1 -> ... -> n{n-1} -> END, each node adds 1 to x."""
    builder = ns.StateGraph(ChainState)
    for i in range(n):
        builder.add_node(f"n{i}", lambda s: {"x": s["x"] + 1})
    builder.add_edge(ns.START, "n0")
    for i in range(n - 1):
        builder.add_edge(f"n{i}", f"n{i + 1}")
    builder.add_edge(f"n{n - 1}", ns.END)
    return builder.compile()


class SeedState(TypedDict):
    results: Annotated[list, operator.add]


def build_seed(ns: types.SimpleNamespace):
    """The seed graph: start -> {A, B, C} -> collect -> END (no sleeps)."""

    def start(state):
        return state

    def node_a(state):
        return {"results": ["A"]}

    def node_b(state):
        return {"results": ["B"]}

    def node_c(state):
        return {"results": ["C"]}

    def collect(state):
        return {"results": [f"Collected: {', '.join(sorted(state['results']))}"]}

    builder = ns.StateGraph(SeedState)
    builder.add_node("start", start)
    builder.add_node("A", node_a)
    builder.add_node("B", node_b)
    builder.add_node("C", node_c)
    builder.add_node("collect", collect)
    builder.add_edge(ns.START, "start")
    for name in ("A", "B", "C"):
        builder.add_edge("start", name)
        builder.add_edge(name, "collect")
    builder.add_edge("collect", ns.END)
    return builder.compile()


def build_fanout(
    ns: types.SimpleNamespace, width: int = FANOUT_WIDTH, sleep_s: float = FANOUT_SLEEP_S
):
    """START -> fan -> {w00..w63} -> END, each worker sleeps then appends its index."""

    def fan(state):
        return {}

    def make_worker(i: int):
        def worker(state):
            time.sleep(sleep_s)
            return {"results": [i]}

        return worker

    builder = ns.StateGraph(SeedState)
    builder.add_node("fan", fan)
    builder.add_edge(ns.START, "fan")
    for i in range(width):
        name = f"w{i:02d}"
        builder.add_node(name, make_worker(i))
        builder.add_edge("fan", name)
        builder.add_edge(name, ns.END)
    return builder.compile()


# --------------------------------------------------------------------------
# Measurement helpers
# --------------------------------------------------------------------------


class BenchError(RuntimeError):
    pass


MIN_S = 0.3  # a repeat times at least this long: a 20-invoke repeat of a fast
# library is over in 15 ms, and one preemption of this shared machine then skews it


def timed_loop(
    fn: Callable[[], Any], count: int, max_s: float, min_s: float = MIN_S
) -> tuple[int, float]:
    """Call fn `count` times, and on while less than `min_s` has passed (stop early
    after `max_s`); return (calls, seconds)."""
    gc.collect()
    perf = time.perf_counter
    t0 = perf()
    deadline = t0 + max_s
    done = 0
    while done < count or perf() - t0 < min_s:
        fn()
        done += 1
        if perf() > deadline:
            break
    return done, perf() - t0


def chain_input() -> dict:
    return {"x": 0}


def list_input() -> dict:
    return {"results": []}


def _invoker(
    graph: Any, make_input: Callable[[], dict], config: dict | None = None
) -> Callable[[], Any]:
    """A no-arg callable invoking `graph` on a freshly built input (never shared)."""
    invoke = graph.invoke
    if config is None:
        return lambda: invoke(make_input())
    return lambda: invoke(make_input(), config)


def _plain(value: Any) -> Any:
    """Normalise an invoke result to plain dict/list for comparison."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def check_results(scenario: str, expected: Any, results: dict[str, Any]) -> None:
    """Every library must return exactly `expected`; otherwise fail loudly."""
    bad = {lib: got for lib, got in results.items() if _plain(got) != expected}
    if bad:
        lines = [f"CORRECTNESS FAILURE in scenario {scenario!r}", f"  expected: {expected!r}"]
        for lib, got in results.items():
            mark = "MISMATCH" if lib in bad else "ok"
            lines.append(f"  {lib:<10} [{mark}]: {_plain(got)!r}")
        raise BenchError("\n".join(lines))


def lib_order(libs: list[str], repeat: int) -> list[str]:
    """Alternate which library goes first on each repeat (langgraph first on even)."""
    return libs if repeat % 2 == 0 else list(reversed(libs))


@dataclass
class Metric:
    scenario: str
    label: str  # e.g. "us per step"
    unit: str
    higher_is_better: bool
    samples: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, lib: str, value: float) -> None:
        self.samples.setdefault(lib, []).append(value)

    def median(self, lib: str) -> float | None:
        vals = self.samples.get(lib)
        return statistics.median(vals) if vals else None

    def ratio(self) -> float | None:
        """graphpool / langgraph of the medians."""
        lg, gp = self.median("langgraph"), self.median("graphpool")
        if lg is None or gp is None or lg == 0:
            return None
        return gp / lg


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit.startswith("s/") or unit == "s":  # wall seconds: keep ms resolution
        return f"{value:.3f} {unit}".rstrip()
    if abs(value) >= 1000:
        s = f"{value:,.0f}"
    elif abs(value) >= 100:
        s = f"{value:.1f}"
    elif abs(value) >= 1:
        s = f"{value:.2f}"
    else:
        s = f"{value:.3f}"
    return f"{s} {unit}".rstrip()


# --------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------


def scenario_chain(nss: dict[str, types.SimpleNamespace], repeats: int) -> Metric:
    print(
        f"\n[1] chain: {CHAIN_LEN}-node chain of trivial nodes, "
        f"{CHAIN_INVOKES} invokes/repeat, us per step"
    )
    graphs = {lib: build_chain(ns) for lib, ns in nss.items()}
    check_results(
        "chain",
        {"x": CHAIN_LEN},
        {lib: g.invoke(chain_input(), CHAIN_CONFIG) for lib, g in graphs.items()},
    )
    for g in graphs.values():  # warm-up
        for _ in range(2):
            g.invoke(chain_input(), CHAIN_CONFIG)

    m = Metric("chain", f"{CHAIN_LEN}-node chain, per-step overhead", "us/step", False)
    for r in range(repeats):
        parts = []
        for lib in lib_order(list(graphs), r):
            g = graphs[lib]
            g.invoke(chain_input(), CHAIN_CONFIG)  # per-repeat warm-up
            n, dt = timed_loop(_invoker(g, chain_input, CHAIN_CONFIG), CHAIN_INVOKES, CHAIN_MAX_S)
            if n < CHAIN_INVOKES:
                m.notes.append(f"{lib} repeat {r + 1}: time cap hit after {n} invokes")
            us_step = dt / n / CHAIN_LEN * 1e6
            m.add(lib, us_step)
            parts.append(f"{lib} {us_step:9.2f} us/step")
        print(f"  repeat {r + 1}/{repeats}: " + " | ".join(parts))
    return m


SEED_EXPECTED = {"results": ["A", "B", "C", "Collected: A, B, C"]}


def scenario_seed(nss: dict[str, types.SimpleNamespace], repeats: int) -> Metric:
    print(f"\n[2] seed: seed graph without sleeps, {SEED_INVOKES} invokes/repeat, invokes/s")
    graphs = {lib: build_seed(ns) for lib, ns in nss.items()}
    check_results("seed", SEED_EXPECTED, {lib: g.invoke(list_input()) for lib, g in graphs.items()})
    for g in graphs.values():  # warm-up
        for _ in range(10):
            g.invoke(list_input())

    m = Metric("seed", "seed graph (no sleeps), throughput", "invokes/s", True)
    for r in range(repeats):
        parts = []
        for lib in lib_order(list(graphs), r):
            g = graphs[lib]
            n, dt = timed_loop(_invoker(g, list_input), SEED_INVOKES, SEED_MAX_S)
            if n < SEED_INVOKES:
                m.notes.append(f"{lib} repeat {r + 1}: time cap hit after {n} invokes")
            ips = n / dt
            m.add(lib, ips)
            parts.append(f"{lib} {ips:9.1f} invokes/s")
        print(f"  repeat {r + 1}/{repeats}: " + " | ".join(parts))
    return m


def scenario_fanout(nss: dict[str, types.SimpleNamespace], repeats: int) -> Metric:
    print(
        f"\n[3] fanout: one invoke of a {FANOUT_WIDTH}-wide fan-out of "
        f"{FANOUT_SLEEP_S * 1000:.0f} ms sleeping nodes, empty config, wall s"
    )
    graphs = {lib: build_fanout(ns) for lib, ns in nss.items()}
    # The correctness invoke doubles as the warm-up (one invoke per library).
    check_results(
        "fanout",
        {"results": list(range(FANOUT_WIDTH))},
        {lib: g.invoke(list_input()) for lib, g in graphs.items()},
    )

    m = Metric(
        "fanout",
        f"{FANOUT_WIDTH}-wide fan-out of {FANOUT_SLEEP_S * 1000:.0f} ms sleeps",
        "s/invoke",
        False,
    )
    for r in range(repeats):
        parts = []
        for lib in lib_order(list(graphs), r):
            g = graphs[lib]
            _, dt = timed_loop(_invoker(g, list_input), 1, float("inf"), min_s=0.0)
            m.add(lib, dt)
            parts.append(f"{lib} {dt:7.3f} s ({dt / FANOUT_IDEAL_S:5.2f}x ideal)")
        print(f"  repeat {r + 1}/{repeats}: " + " | ".join(parts))
    return m


def scenario_import(nss: dict[str, types.SimpleNamespace], repeats: int) -> Metric:
    """Seconds to import the library in a fresh interpreter, less an empty one's start."""
    print(f"\n[4] import: fresh interpreters, best of {IMPORT_RUNS} per repeat")
    m = Metric("import", "import in a fresh interpreter", "s", higher_is_better=False)
    code = {"langgraph": "import langgraph.graph", "graphpool": "import graphpool"}

    def best(statement: str) -> float:
        times = []
        for _ in range(IMPORT_RUNS):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", statement], check=True)
            times.append(time.perf_counter() - t0)
        return min(times)

    for r in range(repeats):
        for lib in lib_order(list(nss), r):
            empty = best("pass")
            m.add(lib, max(0.0, best(code[lib]) - empty))
    m.notes.append(
        f"import: `python -c 'import graphpool'` (`import langgraph.graph`) minus `python -c "
        f"'pass'`, best of {IMPORT_RUNS} fresh interpreters per repeat."
    )
    return m


SCENARIOS: dict[str, Callable[[dict[str, types.SimpleNamespace], int], Metric]] = {
    "chain": scenario_chain,
    "seed": scenario_seed,
    "fanout": scenario_fanout,
    "import": scenario_import,
}


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------


def machine_facts(nss: dict[str, types.SimpleNamespace], repeats: int) -> list[tuple[str, str]]:
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # non-Linux
        affinity = None
    facts = [
        ("date", _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("platform", platform.platform()),
        (
            "nproc",
            f"{affinity if affinity is not None else '?'} (os.cpu_count() = {os.cpu_count()})",
        ),
    ]
    for lib in LIBS:
        facts.append((f"{lib} version", nss[lib].version if lib in nss else "(not run)"))
    try:
        rev = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        if rev:
            facts.append(("git", rev + (" (uncommitted changes)" if dirty else "")))
    except (OSError, subprocess.SubprocessError):
        pass
    facts.append(("repeats", f"{repeats} (median reported; order alternates per repeat)"))
    return facts


def verdict(m: Metric) -> str:
    """Ratio column text plus, where the issue gives one, the target check."""
    ratio = m.ratio()
    if m.scenario == "chain":
        if ratio is None:
            return "-"
        ok = "met" if ratio <= TARGET_CHAIN_RATIO else "NOT met"
        gp = m.median("graphpool") or 0.0
        us_ok = "met" if gp <= TARGET_CHAIN_US else "NOT met"
        return (
            f"ratio gp/lg = {ratio:.3f} (target <= {TARGET_CHAIN_RATIO}: {ok}; "
            f"<= {TARGET_CHAIN_US:g} us/step: {us_ok})"
        )
    if m.scenario == "seed":
        if ratio is None:
            return "-"
        gp = m.median("graphpool") or 0.0
        ok = "met" if gp >= TARGET_SEED_PER_S else "NOT met"
        return f"speedup gp/lg = {ratio:.2f}x (>= {TARGET_SEED_PER_S:,} invokes/s: {ok})"
    if m.scenario == "import":
        gp = m.median("graphpool")
        if gp is None:
            return "-"
        ok = "met" if gp <= TARGET_IMPORT_S else "NOT met"
        return f"ratio gp/lg = {ratio:.2f} (<= {TARGET_IMPORT_S} s: {ok})" if ratio else "-"
    if m.scenario == "fanout":
        parts = []
        if ratio is not None:
            parts.append(f"ratio gp/lg = {ratio:.3f}")
        gp = m.median("graphpool")
        if gp is not None:
            ok = "met" if gp <= TARGET_FANOUT_S else "NOT met"
            parts.append(f"graphpool target <= {TARGET_FANOUT_S} s: {ok}")
        return "; ".join(parts) or "-"
    return "-" if ratio is None else f"{ratio:.3f}"


def cell(m: Metric, lib: str) -> str:
    vals = m.samples.get(lib)
    if not vals:
        return "-"
    median = statistics.median(vals)
    text = fmt(median, m.unit)
    if m.scenario == "fanout":
        text += f" ({median / FANOUT_IDEAL_S:.2f}x ideal)"
    unit = "s" if m.unit.startswith("s/") else ""
    lo = fmt(min(vals), unit).removesuffix(" s")
    hi = fmt(max(vals), unit).removesuffix(" s")
    return f"{text} [{lo} - {hi}]"


def print_summary(metrics: list[Metric]) -> None:
    print("\n=== Summary (median of repeats; [min - max]) ===")
    for m in metrics:
        better = "higher" if m.higher_is_better else "lower"
        print(f"\n{m.scenario}: {m.label} ({better} is better)")
        for lib in LIBS:
            if lib in m.samples:
                print(f"  {lib:<10} {cell(m, lib)}")
        print(f"  {verdict(m)}")
        if m.scenario == "fanout":
            print(f"  (physical ideal: {FANOUT_IDEAL_S} s)")
        for note in m.notes:
            print(f"  note: {note}")


def write_markdown(
    path: Path, metrics: list[Metric], facts: list[tuple[str, str]], argv: list[str]
) -> None:
    lines = [
        "# graphpool core benchmark",
        "",
        f"Generated by `{' '.join(['python', 'bench/bench_core.py', *argv])}`.",
        "",
        "Both libraries run in the same process, interleaved per repeat (order alternates).",
        "Cells: median of repeats, then [min - max] over repeats.",
        "",
        "| scenario | metric | langgraph | graphpool | graphpool vs langgraph |",
        "|---|---|---|---|---|",
    ]
    for m in metrics:
        better = "higher is better" if m.higher_is_better else "lower is better"
        lines.append(
            f"| {m.scenario} | {m.label}, {m.unit} ({better}) | {cell(m, 'langgraph')} | "
            f"{cell(m, 'graphpool')} | {verdict(m)} |"
        )
    notes = [f"- {m.scenario}: {n}" for m in metrics for n in m.notes]
    lines += [
        "",
        "Scenario details:",
        "",
        f'- chain: {CHAIN_LEN} nodes `lambda s: {{"x": s["x"] + 1}}`, '
        f"recursion_limit {CHAIN_CONFIG['recursion_limit']}, compiled once, "
        f"at least {CHAIN_INVOKES} timed invokes and {MIN_S} s per repeat; "
        f"us/step = time per invoke / {CHAIN_LEN}.",
        f"- seed: start -> A, B, C -> collect -> END with an `operator.add` list reducer, "
        f"at least {SEED_INVOKES} timed invokes and {MIN_S} s per repeat.",
        f"- fanout: START -> fan -> {FANOUT_WIDTH} nodes each `time.sleep({FANOUT_SLEEP_S})` "
        f"-> END, one invoke per repeat, empty config (each library's default concurrency); "
        f"physical ideal {FANOUT_IDEAL_S} s.",
    ]
    if notes:
        lines += ["", "Notes:", "", *notes]
    lines += ["", "## Machine", "", "| fact | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in facts]
    lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=5, help="repeats per scenario (default 5)")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"Markdown results file (default {DEFAULT_OUT.relative_to(REPO_ROOT)}; "
        "with --only, written only if --out is given)",
    )
    p.add_argument(
        "--only",
        choices=LIBS,
        default=None,
        help="run a single library (e.g. before graphpool is installed)",
    )
    p.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated subset of {','.join(SCENARIOS)} (default: all)",
    )
    args = p.parse_args(argv)
    if args.repeats < 1:
        p.error("--repeats must be >= 1")
    chosen = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SCENARIOS]
    if unknown or not chosen:
        p.error(f"unknown scenario(s) {unknown}; choose from {list(SCENARIOS)}")

    libs = [args.only] if args.only else list(LIBS)
    nss: dict[str, types.SimpleNamespace] = {}
    for lib in libs:
        try:
            nss[lib] = load_lib(lib)
        except ImportError as exc:
            hint = (
                " (use --only langgraph to run just the LangGraph half)"
                if lib == "graphpool"
                else ""
            )
            print(f"error: cannot import {lib}: {exc}{hint}", file=sys.stderr)
            return 2

    facts = machine_facts(nss, args.repeats)
    for k, v in facts:
        print(f"{k:>18}: {v}")

    t_start = time.perf_counter()
    metrics: list[Metric] = []
    try:
        for name in chosen:
            metrics.append(SCENARIOS[name](nss, args.repeats))
    except BenchError as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 1
    print_summary(metrics)
    print(f"\ntotal benchmark time: {time.perf_counter() - t_start:.1f} s")

    out = args.out if args.out is not None else (None if args.only else DEFAULT_OUT)
    if out is not None:
        write_markdown(out, metrics, facts, argv)
        print(f"wrote {out}")
    else:
        print("(single-library run: results file not written; pass --out to write one)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
