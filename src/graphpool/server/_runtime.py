"""The server's parts in one object: graphs, storage, queue, events, saver and store."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .._compiled import CompiledStateGraph
from ..checkpoint.postgres import PostgresSaver
from ..checkpoint.sqlite import SqliteSaver
from ..store.postgres import PostgresStore
from ..store.sqlite import SqliteStore
from ._broker import Broker
from ._dbthread import DbThread
from ._dialect import is_postgres
from ._errors import ApiError, not_found
from ._queue import RunQueue, SqlRunQueue
from ._sqlite import LoopSqliteSaver, SqliteStorage
from ._storage import Storage

__all__ = ["Runtime", "default_assistant_id"]

T = TypeVar("T")


# The namespace LangGraph's server makes its default assistants' ids in (not one of
# uuid's standard ones): the same graph gets the same id on both servers.
GRAPH_NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")


def default_assistant_id(graph_id: str) -> str:
    """The assistant made for each graph at start: the same id on every start, and
    the id LangGraph's server gives it (a UUID5 of the graph's name)."""
    return str(uuid.uuid5(GRAPH_NAMESPACE, graph_id))


class Runtime:
    """Everything a route or the worker needs; built once by the app at startup."""

    def __init__(
        self,
        graphs: Mapping[str, CompiledStateGraph],
        database: str,
        *,
        max_queue: int = 10_000,
        per_assistant: int | None = None,
        store: Mapping[str, Any] | None = None,
    ) -> None:
        self.storage: Storage
        self.saver: SqliteSaver | PostgresSaver
        self.store: SqliteStore | PostgresStore
        self.queue: RunQueue
        # shared: other servers use the database too (PostgreSQL); a run's events
        # then go through it, for clients of a server other than the one running it
        self.shared = is_postgres(database)
        if self.shared:
            self._open_postgres(database, max_queue, per_assistant, store)
        else:
            self._open_sqlite(database, max_queue, per_assistant, store)
        self.broker = Broker()
        # The runs' hot path (admit, claim, start, finish) reads and writes here, off
        # the event loop: on PostgreSQL a call waits for the network. On SQLite, a run's
        # admission and claim and its checkpoint writes are made on the loop instead
        # (short statements on a local file; a round trip here cost two rounds of a
        # busy loop: bench_server.py's time to first event), its end still here.
        # One thread, so that the calls run in the order they came (on SQLite they
        # serialize on the lock anyway), urgent ones (admissions, claims) first.
        self._db = DbThread()
        self.graphs = {
            name: graph.copy({"checkpointer": self.saver, "store": self.store})
            for name, graph in graphs.items()
        }
        for name in self.graphs:
            self.storage.put_assistant(
                {
                    "assistant_id": default_assistant_id(name),
                    "graph_id": name,
                    "name": name,
                    "metadata": {"created_by": "system"},
                },
                replace=False,
            )

    async def db(self, call: Callable[..., T], *args: Any, urgent: bool = False) -> T:
        """``call(*args)`` on the database thread, awaited; ``urgent``: ahead of the
        calls that are not (on a new run's way to its first event)."""
        result: T = await asyncio.wrap_future(self.db_future(call, *args, urgent=urgent))
        return result

    def db_future(
        self, call: Callable[..., T], *args: Any, urgent: bool = False
    ) -> concurrent.futures.Future[T]:
        """``call(*args)`` queued on the database thread: its future."""
        return self._db.submit(functools.partial(call, *args), urgent=urgent)

    def _open_sqlite(
        self, path: str, max_queue: int, per_assistant: int | None, store: Any
    ) -> None:
        storage = SqliteStorage(path)
        self.storage = storage
        self.queue = SqlRunQueue(storage, max_queue, per_assistant)
        # One connection and one lock for the server's tables, the checkpoints and the
        # store: connections of one process contending for a SQLite file's write lock
        # wait in SQLite's busy handler, which sleeps in steps of up to 100 ms; that
        # cut bench_server.py's throughput by half and stretched its p99 fourfold.
        saver = LoopSqliteSaver(storage.conn)
        sqlite_store = SqliteStore(storage.conn, **dict(store or {}))
        saver._lock = sqlite_store._lock = storage.lock
        self.saver, self.store = saver, sqlite_store

    def _open_postgres(
        self, url: str, max_queue: int, per_assistant: int | None, store: Any
    ) -> None:
        from ._postgres import PostgresRunQueue, PostgresStorage

        storage = PostgresStorage(url)
        self.storage = storage
        self.queue = PostgresRunQueue(storage, max_queue, per_assistant)
        self.saver = PostgresSaver(url)
        self.store = PostgresStore(url, **dict(store or {}))

    def close(self) -> None:
        self._db.shutdown()
        self.saver.close()
        self.store.close()
        self.storage.close()

    def assistant(self, assistant_id: str) -> dict[str, Any]:
        """The assistant with this id, or the default one of the graph so named.

        Raises:
            ApiError: 404, neither exists.
        """
        found = self.storage.get_assistant(assistant_id)
        if found is None and assistant_id in self.graphs:
            found = self.storage.get_assistant(default_assistant_id(assistant_id))
        if found is None:
            raise not_found("Assistant", assistant_id)
        return found

    def graph(self, graph_id: str) -> CompiledStateGraph:
        try:
            return self.graphs[graph_id]
        except KeyError:
            raise ApiError(404, f"Graph {graph_id!r} not found") from None

    def thread(self, thread_id: str) -> dict[str, Any]:
        found = self.storage.get_thread(thread_id)
        if found is None:
            raise not_found("Thread", thread_id)
        return found

    def thread_graph(self, thread: Mapping[str, Any]) -> CompiledStateGraph | None:
        """The graph the thread's runs used (from its metadata), if any."""
        graph_id = (thread.get("metadata") or {}).get("graph_id")
        return self.graphs.get(graph_id) if isinstance(graph_id, str) else None
