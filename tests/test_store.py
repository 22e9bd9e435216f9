"""The stores (in memory, SQLite, PostgreSQL): one set of behaviour tests run on each."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from typing import Any

import pytest

from graphpool.errors import InvalidConfigError, InvalidNamespaceError, SerializationError
from graphpool.store import BaseStore, GetOp, ListNamespacesOp, MatchCondition, PutOp, SearchOp
from graphpool.store.memory import InMemoryStore
from graphpool.store.sqlite import SqliteStore

pytestmark = pytest.mark.timeout(60)

STORES = ["memory", "sqlite", "postgres"]
WORDS = ("cat", "dog", "fish", "bird")


def embed(texts: list[str]) -> list[list[float]]:
    """A deterministic embedding: how often each animal is named, plus a little of everything."""
    return [[t.lower().count(w) + 0.01 for w in WORDS] for t in texts]


class Clock:
    """A clock the test moves; each reading also ticks 1 ms so updates are ordered."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        self.now += 0.001
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_store(kind: str, request: pytest.FixtureRequest, tmp_path, **kwargs: Any) -> Any:
    if kind == "memory":
        store: Any = InMemoryStore(**kwargs)
    elif kind == "sqlite":
        store = SqliteStore(tmp_path / f"store-{len(list(tmp_path.iterdir()))}.db", **kwargs)
    else:
        from graphpool.store.postgres import PostgresStore

        store = PostgresStore(request.getfixturevalue("postgres_url"), **kwargs)
        with store._transaction(write=True) as run:  # one database for the session
            run.one("TRUNCATE graphpool_store, graphpool_store_vectors")
    request.addfinalizer(store.close)
    store._clock = Clock()
    return store


@pytest.fixture(params=STORES)
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def store(kind: str, request: pytest.FixtureRequest, tmp_path) -> Any:
    """A fresh, empty store of each kind, with a clock the test can move."""
    return make_store(kind, request, tmp_path)


@pytest.fixture
def vstore(kind: str, request: pytest.FixtureRequest, tmp_path) -> Any:
    """A fresh store of each kind with a vector index on the ``text`` field."""
    index = {"dims": len(WORDS), "embed": embed, "fields": ["text"]}
    return make_store(kind, request, tmp_path, index=index)


def keys(items: list[Any]) -> list[str]:
    return [item.key for item in items]


# -- put, get, delete -------------------------------------------------------------------


def test_put_get_update_delete(store) -> None:
    assert isinstance(store, BaseStore)
    assert store.get(("users", "u1"), "prefs") is None
    value = {"theme": "dark", "n": 3, "ratio": 0.5, "ok": True, "none": None, "deep": {"a": [1, 2]}}
    store.put(("users", "u1"), "prefs", value)
    item = store.get(("users", "u1"), "prefs")
    assert (item.namespace, item.key, item.value) == (("users", "u1"), "prefs", value)
    assert item.created_at.tzinfo is not None and item.created_at == item.updated_at

    store.put(("users", "u1"), "prefs", {"theme": "light"})
    again = store.get(("users", "u1"), "prefs")
    assert again.value == {"theme": "light"}
    assert again.created_at == item.created_at  # an update keeps the creation time
    assert again.updated_at > item.updated_at

    store.delete(("users", "u1"), "prefs")
    assert store.get(("users", "u1"), "prefs") is None
    store.delete(("users", "u1"), "prefs")  # deleting nothing is fine


def test_values_round_trip_and_come_back_as_copies(store) -> None:
    when = dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.timezone.utc)
    value = {"pair": (1, 2), "when": when, "tags": ["a", "b"], "text": 'quote " and \\ and \u00e9'}
    store.put(("docs",), "d1", value)
    got = store.get(("docs",), "d1")
    assert got.value == value and isinstance(got.value["pair"], tuple)
    got.value["tags"].append("changed")
    assert store.get(("docs",), "d1").value["tags"] == ["a", "b"]
    assert store.search(("docs",))[0].value == value


