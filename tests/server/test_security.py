"""Bearer-token auth, loopback by default, body validation and the body size limit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import serve

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]

TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp: Path = tmp_path_factory.mktemp("guarded")
    with serve(tmp, env={"GRAPHPOOL_SERVE_TOKEN": TOKEN}) as url:
        yield url


def test_every_endpoint_but_health_needs_the_token(guarded: str) -> None:
    from langgraph_sdk import get_sync_client

    assert httpx.get(guarded + "/ok").status_code == 200
    for method, path in [
        ("GET", "/info"),
        ("POST", "/assistants/search"),
        ("POST", "/threads"),
        ("POST", "/runs/wait"),
        ("POST", "/store/items/search"),
    ]:
        assert httpx.request(method, guarded + path, json={}).status_code == 401, path
        wrong = {"Authorization": "Bearer nope"}
        assert httpx.request(method, guarded + path, json={}, headers=wrong).status_code == 401
    # langgraph_sdk's api_key travels as x-api-key; a bearer header works too
    client = get_sync_client(url=guarded, api_key=TOKEN)
    assert client.runs.wait(None, "chain", input={"items": []}) == {"items": ["hello", "second"]}
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.post(guarded + "/threads", json={}, headers=bearer).status_code == 200


def test_invalid_bodies_name_the_field(server: str) -> None:
    cases = [
        ("/runs/wait", {"assistant_id": "chain", "stream_mode": "bogus"}, "stream_mode"),
        ("/runs/wait", {"input": {}}, "assistant_id"),
        ("/runs/wait", {"assistant_id": "chain", "config": []}, "config"),
        ("/runs/wait", {"assistant_id": "chain", "multitask_strategy": "x"}, "multitask_strategy"),
        ("/runs/wait", {"assistant_id": "chain", "interrupt_before": "x"}, "interrupt_before"),
        ("/threads", {"metadata": "x"}, "metadata"),
        ("/threads/search", {"limit": -1}, "limit"),
        ("/assistants", {"graph_id": 3}, "graph_id"),
    ]
    for path, body, field in cases:
        response = httpx.post(server + path, json=body)
        assert response.status_code == 422, (path, body, response.text)
        assert response.json()["detail"].startswith(field), response.json()
    response = httpx.post(server + "/threads", content=b"{not json")
    assert response.status_code == 422


def test_unknown_assistant_and_thread_are_404(server: str) -> None:
    response = httpx.post(server + "/runs/wait", json={"assistant_id": "nope"})
    assert response.status_code == 404
    response = httpx.post(server + "/threads/nope/runs", json={"assistant_id": "chain"})
    assert response.status_code == 404


def test_body_size_limit(server: str) -> None:
    huge = b'{"metadata": {"x": "' + b"a" * (11 * 1024 * 1024) + b'"}}'
    response = httpx.post(server + "/threads", content=huge)
    assert response.status_code == 413


def test_binds_to_loopback_by_default() -> None:
    import argparse

    from graphpool.server._command import add_serve_command

    parser = argparse.ArgumentParser()
    add_serve_command(parser.add_subparsers())
    args = parser.parse_args(["serve"])
    assert args.host == "127.0.0.1" and args.port == 2024
