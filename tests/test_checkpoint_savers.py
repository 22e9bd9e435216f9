"""The savers themselves (in memory, SQLite, PostgreSQL): storage, leases, concurrency."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
import uuid

import pytest

from graphpool import Interrupt, Send, ThreadBusyError
from graphpool.checkpoint import Checkpoint, TaskResult
from graphpool.checkpoint.base import Lease, new_checkpoint_id
from graphpool.checkpoint.sqlite import SqliteSaver
from graphpool.errors import InvalidConfigError, SerializationError

pytestmark = pytest.mark.timeout(60)


def thread() -> dict:
    return {"configurable": {"thread_id": f"t-{uuid.uuid4().hex[:8]}"}}


def checkpoint(step: int, **values) -> Checkpoint:
    return Checkpoint(
        id=new_checkpoint_id(),
        step=step,
        values=values,
        triggered=(("b", ("branch:to:b",)),),
        sends=(Send("w", {"i": step}),),
        barriers={"join:a+b:c": ("a",)},
    )


def test_checkpoint_ids_sort_in_the_order_they_were_made() -> None:
    made = [new_checkpoint_id() for _ in range(2000)]  # many share a millisecond
    assert sorted(made) == made and len(set(made)) == len(made)


def test_put_writes_files_langgraphs_pending_writes_as_task_results(saver) -> None:
    config = saver.put(thread(), checkpoint(0, x=1), {"source": "loop", "step": 0}, {})
    asked = Interrupt("q?", id="i" * 32)
    saver.put_writes(config, [("x", 2), ("branch:to:c", None)], "t1", "~__pregel_pull, b")
    saver.put_writes(config, [("__pregel_tasks", Send("w", 1))], "t2", "~__pregel_pull, b2")
    saver.put_writes(config, [("__interrupt__", [asked]), ("__resume__", ["yes"])], "t3")
    saver.put_writes(config, [("__error__", ValueError("boom"))], "t4")
    null = "00000000-0000-0000-0000-000000000000"
    asyncio.run(saver.aput_writes(config, [("x", 7)], null))
    got = {r.task_id: r for r in saver.get_tuple(config).results}
    assert (got["t1"].node, got["t1"].writes, got["t1"].routes) == ("b", (("x", 2),), ("c",))
    assert (got["t2"].node, got["t2"].routes) == ("b2", (Send("w", 1),))
    assert (got["t3"].interrupts, got["t3"].answers, got["t3"].succeeded) == (
        (asked,),
        ("yes",),
        False,
    )
    assert got["t4"].error == "ValueError('boom')"
    assert (got[null].node, got[null].writes) == ("__input__", (("x", 7),))


def test_put_get_list_and_results(saver) -> None:
    config = thread()
    assert saver.get_tuple(config) is None
    first = saver.put(config, checkpoint(0, x=1), {"source": "loop", "step": 0})
    second = saver.put(first, checkpoint(1, x=2), {"source": "loop", "step": 1})
    saver.put_result(second, TaskResult("t1", "b", writes=(("x", 3),), routes=("c",)))
    saver.put_result(second, TaskResult("t2", "w", error="ValueError('boom')"))
    saver.put_result(second, TaskResult("t1", "b", writes=(("x", 4),)))  # replaces t1's

    latest = saver.get_tuple(config)
    assert latest.checkpoint.values == {"x": 2}
    assert latest.checkpoint.get("channel_values") == {"x": 2}  # LangGraph's key names
    assert latest.checkpoint.get("id") == second["configurable"]["checkpoint_id"]
    assert latest.checkpoint.get("channel_versions", {}) == {}
    assert latest.checkpoint.sends == (Send("w", {"i": 1}),)
    assert latest.checkpoint.barriers == {"join:a+b:c": ("a",)}
    assert latest.metadata == {"source": "loop", "step": 1}
    assert latest.parent_config == first
    assert {r.task_id: r.writes for r in latest.results} == {"t1": (("x", 4),), "t2": ()}

    history = list(saver.list(config))
    assert [t.checkpoint.step for t in history] == [1, 0]
    assert history[1].results == ()
    assert saver.get_tuple(first).checkpoint.values == {"x": 1}
    assert [t.checkpoint.step for t in saver.list(config, before=second)] == [0]
    assert len(list(saver.list(config, limit=1))) == 1

    saver.delete_thread(config["configurable"]["thread_id"])
    assert saver.get_tuple(config) is None


def test_async_forms_match_the_sync_ones(saver) -> None:
    config = thread()

    async def go() -> None:
        assert await saver.aget_tuple(config) is None
        assert await saver.aget(config) is None
        first = await saver.aput(config, checkpoint(0, x=1), {"source": "input", "step": 0})
        second = await saver.aput(first, checkpoint(1, x=2), {"source": "loop", "step": 1})
        await saver.aput_result(second, TaskResult("t1", "b", writes=(("x", 3),)))
        latest = await saver.aget_tuple(config)
        assert latest == saver.get_tuple(config)
        assert latest.checkpoint.values == {"x": 2}
        assert [r.writes for r in latest.results] == [(("x", 3),)]
        assert (await saver.aget(first)).values == {"x": 1}
        assert [t.checkpoint.step async for t in saver.alist(config)] == [1, 0]
        assert [t.checkpoint.step async for t in saver.alist(config, limit=1)] == [1]
        assert [t.checkpoint.step async for t in saver.alist(config, before=second)] == [0]
        loops = [t.checkpoint.step async for t in saver.alist(config, filter={"source": "loop"})]
        assert loops == [1]
        await saver.adelete_thread(config["configurable"]["thread_id"])
        assert await saver.aget_tuple(config) is None

    asyncio.run(go())


def test_list_filters_on_metadata_before_the_limit(saver) -> None:
    config = thread()
    at = config
    for step in range(4):
        source = "loop" if step % 2 else "update"
        at = saver.put(at, checkpoint(step, x=step), {"source": source, "step": step})
    found = list(saver.list(config, filter={"source": "update"}, limit=1))
    assert [t.checkpoint.step for t in found] == [2]
    assert [t.checkpoint.step for t in saver.list(config, filter={"source": "loop"})] == [3, 1]
    assert [t.checkpoint.step for t in saver.list(at)] == [3]  # a checkpoint_id: that one only


def test_thread_id_is_required(saver) -> None:
    with pytest.raises(InvalidConfigError, match="thread_id"):
        saver.get_tuple({"configurable": {}})


def test_unstorable_value_names_the_state_key(saver) -> None:
    config = thread()
    with pytest.raises(SerializationError, match="state key 'handle'"):
        saver.put(config, checkpoint(0, ok=1, handle=threading.Lock()), {})
    first = saver.put(config, checkpoint(0, ok=1), {})
    bad = TaskResult("t", "writer", writes=(("log", [object()]),))
    message = r"the write of node 'writer' to 'log': the value at \[0\] \(a object\)"
    with pytest.raises(SerializationError, match=message):
        saver.put_result(first, bad)


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="start times come from /proc")
@pytest.mark.timeout(30)
def test_a_forked_process_leases_under_its_own_pid_and_start_time() -> None:
    """Lease.mine() keeps the process's start time after reading it once; a child
    forked afterwards reads its own."""
    from graphpool.checkpoint._lease import _process_start

    parent = Lease.mine()
    assert (parent.pid, parent.started) == (os.getpid(), _process_start(os.getpid()))
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child reports through the pipe)
        lease = Lease.mine()
        ok = lease.pid == os.getpid() and lease.started == _process_start(os.getpid())
        os.write(writer, b"1" if ok else b"0")
        os._exit(0)
    os.close(writer)
    answer = os.read(reader, 1)
    os.close(reader)
    os.waitpid(child, 0)
    assert answer == b"1"


def test_one_run_per_thread_at_a_time(saver) -> None:
    thread_id = thread()["configurable"]["thread_id"]
    first, second = Lease.mine(), Lease.mine()
    saver.acquire(thread_id, first)
    with pytest.raises(ThreadBusyError, match="in use by another run") as info:
        saver.acquire(thread_id, second)
    assert info.value.thread_id == thread_id
    saver.refresh(thread_id, first)
    saver.release(thread_id, second)  # not the holder: no effect
    with pytest.raises(ThreadBusyError):
        saver.acquire(thread_id, second)
    saver.release(thread_id, first)
    saver.acquire(thread_id, second)
    saver.release(thread_id, second)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_lease_of_a_dead_process_does_not_block(kind, tmp_path, request) -> None:
    from conftest import make_saver

    saver = make_saver(kind, tmp_path, request)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(dead.stdout)
    thread_id = thread()["configurable"]["thread_id"]
    ghost = Lease("ghost", pid, Lease.mine().host, "1")
    saver._lease(thread_id, ghost, True)  # as if that process had taken it and died
    saver.acquire(thread_id, Lease.mine())  # taken over, no error


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_lease_on_another_host_expires(kind, tmp_path, request) -> None:
    from conftest import make_saver

    saver = make_saver(kind, tmp_path, request)
    thread_id = thread()["configurable"]["thread_id"]
    saver._lease(thread_id, Lease("remote", 1, "some-other-host", ""), True)
    # refreshed just now: alive for a 30 s timeout (a 4-byte REAL column, off by
    # up to a minute at today's Unix times, failed this half of the time)
    saver.lease_timeout = 30.0
    with pytest.raises(ThreadBusyError, match="some-other-host"):
        saver.acquire(thread_id, Lease.mine())
    saver.lease_timeout = 0.0
    saver.acquire(thread_id, Lease.mine())


_WRITER = """
import sys
sys.path.insert(0, {src!r})
from graphpool.checkpoint.sqlite import SqliteSaver
from graphpool.checkpoint import Checkpoint, TaskResult
from graphpool.checkpoint.base import new_checkpoint_id
saver = SqliteSaver({path!r})
config = {{"configurable": {{"thread_id": sys.argv[1]}}}}
for i in range(150):
    checkpoint = Checkpoint(new_checkpoint_id(), i, {{"i": i, "pad": "x" * 500}})
    config = saver.put(config, checkpoint, {{}})
    saver.put_result(config, TaskResult("task", "n", writes=(("i", i),)))