def test_keys_are_strings_and_item_dict_is_json(store) -> None:
    store.put(("n",), 7, {"x": 1})  # type: ignore[arg-type]
    item = store.get(("n",), "7")
    assert item.key == "7"
    assert item.dict()["namespace"] == ["n"] and isinstance(item.dict()["created_at"], str)
    assert item == store.get(("n",), 7)  # type: ignore[arg-type]
    assert store.search(("n",))[0] == item  # the score is not compared, as in LangGraph


def test_unstorable_values_are_refused_naming_the_item(store) -> None:
    with pytest.raises(SerializationError, match=r"put\(\('docs',\), 'bad'\).*\['lock'\]"):
        store.put(("docs",), "bad", {"lock": threading.Lock()})
    with pytest.raises(InvalidConfigError, match="value must be a dict"):
        store.put(("docs",), "bad", ["not", "a", "dict"])  # type: ignore[arg-type]
    assert store.get(("docs",), "bad") is None


@pytest.mark.parametrize(
    ("namespace", "message"),
    [
        ("users", "must be a tuple of strings"),
        ((), "namespace is empty"),
        (("a.b",), "contains a period"),
        (("a", ""), "is empty"),
        (("a", 1), "is a int"),
        (("a\x00",), "NUL"),
        (("langgraph", "x"), "reserved label 'langgraph'"),
    ],
)
def test_bad_namespaces_fail_where_given(store, namespace, message) -> None:
    with pytest.raises(InvalidNamespaceError, match=message):
        store.put(namespace, "k", {"v": 1})
    assert issubclass(InvalidNamespaceError, ValueError)


def test_reads_check_labels_too(store) -> None:
    with pytest.raises(InvalidNamespaceError, match="period"):
        store.get(("a.b",), "k")
    with pytest.raises(InvalidNamespaceError, match="period"):
        store.search(("a.b",))
    with pytest.raises(InvalidNamespaceError, match="period"):
        store.delete(("a.b",), "k")
    with pytest.raises(InvalidNamespaceError, match="period"):
        store.list_namespaces(prefix=("a.b",))
    with pytest.raises(InvalidNamespaceError, match="period"):
        store.batch([PutOp(("a.b",), "k", {"v": 1})])
    assert store.search(()) == [] and store.get(("langgraph",), "k") is None


# -- search ------------------------------------------------------------------------------


def test_search_prefix_order_and_paging(store) -> None:
    store.put(("a", "b"), "1", {"i": 1})
    store.put(("a",), "2", {"i": 2})
    store.put(("a", "b", "c"), "3", {"i": 3})
    store.put(("z",), "4", {"i": 4})
    assert keys(store.search(("a",))) == ["1", "2", "3"]  # stored order across namespaces
    assert keys(store.search(())) == ["1", "2", "3", "4"]
    assert keys(store.search(("a", "b"))) == ["1", "3"]
    store.put(("a", "b"), "1", {"i": 10})  # an update keeps its place
    assert keys(store.search(("a",))) == ["1", "2", "3"]
    store.delete(("a",), "2")
    store.put(("a",), "2", {"i": 2})  # a new item goes last
    assert keys(store.search(("a",))) == ["1", "3", "2"]
    assert keys(store.search(("a",), limit=2)) == ["1", "3"]
    assert keys(store.search(("a",), limit=2, offset=2)) == ["2"]
    assert store.search(("a",), limit=0) == [] and store.search(("a",), offset=9) == []
    assert all(item.score is None for item in store.search(()))
    assert keys(store.search(("a",), query="ignored without an index")) == ["1", "3", "2"]


def test_prefix_is_a_whole_label_match(store) -> None:
    spaces = [
        ("a", "b"),
        ("a", "b", "c"),
        ("a", "bc"),
        ("a", "b-c"),
        ("a", "b0"),
        ("a/b",),
        ("ab",),
    ]
    for i, ns in enumerate(spaces):
        store.put(ns, str(i), {"i": i})
    assert {tuple(i.namespace) for i in store.search(("a", "b"))} == {("a", "b"), ("a", "b", "c")}
    assert {tuple(i.namespace) for i in store.search(("a",), limit=50)} == set(spaces[:5])


