"""Shared by the benchmark scripts: both libraries' names, and writing a report."""

from __future__ import annotations

import time
from types import SimpleNamespace

import langgraph.graph

import graphpool


def libraries() -> tuple[SimpleNamespace, SimpleNamespace]:
    """``(langgraph, graphpool)`` namespaces with ``StateGraph``, ``START`` and ``END``."""
    lg = SimpleNamespace(
        StateGraph=langgraph.graph.StateGraph, START=langgraph.graph.START, END=langgraph.graph.END
    )
    gp = SimpleNamespace(StateGraph=graphpool.StateGraph, START=graphpool.START, END=graphpool.END)
    return lg, gp


def publish(lines: list[str], out: str) -> None:
    """Print the Markdown report and write it to ``out``."""
    report = "\n".join(lines) + "\n"
    print(report)
    with open(out, "w") as f:
        f.write(report)


def spin(n: int) -> int:
    """Pure-Python CPU work: holds the GIL the whole time."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def calibrate(seconds: float) -> int:
    """The ``n`` for which ``spin(n)`` takes about ``seconds`` here."""
    n = 200_000
    while True:
        start = time.perf_counter()
        spin(n)
        took = time.perf_counter() - start
        if took > 0.05:
            return int(n * seconds / took)
        n *= 2
