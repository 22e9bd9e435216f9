"""Mermaid conformance: ``get_graph().draw_mermaid()`` of every case's graph, on both libraries.

Every case whose graph LangGraph builds is drawn by LangGraph and by graphpool,
and the two texts must be equal. Cases that LangGraph refuses to build
(``expect="build_error"``) have no drawing to compare.
"""

import pytest

from .cases import CASES
from .harness import namespace

_lg, _gp = namespace("langgraph"), namespace("graphpool")


def _drawable_cases():
    cases = []
    for case in CASES:
        try:
            case(_lg).graph.get_graph()
        except Exception:
            continue
        cases.append(case)
    return cases


DRAWABLE = _drawable_cases()


def test_every_case_that_builds_is_drawn():
    assert len(DRAWABLE) >= 100
    assert all(c.expect == "build_error" for c in CASES if c not in DRAWABLE)


@pytest.mark.parametrize("case", DRAWABLE, ids=[c.name for c in DRAWABLE])
def test_mermaid_same_as_langgraph(case):
    expected = case(_lg).graph.get_graph().draw_mermaid()
    assert case(_gp).graph.get_graph().draw_mermaid() == expected


@pytest.mark.parametrize("xray", [True, 1])
@pytest.mark.parametrize("case", DRAWABLE, ids=[c.name for c in DRAWABLE])
def test_mermaid_xray_same_as_langgraph(case, xray):
    """``get_graph(xray=...)`` draws subgraph nodes as their graphs (the subgraph cases),
    and is the plain drawing for every other graph."""
    expected = case(_lg).graph.get_graph(xray=xray).draw_mermaid()
    assert case(_gp).graph.get_graph(xray=xray).draw_mermaid() == expected


SUBGRAPH_CASES = [c for c in DRAWABLE if c.fn.__module__.endswith("cases_subgraphs")]


@pytest.mark.parametrize("case", SUBGRAPH_CASES, ids=[c.name for c in SUBGRAPH_CASES])
def test_graph_json_of_subgraph_cases_same_as_langgraph(case):
    for xray in (False, True):
        expected = case(_lg).graph.get_graph(xray=xray).to_json()
        assert case(_gp).graph.get_graph(xray=xray).to_json() == expected
