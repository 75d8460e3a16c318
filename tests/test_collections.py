"""Collections: one store, faces Secoda, legacy /tag/ and Kontent.ai, on both backends."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from cairn.core.collections import DEFAULT_COLLECTION_ID
from tests.helpers import create, warehouse


def kontent(api) -> str:
    return f"/v2/projects/{api.workspace.id}/collections"


def listed(api) -> list[dict]:
    response = api.client.get(kontent(api))
    assert response.status_code == 200, response.text
    return response.json()["collections"]


def test_every_workspace_has_the_default_collection(api):
    body = api.client.get(kontent(api)).json()
    assert body["collections"] == [{"id": DEFAULT_COLLECTION_ID, "name": "Default", "codename": "default"}]
    assert body["last_modified"] is None
    default = api.client.get(f"/collection/collections/{DEFAULT_COLLECTION_ID}").json()
    assert default["entity_type"] == "collection"
    assert default["title"] == "Default"


def test_a_collection_made_on_any_face_shows_on_the_others(api):
    secoda = create(api.client, "/collection/collections", title="Finance", description="Money")
    legacy = api.client.post("/tag/", json={"name": "Legacy one", "description": "old"})
    assert legacy.status_code == 201
    patched = api.client.patch(
        kontent(api), json=[{"op": "addInto", "value": {"name": "US branch", "external_id": "us"}}]
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["last_modified"].endswith("Z")

    by_name = {c["name"]: c for c in listed(api)}
    assert by_name["Finance"]["id"] == secoda["id"]
    assert by_name["Finance"]["codename"] == "finance"
    assert by_name["Legacy one"]["id"] == legacy.json()["id"]
    assert by_name["US branch"] == {
        "id": by_name["US branch"]["id"],
        "name": "US branch",
        "codename": "us_branch",
        "external_id": "us",
    }
    assert [c["name"] for c in listed(api)] == ["Default", "Finance", "Legacy one", "US branch"]
    us_id = by_name["US branch"]["id"]
    assert api.client.get(f"/collection/collections/{us_id}").json()["title"] == "US branch"
    tags = api.client.get("/tag/").json()
    assert tags["page"] == 1
    assert {t["name"] for t in tags["results"]} == {"Default", "Finance", "Legacy one", "US branch"}
    legacy_item = api.client.get(f"/tag/{secoda['id']}").json()
    assert legacy_item["neo4j_id"] == secoda["id"]
    assert legacy_item["description"] == "Money"
    assert legacy_item["badges"] == [{"category": "status", "badge_name": None, "name": "draft"}]


def test_membership_counts_and_delete_unlinks(api):
    tree = warehouse(api.client, columns=0)
    finance = create(api.client, "/collection/collections", title="Finance")
    term = create(api.client, "/dictionary/terms", title="Revenue", collections=[finance["id"]])
    api.client.patch(f"/resource/all/{tree['table']['id']}", json={"collections": [finance["id"]]})
    item = api.client.get(f"/tag/{finance['id']}").json()
    assert item["count"] == 2
    assert item["tables"] == [tree["table"]["id"]]
    assert item["dictionary_terms"] == [term["id"]]
    assert api.client.delete(f"/tag/{finance['id']}").status_code == 204
    assert api.client.get(f"/resource/all/{tree['table']['id']}").json()["collections"] == []
    assert api.client.get(f"/tag/{finance['id']}").status_code == 404
    assert finance["id"] not in {c["id"] for c in listed(api)}


def test_legacy_put_renames_everywhere(api):
    finance = create(api.client, "/collection/collections", title="Finance")
    response = api.client.put(f"/tag/{finance['id']}", json={"name": "Money", "description": "d"})
    assert response.json() == {"msg": "Tag updated"}
    assert {c["name"] for c in listed(api)} == {"Default", "Money"}
    assert api.client.get(f"/collection/collections/{finance['id']}").json()["description"] == "d"
    codename = next(c["codename"] for c in listed(api) if c["id"] == finance["id"])
    assert codename == "finance"


def test_kontent_operations_in_order_with_references_added_earlier(api):
    ops = [
        {"op": "addInto", "value": {"name": "First", "codename": "first"}},
        {
            "op": "addInto",
            "value": {"name": "Second", "external_id": "second-ext"},
            "before": {"codename": "first"},
        },
        {"op": "addInto", "value": {"name": "Third"}, "after": {"external_id": "second-ext"}},
        {"op": "move", "reference": {"codename": "first"}, "before": {"id": DEFAULT_COLLECTION_ID}},
        {
            "op": "replace",
            "property_name": "name",
            "value": "Third renamed",
            "reference": {"codename": "third"},
        },
        {"op": "addInto", "value": {"name": "Doomed"}},
        {"op": "remove", "reference": {"codename": "doomed"}},
    ]
    response = api.client.patch(kontent(api), json=ops)
    assert response.status_code == 200, response.text
    names = [c["name"] for c in response.json()["collections"]]
    assert names == ["First", "Default", "Second", "Third renamed"]
    assert names == [c["name"] for c in listed(api)]


def test_bad_kontent_patches_change_nothing_and_answer_in_kontent_format(api):
    create(api.client, "/collection/collections", title="Finance")
    before = listed(api)
    bad_requests = [
        [
            {
                "op": "addInto",
                "value": {"name": "x"},
                "before": {"codename": "finance"},
                "after": {"codename": "default"},
            }
        ],
        [{"op": "move", "reference": {"codename": "nothing_here"}, "before": {"codename": "default"}}],
        [{"op": "remove", "reference": {"id": DEFAULT_COLLECTION_ID}}],
        [
            {"op": "addInto", "value": {"name": "a", "external_id": "dup"}},
            {"op": "addInto", "value": {"name": "b", "external_id": "dup"}},
        ],
        [{"op": "addInto", "value": {"name": "a", "codename": "Not A Codename"}}],
        [{"op": "addInto", "value": {"name": "x" * 201}}],
        [
            {"op": "addInto", "value": {"name": "fine"}},
            {
                "op": "replace",
                "property_name": "codename",
                "value": "z",
                "reference": {"codename": "finance"},
            },
        ],
        [{"op": "addInto", "value": {"name": "a", "external_id": "bad/slash"}}],
        [{"op": "explode"}],
        {"not": "a list"},
    ]
    for body in bad_requests:
        response = api.client.patch(kontent(api), json=body)
        assert response.status_code == 400, (body, response.text)
        error = response.json()
        assert set(error) >= {"request_id", "error_code", "message", "validation_errors"}, error
        assert error["validation_errors"][0]["message"]
    assert listed(api) == before
    assert api.client.get(kontent(api)).json()["last_modified"] is not None


def test_default_cannot_be_removed_on_any_face_but_can_be_renamed(api):
    assert api.client.delete(f"/tag/{DEFAULT_COLLECTION_ID}").status_code == 400
    assert api.client.delete(f"/collection/collections/{DEFAULT_COLLECTION_ID}").status_code == 400
    assert api.client.delete(f"/resource/all/{DEFAULT_COLLECTION_ID}").status_code == 400
    rename = [
        {
            "op": "replace",
            "property_name": "name",
            "value": "Everything",
            "reference": {"codename": "default"},
        }
    ]
    assert api.client.patch(kontent(api), json=rename).status_code == 200
    assert listed(api)[0] == {"id": DEFAULT_COLLECTION_ID, "name": "Everything", "codename": "default"}


def test_kontent_auth_and_environment_isolation(api):
    from cairn.core.keys import create_key
    from cairn.core.tenancy import create_organization, create_workspace

    with api.store.write() as conn:
        org = create_organization(conn, name="other")
        other = create_workspace(conn, organization_id=org, name="other")
    stranger = create_key(api.store, workspace_id=other.id, name="stranger", role="admin")
    headers = {"Authorization": f"bearer {stranger.token}"}
    response = api.client.get(kontent(api), headers=headers)
    assert response.status_code == 403
    assert "request_id" in response.json()
    assert api.client.get(f"/v2/projects/{other.id}/collections", headers=headers).status_code == 200
    assert api.client.get(kontent(api), headers={"Authorization": ""}).status_code == 401
    viewer = api.as_role("viewer")
    add = [{"op": "addInto", "value": {"name": "x"}}]
    assert api.client.patch(kontent(api), json=add, headers=viewer).status_code == 403


def test_parallel_kontent_patches_keep_a_consistent_order(api):
    def work(i: int) -> int:
        ops = [
            {
                "op": "addInto",
                "value": {"name": f"C{i}", "codename": f"c_{i}"},
                "before": {"codename": "default"},
            },
            {"op": "move", "reference": {"codename": "default"}, "before": {"codename": f"c_{i}"}},
        ]
        return api.client.patch(kontent(api), json=ops).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(work, range(20)))
    assert set(codes) == {200}
    collections = listed(api)
    assert len(collections) == 21
    assert len({c["codename"] for c in collections}) == 21
    assert collections[0]["codename"] == "default"
    from sqlalchemy import select

    from cairn.store.schema import collection

    with api.store.read() as conn:
        positions = sorted(
            conn.execute(
                select(collection.c.position).where(collection.c.workspace_id == api.workspace.id)
            ).scalars()
        )
    assert positions == list(range(21))


def test_export_import_keeps_collection_identity(api, tmp_path):
    from cairn.core.exchange import Importer, export_workspace
    from cairn.core.principal import system_principal
    from cairn.core.tenancy import create_organization, create_workspace

    api.client.patch(
        kontent(api),
        json=[
            {"op": "addInto", "value": {"name": "B", "codename": "bee", "external_id": "b-1"}},
            {"op": "addInto", "value": {"name": "A"}, "before": {"codename": "bee"}},
            {"op": "replace", "property_name": "name", "value": "All", "reference": {"codename": "default"}},
        ],
    )
    source = system_principal(api.workspace.id, api.workspace.organization_id)
    lines = [__import__("orjson").dumps(line) for line in export_workspace(api.store, source)]
    with api.store.write() as conn:
        org = create_organization(conn, name="copy")
        target = create_workspace(conn, organization_id=org, name="copy")
    report = Importer(api.store, system_principal(target.id, org)).run(lines)
    assert report.errors == []
    key_headers = {
        "Authorization": "Bearer "
        + __import__("cairn.core.keys", fromlist=["x"])
        .create_key(api.store, workspace_id=target.id, name="t")
        .token
    }
    copied = api.client.get(f"/v2/projects/{target.id}/collections", headers=key_headers).json()[
        "collections"
    ]
    assert copied == listed(api)


def test_kontent_renames_are_versions_and_refresh_nested_paths(api):
    top = create(api.client, "/collection/collections", title="Top")
    middle = create(api.client, "/collection/collections", title="Middle", parent=top["id"])
    leaf = create(api.client, "/collection/collections", title="Leaf", parent=middle["id"])
    alone = create(api.client, "/collection/collections", title="Alone")
    codenames = {c["id"]: c["codename"] for c in listed(api)}

    def rename(target: dict, name: str) -> dict:
        return {
            "op": "replace",
            "property_name": "name",
            "value": name,
            "reference": {"codename": codenames[target["id"]]},
        }

    ops = [rename(leaf, "Leaf 2"), rename(top, "Top 2"), rename(alone, "Alone 2"), rename(alone, "Alone 3")]
    response = api.client.patch(kontent(api), json=ops)
    assert response.status_code == 200, response.text

    def entity(item: dict) -> dict:
        return api.client.get(f"/collection/collections/{item['id']}").json()

    assert entity(top)["title_full"] == "Top 2"
    assert entity(middle)["title_full"] == "Top 2.Middle"
    assert entity(leaf)["title_full"] == "Top 2.Middle.Leaf 2"
    assert entity(alone)["title"] == "Alone 3"
    for item, old, new in ((top, "Top", "Top 2"), (leaf, "Leaf", "Leaf 2"), (alone, "Alone", "Alone 3")):
        versions = api.client.get(f"/resource/all/{item['id']}/history").json()["results"]
        assert versions[0]["event"] == "updated"
        assert versions[0]["changes"]["title"] == {"old": old, "new": new}
        assert [v["version"] for v in versions] == [2, 1]
    events = api.client.get("/notification/workspace").json()["results"]
    renamed = [e for e in events if e["event"] == "updated" and e["resource_id"] == alone["id"]]
    assert len(renamed) == 1
    assert api.client.get(f"/resource/all/{middle['id']}/history").json()["count"] == 1


def test_lookups_by_name_show_each_role_what_it_may_see(api):
    """Statements are built once per role shape and reused: an admin's lookup first must not
    make a draft visible to a viewer afterwards, nor the viewer's hide it from the admin."""
    draft = create(api.client, "/collection/collections", title="Draft one", published=False)
    orbit = f"/organizations/{api.workspace.organization_id}/orbits/{api.workspace.id}/collections"
    viewer = api.as_role("viewer")

    def by_name(headers=None) -> list[str]:
        response = api.client.get(orbit, params={"name": "Draft one"}, headers=headers)
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()]

    assert by_name() == [draft["id"]]
    assert by_name(viewer) == []
    assert by_name() == [draft["id"]]
    assert api.client.get(orbit, params={"id": draft["id"]}, headers=viewer).json() == []
    kontent_ids = [c["id"] for c in api.client.get(kontent(api), headers=viewer).json()["collections"]]
    assert draft["id"] not in kontent_ids


