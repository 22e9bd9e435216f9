"""Bad values fail where they are given, naming the parameter (or key), the node and the value.

Covers timeouts given to ``add_node``/``compile``, a run's ``config`` keys,
``RetryPolicy`` fields, a reducer handed a value it cannot merge, and writes to
keys the schema does not have (dropped, as in LangGraph, but logged).
"""

from __future__ import annotations

import logging
import math
import operator
from fractions import Fraction
from typing import Annotated, Any, TypedDict

import pytest

from graphpool import (
    START,
    GraphpoolError,
    InvalidConfigError,
    InvalidGraphError,
    InvalidUpdateError,
    Overwrite,
    ReducerError,
    RetryPolicy,
    StateGraph,
)
from graphpool._channels import Batched, LastValue, Reduced


class S(TypedDict):
    x: int
    log: Annotated[list, operator.add]


def noop(state: S) -> None:
    return None


def one_node(**node_options: Any) -> StateGraph[S]:
    b = StateGraph(S)
    b.add_node("n", noop, **node_options)
    b.add_edge(START, "n")
    return b


BAD_TIMEOUTS = [math.nan, math.inf, -math.inf, True, False, "abc", "1", 0, -1, -0.5, [1]]


@pytest.mark.parametrize("value", BAD_TIMEOUTS, ids=repr)
def test_add_node_timeout_refused_naming_node_and_value(value: Any) -> None:
    b = StateGraph(S)
    with pytest.raises(InvalidGraphError) as info:
        b.add_node("slow", noop, timeout=value)
    message = str(info.value)
    assert "'slow'" in message and "timeout" in message and repr(value) in message
    assert "slow" not in b.nodes


@pytest.mark.parametrize("value", BAD_TIMEOUTS, ids=repr)
def test_compile_timeout_refused_naming_value(value: Any) -> None:
    with pytest.raises(InvalidGraphError) as info:
        one_node().compile(timeout=value)
    message = str(info.value)
    assert "compile()" in message and "timeout" in message and repr(value) in message


@pytest.mark.parametrize("value", [1, 0.25, Fraction(5, 2)])
def test_good_timeouts_are_kept_as_float_seconds(value: Any) -> None:
    b = one_node(timeout=value)
    assert b.nodes["n"].timeout == float(value)
    assert type(b.nodes["n"].timeout) is float
    assert b.compile(timeout=value).topology.default_timeout == float(value)


def test_compile_refuses_an_unknown_executor_even_when_every_node_has_its_own() -> None:
    with pytest.raises(InvalidGraphError, match=r"'quantum'.*'thread'"):
        one_node(executor="thread").compile(executor="quantum")


@pytest.mark.parametrize("value", ["fast", RetryPolicy, [RetryPolicy(), "x"], 3])
def test_retry_policy_argument_must_hold_retry_policies(value: Any) -> None:
    with pytest.raises(InvalidGraphError, match="retry_policy"):
        StateGraph(S).add_node("n", noop, retry_policy=value)
    with pytest.raises(InvalidGraphError, match="retry_policy"):
        one_node().compile(retry_policy=value)


# -- a run's config ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "names"),
    [
        ({"admission_timeout": "abc"}, ["admission_timeout", "'abc'"]),
        ({"admission_timeout": math.nan}, ["admission_timeout", "nan"]),
        ({"admission_timeout": math.inf}, ["admission_timeout", "inf"]),
        ({"admission_timeout": True}, ["admission_timeout", "True"]),
        ({"admission_timeout": -1}, ["admission_timeout", "-1"]),
        ({"configurable": "x"}, ["configurable", "'x'"]),
        ({"configurable": ["thread_id", "t"]}, ["configurable", "list"]),
        ({"metadata": 3}, ["metadata", "3"]),
        ({"tags": "abc"}, ["tags", "'abc'"]),
        ({"tags": ["ok", 1]}, ["tags", "1"]),
        ({"run_name": 5}, ["run_name", "5"]),
        ({"run_id": 5}, ["run_id", "5"]),
        ({"recursion_limit": "10"}, ["recursion_limit", "'10'"]),
        ({"recursion_limit": 0}, ["recursion_limit", "0"]),
        ({"recursion_limit": True}, ["recursion_limit", "True"]),
        ({"max_concurrency": 2.5}, ["max_concurrency", "2.5"]),
        ({"max_workers": 0}, ["max_workers", "0"]),
        ({"pool": "threads"}, ["pool", "'threads'"]),
        ({"executor": "quantum"}, ["executor", "'quantum'", "'thread'", "'process'"]),
        ({"executor": 1}, ["executor", "1"]),
    ],
    ids=lambda v: repr(v) if isinstance(v, dict) else "",
)
def test_bad_config_values_fail_before_the_run_naming_key_and_value(
    config: dict[str, Any], names: list[str]
) -> None:
    ran = []
    b = StateGraph(S)
    b.add_node("n", lambda s: ran.append(1))
    b.add_edge(START, "n")
    graph = b.compile()
    with pytest.raises(InvalidConfigError) as info:
        graph.invoke({"x": 1}, config)
    for name in names:
        assert name in str(info.value)
    assert ran == []


