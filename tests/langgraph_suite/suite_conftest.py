"""Fixtures for the fetched LangGraph tests; copied to the prepared tree as ``conftest.py``.

It stands in for LangGraph's own ``tests/conftest.py`` (and the prebuilt package's),
which need Docker (PostgreSQL, Redis) and LangGraph's checkpoint internals. Fixture
names and parameter ids are LangGraph's own, as LangGraph sets them with
``NO_DOCKER=true``, so node ids and syrupy snapshot names match its files. Left out:
the PostgreSQL and Redis parametrisations (they need Docker), and the
``sqlite_aes`` and ``memory_migrate_sends`` savers (LangGraph serializer and
checkpoint-format internals).

Every object comes through :mod:`_lgshim`, so the same fixture hands out LangGraph's
saver in the reference run and graphpool's in the graphpool run. graphpool's
``SqliteSaver`` serves both sync and async runs, so it also stands in for
``AsyncSqliteSaver``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from uuid import UUID

import _lgshim
import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def deterministic_uuids(mocker: Any) -> Any:
    ids = (UUID(f"00000000-0000-4000-8000-{i:012}", version=4) for i in range(10000))
    return mocker.patch("uuid.uuid4", side_effect=ids)


@pytest.fixture(params=["sync", "async", "exit"])
def durability(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["sqlite", "memory"])
def cache(request: pytest.FixtureRequest) -> Any:
    if request.param == "sqlite":
        return _lgshim.name("langgraph.cache.sqlite", "SqliteCache")(path=":memory:")
    return _lgshim.name("langgraph.cache.memory", "InMemoryCache")()


def _store() -> Any:
    return _lgshim.name("langgraph.store.memory", "InMemoryStore")()


@pytest.fixture(params=["in_memory"])
def sync_store() -> Any:
    return _store()


@pytest.fixture(params=["in_memory"])
async def async_store() -> AsyncIterator[Any]:
    yield _store()


def _memory_saver() -> Any:
    return _lgshim.name("langgraph.checkpoint.memory", "InMemorySaver")()


@pytest.fixture(params=["memory", "sqlite"])
def sync_checkpointer(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "memory":
        yield _memory_saver()
        return
    saver = _lgshim.name("langgraph.checkpoint.sqlite", "SqliteSaver")
    with saver.from_conn_string(":memory:") as checkpointer:
        yield checkpointer


@pytest.fixture(params=["memory", "sqlite_aio"])
async def async_checkpointer(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    if request.param == "memory":
        yield _memory_saver()
    elif _lgshim.TARGET == "graphpool":
        saver = _lgshim.name("langgraph.checkpoint.sqlite", "SqliteSaver")
        with saver.from_conn_string(":memory:") as checkpointer:
            yield checkpointer
    else:
        saver = _lgshim.name("langgraph.checkpoint.sqlite.aio", "AsyncSqliteSaver")
        async with saver.from_conn_string(":memory:") as checkpointer:
            yield checkpointer
