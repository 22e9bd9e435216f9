"""A fifth kind of pool needs only its runner and ``register_runner``: nothing in the
scheduler, the dispatcher or the drivers changes."""

from __future__ import annotations

import operator
import threading
from typing import Annotated, Any, ClassVar

import pytest
from typing_extensions import TypedDict

from graphpool import START, StateGraph
from graphpool._pool import NodeRunner, known_executors, register_runner
from graphpool._pool._registry import _factories
from graphpool.errors import InvalidConfigError, InvalidGraphError


class S(TypedDict):
    log: Annotated[list, operator.add]


class ToyRunner(NodeRunner):
    """Each job on a new thread of its own; counts what it ran."""

    kind = "toy"
    ran: ClassVar[list[str]] = []

    def __init__(self, pools: Any) -> None:
        self.threads: list[threading.Thread] = []

    def start(self, job: Any, done: Any) -> Any:
        def work() -> None:
            ToyRunner.ran.append(job.node)
            job.run_sync()
            done(job)

        thread = threading.Thread(target=work, name=f"toy-{job.node}")
        thread.start()
        return thread


@pytest.fixture
def toy():
    ToyRunner.ran = []
    register_runner("toy", ToyRunner)
    yield ToyRunner
    _factories.pop("toy", None)


def test_a_registered_runner_runs_nodes_that_name_it(toy) -> None:
    assert "toy" in known_executors()
    builder = StateGraph(S)
    builder.add_node("a", lambda s: {"log": [threading.current_thread().name]}, executor="toy")
    builder.add_node("b", lambda s: {"log": ["b"]}, executor="toy")
    builder.add_edge(START, "a")
    builder.add_edge(START, "b")
    result = builder.compile().invoke({"log": []})
    assert result == {"log": ["toy-a", "b"]}
    assert sorted(toy.ran) == ["a", "b"]


def test_a_run_may_choose_the_registered_runner_in_its_config(toy) -> None:
    builder = StateGraph(S)
    builder.add_node("a", lambda s: {"log": ["a"]})
    builder.add_node("b", lambda s: {"log": ["b"]})
    builder.add_edge(START, "a")
    builder.add_edge(START, "b")
    assert builder.compile().invoke({"log": []}, {"executor": "toy"}) == {"log": ["a", "b"]}
    assert sorted(toy.ran) == ["a", "b"]


def test_unknown_executors_fail_where_given_naming_the_value() -> None:
    builder = StateGraph(S)
    with pytest.raises(InvalidGraphError, match="executor='nope'"):
        builder.add_node("a", lambda s: {}, executor="nope")
    builder.add_node("a", lambda s: {})
    builder.add_edge(START, "a")
    with pytest.raises(InvalidConfigError, match=r"config\['executor'\]='nope'"):
        builder.compile().invoke({"log": []}, {"executor": "nope"})
