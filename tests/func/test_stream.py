"""``Chunks``: the one-node graph's chunks in an entrypoint's shapes."""

from __future__ import annotations

from graphpool.func._stream import Chunks


def test_updates_only_asks_for_custom_too_and_drops_it() -> None:
    chunks = Chunks("main", 1, None, subgraphs=False)
    assert chunks.modes == ["updates", "custom"]
    assert list(chunks.out(("custom", "written"))) == []
    assert list(chunks.out(("updates", {"main": {"output": 3}}))) == [{"main": 3}]
    assert list(chunks.out(("updates", {"task": 2}))) == [{"task": 2}]


def test_several_modes_and_namespaces_keep_their_shapes() -> None:
    chunks = Chunks("main", 1, ["values", "custom"], subgraphs=True)
    assert list(chunks.out(((), "values", {"output": 5}))) == [((), "values", 5)]
    assert list(chunks.out(((), "custom", "hi"))) == [((), "custom", "hi")]
    paused = {"__interrupt__": ("i",)}
    assert list(chunks.out(((), "values", {"output": 1, **paused}))) == [((), "values", paused)]


def test_debug_steps_and_the_entrypoints_events() -> None:
    chunks = Chunks("main", 1, "debug", subgraphs=False)
    start = {"step": 1, "type": "task", "payload": {"name": "main", "input": {"input": 7}}}
    end = {
        "step": 1,
        "type": "task_result",
        "payload": {"name": "main", "error": None, "result": {"output": 8}, "interrupts": []},
    }
    call = {"step": 1, "type": "task", "payload": {"name": "inc", "input": ((7,), {})}}
    assert [c["step"] for c in [*chunks.out(("debug", start)), *chunks.out(("debug", call))]] == [
        0,
        0,
    ]
    [first] = chunks.out(("debug", start))
    assert first["payload"] == {"name": "main", "input": 7, "triggers": ("__start__",)}
    [last] = chunks.out(("debug", end))
    assert last["payload"]["result"] == {"__end__": 8}
