"""Loading stored checkpoints: a malformed or hostile document fails with
SerializationError (naming the state key, and the node where known) and nothing
else, and never imports a module."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import importlib.util
import json
import os
import subprocess
import sys
import types
import uuid
from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphpool.checkpoint import Checkpoint, TaskResult
from graphpool.checkpoint.base import BaseCheckpointSaver, new_checkpoint_id
from graphpool.checkpoint.serde import JsonSerializer
from graphpool.errors import SerializationError

pytestmark = pytest.mark.timeout(120)

serde = JsonSerializer()
HERE = __name__


class Color(enum.Enum):
    RED = "red"


class Pair(NamedTuple):
    left: int
    right: int


@dataclasses.dataclass
class Point:
    x: int
    y: int


@dataclasses.dataclass(frozen=True)
class Slotted:
    __slots__ = ("x",)
    x: int


DEEP = 100_000

MALFORMED: list[Any] = [
    {"$t": "timedelta", "v": [10**10, 0, 0]},  # OverflowError
    {"$t": "timedelta", "v": [1]},  # IndexError
    {"$t": "timedelta", "v": "abc"},
    {"$t": "timedelta", "v": [1.5, 0, 0]},
    {"$t": "timedelta", "v": {"0": 1}},
    {"$t": "decimal", "v": "abc"},  # decimal.InvalidOperation
    {"$t": "decimal", "v": [0, [1], 0]},
    {"$t": "tuple", "v": "abc"},  # used to load as ('a', 'b', 'c')
    {"$t": "tuple"},
    {"$t": "set", "v": [[1]]},
    {"$t": "frozenset", "v": 3},
    {"$t": "dict", "v": ["ab"]},  # used to load as {'a': 'b'}
    {"$t": "dict", "v": [[[1], 2]]},
    {"$t": "dict", "v": {"a": 1}},
    {"$t": "bytes", "v": "!!not base64!!"},
    {"$t": "bytearray", "v": 5},
    {"$t": "float", "v": "1.5e"},
    {"$t": "float", "v": None},
    {"$t": "datetime", "v": "yesterday"},
    {"$t": "datetime", "v": 5},
    {"$t": "datetime", "v": "2024-01-01T00:00:00", "tz": "../../../etc/passwd"},
    {"$t": "datetime", "v": "2024-01-01T00:00:00", "tz": 5},
    {"$t": "datetime", "v": "2024-01-01T00:00:00", "tz": "No/Such_Zone"},
    {"$t": "datetime", "v": "2024-01-01T00:00:00", "tz": "zone.tab"},
    {"$t": "date", "v": 20240101},
    {"$t": "time", "v": "25:61"},
    {"$t": "uuid", "v": 5},
    {"$t": "uuid", "v": "not-a-uuid"},
    {"$t": "send", "arg": 1},
    {"$t": "send", "node": 1, "arg": 1},
    {"$t": "overwrite"},
    {"$t": "interrupt", "v": 1},
    {"$t": 5},
    {"$t": ["tuple"]},
    {"$t": "no-such-tag", "v": 1},
    {"$t": "enum", "cls": f"{HERE}:Color", "v": "purple"},
    {"$t": "enum", "cls": f"{HERE}:Color"},
    {"$t": "enum", "cls": 5, "v": 1},
    {"$t": "enum", "cls": f"{HERE}:Color:RED", "v": "red"},
    {"$t": "enum", "cls": f"{HERE}.nope:Color", "v": "red"},
    {"$t": "namedtuple", "cls": f"{HERE}:Pair", "v": "ab"},
    {"$t": "namedtuple", "cls": f"{HERE}:Pair", "v": [1, 2, 3]},
    {"$t": "namedtuple", "cls": f"{HERE}:Pair", "v": {"left": 1}},
    {"$t": "dataclass", "cls": f"{HERE}:Point", "v": [1, 2]},
    {"$t": "dataclass", "cls": f"{HERE}:Point", "v": {"x": 1, "__class__": 2}},
    {"$t": "dataclass", "cls": f"{HERE}:Point", "v": {"x": 1, "z": 2}},
    {"$t": "dataclass", "cls": f"{HERE}:Point.x", "v": {}},
    {"$t": "pydantic", "cls": f"{HERE}:Point", "v": {}},
    "[" * DEEP + "]" * DEEP,  # RecursionError
    '{"a":' * DEEP + "1" + "}" * DEEP,
    "1" * 5000,  # past Python's int-to-text digit limit
    '{"$t": "tuple", "v": [1, 2}',
    "",
    b"\xff\xfe",
    b"\x80\x04\x95",  # the start of a pickle
]


def _raw(doc: Any) -> bytes:
    if isinstance(doc, bytes):
        return doc
    return (doc if isinstance(doc, str) else json.dumps(doc)).encode()


@pytest.mark.parametrize("doc", MALFORMED, ids=lambda d: _raw(d)[:50].decode("latin-1"))
def test_malformed_documents_raise_only_serialization_error(doc: Any) -> None:
    with pytest.raises(SerializationError):
        serde.loads(_raw(doc))


def test_well_formed_values_still_load() -> None:
    value = {
        "c": Color.RED,
        "p": Pair(1, 2),
        "pt": Point(1, 2),
        "s": Slotted(3),
        "when": dt.datetime(2024, 1, 1),
        "d": dt.timedelta(days=-2, seconds=3),
        "u": uuid.UUID(int=7),
        "deep": [[[[[1]]]]],
    }
    assert serde.loads(serde.dumps(value)) == value


TAGS = [
    "tuple", "set", "frozenset", "dict", "bytes", "bytearray", "float", "datetime", "date",
    "time", "timedelta", "decimal", "uuid", "send", "overwrite", "interrupt", "enum",
    "namedtuple", "dataclass", "pydantic",
]  # fmt: skip
CLASSES = [f"{HERE}:Color", f"{HERE}:Pair", f"{HERE}:Point", "os:system", "builtins:int", "x"]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["nan", "inf", "AAAA", "2024-01-01", "12:00", str(uuid.UUID(int=1))])
)


def _tagged(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A tagged object: a known tag (now and then a bad one) with a random payload."""
    return st.fixed_dictionaries(
        {"$t": st.sampled_from([*TAGS, "junk", 5, None]), "v": inner},
        optional={
            "cls": st.sampled_from(CLASSES) | scalars,
            "tz": st.sampled_from(["UTC", "Europe/Paris", "No/Zone", "../x"]) | scalars,
            "node": inner,
            "arg": inner,
            "id": inner,
            "set": inner,
        },
    )


