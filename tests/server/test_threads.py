"""Threads through the SDK: create, get, search, count, update, copy, delete, state."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


def test_create_get_update_delete(client) -> None:
    thread_id = str(uuid.uuid4())
    made = client.threads.create(thread_id=thread_id, metadata={"owner": "ann"})
    assert made["thread_id"] == thread_id
    assert made["status"] == "idle"
    assert client.threads.get(thread_id)["metadata"] == {"owner": "ann"}
    with pytest.raises(httpx.HTTPStatusError) as info:
        client.threads.create(thread_id=thread_id)
    assert info.value.response.status_code == 409
    again = client.threads.create(thread_id=thread_id, if_exists="do_nothing")
    assert again["thread_id"] == thread_id
    updated = client.threads.update(thread_id, metadata={"topic": "x"})
    assert updated["metadata"] == {"owner": "ann", "topic": "x"}
    client.threads.delete(thread_id)
    with pytest.raises(httpx.HTTPStatusError) as info:
        client.threads.get(thread_id)
    assert info.value.response.status_code == 404


def test_search_and_count_by_metadata(client) -> None:
    tag = uuid.uuid4().hex
    ids = {client.threads.create(metadata={"tag": tag, "n": i})["thread_id"] for i in range(3)}
    found = client.threads.search(metadata={"tag": tag}, limit=10)
    assert {t["thread_id"] for t in found} == ids
    assert client.threads.count(metadata={"tag": tag}) == 3
    assert [t["metadata"]["n"] for t in client.threads.search(metadata={"tag": tag, "n": 1})] == [1]
    page = client.threads.search(metadata={"tag": tag}, limit=2, offset=2)
    assert len(page) == 1


def test_state_history_and_update(client) -> None:
    thread_id = client.threads.create()["thread_id"]
    empty = client.threads.get_state(thread_id)
    assert empty["values"] == {} and empty["next"] == []
    client.runs.wait(thread_id, "chain", input={"items": ["a"]})
    state = client.threads.get_state(thread_id)
    assert state["values"] == {"items": ["a", "hello", "second"]}
    assert state["next"] == []
    history = client.threads.get_history(thread_id)
    assert history[0]["checkpoint"]["checkpoint_id"] == state["checkpoint"]["checkpoint_id"]
    assert len(history) == 4  # input, first, second: and the empty start
    earlier = history[2]["checkpoint"]["checkpoint_id"]
    at = client.threads.get_state(thread_id, checkpoint_id=earlier)
    assert at["values"] == history[2]["values"]
    assert len(client.threads.get_history(thread_id, limit=2)) == 2

    response = client.threads.update_state(thread_id, {"items": ["z"]}, as_node="second")
    assert response["checkpoint"]["checkpoint_id"]
    assert client.threads.get_state(thread_id)["values"]["items"][-1] == "z"
    assert client.threads.get(thread_id)["values"]["items"][-1] == "z"


def test_copy_keeps_state(client) -> None:
    thread_id = client.threads.create()["thread_id"]
    client.runs.wait(thread_id, "chain", input={"items": []})
    copied = client.threads.copy(thread_id)
    assert copied["thread_id"] != thread_id
    state = client.threads.get_state(copied["thread_id"])
    assert state["values"] == {"items": ["hello", "second"]}
    # the copy runs on from there, the original stays as it was
    client.runs.wait(copied["thread_id"], "chain", input={"items": ["more"]})
    assert len(client.threads.get_state(copied["thread_id"])["values"]["items"]) == 5
    assert len(client.threads.get_state(thread_id)["values"]["items"]) == 2


def test_create_with_supersteps(client) -> None:
    thread = client.threads.create(
        graph_id="chain",
        supersteps=[{"updates": [{"values": {"items": ["x"]}, "as_node": "first"}]}],
    )
    state = client.threads.get_state(thread["thread_id"])
    assert state["values"] == {"items": ["x"]}
    assert state["next"] == ["second"]
    assert client.threads.get(thread["thread_id"])["status"] == "interrupted"
    done = client.runs.wait(thread["thread_id"], "chain", input=None)
    assert done == {"items": ["x", "second"]}


def test_bad_supersteps_are_refused(client) -> None:
    with pytest.raises(httpx.HTTPStatusError) as info:
        client.threads.create(
            graph_id="chain", supersteps=[{"updates": [{"values": {}, "as_node": "nope"}]}]
        )
    assert info.value.response.status_code == 422
    with pytest.raises(httpx.HTTPStatusError) as info:
        client.threads.create(supersteps=[{"updates": [{"values": {}, "as_node": "first"}]}])
    assert info.value.response.status_code == 422
    assert "graph_id" in info.value.response.json()["detail"]


def test_thread_stream_follows_its_runs(server: str, client) -> None:
    thread_id = client.threads.create()["thread_id"]
    events: list[tuple[str, object]] = []
    with httpx.Client(base_url=server, timeout=30) as raw:
        # the subscription is in place once the response has started
        with raw.stream("GET", f"/threads/{thread_id}/stream") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            for items in (["one"], ["two"]):
                client.runs.create(
                    thread_id, "chain", input={"items": items}, stream_mode="updates"
                )
            event = None
            for line in response.iter_lines():
                if line.startswith("event: "):
                    event = line[len("event: ") :]
                elif line.startswith("data: ") and event is not None:
                    events.append((event, json.loads(line[len("data: ") :])))
                    if sum(1 for e, _ in events if e == "updates") == 4:
                        break
    runs = [data["run_id"] for event, data in events if event == "metadata"]
    assert len(runs) == 2  # both runs, one after the other
    assert [data for event, data in events if event == "updates"] == [
        {"first": {"items": ["hello"]}},
        {"second": {"items": ["second"]}},
    ] * 2


def test_prune(client) -> None:
    doomed = client.threads.create()["thread_id"]
    trimmed = client.threads.create()["thread_id"]
    for thread_id in (doomed, trimmed):
        client.runs.wait(thread_id, "chain", input={"items": []})
    assert client.threads.prune([doomed, "no-such-thread"]) == {"pruned_count": 1}
    with pytest.raises(httpx.HTTPStatusError):
        client.threads.get(doomed)
    before = client.threads.get_state(trimmed)
    assert len(client.threads.get_history(trimmed)) == 4
    assert client.threads.prune([trimmed], strategy="keep_latest") == {"pruned_count": 1}
    history = client.threads.get_history(trimmed)
    assert [h["checkpoint"]["checkpoint_id"] for h in history] == [
        before["checkpoint"]["checkpoint_id"]
    ]
    assert client.threads.get_state(trimmed)["values"] == before["values"]