"""


def test_two_processes_share_one_sqlite_file(tmp_path) -> None:
    path = str(tmp_path / "shared.db")
    SqliteSaver(path).close()
    src = os.path.join(os.path.dirname(__file__), "..", "src")
    script = _WRITER.format(src=os.path.abspath(src), path=path)
    procs = [subprocess.Popen([sys.executable, "-c", script, f"w{i}"]) for i in range(2)]
    for proc in procs:
        assert proc.wait(timeout=50) == 0
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    saver = SqliteSaver(path)
    for name in ("w0", "w1"):
        history = list(saver.list({"configurable": {"thread_id": name}}))
        assert [h.checkpoint.step for h in history] == list(range(149, -1, -1))
        assert all(h.results[0].writes == (("i", h.checkpoint.step),) for h in history)
    saver.close()


def test_a_subgraph_namespace_is_a_thread_of_its_own_listed_with_its_root(saver) -> None:
    root = thread()
    thread_id = root["configurable"]["thread_id"]
    inner = {"configurable": {"thread_id": thread_id, "checkpoint_ns": "child:1"}}
    saver.put(root, checkpoint(0, x=1), {"source": "loop", "step": 0})
    saved = saver.put(inner, checkpoint(0, y=2), {"source": "loop", "step": 0})
    assert saved["configurable"] == {**saved["configurable"], "checkpoint_ns": "child:1"}
    assert saver.get_tuple(inner).checkpoint.values == {"y": 2}
    assert saver.get_tuple(root).checkpoint.values == {"x": 1}
    only_root = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
    assert [t.checkpoint.values for t in saver.list(only_root)] == [{"x": 1}]
    everything = [t.config["configurable"]["checkpoint_ns"] for t in saver.list(root)]
    assert sorted(everything) == ["", "child:1"]  # no namespace given: every one
    saver.delete_thread(thread_id)
    assert saver.get_tuple(inner) is None and list(saver.list(root)) == []