payloads = scalars | st.lists(scalars, max_size=4) | st.lists(st.lists(scalars, max_size=3))
documents = st.recursive(
    scalars | _tagged(payloads),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=3), inner, max_size=3)
        | _tagged(inner)
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(_tagged(payloads) | documents)
def test_fuzz_loader_returns_a_value_or_raises_serialization_error(doc: Any) -> None:
    try:
        serde.loads(json.dumps(doc).encode())
    except SerializationError:
        pass


# -- saving --------------------------------------------------------------------------


def test_saving_an_int_past_the_digit_limit_names_where_it_is() -> None:
    with pytest.raises(SerializationError, match=r"\['big'\].*digits"):
        serde.dumps({"ok": 1, "big": 10**5000})
    assert serde.loads(serde.dumps(10**4000)) == 10**4000  # under the limit: kept


def thread() -> dict[str, Any]:
    return {"configurable": {"thread_id": f"t-{uuid.uuid4().hex[:8]}"}}


def test_saver_names_the_state_key_and_node_of_an_unstorable_int(saver) -> None:
    config = thread()
    with pytest.raises(SerializationError, match="state key 'big'"):
        saver.put(config, Checkpoint(new_checkpoint_id(), 0, {"ok": 1, "big": 10**5000}), {})
    first = saver.put(config, Checkpoint(new_checkpoint_id(), 0, {"ok": 1}), {})
    with pytest.raises(SerializationError, match="node 'adder' to 'total'"):
        saver.put_result(first, TaskResult("t", "adder", writes=(("total", -(10**5000)),)))


# -- loading rows from a saver ---------------------------------------------------------


def _record(**values: Any) -> dict[str, Any]:
    record = Checkpoint(new_checkpoint_id(), 0, {}).to_record()
    record["values"] = values
    return record


