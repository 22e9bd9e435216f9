"""A retry's backoff goes through ``time.sleep`` / ``asyncio.sleep``, as LangGraph's
does, so a test can patch it and see the waits; both libraries sleep the same."""

import asyncio
import operator
from typing import Annotated, TypedDict
from unittest.mock import AsyncMock, patch

import pytest

pytestmark = pytest.mark.timeout(30)


class Tries(TypedDict):
    log: Annotated[list, operator.add]


def _graph(lib, fails: int, **policy):
    calls = []

    def flaky(state):
        calls.append(1)
        if len(calls) <= fails:
            raise ValueError(f"try {len(calls)}")
        return {"log": [len(calls)]}

    g = lib.StateGraph(Tries)
    g.add_node("flaky", flaky, retry_policy=lib.RetryPolicy(retry_on=ValueError, **policy))
    g.add_edge(lib.START, "flaky")
    return g.compile()


def _sleeps(lib, fails: int, **policy):
    graph = _graph(lib, fails, **policy)
    with patch("time.sleep") as sleep:
        try:
            out = graph.invoke({"log": []})
        except ValueError as exc:
            out = str(exc)
    return out, [c.args[0] for c in sleep.call_args_list]


@pytest.mark.parametrize("fails", [0, 2, 5])
def test_backoff_sleeps_match_langgraph(lib, langgraph_lib, fails) -> None:
    policy = dict(max_attempts=4, initial_interval=0.01, backoff_factor=3.0, jitter=False)
    assert _sleeps(lib, fails, **policy) == _sleeps(langgraph_lib, fails, **policy)


def test_jitter_is_added_to_the_sleep(lib, langgraph_lib) -> None:
    def run(which):
        with patch("random.uniform", return_value=0.25):
            return _sleeps(which, 1, max_attempts=2, initial_interval=0.5, jitter=True)

    assert run(lib) == run(langgraph_lib) == ({"log": [2]}, [0.75])


def test_async_backoff_awaits_asyncio_sleep(lib, langgraph_lib) -> None:
    def run(which):
        graph = _graph(which, 2, max_attempts=3, initial_interval=0.02, jitter=False)
        with patch("asyncio.sleep", new_callable=AsyncMock) as sleep:
            out = asyncio.run(graph.ainvoke({"log": []}))
        return out, [c.args[0] for c in sleep.call_args_list if c.args[0] > 0]

    assert run(lib) == run(langgraph_lib)