def test_filters(store) -> None:
    rows = {
        "1": {"color": "red", "score": 4.5, "tags": ["x", "y"], "meta": {"lang": "en", "v": 1}},
        "2": {"color": "blue", "score": 3, "tags": ["x"], "meta": {"lang": "fr", "v": 2}},
        "3": {"color": "red", "score": 1, "meta": {"lang": "en", "v": 2}},
        "4": {"color": 1, "score": "high"},  # other types under the same fields
        "5": {"$t": "red", "color": "red"},  # a key the serializer must escape
    }
    for key, value in rows.items():
        store.put(("items",), key, value)

    def found(**filter: Any) -> list[str]:
        return keys(store.search(("items",), filter=filter))

    assert found(color="red") == ["1", "3", "5"]
    assert found(color={"$eq": "red"}) == ["1", "3", "5"]
    assert found(color={"$ne": "red"}) == ["2", "4"]
    assert found(color=1) == ["4"] and found(color="1") == []
    assert found(score={"$gt": 3}) == ["1"]
    assert found(score={"$gte": 3}) == ["1", "2"]
    assert found(score={"$lt": 3.5, "$gte": 1}) == ["2", "3"]
    assert found(score={"$lte": 1}) == ["3"]
    assert found(color="red", score={"$gt": 2}) == ["1"]
    assert found(meta={"lang": "en"}) == ["1", "3"]
    assert found(meta={"lang": "en", "v": 2}) == ["3"]
    assert found(tags=["x"]) == ["2"]
    assert found(missing=None) == ["1", "2", "3", "4", "5"]
    assert keys(store.search(("items",), filter={"color": "red"}, limit=1, offset=1)) == ["3"]


def test_bad_search_arguments(store) -> None:
    with pytest.raises(InvalidConfigError, match="limit=-1"):
        store.search((), limit=-1)
    with pytest.raises(InvalidConfigError, match="offset"):
        store.search((), offset=1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidConfigError, match=r"unknown operators \['\$in'\]"):
        store.search((), filter={"x": {"$in": [1]}})
    with pytest.raises(InvalidConfigError, match="max_depth"):
        store.list_namespaces(max_depth=0)


# -- namespaces -----------------------------------------------------------------------------


def test_list_namespaces(store) -> None:
    spaces = [
        ("a", "b", "c"),
        ("a", "b", "d", "e"),
        ("a", "b", "d", "i"),
        ("a", "b", "f"),
        ("a", "c", "f"),
        ("b", "a", "f"),
        ("users", "123"),
        ("users", "456", "settings"),
    ]
    for i, ns in enumerate(spaces):
        store.put(ns, f"k{i}", {"i": i})
        store.put(ns, f"second{i}", {"i": i})
    assert store.list_namespaces() == sorted(spaces)
    assert store.list_namespaces(prefix=("a", "b")) == spaces[:4]
    assert store.list_namespaces(suffix=("f",)) == [
        ("a", "b", "f"),
        ("a", "c", "f"),
        ("b", "a", "f"),
    ]
    assert store.list_namespaces(prefix=("a", "*", "f")) == [("a", "b", "f"), ("a", "c", "f")]
    assert store.list_namespaces(suffix=("*", "f")) == [
        ("a", "b", "f"),
        ("a", "c", "f"),
        ("b", "a", "f"),
    ]
    assert store.list_namespaces(prefix=("a",), suffix=("f",)) == [("a", "b", "f"), ("a", "c", "f")]
    assert store.list_namespaces(max_depth=2) == [
        ("a", "b"),
        ("a", "c"),
        ("b", "a"),
        ("users", "123"),
        ("users", "456"),
    ]
    assert store.list_namespaces(prefix=("a", "b"), max_depth=3) == [
        ("a", "b", "c"),
        ("a", "b", "d"),
        ("a", "b", "f"),
    ]
    assert store.list_namespaces(limit=2, offset=1) == sorted(spaces)[1:3]
    for i in range(2):
        store.delete(("users", "123"), ("k6", "second6")[i])
    assert ("users", "123") not in store.list_namespaces()
    store.get(("never", "written"), "k")  # a read does not make a namespace
    assert ("never", "written") not in store.list_namespaces()


# -- batches and async ------------------------------------------------------------------------


