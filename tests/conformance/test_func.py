"""The functional API against real ``langgraph.func``: results, streams, resume.

Each scenario builds its workflow from one library's names (``lib.entrypoint``,
``lib.task``, ...) and returns what a caller observes; both libraries must
observe the same. Interrupts are compared by value (their ids are each
library's own hashes). Side effects are counted, so a task that runs again
after a resume shows up.
"""

from __future__ import annotations

import asyncio
import dataclasses
import operator
import types
from typing import Annotated, Any, TypedDict

import pytest

pytestmark = pytest.mark.timeout(60)


def _lib(name: str) -> types.SimpleNamespace:
    if name == "langgraph":
        from langgraph.checkpoint.memory import InMemorySaver
        from langgraph.func import entrypoint, task
        from langgraph.types import Command, RetryPolicy, interrupt
    else:
        from graphpool.checkpoint import InMemorySaver
        from graphpool.func import entrypoint, task
        from graphpool.types import Command, RetryPolicy, interrupt
    return types.SimpleNamespace(
        name=name,
        entrypoint=entrypoint,
        task=task,
        Command=Command,
        RetryPolicy=RetryPolicy,
        interrupt=interrupt,
        InMemorySaver=InMemorySaver,
    )


def plain(value: Any) -> Any:
    """``value`` with each Interrupt as ``("Interrupt", value)`` and tuples as lists."""
    if type(value).__name__ == "Interrupt":
        return ("Interrupt", plain(value.value))
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _thread(name: str = "t") -> dict[str, Any]:
    return {"configurable": {"thread_id": name}}


class LogState(TypedDict):
    log: Annotated[list, operator.add]


SCENARIOS: dict[str, Any] = {}


def scenario(fn: Any) -> Any:
    SCENARIOS[fn.__name__] = fn
    return fn


@scenario
def fan_out_and_streams(lib: Any) -> Any:
    @lib.task
    def double(x: int) -> int:
        return 2 * x

    @lib.entrypoint()
    def main(xs: list[int]) -> int:
        futures = [double(x) for x in xs]
        return sum(f.result() for f in futures)

    updates = sorted(map(repr, main.stream([1, 2, 3])))
    return {
        "invoke": main.invoke([1, 2, 3]),
        "updates": updates,
        "values": list(main.stream([1, 2], stream_mode="values")),
        "batch": main.batch([[1], [2, 3]]),
    }


@scenario
def sequential_stream_order(lib: Any) -> Any:
    @lib.task
    def step(x: str) -> str:
        return x + "!"

    @lib.entrypoint()
    def main(x: str) -> str:
        a = step(x).result()
        b = step(a).result()
        return b

    return {
        "stream": list(main.stream("a", stream_mode=["updates", "values"])),
        "invoke_updates": main.invoke("a", stream_mode="updates"),
        "invoke_custom": main.invoke("a", stream_mode="custom"),
    }


@scenario
def previous_and_final(lib: Any) -> Any:
    @lib.entrypoint(checkpointer=lib.InMemorySaver())
    def counter(n: int, *, previous: Any = None) -> Any:
        total = (previous or 0) + n
        return lib.entrypoint.final(value=previous, save=total)

    cfg = _thread()
    return [counter.invoke(3, cfg), counter.invoke(4, cfg), counter.invoke(1, cfg)]


@scenario
def interrupt_resume_counts_side_effects(lib: Any) -> Any:
    ran: list[str] = []

    @lib.task
    def fetch(x: int) -> int:
        ran.append(f"fetch{x}")
        return x * 10

    @lib.task
    def ask(total: int) -> str:
        ran.append("ask")
        return lib.interrupt(f"approve {total}?")

    @lib.entrypoint(checkpointer=lib.InMemorySaver())
    def flow(n: int) -> dict[str, Any]:
        total = sum(f.result() for f in [fetch(i) for i in range(n)])
        answer = ask(total).result()
        return {"total": total, "answer": answer}

    cfg = _thread()
    first = flow.invoke(3, cfg)
    snapshot = flow.get_state(cfg)
    second = list(flow.stream(lib.Command(resume="yes"), cfg, stream_mode=["updates", "values"]))
    return {
        "first": plain(first),
        "next": snapshot.next,
        "values": snapshot.values,
        "second": plain(second),
        "ran": sorted(ran),
        "final": flow.get_state(cfg).values,
    }


