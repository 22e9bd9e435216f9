"""The examples run as a user runs them, in a fresh interpreter."""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(name: str, env: dict[str, str] | None = None) -> list[str]:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()


def test_seed_demo_prints_langgraphs_final_state() -> None:
    lines = run("seed_demo.py")
    assert lines[0] == "Final State: {'results': ['A', 'B', 'C', 'Collected: A, B, C']}"
    assert lines[1].startswith("Execution Time:")


def test_cpu_fanout_counts_primes_despite_crashing_workers() -> None:
    lines = run("cpu_fanout.py")
    shards = ast.literal_eval(lines[0].removeprefix("primes per shard: "))
    assert [i for i, _ in shards] == [0, 1, 2, 3]
    assert lines[1] == "total: 33860"  # primes below 400,000


ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(60)
def test_react_agent_example_runs() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "react_agent.py")],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert lines[:5] == [
        "human: Weather and population of Paris?",
        "ai:",
        "tool: sunny in Paris",
        "tool: Paris: 2.1 million",
        "ai: Paris is sunny and has 2.1 million people.",
    ]
    assert lines[5].startswith("took ")


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed")
def test_ray_fanout_spreads_shards_over_two_ray_nodes() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "GRAPHPOOL_RAY"))}
    lines = run("ray_fanout.py", env)
    shards = ast.literal_eval(lines[0].removeprefix("primes per shard: "))
    assert [i for i, _ in shards] == list(range(8))
    assert lines[1:3] == ["total: 33860", "ray nodes used: 2"]


@pytest.mark.timeout(60)
def test_supervisor_example_runs_agent_subgraphs_on_the_shared_pool() -> None:
    lines = run("supervisor.py")
    assert lines[0] == (
        "draft: 3 topics checked; agents are useful; graphs are useful; pools are useful."
    )
    workers = ast.literal_eval(lines[2].removeprefix("subgraph tasks ran on: "))
    assert workers and all(w.startswith("team") for w in workers)  # the pool's own threads
    assert lines[3] == "stream namespaces: ['supervisor graph', 'researcher', 'writer']"


@pytest.mark.timeout(120)
def test_functional_example_pauses_resumes_and_reuses_finished_tasks() -> None:
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    lines = run("functional.py", env=env)
    assert lines == [
        "asked: publish 9592 primes?",  # primes below 100,000
        "result: {'counts': [2762, 2371, 2260, 2199], 'published': True}",
        "fetch calls: 4",
    ]


def test_otel_example_prints_the_span_tree() -> None:
    pytest.importorskip("opentelemetry.sdk", reason="needs graphpool[otel] (opentelemetry-sdk)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), *sys.path])}
    assert run("otel_spans.py", env) == [
        "request",
        "  graphpool.run",
        "    fetch (step 1)",
        "    rank (step 1)",
        "    answer (step 2)",
    ]
