"""``get_graph().draw_mermaid()``: the same Mermaid text as LangGraph for the same graph.

Graphs drawn by both libraries and compared as text: hand-made ones that reach the
odd corners of LangGraph's drawing (loops, joins, undeclared routes, labels, node
metadata, unsafe names) and random ones from hypothesis. The conformance suite's
graphs are compared in ``tests/conformance/test_mermaid.py``.
"""

from __future__ import annotations

import itertools
import operator
import re
import sys
from typing import Annotated, Any, Literal, TypedDict

import langgraph.graph as lg_graph
import langgraph.types as lg_types
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.runnables.graph import CurveStyle, NodeStyles

import graphpool
from graphpool import END, START, Command, StateGraph
from graphpool.errors import MissingRendererError


class S(TypedDict, total=False):
    x: int
    log: Annotated[list, operator.add]


def _noop(state: Any) -> dict:
    return {}


class _Lib:
    """The names a graph recipe needs, from one library."""

    def __init__(self, graph_mod: Any, types_mod: Any) -> None:
        self.StateGraph = graph_mod.StateGraph
        self.START, self.END = graph_mod.START, graph_mod.END
        self.Send, self.Command = types_mod.Send, types_mod.Command


LIBS = {"langgraph": _Lib(lg_graph, lg_types), "graphpool": _Lib(graphpool, graphpool)}


def both(recipe: Any, **draw: Any) -> tuple[str, str]:
    return drawn_both(recipe, lambda drawn: drawn.draw_mermaid(**draw))


def drawn_both(recipe: Any, form: Any) -> tuple[Any, Any]:
    """``form(graph.get_graph())`` of the recipe's graph in LangGraph, then in graphpool
    (the error's type where it raises: grandalf fails on some self loops, with
    coordinates in the message that vary from run to run)."""
    out = []
    for lib in LIBS.values():
        g = lib.StateGraph(S)
        recipe(g, lib)
        try:
            out.append(form(g.compile().get_graph()))
        except Exception as exc:  # the same kind of error from both
            out.append(type(exc).__name__)
    return out[0], out[1]


# -- hand-made corners ---------------------------------------------------------------


def loop(g: Any, L: Any) -> None:
    g.add_node("a", _noop)
    g.add_node("b", _noop)
    g.add_edge(L.START, "a")
    g.add_edge("a", "b")
    g.add_conditional_edges("b", lambda s: "a", {"again": "a", "stop": L.END})


def self_loop(g: Any, L: Any) -> None:
    g.add_node("a", _noop)
    g.add_node("b", _noop)
    g.add_edge(L.START, "a")
    g.add_edge("a", "a")
    g.add_edge("a", "b")
    g.add_edge("b", L.END)


def undeclared_send(g: Any, L: Any) -> None:
    for name in ("a", "w", "r"):
        g.add_node(name, _noop)
    g.add_edge(L.START, "a")
    g.add_conditional_edges("a", lambda s: [L.Send("w", 1)])
    g.add_edge("w", "r")
    g.add_edge("r", L.END)


def destinations(g: Any, L: Any) -> None:
    g.add_node("a", lambda s: L.Command(goto="b"), destinations=("b", "c"))
    g.add_node("b", _noop, metadata={"tag": "x", "n": 3, "l": [1, 2], "skip": {"a": 1}})
    g.add_node("c", _noop, destinations={"b": "back to b", "__end__": "done"})
    g.add_edge(L.START, "a")


