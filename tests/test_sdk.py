"""The Python SDK against a live app (both backends), sync and async, with seed 004's examples."""

from __future__ import annotations

import asyncio

import httpx
import pytest

import cairn
from cairn import CollectionType
from cairn.core.keys import create_key


@pytest.fixture
def app(store):
    from cairn.api.app import create_app

    return create_app(store, migrate=False)


@pytest.fixture
def token(store, workspace):
    return create_key(store, workspace_id=workspace.id, name="sdk", role="admin").token


@pytest.fixture
def client(app, token):
    from fastapi.testclient import TestClient

    with TestClient(app) as http:
        yield cairn.Client(base_url="http://testserver", api_key=token, http_client=http)


def test_defaults_are_picked_when_there_is_exactly_one(client, workspace):
    assert client.organization == workspace.organization_id
    assert client.workspace == workspace.id
    assert client.collection is None
    assert [c.name for c in client.collections.list()] == ["Default"]


def test_seed_examples_run_as_written(client, store, workspace):
    created = client.collections.create(
        name="Training Dataset",
        description="Dataset for model training",
        collection_type=CollectionType.DATASET,
        tags=["ml", "training"],
    )
    assert created.collection_type == "dataset"
    assert created.tags == ["ml", "training"]
    assert created.orbit_id == workspace.id
    assert created.total_models == 0
    positional = client.collections.create("Models", "My Collection", CollectionType.MODEL)
    assert client.collections.get("My Collection") == positional
    assert client.collections.get(positional.id) == positional
    assert client.collections.get("my collection") is None

    updated = client.collections.update(
        collection_id=created.id, name="Updated Dataset", tags=["ml", "updated"]
    )
    assert (updated.name, updated.description, updated.tags) == (
        "Updated Dataset",
        "Dataset for model training",
        ["ml", "updated"],
    )
    client.collection = created.id
    assert client.collections.get() == client.collections.get(created.id)
    again = client.collections.update(name="Updated Dataset", description="Updated description")
    assert again.description == "Updated description"
    assert again.tags == ["ml", "updated"]

    client.collections.delete(positional.id)
    assert client.collections.get(positional.id) is None
    client.collections.delete()
    assert client.collection is None
    assert [c.name for c in client.collections.list()] == ["Default"]


def test_names_are_not_unique_so_get_can_be_ambiguous(client):
    client.collections.create("a", "Twin", CollectionType.MODEL)
    client.collections.create("b", "Twin", CollectionType.MODEL)
    with pytest.raises(cairn.MultipleResourcesFoundError):
        client.collections.get("Twin")
    with pytest.raises(cairn.ConfigurationError):
        client.collection = "Nothing here"


def test_total_models_counts_model_and_dataset_members(client):
    collection = client.collections.create("ml", "ML", CollectionType.MODEL)
    for entity_type in ("model", "dataset", "document"):
        client._http.post(
            "http://testserver/resource/catalog",
            json={"entity_type": entity_type, "title": f"a {entity_type}", "collections": [collection.id]},
        )
    assert client.collections.get(collection.id).total_models == 2


def test_typed_errors_carry_status_and_body(app, client):
    from fastapi.testclient import TestClient

    with pytest.raises(cairn.BadRequestError) as bad:
        client.collections.create("d", "x" * 201, CollectionType.MODEL)
    assert bad.value.status_code == 400
    assert "name" in bad.value.body["fields"]
    with pytest.raises(cairn.NotFoundError):
        client.collections.update(name="n", collection_id="00000000-0000-0000-0000-0000000000aa")
    with pytest.raises(cairn.BadRequestError):
        client.collections.delete("00000000-0000-0000-0000-000000000000")
    with TestClient(app) as http, pytest.raises(cairn.AuthenticationError) as denied:
        cairn.Client(base_url="http://testserver", api_key="wrong", http_client=http)
    assert denied.value.status_code == 401
    assert isinstance(denied.value, cairn.APIError)


def test_api_key_from_the_environment(app, token, monkeypatch):
    from fastapi.testclient import TestClient

    monkeypatch.setenv("CAIRN_API_KEY", token)
    monkeypatch.setenv("CAIRN_BASE_URL", "http://testserver")
    with TestClient(app) as http:
        assert cairn.Client(http_client=http).workspace is not None
    monkeypatch.delenv("CAIRN_API_KEY")
    with pytest.raises(cairn.ConfigurationError):
        cairn.Client()


def test_async_client_mirrors_the_sync_one(app, token, workspace):
    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        async with cairn.AsyncClient(
            base_url="http://testserver", api_key=token, http_client=httpx.AsyncClient(transport=transport)
        ) as client:
            await client.setup_config(organization=workspace.organization_id, workspace=workspace.id)
            created = await client.collections.create("d", "Async one", CollectionType.DATASET, tags=["t"])
            assert (await client.collections.get("Async one")) == created
            client.collection = created.id
            updated = await client.collections.update(description="new")
            assert updated.description == "new"
            assert updated.name == "Async one"
            await client.collections.delete(created.id)
            assert [c.name for c in await client.collections.list()] == ["Default"]

    asyncio.run(scenario())


def test_a_collection_from_the_sdk_shows_on_every_face(client, workspace):
    made = client.collections.create("desc", "Everywhere", CollectionType.MODEL)
    http = client._http
    assert http.get(f"http://testserver/collection/collections/{made.id}").json()["title"] == "Everywhere"
    assert http.get(f"http://testserver/tag/{made.id}").json()["name"] == "Everywhere"
    kontent = http.get(f"http://testserver/v2/projects/{workspace.id}/collections").json()["collections"]
    assert {"id": made.id, "name": "Everywhere", "codename": "everywhere"} in kontent


def test_dataforce_rest_scopes_to_the_key(client, workspace):
    http = client._http
    assert (
        http.get("http://testserver/organizations/00000000-0000-0000-0000-000000000001/orbits").status_code
        == 404
    )
    other_orbit = "00000000-0000-0000-0000-000000000001"
    wrong_orbit = (
        f"http://testserver/organizations/{workspace.organization_id}/orbits/{other_orbit}/collections"
    )
    response = http.get(wrong_orbit)
    assert response.status_code == 404
    assert response.json() == {"detail": "Orbit not found"}
