"""The permission matrix: for each role and each read path, what the caller must not see never
appears, not even in a count (both backends).

The catalog: teams A and B are CLOSED, O is OPEN, General is the default. Guests are users of
team A or B; editors and viewers are workspace keys in no team (plus an editor who is in A).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from cairn.core.collections import DEFAULT_COLLECTION_ID
from cairn.core.exchange import export_workspace
from cairn.core.keys import KeyResolver, create_key
from cairn.core.lineage import EdgeSpec, LineageService
from cairn.core.principal import system_principal
from cairn.core.resources import ResourceService
from tests.helpers import create, make_integration

# name -> (entity type, published, teams); titles are the names, none a substring of another.
RESOURCES: dict[str, tuple[str, bool, tuple[str, ...]]] = {
    "gen-pub": ("table", True, ()),
    "gen-draft": ("table", False, ()),
    "aaa-pub": ("job", True, ("A",)),
    "aaa-draft": ("model", False, ("A",)),
    "aaa-model": ("model", True, ("A",)),
    "bbb-pub": ("dataset", True, ("B",)),
    "aaa-open": ("glossary", True, ("A", "O")),
    "aaa-gone": ("job", True, ("A",)),  # deleted below
    "aaa-col": ("column", True, ("A",)),  # a child of gen-pub
}

# What each role sees of RESOURCES (besides the collection "coll" all of them see, and the
# Default collection, which is in the default team).
VISIBLE: dict[str, set[str]] = {
    "admin": {"gen-pub", "gen-draft", "aaa-pub", "aaa-draft", "aaa-model", "bbb-pub", "aaa-open", "aaa-col"},
    "editor": {"gen-pub", "gen-draft", "aaa-open"},
    "editor_in_a": {"gen-pub", "gen-draft", "aaa-pub", "aaa-draft", "aaa-model", "aaa-open", "aaa-col"},
    "viewer": {"gen-pub", "aaa-open"},
    "guest_a": {"aaa-pub", "aaa-model", "aaa-open", "aaa-col"},
    "guest_b": {"bbb-pub"},
}
SEES_DEFAULT = {"admin", "editor", "editor_in_a", "viewer"}
WRITERS = {"admin", "editor", "editor_in_a"}


@dataclass
class World:
    api: Any
    ids: dict[str, str] = field(default_factory=dict)
    teams: dict[str, str] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)

    def hidden_from(self, role: str) -> set[str]:
        return {self.ids[n] for n in RESOURCES if n not in VISIBLE[role]}

    def seen_by(self, role: str) -> set[str]:
        return {self.ids[n] for n in VISIBLE[role]}


def make_teams(world: World) -> None:
    for name, kind in (("A", "CLOSED"), ("B", "CLOSED"), ("O", "OPEN")):
        response = world.api.client.post("/auth/teams", json={"name": f"team {name}", "type": kind})
        assert response.status_code == 201, response.text
        world.teams[name] = response.json()["id"]


def add_callers(world: World) -> None:
    """A key for every role of the matrix (guests and editor_in_a act for users of their teams)."""
    api, client = world.api, world.api.client
    users = {
        "guest_a": ("guest", ["A"]),
        "guest_b": ("guest", ["B"]),
        "editor_in_a": ("editor", ["A"]),
    }
    for role_name, (role, teams) in users.items():
        email = f"{role_name}@example.com"
        response = client.post(
            "/user", json={"email": email, "role": role, "teams": [world.teams[t] for t in teams]}
        )
        assert response.status_code == 201, response.text
        world.tokens[role_name] = create_key(
            api.store, workspace_id=api.workspace.id, name=role_name, user=email
        ).token
    for role in ("editor", "viewer"):
        world.tokens[role] = create_key(api.store, workspace_id=api.workspace.id, name=role, role=role).token
    world.tokens["admin"] = api.headers["Authorization"].removeprefix("Bearer ")
    world.headers = {role: {"Authorization": f"Bearer {token}"} for role, token in world.tokens.items()}


def build(api: Any) -> World:
    world = World(api)
    client = api.client
    make_teams(world)
    integration = make_integration(client)
    coll = create(
        client,
        "/collection/collections",
        title="coll",
        published=True,
        teams=[world.teams[t] for t in "ABO"],
    )
    world.ids["coll"] = coll["id"]
    for name, (kind, published, teams) in RESOURCES.items():
        body: dict[str, Any] = {
            "entity_type": kind,
            "title": name,
            "published": published,
            "teams": [world.teams[t] for t in teams],
            "collections": [coll["id"]],
            "description": "a needle in the matrix",
        }
        if kind in ("table", "column"):
            body["integration"] = integration
        if kind == "column":
            body["parent"] = world.ids["gen-pub"]
        world.ids[name] = create(client, **body)["id"]
    edges = [
        ("gen-pub", "aaa-pub"),
        ("aaa-pub", "aaa-model"),
        ("bbb-pub", "aaa-open"),
        ("aaa-open", "gen-pub"),
    ]
    edges.append(("aaa-pub", "aaa-gone"))
    LineageService(api.store).add_edges(
        system_principal(api.workspace.id, api.workspace.organization_id),
        [EdgeSpec(world.ids[up], world.ids[down], "manual") for up, down in edges],
    )
    world.edges = edges
    assert client.delete(f"/resource/all/{world.ids['aaa-gone']}").status_code == 204

    add_callers(world)
    return world


def _get(world: World, role: str, path: str, **params: Any) -> Any:
    response = world.api.client.get(path, headers=world.headers[role], params=params)
    text = response.text
    for hidden in world.hidden_from(role):
        assert hidden not in text, f"{role} GET {path} {params} leaks {hidden}"
    for name in RESOURCES:
        if name not in VISIBLE[role]:
            assert f'"{name}"' not in text, f"{role} GET {path} leaks the title {name}"
    return response


@pytest.fixture
def world(api: Any) -> World:
    return build(api)


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_every_read_path_shows_the_role_exactly_what_it_may_see(world: World, role: str) -> None:
    expected = world.seen_by(role) | {world.ids["coll"]}
    if role in SEES_DEFAULT:
        expected.add(DEFAULT_COLLECTION_ID)
    ws = world.api.workspace

    # the catalog list and its count, with and without a filter, and every page size
    listed = _get(world, role, "/resource/catalog", page_size=1000).json()
    assert {r["id"] for r in listed["results"]} == expected
    assert listed["count"] == len(expected)
    for entity in listed["results"]:
        assert entity["current_user_permissions"] == {
            "read": True,
            "write": role in WRITERS,
            "execute": False,
        }
    small = _get(world, role, "/resource/catalog", page_size=2).json()
    assert (small["count"], small["total_pages"]) == (len(expected), -(-len(expected) // 2))
    models = _get(
        world,
        role,
        "/resource/catalog",
        filter=json.dumps({"operator": "in", "field": "type", "value": ["model", "dataset"]}),
    ).json()
    assert models["count"] == len({world.ids[n] for n in ("aaa-draft", "aaa-model", "bbb-pub")} & expected)

    # the ``teams`` parameter narrows within what the caller sees (one id or several)
    team_a = world.teams["A"]
    in_a = {world.ids[n] for n, (_, _, teams) in RESOURCES.items() if "A" in teams} | {world.ids["coll"]}
    narrowed = _get(world, role, "/resource/catalog", teams=team_a, page_size=1000).json()
    assert {r["id"] for r in narrowed["results"]} == in_a & expected
    assert narrowed["count"] == len(in_a & expected)
    both = _get(world, role, "/resource/catalog", teams=f"{team_a},{world.teams['B']}").json()
    in_b = {world.ids["bbb-pub"]}
    assert both["count"] == len((in_a | in_b) & expected)

    # get by id, history and breadcrumbs: hidden is 404, like a resource that does not exist
    for name, rid in world.ids.items():
        visible = rid in expected
        got = _get(world, role, f"/resource/all/{rid}")
        assert got.status_code == (200 if visible else 404), (role, name)
        history = _get(world, role, f"/resource/all/{rid}/history")
        assert history.status_code == (200 if visible else 404), (role, name)
    principal = KeyResolver(world.api.store).resolve(world.tokens[role])
    resources = ResourceService(world.api.store)
    if world.ids["aaa-col"] in expected:
        chain = [e["id"] for e in resources.ancestors(principal, world.ids["aaa-col"])]
        assert chain == ([world.ids["gen-pub"]] if world.ids["gen-pub"] in expected else [])

    # per-type endpoints
    for path, kinds in (
        ("/job/jobs", {"job"}),
        ("/table/tables", {"table"}),
        ("/dictionary/terms", {"glossary"}),
    ):
        page = _get(world, role, path).json()
        want = {world.ids[n] for n, (k, _, _) in RESOURCES.items() if k in kinds} & expected
        assert {r["id"] for r in page["results"]} == want, (role, path)
        assert page["count"] == len(want)

    # facet counts add up to the list's count
    counts = resources.type_counts(principal)
    assert sum(counts.values()) == len(expected)

    # collections on every face, with member counts of visible members only
    members = expected - {world.ids["coll"], DEFAULT_COLLECTION_ID}
    kinds = {world.ids[n]: k for n, (k, _, _) in RESOURCES.items()}
    secoda = _get(world, role, "/collection/collections").json()
    assert {r["id"] for r in secoda["results"]} == expected & {world.ids["coll"], DEFAULT_COLLECTION_ID}
    legacy = _get(world, role, f"/tag/{world.ids['coll']}").json()
    assert legacy["count"] == len(members)
    assert set(legacy["jobs"]) == {m for m in members if kinds[m] == "job"}
    assert set(legacy["tables"]) == {m for m in members if kinds[m] == "table"}
    assert set(legacy["dictionary_terms"]) == {m for m in members if kinds[m] == "glossary"}
    legacy_list = _get(world, role, "/tag").json()
    assert {r["id"]: r["count"] for r in legacy_list["results"]}[world.ids["coll"]] == len(members)
    assert legacy_list["count"] == len(secoda["results"])
    kontent = _get(world, role, f"/v2/projects/{ws.id}/collections").json()
    assert {c["id"] for c in kontent["collections"]} == {r["id"] for r in secoda["results"]}
    dataforce = _get(world, role, f"/organizations/{ws.organization_id}/orbits/{ws.id}/collections").json()
    totals = {c["id"]: c["total_models"] for c in dataforce}
    assert totals[world.ids["coll"]] == sum(1 for m in members if kinds[m] in ("model", "dataset"))
    # the SDK's get(name) and get(id): the same rule as the list
    orbit = f"/organizations/{ws.organization_id}/orbits/{ws.id}/collections"
    for params in ({"name": "coll"}, {"id": world.ids["coll"]}, {"name": "coll", "id": world.ids["coll"]}):
        found = _get(world, role, orbit, **params).json()
        assert [(c["id"], c["total_models"]) for c in found] == [
            (world.ids["coll"], totals[world.ids["coll"]])
        ]
    default = _get(world, role, orbit, name="Default").json()
    assert [c["id"] for c in default] == ([DEFAULT_COLLECTION_ID] if role in SEES_DEFAULT else [])

    # the export: what the caller may see (an admin's also holds deletions: it is a backup)
    exported = {
        line["data"]["id"]
        for line in export_workspace(world.api.store, principal)
        if line["kind"] == "resource"
    }
    assert exported == expected | ({world.ids["aaa-gone"]} if role == "admin" else set())

    # search and its facet counts
    found = _get(world, role, "/search", q="needle", page_size=100).json()
    want = expected & {world.ids[n] for n in RESOURCES}
    assert {hit["resource"]["id"] for hit in found["results"]} == want
    assert found["count"] == len(want)
    for facet in ("entity_type", "collections"):
        assert sum(f["count"] for f in found["facets"][facet]) == len(want), facet

    # lineage edges: only those with both ends visible
    lineage = LineageService(world.api.store).list(principal)
    shown = {(e["upstream_id"], e["downstream_id"]) for e in lineage.items}
    want_edges = {
        (world.ids[up], world.ids[down])
        for up, down in world.edges
        if world.ids[up] in expected and world.ids[down] in expected
    }
    assert shown == want_edges
    assert lineage.count == len(want_edges)
    manual = _get(world, role, "/lineage/manual/", page_size=100).json()
    objects = {(o["from_entity"], o["to_entity"]) for o in manual["results"]}
    assert objects == want_edges | {(down, up) for up, down in want_edges}
    assert manual["count"] == 2 * len(want_edges)

    # lineage graphs and impact: hidden resources are never shown, walked through or counted
    for name in RESOURCES:
        _check_lineage(world, role, world.ids[name], expected)

    # the audit log names every resource: admins only
    audit = world.api.client.get("/notification/workspace", headers=world.headers[role])
    assert audit.status_code == (200 if role == "admin" else 403)


def _reachable(world: World, start: str, visible: set[str], *, downstream: bool) -> dict[str, int]:
    """Resources reachable from ``start`` through visible resources only, by fewest hops."""
    ends = [(world.ids[u], world.ids[d]) for u, d in world.edges]
    step = {(a if downstream else b, b if downstream else a) for a, b in ends}
    hops = {start: 0}
    frontier = {start}
    while frontier:
        depth = max(hops.values()) + 1
        frontier = {b for a, b in step if a in frontier and b in visible and b not in hops}
        hops.update(dict.fromkeys(frontier, depth))
    return hops


def _check_lineage(world: World, role: str, rid: str, visible: set[str]) -> None:
    graph = _get(world, role, f"/lineage/graph/{rid}", direction="both", depth=5)
    impact = _get(world, role, f"/lineage/impact/{rid}")
    if rid not in visible:
        assert (graph.status_code, impact.status_code) == (404, 404), (role, rid)
        return
    assert graph.status_code == impact.status_code == 200, (role, rid)
    body = graph.json()
    down = _reachable(world, rid, visible, downstream=True)
    up = _reachable(world, rid, visible, downstream=False)
    assert {n["id"]: n["depth"] for n in body["nodes"]} == {**{k: -v for k, v in up.items()}, **down}
    shown = {(e["upstream_id"], e["downstream_id"]) for e in body["edges"]}
    nodes = set(down) | set(up)
    assert shown == {(world.ids[u], world.ids[d]) for u, d in world.edges} & {
        (a, b) for a in nodes for b in nodes
    }
    assert all(n["parent"] is None or n["parent"] in visible for n in body["nodes"]), (role, rid)
    found = impact.json()
    assert {n["id"]: n["depth"] for n in found["impacted"]} == {k: v for k, v in down.items() if k != rid}
    assert found["count"] == sum(found["by_type"].values()) == len(down) - 1
    assert found["root"]["parent"] is None or found["root"]["parent"] in visible


@pytest.mark.parametrize("role", ["editor", "editor_in_a"])
def test_writers_cannot_touch_what_they_cannot_see(world: World, role: str) -> None:
    client = world.api.client
    headers = world.headers[role]
    for name in ("bbb-pub", "aaa-pub"):
        rid = world.ids[name]
        hidden = rid not in world.seen_by(role)
        patched = client.patch(f"/resource/all/{rid}", json={"description": "mine"}, headers=headers)
        assert patched.status_code == (404 if hidden else 200), (role, name)
        bulk = client.post(
            "/resource/all/bulk_update", json=[{"id": rid, "data": {"description": "mine"}}], headers=headers
        )
        assert bulk.status_code == (400 if hidden else 200), (role, name)
        assert client.post(f"/resource/all/{rid}/history/1/restore", headers=headers).status_code == (
            404 if hidden else 200
        )
        child = client.post(
            "/resource/catalog",
            json={"entity_type": "document", "title": "x", "parent": rid},
            headers=headers,
        )
        assert child.status_code == 400
        assert ("does not exist" in child.json()["detail"]) == hidden
    gone = client.post(f"/resource/all/{world.ids['aaa-gone']}/restore", headers=headers)
    assert gone.status_code == (404 if role == "editor" else 200)
    deleted = client.delete(f"/resource/all/{world.ids['bbb-pub']}", headers=headers)
    assert deleted.status_code == 404
    after = client.get(f"/resource/all/{world.ids['bbb-pub']}").json()
    assert after["description"] == "a needle in the matrix"
    assert not after["archived"]


def test_team_changes_take_effect_and_a_disabled_or_deleted_user_locks_the_key(world: World) -> None:
    client = world.api.client
    guest = world.headers["guest_b"]
    user = next(u for u in client.get("/user").json()["results"] if u["email"] == "guest_b@example.com")
    rid = world.ids["aaa-pub"]
    assert client.get(f"/resource/all/{rid}", headers=guest).status_code == 404
    client.patch(f"/user/{user['id']}", json={"teams": [world.teams["A"], world.teams["B"]]})
    assert client.get(f"/resource/all/{rid}", headers=guest).status_code == 200
    # opening team A shows its resources to every workspace member, not to other guests
    assert client.get(f"/resource/all/{rid}", headers=world.headers["viewer"]).status_code == 404
    client.patch(f"/auth/teams/{world.teams['A']}", json={"type": "OPEN"})
    assert client.get(f"/resource/all/{rid}", headers=world.headers["viewer"]).status_code == 200
    client.patch(f"/user/{user['id']}", json={"disabled": True})
    assert client.get("/resource/catalog", headers=guest).status_code == 401
    client.patch(f"/user/{user['id']}", json={"disabled": False})
    assert client.get("/resource/catalog", headers=guest).status_code == 200
    client.delete(f"/user/{user['id']}")
    assert client.get("/resource/catalog", headers=guest).status_code == 401


def test_a_key_of_a_user_acts_with_the_lesser_role(world: World) -> None:
    client = world.api.client
    client.post("/user", json={"email": "vic@example.com", "role": "viewer"})
    token = create_key(
        world.api.store, workspace_id=world.api.workspace.id, name="vic", role="admin", user="VIC@example.com"
    ).token
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/document", json={"title": "nope"}, headers=headers).status_code == 403
    assert client.get("/keys", headers=headers).status_code == 403
    assert client.get(f"/resource/all/{world.ids['gen-draft']}", headers=headers).status_code == 404
    listed = next(k for k in client.get("/keys").json() if k["name"] == "vic")
    assert listed["role"] == "admin"
    assert listed["user_id"] is not None


def test_too_many_teams_is_a_400_naming_the_parameter(api: Any) -> None:
    many = ",".join(f"00000000-0000-4000-8000-{i:012d}" for i in range(1001))
    response = api.client.get("/resource/catalog", params={"teams": many})
    assert response.status_code == 400
    assert "teams" in response.json()["fields"]


def test_guest_keys_need_a_user_and_the_keys_api_takes_one(api: Any) -> None:
    from cairn.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        create_key(api.store, workspace_id=api.workspace.id, name="g", role="guest")
    assert caught.value.field == "user"
    refused = api.client.post("/keys", json={"name": "g", "role": "guest"})
    assert refused.status_code == 400
    assert "user" in refused.json()["fields"]
    unknown = api.client.post("/keys", json={"name": "g", "user": "nobody@example.com"})
    assert unknown.status_code == 400
    assert "user" in unknown.json()["fields"]
    team = api.client.post("/auth/teams", json={"name": "T", "type": "CLOSED"}).json()["id"]
    api.client.post("/user", json={"email": "g@example.com", "role": "guest", "teams": [team]})
    made = api.client.post("/keys", json={"name": "g", "user": "g@example.com"})
    assert made.status_code == 201, made.text
    assert made.json()["role"] == "guest"
    KeyResolver.clear_all()
    guest = {"Authorization": f"Bearer {made.json()['token']}"}
    # a guest of a team with nothing in it sees nothing, not even the Default collection
    assert api.client.get("/resource/catalog", headers=guest).json()["count"] == 0
    assert api.client.get("/tag", headers=guest).json()["count"] == 0


def test_keys_are_stored_as_digests_and_compared_in_constant_time(api: Any, monkeypatch: Any) -> None:
    import hmac

    from sqlalchemy import select

    from cairn.core import keys as keys_module
    from cairn.store.schema import api_key

    created = create_key(api.store, workspace_id=api.workspace.id, name="probe", role="viewer")
    with api.store.read() as conn:
        row = conn.execute(select(api_key).where(api_key.c.id == created.id)).one()
    secret = created.token.removeprefix(keys_module.TOKEN_PREFIX)
    stored = " ".join(str(v) for v in row._mapping.values())
    assert created.token not in stored
    assert secret[6:12] not in stored  # beyond the display prefix, nothing of the token is kept
    assert row.prefix == created.token[: len(keys_module.TOKEN_PREFIX) + 6]
    listed = api.client.get("/keys").json()
    assert all("token" not in k and "key_hash" not in k for k in listed)

    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(keys_module.hmac, "compare_digest", spy)
    resolver = KeyResolver(api.store)
    assert resolver.resolve(created.token).role == "viewer"
    assert calls == [(row.key_hash, row.key_hash)]
    with pytest.raises(Exception, match="Invalid API key"):
        resolver.resolve(created.token[:-1] + ("A" if created.token[-1] != "A" else "B"))


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_lists_and_scans_show_each_resource_as_get_by_id_does(world: World, role: str) -> None:
    """The list and scan build entities from raw rows (the wire form); get by id from decoded
    ones: a resource under a parent the caller may not see is redacted the same on all three."""
    listed = {r["id"]: r for r in _get(world, role, "/resource/catalog", page_size=1000).json()["results"]}
    scanned = {r["id"]: r for r in _get(world, role, "/resource/scan").json()["results"]}
    assert scanned == listed
    for rid, entity in listed.items():
        assert _get(world, role, f"/resource/all/{rid}").json() == entity
    column = listed.get(world.ids["aaa-col"])
    if column is not None and world.ids["gen-pub"] not in listed:
        assert column["parent"] is None
        assert column["title_full"] == column["title"]


def test_a_hidden_ancestor_is_never_named_nor_found_through_its_descendants(api: Any) -> None:
    """A draft schema between a published database and a published table: a viewer sees the
    table and its column, but no path, breadcrumb or path filter gives the schema away."""
    client = api.client
    integration = make_integration(client)
    db = create(client, entity_type="database", title="warehouse", integration=integration, published=True)
    schema = create(client, entity_type="schema", title="secretschema", parent=db["id"], published=False)
    table = create(client, entity_type="table", title="orders", parent=schema["id"], published=True)
    column = create(client, entity_type="column", title="amount", parent=table["id"], published=True)
    assert column["title_full"] == "warehouse.secretschema.orders.amount"
    viewer = api.as_role("viewer")

    def viewer_get(path: str, **params: Any) -> Any:
        response = client.get(path, headers=viewer, params=params)
        assert response.status_code == 200, response.text
        assert "secretschema" not in response.text, (path, params)
        assert schema["id"] not in response.text, (path, params)
        return response.json()

    seen_table = viewer_get(f"/resource/all/{table['id']}")
    assert (seen_table["parent"], seen_table["title_full"]) == (None, "orders")
    seen_column = viewer_get(f"/resource/all/{column['id']}")
    assert (seen_column["parent"], seen_column["title_full"]) == (table["id"], "orders.amount")
    assert seen_column["search_metadata"].get("table") == "orders"
    assert "database" not in seen_column["search_metadata"]
    listed = viewer_get("/resource/catalog", page_size=100)
    assert {r["id"] for r in listed["results"]} >= {db["id"], table["id"], column["id"]}

    principal = KeyResolver(api.store).resolve(viewer["Authorization"].removeprefix("Bearer "))
    chain = ResourceService(api.store).ancestors(principal, column["id"])
    assert [(e["id"], e["title_full"], e["parent"]) for e in chain] == [(table["id"], "orders", None)]

    # a path filter never matches under the hidden schema, negated or not, so none can probe it
    path_filters = [
        {"operator": "contains", "field": "title_full", "value": "secretschema"},
        {"operator": "exact", "field": "schema", "value": "secretschema"},
        {"operator": "not", "operands": [{"operator": "contains", "field": "title_full", "value": "secret"}]},
    ]
    for path_filter in path_filters:
        found = viewer_get("/resource/catalog", filter=json.dumps(path_filter), page_size=100)
        assert not {r["id"] for r in found["results"]} & {table["id"], column["id"]}, path_filter
        assert found["count"] == len(found["results"])
    # the same filters find the children for whoever sees the schema
    admin_found = client.get("/resource/catalog", params={"filter": json.dumps(path_filters[0])}).json()
    assert {r["id"] for r in admin_found["results"]} == {schema["id"], table["id"], column["id"]}
    # resources outside the hidden subtree still match path filters
    visible_path = {"operator": "contains", "field": "title_full", "value": "warehouse"}
    assert {r["id"] for r in viewer_get("/resource/catalog", filter=json.dumps(visible_path))["results"]} == {
        db["id"]
    }


def test_a_too_deep_lineage_graph_is_a_400_naming_depth(api: Any) -> None:
    board = create(api.client, entity_type="dashboard", title="t", published=True)
    viewer = api.as_role("viewer")
    for depth in (0, 21, 10_000):
        response = api.client.get(f"/lineage/graph/{board['id']}", params={"depth": depth}, headers=viewer)
        assert response.status_code == 400, response.text
        assert "depth" in response.json()["fields"]


# A hierarchy for the path tests: name -> (type, parent, published, teams). The schemas are each
# hidden from some roles; tables and the column under them are visible to more.
TREE: dict[str, tuple[str, str | None, bool, tuple[str, ...]]] = {
    "whdb": ("database", None, True, ()),
    "zdraftzone": ("schema", "whdb", False, ()),
    "tblx": ("table", "zdraftzone", True, ("A", "O")),
    "teamzone": ("schema", "whdb", True, ("A",)),
    "tbly": ("table", "teamzone", True, ("A", "O", "B")),
    "coly": ("column", "tbly", True, ("A", "O", "B")),
}
TREE_VISIBLE: dict[str, set[str]] = {
    "admin": set(TREE),
    "editor": set(TREE) - {"teamzone"},
    "editor_in_a": set(TREE),
    "viewer": {"whdb", "tblx", "tbly", "coly"},
    "guest_a": {"teamzone", "tblx", "tbly", "coly"},
    "guest_b": {"tbly", "coly"},
}


def _ancestors(name: str) -> list[str]:
    found: list[str] = []
    parent = TREE[name][1]
    while parent is not None:
        found.append(parent)
        parent = TREE[parent][1]
    return found


def _under_hidden(role: str, name: str) -> bool:
    return any(a not in TREE_VISIBLE[role] for a in _ancestors(name))


@pytest.fixture
def tree_world(api: Any) -> World:
    world = World(api)
    make_teams(world)
    integration = make_integration(api.client)
    for name, (kind, parent, published, teams) in TREE.items():
        body: dict[str, Any] = {
            "entity_type": kind,
            "title": name,
            "published": published,
            "teams": [world.teams[t] for t in teams],
            "integration": integration,
        }
        if parent is not None:
            body["parent"] = world.ids[parent]
        world.ids[name] = create(api.client, **body)["id"]
    add_callers(world)
    return world


@pytest.mark.parametrize("role", sorted(TREE_VISIBLE))
def test_search_never_finds_a_resource_by_a_hidden_ancestors_name(tree_world: World, role: str) -> None:
    """A visible table under a schema the caller may not see is not found (nor counted) by the
    schema's name, which its stored path holds; whoever sees the whole path finds it by it."""
    visible = TREE_VISIBLE[role]
    hidden_names = set(TREE) - visible
    for name in TREE:
        response = tree_world.api.client.get("/search", headers=tree_world.headers[role], params={"q": name})
        assert response.status_code == 200, response.text
        body = response.json()
        expected = {r for r in visible if r == name or (name in _ancestors(r) and not _under_hidden(role, r))}
        if name in hidden_names:
            assert expected == set(), (role, name)
        found = {hit["resource"]["title"] for hit in body["results"]}
        if body["fuzzy"]:  # nothing matched as typed: a one-typo reading (tblx -> tbly) was searched
            assert expected == set(), (role, name)
        else:
            assert found == expected, (role, name)
            assert body["count"] == len(expected), (role, name)
            facet_total = sum(f["count"] for f in body["facets"]["entity_type"])
            assert facet_total == len(expected), (role, name)
        shown = json.dumps([body["results"], body["facets"]])
        for hidden in hidden_names:
            for form in (f'"{hidden}"', f".{hidden}", f"{hidden}."):
                assert form not in shown, (role, name, hidden)
            assert tree_world.ids[hidden] not in shown, (role, name, hidden)
    # a schema filter never finds what sits under a hidden schema of that name
    for schema, words in (("teamzone", ("tbly", "coly")), ("zdraftzone", ("tblx",))):
        for q in words:
            params = {"q": q, "schema": schema}
            body = tree_world.api.client.get(
                "/search", headers=tree_world.headers[role], params=params
            ).json()
            expected = {
                r
                for r in visible
                if (r == q or q in _ancestors(r)) and schema in _ancestors(r) and not _under_hidden(role, r)
            }
            assert {h["resource"]["title"] for h in body["results"]} == expected, (role, q, schema)
            assert body["count"] == len(expected), (role, q, schema)


