"""``EventStream``: frames with ids from where the client resumes, the events ready at
once in one write, and a client that leaves cancels the stream (``on_disconnect``)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from graphpool.server._broker import RunEvents
from graphpool.server._sse import event_stream, resume_index


async def _never() -> dict[str, Any]:
    await asyncio.Event().wait()
    return {}


@pytest.mark.timeout(30)
def test_ready_events_go_out_in_one_write_from_the_resume_point() -> None:
    async def scenario() -> list[dict[str, Any]]:
        events = RunEvents()
        for n in range(3):
            events.push("values", str(n))
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if message.get("body") and len(sent) == 2:
                events.push("end", "{}")
                events.close()

        stream = event_stream(events, start=resume_index("0"), headers={"X-Run": "r"})
        await stream({"type": "http"}, _never, send)
        return sent

    start, first, second, end = asyncio.run(scenario())
    assert start["status"] == 200
    assert (b"x-run", b"r") in start["headers"]
    assert first["body"] == b"event: values\ndata: 1\nid: 1\n\nevent: values\ndata: 2\nid: 2\n\n"
    assert second["body"] == b"event: end\ndata: {}\nid: 3\n\n"
    assert end == {"type": "http.response.body", "body": b"", "more_body": False}


@pytest.mark.timeout(30)
def test_a_client_that_leaves_ends_the_stream_and_is_told() -> None:
    async def scenario() -> list[str]:
        events = RunEvents()
        left = asyncio.Event()
        told: list[str] = []

        async def receive() -> dict[str, Any]:
            await left.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message.get("body"):
                left.set()  # gone after the first event

        async def on_disconnect() -> None:
            told.append("gone")

        events.push("metadata", "{}")
        stream = event_stream(events, on_disconnect=on_disconnect)
        await asyncio.wait_for(stream({"type": "http"}, receive, send), 10)
        return told

    assert asyncio.run(scenario()) == ["gone"]
