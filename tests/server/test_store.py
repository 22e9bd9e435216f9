"""The store's items, search and namespaces through the SDK."""

from __future__ import annotations

import uuid

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


def test_put_get_search_delete(client) -> None:
    top = uuid.uuid4().hex
    client.store.put_item([top, "u1"], "prefs", {"theme": "dark", "size": 3})
    client.store.put_item([top, "u2"], "prefs", {"theme": "light", "size": 5})
    item = client.store.get_item([top, "u1"], "prefs")
    assert item["value"] == {"theme": "dark", "size": 3}
    assert item["namespace"] == [top, "u1"] and item["key"] == "prefs"
    found = client.store.search_items([top])["items"]
    assert sorted(i["namespace"][1] for i in found) == ["u1", "u2"]
    dark = client.store.search_items([top], filter={"theme": "dark"})["items"]
    assert [i["namespace"] for i in dark] == [[top, "u1"]]
    spaces = client.store.list_namespaces(prefix=[top])["namespaces"]
    assert sorted(spaces) == [[top, "u1"], [top, "u2"]]
    assert client.store.list_namespaces(prefix=[top], max_depth=1)["namespaces"] == [[top]]
    client.store.delete_item([top, "u1"], "prefs")
    with pytest.raises(httpx.HTTPStatusError) as info:
        client.store.get_item([top, "u1"], "prefs")
    assert info.value.response.status_code == 404


def test_a_bad_item_names_the_field(server: str) -> None:
    response = httpx.put(server + "/store/items", json={"namespace": ["a"], "key": "k"})
    assert response.status_code == 422
    assert "value" in response.json()["detail"]


def test_vector_search_with_langgraph_json_index(client) -> None:
    """langgraph.json's "store": {"index": ...} with an embed function from a file."""
    top = uuid.uuid4().hex
    for key, text in [("a", "aaaa"), ("b", "bbbb"), ("c", "cccc")]:
        client.store.put_item([top], key, {"text": text})
    found = client.store.search_items([top], query="bb", limit=3)["items"]
    assert found[0]["key"] == "b"
    assert found[0]["score"] > found[1]["score"]