def _store(saver: BaseCheckpointSaver, data: bytes, meta: bytes = b"{}") -> dict[str, Any]:
    """Write a raw checkpoint row, as a damaged database or a hostile writer would."""
    config = thread()
    thread_id = config["configurable"]["thread_id"]
    checkpoint_id = new_checkpoint_id()
    saver._put_checkpoint(thread_id, checkpoint_id, None, 0, "2024-01-01", data, meta)
    return {"configurable": {"thread_id": thread_id, "checkpoint_id": checkpoint_id}}


@pytest.mark.parametrize(
    "bad",
    [
        {"$t": "timedelta", "v": [10**10, 0, 0]},
        {"$t": "decimal", "v": "abc"},
        {"$t": "tuple", "v": "abc"},
    ],
)
def test_bad_state_value_names_the_key(saver, bad: dict[str, Any]) -> None:
    config = _store(saver, json.dumps(_record(ok=1, when=bad, after=2)).encode())
    with pytest.raises(SerializationError, match="state key 'when' in checkpoint"):
        saver.get_tuple(config)


def test_deeply_nested_state_value_names_the_key(saver) -> None:
    deep = "[" * DEEP + "]" * DEEP
    text = json.dumps(_record(ok=1, deep="HOLE")).replace('"HOLE"', deep)
    config = _store(saver, text.encode())
    with pytest.raises(SerializationError, match=r"state key 'deep'.*nested too deeply"):
        saver.get_tuple(config)


@pytest.mark.parametrize(
    "payload",
    [b"[1, 2, 3]", b'"a string"', b"42", b"null", b"{}", b'{"format": 1}'],
    ids=["list", "str", "int", "null", "empty", "fields-missing"],
)
def test_checkpoint_row_that_is_not_a_record(saver, payload: bytes) -> None:
    config = _store(saver, payload)
    with pytest.raises(SerializationError, match="checkpoint"):
        saver.get_tuple(config)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("triggered", [["a"]]),
        ("triggered", [[1, []]]),
        ("sends", [1]),
        ("barriers", {"j": "ab"}),
        ("ran", [None]),
        ("step", "0"),
        ("step", True),
        ("values", [1]),
    ],
)
def test_checkpoint_record_with_a_wrong_shaped_field(saver, field: str, value: Any) -> None:
    record = _record(x=1)
    record[field] = value
    config = _store(saver, json.dumps(record).encode())
    with pytest.raises(SerializationError, match=field):
        saver.get_tuple(config)


def test_metadata_that_is_not_an_object(saver) -> None:
    config = _store(saver, json.dumps(_record(x=1)).encode(), meta=b"[1]")
    with pytest.raises(SerializationError, match="metadata"):
        saver.get_tuple(config)


def test_bad_task_write_names_the_node_and_the_key(saver) -> None:
    config = saver.put(thread(), Checkpoint(new_checkpoint_id(), 0, {"x": 1}), {})
    record = TaskResult("t1", "writer", writes=(("ok", 1), ("log", "HOLE"))).to_record()
    text = json.dumps(record).replace('"HOLE"', '{"$t": "decimal", "v": "abc"}')
    thread_id = config["configurable"]["thread_id"]
    saver._put_result(thread_id, config["configurable"]["checkpoint_id"], "t1", text.encode())
    with pytest.raises(
        SerializationError, match="the write to 'log' in the result of node 'writer'"
    ) as info:
        saver.get_tuple(config)
    assert info.value.node == "writer"


@pytest.mark.parametrize(
    "payload", [b"[]", b'{"task_id": "t", "node": "n"}', b'{"node": 5}'], ids=str
)
def test_task_result_row_that_is_not_a_record(saver, payload: bytes) -> None:
    config = saver.put(thread(), Checkpoint(new_checkpoint_id(), 0, {"x": 1}), {})
    thread_id = config["configurable"]["thread_id"]
    saver._put_result(thread_id, config["configurable"]["checkpoint_id"], "t", payload)
    with pytest.raises(SerializationError, match="result"):
        saver.get_tuple(config)


# -- loading never imports ----------------------------------------------------------------


