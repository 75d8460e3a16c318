"""Label tags, users, teams and groups on the Secoda face (both backends)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.helpers import create, warehouse


def test_tag_lifecycle_and_resources_reference_tags_by_id(api):
    made = api.client.post("/tag/tags", json={"name": "gold", "description": "Curated", "color": "#4299E1"})
    assert made.status_code == 201, made.text
    tag = made.json()
    assert set(tag) == {
        "id",
        "name",
        "description",
        "color",
        "integration_id",
        "workspace_id",
        "created_at",
        "updated_at",
    }
    assert (tag["name"], tag["color"], tag["integration_id"]) == ("gold", "#4299E1", None)
    assert tag["workspace_id"] == api.workspace.id
    # every spelling of the path reaches the same route, and /tag/tags is not a legacy collection
    for path in ("/tag/tags", "/tag/tags/", "/api/v1/tag/tags", "/api/v1/tag/tags/"):
        body = api.client.get(path).json()
        assert [t["name"] for t in body["results"]] == ["gold"], path
    assert api.client.get(f"/api/v1/tag/tags/{tag['id']}/").json()["id"] == tag["id"]

    doc = create(api.client, "/document", title="Runbook", tags=[tag["id"]])
    assert doc["tags"] == [tag["id"]]
    bad = api.client.post("/document", json={"title": "x", "tags": ["no-such-tag"]})
    assert bad.status_code == 400
    assert bad.json()["fields"] == {"tags": ["tag no-such-tag does not exist"]}
    patch = api.client.patch(
        f"/resource/all/{doc['id']}", json={"tags": [tag["id"], "4b0c0000-0000-4000-8000-000000000000"]}
    )
    assert patch.status_code == 400
    assert api.client.get(f"/resource/all/{doc['id']}").json()["tags"] == [tag["id"]]

    renamed = api.client.patch(f"/tag/tags/{tag['id']}", json={"name": "platinum"})
    assert (renamed.status_code, renamed.json()["name"], renamed.json()["color"]) == (
        200,
        "platinum",
        "#4299E1",
    )
    put = api.client.put(f"/tag/tags/{tag['id']}", json={"color": "#000000"})
    assert put.json()["color"] == "#000000"
    assert api.client.delete(f"/tag/tags/{tag['id']}").status_code == 204
    assert api.client.get(f"/tag/tags/{tag['id']}").status_code == 404
    assert api.client.get(f"/resource/all/{doc['id']}").json()["tags"] == []


def test_tag_bad_input_names_the_field(api):
    assert api.client.post("/tag/tags", json={"description": "no name"}).json()["fields"] == {
        "name": ["name is required"]
    }
    api.client.post("/tag/tags", json={"name": "dup"})
    dup = api.client.post("/tag/tags", json={"name": "dup"})
    assert (dup.status_code, dup.json()["fields"]) == (400, {"name": ["a tag named 'dup' already exists"]})
    assert api.client.post("/tag/tags", json={"name": "x", "color": "#" * 40}).status_code == 400
    assert api.client.get("/tag/tags/not-a-uuid").status_code == 404
    assert (
        api.client.patch("/tag/tags/00000000-0000-4000-8000-000000000000", json={"name": "a"}).status_code
        == 404
    )
    viewer = api.as_role("viewer")
    assert api.client.post("/tag/tags", json={"name": "v"}, headers=viewer).status_code == 403
    assert [t["name"] for t in api.client.get("/tag/tags").json()["results"]] == ["dup"]


def test_parallel_tag_creates_with_one_name_make_one_tag(api):
    def make(_: int) -> int:
        return api.client.post("/tag/tags", json={"name": "race"}).status_code

    with ThreadPoolExecutor(4) as pool:
        codes = sorted(pool.map(make, range(8)))
    assert codes == [201] + [400] * 7
    assert api.client.get("/tag/tags").json()["count"] == 1


def test_users_create_list_patch_delete(api):
    team = api.client.post("/auth/teams", json={"name": "Data", "description": "d"}).json()
    group = api.client.post("/auth/group", json={"name": "Analysts", "description": "a", "icon": "💼"}).json()
    made = api.client.post(
        "/user/",
        json={
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "role": "Editor",
            "teams": [team["id"]],
            "user_groups": [group["id"]],
        },
    )
    assert made.status_code == 201, made.text
    user = made.json()
    assert (user["role"], user["email"], user["teams"], user["user_groups"]) == (
        "editor",
        "ada@example.com",
        [team["id"]],
        [group["id"]],
    )
    assert user["pending"] is True
    assert user["workspace_id"] == api.workspace.id
    assert api.client.get(f"/auth/teams/{team['id']}").json()["members"] == [user["id"]]
    assert api.client.get(f"/auth/group/{group['id']}").json()["users"] == [user["id"]]

    listed = api.client.get("/api/v1/user").json()
    assert [u["email"] for u in listed["results"]] == ["ada@example.com"]
    patched = api.client.patch(f"/user/{user['id']}", json={"role": "VIEWER", "user_groups": []})
    assert (patched.json()["role"], patched.json()["user_groups"]) == ("viewer", [])
    assert api.client.get(f"/auth/group/{group['id']}").json()["users"] == []

    doc = create(api.client, "/document", title="Runbook", owners=[user["id"], "someone-else"])
    assert api.client.delete(f"/user/{user['id']}").status_code == 204
    assert api.client.get(f"/user/{user['id']}").status_code == 404
    assert api.client.get(f"/resource/all/{doc['id']}").json()["owners"] == ["someone-else"]
    assert api.client.get(f"/auth/teams/{team['id']}").json()["members"] == []


def test_user_bad_input(api):
    def fields(body: dict) -> dict:
        response = api.client.post("/user", json=body)
        assert response.status_code == 400, response.text
        return response.json()["fields"]

    assert fields({"first_name": "x"}) == {"email": ["email is required"]}
    assert "email" in fields({"email": "not-an-email"})
    assert "role" in fields({"email": "a@b.co", "role": "overlord"})
    assert fields({"email": "g@b.co", "role": "guest"}) == {
        "teams": ["a Guest must be given at least one team"]
    }
    assert "teams" in fields({"email": "t@b.co", "teams": ["00000000-0000-4000-8000-000000000000"]})
    api.client.post("/user", json={"email": "Same@B.co"})
    assert fields({"email": "same@b.co"}) == {"email": ["a user with email same@b.co already exists"]}
    # the older {emails: [...]} body: all or nothing
    assert "email" in fields({"emails": ["new@b.co", "SAME@b.co"]})
    assert api.client.get("/user").json()["count"] == 1
    invited = api.client.post("/user", json={"emails": ["x@b.co", "y@b.co"], "role": "editor"})
    assert invited.status_code == 201
    assert invited.json()["msg"] == "Invitation sent to x@b.co, y@b.co"
    assert [u["role"] for u in invited.json()["results"]] == ["editor", "editor"]
    assert (
        api.client.post("/user", json={"email": "e@b.co"}, headers=api.as_role("editor")).status_code == 403
    )


def test_teams_default_team_and_delete_moves_resources(api):
    teams = api.client.get("/auth/teams/").json()
    assert [(t["name"], t["is_default_team"], t["type"]) for t in teams["results"]] == [
        ("General", True, "OPEN")
    ]
    general = teams["results"][0]
    assert general["sidebar_settings"]["catalog"] is True
    assert general["onboarding_complete"] is True
    sales = api.client.post("/auth/teams", json={"name": "Sales", "type": "CLOSED"}).json()
    other = api.client.post("/auth/teams", json={"name": "Other"}).json()
    assert (sales["type"], other["type"]) == ("CLOSED", "OPEN")
    only_sales = create(api.client, "/document", title="Only sales", teams=[sales["id"]])
    shared = create(api.client, "/document", title="Shared", teams=[sales["id"], other["id"]])

    assert api.client.delete(f"/auth/teams/{general['id']}").status_code == 400
    assert api.client.delete(f"/auth/teams/{sales['id']}").status_code == 204
    assert api.client.get(f"/resource/all/{only_sales['id']}").json()["teams"] == [general["id"]]
    assert api.client.get(f"/resource/all/{shared['id']}").json()["teams"] == [other["id"]]

    archived = api.client.patch(f"/auth/teams/{other['id']}", json={"archived": True, "name": "Old"})
    assert (archived.json()["archived"], archived.json()["name"]) == (True, "Old")
    assert [t["name"] for t in api.client.get("/auth/teams").json()["results"]] == ["General"]
    with_archived = api.client.get("/auth/teams", params={"include_archived": "true"}).json()
    assert [t["name"] for t in with_archived["results"]] == ["General", "Old"]
    assert api.client.post("/auth/teams", json={"name": "x", "type": "SECRET"}).status_code == 400
    assert api.client.post("/auth/teams", json={"description": "no name"}).status_code == 400
    assert (
        api.client.post("/auth/teams", json={"name": "E"}, headers=api.as_role("editor")).status_code == 403
    )


def test_groups_lifecycle(api):
    user = api.client.post("/user", json={"email": "u@b.co"}).json()
    group = api.client.post("/auth/group/", json={"name": "Eng", "users": [user["id"]]})
    assert group.status_code == 201
    gid = group.json()["id"]
    assert api.client.get(f"/user/{user['id']}").json()["user_groups"] == [gid]
    doc = create(api.client, "/document", title="d", owners_groups=[gid])
    assert (
        api.client.patch(f"/auth/group/{gid}", json={"name": "Engineering"}).json()["name"] == "Engineering"
    )
    bad = api.client.patch(f"/auth/group/{gid}", json={"users": ["nobody"]})
    assert (bad.status_code, bad.json()["fields"]) == (400, {"users": ["user nobody does not exist"]})
    assert api.client.get(f"/auth/group/{gid}").json()["users"] == [user["id"]]
    assert api.client.delete(f"/auth/group/{gid}").status_code == 204
    assert api.client.get(f"/resource/all/{doc['id']}").json()["owners_groups"] == []
    assert api.client.get("/auth/group").json()["results"] == []


def test_audit_log_records_writes_from_every_path_for_admins_only(api):
    tree = warehouse(api.client, columns=1)
    tag = api.client.post("/tag/tags", json={"name": "t"}).json()
    api.client.patch(f"/resource/all/{tree['table']['id']}", json={"tags": [tag["id"]]})
    api.client.post("/tag/", json={"name": "Legacy collection"})
    api.client.delete(f"/resource/all/{tree['columns'][0]['id']}")
    log = api.client.get("/notification/workspace/", params={"page_size": 100})
    assert log.status_code == 200, log.text
    body = log.json()
    events = [(e["event"], e["resource_type"]) for e in body["results"]]
    assert events[:5] == [
        ("deleted", "column"),
        ("created", "collection"),
        ("updated", "table"),
        ("created", "tag"),
        ("created", "column"),
    ]
    assert ("created", "integration") in events
    first = body["results"][0]
    assert first["resource_id"] == tree["columns"][0]["id"]
    assert first["performer"]["name"] == "test-admin"
    assert first["created_at"].endswith("Z")
    assert body["count"] == len(body["results"])
    assert body["next"] is None
    assert body["previous"] is None
    assert api.client.get("/notification/workspace", headers=api.as_role("editor")).status_code == 403
    assert api.client.get("/notification/workspace", params={"days": 91}).status_code == 400