def joins(g: Any, L: Any) -> None:
    for name in "abcdefg":
        g.add_node(name, _noop)
    g.add_edge(L.START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", "c")
    g.add_edge(L.START, "d")
    g.add_edge(["c", "d"], "e")
    g.add_edge(["a", "g"], "f")  # never complete: g is unreachable


def unsafe_names(g: Any, L: Any) -> None:
    names = ["my node", "_private_", "ünï-cödé", "*bold*", "a.b(c)"]
    for name in names:
        g.add_node(name, _noop)
    g.add_edge(L.START, names[0])
    for a, b in itertools.pairwise(names):
        g.add_edge(a, b)


def labels(g: Any, L: Any) -> None:
    for name in "abc":
        g.add_node(name, _noop)
    long = "a very long label that has more than nine words in it, to wrap"
    g.add_conditional_edges(L.START, lambda s: 1, {1: "a", 2: "b", long: "c", None: L.END})
    g.add_edge("a", "b")


def two_routes_one_target(g: Any, L: Any) -> None:
    for name in "abcd":
        g.add_node(name, _noop)
    g.add_edge(L.START, "a")

    def first(s: Any) -> str:
        return "b"

    def second(s: Any) -> str:
        return "c"

    g.add_conditional_edges("a", first, ["b", "c"])
    g.add_conditional_edges("a", second, {"go": "c", "end": L.END})
    g.add_conditional_edges("b", lambda s: 1, {"x": "d", "y": "d"})
    g.add_edge("a", "d")
    g.add_edge("b", "a")


def literal_routes(g: Any, L: Any) -> None:
    def a(s: Any) -> L.Command[Literal["b", "c"]]:
        return L.Command(goto="b")

    def route(s: Any) -> Literal["c", "__end__"]:
        return "c"

    g.add_node("a", a)
    g.add_node("b", _noop)
    g.add_node("c", _noop)
    g.add_edge(L.START, "a")
    g.add_conditional_edges("b", route)


def unreachable(g: Any, L: Any) -> None:
    for name in "abc":
        g.add_node(name, _noop)
    g.add_edge(L.START, "a")
    g.add_edge("b", "c")


CORNERS = [
    loop,
    self_loop,
    undeclared_send,
    destinations,
    joins,
    unsafe_names,
    labels,
    two_routes_one_target,
    literal_routes,
    unreachable,
]


@pytest.mark.parametrize("recipe", CORNERS, ids=[r.__name__ for r in CORNERS])
def test_corner_graph_mermaid_matches_langgraph(recipe: Any) -> None:
    expected, actual = both(recipe)
    assert actual == expected


@pytest.mark.parametrize("recipe", CORNERS, ids=[r.__name__ for r in CORNERS])
def test_corner_graph_json_and_ascii_match_langgraph(recipe: Any) -> None:
    expected, actual = drawn_both(recipe, lambda drawn: drawn.to_json())
    assert actual == expected
    expected, actual = drawn_both(recipe, _boxes)
    assert actual == expected


def _boxes(drawn: Any) -> list[str]:
    """The node boxes of ``draw_ascii()``: grandalf's layout of a graph with crossing
    edges differs from one drawing to the next, even within LangGraph."""
    return sorted(re.findall(r"\| (.+?) \|", drawn.draw_ascii()))


def test_draw_ascii_of_a_chain_is_langgraphs() -> None:
    def chain(g: Any, L: Any) -> None:
        for name in "abc":
            g.add_node(name, _noop)
        g.add_edge(L.START, "a")
        g.add_edge("a", "b")
        g.add_conditional_edges("b", lambda s: "c", ["c", L.END])

    expected, actual = drawn_both(chain, lambda drawn: drawn.draw_ascii())
    assert actual == expected
    assert "| b |" in actual


class _CallableObject:
    def __call__(self, state: Any) -> dict:
        return {}


def test_json_names_what_implements_each_node_as_langgraph() -> None:
    from langchain_core.prompts import PromptTemplate
    from langchain_core.runnables import RunnableLambda

    def recipe(g: Any, L: Any) -> None:
        g.add_node("fn", _noop)
        g.add_node("obj", _CallableObject())
        g.add_node("lambda", RunnableLambda(_noop))
        g.add_node("prompt", PromptTemplate.from_template("hi {x}"))
        g.add_edge(L.START, "fn")

    expected, actual = drawn_both(recipe, lambda drawn: drawn.to_json())
    assert actual == expected
    ids = {n["id"]: n.get("data", {}).get("id") for n in actual["nodes"]}
    assert ids["obj"] == ["langgraph", "_internal", "_runnable", "RunnableCallable"]
    assert ids["prompt"] == PromptTemplate.from_template("hi {x}").lc_id()


def test_json_names_graphpools_tool_node_by_its_class() -> None:
    from graphpool.prebuilt import ToolNode

    def search(query: str) -> str:
        """Search."""
        return query

    b = StateGraph(S)
    b.add_node("tools", ToolNode([search]))
    b.add_edge(START, "tools")
    nodes = {n["id"]: n for n in b.compile().get_graph().to_json()["nodes"]}
    assert nodes["tools"]["data"] == {
        "id": ["graphpool", "prebuilt", "tool_node", "ToolNode"],
        "name": "tools",
    }
    assert nodes["tools"]["metadata"] == {"__tools": ["search"]}


def test_draw_ascii_without_grandalf_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "grandalf" else real(name)
    )
    b = StateGraph(S)
    b.add_node("a", _noop)
    b.add_edge(START, "a")
    with pytest.raises(ImportError, match="pip install grandalf"):
        b.compile().get_graph().draw_ascii()


