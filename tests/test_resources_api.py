"""The Secoda resource API end to end, on both backends."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlparse

import pytest

from tests.helpers import catalog, create, make_integration, warehouse

# Every workspace has its Default collection; lists that count documents filter for them.
DOCUMENTS = {"operator": "exact", "field": "type", "value": "document"}


def test_healthcheck_needs_no_key(api):
    response = api.client.get("/healthcheck", headers={"Authorization": ""})
    assert response.status_code == 200
    assert response.json() == {"status": "OK"}


def test_create_returns_full_entity_with_real_json_types(api):
    tree = warehouse(api.client)
    table = tree["table"]
    assert table["title_full"] == "analytics.public.dim_customer"
    assert table["title_cased"] == "dimCustomer"
    assert table["search_metadata"] == {
        "database": "analytics",
        "schema": "public",
        "table": "dim_customer",
        "type": "table",
    }
    assert table["integration"] == tree["integration"]
    assert table["archived"] is False
    assert table["pii"] is False
    assert table["archived_at"] is None
    assert table["stale_at"] is None
    assert table["current_user_permissions"] == {"read": True, "write": True, "execute": False}
    assert table["workspace_id"] == api.workspace.id
    assert table["created_at"].endswith("Z")
    fetched = api.client.get(f"/resource/all/{table['id']}").json()
    assert fetched["children_count"] == 3
    for key in ("owners", "collections", "tags", "teams", "subscribers", "sources", "bookmarked_by"):
        assert fetched[key] == []


def test_every_route_answers_with_and_without_prefix_and_slash(api):
    tree = warehouse(api.client, columns=1)
    rid = tree["table"]["id"]
    for path in (
        f"/resource/all/{rid}",
        f"/resource/all/{rid}/",
        f"/api/v1/resource/all/{rid}",
        f"/api/v1/resource/all/{rid}/",
    ):
        response = api.client.get(path, follow_redirects=False)
        assert response.status_code == 200, path
        assert response.json()["id"] == rid
    created = api.client.post(
        "/api/v1/resource/catalog/", json={"entity_type": "document", "title": "Doc"}, follow_redirects=False
    )
    assert created.status_code == 201


def test_wrong_parent_type_is_400_and_changes_nothing(api):
    tree = warehouse(api.client, columns=0)
    before = catalog(api.client).json()["count"]
    response = api.client.post(
        "/resource/catalog", json={"entity_type": "column", "title": "x", "parent": tree["schema"]["id"]}
    )
    assert response.status_code == 400
    assert "parent" in response.json()["fields"]
    response = api.client.post(
        "/database/schemas", json={"title": "orphan", "integration": tree["integration"]}
    )
    assert response.status_code == 400
    assert "parent" in response.json()["detail"]
    response = api.client.post(
        "/resource/catalog", json={"entity_type": "glossary", "title": "t", "parent": tree["table"]["id"]}
    )
    assert response.status_code == 400
    assert catalog(api.client).json()["count"] == before


def test_database_needs_an_integration(api):
    response = api.client.post("/database/databases", json={"title": "db"})
    assert response.status_code == 400
    assert response.json()["fields"] == {"integration": ["a database must belong to an integration"]}
    response = api.client.post(
        "/database/databases", json={"title": "db", "integration": "00000000-0000-0000-0000-00000000abcd"}
    )
    assert response.status_code == 400


def test_per_type_route_decides_the_entity_type(api):
    integration = make_integration(api.client)
    # pysecoda sends entity_type "glossary" on every create.
    db = create(
        api.client, "/database/databases/", title="db", integration=integration, entity_type="glossary"
    )
    assert db["entity_type"] == "database"
    # a per-type item route only serves its own type
    assert api.client.get(f"/database/databases/{db['id']}").status_code == 200
    assert api.client.get(f"/table/tables/{db['id']}").status_code == 404
    assert api.client.patch(f"/table/tables/{db['id']}", json={"description": "x"}).status_code == 404


def test_per_type_lists_and_their_query_parameters(api):
    tree = warehouse(api.client, columns=2)
    tables = api.client.get("/table/tables", params={"parent_id": tree["schema"]["id"]}).json()
    assert [t["id"] for t in tables["results"]] == [tree["table"]["id"]]
    columns = api.client.get("/table/columns", params={"table_title": "dim_customer"}).json()
    assert columns["count"] == 2
    assert api.client.get("/table/column/", params={"title": "COL_1"}).json()["count"] == 1
    dbs = api.client.get("/database/databases", params={"integration_id": tree["integration"]}).json()
    assert dbs["count"] == 1
    doc = create(api.client, "/document/", title="Runbook")
    assert doc["entity_type"] == "document"
    assert api.client.get("/document/documents").json()["count"] == 1
    assert api.client.get(f"/document/{doc['id']}").json()["title"] == "Runbook"
    term = create(api.client, "/dictionary/terms", title="Customer")
    assert term["entity_type"] == "glossary"
    by_alias = catalog(
        api.client, {"operator": "exact", "field": "entity_type", "value": "dictionary_term"}
    ).json()
    assert [r["id"] for r in by_alias["results"]] == [term["id"]]


def test_rename_and_move_maintain_the_whole_subtree(api):
    tree = warehouse(api.client, columns=2)
    api.client.patch(f"/resource/all/{tree['database']['id']}", json={"title": "warehouse"})
    column = api.client.get(f"/resource/all/{tree['columns'][0]['id']}").json()
    assert column["title_full"] == "warehouse.public.dim_customer.col_0"
    assert column["search_metadata"]["database"] == "warehouse"

    other = create(api.client, entity_type="schema", title="marts", parent=tree["database"]["id"])
    moved = api.client.patch(f"/resource/all/{tree['table']['id']}", json={"parent": other["id"]}).json()
    assert moved["title_full"] == "warehouse.marts.dim_customer"
    column = api.client.get(f"/resource/all/{tree['columns'][1]['id']}").json()
    assert column["title_full"] == "warehouse.marts.dim_customer.col_1"
    assert column["search_metadata"]["schema"] == "marts"
    assert api.client.get(f"/resource/all/{tree['schema']['id']}").json()["children_count"] == 0
    assert api.client.get(f"/resource/all/{other['id']}").json()["children_count"] == 1

    cycle = api.client.patch(
        f"/resource/all/{tree['columns'][0]['id']}", json={"parent": tree["columns"][0]["id"]}
    )
    assert cycle.status_code == 400


def test_delete_removes_a_warehouse_subtree(api):
    tree = warehouse(api.client, columns=3)
    assert api.client.delete(f"/database/schemas/{tree['schema']['id']}").status_code == 204
    for rid in [tree["table"]["id"], *(c["id"] for c in tree["columns"])]:
        assert api.client.get(f"/resource/all/{rid}").status_code == 404
    assert api.client.get(f"/resource/all/{tree['database']['id']}").json()["children_count"] == 0


def test_deleting_a_document_keeps_its_children_attached(api):
    parent = create(api.client, "/document", title="Handbook")
    child = create(api.client, "/document", title="Onboarding", parent=parent["id"])
    assert child["title_full"] == "Handbook.Onboarding"
    assert api.client.delete(f"/document/{parent['id']}").status_code == 204
    assert api.client.get(f"/document/{parent['id']}").status_code == 404
    kept = api.client.get(f"/document/{child['id']}").json()
    assert kept["parent"] == parent["id"]
    restored = api.client.post(f"/resource/all/{parent['id']}/restore").json()
    assert restored["children_count"] == 1


def test_patch_changes_only_sent_fields_and_lists_replace(api):
    tree = warehouse(api.client, columns=0)
    rid = tree["table"]["id"]
    api.client.patch(f"/resource/all/{rid}", json={"owners": ["u1", "u2"], "description": "first"})
    patched = api.client.patch(f"/resource/all/{rid}", json={"owners": ["u3"], "unknown_key": 1}).json()
    assert patched["owners"] == ["u3"]
    assert patched["description"] == "first"
    versioned = api.client.patch(f"/resource/all/{rid}", json={"definition": "# Doc"}).json()
    assert versioned["definition_version"] == 2


def test_bad_bodies_are_400_naming_the_field(api):
    tree = warehouse(api.client, columns=0)
    rid = tree["table"]["id"]
    response = api.client.patch(f"/resource/all/{rid}", json={"pii": "maybe"})
    assert response.status_code == 400
    assert "pii" in response.json()["fields"]
    response = api.client.patch(f"/resource/all/{rid}", json={"title": ["a"]})
    assert response.status_code == 400
    assert "title" in response.json()["fields"]
    response = api.client.post(
        "/resource/catalog", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    response = api.client.patch(f"/resource/all/{rid}", json={"description": "nul\x00byte"})
    assert response.status_code == 400
    response = api.client.post("/resource/catalog", json={"entity_type": "spaceship", "title": "x"})
    assert response.status_code == 400
    assert api.client.get(f"/resource/all/{rid}").json()["description"] is None


def test_body_over_the_limit_is_413(api):
    response = api.client.post(
        "/resource/catalog", content=b"x" * (11 * 1024 * 1024), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "detail" in response.json()


def test_missing_and_bad_keys_are_401_and_viewers_cannot_write(api):
    assert api.client.get("/resource/catalog", headers={"Authorization": ""}).status_code == 401
    assert api.client.get("/resource/catalog", headers={"Authorization": "Bearer nope"}).status_code == 401
    # scheme is matched case-insensitively (the Kontent JS SDK sends "bearer")
    lower = {"Authorization": api.headers["Authorization"].replace("Bearer", "bearer")}
    assert api.client.get("/resource/catalog", headers=lower).status_code == 200
    viewer = api.as_role("viewer")
    response = api.client.post(
        "/resource/catalog", json={"entity_type": "document", "title": "x"}, headers=viewer
    )
    assert response.status_code == 403
    assert api.client.get("/resource/catalog", headers=viewer).status_code == 200


def test_viewers_see_only_published_resources(api):
    draft = create(api.client, "/document", title="Draft", published=False)
    public = create(api.client, "/document", title="Public", published=True)
    viewer = api.as_role("viewer")
    docs = json.dumps(DOCUMENTS)
    listed = api.client.get("/resource/catalog", params={"filter": docs}, headers=viewer).json()
    assert [r["id"] for r in listed["results"]] == [public["id"]]
    assert listed["count"] == 1
    assert api.client.get(f"/resource/all/{draft['id']}", headers=viewer).status_code == 404
    assert listed["results"][0]["current_user_permissions"]["write"] is False


def test_unknown_ids_are_404(api):
    assert api.client.get("/resource/all/definitely-not-a-real-id").status_code == 404
    assert api.client.get("/resource/all/00000000-0000-0000-0000-0000000000ff").status_code == 404
    assert api.client.delete("/resource/all/00000000-0000-0000-0000-0000000000ff").status_code == 404


def test_pagination_envelope_and_links_keep_every_parameter(api):
    tree = warehouse(api.client, columns=5)
    flt = {"operator": "exact", "field": "parent_id", "value": tree["table"]["id"]}
    first = catalog(api.client, flt, page_size=2).json()
    assert first["count"] == 5
    assert first["total_pages"] == 3
    assert first["meta"] == {"page": 1, "previous_page": None, "next_page": 2, "count": 5, "total_pages": 3}
    assert first["links"]["previous"] is None
    next_url = first["links"]["next"]
    assert next_url.startswith("http://testserver/resource/catalog?")
    params = parse_qs(urlparse(next_url).query)
    assert json.loads(params["filter"][0]) == flt
    assert params["page_size"] == ["2"]
    assert params["page"] == ["2"]
    seen = [r["id"] for r in first["results"]]
    url = next_url
    while url:
        page = api.client.get(url).json()
        seen += [r["id"] for r in page["results"]]
        url = page["links"]["next"]
    assert sorted(seen) == sorted(c["id"] for c in tree["columns"])
    last = catalog(api.client, flt, page_size=2, page=3).json()
    assert last["meta"]["next_page"] is None
    assert last["links"]["next"] is None
    assert catalog(api.client, flt, page_size=2, page=4).status_code == 404
    prefixed = api.client.get(
        "/api/v1/resource/catalog/", params={"page_size": 2, "filter": json.dumps(flt)}
    ).json()
    assert urlparse(prefixed["links"]["next"]).path == "/api/v1/resource/catalog/"


def test_page_size_bounds(api):
    assert catalog(api.client, page_size=0).status_code == 400
    assert catalog(api.client, page_size=1001).status_code == 400
    assert catalog(api.client, page="x").status_code == 400


def test_result_cap_keeps_true_count(api, monkeypatch):
    import cairn.api.secoda.resources as routes

    monkeypatch.setattr(routes, "RESULT_CAP", 3)
    for i in range(5):
        create(api.client, "/document", title=f"d{i}")
    page = catalog(api.client, DOCUMENTS, page_size=2).json()
    assert page["count"] == 5
    assert page["total_pages"] == 2
    second = catalog(api.client, DOCUMENTS, page_size=2, page=2).json()
    assert len(second["results"]) == 1
    assert second["links"]["next"] is None
    assert catalog(api.client, DOCUMENTS, page_size=2, page=3).status_code == 404


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"operator": "exact", "field": "type", "value": "column"}, {"col_0", "col_1", "col_2"}),
        ({"operator": "contains", "field": "title", "value": "CUST"}, {"dim_customer"}),
        ({"operator": "in", "field": "native_type", "value": ["view"]}, set()),
        (
            {"operator": "exact", "field": "schema", "value": "public"},
            {"public", "dim_customer", "col_0", "col_1", "col_2"},
        ),
        ({"operator": "is_set", "field": "owners", "value": None}, {"col_1"}),
        (
            {"operator": "not", "operands": [{"operator": "is_set", "field": "description", "value": None}]},
            {"Default", "analytics", "public", "dim_customer", "col_0", "col_2"},
        ),
        (
            {
                "operator": "or",
                "operands": [
                    {"operator": "exact", "field": "title", "value": "col_0"},
                    {"operator": "exact", "field": "owners", "value": "alice"},
                ],
            },
            {"col_0", "col_1"},
        ),
        (
            {"operator": "and", "operands": []},
            {"Default", "analytics", "public", "dim_customer", "col_0", "col_1", "col_2"},
        ),
        ({"operator": "in", "field": "owners", "value": ["bob", "alice"]}, {"col_1"}),
        ({"operator": "exact", "field": "verified", "value": True}, {"dim_customer"}),
    ],
)
def test_filter_operators(api, flt, expected):
    tree = warehouse(api.client, columns=3)
    api.client.patch(
        f"/resource/all/{tree['columns'][1]['id']}", json={"owners": ["alice"], "description": "pk"}
    )
    api.client.patch(f"/resource/all/{tree['table']['id']}", json={"verified": True})
    response = catalog(api.client, flt, page_size=100)
    assert response.status_code == 200, response.text
    assert {r["title"] for r in response.json()["results"]} == expected


@pytest.mark.parametrize(
    "flt",
    [
        {"operator": "exact", "field": "nonexistent", "value": 1},
        {"operator": "between", "field": "title", "value": 1},
        {"operator": "exact", "field": "verified", "value": "yes"},
        {"operator": "contains", "field": "pii", "value": "x"},
        {"operator": "in", "field": "title", "value": "not-a-list"},
        {"operator": "and", "operands": "x"},
        {"operator": "is_set", "field": "title", "value": 3},
        ["not", "an", "object"],
    ],
)
def test_bad_filters_are_400(api, flt):
    response = catalog(api.client, flt)
    assert response.status_code == 400
    assert response.json()["detail"]


def test_deep_filters_are_refused(api):
    node: dict = {"operator": "exact", "field": "title", "value": "x"}
    for _ in range(30):
        node = {"operator": "not", "operands": [node]}
    assert catalog(api.client, node).status_code == 400


def test_archived_and_stale_are_hidden_unless_asked_for(api):
    kept = create(api.client, "/document", title="kept")
    gone = create(api.client, "/document", title="gone", archived=True)
    assert gone["archived_at"] is not None
    assert {r["id"] for r in catalog(api.client, DOCUMENTS).json()["results"]} == {kept["id"]}
    archived = catalog(api.client, {"operator": "exact", "field": "archived", "value": True}).json()
    assert [r["id"] for r in archived["results"]] == [gone["id"]]


def test_sort_with_nested_tie_breakers(api):
    for title, usage in (("b", 5), ("a", 5), ("c", 9)):
        create(api.client, "/document", title=title, external_usage=usage)
    default = [r["title"] for r in catalog(api.client, DOCUMENTS).json()["results"]]
    assert default[0] == "c"
    sort = {
        "field": "external_usage",
        "order": "asc",
        "tie_breaker": {"field": "title", "order": "desc", "tie_breaker": None},
    }
    assert [r["title"] for r in catalog(api.client, DOCUMENTS, sort=sort).json()["results"]] == [
        "b",
        "a",
        "c",
    ]
    assert catalog(api.client, sort={"field": "owners", "order": "asc"}).status_code == 400
    assert catalog(api.client, sort={"field": "title", "order": "sideways"}).status_code == 400


def test_teams_parameter_narrows_the_list(api):
    create(api.client, "/document", title="mine", teams=["team-a"])
    create(api.client, "/document", title="theirs", teams=["team-b"])
    listed = api.client.get("/resource/catalog", params={"teams": "team-a"}).json()
    assert [r["title"] for r in listed["results"]] == ["mine"]


def test_bulk_update_is_all_or_nothing(api):
    docs = [create(api.client, "/document", title=f"d{i}") for i in range(3)]
    ok = api.client.post(
        "/resource/all/bulk_update/", json=[{"id": d["id"], "data": {"description": "bulk"}} for d in docs]
    )
    assert ok.status_code == 200
    assert ok.json() == [d["id"] for d in docs]
    bad = api.client.post(
        "/resource/all/bulk_update",
        json=[
            {"id": docs[0]["id"], "data": {"description": "changed"}},
            {"id": "00000000-0000-0000-0000-000000000999", "data": {}},
        ],
    )
    assert bad.status_code == 400
    assert "item 1" in bad.json()["detail"]
    assert api.client.get(f"/resource/all/{docs[0]['id']}").json()["description"] == "bulk"
    too_many = api.client.post("/resource/all/bulk_update", json=[{"id": docs[0]["id"], "data": {}}] * 101)
    assert too_many.status_code == 400


def test_collections_membership_must_reference_collections(api):
    collection = create(api.client, entity_type="collection", title="Finance")
    doc = create(api.client, "/document", title="d", collections=[collection["id"]])
    assert doc["collections"] == [collection["id"]]
    bad = api.client.post(
        "/document", json={"title": "x", "collections": ["00000000-0000-0000-0000-00000000cafe"]}
    )
    assert bad.status_code == 400
    assert "collections" in bad.json()["fields"]
    assert api.client.delete(f"/resource/all/{collection['id']}").status_code == 204
    assert api.client.get(f"/document/{doc['id']}").json()["collections"] == []


def test_parallel_writers_lose_nothing(api):
    """20 threads patch different fields of one row and create children concurrently."""
    tree = warehouse(api.client, columns=0)
    table_id = tree["table"]["id"]

    def work(i: int) -> int:
        if i % 2:
            return api.client.post("/table/column", json={"title": f"c{i}", "parent": table_id}).status_code
        return api.client.patch(f"/resource/all/{table_id}", json={"definition": f"v{i}"}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(work, range(40)))
    assert set(codes) <= {200, 201}
    table = api.client.get(f"/resource/all/{table_id}").json()
    assert table["children_count"] == 20
    assert table["definition_version"] == 21


def test_nul_inside_free_form_json_is_refused(api):
    response = api.client.post("/integration/integrations", json={"name": "x", "credentials": {"\x00": None}})
    assert response.status_code == 400
    doc = create(api.client, "/document", title="d")
    response = api.client.patch(
        f"/resource/all/{doc['id']}", json={"display_metadata": {"a": ["ok", "bad\x00"]}}
    )
    assert response.status_code == 400
    assert "display_metadata" in response.json()["fields"]
