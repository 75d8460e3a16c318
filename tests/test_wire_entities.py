"""The read path's wire form (``repo.to_wire_entity``: JSON fields passed through as stored text)
gives exactly what the ``Resource`` model gives for the dict form, field by field (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select

from cairn.core import filters as flt
from cairn.core.principal import Principal
from cairn.core.resources import PageRequest, ResourceService
from cairn.core.scan import scan
from cairn.models.resources import Resource
from cairn.store import resources as repo
from cairn.store.schema import resource
from tests.helpers import create, warehouse

CP = "/resource/all_v2/custom_properties"


def _fully_populated(api: Any) -> str:
    """A table with every field set: lists, metadata, usage, question fields, timestamps, a
    custom property value and type-specific details."""
    client = api.client
    tree = warehouse(client, columns=1)
    table = tree["table"]
    tag = client.post("/tag/tags", json={"name": "gold", "color": "#ffcc00"})
    assert tag.status_code in (200, 201), tag.text
    collection = create(client, entity_type="collection", title="Finance")
    ids = [f"00000000-0000-4000-8000-00000000000{i}" for i in range(1, 4)]
    body = {
        "native_type": "view",
        "icon": "table",
        "description": 'Customers, with "quotes", a newline\nand unicode: é ✓',
        "definition": "select 1",
        "url": "https://example.com/t?x=1&y=2",
        "pii": True,
        "verified": True,
        "published": True,
        "forced_unstale_by_user": True,
        "owners": ids[:2],
        "owners_groups": ids[2:],
        "collections": [collection["id"]],
        "tags": [tag.json()["id"]],
        "subscribers": ids[:1],
        "bookmarked_by": ids[1:2],
        "internal_users": ids,
        "external_users": ids[:1],
        "sources": ["dbt", "snowflake"],
        "multiplayers": ids[2:],
        "internal_usage": 12,
        "external_usage": 2**40,
        "row_count": 123_456_789,
        "byte_size": 0,
        "databuilder_id": "db://x",
        "external_updated_at": "2026-01-02T03:04:05.123456Z",
        "display_metadata": {"nested": {"a": [1, 2.5, None, True]}, "e": "é"},
        "question_status": "open",
        "question_priority": "high",
        "question_answered_by": ids[0],
        "question_assigned_to": ids[1],
    }
    patched = client.patch(f"/resource/all/{table['id']}", json=body)
    assert patched.status_code == 200, patched.text
    prop = client.post(CP + "/", json={"name": "Team", "entity_types": ["table"], "value_type": "string"})
    assert prop.status_code == 200, prop.text
    put = client.put(f"{CP}/{prop.json()['id']}/{table['id']}", json={"value": "growth"})
    assert put.status_code == 204, put.text
    # Fields no request sets directly (multiplayer edits, a stale flag with its time).
    with api.store.write() as conn:
        pk = conn.execute(select(resource.c.pk).where(resource.c.id == table["id"])).scalar_one()
        repo.update_row(
            conn,
            pk,
            api.workspace.id,
            {
                "multiplayer_last_modified_by": ids[0],
                "multiplayer_last_modified": datetime(2026, 3, 4, 5, 6, 7, 0, tzinfo=UTC),
                "stale_at": datetime(2026, 5, 6, 7, 8, 9, 999_999, tzinfo=UTC),
            },
        )
    return str(table["id"])


def _wire_forms(service: ResourceService, principal: Principal, resource_id: str) -> list[dict[str, Any]]:
    """The resource as the catalog list, the scan and get by id serialise it (wire form, through
    orjson)."""
    node = flt.parse_filter({"operator": "exact", "field": "id", "value": resource_id})
    listed = service.list(principal, filter_node=node, paging=PageRequest(), wire=True).items
    scanned = scan(service, principal, filter_node=node, wire=True).items
    assert len(listed) == len(scanned) == 1
    got = service.get(principal, resource_id, wire=True)
    return [orjson.loads(orjson.dumps(item)) for item in (listed[0], scanned[0], got)]


def _assert_same_as_model(service: ResourceService, principal: Principal, resource_id: str) -> None:
    expected = Resource.model_validate(service.get(principal, resource_id)).model_dump(mode="json")
    for wire in _wire_forms(service, principal, resource_id):
        assert set(wire) == set(expected)
        for field, value in expected.items():
            assert wire[field] == value, field
            assert type(wire[field]) is type(value), field


def test_wire_form_of_a_fully_populated_resource_equals_the_model(api, admin):
    resource_id = _fully_populated(api)
    service = ResourceService(api.store)
    entity = service.get(admin, resource_id)
    # The fixture really fills the fields the fast path treats specially.
    assert entity["properties"]["custom"]
    for field in ("owners", "display_metadata", "search_metadata", "stale_at", "multiplayer_last_modified"):
        assert entity[field], field
    _assert_same_as_model(service, admin, resource_id)


def test_wire_form_of_a_resource_with_nulls_equals_the_model(api, admin):
    bare = create(api.client, entity_type="document", title="bare")
    service = ResourceService(api.store)
    entity = service.get(admin, bare["id"])
    for field in ("description", "archived_at", "row_count", "url", "question_status"):
        assert entity[field] is None, field
    _assert_same_as_model(service, admin, bare["id"])


def test_http_list_scan_and_get_answer_the_same_entity(api):
    resource_id = _fully_populated(api)
    client = api.client
    got = client.get(f"/resource/all/{resource_id}").json()
    only = {"filter": orjson.dumps({"operator": "exact", "field": "id", "value": resource_id}).decode()}
    assert client.get("/resource/catalog", params=only).json()["results"] == [got]
    assert client.get("/resource/scan", params=only).json()["results"] == [got]
    assert client.get("/table/tables", params={"title": "dim_customer"}).json()["results"] == [got]


def test_wire_timestamps_read_text_without_a_fraction(api, admin):
    """SQLite text written by another tool, without microseconds, reads as the dict form does."""
    bare = create(api.client, entity_type="document", title="times")
    if api.store.dialect != "sqlite":
        return
    with api.store.write() as conn:
        conn.exec_driver_sql(
            "UPDATE resource SET stale_at = '2026-01-02 03:04:05' WHERE id = ?", (bare["id"],)
        )
    service = ResourceService(api.store)
    assert service.get(admin, bare["id"])["stale_at"] == "2026-01-02T03:04:05.000000Z"
    _assert_same_as_model(service, admin, bare["id"])