@pytest.fixture
def trap_module() -> Iterator[list[str]]:
    """A module whose lazy ``__getattr__`` and whose class's metaclass ``__getattr__``
    record every call: the loader must trigger neither."""
    calls: list[str] = []

    class Meta(type):
        def __getattr__(cls, name: str) -> Any:
            calls.append(f"Holder.{name}")
            raise AttributeError(name)

    class Holder(metaclass=Meta):
        pass

    module = types.ModuleType("graphpool_trap")
    module.Holder = Holder  # type: ignore[attr-defined]
    module.__getattr__ = lambda name: calls.append(name) or Color  # type: ignore[attr-defined]
    sys.modules["graphpool_trap"] = module
    yield calls
    del sys.modules["graphpool_trap"]


HOSTILE_CLASS_PATHS = [
    "graphpool_trap:Lazy",  # module __getattr__ would answer with an Enum
    "graphpool_trap:Holder",  # a class, but no kind: checking it must not call hooks
    "graphpool_trap:Holder.Inner",  # metaclass __getattr__
    "graphpool_trap:Holder.__class__.__getattr__",
    "concurrent.futures:ProcessPoolExecutor",  # lazily imports concurrent.futures.process
    "concurrent:futures.ProcessPoolExecutor",
    "antigravity:Fly",  # not imported: must stay so
    "email.mime.text:MIMEText",
    "os:system",
    "builtins:eval",
    "sys:modules",
]


@pytest.mark.parametrize("tag", ["enum", "namedtuple", "dataclass", "pydantic"])
@pytest.mark.parametrize("path", HOSTILE_CLASS_PATHS)
def test_hostile_class_paths_are_refused_without_imports_or_hooks(
    trap_module: list[str], tag: str, path: str
) -> None:
    before = set(sys.modules)
    with pytest.raises(SerializationError):
        serde.loads(json.dumps({"$t": tag, "cls": path, "v": {}}).encode())
    assert set(sys.modules) == before
    assert trap_module == []


def test_a_lazily_loaded_module_stays_unloaded() -> None:
    """importlib's LazyLoader loads a module on its first attribute access; looking a
    stored class up in it must not count as one."""
    origin = importlib.util.find_spec("colorsys").origin  # type: ignore[union-attr]
    name = "graphpool_lazy_colorsys"  # a copy under a name nothing else imports
    spec = importlib.util.spec_from_file_location(name, origin)
    assert spec is not None and spec.loader is not None
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        for tag in ("enum", "namedtuple", "dataclass", "pydantic"):
            with pytest.raises(SerializationError):
                serde.loads(json.dumps({"$t": tag, "cls": f"{name}:rgb_to_hsv", "v": 1}).encode())
        assert type(module).__name__ == "_LazyModule"  # still not loaded
    finally:
        del sys.modules[name]


_FRESH_PROCESS = r"""
import json, sys
import zoneinfo  # a fixed stdlib module the loader reads time zones with
from graphpool.checkpoint.serde import JsonSerializer
from graphpool.errors import SerializationError

docs = json.loads(sys.argv[1])
before = set(sys.modules)
refused = 0
for doc in docs:
    try:
        JsonSerializer().loads(json.dumps(doc).encode())
    except SerializationError:
        refused += 1
print(json.dumps({"refused": refused, "new": sorted(set(sys.modules) - before)}))
"""


def test_fresh_process_imports_nothing_while_refusing_hostile_documents() -> None:
    """In a clean interpreter, where ``concurrent.futures.process`` and ``tzdata``
    are not loaded yet, the documents that used to import them are refused and
    ``sys.modules`` does not change."""
    docs = [
        {"$t": tag, "cls": path, "v": 1}
        for tag in ("enum", "namedtuple", "dataclass", "pydantic")
        for path in HOSTILE_CLASS_PATHS
        if not path.startswith("graphpool_trap")
    ]
    docs += [
        {"$t": "datetime", "v": "2024-01-01T00:00:00+00:00", "tz": zone}
        for zone in ("No/Such_Zone", "Etc/Nowhere", "../../etc/passwd")
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-c", _FRESH_PROCESS, json.dumps(docs)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    result = json.loads(out.stdout)
    assert result == {"refused": len(docs), "new": []}
