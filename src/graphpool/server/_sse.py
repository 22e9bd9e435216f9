"""Server-Sent Events: a run's events as ``text/event-stream``, with ids to resume from.

The response is a plain ASGI callable rather than Starlette's ``StreamingResponse``:
that one streams from a task of its own in an anyio task group (on uvicorn's ASGI
2.3), one more round of the event loop before the first byte and anyio's cancel
scopes around every frame after it. Here the request's own task writes the frames,
every event ready at once in one write, and a plain task watches for the client
leaving (it cancels the stream, as Starlette's task group did).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ._broker import RunEvents

__all__ = ["EventStream", "event_stream", "resume_index"]

KEEPALIVE_SECONDS = 15.0


def resume_index(last_event_id: str | None) -> int:
    """The index of the first event a client that saw ``Last-Event-ID`` still needs."""
    if last_event_id and last_event_id.strip().isdigit():
        return int(last_event_id) + 1
    return 0


def _frame(index: int, event: str, data: str) -> bytes:
    return f"event: {event}\ndata: {data}\nid: {index}\n\n".encode()


class EventStream:
    """The ASGI response that follows ``events`` from ``start`` until the run ends;
    ``on_disconnect`` runs if the client goes away before the end."""

    def __init__(
        self,
        events: RunEvents,
        start: int,
        headers: Mapping[str, str],
        on_disconnect: Callable[[], Awaitable[None]] | None,
    ) -> None:
        self.events = events
        self.start = start
        self.headers = [(b"content-type", b"text/event-stream; charset=utf-8")] + [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in {"Cache-Control": "no-store", **headers}.items()
        ]
        self.on_disconnect = on_disconnect

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        streaming = asyncio.current_task()
        assert streaming is not None
        gone = False

        async def watch() -> None:
            nonlocal gone
            while (await receive())["type"] != "http.disconnect":
                pass
            gone = True
            streaming.cancel()

        watcher = asyncio.ensure_future(watch())
        finished = False
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.headers})
            await self._frames(send)
            finished = True
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            if not gone:
                raise
            uncancel = getattr(streaming, "uncancel", None)  # Python 3.11+
            if uncancel is not None:
                uncancel()  # the client left: the request ends quietly
        finally:
            watcher.cancel()
            if not finished and self.on_disconnect is not None:
                await self.on_disconnect()

    async def _frames(self, send: Any) -> None:
        events, index = self.events, self.start
        while True:
            if index < len(events.events):
                ready = events.events[index:]
                chunk = b"".join(_frame(index + i, e, d) for i, (e, d) in enumerate(ready))
                index += len(ready)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                continue
            if events.done:
                return
            if not await events.changed(KEEPALIVE_SECONDS):
                # a comment line now and then, so that proxies keep a quiet stream open
                await send(
                    {"type": "http.response.body", "body": b": keep-alive\n\n", "more_body": True}
                )


def event_stream(
    events: RunEvents,
    *,
    start: int = 0,
    headers: Mapping[str, str] | None = None,
    on_disconnect: Callable[[], Awaitable[None]] | None = None,
) -> EventStream:
    """A streaming response that follows ``events`` from ``start`` until the run ends.

    ``on_disconnect`` runs if the client goes away before the end.
    """
    return EventStream(events, start, dict(headers or {}), on_disconnect)
