"""Worker kinds chosen per node: thread, process, async (with graph and config defaults)."""

from __future__ import annotations

import asyncio
import operator
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Annotated, TypedDict

import pytest

from graphpool import (
    END,
    START,
    InvalidGraphError,
    SerializationError,
    StateGraph,
)


class S(TypedDict, total=False):
    x: int
    pids: Annotated[list, operator.add]
    log: Annotated[list, operator.add]


def rendezvous(folder: Path, me: str, other: str) -> None:
    """Announce ``me`` and wait for ``other``: passes only if both run at the same time."""
    (folder / me).touch()
    deadline = time.monotonic() + 20
    while not (folder / other).exists():
        assert time.monotonic() < deadline, f"{me} never met {other}: not run in parallel"
        time.sleep(0.005)


def test_process_nodes_run_in_parallel_in_other_processes(pools, tmp_path: Path) -> None:
    def node(me: str, other: str):
        def run(state: S) -> dict:
            rendezvous(tmp_path, me, other)
            return {"pids": [os.getpid()]}

        return run

    b = StateGraph(S)
    b.add_node("a", node("a", "b"), executor="process")
    b.add_node("b", node("b", "a"), executor="process")
    b.add_edge(START, "a")
    b.add_edge(START, "b")
    graph = b.compile()
    graph._pools = pools
    pids = graph.invoke({})["pids"]
    assert len(set(pids)) == 2 and os.getpid() not in pids


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_same_results_on_every_executor(pools, executor: str) -> None:
    offset = 10  # captured by the closures below, pickled by value for processes

    b = StateGraph(S)
    b.add_node("start", lambda s: {"x": s["x"] + offset})
    for i in range(4):
        b.add_node(f"w{i}", lambda s, i=i: {"log": [s["x"] * i]})
        b.add_edge("start", f"w{i}")
        b.add_edge(f"w{i}", END)
    b.add_edge(START, "start")
    graph = b.compile(executor=executor)
    graph._pools = pools
    assert graph.invoke({"x": 1}) == {"x": 11, "pids": [], "log": [0, 11, 22, 33]}


def test_unpicklable_node_fails_when_added() -> None:
    lock = threading.Lock()
    with pytest.raises(SerializationError, match="'locked'"):
        StateGraph(S).add_node("locked", lambda s: lock.locked() and None, executor="process")


def test_unpicklable_graph_default_fails_at_compile() -> None:
    lock = threading.Lock()
    b = StateGraph(S)
    b.add_node("locked", lambda s: lock.locked() and None)
    b.add_edge(START, "locked")
    with pytest.raises(SerializationError, match="'locked'"):
        b.compile(executor="process")


def test_unpicklable_state_fails_naming_node_and_key_before_running(pools) -> None:
    ran = []

    class Holder(TypedDict, total=False):
        x: int
        handle: object

    b = StateGraph(Holder)
    b.add_node("prep", lambda s: {"handle": threading.Lock()})
    b.add_node("cpu", lambda s: ran.append(1), executor="process")
    b.add_edge(START, "prep")
    b.add_edge("prep", "cpu")
    graph = b.compile()
    graph._pools = pools
    with pytest.raises(SerializationError, match=r"'cpu'.*'handle'") as info:
        graph.invoke({})
    assert info.value.node == "cpu" and ran == []


def test_config_executor_overrides_compile_default(pools) -> None:
    b = StateGraph(S)
    b.add_node("where", lambda s: {"pids": [os.getpid()]})
    b.add_edge(START, "where")
    graph = b.compile(executor="process")
    graph._pools = pools
    assert graph.invoke({}, {"executor": "thread"})["pids"] == [os.getpid()]
    assert graph.invoke({})["pids"] != [os.getpid()]


@pytest.mark.parametrize(
    ("executor", "fn", "match"),
    [
        ("async", lambda s: None, "async def"),
        ("gpu", lambda s: None, "unknown"),
    ],
)
def test_bad_executor_choices(executor: str, fn, match: str) -> None:
    with pytest.raises(InvalidGraphError, match=match):
        StateGraph(S).add_node("n", fn, executor=executor)


def test_async_node_refuses_thread_executor() -> None:
    async def node(state: S) -> dict:
        return {}

    with pytest.raises(InvalidGraphError, match="event loop"):
        StateGraph(S).add_node("n", node, executor="thread")


def test_bad_config_executor() -> None:
    b = StateGraph(S)
    b.add_node("n", lambda s: None)
    b.add_edge(START, "n")
    with pytest.raises(ValueError, match="executor"):
        b.compile().invoke({}, {"executor": "quantum"})


def test_async_fan_out_holds_hundreds_in_flight() -> None:
    width = 300
    arrived = 0

    async def main() -> dict:
        everyone = asyncio.Event()

        async def node(state: S) -> dict:
            nonlocal arrived
            arrived += 1
            if arrived == width:
                everyone.set()
            await asyncio.wait_for(everyone.wait(), 20)  # all must be in flight at once
            return {"log": [1]}

        b = StateGraph(S)
        b.add_node("root", lambda s: {"x": 0})
        b.add_edge(START, "root")
        for i in range(width):
            b.add_node(f"n{i}", node)
            b.add_edge("root", f"n{i}")
        return await b.compile().ainvoke({})

    assert len(asyncio.run(main())["log"]) == width


def test_sync_node_in_async_run_does_not_block_the_loop() -> None:
    async def main() -> dict:
        loop_thread = threading.current_thread()
        released = asyncio.Event()
        sync_thread: list[threading.Thread] = []

        def blocking(state: S) -> dict:
            sync_thread.append(threading.current_thread())
            # blocks its thread until the async sibling runs: if it ran on the
            # loop, the sibling could never run
            asyncio.run_coroutine_threadsafe(released.wait(), loop).result(20)
            return {"log": ["sync"]}

        async def sibling(state: S) -> dict:
            released.set()
            return {"log": ["async"]}

        loop = asyncio.get_running_loop()
        b = StateGraph(S)
        b.add_node("blocking", blocking)
        b.add_node("sibling", sibling)
        b.add_edge(START, "blocking")
        b.add_edge(START, "sibling")
        result = await b.compile().ainvoke({})
        assert sync_thread and sync_thread[0] is not loop_thread
        return result

    assert asyncio.run(main())["log"] == ["sync", "async"]  # node-name order


def test_script_without_main_guard_runs_process_nodes(tmp_path: Path) -> None:
    # Workers must not re-run the main script (plain multiprocessing would, and
    # this script would then start processes from inside a worker).
    script = tmp_path / "no_guard.py"
    script.write_text(
        "import os\n"
        "from typing import TypedDict\n"
        "from graphpool import StateGraph, START\n"
        "class S(TypedDict):\n"
        "    pid: int\n"
        "b = StateGraph(S)\n"
        "b.add_node('cpu', lambda s: {'pid': os.getpid()}, executor='process')\n"
        "b.add_edge(START, 'cpu')\n"
        "print('worker differs:', b.compile().invoke({'pid': 0})['pid'] != os.getpid())\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines() == ["worker differs: True"]
