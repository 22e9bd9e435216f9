"""langchain-core callbacks: one chain run per graph run and per node, as LangGraph reports.

The same graph runs on graphpool and on real LangGraph with a recording
callback handler; the trees of runs (names, parents, step tags, node metadata)
must match.
"""

from __future__ import annotations

import asyncio
import operator
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest

pytest.importorskip("langchain_core")
langgraph_graph = pytest.importorskip("langgraph.graph")

import langgraph.types  # noqa: E402
from langchain_core.callbacks import BaseCallbackHandler  # noqa: E402
from langchain_core.messages import AIMessage  # noqa: E402
from lc_fakes import ToolCallingFakeModel  # noqa: E402

import graphpool  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


class Recorder(BaseCallbackHandler):
    """Every chain and chat model run: kind, name, parent, tags, langgraph metadata, end."""

    def __init__(self) -> None:
        self.runs: dict[Any, dict[str, Any]] = {}

    def _start(self, kind: str, run_id: Any, parent: Any, name: Any, tags: Any, meta: Any) -> None:
        keep = {k: v for k, v in (meta or {}).items() if k in ("langgraph_node", "langgraph_step")}
        self.runs[run_id] = {
            "kind": kind,
            "name": name,
            "parent": parent,
            "step_tags": [t for t in tags or () if t.startswith("graph:step:")],
            "meta": keep,
            "end": None,
        }

    def on_chain_start(self, serialized, inputs, *, run_id, parent_run_id=None, **kw) -> None:
        self._start(
            "chain", run_id, parent_run_id, kw.get("name"), kw.get("tags"), kw.get("metadata")
        )

    def on_chat_model_start(self, serialized, messages, *, run_id, parent_run_id=None, **kw):
        self._start("model", run_id, parent_run_id, None, kw.get("tags"), kw.get("metadata"))

    def on_chain_end(self, outputs, *, run_id, **kw) -> None:
        self.runs[run_id]["end"] = ("ok", _plain(outputs))

    def on_chain_error(self, error, *, run_id, **kw) -> None:
        self.runs[run_id]["end"] = ("error", type(error).__name__)

    def tree(self, skip: tuple[str, ...] = ()) -> list[Any]:
        """The runs as a sorted nested list, leaving out runs named in ``skip``."""

        def below(parent: Any) -> list[Any]:
            rows = []
            for run_id, run in self.runs.items():
                if run["parent"] == parent and run["name"] not in skip:
                    row = {k: v for k, v in run.items() if k != "parent"}
                    rows.append((repr(sorted(row.items())), below(run_id)))
            return sorted(rows)

        return below(None)


def _plain(value: Any) -> Any:
    return value if isinstance(value, (dict, list, str, int)) or value is None else repr(value)


class S(TypedDict, total=False):
    log: Annotated[list, operator.add]
    n: int


def build(lib: Any, send: Any, fail: bool = False) -> Any:
    model = ToolCallingFakeModel(messages=iter([AIMessage("hi")]))

    def ask(state: S) -> dict:
        return {"log": [model.invoke("question").content]}

    def work(state: S) -> dict:
        if fail and state["n"] == 1:
            raise KeyError("broken")
        return {"log": [state["n"]]}

    def route(state: S) -> list:
        return [send("work", {"n": i}) for i in range(2)]

    b = lib.StateGraph(S)
    b.add_node("ask", ask)
    b.add_node("work", work)
    b.add_edge(lib.START, "ask")
    b.add_conditional_edges("ask", route, ["work"])
    b.add_edge("work", lib.END)
    return b.compile()


CONFIG = {"tags": ["mine"], "metadata": {"who": "test"}}

# LangGraph also reports a conditional edge's function as a chain run under its
# node (here ``route``); graphpool calls routes without one, so they are left out.
ROUTES = ("route",)


def _both(run) -> tuple[Recorder, Recorder]:
    theirs, ours = Recorder(), Recorder()
    run(build(langgraph_graph, langgraph.types.Send), {**CONFIG, "callbacks": [theirs]})
    run(build(graphpool, graphpool.Send), {**CONFIG, "callbacks": [ours]})
    return theirs, ours


def test_invoke_reports_the_graph_then_each_node_then_the_model_inside() -> None:
    theirs, ours = _both(lambda g, c: g.invoke({"log": []}, c))
    assert ours.tree() == theirs.tree(skip=ROUTES)
    names = sorted(r["name"] or r["kind"] for r in ours.runs.values())
    assert names == ["LangGraph", "ask", "model", "work", "work"]


def test_ainvoke_reports_the_same_tree() -> None:
    theirs, ours = _both(lambda g, c: asyncio.run(g.ainvoke({"log": []}, c)))
    assert ours.tree() == theirs.tree(skip=ROUTES)


def test_a_failing_node_ends_its_run_and_the_graphs_with_the_error() -> None:
    def run(graph, config):
        with pytest.raises(KeyError):
            graph.invoke({"log": []}, config)

    theirs = Recorder()
    run(build(langgraph_graph, langgraph.types.Send, fail=True), {"callbacks": [theirs]})
    ours = Recorder()
    run(build(graphpool, graphpool.Send, fail=True), {"callbacks": [ours]})
    ends = sorted((r["name"] or r["kind"], r["end"][0]) for r in ours.runs.values() if r["end"])
    assert ("LangGraph", "error") in ends and ("work", "error") in ends
    their_ends = {(r["name"] or r["kind"], r["end"][0]) for r in theirs.runs.values() if r["end"]}
    assert set(ends) <= their_ends


def test_run_name_and_run_id_name_the_graph_run() -> None:
    import uuid

    ours = Recorder()
    run_id = uuid.uuid4()
    build(graphpool, graphpool.Send).invoke(
        {"log": []}, {"callbacks": [ours], "run_name": "pipeline", "run_id": run_id}
    )
    assert ours.runs[run_id]["name"] == "pipeline"
    assert ours.runs[run_id]["end"] == ("ok", {"log": ["hi", 0, 1]})


def test_astream_events_still_reports_each_node_once() -> None:
    async def events() -> list[Any]:
        graph = build(graphpool, graphpool.Send)
        return [e async for e in graph.astream_events({"log": []}, version="v2")]

    starts = [e["name"] for e in asyncio.run(events()) if e["event"] == "on_chain_start"]
    assert sorted(starts) == ["LangGraph", "ask", "work", "work"]


def test_without_callbacks_the_callback_module_is_never_loaded() -> None:
    code = (
        "import sys, operator\n"
        "import langchain_core.runnables\n"
        "from typing import Annotated, TypedDict\n"
        "import graphpool\n"
        "class S(TypedDict):\n    log: Annotated[list, operator.add]\n"
        "b = graphpool.StateGraph(S)\n"
        "b.add_node('a', lambda s: {'log': [1]})\n"
        "b.add_edge(graphpool.START, 'a')\n"
        "assert b.compile().invoke({'log': []}) == {'log': [1]}\n"
        "assert 'graphpool._lc_callbacks' not in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
