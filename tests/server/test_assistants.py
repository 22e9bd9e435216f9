"""Assistants through the SDK: one per served graph, and the ones clients make."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from .conftest import APP

CONFIG = APP / "langgraph.json"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


def test_each_graph_has_a_default_assistant(client) -> None:
    found = client.assistants.search(metadata={"created_by": "system"}, limit=100)
    assert {a["graph_id"] for a in found} == set(json.loads(CONFIG.read_text())["graphs"])
    by_graph = client.assistants.get("chain")  # a graph's name stands for its assistant
    assert by_graph["graph_id"] == "chain"
    assert client.assistants.get(by_graph["assistant_id"]) == by_graph
    # the same id on every start: uuid5 of the graph's name in the namespace LangGraph's
    # server uses (test_reference.py compares it with langgraph dev's)
    langgraph_namespace = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")
    assert by_graph["assistant_id"] == str(uuid.uuid5(langgraph_namespace, "chain"))


def test_create_update_search_count_delete(client) -> None:
    tag = uuid.uuid4().hex
    made = client.assistants.create(
        "chain", config={"tags": ["t"]}, metadata={"tag": tag}, name="mine"
    )
    assert made["graph_id"] == "chain" and made["name"] == "mine" and made["version"] == 1
    with pytest.raises(httpx.HTTPStatusError) as info:
        client.assistants.create("chain", assistant_id=made["assistant_id"])
    assert info.value.response.status_code == 409
    same = client.assistants.create(
        "chain", assistant_id=made["assistant_id"], if_exists="do_nothing"
    )
    assert same["assistant_id"] == made["assistant_id"]
    updated = client.assistants.update(made["assistant_id"], metadata={"more": 1})
    assert updated["version"] == 2
    assert updated["metadata"] == {"tag": tag, "more": 1}
    assert [a["assistant_id"] for a in client.assistants.search(metadata={"tag": tag})] == [
        made["assistant_id"]
    ]
    assert client.assistants.count(metadata={"tag": tag}) == 1
    assert client.assistants.count(graph_id="ask") >= 1
    assert [v["version"] for v in client.assistants.get_versions(made["assistant_id"])] == [2, 1]
    client.assistants.delete(made["assistant_id"])
    with pytest.raises(httpx.HTTPStatusError) as info:
        client.assistants.get(made["assistant_id"])
    assert info.value.response.status_code == 404


def test_unknown_graph_is_refused(client) -> None:
    with pytest.raises(httpx.HTTPStatusError) as info:
        client.assistants.create("nope")
    assert info.value.response.status_code == 404


def test_graph_and_schemas(client) -> None:
    drawn = client.assistants.get_graph("chain")
    names = {node["id"] for node in drawn["nodes"]}
    assert {"first", "second"} <= names
    assert drawn["edges"]
    schemas = client.assistants.get_schemas("chain")
    assert schemas["graph_id"] == "chain"
    assert set(schemas["state_schema"]["properties"]) == {"items", "answer"}
    assert client.assistants.get_subgraphs("chain") == {}


def test_a_run_uses_its_assistants_config(client) -> None:
    made = client.assistants.create("chain", config={"configurable": {"user": "ann"}})
    thread_id = client.threads.create()["thread_id"]
    client.runs.wait(thread_id, made["assistant_id"], input={"items": []})
    state = client.threads.get_state(thread_id)
    assert state["metadata"]["user"] == "ann"  # configurable values land in the metadata
    assert state["metadata"]["assistant_id"] == made["assistant_id"]


def test_a_run_context_goes_over_its_assistants(client) -> None:
    made = client.assistants.create("ctx", context={"greeting": "hi", "name": "bob"})
    result = client.runs.wait(None, made["assistant_id"], input={}, context={"name": "ann"})
    assert result["answer"] == "hi ann"


def test_versions_and_set_latest(client) -> None:
    made = client.assistants.create("chain", metadata={"v": "one"})
    assistant_id = made["assistant_id"]
    client.assistants.update(assistant_id, metadata={"v": "two"})
    listed = client.assistants.get_versions(assistant_id)
    assert [(v["version"], v["metadata"]["v"]) for v in listed] == [(2, "two"), (1, "one")]
    back = client.assistants.set_latest(assistant_id, 1)
    assert back["version"] == 1 and back["metadata"] == {"v": "one"}
    assert client.assistants.get(assistant_id)["metadata"] == {"v": "one"}
    again = client.assistants.update(assistant_id, name="renamed")
    assert again["version"] == 3
    with pytest.raises(httpx.HTTPStatusError) as info:
        client.assistants.set_latest(assistant_id, 9)
    assert info.value.response.status_code == 404