@pytest.mark.parametrize("role", sorted(TREE_VISIBLE))
def test_sorting_by_path_never_orders_by_a_hidden_ancestors_name(tree_world: World, role: str) -> None:
    """By title_full, a resource under a hidden ancestor sorts by its own title (what it shows
    in place of a path reaching up to that ancestor), not by the ancestor's name."""
    for path_field in ("title_full", "schema"):
        params = {
            "filter": json.dumps({"operator": "in", "field": "type", "value": ["table", "column"]}),
            "sort": json.dumps({"field": path_field, "order": "asc"}),
            "page_size": 100,
        }
        response = tree_world.api.client.get(
            "/resource/catalog", headers=tree_world.headers[role], params=params
        )
        assert response.status_code == 200, response.text
        for hidden in set(TREE) - TREE_VISIBLE[role]:
            assert hidden not in response.text, (role, hidden)
            assert tree_world.ids[hidden] not in response.text, (role, hidden)
        listed = [r["title"] for r in response.json()["results"]]
        in_tree = [n for n in TREE if TREE[n][0] in ("table", "column") and n in TREE_VISIBLE[role]]

        def key(name: str, path_field: str = path_field) -> tuple[str, str]:
            if path_field == "title_full":
                full = ".".join([*reversed(_ancestors(name)), name])
                return (name if _under_hidden(role, name) else full, tree_world.ids[name])
            schema = next(a for a in _ancestors(name) if TREE[a][0] == "schema")
            return ("" if _under_hidden(role, name) else schema, tree_world.ids[name])

        assert listed == sorted(in_tree, key=key), (role, path_field)