@scenario
def interrupt_in_entrypoint_twice(lib: Any) -> Any:
    ran: list[int] = []

    @lib.task
    def work(x: int) -> int:
        ran.append(x)
        return x + 1

    @lib.entrypoint(checkpointer=lib.InMemorySaver())
    def flow(x: int) -> list[Any]:
        a = work(x).result()
        first = lib.interrupt("one")
        b = work(a).result()
        second = lib.interrupt("two")
        return [a, b, first, second]

    cfg = _thread()
    out = [plain(flow.invoke(1, cfg))]
    out.append(plain(flow.invoke(lib.Command(resume="A"), cfg)))
    out.append(plain(flow.invoke(lib.Command(resume="B"), cfg)))
    return {"out": out, "ran": ran}


class Flaky(Exception):
    """A failure the default retry_on retries."""


@scenario
def task_error_and_retry(lib: Any) -> Any:
    attempts: list[int] = []

    @lib.task(retry_policy=lib.RetryPolicy(max_attempts=3, initial_interval=0.01, jitter=False))
    def flaky(x: int) -> int:
        attempts.append(x)
        if len(attempts) < 3:
            raise Flaky("again")
        return x

    @lib.task
    def broken(x: int) -> int:
        raise ValueError(f"bad {x}")

    @lib.entrypoint()
    def ok(x: int) -> int:
        return flaky(x).result()

    @lib.entrypoint()
    def failing(x: int) -> int:
        return broken(x).result()

    try:
        failing.invoke(5)
        error = None
    except ValueError as exc:
        error = str(exc)
    return {"ok": ok.invoke(7), "attempts": attempts, "error": error}


@scenario
def async_entrypoint(lib: Any) -> Any:
    @lib.task
    async def slow(x: int) -> int:
        await asyncio.sleep(0.01)
        return x * 3

    @lib.task
    def sync_double(x: int) -> int:
        return x * 2

    @lib.entrypoint()
    async def main(xs: list[int]) -> list[int]:
        tripled = await asyncio.gather(*(slow(x) for x in xs))
        doubled = [await sync_double(x) for x in tripled]
        return doubled

    async def go() -> Any:
        chunks = [c async for c in main.astream([1, 2], stream_mode="values")]
        return {"ainvoke": await main.ainvoke([1, 2, 3]), "values": chunks}

    return asyncio.run(go())


@scenario
def custom_writer_and_injection(lib: Any) -> Any:
    @lib.entrypoint(checkpointer=lib.InMemorySaver())
    def main(x, *, writer, config, previous=None):  # injected by name
        writer({"got": x})
        return {"x": x, "thread": config["configurable"]["thread_id"], "prev": previous}

    cfg = _thread("w")
    first = list(main.stream(1, cfg, stream_mode=["custom", "updates"]))
    return {"first": first, "second": main.invoke(2, cfg)}


@scenario
def task_outside_entrypoint(lib: Any) -> Any:
    @lib.task
    def lonely(x: int) -> int:
        return x

    try:
        lonely(1)
    except RuntimeError:
        return "RuntimeError"
    return "no error"


@scenario
def tasks_calling_tasks(lib: Any) -> Any:
    @lib.task
    def leaf(x: int) -> int:
        return x + 1

    @lib.task
    def branch(x: int) -> int:
        return sum(f.result() for f in [leaf(x), leaf(x * 10)])

    @lib.entrypoint()
    def main(xs: list[int]) -> list[int]:
        return [f.result() for f in [branch(x) for x in xs]]

    return main.invoke([1, 2, 3])


@scenario
def task_in_graph_node(lib: Any) -> Any:
    if lib.name == "langgraph":
        from langgraph.graph import END, START, StateGraph
    else:
        from graphpool.graph import END, START, StateGraph

    @lib.task
    def shout(word: str) -> str:
        return word.upper()

    def node(state: LogState) -> dict[str, Any]:
        return {"log": [f.result() for f in [shout("a"), shout("b")]]}

    graph = StateGraph(LogState)
    graph.add_node("node", node)
    graph.add_edge(START, "node")
    graph.add_edge("node", END)
    compiled = graph.compile()
    streamed = list(compiled.stream({"log": []}, stream_mode=["updates", "custom"]))
    return {"invoke": compiled.invoke({"log": []}), "stream": sorted(map(repr, streamed))}


