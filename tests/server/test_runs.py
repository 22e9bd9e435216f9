"""Runs through the SDK: background, wait, stream, join, cancel, and double-texting."""

from __future__ import annotations

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


def _events(parts) -> list[tuple[str, object]]:  # type: ignore[no-untyped-def]
    return [(part.event, part.data) for part in parts]


def test_stream_modes(client) -> None:
    thread_id = client.threads.create()["thread_id"]
    seen = _events(
        client.runs.stream(
            thread_id, "chain", input={"items": []}, stream_mode=["updates", "custom", "debug"]
        )
    )
    names = [event for event, _ in seen]
    assert names[0] == "metadata"
    assert ("custom", {"progress": "first"}) in seen
    assert [data for event, data in seen if event == "updates"] == [
        {"first": {"items": ["hello"]}},
        {"second": {"items": ["second"]}},
    ]
    assert "debug" in names
    assert "values" not in names  # only the modes asked for


def test_stream_values_default(client) -> None:
    seen = _events(client.runs.stream(None, "chain", input={"items": ["a"]}))
    values = [data for event, data in seen if event == "values"]
    assert values == [
        {"items": ["a"]},
        {"items": ["a", "hello"]},
        {"items": ["a", "hello", "second"]},
    ]


def test_background_run_then_join(client) -> None:
    thread_id = client.threads.create()["thread_id"]
    run = client.runs.create(thread_id, "chain", input={"items": []}, metadata={"who": "me"})
    assert run["status"] in ("pending", "running")
    assert run["thread_id"] == thread_id and run["metadata"] == {"who": "me"}
    assert client.runs.join(thread_id, run["run_id"]) == {"items": ["hello", "second"]}
    done = client.runs.get(thread_id, run["run_id"])
    assert done["status"] == "success"
    assert [r["run_id"] for r in client.runs.list(thread_id)] == [run["run_id"]]
    assert client.threads.get(thread_id)["status"] == "idle"
    client.runs.delete(thread_id, run["run_id"])
    assert client.runs.list(thread_id) == []


def test_join_stream_replays_from_last_event_id(client) -> None:
    thread_id = client.threads.create()["thread_id"]
    run = client.runs.create(thread_id, "chain", input={"items": []}, stream_mode="updates")
    everything = list(client.runs.join_stream(thread_id, run["run_id"]))
    assert [p.event for p in everything] == ["metadata", "updates", "updates"]
    rest = list(client.runs.join_stream(thread_id, run["run_id"], last_event_id=everything[1].id))
    assert [(p.id, p.data) for p in rest] == [(everything[2].id, everything[2].data)]


def test_wait_reports_a_failed_run(client) -> None:
    result = client.runs.wait(None, "fail", input={}, raise_error=False)
    assert result["__error__"]["error"] == "KeyError"
    with pytest.raises(Exception, match="KeyError"):
        client.runs.wait(None, "fail", input={})
    thread_id = client.threads.create()["thread_id"]
    seen = _events(client.runs.stream(thread_id, "fail", input={}))
    assert seen[-1][0] == "error"
    assert client.threads.get(thread_id)["status"] == "error"


def test_interrupt_and_resume_with_command(client) -> None:
    thread_id = client.threads.create()["thread_id"]
    paused = client.runs.wait(thread_id, "ask", input={"items": []})
    (pending,) = paused["__interrupt__"]
    assert pending["value"] == {"question": "name?"}
    thread = client.threads.get(thread_id)
    assert thread["status"] == "interrupted"
    state = client.threads.get_state(thread_id)
    assert state["next"] == ["question"]
    assert state["interrupts"][0]["id"] == pending["id"]
    done = client.runs.wait(thread_id, "ask", command={"resume": "bob"})
    assert done == {"items": ["second"], "answer": "bob"}
    assert client.threads.get(thread_id)["status"] == "idle"


