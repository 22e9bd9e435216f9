"""The SDK's async client against the same server: runs, streams, threads, store."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


def test_async_client_end_to_end(server: str) -> None:
    from langgraph_sdk import get_client

    async def scenario() -> None:
        client = get_client(url=server)
        thread = await client.threads.create(metadata={"via": "async"})
        parts = [
            (part.event, part.data)
            async for part in client.runs.stream(
                thread["thread_id"], "chain", input={"items": []}, stream_mode="updates"
            )
        ]
        assert [event for event, _ in parts] == ["metadata", "updates", "updates"]
        waited = await asyncio.gather(
            *(client.runs.wait(None, "slow", input={"items": [str(i)]}) for i in range(4))
        )
        assert [w["items"] for w in waited] == [[str(i), "slept"] for i in range(4)]
        state = await client.threads.get_state(thread["thread_id"])
        assert state["values"] == {"items": ["hello", "second"]}
        await client.store.put_item(["async"], "k", {"v": 1})
        assert (await client.store.get_item(["async"], "k"))["value"] == {"v": 1}
        assert (await client.assistants.get("ask"))["graph_id"] == "ask"
        await client.http.client.aclose()

    asyncio.run(scenario())


def test_runs_of_different_threads_run_at_once(server: str) -> None:
    """Three runs on three threads meet at a barrier: they fail unless they run at once."""
    from langgraph_sdk import get_client

    async def scenario() -> list[str]:
        client = get_client(url=server)
        threads = [await client.threads.create() for _ in range(3)]
        runs = [
            await client.runs.create(t["thread_id"], "meet", input={"items": []}) for t in threads
        ]
        for thread, run in zip(threads, runs, strict=True):
            await client.runs.join(thread["thread_id"], run["run_id"])
        statuses = [
            (await client.runs.get(t["thread_id"], r["run_id"]))["status"]
            for t, r in zip(threads, runs, strict=True)
        ]
        await client.http.client.aclose()
        return statuses

    assert asyncio.run(scenario()) == ["success"] * 3
