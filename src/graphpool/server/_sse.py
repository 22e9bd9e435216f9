"""Server-Sent Events: a run's events as ``text/event-stream``, with ids to resume from."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from ._broker import RunEvents

if TYPE_CHECKING:
    from starlette.responses import StreamingResponse

__all__ = ["event_stream", "resume_index"]

KEEPALIVE_SECONDS = 15.0


def resume_index(last_event_id: str | None) -> int:
    """The index of the first event a client that saw ``Last-Event-ID`` still needs."""
    if last_event_id and last_event_id.strip().isdigit():
        return int(last_event_id) + 1
    return 0


def _frame(index: int, event: str, data: str) -> bytes:
    return f"event: {event}\ndata: {data}\nid: {index}\n\n".encode()


def event_stream(
    events: RunEvents,
    *,
    start: int = 0,
    headers: Mapping[str, str] | None = None,
    on_disconnect: Callable[[], Awaitable[None]] | None = None,
) -> StreamingResponse:
    """A streaming response that follows ``events`` from ``start`` until the run ends.

    ``on_disconnect`` runs if the client goes away before the end.
    """
    from starlette.responses import StreamingResponse

    async def frames() -> AsyncIterator[bytes]:
        finished = False
        try:
            async for item in events.follow(start, idle=KEEPALIVE_SECONDS):
                # a comment line now and then, so that proxies keep a quiet stream open
                yield b": keep-alive\n\n" if item is None else _frame(*item)
            finished = True
        finally:
            if not finished and on_disconnect is not None:
                await on_disconnect()

    return StreamingResponse(
        frames(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", **dict(headers or {})},
    )