def test_interrupt_before_then_continue(client) -> None:
    thread_id = client.threads.create()["thread_id"]
    client.runs.wait(thread_id, "chain", input={"items": []}, interrupt_before=["second"])
    state = client.threads.get_state(thread_id)
    assert state["next"] == ["second"] and state["values"] == {"items": ["hello"]}
    assert client.threads.get(thread_id)["status"] == "interrupted"
    assert client.runs.wait(thread_id, "chain", input=None) == {"items": ["hello", "second"]}


def test_multitask_reject_and_enqueue(client) -> None:
    thread_id = client.threads.create()["thread_id"]
    first = client.runs.create(thread_id, "slow", input={"items": []})
    with pytest.raises(httpx.HTTPStatusError) as info:
        client.runs.create(thread_id, "slow", input={}, multitask_strategy="reject")
    assert info.value.response.status_code == 409
    second = client.runs.create(
        thread_id, "slow", input={"items": []}, multitask_strategy="enqueue"
    )
    assert client.runs.join(thread_id, second["run_id"]) == {"items": ["slept", "slept"]}
    assert client.runs.get(thread_id, first["run_id"])["status"] == "success"


def test_multitask_interrupt_cancels_the_running_run(client) -> None:
    thread_id = client.threads.create()["thread_id"]
    first = client.runs.create(thread_id, "slow", input={"items": ["one"]})
    second = client.runs.create(
        thread_id, "chain", input={"items": ["two"]}, multitask_strategy="interrupt"
    )
    client.runs.join(thread_id, second["run_id"])
    assert client.runs.get(thread_id, first["run_id"])["status"] == "interrupted"
    assert client.runs.get(thread_id, second["run_id"])["status"] == "success"


def test_cancel_a_running_run(client) -> None:
    thread_id = client.threads.create()["thread_id"]
    run = client.runs.create(thread_id, "slow", input={"items": []})
    client.runs.cancel(thread_id, run["run_id"], wait=True)
    assert client.runs.get(thread_id, run["run_id"])["status"] == "interrupted"
    assert client.threads.get(thread_id)["status"] != "busy"


def test_stateless_runs_and_batch(client) -> None:
    assert client.runs.wait(None, "chain", input={"items": []}) == {"items": ["hello", "second"]}
    made = client.runs.create_batch(
        [{"assistant_id": "chain", "input": {"items": [str(i)]}} for i in range(3)]
    )
    assert len({run["run_id"] for run in made}) == 3


def test_on_run_created_gets_the_ids(client) -> None:
    seen: list[dict[str, str]] = []
    thread_id = client.threads.create()["thread_id"]
    client.runs.wait(thread_id, "chain", input={"items": []}, on_run_created=seen.append)
    assert seen and seen[0]["thread_id"] == thread_id
    assert client.runs.get(thread_id, seen[0]["run_id"])["status"] == "success"


def test_if_not_exists_create(client) -> None:
    import uuid

    thread_id = str(uuid.uuid4())
    with pytest.raises(httpx.HTTPStatusError) as info:
        client.runs.wait(thread_id, "chain", input={"items": []})
    assert info.value.response.status_code == 404
    client.runs.wait(thread_id, "chain", input={"items": []}, if_not_exists="create")
    assert client.threads.get(thread_id)["values"] == {"items": ["hello", "second"]}


def test_stream_subgraphs_names_the_namespace(client) -> None:
    parts = list(
        client.runs.stream(
            None, "nested", input={"items": []}, stream_mode="updates", stream_subgraphs=True
        )
    )
    events = [p.event for p in parts if p.event != "metadata"]
    assert events[0] == "updates"
    inner = [p for p in parts if p.event.startswith("updates|child:")]
    assert [p.data for p in inner] == [{"inner": {"items": ["second"]}}]
    flat = list(client.runs.stream(None, "nested", input={"items": []}, stream_mode="updates"))
    assert all("|" not in p.event for p in flat)


