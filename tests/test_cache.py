"""The node-result caches (in memory, SQLite), ``CachePolicy`` and its default key."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import enum
import subprocess
import sys
import threading
from typing import Any, NamedTuple

import pytest

from graphpool import CachePolicy
from graphpool.cache import BaseCache, node_namespace, task_key
from graphpool.cache.memory import InMemoryCache
from graphpool.cache.sqlite import SqliteCache
from graphpool.errors import InvalidConfigError, SerializationError
from graphpool.types import default_cache_key

pytestmark = pytest.mark.timeout(60)

NS = ("__graphpool_node__", "fetch", "app.fetch")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "sqlite"])
def cache(request: pytest.FixtureRequest, tmp_path) -> Any:
    """A fresh cache of each kind, with a clock the test moves."""
    made: Any = InMemoryCache() if request.param == "memory" else SqliteCache(tmp_path / "c.db")
    made._clock = Clock()
    if request.param == "sqlite":
        request.addfinalizer(made.close)
    return made


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Color(enum.Enum):
    RED = "red"


class Pair(NamedTuple):
    a: int
    b: str


def test_get_set_clear(cache) -> None:
    assert isinstance(cache, BaseCache)
    other = ("__graphpool_node__", "other", "app.other")
    assert cache.get([(NS, "k1")]) == {}
    cache.set({(NS, "k1"): ({"answer": 42}, None), (NS, "k2"): ([1, (2, 3)], None)})
    cache.set({(other, "k1"): ("other", None)})
    got = cache.get([(NS, "k1"), (NS, "k2"), (NS, "missing"), (other, "k1")])
    assert got == {(NS, "k1"): {"answer": 42}, (NS, "k2"): [1, (2, 3)], (other, "k1"): "other"}
    cache.set({(NS, "k1"): ({"answer": 43}, None)})  # replaced
    assert cache.get([(NS, "k1")]) == {(NS, "k1"): {"answer": 43}}
    cache.clear([NS])
    assert cache.get([(NS, "k1"), (other, "k1")]) == {(other, "k1"): "other"}
    cache.clear()
    assert cache.get([(other, "k1")]) == {}


def test_values_keep_their_types_and_come_back_as_copies(cache) -> None:
    value = {
        "point": Point(1, 2),
        "color": Color.RED,
        "pair": Pair(1, "b"),
        "when": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
        "bytes": b"\x00\xff",
        "set": {1, 2},
    }
    cache.set({(NS, "k"): (value, None)})
    got = cache.get([(NS, "k")])[(NS, "k")]
    assert got == value and type(got["pair"]) is Pair and got["point"] is not value["point"]
    got["point"].x = 99
    assert cache.get([(NS, "k")])[(NS, "k")]["point"].x == 1


def test_ttl_in_seconds(cache) -> None:
    cache.set({(NS, "short"): ("s", 10), (NS, "zero"): ("z", 0), (NS, "long"): ("l", None)})
    assert set(cache.get([(NS, "short"), (NS, "zero"), (NS, "long")])) == {
        (NS, "short"),
        (NS, "long"),
    }
    cache._clock.now += 9.5
    assert (NS, "short") in cache.get([(NS, "short")])
    cache._clock.now += 1
    assert cache.get([(NS, "short"), (NS, "long")]) == {(NS, "long"): "l"}
    cache.set({(NS, "short"): ("again", 10)})  # set anew after expiry
    assert cache.get([(NS, "short")]) == {(NS, "short"): "again"}


def test_unstorable_values_and_bad_keys(cache) -> None:
    with pytest.raises(SerializationError, match=r"cache set .*fetch.*'k'"):
        cache.set({(NS, "ok"): (1, None), (NS, "k"): ({"lock": threading.Lock()}, None)})
    assert cache.get([(NS, "ok")]) == {}  # nothing of the batch was stored
    with pytest.raises(InvalidConfigError, match="must be a tuple of strings"):
        cache.get([(["not", "tuple"], "k")])
    with pytest.raises(InvalidConfigError, match="key 7 must be a str"):
        cache.get([(NS, 7)])
    with pytest.raises(InvalidConfigError, match="ttl=-1"):
        cache.set({(NS, "k"): (1, -1)})
    with pytest.raises(InvalidConfigError, match="one namespace; pass a list"):
        cache.clear(NS)


def test_async_twins(cache) -> None:
    async def main() -> None:
        await cache.aset({(NS, "a"): ("A", None)})
        assert await cache.aget([(NS, "a")]) == {(NS, "a"): "A"}
        await cache.aclear([NS])
        assert await cache.aget([(NS, "a")]) == {}

    asyncio.run(main())


def test_namespaces_with_any_characters(cache) -> None:
    odd = ("a,b", "c", "")
    cache.set({(odd, "k"): (1, None), (("a", "b,c", ""), "k"): (2, None)})
    assert cache.get([(odd, "k")]) == {(odd, "k"): 1}


def test_sqlite_cache_survives_a_restart(tmp_path) -> None:
    path = tmp_path / "cache.db"
    with SqliteCache(path) as first:
        first.set({(NS, "k"): ({"v": 1}, 3600), (NS, "gone"): ("x", 0)})
    with SqliteCache(str(path)) as second:
        assert second.get([(NS, "k"), (NS, "gone")]) == {(NS, "k"): {"v": 1}}
        assert second.path == str(path)


# -- CachePolicy and keys -------------------------------------------------------------------


def test_cache_policy_fields_and_checks() -> None:
    policy = CachePolicy()
    assert policy.key_func is default_cache_key and policy.ttl is None
    assert CachePolicy(ttl=120).ttl == 120
    with pytest.raises(TypeError):
        CachePolicy(lambda x: "k")  # type: ignore[misc]  # keyword-only, as LangGraph's
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.ttl = 5  # type: ignore[misc]
    with pytest.raises(InvalidConfigError, match="ttl=-1"):
        CachePolicy(ttl=-1)
    with pytest.raises(InvalidConfigError, match="ttl=True"):
        CachePolicy(ttl=True)
    with pytest.raises(InvalidConfigError, match="key_func"):
        CachePolicy(key_func="name")  # type: ignore[arg-type]
    from graphpool import types

    assert types.CachePolicy is CachePolicy


def test_default_key_is_stable_and_order_free() -> None:
    policy = CachePolicy()
    key = task_key(policy, {"a": 1, "b": [1, 2], "c": {"x": None}})
    assert len(key) == 32 and int(key, 16) >= 0
    assert key == task_key(policy, {"c": {"x": None}, "b": (1, 2), "a": 1})
    assert key != task_key(policy, {"a": 1.0, "b": [1, 2], "c": {"x": None}})
    assert key != task_key(policy, {"a": True, "b": [1, 2], "c": {"x": None}})
    assert task_key(policy, {1, 2, 3}) == task_key(policy, {3, 1, 2})
    assert task_key(policy, Point(1, 2)) != task_key(policy, Point(2, 1))
    assert task_key(policy, Pair(1, "b")) != task_key(policy, (1, "b"))
    assert task_key(policy, Color.RED) != task_key(policy, "red")
    assert task_key(policy, "ab") != task_key(policy, b"ab")


def test_default_key_is_the_same_in_another_process() -> None:
    value = {"q": "weather in Paris", "n": [1, 2.5, None, True], "when": dt.date(2024, 1, 2)}
    code = (
        "import datetime as dt; from graphpool import CachePolicy; from graphpool.cache "
        "import task_key; print(task_key(CachePolicy(), {'when': dt.date(2024, 1, 2), "
        "'n': [1, 2.5, None, True], 'q': 'weather in Paris'}))"
    )
    import os

    env = {**os.environ, "PYTHONHASHSEED": "123"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=50,
        check=True,
    )
    assert out.stdout.strip() == task_key(CachePolicy(), value)


def test_default_key_of_chat_messages() -> None:
    messages = pytest.importorskip("langchain_core.messages")
    policy = CachePolicy()
    one = {"messages": [messages.HumanMessage("hi", id="1")]}
    assert task_key(policy, one) == task_key(
        policy, {"messages": [messages.HumanMessage("hi", id="1")]}
    )
    assert task_key(policy, one) != task_key(
        policy, {"messages": [messages.HumanMessage("ho", id="1")]}
    )


def test_default_key_names_what_it_cannot_use() -> None:
    with pytest.raises(SerializationError, match=r"input\['docs'\]\[1\] \(a lock\)"):
        task_key(CachePolicy(), {"docs": [1, threading.Lock()]})
    loop: dict[str, Any] = {}
    loop["me"] = loop
    with pytest.raises(SerializationError, match="contains itself"):
        task_key(CachePolicy(), loop)


def test_custom_key_functions() -> None:
    by_user = CachePolicy(key_func=lambda state: state["user"])
    assert task_key(by_user, {"user": "u1", "n": 1}) == task_key(by_user, {"user": "u1", "n": 2})
    assert task_key(CachePolicy(key_func=lambda s: b"raw"), {}) != task_key(by_user, {"user": "u1"})
    with pytest.raises(InvalidConfigError, match="returned a int"):
        task_key(CachePolicy(key_func=lambda s: 7), {})


def test_node_namespace_names_the_node_and_its_function() -> None:
    def fetch(state: Any) -> Any:
        return state

    ns = node_namespace("fetch", fetch)
    assert ns[:2] == ("__graphpool_node__", "fetch") and ns[2].endswith("fetch")
    assert node_namespace("fetch") == ("__graphpool_node__", "fetch", "__dynamic__")
    import functools

    assert node_namespace("fetch", functools.partial(fetch)) == ns


def test_importing_graphpool_leaves_store_and_cache_unloaded() -> None:
    code = (
        "import sys, graphpool; from graphpool import CachePolicy; CachePolicy(ttl=1); "
        "print([m for m in sys.modules if m.startswith(('graphpool.store', 'graphpool.cache'))])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=50)
    assert out.stdout.strip() == "[]", out.stderr


def test_same_answers_as_langgraph_in_memory_cache() -> None:
    lg_cache = pytest.importorskip("langgraph.cache.memory")
    other = ("ns", "other")
    script: list[tuple[str, Any]] = [
        ("set", {(NS, "a"): ({"x": [1, 2]}, None), (other, "a"): ("o", None)}),
        ("get", [(NS, "a"), (other, "a"), (NS, "missing")]),
        ("set", {(NS, "a"): ("replaced", None), (NS, "b"): (3.5, 60)}),
        ("get", [(NS, "a"), (NS, "b")]),
        ("clear", [NS]),
        ("get", [(NS, "a"), (NS, "b"), (other, "a")]),
        ("clear", None),
        ("get", [(other, "a")]),
    ]
    results = []
    for cache in (lg_cache.InMemoryCache(), InMemoryCache()):
        results.append([getattr(cache, name)(arg) for name, arg in script])
    assert results[0] == results[1]