def test_config_that_is_not_a_mapping() -> None:
    with pytest.raises(InvalidConfigError, match="config='x'"):
        one_node().compile().invoke({"x": 1}, "x")  # type: ignore[arg-type]


def test_good_config_values_still_run() -> None:
    graph = one_node().compile()
    config = {
        "admission_timeout": 0,
        "configurable": {"thread_id": "t"},
        "metadata": {"a": 1},
        "tags": ("t1",),
        "run_name": "r",
        "recursion_limit": 5,
        "max_concurrency": 2,
        "executor": "thread",
    }
    assert graph.invoke({"x": 1}, config) == {"x": 1, "log": []}


def test_unknown_executor_is_one_family_at_build_and_run_time() -> None:
    """Build time: InvalidGraphError; run time: InvalidConfigError. Both are caught
    by ``except GraphpoolError`` and by ``except ValueError``, and both name the
    value and the valid choices."""
    with pytest.raises(InvalidGraphError) as built:
        StateGraph(S).add_node("n", noop, executor="quantum")
    with pytest.raises(InvalidConfigError) as ran:
        one_node().compile().invoke({"x": 1}, {"executor": "quantum"})
    for info in (built, ran):
        assert isinstance(info.value, GraphpoolError) and isinstance(info.value, ValueError)
        assert "'quantum'" in str(info.value)
        assert "'thread', 'process', 'async', 'ray'" in str(info.value)


# -- RetryPolicy --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_attempts", 0),
        ("max_attempts", -3),
        ("max_attempts", 2.5),
        ("max_attempts", True),
        ("max_attempts", "3"),
        ("initial_interval", -0.1),
        ("initial_interval", math.nan),
        ("initial_interval", "1"),
        ("max_interval", -1),
        ("max_interval", math.inf),
        ("backoff_factor", 0.5),
        ("backoff_factor", 0),
        ("backoff_factor", math.nan),
        ("jitter", "yes"),
        ("retry_on", "ValueError"),
        ("retry_on", [ValueError, "KeyError"]),
        ("retry_on", 42),
    ],
)
def test_retry_policy_refuses_bad_fields_naming_them(field: str, value: Any) -> None:
    with pytest.raises(InvalidConfigError) as info:
        RetryPolicy(**{field: value})
    assert f"{field}={value!r}" in str(info.value)
    with pytest.raises(InvalidConfigError, match=field):
        RetryPolicy()._replace(**{field: value})


def test_retry_policy_keeps_langgraphs_fields_and_defaults() -> None:
    policy = RetryPolicy()
    assert policy._fields == (
        "initial_interval",
        "backoff_factor",
        "max_interval",
        "max_attempts",
        "jitter",
        "retry_on",
    )
    assert policy[:5] == (0.5, 2.0, 128.0, 3, True)
    assert RetryPolicy(max_attempts=1, initial_interval=0, backoff_factor=1).max_attempts == 1
    assert RetryPolicy(retry_on=(ValueError, KeyError)).should_retry(KeyError(), 1)
    assert isinstance(policy, tuple)


# -- reducers -----------------------------------------------------------------------


def test_reducer_failure_names_key_and_writer_and_chains_the_original() -> None:
    channel = Reduced("log", list, operator.add)
    with pytest.raises(InvalidUpdateError) as info:
        channel.update([[1], 2], writers=["a", "b"])
    message = str(info.value)
    assert "'log'" in message and "'b'" in message and "'a'" not in message
    assert "add" in message and "int" in message
    assert isinstance(info.value.__cause__, TypeError)
    assert isinstance(info.value, ReducerError) and isinstance(info.value, TypeError)


def test_several_writes_to_a_plain_key_name_the_writers() -> None:
    with pytest.raises(InvalidUpdateError, match=r"'x'.*nodes 'a', 'b'"):
        LastValue("x").update([1, 2], writers=["b", "a"])


def _one_arg(a):  # type: ignore[no-untyped-def]
    return a


class _BadReducer(TypedDict):
    log: Annotated[list, _one_arg]


