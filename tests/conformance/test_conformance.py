"""Differential conformance tests: graphpool must behave like LangGraph.

* ``test_same_as_langgraph`` runs every case on both libraries and compares
  the final state, the ``updates`` / ``values`` / ``["values", "updates"]``
  streams and any error.
* ``test_case_outcome`` runs every case on one library at a time and checks
  the coarse outcome (ok / build error / error kind) recorded with the case;
  on langgraph it also checks that the case is deterministic.
* The remaining tests check the exported names themselves.
"""

import types

import pytest

from .cases import CASES
from .harness import GRAPH_ATTRS, NAMESPACE_ATTRS, diff_records, namespace, outcome, run_case

pytestmark = pytest.mark.timeout(30)

CASE_IDS = [c.name for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_same_as_langgraph(case, langgraph_lib):
    if case.why:
        pytest.skip(f"documented difference: {case.why}")
    expected = run_case(case, langgraph_lib)
    actual = run_case(case, namespace("graphpool"))
    problems = diff_records(expected, actual)
    assert not problems, f"case {case.name!r} differs from langgraph:\n" + "\n".join(problems)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_case_outcome(case, lib):
    record = run_case(case, lib)
    expect = case.expect
    if lib.name == "graphpool" and case.graphpool_expect is not None:
        expect = case.graphpool_expect
    assert outcome(record) == expect, record.get("result", record)
    if case.expect == "build_error" and case.build_value_error:
        # graphpool raises ValueError subclasses wherever LangGraph does
        assert record["build_error"]["value_error"], "build error should subclass ValueError"
    for key in ("result", "values", "values+updates", "updates"):
        error = record.get(key, {}).get("error") if isinstance(record.get(key), dict) else None
        if error:
            missing = [m for m, found in error["mentions"].items() if not found]
            assert not missing, f"[{key}] error message does not mention {missing}"
    if lib.name == "langgraph":
        # the case itself must be deterministic on the reference library
        if case.expect == "build_error":
            assert record["build_error"]["value_error"] == case.build_value_error
        assert run_case(case, lib) == record, "case is not deterministic on langgraph"


def test_enough_cases():
    assert len(CASES) >= 45


def test_harness_detects_a_wrong_runtime(langgraph_lib):
    """Self-check: a runtime that treats join edges as separate edges must
    be caught by the comparison."""

    class NoJoinStateGraph(langgraph_lib.StateGraph):
        def add_edge(self, start_key, end_key):
            if isinstance(start_key, list):
                for key in start_key:
                    super().add_edge(key, end_key)
                return self
            return super().add_edge(start_key, end_key)

    mutant = types.SimpleNamespace(**vars(langgraph_lib))
    mutant.StateGraph = NoJoinStateGraph
    mutant.name = "mutant"
    case = next(c for c in CASES if c.name == "uneven_branches_join_edge")
    problems = diff_records(run_case(case, langgraph_lib), run_case(case, mutant))
    assert {p.split("]")[0] for p in problems} == {
        "[result",
        "[default",
        "[updates",
        "[values",
        "[values+updates",
    }


def test_namespace_exports(lib):
    for name in (*NAMESPACE_ATTRS, *GRAPH_ATTRS):
        assert getattr(lib, name) is not None, name
    assert lib.name in ("langgraph", "graphpool")


def test_start_end_constants(lib):
    assert lib.START == "__start__"
    assert lib.END == "__end__"


def test_error_hierarchy(lib):
    # `except RecursionError` catches LangGraph's recursion error
    assert issubclass(lib.GraphRecursionError, RecursionError)
    assert issubclass(lib.InvalidUpdateError, Exception)
    assert not issubclass(lib.InvalidUpdateError, lib.GraphRecursionError)


def test_send_value_semantics(lib):
    send = lib.Send("worker", {"item": 1})
    assert send.node == "worker"
    assert send.arg == {"item": 1}
    assert send == lib.Send("worker", {"item": 1})
    assert send != lib.Send("worker", {"item": 2})
    assert send != lib.Send("other", {"item": 1})


def test_command_fields(lib):
    bare = lib.Command()
    assert bare.update is None
    assert not bare.goto
    cmd = lib.Command(goto="next", update={"x": 1})
    assert cmd.goto == "next"
    assert cmd.update == {"x": 1}
    many = lib.Command(goto=["a", lib.Send("b", {})])
    assert list(many.goto) == ["a", lib.Send("b", {})]


def test_retry_policy_defaults(lib):
    policy = lib.RetryPolicy()
    assert policy.max_attempts == 3
    assert policy.initial_interval == 0.5
    assert policy.backoff_factor == 2.0
    assert policy.max_interval == 128.0
    assert policy.jitter is True
    custom = lib.RetryPolicy(max_attempts=5, initial_interval=0.01, jitter=False)
    assert (custom.max_attempts, custom.initial_interval, custom.jitter) == (5, 0.01, False)