def test_tasks_mode(client) -> None:
    parts = list(client.runs.stream(None, "chain", input={"items": []}, stream_mode="tasks"))
    tasks = [p.data for p in parts if p.event == "tasks"]
    assert [t["name"] for t in tasks if "input" in t] == ["first", "second"]
    assert [t["name"] for t in tasks if "result" in t] == ["first", "second"]


def test_after_seconds_waits_in_the_queue(client) -> None:
    thread_id = client.threads.create()["thread_id"]
    run = client.runs.create(thread_id, "chain", input={"items": []}, after_seconds=1)
    assert client.runs.get(thread_id, run["run_id"])["status"] == "pending"
    assert client.runs.join(thread_id, run["run_id"]) == {"items": ["hello", "second"]}


def test_on_disconnect_cancel(client, server_dir) -> None:
    import time

    thread_id = client.threads.create()["thread_id"]
    # "crash" waits in its second node until the file "go" exists: the run is still
    # going when the client leaves, however slow the machine
    parts = client.runs.stream(thread_id, "crash", input={"items": []}, on_disconnect="cancel")
    first = next(iter(parts))
    assert first.event == "metadata"
    parts.close()  # the client goes away mid-run
    try:
        deadline = time.monotonic() + 20
        while (run := client.runs.get(thread_id, first.data["run_id"]))["status"] in (
            "pending",
            "running",
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert run["status"] == "interrupted"
    finally:
        (server_dir / "go").touch()  # let the abandoned node's thread finish


def test_multitask_rollback_deletes_the_run_and_its_checkpoints(client) -> None:
    import time

    thread_id = client.threads.create()["thread_id"]
    client.runs.wait(thread_id, "chain", input={"items": ["before"]})
    kept = len(client.threads.get_history(thread_id, limit=100))
    first = client.runs.create(thread_id, "slow", input={"items": ["doomed"]})
    deadline = time.monotonic() + 20
    while client.runs.get(thread_id, first["run_id"])["status"] == "pending":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    second = client.runs.create(
        thread_id, "chain", input={"items": ["after"]}, multitask_strategy="rollback"
    )
    result = client.runs.join(thread_id, second["run_id"])
    assert "doomed" not in result["items"]
    assert result["items"] == ["before", "hello", "second", "after", "hello", "second"]
    with pytest.raises(httpx.HTTPStatusError) as info:
        client.runs.get(thread_id, first["run_id"])
    assert info.value.response.status_code == 404
    history = client.threads.get_history(thread_id, limit=100)
    # the second run made as many checkpoints as the first; none is left of the doomed run
    assert len(history) == 2 * kept
    assert all(h["metadata"].get("run_id") != first["run_id"] for h in history)


def test_cancel_with_rollback(client) -> None:
    thread_id = client.threads.create()["thread_id"]
    run = client.runs.create(thread_id, "slow", input={"items": ["doomed"]})
    client.runs.cancel(thread_id, run["run_id"], wait=True, action="rollback")
    assert client.runs.list(thread_id) == []
    assert client.threads.get_state(thread_id)["values"] == {}


def test_stream_v2_parts_carry_interrupts(client) -> None:
    thread_id = client.threads.create()["thread_id"]
    parts = list(
        client.runs.stream(
            thread_id, "ask", input={"items": []}, stream_mode=["values", "updates"], version="v2"
        )
    )
    kinds = [p["type"] for p in parts]
    assert "values" in kinds and "updates" in kinds
    paused = [p for p in parts if p["type"] == "values" and p["interrupts"]]
    assert paused and paused[-1]["interrupts"][0]["value"] == {"question": "name?"}


def test_events_mode(client) -> None:
    parts = list(
        client.runs.stream(None, "chain", input={"items": []}, stream_mode=["events", "updates"])
    )
    events = [p.data for p in parts if p.event == "events"]
    started = [e["name"] for e in events if e["event"] == "on_chain_start"]
    assert started[0] == "LangGraph" and {"first", "second"} <= set(started)
    assert [p.data for p in parts if p.event == "updates"] == [
        {"first": {"items": ["hello"]}},
        {"second": {"items": ["second"]}},
    ]