def test_batch_reads_see_the_store_before_its_writes(store) -> None:
    store.put(("b",), "old", {"v": 0})
    results = store.batch(
        [
            PutOp(("b",), "new", {"v": 1}),
            GetOp(("b",), "new"),
            GetOp(("b",), "old"),
            SearchOp(("b",)),
            ListNamespacesOp(match_conditions=(MatchCondition("prefix", ("b",)),)),
            PutOp(("b",), "old", None),
            PutOp(("b",), "twice", {"v": 1}),
            PutOp(("b",), "twice", {"v": 2}),
        ]
    )
    assert results[0] is None and results[1] is None and results[2].value == {"v": 0}
    assert keys(results[3]) == ["old"] and results[4] == [("b",)]
    assert results[5:] == [None, None, None]
    assert store.get(("b",), "old") is None and store.get(("b",), "twice").value == {"v": 2}
    assert keys(store.search(("b",))) == ["new", "twice"]
    with pytest.raises(InvalidConfigError, match="not a store operation"):
        store.batch([("b", "k")])


def test_async_methods(store) -> None:
    async def main() -> None:
        await store.aput(("x", "y"), "k", {"v": 1})
        assert (await store.aget(("x", "y"), "k")).value == {"v": 1}
        assert keys(await store.asearch(("x",), filter={"v": 1})) == ["k"]
        assert await store.alist_namespaces(prefix=("x",)) == [("x", "y")]
        results = await store.abatch([GetOp(("x", "y"), "k"), PutOp(("x", "y"), "k2", {"v": 2})])
        assert results[0].key == "k" and results[1] is None
        await store.adelete(("x", "y"), "k")
        assert await store.aget(("x", "y"), "k") is None
        await asyncio.gather(*(store.aput(("par",), str(i), {"i": i}) for i in range(20)))
        assert len(await store.asearch(("par",), limit=100)) == 20

    asyncio.run(main())


def test_threads_share_a_store(store) -> None:
    def writer(n: int) -> None:
        for i in range(25):
            store.put(("t", str(n)), str(i), {"i": i})
            assert store.get(("t", str(n)), str(i)).value == {"i": i}

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(store.search(("t",), limit=1000)) == 150
    assert len(store.list_namespaces(prefix=("t",))) == 6


# -- TTL ---------------------------------------------------------------------------------------


def test_ttl_expiry_and_refresh(store) -> None:
    clock = store._clock
    store.put(("s",), "short", {"v": 1}, ttl=1)  # one minute
    store.put(("s",), "forever", {"v": 2})
    clock.advance(50)
    assert store.get(("s",), "short").value == {"v": 1}  # refreshes: another minute
    clock.advance(50)
    assert store.get(("s",), "short", refresh_ttl=False) is not None
    clock.advance(20)  # 70 s since the last refreshing read
    assert store.get(("s",), "short") is None
    assert keys(store.search(("s",))) == ["forever"]
    assert store.list_namespaces() == [("s",)]
    assert store.sweep_ttl() == 1 and store.sweep_ttl() == 0

    store.put(("s",), "found", {"v": 3}, ttl=1)
    clock.advance(50)
    assert keys(store.search(("s",), filter={"v": 3})) == ["found"]  # search refreshes too
    clock.advance(50)
    assert keys(store.search(("s",), refresh_ttl=False)) == ["forever", "found"]
    clock.advance(20)
    assert keys(store.search(("s",))) == ["forever"]

    store.put(("gone",), "k", {"v": 1}, ttl=0.5)
    clock.advance(31)
    assert ("gone",) not in store.list_namespaces()
    first = store.get(("s",), "forever").created_at
    store.put(("gone",), "k", {"v": 2})  # a put over an expired item makes it anew
    assert store.get(("gone",), "k").created_at > first


