"""What a type checker sees of the public surface: ``compile()`` gives a typed
``CompiledStateGraph``, so a typo in a method name is caught before it runs."""

from __future__ import annotations

import textwrap

import pytest

mypy_api = pytest.importorskip("mypy.api", reason="mypy is in the test extra")

USER_FILE = textwrap.dedent(
    """
    from typing_extensions import TypedDict
    from graphpool import START, StateGraph

    class S(TypedDict):
        x: int

    builder = StateGraph(S)
    builder.add_node("a", lambda s: {"x": s["x"] + 1})
    builder.add_edge(START, "a")
    graph = builder.compile()
    config = {"configurable": {"thread_id": "t"}}
    reveal_type(graph)
    reveal_type(graph.get_state(config))
    reveal_type(graph.stream({"x": 0}))
    graph.invok({"x": 0})
    """
)


def test_mypy_sees_the_compiled_graph_and_its_methods(tmp_path) -> None:
    user = tmp_path / "user.py"
    user.write_text(USER_FILE)
    out, err, status = mypy_api.run(
        [str(user), "--no-incremental", "--cache-dir", str(tmp_path / "cache")]
    )
    assert "CompiledStateGraph" in out, out + err
    assert "StateSnapshot" in out, out
    assert "Iterator[Any]" in out, out
    assert 'has no attribute "invok"' in out, out
    assert status == 1  # exactly the typo is an error
    assert out.count("error:") == 1, out
