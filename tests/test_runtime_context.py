"""``Runtime``, ``context=``, ``get_runtime``/``get_config``/``get_stream_writer`` and
``stream_mode="custom"``, each compared with real LangGraph."""

import asyncio
import dataclasses
import operator
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

import graphpool
import graphpool.config
import graphpool.runtime
from graphpool.errors import NotInNodeError

langgraph_graph = pytest.importorskip("langgraph.graph")
import langgraph.config  # noqa: E402
import langgraph.runtime  # noqa: E402


@dataclasses.dataclass
class Ctx:
    user: str


class S(TypedDict):
    log: Annotated[list, operator.add]


LIBS = {
    "langgraph": (langgraph_graph, langgraph.runtime, langgraph.config),
    "graphpool": (graphpool, graphpool.runtime, graphpool.config),
}


def _graph(lib: str) -> Any:
    graph_mod, runtime_mod, config_mod = LIBS[lib]
    Runtime = runtime_mod.Runtime

    def greet(state: S, runtime: Runtime[Ctx]) -> dict:
        runtime.stream_writer({"greeting": runtime.context.user})
        return {"log": [f"hi {runtime.context.user}"]}

    def deep(state: S) -> dict:
        runtime = runtime_mod.get_runtime(Ctx)
        node = config_mod.get_config()["metadata"]["langgraph_node"]
        config_mod.get_stream_writer()(f"from {node}")
        return {"log": [f"{node} for {runtime.context.user}"]}

    def route(state: S, runtime: Runtime[Ctx]) -> str:
        return "deep" if runtime.context.user == "ada" else graph_mod.END

    def also(state: S, writer) -> dict:
        writer("from the writer parameter")
        return {"log": ["also"]}

    builder = graph_mod.StateGraph(S, context_schema=Ctx)
    builder.add_node("greet", greet)
    builder.add_node("deep", deep)
    builder.add_node("also", also)
    builder.add_edge(graph_mod.START, "greet")
    builder.add_conditional_edges("greet", route, ["deep", graph_mod.END])
    builder.add_edge("deep", "also")
    return builder.compile()


@pytest.mark.parametrize("user", ["ada", "bob"])
def test_context_reaches_nodes_and_routes_as_in_langgraph(user: str) -> None:
    results = {}
    for lib in LIBS:
        graph = _graph(lib)
        final = graph.invoke({"log": []}, context=Ctx(user))
        custom = list(graph.stream({"log": []}, context=Ctx(user), stream_mode="custom"))
        both = list(graph.stream({"log": []}, context=Ctx(user), stream_mode=["custom", "updates"]))
        results[lib] = (final, custom, [m for m, _ in both])
    assert results["graphpool"] == results["langgraph"]
    assert results["graphpool"][0]["log"][0] == f"hi {user}"


def test_async_run_gets_the_runtime_too() -> None:
    async def go(lib: str) -> Any:
        graph = _graph(lib)
        out = [
            c async for c in graph.astream({"log": []}, context=Ctx("ada"), stream_mode="custom")
        ]
        return out, await graph.ainvoke({"log": []}, context=Ctx("ada"))

    assert asyncio.run(go("graphpool")) == asyncio.run(go("langgraph"))


def test_outside_a_node_the_helpers_say_so() -> None:
    for helper in (graphpool.runtime.get_runtime, graphpool.config.get_config):
        with pytest.raises(NotInNodeError, match="inside a node"):
            helper()


def test_process_nodes_get_the_context_but_no_writer() -> None:
    def where(state: S, runtime: graphpool.runtime.Runtime[Ctx]) -> dict:
        import os

        runtime.stream_writer("lost")  # no writer crosses to a worker process
        return {"log": [runtime.context.user, os.getpid()]}

    builder = graphpool.StateGraph(S, context_schema=Ctx)
    builder.add_node("where", where, executor="process")
    builder.add_edge(graphpool.START, "where")
    pool = graphpool.ProcessPool(1)
    try:
        graph = builder.compile(pool=pool)
        chunks = list(
            graph.stream({"log": []}, context=Ctx("ada"), stream_mode=["custom", "values"])
        )
    finally:
        pids = pool.worker_pids()
        pool.shutdown(wait=True, cancel_futures=True)
        for pid in pids:
            try:
                import os
                import signal

                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    final = [c for m, c in chunks if m == "values"][-1]
    assert final["log"][0] == "ada" and final["log"][1] != __import__("os").getpid()
    assert [m for m, _ in chunks] == ["values", "values"]


def test_the_store_reaches_nodes_through_runtime_store_and_get_store() -> None:
    from graphpool.store.memory import InMemoryStore

    store = InMemoryStore()

    def remember(state: S, runtime: graphpool.runtime.Runtime[Ctx]) -> dict:
        runtime.store.put(("users",), runtime.context.user, {"seen": True})
        return {"log": ["put"]}

    def recall(state: S, store) -> dict:
        assert store is graphpool.config.get_store()
        return {"log": [item.key for item in store.search(("users",))]}

    builder = graphpool.StateGraph(S, context_schema=Ctx)
    builder.add_node("remember", remember)
    builder.add_node("recall", recall)
    builder.add_edge(graphpool.START, "remember")
    builder.add_edge("remember", "recall")
    graph = builder.compile(store=store)
    assert graph.invoke({"log": []}, context=Ctx("ada")) == {"log": ["put", "ada"]}
    assert store.get(("users",), "ada").value == {"seen": True}