def test_ttl_config_defaults(kind, request, tmp_path) -> None:
    store = make_store(kind, request, tmp_path, ttl={"default_ttl": 1, "refresh_on_read": False})
    store.put(("d",), "k", {"v": 1})
    store.put(("d",), "kept", {"v": 1}, ttl=None)
    store._clock.advance(50)
    assert store.get(("d",), "k") is not None  # does not refresh by default
    store._clock.advance(20)
    assert store.get(("d",), "k") is None and store.get(("d",), "kept") is not None
    with pytest.raises(InvalidConfigError, match="ttl=-1"):
        store.put(("d",), "k", {"v": 1}, ttl=-1)
    with pytest.raises(InvalidConfigError, match="expected a dict with keys"):
        make_store(kind, request, tmp_path, ttl={"sweep_minutes": 1})


def test_ttl_sweeper_thread(store) -> None:
    store.put(("s",), "k", {"v": 1}, ttl=1)
    store.put(("s",), "kept", {"v": 1})
    store._clock.advance(120)
    swept = threading.Event()
    sweep = store._sweep

    def counted(now: float) -> int:
        n = sweep(now)
        if n:
            swept.set()
        return n

    store._sweep = counted
    done = store.start_ttl_sweeper(sweep_interval_minutes=0.0005)  # every 30 ms
    assert swept.wait(20)
    assert store.stop_ttl_sweeper(timeout=10)
    assert done.result(timeout=10) is None
    assert store._read_rows([(("s",), "k"), (("s",), "kept")], 0.0).keys() == {(("s",), "kept")}


# -- vector search -------------------------------------------------------------------------------


def test_vector_search_ranks_by_similarity(vstore) -> None:
    vstore.put(("docs",), "cats", {"text": "cat cat cat and a dog"})
    vstore.put(("docs",), "dogs", {"text": "a dog and a cat"})
    vstore.put(("docs",), "fish", {"text": "fish", "kind": "pet"})
    vstore.put(("docs",), "plain", {"text": "cat"}, index=False)  # no vector: after the rest
    vstore.put(("docs",), "untexted", {"other": "cat"})  # nothing at "text" to embed
    found = vstore.search(("docs",), query="a cat")
    assert keys(found) == ["cats", "dogs", "fish", "plain", "untexted"]
    assert found[0].score > found[1].score > found[2].score
    assert found[3].score is None and found[4].score is None
    assert 0.9 < found[0].score <= 1.0001
    assert keys(vstore.search(("docs",), query="dog", limit=2)) == ["dogs", "cats"]
    assert keys(vstore.search(("docs",), query="dog", limit=2, offset=1)) == ["cats", "fish"]
    assert keys(vstore.search(("docs",), query="cat", filter={"kind": "pet"})) == ["fish"]
    assert [i.score for i in vstore.search(("docs",))] == [None] * 5  # no query, no ranking


def test_vectors_follow_updates_and_deletes(vstore) -> None:
    vstore.put(("d",), "a", {"text": "cat"})
    vstore.put(("d",), "b", {"text": "dog"})
    assert keys(vstore.search(("d",), query="cat"))[0] == "a"
    vstore.put(("d",), "a", {"text": "dog dog"})
    vstore.put(("d",), "b", {"text": "cat"})
    assert keys(vstore.search(("d",), query="cat"))[0] == "b"
    vstore.delete(("d",), "b")
    vstore.put(("d",), "c", {"text": "bird"})
    assert keys(vstore.search(("d",), query="dog")) == ["a", "c"]
    vstore.put(("d",), "a", {"text": "cat"}, index=False)
    assert vstore.search(("d",), query="dog")[-1].key == "a"  # its old vector is gone


def test_index_paths_pick_the_text(vstore) -> None:
    value = {
        "title": "a bird",
        "notes": [{"body": "fish"}, {"body": "cat cat"}],
        "text": "dog",
    }
    vstore.put(("p",), "notes", value, index=["notes[*].body"])  # best of its vectors
    vstore.put(("p",), "title", value, index=["title"])
    vstore.put(("p",), "first", value, index=["notes[0].body"])
    assert keys(vstore.search(("p",), query="cat"))[0] == "notes"
    assert keys(vstore.search(("p",), query="bird"))[0] == "title"
    assert keys(vstore.search(("p",), query="fish"))[:2] in (["notes", "first"], ["first", "notes"])