@scenario
def task_updates_from_graph_nodes(lib: Any) -> Any:
    """Task calls in nodes stream their updates in every mode that has them, in order
    (each node waits on its calls one after the other), with and without a
    checkpointer, sync and async, with no ``custom`` mode asked for."""
    if lib.name == "langgraph":
        from langgraph.graph import START, StateGraph
    else:
        from graphpool.graph import START, StateGraph

    @lib.task
    def double(x: int) -> int:
        return 2 * x

    @lib.task
    async def inc(x: int) -> int:
        return x + 1

    def first(state: LogState) -> dict[str, Any]:
        return {"log": [double(len(state["log"])).result()]}

    async def second(state: LogState) -> dict[str, Any]:
        return {"log": [await inc(state["log"][-1])]}

    graph = StateGraph(LogState)
    graph.add_node("first", first)
    graph.add_node("second", second)
    graph.add_edge(START, "first")
    graph.add_edge("first", "second")
    seen: dict[str, Any] = {}
    for saver in (None, lib.InMemorySaver()):
        compiled = graph.compile(checkpointer=saver)
        key = "saved" if saver else "plain"

        async def streams(compiled: Any = compiled) -> dict[str, Any]:
            modes = ["updates", "values", "tasks"]
            found = [c async for c in compiled.astream({"log": [0]}, _thread(), stream_mode=modes)]
            alone = compiled.astream({"log": [0]}, _thread("u"), stream_mode="updates")
            return {
                "updates": [c async for c in alone],
                "mixed": [(m, _shape(c) if m == "tasks" else c) for m, c in found],
            }

        seen[key] = plain(asyncio.run(streams()))
    return seen


def _shape(event: dict[str, Any]) -> dict[str, Any]:
    """A tasks/debug payload without its id (each library hashes its own)."""
    return {k: plain(v) for k, v in event.items() if k != "id"}


@scenario
def tasks_and_debug_events(lib: Any) -> Any:
    @lib.task
    def inc(x: int) -> int:
        return x + 1

    @lib.entrypoint()
    def main(x: int) -> int:
        return inc(x).result() * 10

    tasks = [_shape(e) for e in main.stream(1, stream_mode="tasks")]
    debug = [
        (e["step"], e["type"], _shape(e["payload"])) for e in main.stream(1, stream_mode="debug")
    ]
    return {"tasks": tasks, "debug": debug}


@scenario
def task_interrupting_twice(lib: Any) -> Any:
    ran: list[str] = []

    @lib.task
    def ask() -> str:
        ran.append("ask")
        return lib.interrupt("first") + lib.interrupt("second")

    @lib.entrypoint(checkpointer=lib.InMemorySaver())
    def main(x: str) -> str:
        return ask().result() + x

    cfg = _thread()
    out = [plain(main.invoke("!", cfg))]
    out.append(plain(main.invoke(lib.Command(resume="A"), cfg)))
    out.append(plain(main.invoke(lib.Command(resume="B"), cfg)))
    return {"out": out, "ran": ran}


@scenario
def messages_from_a_task(lib: Any) -> Any:
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    @lib.task
    def call_model(topic: str) -> str:
        model = GenericFakeChatModel(messages=iter([AIMessage(content="hello there")]))
        return model.invoke(topic).content

    @lib.entrypoint()
    def main(topic: str) -> str:
        return call_model(topic).result()

    keys = ("langgraph_node", "langgraph_step", "langgraph_triggers")
    return [
        (chunk.content, {k: meta.get(k) for k in keys})
        for chunk, meta in main.stream("x", stream_mode="messages")
    ]


@dataclasses.dataclass
class Ctx:
    user: str