def test_a_reducer_of_the_wrong_arity_is_refused_in_langgraphs_words() -> None:
    with pytest.raises(InvalidGraphError, match=r"Invalid reducer for state key 'log'.*\(a\)"):
        StateGraph(_BadReducer)


def test_two_overwrites_in_one_step_name_the_key_and_the_writers() -> None:
    channel = Reduced("log", list, operator.add)
    message = r"'log': Can receive only one Overwrite value per super-step \(from nodes 'a', 'b'\)"
    with pytest.raises(InvalidUpdateError, match=message):
        channel.update([Overwrite([1]), Overwrite([2])], writers=["a", "b"])


def _concat(state: list[Any], writes: list[Any]) -> list[Any]:
    return [*state, *writes]


def test_a_batched_key_folds_a_steps_writes_in_one_call_and_takes_one_overwrite() -> None:
    calls: list[list[Any]] = []

    def reducer(state: list[Any], writes: list[Any]) -> list[Any]:
        calls.append(writes)
        return _concat(state, writes)

    channel = Batched("log", list, reducer)
    assert channel.value == []
    channel.update([1, 2], writers=["a", "b"])
    channel.update([3])
    assert (channel.value, calls) == ([1, 2, 3], [[1, 2], [3]])
    channel.update([4, Overwrite([9])])
    assert channel.value == [9] and len(calls) == 2
    channel.update([Overwrite(None)])
    assert channel.value == []
    message = r"'log': Can receive only one Overwrite value per super-step \(from nodes 'a', 'b'\)"
    with pytest.raises(InvalidUpdateError, match=message):
        channel.update([Overwrite([1]), Overwrite([2])], writers=["a", "b"])


def test_a_failing_batch_reducer_names_the_key() -> None:
    channel = Batched("log", list, lambda state, writes: state + writes[0])
    with pytest.raises(ReducerError, match="'log'"):
        channel.update([1], writers=["a"])


class _DeltaLike:
    """The shape of LangGraph's ``DeltaChannel(reducer)``."""

    def __init__(self, reducer: Any) -> None:
        self.reducer = reducer
        self.snapshot_frequency = 100


class _Batches(TypedDict):
    log: Annotated[list, _DeltaLike(_concat)]


def test_a_delta_channel_annotation_makes_a_batched_key() -> None:
    graph = StateGraph(_Batches)
    graph.add_node("a", lambda s: {"log": ["a"]})
    graph.add_edge(START, "a")
    channels = graph.compile().topology.writable.new_channels()
    assert isinstance(channels["log"], Batched)
    assert graph.compile().invoke({"log": ["in"]}) == {"log": [["in"], ["a"]]}  # one call each


def _bad_writer_graph() -> StateGraph[S]:
    b = StateGraph(S)
    b.add_node("good", lambda s: {"log": [1]})
    b.add_node("bad", lambda s: {"log": 2})
    b.add_edge(START, "good")
    b.add_edge(START, "bad")
    return b


def test_reducer_on_wrong_type_in_a_run_is_an_invalid_update_naming_the_key() -> None:
    with pytest.raises(InvalidUpdateError, match="'log'") as info:
        _bad_writer_graph().compile().invoke({"x": 0})
    assert isinstance(info.value.__cause__, TypeError)


def test_reducer_on_wrong_type_in_a_run_names_the_node() -> None:
    with pytest.raises(InvalidUpdateError, match="node 'bad'"):
        _bad_writer_graph().compile().invoke({"x": 0})


# -- writes to keys not in the schema ---------------------------------------------------


def test_unknown_key_is_dropped_and_warned_once_per_node_and_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    b = StateGraph(S)
    b.add_node("typo", lambda s: {"x": s["x"] + 1, "lgo": [1]})
    b.add_edge(START, "typo")
    graph = b.compile()
    with caplog.at_level(logging.WARNING, logger="graphpool"):
        assert graph.invoke({"x": 1}) == {"x": 2, "log": []}
        assert graph.invoke({"x": 5}) == {"x": 6, "log": []}
    warned = [r for r in caplog.records if "'lgo'" in r.getMessage()]
    assert len(warned) == 1
    assert "'typo'" in warned[0].getMessage() and "S" in warned[0].getMessage()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="graphpool"):
        b.compile().invoke({"x": 1})  # another compiled graph warns on its own
    assert len([r for r in caplog.records if "'lgo'" in r.getMessage()]) == 1


def test_callers_extra_input_keys_are_not_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="graphpool"):
        assert one_node().compile().invoke({"x": 1, "extra": 2}) == {"x": 1, "log": []}
    assert not [r for r in caplog.records if "extra" in r.getMessage()]