def test_async_embedding_and_queries(kind, request, tmp_path) -> None:
    calls: list[int] = []

    async def aembed(texts: list[str]) -> list[list[float]]:
        calls.append(len(texts))
        return embed(texts)

    store = make_store(
        kind, request, tmp_path, index={"dims": len(WORDS), "embed": aembed, "fields": ["text"]}
    )

    async def main() -> list[str]:
        await store.abatch(
            [PutOp(("a",), "c", {"text": "cat"}), PutOp(("a",), "d", {"text": "dog"})]
        )
        return keys(await store.asearch(("a",), query="dog"))

    assert asyncio.run(main()) == ["d", "c"]
    assert calls[0] == 2  # one call embeds the batch
    assert keys(store.search(("a",), query="cat")) == ["c", "d"]  # sync methods run it too


def test_langchain_embeddings_object(kind, request, tmp_path) -> None:
    fake = pytest.importorskip("langchain_core.embeddings.fake")
    model = fake.DeterministicFakeEmbedding(size=8)
    store = make_store(kind, request, tmp_path, index={"dims": 8, "embed": model})
    store.put(("m",), "1", {"text": "hello"})
    store.put(("m",), "2", {"text": "other"})
    found = store.search(("m",), query='{"text": "hello"}')  # "$": the whole value as JSON
    assert found[0].key == "1" and found[0].score == pytest.approx(1.0, abs=1e-5)


def test_index_config_errors(kind, request, tmp_path) -> None:
    with pytest.raises(InvalidConfigError, match="'dims'"):
        make_store(kind, request, tmp_path, index={"embed": embed})
    with pytest.raises(InvalidConfigError, match="'embed' is required"):
        make_store(kind, request, tmp_path, index={"dims": 4})
    with pytest.raises(InvalidConfigError, match="unknown keys"):
        make_store(kind, request, tmp_path, index={"dims": 4, "embed": embed, "feilds": []})
    wrong = make_store(kind, request, tmp_path, index={"dims": 3, "embed": embed})
    with pytest.raises(InvalidConfigError, match="4 numbers; index\\['dims'\\] is 3"):
        wrong.put(("w",), "k", {"text": "cat"})
    assert wrong.get(("w",), "k") is None  # nothing written


# -- on disk ------------------------------------------------------------------------------


def test_sqlite_store_persists_and_is_shared(tmp_path) -> None:
    path = tmp_path / "memory.db"
    with SqliteStore.from_conn_string(str(path)) as first:
        first.put(("u",), "k", {"v": 1})
        with SqliteStore(path) as second:
            assert second.get(("u",), "k").value == {"v": 1}
            second.put(("u",), "k2", {"v": 2})
        assert keys(first.search(("u",))) == ["k", "k2"]
    with SqliteStore(path) as again:
        assert again.list_namespaces() == [("u",)]
        assert again.path == str(path)
    with pytest.raises(InvalidConfigError, match="synchronous"):
        SqliteStore(path, synchronous="OFF")


def test_postgres_store_without_a_pool(request) -> None:
    from graphpool.store.postgres import PostgresStore

    url = request.getfixturevalue("postgres_url")
    with PostgresStore.from_conn_string(url, pool=False) as plain, PostgresStore(url) as pooled:
        assert "connection" in repr(plain) and "pool" in repr(pooled)
        plain.put(("pg", "shared"), "k", {"v": 1})
        assert pooled.get(("pg", "shared"), "k").value == {"v": 1}
        pooled.delete(("pg", "shared"), "k")
        assert plain.get(("pg", "shared"), "k") is None


# -- the same answers as LangGraph's own store -----------------------------------------------


def _script(store: Any, ops: Any) -> list[Any]:
    """Run one script of calls on a store (LangGraph's or ours); plain results out."""
    out: list[Any] = []

    def plain(result: Any) -> Any:
        if isinstance(result, list):
            return [plain(r) for r in result]
        if hasattr(result, "key") and hasattr(result, "value"):
            return (tuple(result.namespace), result.key, result.value)
        return result

    for name, args, kwargs in ops:
        try:
            out.append(plain(getattr(store, name)(*args, **kwargs)))
        except ValueError:
            out.append("ValueError")
    return out