@scenario
def runtime_context_and_writers_in_tasks(lib: Any) -> Any:
    if lib.name == "langgraph":
        from langgraph.config import get_config, get_stream_writer
        from langgraph.runtime import get_runtime
    else:
        from graphpool.config import get_config, get_stream_writer
        from graphpool.runtime import get_runtime

    @lib.task
    def greet(x: int) -> str:
        runtime = get_runtime(Ctx)
        get_stream_writer()({"from": "task", "x": x})
        return f"{x}-{runtime.context.user}-{get_config()['metadata']['langgraph_node']}"

    @lib.entrypoint(context_schema=Ctx)
    def main(x, *, runtime):  # injected by name
        runtime.stream_writer("entry")
        return greet(x).result() + runtime.context.user

    modes = ["custom", "updates"]
    return {
        "stream": list(main.stream(1, context=Ctx(user="ann"), stream_mode=modes)),
        "invoke": main.invoke(2, context=Ctx(user="bob")),
    }


@scenario
def drawing(lib: Any) -> Any:
    @lib.entrypoint()
    def workflow(x: int) -> int:
        return x

    graph = workflow.get_graph()
    edges = [(e.source, e.target, e.conditional) for e in graph.edges]
    return {"mermaid": graph.draw_mermaid(), "nodes": list(graph.nodes), "edges": edges}


@scenario
def graph_first_invoked_after_a_resume(lib: Any) -> Any:
    """A graph the entrypoint invokes only after its interrupt was answered: on the
    resumed run it starts with its input (it has no saved state to resume)."""
    if lib.name == "langgraph":
        from langgraph.graph import START, StateGraph
    else:
        from graphpool.graph import START, StateGraph

    def shout(words: list[str]) -> list[str]:
        return [w.upper() for w in words]

    builder = StateGraph(list[str])
    builder.add_node(shout)
    builder.add_edge(START, "shout")
    inner = builder.compile()

    @lib.entrypoint(checkpointer=lib.InMemorySaver())
    def flow(words: list[str]) -> list[str]:
        answer = lib.interrupt("more?")
        return inner.invoke([*words, answer])

    cfg = _thread()
    first = plain(list(flow.stream(["a"], cfg)))
    return {"first": first, "resumed": flow.invoke(lib.Command(resume="b"), cfg)}


@scenario
def task_calls_traced_under_their_entrypoint(lib: Any) -> Any:
    """A tracer in the config sees each task call as a chain run under the
    entrypoint's, its inputs the arguments by name, in sync and async code."""
    from langchain_core.tracers.base import BaseTracer

    class Tracer(BaseTracer):
        def __init__(self) -> None:
            super().__init__()
            self.roots: list[Any] = []

        def _persist_run(self, run: Any) -> None:
            self.roots.append(run)

    def tree(run: Any) -> Any:
        # the calls' runs in full; of the graph's and the entrypoint's, the names
        # (the entrypoint run's output is another matter: graphpool's adds "previous")
        children = sorted((tree(c) for c in run.child_runs), key=repr)
        if children:
            return (run.name, children)
        return (run.name, run.inputs, run.outputs, run.error is not None)

    @lib.task
    def add(a: int, b: int = 10) -> int:
        if a < 0:
            raise KeyError("negative")
        return a + b

    @lib.task
    async def twice(x: int) -> int:
        return 2 * x

    @lib.entrypoint()
    def sync_flow(xs: list[int]) -> int:
        total = sum(f.result() for f in [add(x) for x in xs])
        try:
            add(-1).result()
        except KeyError:
            pass
        return add(total, b=1).result()

    @lib.entrypoint()
    async def async_flow(xs: list[int]) -> list[int]:
        return list(await asyncio.gather(*[twice(x) for x in xs]))

    found = {}
    for name, run in (
        ("sync", lambda cfg: sync_flow.invoke([1, 2], cfg)),
        ("async", lambda cfg: asyncio.run(async_flow.ainvoke([1, 2], cfg))),
    ):
        tracer = Tracer()
        result = run({"callbacks": [tracer]})
        found[name] = (result, [tree(r) for r in tracer.roots])
    return found


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_same_as_langgraph(name: str) -> None:
    expected = SCENARIOS[name](_lib("langgraph"))
    actual = SCENARIOS[name](_lib("graphpool"))
    assert actual == expected
