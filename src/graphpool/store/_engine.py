"""What graphpool's three stores share: a batch is checked, embedded, read, then written.

    batch(ops) --check--> _Plan (values encoded, texts to embed)
               --embed--> vectors for puts and queries   (sync, or awaited in abatch)
               --read---> gets, searches, listings        (the store before the batch)
               --write--> puts, deletes, TTL refreshes    (one transaction)

Only the embedding step differs between ``batch`` and ``abatch``; the rest is
the same code, run in a worker thread by ``abatch`` when the backend does I/O.
A backend (memory, SQLite, PostgreSQL) implements six small primitives on rows
(:class:`Row`); searching, filtering, ranking, paging, TTL and namespace listing
are decided here, once, so every store behaves the same.

Order: without a query, search returns items in the order they were first
stored (an update keeps an item's place; a delete and a new put moves it to the
end), in every store. With a query, items with vectors come first, best score
first, then items without vectors in stored order.

Expiry: an item whose time to live has passed is invisible to every read at
once; :meth:`EngineStore.sweep_ttl` (or the sweeper thread) deletes it.
"""

from __future__ import annotations

import abc
import asyncio
import concurrent.futures
import datetime as dt
import json
import logging
import math
import numbers
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from ..checkpoint.serde import JsonSerializer
from ..errors import InvalidConfigError, SerializationError
from . import _match
from ._embed import IndexSpec, dot, texts_at
from .base import (
    BaseStore,
    GetOp,
    IndexConfig,
    Item,
    ListNamespacesOp,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
    check_op,
)

__all__ = ["EngineStore", "Key", "Row", "Write", "loads"]

logger = logging.getLogger("graphpool.store")

Key = tuple[tuple[str, ...], str]
Vectors = list[tuple[str, list[float]]]


class Row(NamedTuple):
    """An item as a backend holds it; ``value`` is the JSON document."""

    namespace: tuple[str, ...]
    key: str
    value: str
    created_at: float
    updated_at: float
    ttl: float | None  # minutes, or None: never expires


class Write(NamedTuple):
    """One put: the new document, its expiry, and its vectors (``None``: the store
    has no index, leave the vector table alone)."""

    namespace: tuple[str, ...]
    key: str
    value: str
    ttl: float | None
    expires_at: float | None
    vectors: Vectors | None


Keep = Callable[[Row, "dict[str, Any] | None"], bool]
"""Whether a search keeps a row; the backend passes the row's decoded document
if it holds one (read only), else None. A search without a filter passes no
``keep`` (``None``): every live row is kept, and a SQL backend can use ``LIMIT``."""


class _Plan:
    """A checked batch: encoded puts, and what must be embedded before it runs."""

    def __init__(self, ops: list[Op]) -> None:
        self.ops = ops
        self.puts: dict[Key, PutOp] = {}
        self.documents: dict[Key, str] = {}
        self.texts: dict[Key, list[tuple[str, str]]] = {}
        self.put_vectors: dict[Key, Vectors] = {}
        self.queries: dict[str, list[float]] = {}


def loads(serde: JsonSerializer, text: str) -> Any:
    """Decode a stored document; one without type tags (most) skips the tag decoder."""
    if '"$t"' not in text:  # no dict in it has the tag key: the hook would change nothing
        try:
            return json.loads(text)
        except ValueError:
            pass  # malformed: the serializer says so with a SerializationError
    return serde.loads(text)


def _timestamp(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc)


def _check_ttl(ttl: Any, where: str) -> float | None:
    if ttl is None:
        return None
    if not isinstance(ttl, numbers.Real) or isinstance(ttl, bool) or not float(ttl) > 0:
        raise InvalidConfigError(f"{where}: ttl={ttl!r} must be None or a number of minutes > 0.")
    if not math.isfinite(ttl):
        raise InvalidConfigError(f"{where}: ttl={ttl!r} must be finite; pass None for never.")
    return float(ttl)


