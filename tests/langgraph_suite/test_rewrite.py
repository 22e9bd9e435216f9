"""The harness's own rules, on small made-up modules (no LangGraph test code here)."""

from __future__ import annotations

import sys
import textwrap
from typing import Any

import pytest

from . import report, rewrite, shim
from .driver import Outcome


def _rewrite(source: str) -> rewrite.Rewritten:
    return rewrite.rewrite(textwrap.dedent(source), package="tests")


def _load(source: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Run a rewritten module with the shim looking names up in graphpool."""
    monkeypatch.setattr(shim, "TARGET", "graphpool")
    monkeypatch.setitem(sys.modules, "_lgshim", shim)
    namespace: dict[str, Any] = {"__name__": "made_up"}
    exec(compile(_rewrite(source).source, "made_up.py", "exec"), namespace)
    return namespace


def test_public_names_go_through_the_shim_and_internal_imports_stay() -> None:
    done = _rewrite(
        """
        from langgraph.graph import START, StateGraph as SG
        from langgraph.pregel import Pregel
        from langgraph.graph.message import add_messages, _messages_delta_reducer
        """
    )
    assert "SG = _lgshim.name('langgraph.graph', 'StateGraph')" in done.source
    assert "START = _lgshim.name('langgraph.graph', 'START')" in done.source
    assert "from langgraph.pregel import Pregel" in done.source
    assert "from langgraph.graph.message import _messages_delta_reducer" in done.source
    assert "add_messages = _lgshim.name('langgraph.graph.message', 'add_messages')" in done.source


def test_not_applicable_follows_helpers_but_ignores_annotations() -> None:
    done = _rewrite(
        """
        from langgraph.channels.last_value import LastValue
        from langgraph.graph import StateGraph

        def helper():
            return LastValue(int)

        def test_through_a_helper():
            helper()

        def test_only_annotates(x: LastValue):
            def node(state: LastValue) -> LastValue:
                return state
            StateGraph(dict)

        def test_public_only():
            StateGraph(dict)

        class TestGroup:
            def test_direct(self):
                LastValue(int)

        def test_internal_key_spelled_out():
            config = {"configurable": {"__pregel_runtime": None}}
        """
    )
    assert done.not_applicable == {
        "test_through_a_helper": "helper -> langgraph.channels.last_value.LastValue",
        "TestGroup::test_direct": "langgraph.channels.last_value.LastValue",
        "test_internal_key_spelled_out": (
            "the literal '__pregel_runtime' (a LangGraph internal key)"
        ),
    }


def test_a_missing_name_fails_only_the_tests_that_use_it(monkeypatch: pytest.MonkeyPatch) -> None:
    module = _load(
        """
        import pytest
        from langgraph.graph import NoSuchName, StateGraph

        @NoSuchName
        def decorated():
            pass

        def test_uses_it():
            decorated()

        @pytest.mark.parametrize("x", NoSuchName())
        def test_defined_with_it(x):
            pass

        def test_other():
            return StateGraph.__name__
        """,
        monkeypatch,
    )
    assert module["test_other"]() == "StateGraph"
    for name in ("test_uses_it", "test_defined_with_it"):
        missing = r"missing name langgraph\.graph\.NoSuchName"
        with pytest.raises(shim.BrokenDefinition, match=missing):
            module[name]()


def test_a_placeholder_names_itself_where_only_its_type_is_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = _load("from langgraph.errors import NoSuchError\n", monkeypatch)
    with pytest.raises(TypeError, match=r"missing name langgraph\.errors\.NoSuchError"):
        pytest.raises(module["NoSuchError"])


def test_failures_are_classified_and_reference_failures_not_counted() -> None:
    reference, graphpool = Outcome("langgraph"), Outcome("graphpool")
    reference.results = {
        "f.py::test_a": {"outcome": "passed"},
        "f.py::test_b": {"outcome": "passed"},
        "f.py::test_c": {"outcome": "failed", "message": "flaky"},
        "f.py::test_d": {"outcome": "passed"},
        "f.py::test_e": {"outcome": "na", "message": "langgraph.pregel.Pregel"},
    }
    kwarg = "TypeError: ToolNode.__init__() got an unexpected keyword argument 'wrap_tool_call'"
    graphpool.results = {
        "f.py::test_a": {"outcome": "passed"},
        "f.py::test_b": {"outcome": "failed", "message": kwarg},
        "f.py::test_c": {"outcome": "passed"},
        "f.py::test_e": {"outcome": "na", "message": "langgraph.pregel.Pregel"},
    }
    found = report.verdicts(reference, graphpool, {})
    assert found.passed == ["f.py::test_a"]
    assert found.failed == {
        "f.py::test_b": "unsupported argument ToolNode.__init__(wrap_tool_call=...)",
        "f.py::test_d": "not run on graphpool (collection error or killed)",
    }
    assert list(found.reference_failures) == ["f.py::test_c"]
    assert list(found.not_applicable) == ["f.py::test_e"]
    assert found.fraction == pytest.approx(1 / 3)
    check = report.check_ratchet({"f.py::test_a", "f.py::test_b", "f.py::test_c"}, found)
    assert list(check.regressions) == ["f.py::test_b"]
    assert check.unjudged == {"f.py::test_c": "fails on LangGraph"}