@pytest.mark.parametrize(
    "options",
    [
        {"with_styles": False},
        {"wrap_label_n_words": 3, "curve_style": CurveStyle.BASIS},
        {"node_colors": NodeStyles(default="fill:#fff", last="fill:#000")},
        {
            "frontmatter_config": {
                "title": "my: graph",
                "config": {
                    "theme": "neutral",
                    "look": "handDrawn",
                    "themeVariables": {"primaryColor": "#e2e2e2", "fontSize": 14},
                    "flowchart": {"htmlLabels": False},
                },
            }
        },
    ],
)
def test_draw_options_match_langgraph(options: dict[str, Any]) -> None:
    expected, actual = both(labels, **options)
    assert actual == expected


# -- random graphs --------------------------------------------------------------------


@st.composite
def recipes(draw: Any) -> Any:
    n = draw(st.integers(2, 6))
    names = [f"n{i}" for i in range(n)]
    targets = st.sampled_from([*names, "END"])
    sources = st.sampled_from(["START", *names])
    edges = draw(st.lists(st.tuples(sources, targets), max_size=8))
    join_sources = st.lists(st.sampled_from(names), min_size=2, max_size=3, unique=True)
    joins = draw(st.lists(st.tuples(join_sources, st.sampled_from(names)), max_size=2))
    branches = draw(
        st.lists(
            st.tuples(
                sources,
                st.one_of(
                    st.none(),
                    st.lists(targets, min_size=1, max_size=3, unique=True),
                    st.dictionaries(st.sampled_from("xyz"), targets, min_size=1, max_size=3),
                ),
            ),
            max_size=3,
        )
    )
    entry = draw(st.sampled_from(names))

    def recipe(g: Any, L: Any) -> None:
        def real(name: str) -> str:
            return {"START": L.START, "END": L.END}.get(name, name)

        for name in names:
            g.add_node(name, _noop)
        g.add_edge(L.START, entry)
        for a, b in edges:
            g.add_edge(real(a), real(b))
        for srcs, target in joins:
            g.add_edge(srcs, target)
        for i, (src, path_map) in enumerate(branches):

            def route(s: Any) -> Any:
                return []

            route.__name__ = f"route{i}"
            if isinstance(path_map, dict):
                path_map = {k: real(v) for k, v in path_map.items()}
            elif isinstance(path_map, list):
                path_map = [real(v) for v in path_map]
            g.add_conditional_edges(real(src), route, path_map)

    return recipe


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recipes())
def test_random_graph_mermaid_matches_langgraph(recipe: Any) -> None:
    expected, actual = both(recipe)
    assert actual == expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recipes())
def test_random_graph_json_and_ascii_match_langgraph(recipe: Any) -> None:
    expected, actual = drawn_both(recipe, lambda drawn: drawn.to_json())
    assert actual == expected
    expected, actual = drawn_both(recipe, _boxes)
    assert actual == expected


