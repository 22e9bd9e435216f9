"""Graphs with a checkpointer: threads, resume, human-in-the-loop, errors; once per saver."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
import operator
import threading
import time
import uuid
from typing import Annotated, TypedDict

import pydantic
import pytest

from graphpool import (
    END,
    START,
    Command,
    EmptyInputError,
    GraphRecursionError,
    InvalidConfigError,
    InvalidGraphError,
    InvalidResumeError,
    InvalidUpdateError,
    Send,
    SerializationError,
    StateGraph,
    ThreadBusyError,
    interrupt,
)
from graphpool.checkpoint import InMemorySaver, StateSnapshot
from graphpool.types import StateUpdate

pytestmark = pytest.mark.timeout(60)


class S(TypedDict):
    log: Annotated[list, operator.add]
    x: int


def cfg() -> dict:
    return {"configurable": {"thread_id": f"t-{uuid.uuid4().hex[:8]}"}}


def say(word: str, calls: list | None = None):
    def node(state: S) -> dict:
        if calls is not None:
            calls.append(word)
        return {"log": [word]}

    return node


def chain(*names: str, calls: list | None = None, **compile_args):
    b = StateGraph(S)
    for name in names:
        b.add_node(name, say(name, calls))
    b.add_edge(START, names[0])
    for left, right in itertools.pairwise(names):
        b.add_edge(left, right)
    return b.compile(**compile_args)


def test_a_thread_continues_from_its_saved_state(saver) -> None:
    graph = chain("a", "b", checkpointer=saver)
    config = cfg()
    assert graph.invoke({"log": ["in1"], "x": 1}, config) == {"log": ["in1", "a", "b"], "x": 1}
    assert graph.invoke({"log": ["in2"]}, config) == {
        "log": ["in1", "a", "b", "in2", "a", "b"],
        "x": 1,
    }
    state = graph.get_state(config)
    assert isinstance(state, StateSnapshot)
    assert state.values == {"log": ["in1", "a", "b", "in2", "a", "b"], "x": 1}
    assert state.next == () and state.metadata["step"] == 6
    history = list(graph.get_state_history(config))
    assert [(h.metadata["source"], h.metadata["step"], h.next) for h in history] == [
        ("loop", 6, ()),
        ("loop", 5, ("b",)),
        ("loop", 4, ("a",)),
        ("input", 3, ("__start__",)),
        ("loop", 2, ()),
        ("loop", 1, ("b",)),
        ("loop", 0, ("a",)),
        ("input", -1, ("__start__",)),
    ]  # LangGraph's numbering
    assert history[0].parent_config == history[1].config
    other = cfg()
    assert graph.invoke({"log": ["solo"]}, other)["log"] == ["solo", "a", "b"]


def test_state_of_an_unknown_thread_is_empty(saver) -> None:
    graph = chain("a", checkpointer=saver)
    config = cfg()
    assert graph.get_state(config) == StateSnapshot({}, (), config, None, None, None, (), ())
    assert list(graph.get_state_history(config)) == []
    with pytest.raises(EmptyInputError, match="no saved state"):
        graph.invoke(None, config)
    with pytest.raises(InvalidResumeError):
        graph.invoke(Command(resume=1), config)
    with pytest.raises(InvalidConfigError, match="thread_id"):
        graph.invoke({"log": []})


def test_interrupt_and_resume(saver) -> None:
    calls: list[str] = []

    def ask(state: S) -> dict:
        calls.append("ask")
        try:
            first = interrupt("first?")
            second = interrupt({"q": "second?"})
        except Exception:  # must not swallow the pause
            pytest.fail("interrupt() was caught by except Exception")
        return {"log": [f"{first}+{second}"]}

    b = StateGraph(S)
    b.add_node("ask", ask)
    b.add_node("side", say("side", calls))
    b.add_node("after", say("after", calls))
    b.add_edge(START, "ask")
    b.add_edge(START, "side")
    b.add_edge(["ask", "side"], "after")
    graph = b.compile(checkpointer=saver)
    config = cfg()

    out = graph.invoke({"log": []}, config)
    assert out["log"] == ["side"]  # the finished sibling's write is shown, as in LangGraph
    [pending] = out["__interrupt__"]
    assert pending.value == "first?" and len(pending.id) == 32
    state = graph.get_state(config)
    assert state.next == ("ask",) and state.interrupts == (pending,)
    assert state.values == {"log": ["side"]}

    out = graph.invoke(Command(resume="one"), config)
    [pending2] = out["__interrupt__"]
    assert pending2.value == {"q": "second?"} and pending2.id != pending.id

    out = graph.invoke(Command(resume="two"), config)
    assert out == {"log": ["one+two", "side", "after"]}
    assert sorted(calls[:2]) == ["ask", "side"]  # the first step ran both (in any order)
    assert calls[2:] == ["ask", "ask", "after"]  # then only the paused node, twice: side once
    assert graph.get_state(config).interrupts == ()


def test_parallel_interrupts_are_answered_by_id(saver) -> None:
    def asker(name: str):
        def node(state: S) -> dict:
            return {"log": [f"{name}={interrupt(name)}"]}

        return node

    b = StateGraph(S)
    b.add_node("p", asker("p"))
    b.add_node("q", asker("q"))
    b.add_edge(START, "p")
    b.add_edge(START, "q")
    graph = b.compile(checkpointer=saver)
    config = cfg()
    out = graph.invoke({"log": []}, config)
    ids = {i.value: i.id for i in out["__interrupt__"]}
    assert set(ids) == {"p", "q"}
    with pytest.raises(InvalidResumeError, match="2 interrupts are pending"):
        graph.invoke(Command(resume="x"), config)
    out = graph.invoke(Command(resume={ids["q"]: "Q"}), config)
    assert [i.id for i in out["__interrupt__"]] == [ids["p"]]  # same id: same task
    assert graph.invoke(Command(resume="P"), config) == {"log": ["p=P", "q=Q"]}


def test_breakpoints_before_and_after(saver) -> None:
    calls: list[str] = []
    graph = chain(
        "a",
        "b",
        "c",
        calls=calls,
        checkpointer=saver,
        interrupt_before=["c"],
        interrupt_after=["a"],
    )
    config = cfg()
    assert graph.invoke({"log": []}, config) == {"log": ["a"]}
    assert graph.get_state(config).next == ("b",)
    assert graph.invoke(None, config) == {"log": ["a", "b"]}
    assert graph.get_state(config).next == ("c",)
    chunks = list(graph.stream(None, config, stream_mode="updates"))
    assert chunks == [{"c": {"log": ["c"]}}]
    assert calls == ["a", "b", "c"]
    assert graph.invoke(None, config) == {"log": ["a", "b", "c"]}  # done: nothing runs


def test_breakpoints_without_checkpointer_stop_the_run() -> None:
    graph = chain("a", "b", interrupt_before=["b"])
    assert list(graph.stream({"log": []}, stream_mode="updates")) == [
        {"a": {"log": ["a"]}},
        {"__interrupt__": ()},
    ]


def test_interrupt_without_checkpointer_returns_it() -> None:
    b = StateGraph(S)
    b.add_node("ask", lambda s: {"log": [interrupt("hi")]})
    b.add_edge(START, "ask")
    out = b.compile().invoke({"log": ["x"]})
    assert out["log"] == ["x"] and out["__interrupt__"][0].value == "hi"
    with pytest.raises(InvalidResumeError, match="checkpointer"):
        b.compile().invoke(Command(resume=1))
    with pytest.raises(RuntimeError, match="inside a node"):
        interrupt("outside")


@pytest.mark.parametrize("durability", ["sync", "async"])
def test_a_finished_task_is_saved_while_the_task_started_before_it_runs(
    saver, durability: str
) -> None:
    # "waits" is the step's first task: the one a sync caller used to keep and run
    # itself, which left the result of "quick" unsaved until "waits" ended (a crash
    # meanwhile lost it; tests/test_crash_resume.py failed so under load)
    def waits(state: S) -> dict:
        deadline = time.monotonic() + 10
        while not any(r.node == "quick" for r in saver.get_tuple(config).results):
            assert time.monotonic() < deadline, "the finished sibling was not saved"
            time.sleep(0.005)
        return {"log": ["waits"]}

    b = StateGraph(S)
    b.add_node("waits", waits)
    b.add_node("quick", say("quick"))
    b.add_edge(START, "waits")
    b.add_edge(START, "quick")
    config = cfg()
    out = b.compile(checkpointer=saver).invoke({"log": []}, config, durability=durability)
    assert out == {"log": ["quick", "waits"]}  # the order LangGraph 1.2 gives


def test_after_an_error_only_the_failed_task_runs_again(saver) -> None:
    calls: list[str] = []
    fail = {"on": True}

    def flaky(state: S) -> dict:
        calls.append("flaky")
        if fail["on"]:
            # fail once the sibling's result is saved (it is saved as soon as it finishes)
            deadline = time.monotonic() + 10
            while not any(r.node == "ok" for r in saver.get_tuple(config).results):
                assert time.monotonic() < deadline, "the finished sibling was not saved"
                time.sleep(0.005)
            raise ValueError("boom")
        return {"log": ["flaky"]}

    b = StateGraph(S)
    b.add_node("ok", say("ok", calls))
    b.add_node("flaky", flaky)
    b.add_node("end", say("end", calls))
    b.add_edge(START, "ok")
    b.add_edge(START, "flaky")
    b.add_edge(["ok", "flaky"], "end")
    graph = b.compile(checkpointer=saver)
    config = cfg()
    with pytest.raises(ValueError, match="boom"):
        graph.invoke({"log": []}, config)
    state = graph.get_state(config)
    assert state.next == ("flaky",)
    assert [t.error for t in state.tasks if t.name == "flaky"] == ["ValueError('boom')"]
    fail["on"] = False
    assert graph.invoke(None, config) == {"log": ["flaky", "ok", "end"]}  # by node name
    assert sorted(calls) == ["end", "flaky", "flaky", "ok"]


def test_update_state_then_continue(saver) -> None:
    graph = chain("a", "b", "c", checkpointer=saver, interrupt_before=["b"])
    config = cfg()
    graph.invoke({"log": [], "x": 0}, config)
    with pytest.raises(InvalidUpdateError, match="no such node"):
        graph.update_state(config, {"x": 1}, as_node="nope")
    new_config = graph.update_state(config, {"x": 7, "log": ["human"]})  # as "a", the last node
    assert new_config["configurable"]["checkpoint_id"] != config["configurable"].get(
        "checkpoint_id"
    )
    state = graph.get_state(config)
    assert state.values == {"log": ["a", "human"], "x": 7}
    assert state.next == ("b",) and state.metadata["source"] == "update"
    assert graph.invoke(None, config) == {"log": ["a", "human", "b", "c"], "x": 7}
    # as another node: its edges decide what runs next
    graph.update_state(config, {"log": ["again"]}, as_node="b")
    assert graph.get_state(config).next == ("c",)
    assert graph.invoke(None, config)["log"][-2:] == ["again", "c"]


def test_command_update_and_goto_on_resume(saver) -> None:
    graph = chain("a", "b", checkpointer=saver)
    config = cfg()
    graph.invoke({"log": [], "x": 0}, config)
    out = graph.invoke(Command(update={"x": 5}, goto="b"), config)
    assert out == {"log": ["a", "b", "b"], "x": 5}
    out = graph.invoke(Command(goto=Send("a", {"log": ["sent"], "x": 9})), config)
    assert out["log"][-2:] == ["a", "b"]


def test_two_runs_on_one_thread_at_once(saver) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow(state: S) -> dict:
        entered.set()
        assert release.wait(10)
        return {"log": ["slow"]}

    b = StateGraph(S)
    b.add_node("slow", slow)
    b.add_edge(START, "slow")
    graph = b.compile(checkpointer=saver)
    config = cfg()
    result: dict = {}
    runner = threading.Thread(target=lambda: result.update(graph.invoke({"log": []}, config)))
    runner.start()
    assert entered.wait(10)
    with pytest.raises(ThreadBusyError, match="in use by another run"):
        graph.invoke({"log": []}, config)
    with pytest.raises(ThreadBusyError):
        graph.update_state(config, {"x": 1}, as_node="slow")
    assert chain("a", checkpointer=saver).invoke({"log": []}, cfg()) == {"log": ["a"]}
    assert graph.get_state(config).next == ("slow",)  # reading does not need the thread
    release.set()
    runner.join(10)
    assert result == {"log": ["slow"]}
    entered.clear()
    assert graph.invoke({"log": ["next"]}, config)["log"] == ["slow", "next", "slow"]


def test_unstorable_write_fails_naming_key_and_node(saver) -> None:
    b = StateGraph(S)
    b.add_node("bad", lambda s: {"log": [threading.Lock()]})
    b.add_edge(START, "bad")
    graph = b.compile(checkpointer=saver)
    with pytest.raises(SerializationError, match="node 'bad' to 'log'"):
        graph.invoke({"log": []}, cfg())


def test_recursion_limit_counts_from_each_invocation(saver) -> None:
    names = [f"n{i}" for i in range(12)]
    graph = chain(*names, checkpointer=saver, interrupt_after=["n2"])
    config = {**cfg(), "recursion_limit": 3}
    assert graph.invoke({"log": []}, config)["log"] == ["n0", "n1", "n2"]
    with pytest.raises(GraphRecursionError):
        graph.invoke(None, config)
    assert graph.get_state(config).values["log"] == names[:8]  # as LangGraph: 5 more steps


def test_replay_from_an_earlier_checkpoint(saver) -> None:
    calls: list[str] = []
    graph = chain("a", "b", calls=calls, checkpointer=saver)
    config = cfg()
    graph.invoke({"log": []}, config)
    before_b = next(h for h in graph.get_state_history(config) if h.next == ("b",))
    assert graph.invoke(None, before_b.config) == {"log": ["a", "b"]}
    assert calls == ["a", "b", "b"]
    # the new branch starts with a copy of before_b (a "fork"), as LangGraph's does
    fork = graph.get_state(graph.get_state(config).parent_config)
    assert fork.parent_config == before_b.config
    assert (fork.metadata["source"], fork.metadata["step"]) == (
        "fork",
        before_b.metadata["step"] + 1,
    )
    assert (fork.next, fork.values) == (before_b.next, before_b.values)


def test_bulk_update_rebuilds_a_thread_with_its_task_results(saver) -> None:
    graph = chain("a", "b", checkpointer=saver)
    config = cfg()
    last = graph.bulk_update_state(
        config,
        [
            [StateUpdate({"log": [], "x": 0}, "__input__")],
            [StateUpdate({"log": ["in"], "x": 1}, START)],
            [StateUpdate({"log": ["A"]}, "a")],
        ],
    )
    assert graph.get_state(last).values == {"log": ["in", "A"], "x": 1}
    history = list(graph.get_state_history(config))
    assert [(h.metadata["source"], h.metadata["step"], h.next) for h in history] == [
        ("update", 1, ("b",)),
        ("update", 0, ("a",)),
        ("input", -1, ("__start__",)),
    ]
    # each update is recorded as the result of the task it stands for
    assert [[(t.name, t.result) for t in h.tasks] for h in history] == [
        [("b", None)],
        [("a", {"log": ["A"]})],
        [("__start__", {"log": ["in"], "x": 1})],
    ]
    assert graph.invoke(None, config) == {"log": ["in", "A", "b"], "x": 1}


def test_bulk_update_refuses_bad_supersteps_before_writing(saver) -> None:
    graph = chain("a", checkpointer=saver)
    config = cfg()
    with pytest.raises(InvalidConfigError, match="No supersteps provided"):
        graph.bulk_update_state(config, [])
    with pytest.raises(InvalidConfigError, match="No updates provided in superstep 1"):
        graph.bulk_update_state(config, [[StateUpdate({"x": 1}, "a")], []])
    with pytest.raises(InvalidUpdateError, match="as_node is required"):
        graph.bulk_update_state(config, [[StateUpdate({"x": 1}), StateUpdate({"x": 2})]])
    with pytest.raises(InvalidUpdateError, match="Cannot apply multiple updates"):
        graph.bulk_update_state(config, [[StateUpdate(None, END), StateUpdate(None, "__copy__")]])
    with pytest.raises(InvalidUpdateError, match="Received no input writes"):
        graph.update_state(config, None, as_node="__input__")
    with pytest.raises(InvalidUpdateError, match="Cannot copy a non-existent checkpoint"):
        graph.update_state(config, None, as_node="__copy__")
    assert list(graph.get_state_history(config)) == []


def test_copy_forks_a_sibling_that_runs_the_step_again(saver) -> None:
    calls: list[str] = []
    graph = chain("a", "b", calls=calls, checkpointer=saver)
    config = cfg()
    graph.invoke({"log": []}, config)
    before_b = next(h for h in graph.get_state_history(config) if h.next == ("b",))
    with pytest.raises(InvalidUpdateError, match="must be None or a list of StateUpdate"):
        graph.update_state(before_b.config, {"log": ["x"]}, as_node="__copy__")
    fork = graph.update_state(before_b.config, None, as_node="__copy__")
    copied = graph.get_state(fork)
    assert copied.metadata == {"source": "fork", "step": 2, "parents": {}}
    assert copied.parent_config == before_b.parent_config  # a sibling, not a child
    assert (copied.values, copied.next) == (before_b.values, before_b.next)
    assert graph.invoke(None, fork) == {"log": ["a", "b"]}
    assert calls == ["a", "b", "b"]
    edited = graph.update_state(before_b.config, [StateUpdate({"log": ["B"]}, "b")], "__copy__")
    assert graph.get_state(edited).values == {"log": ["a", "B"]}
    assert graph.get_state(edited).next == ()


def test_abulk_update_state(saver) -> None:
    graph = chain("a", "b", checkpointer=saver)
    config = cfg()

    async def go() -> dict:
        await graph.abulk_update_state(config, [[StateUpdate({"log": ["in"]}, START)]])
        await graph.aupdate_state(config, {"log": ["A"]}, as_node="a")
        return (await graph.aget_state(config)).values

    assert asyncio.run(go()) == {"log": ["in", "A"]}


class Model(pydantic.BaseModel):
    when: dt.datetime
    tags: set[str] = set()


@dataclasses.dataclass
class Item:
    name: str
    size: tuple[int, int]


class Rich(TypedDict):
    model: Model
    items: Annotated[list, operator.add]
    raw: bytes


def test_rich_values_survive_the_store(saver) -> None:
    def add(state: Rich) -> dict:
        return {"items": [Item("b", (3, 4))], "raw": state["raw"] + b"!"}

    b = StateGraph(Rich)
    b.add_node("add", add)
    b.add_edge(START, "add")
    b.add_edge("add", END)
    graph = b.compile(checkpointer=saver)
    config = cfg()
    model = Model(when=dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc), tags={"x"})
    graph.invoke({"model": model, "items": [Item("a", (1, 2))], "raw": b"\x00"}, config)
    values = graph.get_state(config).values
    assert values == {
        "model": model,
        "items": [Item("a", (1, 2)), Item("b", (3, 4))],
        "raw": b"\x00!",
    }


def test_async_runs_resume_too(saver) -> None:
    async def ask(state: S) -> dict:
        return {"log": [interrupt("q")]}

    b = StateGraph(S)
    b.add_node("ask", ask)
    b.add_node("after", say("after"))
    b.add_edge(START, "ask")
    b.add_edge("ask", "after")
    graph = b.compile(checkpointer=saver)
    config = cfg()

    async def go():
        first = await graph.ainvoke({"log": []}, config)
        chunks = [
            c async for c in graph.astream(Command(resume="A"), config, stream_mode="updates")
        ]
        return first, chunks, await graph.aget_state(config)

    first, chunks, state = asyncio.run(go())
    assert first["__interrupt__"][0].value == "q"
    assert chunks == [{"ask": {"log": ["A"]}}, {"after": {"log": ["after"]}}]
    assert state.values == {"log": ["A", "after"]}


class _LoggedSaver(InMemorySaver):
    """An InMemorySaver whose ``aput`` (LangGraph's signature) logs and yields."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[str] = []

    async def aput(self, config, checkpoint, metadata, new_versions):  # type: ignore[no-untyped-def, override]
        self.log.append(f"aput.start {metadata['source']}")
        try:
            for _ in range(3):
                await asyncio.sleep(0)  # a caller's cancellation could land here
            return await super().aput(config, checkpoint, metadata, new_versions)
        finally:
            self.log.append("aput.end")


def test_async_runs_save_checkpoints_through_aput() -> None:
    saver = _LoggedSaver()
    graph = chain("a", "b", checkpointer=saver)
    config = cfg()
    assert asyncio.run(graph.ainvoke({"log": []}, config)) == {"log": ["a", "b"]}
    sources = [e.split()[1] for e in saver.log if e.startswith("aput.start")]
    assert sources == ["input", "loop", "loop", "loop"]
    assert len(list(graph.get_state_history(config))) == 4


@pytest.mark.parametrize("how", ["ainvoke", "astream"])
def test_a_cancelled_async_run_still_saves_its_exit_checkpoint(how: str) -> None:
    saver = _LoggedSaver()
    log = saver.log

    async def waits(state: S) -> dict:
        log.append("node.start")
        try:
            await asyncio.Event().wait()  # until cancelled
        finally:
            log.append("node.end")
        return {}

    b = StateGraph(S)
    b.add_node("a", say("a"))
    b.add_node("waits", waits)
    b.add_edge(START, "a")
    b.add_edge("a", "waits")
    graph = b.compile(checkpointer=saver)
    config = cfg()

    async def go() -> None:
        if how == "ainvoke":
            run = asyncio.ensure_future(graph.ainvoke({"log": []}, config, durability="exit"))
        else:
            stream = graph.astream({"log": []}, config, durability="exit")
            assert await stream.__anext__() == {"a": {"log": ["a"]}}
            run = asyncio.ensure_future(stream.__anext__())
        while "node.start" not in log:
            await asyncio.sleep(0)
        assert log == ["node.start"]  # nothing saved yet: durability="exit"
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run

    asyncio.run(go())
    assert log == ["node.start", "node.end", "aput.start loop", "aput.end"]
    state = graph.get_state(config)
    assert (state.values, state.next) == ({"log": ["a"]}, ("waits",))


def test_compile_checks() -> None:
    from langgraph.checkpoint.memory import InMemorySaver as LangGraphSaver

    b = StateGraph(S)
    b.add_node("a", say("a"))
    b.add_edge(START, "a")
    with pytest.raises(InvalidGraphError, match="graphpool saver") as refused:
        b.compile(checkpointer=LangGraphSaver())
    assert isinstance(refused.value, TypeError)  # as LangGraph's "Invalid checkpointer"
    with pytest.raises(InvalidGraphError, match="'zz' not found"):
        b.compile(interrupt_before=["zz"])
    with pytest.raises(InvalidGraphError, match="eager"):
        b.compile(checkpointer=InMemorySaver(), scheduling="eager", interrupt_before=["a"])
    with pytest.raises(ValueError, match="checkpointer"):
        b.compile().get_state(cfg())