def test_a_kontent_rename_records_the_version_a_secoda_rename_records(api):
    one = create(api.client, "/collection/collections", title="One")
    two = create(api.client, "/collection/collections", title="Two")
    codename = {c["id"]: c["codename"] for c in listed(api)}[one["id"]]
    op = {"op": "replace", "property_name": "name", "value": "Renamed", "reference": {"codename": codename}}
    assert api.client.patch(kontent(api), json=[op]).status_code == 200
    assert (
        api.client.patch(f"/collection/collections/{two['id']}", json={"title": "Renamed"}).status_code == 200
    )

    def latest(item: dict) -> dict:
        return api.client.get(f"/resource/all/{item['id']}/history").json()["results"][0]

    by_kontent, by_secoda = latest(one), latest(two)
    assert by_kontent["changes"] == {"title": {"old": "One", "new": "Renamed"}}
    assert by_secoda["changes"] == {"title": {"old": "Two", "new": "Renamed"}}
    assert by_kontent["version"] == by_secoda["version"] == 2
    from cairn.core.history import snapshot_of

    with api.store.read() as conn:
        snapshots = [snapshot_of(conn, api.workspace.id, item["id"], 2) for item in (one, two)]
    assert snapshots[0] is not None
    assert snapshots[0]["title"] == "Renamed"
    assert snapshots[0] == snapshots[1]  # the whole restorable entity, as an ordinary edit keeps it


def test_no_other_route_matches_the_kontent_and_dataforce_paths(api):
    """They are routed first (app.py) for speed, which is safe only while no route of another
    face could answer the same path."""
    from fastapi.routing import APIRoute

    from cairn.api import dataforce
    from cairn.api import kontent as kontent_face

    def routes(router) -> list:
        found = []
        for route in router.routes:
            inner = getattr(route, "original_router", None)
            found += routes(inner) if inner is not None else [route]
        return found

    theirs = [r for r in [*kontent_face.router.routes, *dataforce.router.routes] if isinstance(r, APIRoute)]
    assert len(theirs) == 8
    ids = {"environment_id": "e", "organization_id": "o", "orbit_id": "b", "collection_id": "c"}
    paths = {r.path.format(**ids) for r in theirs}
    own = {id(r) for r in theirs}
    everything = routes(api.client.app.router)
    assert own <= {id(r) for r in everything}
    for route in everything:
        regex = getattr(route, "path_regex", None)
        if id(route) in own or regex is None:
            continue
        assert not [p for p in paths if regex.match(p)], route.path
