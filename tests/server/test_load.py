"""A short, bounded load: many SDK clients at once, every run answered right.

(Throughput and latency are measured by bench/bench_server.py, not here.)
"""

from __future__ import annotations

import asyncio

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


def test_thirty_clients_at_once(server: str) -> None:
    from langgraph_sdk import get_client

    async def one_client(i: int) -> list[object]:
        client = get_client(url=server, timeout=60)
        thread = await client.threads.create()
        results = []
        for j in range(3):
            parts = [
                part
                async for part in client.runs.stream(
                    thread["thread_id"], "chain", input={"items": [f"{i}-{j}"]}
                )
            ]
            results.append(parts[-1].data)
        results.append(await client.runs.wait(None, "chain", input={"items": [str(i)]}))
        await client.http.client.aclose()
        return results

    async def scenario() -> list[list[object]]:
        return await asyncio.gather(*(one_client(i) for i in range(30)))

    for i, results in enumerate(asyncio.run(scenario())):
        items = [f"{i}-0", "hello", "second", f"{i}-1", "hello", "second"]
        assert results[:3] == [
            {"items": items[:3]},
            {"items": items},
            {"items": [*items, f"{i}-2", "hello", "second"]},
        ]
        assert results[3] == {"items": [str(i), "hello", "second"]}
