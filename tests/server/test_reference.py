"""The same SDK calls against ``graphpool serve`` and ``langgraph dev`` (the reference),
compared; skipped where ``langgraph dev`` is not installed (see conftest's ``reference``).

The README's Serving section lists the differences these found and tolerate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def both(server: str, reference: str) -> Iterator[dict[str, Any]]:
    from langgraph_sdk import get_sync_client

    clients = {"graphpool": get_sync_client(url=server)}
    clients["langgraph"] = get_sync_client(url=reference)
    yield clients
    for made in clients.values():
        made.http.client.close()


def _same(both: dict[str, Any], scenario: Callable[[Any], Any]) -> Any:
    """``scenario(client)`` on each server; asserts the results are equal."""
    ours, theirs = scenario(both["graphpool"]), scenario(both["langgraph"])
    assert ours == theirs
    return ours


def _events(parts: Any) -> list[tuple[str, Any]]:
    return [(part.event, part.data) for part in parts if part.event != "metadata"]


def test_default_assistants(both: dict[str, Any]) -> None:
    def scenario(client: Any) -> Any:
        found = client.assistants.search(metadata={"created_by": "system"}, limit=100)
        return sorted(
            (a["graph_id"], a["assistant_id"], a["name"])
            for a in found
            if a["graph_id"] in ("chain", "ask")
        )

    assert len(_same(both, scenario)) == 2


def test_wait_on_a_thread(both: dict[str, Any]) -> None:
    def scenario(client: Any) -> Any:
        thread = client.threads.create()
        result = client.runs.wait(thread["thread_id"], "chain", input={"items": []})
        state = client.threads.get_state(thread["thread_id"])
        return (
            result,
            state["values"],
            state["next"],
            client.threads.get(thread["thread_id"])["status"],
        )

    assert _same(both, scenario)[0] == {"items": ["hello", "second"]}


def test_stateless_wait(both: dict[str, Any]) -> None:
    _same(both, lambda client: client.runs.wait(None, "chain", input={"items": ["x"]}))


def test_stream_modes(both: dict[str, Any]) -> None:
    def scenario(client: Any) -> Any:
        thread = client.threads.create()
        modes = ["values", "updates", "custom"]
        parts = client.runs.stream(
            thread["thread_id"], "chain", input={"items": []}, stream_mode=modes
        )
        return _events(parts)

    assert ("custom", {"progress": "first"}) in _same(both, scenario)


def test_interrupt_then_resume(both: dict[str, Any]) -> None:
    def scenario(client: Any) -> Any:
        thread_id = client.threads.create()["thread_id"]
        client.runs.wait(thread_id, "ask", input={"items": []})
        paused = client.threads.get_state(thread_id)
        asked = [i["value"] for t in paused["tasks"] for i in t["interrupts"]]
        status = client.threads.get(thread_id)["status"]
        done = client.runs.wait(thread_id, "ask", command={"resume": "Ada"})
        return paused["next"], asked, status, done

    _same(both, scenario)


def test_a_failing_run(both: dict[str, Any]) -> None:
    def scenario(client: Any) -> Any:
        thread_id = client.threads.create()["thread_id"]
        run = client.runs.create(thread_id, "fail", input={"items": []})
        client.runs.join(thread_id, run["run_id"])
        return client.runs.get(thread_id, run["run_id"])["status"]

    assert _same(both, scenario) == "error"


def test_reject_on_a_busy_thread(both: dict[str, Any]) -> None:
    def scenario(client: Any) -> Any:
        thread_id = client.threads.create()["thread_id"]
        first = client.runs.create(thread_id, "slow", input={"items": []})
        with pytest.raises(httpx.HTTPStatusError) as refused:
            client.runs.create(thread_id, "chain", input={"items": []}, multitask_strategy="reject")
        client.runs.join(thread_id, first["run_id"])
        return refused.value.response.status_code

    assert _same(both, scenario) == 409


def test_subgraph_events(both: dict[str, Any]) -> None:
    def scenario(client: Any) -> Any:
        parts = client.runs.stream(
            None, "nested", input={"items": []}, stream_mode="updates", stream_subgraphs=True
        )
        # the namespace's task ids differ by server: compare the node names only
        return [
            ("|".join(p.split(":")[0] for p in event.split("|")), data)
            for event, data in _events(parts)
        ]

    _same(both, scenario)


def test_history_length_and_sources(both: dict[str, Any]) -> None:
    def scenario(client: Any) -> Any:
        thread_id = client.threads.create()["thread_id"]
        client.runs.wait(thread_id, "chain", input={"items": []})
        history = client.threads.get_history(thread_id)
        return [(s["metadata"]["source"], s["metadata"]["step"], s["next"]) for s in history]

    _same(both, scenario)


def test_update_state_then_read_it(both: dict[str, Any]) -> None:
    def scenario(client: Any) -> Any:
        thread_id = client.threads.create()["thread_id"]
        client.runs.wait(thread_id, "chain", input={"items": []})
        client.threads.update_state(thread_id, {"items": ["edited"]}, as_node="second")
        state = client.threads.get_state(thread_id)
        return (
            state["values"],
            state["next"],
            state["metadata"]["source"],
            state["metadata"]["step"],
        )

    assert _same(both, scenario)[2] == "update"


def test_copy_a_thread(both: dict[str, Any]) -> None:
    def scenario(client: Any) -> Any:
        thread_id = client.threads.create()["thread_id"]
        client.runs.wait(thread_id, "chain", input={"items": ["a"]})
        copied = client.threads.copy(thread_id)
        assert copied["thread_id"] != thread_id
        return client.threads.get_state(copied["thread_id"])["values"]

    _same(both, scenario)


def test_store_items(both: dict[str, Any]) -> None:
    def scenario(client: Any) -> Any:
        namespace = ["reference", "test"]
        client.store.put_item(namespace, "k1", {"v": 1})
        client.store.put_item(namespace, "k2", {"v": 2})
        item = client.store.get_item(namespace, "k1")
        found = client.store.search_items(["reference"], filter={"v": 2})["items"]
        listed = client.store.list_namespaces(prefix=["reference"])["namespaces"]
        client.store.delete_item(namespace, "k1")
        client.store.delete_item(namespace, "k2")
        return (item["namespace"], item["key"], item["value"]), [f["key"] for f in found], listed

    _same(both, scenario)
