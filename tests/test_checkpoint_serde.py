"""The checkpoint serializer: every supported type round-trips, nothing else is stored,
and loading never runs code it was not meant to."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import json
import math
import threading
import uuid
from collections import defaultdict
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphpool import Interrupt, Overwrite, Send
from graphpool.checkpoint.serde import JsonSerializer
from graphpool.errors import SerializationError

serde = JsonSerializer()


class Color(enum.Enum):
    RED = "red"
    BLUE = 2


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: int
    tags: tuple[str, ...] = ()


@dataclasses.dataclass
class Audited:
    name: str
    calls: int = dataclasses.field(default=0, init=False)

    def __post_init__(self) -> None:
        self.calls += 1  # must not run again on load


class Pair(NamedTuple):
    left: int
    right: object


class Message(pydantic.BaseModel):
    role: str
    text: str = ""
    sent: dt.datetime | None = None
    point: Point | None = None


def roundtrip(value):
    return serde.loads(serde.dumps(value))


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -(2**70),
        1.5,
        "héllo",
        [1, [2, "x"]],
        {"a": 1, "b": {"c": [None]}},
        (1, "a", (2,)),
        {1, 2, 3},
        frozenset({"a"}),
        b"\x00\xffbytes",
        bytearray(b"abc"),
        {1: "int key", (1, 2): "tuple key", "s": "str key"},
        {"$t": "a user key that looks like a tag"},
        dt.datetime(2024, 5, 1, 12, 30, 15, 123456),
        dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.timezone.utc),
        dt.date(2024, 5, 1),
        dt.time(23, 59, 1),
        dt.timedelta(days=-1, seconds=5, microseconds=7),
        decimal.Decimal("1.10"),
        uuid.UUID(int=12345),
        Color.RED,
        Color.BLUE,
        Point(1, 2, ("a",)),
        Pair(1, Point(0, 0)),
        Send("node", {"x": 1}),
        Overwrite([1, 2]),
        Interrupt({"ask": "ok?"}, id="0" * 32),
        Interrupt("why?", id="1" * 32, response_schema={"type": "object", "title": "T"}),
    ],
)
def test_supported_values_round_trip_with_their_types(value) -> None:
    back = roundtrip(value)
    assert back == value
    assert type(back) is type(value)


def test_special_floats() -> None:
    data = serde.dumps([math.inf, -math.inf, math.nan])
    json.loads(data)  # strict JSON: no NaN/Infinity tokens
    assert b"NaN" not in data and b"Infinity" not in data
    back = serde.loads(data)
    assert back[:2] == [math.inf, -math.inf] and math.isnan(back[2])


def test_zoneinfo_timezone_is_kept() -> None:
    when = dt.datetime(2024, 3, 31, 3, 0, tzinfo=ZoneInfo("Europe/Paris"))
    back = roundtrip(when)
    assert back == when and back.tzinfo == ZoneInfo("Europe/Paris")


def test_pydantic_model_keeps_fields_set_and_nested_types() -> None:
    msg = Message(role="user", sent=dt.datetime(2024, 1, 1), point=Point(3, 4))
    back = roundtrip(msg)
    assert back == msg
    assert isinstance(back.point, Point) and isinstance(back.sent, dt.datetime)
    assert back.model_fields_set == {"role", "sent", "point"}


def test_dataclass_is_rebuilt_without_running_init() -> None:
    made = Audited("a")
    assert made.calls == 1
    back = roundtrip(made)
    assert back == made and back.calls == 1


def test_unsupported_value_error_names_where_it_is() -> None:
    with pytest.raises(SerializationError) as info:
        serde.dumps({"log": [1, {"when": threading.Lock()}]})
    message = str(info.value)
    assert "the value at ['log'][1]['when'] (a lock) cannot be stored" in message


def test_subclasses_of_builtins_are_refused_not_silently_converted() -> None:
    with pytest.raises(SerializationError, match="defaultdict"):
        serde.dumps(defaultdict(list))


def test_local_classes_are_refused_at_save_time() -> None:
    @dataclasses.dataclass
    class Local:
        x: int

    with pytest.raises(
        SerializationError, match=r"\(a Local\) cannot be stored.*inside a function"
    ):
        serde.dumps(Local(1))


def test_a_local_pydantic_model_is_stored_as_its_fields() -> None:
    class Inner(pydantic.BaseModel):
        yo: int

    class Local(pydantic.BaseModel, extra="allow"):
        name: str
        inner: Inner
        when: dt.date

    value = Local(name="n", inner=Inner(yo=1), when=dt.date(2024, 1, 2), more=(1, 2))
    loaded = serde.loads(serde.dumps({"state": [value]}))
    # a dict, as LangGraph's serializer loads a model it cannot find again; the
    # field values keep their own types
    assert loaded == {
        "state": [{"name": "n", "inner": {"yo": 1}, "when": dt.date(2024, 1, 2), "more": (1, 2)}]
    }


def test_a_local_pydantic_model_with_an_unstorable_field_names_it() -> None:
    class Local(pydantic.BaseModel, arbitrary_types_allowed=True):
        lock: object

    with pytest.raises(SerializationError, match=r"\['lock'\] \(a lock\)"):
        serde.dumps(Local(lock=threading.Lock()))


def test_loading_never_imports_modules_by_default() -> None:
    data = json.dumps({"$t": "dataclass", "cls": "antigravity:Thing", "v": {}}).encode()
    with pytest.raises(SerializationError, match="not imported"):
        serde.loads(data)


def test_loading_refuses_a_class_of_the_wrong_kind() -> None:
    # os.system is importable and callable, but it is not a dataclass
    data = json.dumps({"$t": "dataclass", "cls": "os:system", "v": {}}).encode()
    with pytest.raises(SerializationError, match="not a dataclass"):
        serde.loads(data)
    data = json.dumps({"$t": "enum", "cls": "subprocess:Popen", "v": "ls"}).encode()
    with pytest.raises(SerializationError, match="not an Enum"):
        serde.loads(data)


def test_pickle_bytes_are_never_unpickled() -> None:
    import pickle

    with pytest.raises(SerializationError):
        serde.loads(pickle.dumps(Point(1, 2)))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.binary()
    | st.datetimes(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_round_trip_property(value) -> None:
    assert roundtrip(value) == value


def test_a_str_subclass_is_stored_as_its_text() -> None:
    class Text(str):
        pass

    serde = JsonSerializer()
    loaded = serde.loads(serde.dumps({"t": Text("hello")}))
    assert loaded == {"t": "hello"} and type(loaded["t"]) is str
