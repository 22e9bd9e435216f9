"""Shared by the benchmark scripts: both libraries' names, and writing a report."""

from __future__ import annotations

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