class EngineStore(BaseStore):
    """A :class:`~graphpool.store.base.BaseStore` over a row backend; see the module docstring.

    Args:
        index: an :class:`~graphpool.store.base.IndexConfig` to enable vector search.
        ttl: a :class:`~graphpool.store.base.TTLConfig`.

    Raises:
        InvalidConfigError: a bad ``index`` or ``ttl`` config (the message names the key).
    """

    supports_ttl = True
    _blocking = True  # abatch runs the storage steps in a worker thread

    def __init__(self, *, index: IndexConfig | None = None, ttl: TTLConfig | None = None) -> None:
        name = type(self).__name__
        self.index_config = dict(index) if index is not None else None
        self._index = IndexSpec(index, name) if index is not None else None
        self.ttl_config = self._checked_ttl_config(ttl, name)
        self._serde = JsonSerializer()
        self._clock: Callable[[], float] = time.time
        self._sweeper: threading.Thread | None = None
        self._sweeper_stop = threading.Event()

    @staticmethod
    def _checked_ttl_config(ttl: Any, name: str) -> TTLConfig | None:
        if ttl is None:
            return None
        known = {"refresh_on_read", "default_ttl", "sweep_interval_minutes"}
        if not isinstance(ttl, dict) or set(ttl) - known:
            raise InvalidConfigError(
                f"{name}(ttl={ttl!r}): expected a dict with keys {sorted(known)}."
            )
        if not isinstance(ttl.get("refresh_on_read", True), bool):
            raise InvalidConfigError(f"{name}(ttl=...): 'refresh_on_read' must be True or False.")
        _check_ttl(ttl.get("default_ttl"), f"{name}(ttl=...) default_ttl")
        _check_ttl(ttl.get("sweep_interval_minutes"), f"{name}(ttl=...) sweep_interval_minutes")
        return TTLConfig(**ttl)

    # -- the backend's primitives ------------------------------------------------------

    @abc.abstractmethod
    def _read_rows(self, keys: list[Key], now: float) -> dict[Key, Row]:
        """The live rows at ``keys`` (absent or expired keys left out)."""

    @abc.abstractmethod
    def _scan(
        self,
        prefix: tuple[str, ...],
        now: float,
        equals: list[tuple[str, str]],
        keep: Keep | None,
        stop: int | None,
    ) -> list[Row]:
        """The live rows under ``prefix`` that ``keep`` keeps, in stored order, until
        ``stop`` are kept. ``equals``: top-level fields that must equal these
        strings (a hint for the query; ``keep`` decides)."""

    @abc.abstractmethod
    def _read_vectors(self, prefix: tuple[str, ...], now: float) -> dict[Key, list[Any]]:
        """The vectors of the live items under ``prefix``."""

    @abc.abstractmethod
    def _read_namespaces(self, prefix: tuple[str, ...], now: float) -> Iterable[tuple[str, ...]]:
        """The namespaces of live items under ``prefix`` (duplicates allowed)."""

    @abc.abstractmethod
    def _write(self, puts: list[Write], deletes: list[Key], refresh: list[Key], now: float) -> None:
        """Apply a batch's writes atomically; a put keeps an existing item's
        ``created_at`` and place; ``refresh`` restarts the TTL of those keys."""

    @abc.abstractmethod
    def _sweep(self, now: float) -> int:
        """Delete items expired by ``now``; how many."""

    # -- batches -----------------------------------------------------------------------

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        plan = self._plan(ops)
        if self._index is not None:
            embedder = self._index.embedder
            flat = [text for texts in plan.texts.values() for _, text in texts]
            vectors = embedder.documents(list(dict.fromkeys(flat))) if flat else []
            plan.queries = {q: embedder.query(q) for q in self._queries(plan)}
            self._attach(plan, flat, vectors)
        return self._run(plan)

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        plan = self._plan(ops)
        if self._index is not None:
            embedder = self._index.embedder
            flat = [text for texts in plan.texts.values() for _, text in texts]
            vectors = await embedder.adocuments(list(dict.fromkeys(flat))) if flat else []
            queries = self._queries(plan)
            found = await asyncio.gather(*(embedder.aquery(q) for q in queries))
            plan.queries = dict(zip(queries, found, strict=False))
            self._attach(plan, flat, vectors)
        if self._blocking:
            return await asyncio.to_thread(self._run, plan)
        return self._run(plan)

    @staticmethod
    def _queries(plan: _Plan) -> list[str]:
        return list(
            dict.fromkeys(op.query for op in plan.ops if isinstance(op, SearchOp) and op.query)
        )

    @staticmethod
    def _attach(plan: _Plan, flat: list[str], vectors: list[list[float]]) -> None:
        by_text = dict(zip(dict.fromkeys(flat), vectors, strict=False))
        for key, texts in plan.texts.items():
            plan.put_vectors[key] = [(field, by_text[text]) for field, text in texts]

    def _plan(self, ops: Iterable[Op]) -> _Plan:
        plan = _Plan(list(ops))
        for op in plan.ops:
            check_op(op)
            if isinstance(op, SearchOp):
                _match.check_search(op)
            elif isinstance(op, ListNamespacesOp):
                _match.check_list(op)
            elif isinstance(op, PutOp):
                key = (tuple(op.namespace), str(op.key))
                plan.puts[key] = op  # the last put of a key wins (in the first one's place)
                plan.documents.pop(key, None)
                plan.texts.pop(key, None)
                if op.value is not None:
                    self._encode(plan, key, op)
        return plan

    def _encode(self, plan: _Plan, key: Key, op: PutOp) -> None:
        where = f"put({key[0]!r}, {key[1]!r})"
        if not isinstance(op.value, Mapping):
            raise InvalidConfigError(
                f"{where}: value must be a dict, got a {type(op.value).__name__}."
            )
        _check_ttl(op.ttl, where)
        value = dict(op.value)
        try:
            plan.documents[key] = self._serde.dumps(value).decode()
        except SerializationError as exc:
            raise SerializationError(f"{where}: {exc}") from None
        if self._index is not None and op.index is not False:
            plan.texts[key] = texts_at(value, self._index.paths(op.index))

    # -- running a checked batch -----------------------------------------------------------

    def _run(self, plan: _Plan) -> list[Result]:
        now = self._clock()
        results: list[Result] = [None] * len(plan.ops)
        refresh: dict[Key, None] = {}
        gets = [(i, op) for i, op in enumerate(plan.ops) if isinstance(op, GetOp)]
        if gets:
            rows = self._read_rows(
                list(dict.fromkeys((tuple(o.namespace), str(o.key)) for _, o in gets)), now
            )
            for i, get in gets:
                row = rows.get((tuple(get.namespace), str(get.key)))
                results[i] = self._item(row, self._document(row)) if row else None
                if row and get.refresh_ttl and row.ttl is not None:
                    refresh[(row.namespace, row.key)] = None
        for i, op in enumerate(plan.ops):
            if isinstance(op, SearchOp):
                query = plan.queries.get(op.query) if op.query else None
                results[i], expiring = self._search(op, now, query)
                if op.refresh_ttl:
                    refresh.update(dict.fromkeys(expiring))
            elif isinstance(op, ListNamespacesOp):
                spaces = self._read_namespaces(_match.literal_prefix(op), now)
                results[i] = _match.list_namespaces(spaces, op)
        self._apply(plan, list(refresh), now)
        return results

    def _apply(self, plan: _Plan, refresh: list[Key], now: float) -> None:
        puts, deletes = [], []
        for key, op in plan.puts.items():
            if op.value is None:
                deletes.append(key)
                continue
            expires = now + op.ttl * 60 if op.ttl is not None else None
            vectors = plan.put_vectors.get(key, []) if self._index is not None else None
            puts.append(Write(key[0], key[1], plan.documents[key], op.ttl, expires, vectors))
        refresh = [k for k in refresh if k not in plan.puts]
        if puts or deletes or refresh:
            self._write(puts, deletes, refresh, now)

    def _document(self, row: Row) -> dict[str, Any]:
        return loads(self._serde, row.value)

    @staticmethod
    def _item(row: Row, value: dict[str, Any]) -> Item:
        return Item(
            value=value,
            key=row.key,
            namespace=row.namespace,
            created_at=_timestamp(row.created_at),
            updated_at=_timestamp(row.updated_at),
        )

    def _search(
        self, op: SearchOp, now: float, query: list[float] | None
    ) -> tuple[list[SearchItem], list[Key]]:
        """The page of items found, and the keys among them that have a TTL."""

        def keep(row: Row, document: dict[str, Any] | None) -> bool:
            value = document if document is not None else self._document(row)
            return _match.matches(value, op.filter)

        prefix = tuple(op.namespace_prefix)
        stop = None if query is not None else op.offset + op.limit
        keeper = keep if op.filter else None
        found = self._scan(prefix, now, _match.pushdown(op.filter), keeper, stop)
        scores: list[float | None] = [None] * len(found)
        if query is not None and found:
            vectors = self._read_vectors(prefix, now)
            for n, row in enumerate(found):
                mine = vectors.get((row.namespace, row.key))
                if mine:
                    scores[n] = max(dot(query, v) for v in mine)
            order = sorted(
                range(len(found)), key=lambda n: (scores[n] is None, -(scores[n] or 0.0), n)
            )
        else:
            order = list(range(len(found)))
        page = order[op.offset : op.offset + op.limit]
        out, expiring = [], []
        for n in page:
            row = found[n]
            out.append(
                SearchItem(
                    row.namespace,
                    row.key,
                    self._document(row),
                    _timestamp(row.created_at),
                    _timestamp(row.updated_at),
                    scores[n],
                )
            )
            if row.ttl is not None:
                expiring.append((row.namespace, row.key))
        return out, expiring

    # -- expiry ---------------------------------------------------------------------------

    def sweep_ttl(self) -> int:
        """Delete the items whose time to live has passed; returns how many."""
        return self._sweep(self._clock())

    def start_ttl_sweeper(
        self, sweep_interval_minutes: float | None = None
    ) -> concurrent.futures.Future[None]:
        """Start a daemon thread that calls :meth:`sweep_ttl` every interval
        (this argument, else ``ttl_config["sweep_interval_minutes"]``, else 5).
        The future completes when :meth:`stop_ttl_sweeper` (or ``close``) stops it."""
        interval = _check_ttl(
            sweep_interval_minutes or (self.ttl_config or {}).get("sweep_interval_minutes") or 5,
            "start_ttl_sweeper: sweep_interval_minutes",
        )
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        if self._sweeper is not None and self._sweeper.is_alive():
            done.set_result(None)  # one sweeper per store
            return done
        self._sweeper_stop.clear()

        def loop() -> None:
            while not self._sweeper_stop.wait(float(interval or 5) * 60):
                try:
                    self.sweep_ttl()
                except Exception:  # a failed sweep is retried at the next interval
                    logger.exception("store TTL sweep failed")
            done.set_result(None)

        self._sweeper = threading.Thread(target=loop, name="graphpool-store-sweeper", daemon=True)
        self._sweeper.start()
        return done

    def stop_ttl_sweeper(self, timeout: float | None = None) -> bool:
        """Stop the sweeper thread; whether it stopped within ``timeout`` seconds."""
        thread = self._sweeper
        if thread is None:
            return True
        self._sweeper_stop.set()
        thread.join(timeout)
        if thread.is_alive():
            return False
        self._sweeper = None
        return True

    def close(self) -> None:
        """Stop the sweeper; subclasses also close what they opened."""
        self.stop_ttl_sweeper()

    def __enter__(self) -> EngineStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
