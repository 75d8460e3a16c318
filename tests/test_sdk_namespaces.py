"""Every SDK namespace method, on a live server and in embedded mode, sync and async, on both
backends (the ``store`` fixture): one scenario, four ways of talking to Cairn."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

import cairn
from cairn import F, S
from cairn.core.keys import create_key
from cairn.store import Store
from tests.live_server import live_server
from tests.sdk_support import Blocking


@pytest.fixture(params=["server-sync", "server-async", "embedded-sync", "embedded-async"])
def sdk(request: pytest.FixtureRequest, store: Store) -> Iterator[Any]:
    mode, flavour = request.param.split("-")
    loop = asyncio.new_event_loop()
    try:
        if mode == "server":
            token = create_key(store, workspace_id=_workspace_id(store), name="sdk", role="admin").token
            with live_server(store) as base:
                if flavour == "sync":
                    with cairn.Client(base_url=base, api_key=token) as client:
                        yield client
                else:
                    client = cairn.AsyncClient(base_url=base, api_key=token)
                    yield Blocking(client, loop)
                    loop.run_until_complete(client.aclose())
        elif flavour == "sync":
            with cairn.Catalog(store.url) as catalog:
                yield catalog
        else:
            catalog = cairn.AsyncCatalog(store.url)
            yield Blocking(catalog, loop)
            loop.run_until_complete(catalog.aclose())
    finally:
        loop.close()


def _workspace_id(store: Store) -> str:
    from cairn.core.tenancy import default_workspace

    return default_workspace(store).id


def test_every_namespace_and_its_errors(sdk: Any) -> None:
    # integrations
    warehouse = sdk.integrations.create("warehouse", type="postgres")
    assert sdk.integrations.get(warehouse.id) == warehouse
    assert [i.name for i in sdk.integrations.list(type="postgres")] == ["warehouse"]

    # resources: create, get, lazy keyset iteration, sorted pages, first, update, history
    db = sdk.resources.create(title="analytics", entity_type="database", integration=warehouse.id)
    schema = sdk.resources.create({"title": "marts", "entity_type": "schema", "parent": db.id})
    tables = [
        sdk.resources.create(
            title=f"dim_customer_{i}", entity_type="table", parent=schema.id, external_usage=i, published=True
        )
        for i in range(5)
    ]
    assert isinstance(tables[0], cairn.sdk._catalog.Resource)
    assert sdk.resources.get(tables[0].id).title_full == "analytics.marts.dim_customer_0"
    walked = sdk.resources.list(filter=F.type == "table", page_size=2).to_list()
    assert [t.id for t in walked] == [t.id for t in tables]
    by_usage = sdk.resources.list(filter=F.type == "table", sort=S.desc("external_usage"), page_size=2)
    assert [t.external_usage for t in by_usage] == [4, 3, 2, 1, 0]
    assert sdk.resources.list(filter=F.title.contains("CUSTOMER_3")).first().id == tables[3].id
    assert sdk.resources.list(filter=F.title.contains("nothing like it")).first() is None
    assert {r.entity_type for r in sdk.resources.list(filter=F.type.isin(["database", "schema"]))} == {
        "database",
        "schema",
    }
    updated = sdk.resources.update(tables[0].id, description="One row per customer")
    assert updated.description == "One row per customer"
    assert updated.title == "dim_customer_0"
    assert len(sdk.resources.history(tables[0].id).to_list()) == 2
    with pytest.raises(cairn.APIError) as stale:
        sdk.resources.update(tables[0].id, description="late", if_match='"not-the-etag"')
    assert stale.value.status_code == 412

    # lineage: objects, and graph walks that survive a cycle
    first = sdk.lineage.create(tables[0].id, tables[1].id)
    sdk.lineage.create(tables[1].id, tables[2].id)
    sdk.lineage.create(tables[2].id, tables[0].id)
    assert sdk.lineage.get(first.id).to_entity == tables[1].id
    assert sdk.lineage.create(tables[0].id, tables[1].id).id == first.id  # idempotent
    assert {o.direction for o in sdk.lineage.list(from_entity=tables[0].id)} == {"DOWNSTREAM", "UPSTREAM"}
    down = sdk.lineage.graph(tables[0].id, direction="downstream", depth=5)
    assert down.distance == {tables[0].id: 0, tables[1].id: 1, tables[2].id: 2}
    assert len(down.edges) == 3
    assert down.downstream_of(tables[1].id) == [tables[2].id]
    assert down.nodes[tables[2].id].title == "dim_customer_2"
    up = sdk.lineage.graph(tables[1].id, direction="upstream", depth=1)
    assert set(up.nodes) == {tables[0].id, tables[1].id}
    assert up.upstream_of(tables[1].id) == [tables[0].id]
    sdk.lineage.delete(first.id)
    assert sdk.lineage.graph(tables[0].id, direction="downstream").edges == []
    with pytest.raises(cairn.InvalidInputError):
        sdk.lineage.graph(tables[0].id, depth=0)

    # search: one page with facets, or every hit through the pager
    found = sdk.search.query("dim_customer", entity_type="table", page_size=2)
    assert found.count == 5
    assert len(found.results) == 2
    assert found.facets["entity_type"][0].value == "table"
    assert {h.resource["id"] for h in sdk.search.hits("dim_customer", page_size=2)} == {t.id for t in tables}
    with pytest.raises(cairn.InvalidInputError, match="256"):
        sdk.search.query("x" * 300)

    # bulk_update: per-item results, a bad item does not stop the others
    result = sdk.resources.bulk_update(
        [(t.id, {"verified": True}) for t in tables]
        + [{"id": "00000000-0000-0000-0000-00000000dead", "data": {"verified": True}}]
        + [(tables[1].id, {"external_usage": -1})]
    )
    assert result.updated == [t.id for t in tables]
    assert [f.id for f in result.failed] == ["00000000-0000-0000-0000-00000000dead", tables[1].id]
    assert all(f.error for f in result.failed)
    assert all(r.verified for r in sdk.resources.list(filter=F.type == "table"))

    # delete and restore
    sdk.resources.delete(tables[4].id)
    with pytest.raises(cairn.NotFoundError) as gone:
        sdk.resources.get(tables[4].id)
    assert gone.value.method == "GET"
    assert tables[4].id in gone.value.url
    assert sdk.resources.restore(tables[4].id).id == tables[4].id

    # tags
    pii = sdk.tags.create("PII", description="Personal data", color="#E53E3E")
    assert sdk.tags.get(pii.id) == pii
    assert sdk.tags.update(pii.id, color="#000000").color == "#000000"
    assert "PII" in [t.name for t in sdk.tags.list()]
    assert sdk.resources.update(tables[0].id, tags=[pii.id]).tags == [pii.id]
    assert sdk.resources.list(filter=F.tags.contains(pii.id)).first().id == tables[0].id
    sdk.tags.delete(pii.id)
    with pytest.raises(cairn.NotFoundError):
        sdk.tags.get(pii.id)

    # users, teams, groups
    ada = sdk.users.create("ada@example.com", first_name="Ada", role="editor")
    assert sdk.users.get(ada.id).email == "ada@example.com"
    assert sdk.users.update(ada.id, last_name="Lovelace").display_name == "Ada Lovelace"
    assert "ada@example.com" in [u.email for u in sdk.users.list()]
    team = sdk.teams.create("Data", description="The data team", type="OPEN")
    assert sdk.teams.get(team.id).name == "Data"
    assert sdk.teams.update(team.id, description="Data people").description == "Data people"
    assert {"General", "Data"} <= {t.name for t in sdk.teams.list()}
    group = sdk.groups.create("Analysts", users=[ada.id])
    assert sdk.groups.get(group.id).users == [ada.id]
    assert sdk.groups.update(group.id, description="SQL folk").description == "SQL folk"
    assert [g.name for g in sdk.groups.list()] == ["Analysts"]
    sdk.groups.delete(group.id)
    sdk.teams.delete(team.id)
    sdk.users.delete(ada.id)
    with pytest.raises(cairn.NotFoundError):
        sdk.users.get(ada.id)

    # custom properties
    owner = sdk.custom_properties.create("Owning team", "string", entity_types=["table"])
    assert sdk.custom_properties.get(owner.id).name == "Owning team"
    assert sdk.custom_properties.update(owner.id, name="Owner").name == "Owner"
    assert [p.id for p in sdk.custom_properties.list()] == [owner.id]
    assert sdk.custom_properties.set_value(owner.id, tables[0].id, "Payments").value == "Payments"
    assert sdk.resources.get(tables[0].id).properties["custom"][0]["value"] == "Payments"
    sdk.custom_properties.delete(owner.id)
    assert sdk.custom_properties.list() == []

    # collections (seed 004), organizations and workspaces
    assert len(sdk.organizations.list()) == 1
    assert [w.id for w in sdk.workspaces.list()] == [sdk.workspace]
    made = sdk.collections.create("For ML", "Training", cairn.CollectionType.DATASET, tags=["ml"])
    assert sdk.collections.get("Training") == made
    sdk.collection = made.id
    assert sdk.collections.update(description="Training data").description == "Training data"
    assert "Training" in [c.name for c in sdk.collections.list()]
    sdk.collections.delete()
    assert sdk.collections.get(made.id) is None

    # integration delete last: its resources go with it
    sdk.integrations.delete(warehouse.id)
    with pytest.raises(cairn.NotFoundError):
        sdk.integrations.get(warehouse.id)

    # errors: typed, naming method and URL; refused locally when the server would refuse
    with pytest.raises(cairn.BadRequestError) as bad:
        sdk.resources.create(title="x", entity_type="schema")  # a schema needs a parent
    assert bad.value.status_code == 400
    assert "POST" in str(bad.value)
    assert "/resource/catalog" in str(bad.value)
    with pytest.raises(cairn.NotFoundError):
        sdk.tags.get("00000000-0000-0000-0000-000000000abc")
    # Refused before any request: the server's own input models and filter parser run locally.
    with pytest.raises(cairn.InvalidInputError, match="title"):
        sdk.resources.create(title="x" * 1001, entity_type="table")
    with pytest.raises(cairn.FilterError):
        sdk.resources.list(filter={"operator": "near", "field": "title", "value": "x"})
