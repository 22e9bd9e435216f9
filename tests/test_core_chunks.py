"""``_core.chunks``: where a run's checkpoint chunks say its checkpoints are."""

from __future__ import annotations

from graphpool._core.chunks import Scope


def test_a_root_runs_checkpoints_have_no_map() -> None:
    scope = Scope(thread_id="t")
    assert scope.address("c1") == {
        "configurable": {"checkpoint_ns": "", "thread_id": "t", "checkpoint_id": "c1"}
    }


def test_a_subgraphs_checkpoints_name_every_enclosing_checkpoint() -> None:
    scope = Scope(thread_id="t", ns="a:1|b:2", parents={"": "r", "a:1": "m"})
    configurable = scope.address("c9")["configurable"]
    assert configurable["checkpoint_ns"] == "a:1|b:2"
    assert configurable["checkpoint_map"] == {"": "r", "a:1": "m", "a:1|b:2": "c9"}
    assert scope.parents == {"": "r", "a:1": "m"}  # not changed by it


def test_only_subgraph_tasks_have_a_state() -> None:
    root = Scope(thread_id="t", subgraph_nodes=frozenset({"sub"}))
    assert root.task_state("plain", "x") is None
    assert root.task_state("sub", "x") == {
        "configurable": {"thread_id": "t", "checkpoint_ns": "sub:x"}
    }
    nested = Scope(thread_id="t", ns="sub:x", subgraph_nodes=frozenset({"deep"}))
    state = nested.task_state("deep", "y")
    assert state is not None
    assert state["configurable"]["checkpoint_ns"] == "sub:x|deep:y"
