"""Delete archives; restore brings back the subtree with memberships; purge removes for good."""

from __future__ import annotations

from datetime import timedelta

from typer.testing import CliRunner

from cairn.core.resources import ResourceService
from cairn.models.common import utc_now
from tests.helpers import catalog, create, warehouse


def test_delete_archives_the_subtree_and_restore_brings_it_back(api):
    tree = warehouse(api.client, columns=2)
    collection = create(api.client, entity_type="collection", title="Finance")
    table_id = tree["table"]["id"]
    api.client.patch(f"/resource/all/{table_id}", json={"collections": [collection["id"]], "owners": ["ann"]})
    assert api.client.delete(f"/table/tables/{table_id}").status_code == 204

    for rid in [table_id, *(c["id"] for c in tree["columns"])]:
        assert api.client.get(f"/resource/all/{rid}").status_code == 404
    assert api.client.delete(f"/resource/all/{table_id}").status_code == 404
    assert api.client.get(f"/resource/all/{tree['schema']['id']}").json()["children_count"] == 0
    archived = catalog(
        api.client, {"operator": "exact", "field": "archived", "value": True}, page_size=10
    ).json()
    assert {r["id"] for r in archived["results"]} == {table_id, *(c["id"] for c in tree["columns"])}

    restored = api.client.post(f"/resource/all/{table_id}/restore")
    assert restored.status_code == 200
    body = restored.json()
    assert body["archived"] is False
    assert body["archived_at"] is None
    assert body["collections"] == [collection["id"]]
    assert body["owners"] == ["ann"]
    assert body["children_count"] == 2
    for column in tree["columns"]:
        assert api.client.get(f"/resource/all/{column['id']}").status_code == 200
    assert api.client.get(f"/resource/all/{tree['schema']['id']}").json()["children_count"] == 1
    events = [v["event"] for v in api.client.get(f"/resource/all/{table_id}/history").json()["results"]]
    assert events[:2] == ["restored", "deleted"]
    assert api.client.post(f"/resource/all/{table_id}/restore").status_code == 400


def test_a_child_cannot_come_back_before_its_parent(api):
    tree = warehouse(api.client, columns=1)
    api.client.delete(f"/resource/all/{tree['schema']['id']}")
    response = api.client.post(f"/resource/all/{tree['table']['id']}/restore")
    assert response.status_code == 400
    assert "parent" in response.json()["detail"]


def test_purge_removes_old_deletions_for_good(api, store, admin):
    tree = warehouse(api.client, columns=2)
    api.client.delete(f"/resource/all/{tree['table']['id']}")
    service = ResourceService(store)
    assert service.purge(admin, archived_before=utc_now() - timedelta(days=1)) == 0
    assert service.purge(admin, archived_before=utc_now() + timedelta(seconds=1)) == 3
    assert api.client.post(f"/resource/all/{tree['table']['id']}/restore").status_code == 404


def test_purge_command(store, admin):
    from cairn.cli.main import app

    runner = CliRunner()
    result = runner.invoke(app, ["purge", "--older-than", "30d", "--db", store.url])
    assert result.exit_code == 0, result.output
    assert "Purged 0 resources" in result.output
    bad = runner.invoke(app, ["purge", "--older-than", "soon", "--db", store.url])
    assert bad.exit_code == 1
