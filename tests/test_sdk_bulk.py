"""bulk_update's batching and per-item results, against a scripted transport (the live-server
behaviour is covered in test_sdk_namespaces)."""

from __future__ import annotations

import json

import httpx
import pytest

import cairn


@pytest.fixture
def recorded():
    batches: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/users/me/organizations":
            return httpx.Response(200, json=[])
        assert request.url.path == "/resource/all/bulk_update"
        items = json.loads(request.content)
        ids = [i["id"] for i in items]
        batches.append(ids)
        for index, item in enumerate(items):
            if item["id"].startswith("bad"):  # the server refuses the whole batch, naming the item
                return httpx.Response(
                    400,
                    json={
                        "detail": f"item {index} ({item['id']}): Not found.",
                        "fields": {f"[{index}].id": ["x"]},
                    },
                )
        return httpx.Response(200, json=ids)

    client = cairn.Client(
        base_url="http://cairn.test",
        api_key="k",
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    return client, batches


def test_any_number_of_updates_goes_in_batches_of_100(recorded):
    client, batches = recorded
    result = client.resources.bulk_update((f"id-{i}", {"verified": True}) for i in range(250))
    assert [len(b) for b in batches] == [100, 100, 50]
    assert len(result) == 250
    assert result.updated == [f"id-{i}" for i in range(250)]
    assert result.failed == []


def test_a_refused_item_is_reported_and_the_rest_of_its_batch_lands(recorded):
    client, batches = recorded
    updates = [(f"id-{i}", {"verified": True}) for i in range(5)]
    updates.insert(2, ("bad-1", {"verified": True}))
    updates.append(("bad-2", {"verified": True}))
    updates.append(("id-x", {"external_usage": -5}))  # refused locally, never sent
    result = client.resources.bulk_update(updates)
    assert [len(b) for b in batches] == [7, 6, 5]  # resent without each refused item
    assert result.updated == [f"id-{i}" for i in range(5)]
    assert [(f.id, f.ok) for f in result.failed] == [("bad-1", False), ("bad-2", False), ("id-x", False)]
    assert result.failed[0].error == "item 2 (bad-1): Not found."
    assert "external_usage" in (result.failed[2].error or "")
    assert [r.id for r in result] == [u[0] for u in updates]  # results in the order given


def test_bad_update_shapes_fail_before_sending(recorded):
    client, batches = recorded
    with pytest.raises(cairn.InvalidInputError):
        client.resources.bulk_update(["just-an-id"])
    assert batches == []