CONFORMANCE_SCRIPT = [
    ("put", (("docs",), "a", {"color": "red", "n": 1, "meta": {"lang": "en"}}), {}),
    ("put", (("docs",), "b", {"color": "blue", "n": 5, "meta": {"lang": "fr"}}), {}),
    ("put", (("docs",), "c", {"color": "red", "n": 3, "tags": ["x", "y"]}), {}),
    ("put", (("docs", "sub"), "d", {"color": "red", "n": 2}), {}),
    ("put", (("users", "u1", "prefs"), "theme", {"v": "dark"}), {}),
    ("put", (("users", "u2", "prefs"), "theme", {"v": "light"}), {}),
    ("put", (("docs",), "a", {"color": "green", "n": 1}), {}),
    ("get", (("docs",), "a"), {}),
    ("get", (("docs",), "missing"), {}),
    ("search", (("docs", "sub"),), {}),
    ("search", (("users", "u1"),), {}),
    ("search", (("docs",),), {"filter": {"color": "red"}}),
    ("search", (("docs",),), {"filter": {"n": {"$gt": 1, "$lte": 5}}}),
    ("search", (("docs",),), {"filter": {"n": {"$ne": 5}}}),
    ("search", (("docs",),), {"filter": {"meta": {"lang": "fr"}}}),
    ("search", (("docs",),), {"filter": {"tags": ["x", "y"]}}),
    ("search", (("docs",),), {"limit": 1, "offset": 1}),
    ("list_namespaces", (), {}),
    ("list_namespaces", (), {"prefix": ("users",)}),
    ("list_namespaces", (), {"suffix": ("prefs",)}),
    ("list_namespaces", (), {"prefix": ("users", "*", "prefs")}),
    ("list_namespaces", (), {"max_depth": 1}),
    ("list_namespaces", (), {"max_depth": 2, "limit": 2, "offset": 1}),
    ("delete", (("docs",), "b"), {}),
    ("search", (("docs",),), {"filter": {"n": {"$gte": 1}}}),
    ("put", (("a.b",), "k", {"v": 1}), {}),
    ("put", ((), "k", {"v": 1}), {}),
    ("put", (("langgraph", "x"), "k", {"v": 1}), {}),
    ("put", (("ok", ""), "k", {"v": 1}), {}),
    ("get", (("a.b",), "k"), {}),
]


@pytest.mark.parametrize("ours", ["memory", "sqlite"])
def test_same_answers_as_langgraph_in_memory_store(ours, request, tmp_path) -> None:
    lg_memory = pytest.importorskip("langgraph.store.memory")
    theirs = _script(lg_memory.InMemoryStore(), CONFORMANCE_SCRIPT)
    mine = _script(make_store(ours, request, tmp_path), CONFORMANCE_SCRIPT)
    assert mine == theirs


def test_same_ranking_as_langgraph_vector_search(tmp_path, request) -> None:
    lg_memory = pytest.importorskip("langgraph.store.memory")
    index = {"dims": len(WORDS), "embed": embed, "fields": ["text", "notes[*]"]}
    docs = {
        "1": {"text": "cat cat dog"},
        "2": {"text": "dog", "notes": ["bird", "fish fish"]},
        "3": {"text": "fish and a bird"},
        "4": {"notes": ["cat"]},
    }
    stores = [
        lg_memory.InMemoryStore(index=index),
        make_store("memory", request, tmp_path, index=index),
    ]
    stores.append(make_store("sqlite", request, tmp_path, index=index))
    for store in stores:
        for key, value in docs.items():
            store.put(("d",), key, value)
    for query in ("cat", "fish", "bird dog"):
        theirs, *ours = (store.search(("d",), query=query) for store in stores)
        for found in ours:
            assert keys(found) == keys(theirs), query
            assert [i.score for i in found] == pytest.approx([i.score for i in theirs], abs=1e-5)


def test_postgres_store_names_the_extra_when_psycopg_is_missing(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)
    from graphpool.store.postgres import PostgresStore

    with pytest.raises(ImportError, match=r"pip install 'graphpool\[postgres\]'"):
        PostgresStore("postgresql://127.0.0.1:1/none")