# -- the drawable object ---------------------------------------------------------------


def test_get_graph_nodes_and_edges() -> None:
    b = StateGraph(S)
    b.add_node("a", _noop)
    b.add_node("b", _noop)
    b.add_edge(START, "a")
    b.add_conditional_edges("a", lambda s: "b", {"go": "b", "stop": END})
    drawn = b.compile().get_graph()
    assert list(drawn.nodes) == [START, "a", "b", END]
    assert [(e.source, e.target, e.data, e.conditional) for e in drawn.edges] == [
        (START, "a", None, False),
        ("a", END, "stop", True),
        ("a", "b", "go", True),
        ("b", END, None, False),
    ]
    assert drawn.first_node().id == START
    assert drawn.last_node().id == END


def test_command_is_generic_for_route_annotations() -> None:
    def a(s: Any) -> Command[Literal["b"]]:
        return Command(goto="b")

    b = StateGraph(S)
    b.add_node("a", a)
    b.add_node("b", _noop)
    b.add_edge(START, "a")
    graph = b.compile()
    assert graph.invoke({"x": 1})["x"] == 1
    assert "\ta -.-> b;\n" in graph.get_graph().draw_mermaid()


def test_draw_mermaid_png_without_mmdc_names_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "")
    b = StateGraph(S)
    b.add_node("a", _noop)
    b.add_edge(START, "a")
    with pytest.raises(MissingRendererError, match="mermaid-cli"):
        b.compile().get_graph().draw_mermaid_png()


def test_draw_mermaid_png_hands_the_mermaid_text_to_mmdc(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a stand-in for mermaid-cli: records its arguments and input in the "picture"
    fake = tmp_path / "mmdc"
    fake.write_text(
        "#!" + sys.executable + "\n"
        "import sys\n"
        "args = sys.argv[1:]\n"
        "text = open(args[args.index('-i') + 1]).read()\n"
        "with open(args[args.index('-o') + 1], 'w') as f:\n"
        "    f.write('background=' + args[args.index('-b') + 1] + '\\n' + text)\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    b = StateGraph(S)
    b.add_node("a", _noop)
    b.add_edge(START, "a")
    drawn = b.compile().get_graph()
    out = tmp_path / "g.png"
    data = drawn.draw_mermaid_png(output_file_path=str(out), background_color="black")
    assert data == out.read_bytes()
    assert data.decode() == "background=black\n" + drawn.draw_mermaid()


def test_draw_png_lays_nodes_out_in_rows(tmp_path: Any) -> None:
    from graphpool._graph_png import layers

    b = StateGraph(S)
    for name in ("a", "b", "c", "d"):
        b.add_node(name, _noop)
    b.add_edge(START, "a")
    b.add_edge("a", "b")
    b.add_edge("a", "c")
    b.add_edge(["b", "c"], "d")
    b.add_conditional_edges("d", lambda s: "a", {"again": "a", "stop": END})  # a loop back
    drawn = b.compile().get_graph()
    assert layers(drawn) == {START: 0, "a": 1, "b": 2, "c": 2, "d": 3, END: 4}
    out = tmp_path / "g.png"
    data = drawn.draw_png(str(out))
    assert data.startswith(b"\x89PNG") and out.read_bytes() == data


def test_drawn_edges_equal_langgraphs_edge_tuples() -> None:
    def edges(lib: Any) -> list:
        class Trail(TypedDict):
            log: Annotated[list, operator.add]

        b = lib.StateGraph(Trail)
        b.add_node("child", lambda s: {}, destinations={"left": "go left", "right": "go right"})
        b.add_node("left", lambda s: {})
        b.add_node("right", lambda s: {})
        b.add_edge(lib.START, "child")
        return b.compile().get_graph().edges

    ours, theirs = edges(graphpool), edges(lg_graph)
    assert ours == theirs  # langchain-core's Edge is a named tuple; so is DrawEdge
    assert [tuple(e) for e in ours] == [tuple(e) for e in theirs]
