"""The server's SQLite saver: a run's checkpoint reads and writes from the event loop
are made on the loop's thread (no hop to a worker thread), and round-trip."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from typing_extensions import TypedDict

from graphpool.graph import START, StateGraph
from graphpool.server._sqlite import LoopSqliteSaver


class State(TypedDict, total=False):
    n: int


class _Watched(LoopSqliteSaver):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.threads: set[int] = set()

    def put(self, *args: Any, **kwargs: Any) -> Any:
        self.threads.add(threading.get_ident())
        return super().put(*args, **kwargs)

    def get_tuple(self, *args: Any, **kwargs: Any) -> Any:
        self.threads.add(threading.get_ident())
        return super().get_tuple(*args, **kwargs)


@pytest.mark.timeout(30)
def test_an_async_run_saves_on_the_loops_thread(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "c.db", check_same_thread=False, isolation_level=None)
    saver = _Watched(conn)
    graph = (
        StateGraph(State)
        .add_node("bump", lambda s: {"n": s.get("n", 0) + 1})
        .add_edge(START, "bump")
        .compile(checkpointer=saver)
    )
    config = {"configurable": {"thread_id": "t"}}

    async def scenario() -> tuple[list[Any], int, Any]:
        chunks = [c async for c in graph.astream({"n": 1}, config, stream_mode="values")]
        saved = await saver.aget_tuple(config)
        return chunks, threading.get_ident(), saved

    chunks, loop_thread, saved = asyncio.run(scenario())
    conn.close()
    assert chunks == [{"n": 1}, {"n": 2}]
    assert saver.threads == {loop_thread}
    assert saved is not None and saved.checkpoint.values["n"] == 2  # type: ignore[attr-defined]
