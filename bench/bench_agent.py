"""ReAct agents on graphpool and LangGraph, side by side in one process.

Both graphs are the classic agent: a chat model node and a tool node, routed by
``tools_condition``; LangGraph runs ``langgraph.prebuilt.ToolNode``, graphpool its
own ``graphpool.prebuilt.ToolNode``. The model is a deterministic stand-in
(langchain-core ``BaseChatModel``) that asks for tools until its turns run out.

* ``parallel_tools``: one turn asking for 8 tools at once, each sleeping 100 ms
  (an I/O-bound API), then the answer. Ideal: 0.1 s.
* ``agent_loop``: 20 turns of one instant tool each: the runtime's cost per
  agent turn (model step + tool step).

    python bench/bench_agent.py [--repeats N] [--out bench/results/agent.md]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import time
from importlib.metadata import version
from types import SimpleNamespace
from typing import Any

import langgraph.graph
import langgraph.prebuilt
from _common import publish
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import tool

import graphpool
import graphpool.graph
import graphpool.prebuilt


class ScriptedModel(BaseChatModel):
    """Asks for ``calls`` tools per turn for ``turns`` turns, then answers."""

    turns: int
    calls: int
    tool_name: str

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedModel:
        return self

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any):
        turn = sum(1 for m in messages if m.type == "ai")
        if turn < self.turns:
            calls = [
                {"name": self.tool_name, "args": {"i": i}, "id": f"call-{turn}-{i}"}
                for i in range(self.calls)
            ]
            message = AIMessage("", id=f"ai-{turn}", tool_calls=calls)
        else:
            message = AIMessage("done", id=f"ai-{turn}")
        return ChatResult(generations=[ChatGeneration(message=message)])


@tool
def slow_api(i: int) -> str:
    """Waits 100 ms, like a remote API."""
    time.sleep(0.1)
    return f"result {i}"


@tool
def instant(i: int) -> str:
    """Returns at once."""
    return f"result {i}"


def build(lib: SimpleNamespace, model: ScriptedModel, tools: list[Any]):
    bound = model.bind_tools(tools)

    def agent(state: dict) -> dict:
        return {"messages": [bound.invoke(state["messages"])]}

    b = lib.StateGraph(lib.MessagesState)
    b.add_node("agent", agent)
    b.add_node("tools", lib.ToolNode(tools))
    b.add_edge(lib.START, "agent")
    b.add_conditional_edges("agent", lib.tools_condition)
    b.add_edge("tools", "agent")
    return b.compile()


SCENARIOS = {
    # name: (turns, calls per turn, tool, invokes per repeat, ideal seconds per invoke)
    "parallel_tools": (1, 8, slow_api, 1, 0.1),
    "agent_loop": (20, 1, instant, 10, None),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default="bench/results/agent.md")
    args = parser.parse_args()
    libs = {
        "langgraph": SimpleNamespace(
            StateGraph=langgraph.graph.StateGraph,
            START=langgraph.graph.START,
            MessagesState=langgraph.graph.MessagesState,
            ToolNode=langgraph.prebuilt.ToolNode,
            tools_condition=langgraph.prebuilt.tools_condition,
        ),
        "graphpool": SimpleNamespace(
            StateGraph=graphpool.graph.StateGraph,
            START=graphpool.graph.START,
            MessagesState=graphpool.graph.MessagesState,
            ToolNode=graphpool.prebuilt.ToolNode,
            tools_condition=graphpool.prebuilt.tools_condition,
        ),
    }
    rows = []
    for scenario, (turns, calls, tool_, invokes, ideal) in SCENARIOS.items():
        model = ScriptedModel(turns=turns, calls=calls, tool_name=tool_.name)
        graphs = {name: build(lib, model, [tool_]) for name, lib in libs.items()}
        question = {"messages": [("user", "go")]}
        shapes = {
            name: [(m.type, m.content) for m in g.invoke(question)["messages"]]
            for name, g in graphs.items()
        }
        assert shapes["graphpool"] == shapes["langgraph"], shapes
        assert len(shapes["graphpool"]) == 2 + turns * (calls + 1)
        times: dict[str, list[float]] = {name: [] for name in graphs}
        for r in range(args.repeats):
            for name in list(graphs) if r % 2 == 0 else list(reversed(graphs)):
                start = time.perf_counter()
                for _ in range(invokes):
                    graphs[name].invoke(question)
                times[name].append((time.perf_counter() - start) / invokes)
        for name, values in times.items():
            median = statistics.median(values)
            per_turn = f"{median / turns * 1000:.2f}" if turns > 1 else "-"
            vs_ideal = f"{median / ideal:.2f}x" if ideal else "-"
            ratio = median / statistics.median(times["langgraph"])
            rows.append(
                f"| {scenario} | {name} | {median:.4f} | {min(values):.4f} - {max(values):.4f} "
                f"| {per_turn} | {vs_ideal} | {ratio:.2f}x |"
            )
            print(rows[-1])
    lines = [
        "# ReAct agent: graphpool vs LangGraph",
        "",
        f"Generated by `python bench/bench_agent.py --repeats {args.repeats}` on "
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, Python "
        f"{platform.python_version()}, langgraph {version('langgraph')}, langchain-core "
        f"{version('langchain-core')}, graphpool {graphpool.__version__}.",
        "",
        "`parallel_tools`: one turn with 8 tool calls of 100 ms each (ideal 0.1 s). "
        "`agent_loop`: 20 turns of one instant tool call. Seconds per invoke, median of "
        "repeats, one process, order alternating per repeat.",
        "",
        "| scenario | runtime | median s | min - max s | ms per turn | vs ideal | vs LangGraph |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ]
    publish(lines, args.out)


if __name__ == "__main__":
    main()
