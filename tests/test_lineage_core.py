"""The lineage core every source writes through: idempotent edges, re-crawls, visibility."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cairn.core.errors import InvalidInput, NotFound, PermissionDenied
from cairn.core.lineage import EdgeSpec, LineageService
from cairn.core.principal import Principal
from cairn.core.resources import PageRequest, ResourceService
from cairn.models.common import utc_now
from tests.helpers import create, warehouse


def _tables(api: Any, n: int, *, published: bool = True) -> list[str]:
    tree = warehouse(api.client, columns=2)
    ids = [tree["table"]["id"]]
    for i in range(n - 1):
        ids.append(
            create(
                api.client,
                entity_type="table",
                title=f"t{i}",
                parent=tree["schema"]["id"],
                published=published,
            )["id"]
        )
    return ids


def test_edges_are_idempotent_and_listed_from_both_ends(api, store, admin):
    a, b, c = _tables(api, 3)
    service = LineageService(store)
    first = service.add_edges(admin, [EdgeSpec(a, b, "manual"), EdgeSpec(b, c, "sql")])
    assert [(e["upstream_id"], e["downstream_id"], e["origin"], e["level"]) for e in first] == [
        (a, b, "manual", "table"),
        (b, c, "sql", "table"),
    ]
    again = service.add_edges(admin, [EdgeSpec(a, b, "manual")])
    assert again[0]["id"] == first[0]["id"]
    # The same ends learnt from another source is another edge: each edge records its origin.
    other = service.add_edges(admin, [EdgeSpec(a, b, "dbt")])
    assert other[0]["id"] != first[0]["id"]

    downstream_of_a = service.list(admin, upstream_ids=[a])
    assert downstream_of_a.count == 2
    assert {e["downstream_id"] for e in downstream_of_a.items} == {b}
    assert service.list(admin, downstream_ids=[c]).items[0]["upstream_id"] == b
    assert service.list(admin, origin="sql").count == 1
    assert service.get(admin, first[0]["reverse_id"])["id"] == first[0]["id"]

    service.delete(admin, first[0]["reverse_id"])
    with pytest.raises(NotFound):
        service.get(admin, first[0]["id"])
    assert service.list(admin, upstream_ids=[a]).count == 1


def test_bad_edges_change_nothing(api, store, admin):
    a, b = _tables(api, 2)
    tree_columns = [
        r["id"]
        for r in api.client.get(
            "/resource/catalog", params={"filter": '{"operator":"exact","field":"type","value":"column"}'}
        ).json()["results"]
    ]
    service = LineageService(store)
    missing = "11111111-1111-1111-1111-111111111111"
    cases = [
        ([EdgeSpec(a, b, "manual"), EdgeSpec(a, missing, "manual")], "downstream_id"),
        ([EdgeSpec(a, a, "manual")], "downstream_id"),
        ([EdgeSpec(a, b, "guess")], "origin"),
        ([EdgeSpec(a, tree_columns[0], "sql")], "downstream_id"),
        ([EdgeSpec("not-an-id", b, "sql")], "upstream_id"),
    ]
    for specs, field in cases:
        with pytest.raises(InvalidInput) as caught:
            service.add_edges(admin, specs)
        assert caught.value.field == field
    assert service.list(admin).count == 0
    column_edge = service.add_edges(admin, [EdgeSpec(tree_columns[0], tree_columns[1], "sql")])
    assert column_edge[0]["level"] == "column"


def test_replace_upstreams_touches_only_its_origin(api, store, admin):
    a, b, c, d = _tables(api, 4)
    service = LineageService(store)
    service.add_edges(admin, [EdgeSpec(a, d, "manual")])
    with store.write() as conn:
        service.replace_upstreams_in(conn, admin, d, "view", [a, b])
    with store.write() as conn:
        service.replace_upstreams_in(conn, admin, d, "view", [b, c])
    edges = service.list(admin, downstream_ids=[d]).items
    assert sorted((e["upstream_id"], e["origin"]) for e in edges) == sorted(
        [(a, "manual"), (b, "view"), (c, "view")]
    )
    with store.write() as conn:
        service.replace_upstreams_in(conn, admin, d, "view", [])
    assert [e["origin"] for e in service.list(admin, downstream_ids=[d]).items] == ["manual"]


def test_hidden_ends_hide_the_edge_and_purge_removes_it(api, store, admin, workspace):
    a, b = _tables(api, 2)
    draft = create(
        api.client,
        entity_type="table",
        title="draft",
        parent=api.client.get(f"/resource/all/{a}").json()["parent"],
    )["id"]
    service = LineageService(store)
    service.add_edges(admin, [EdgeSpec(a, b, "manual"), EdgeSpec(a, draft, "manual")])
    viewer = Principal(workspace_id=workspace.id, organization_id=workspace.organization_id, role="viewer")
    assert {e["downstream_id"] for e in service.list(viewer, upstream_ids=[a]).items} == {b}
    with pytest.raises(PermissionDenied):
        service.add_edges(viewer, [EdgeSpec(b, a, "manual")])
    # A viewer cannot learn a draft exists by naming it as an edge end.
    editor = Principal(workspace_id=workspace.id, organization_id=workspace.organization_id, role="editor")
    assert len(service.add_edges(editor, [EdgeSpec(b, draft, "manual")])) == 1

    assert api.client.delete(f"/resource/all/{b}").status_code == 204
    assert service.list(admin, upstream_ids=[a]).count == 1
    assert api.client.post(f"/resource/all/{b}/restore").status_code == 200
    assert service.list(admin, upstream_ids=[a]).count == 2

    api.client.delete(f"/resource/all/{b}")
    ResourceService(store).purge(admin, archived_before=utc_now() + timedelta(seconds=1))
    assert {
        e["downstream_id"] for e in service.list(admin, upstream_ids=[a], paging=PageRequest()).items
    } == {draft}
