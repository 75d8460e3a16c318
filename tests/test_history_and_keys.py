"""History and restore, optimistic concurrency, and the admin keys API (both backends)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.helpers import create, warehouse


def test_every_change_is_a_version_and_restore_brings_back_every_field(api):
    doc = create(api.client, "/document", title="Runbook", description="v1", owners=["ann"])
    rid = doc["id"]
    api.client.patch(f"/resource/all/{rid}", json={"description": "v2", "owners": ["bob"], "pii": True})
    t1 = api.client.post("/tag/tags", json={"name": "t1"}).json()["id"]
    api.client.patch(f"/resource/all/{rid}", json={"title": "Runbook 2", "tags": [t1]})

    history = api.client.get(f"/resource/all/{rid}/history").json()
    assert history["count"] == 3
    newest, middle, first = history["results"]
    assert [v["version"] for v in history["results"]] == [3, 2, 1]
    assert first["event"] == "created"
    assert middle["changes"]["description"] == {"old": "v1", "new": "v2"}
    assert middle["changes"]["owners"] == {"old": ["ann"], "new": ["bob"]}
    assert set(middle["changes"]) == {"description", "owners", "pii"}
    assert newest["actor"]["name"] == "test-admin"

    restored = api.client.post(f"/resource/all/{rid}/history/1/restore")
    assert restored.status_code == 200
    body = restored.json()
    assert (body["title"], body["description"], body["owners"], body["pii"], body["tags"]) == (
        "Runbook",
        "v1",
        ["ann"],
        False,
        [],
    )
    after = api.client.get(f"/resource/all/{rid}/history").json()
    assert after["count"] == 4
    assert after["results"][0]["event"] == "restored"
    assert api.client.post(f"/resource/all/{rid}/history/99/restore").status_code == 404


def test_restore_of_a_title_rebuilds_the_subtree(api):
    tree = warehouse(api.client, columns=1)
    table_id = tree["table"]["id"]
    api.client.patch(f"/resource/all/{table_id}", json={"title": "renamed"})
    api.client.post(f"/resource/all/{table_id}/history/1/restore")
    column = api.client.get(f"/resource/all/{tree['columns'][0]['id']}").json()
    assert column["title_full"] == "analytics.public.dim_customer.col_0"


def test_viewers_cannot_restore_and_history_follows_visibility(api):
    doc = create(api.client, "/document", title="Draft")
    viewer = api.as_role("viewer")
    assert api.client.get(f"/resource/all/{doc['id']}/history", headers=viewer).status_code == 404
    api.client.patch(f"/resource/all/{doc['id']}", json={"published": True})
    assert api.client.get(f"/resource/all/{doc['id']}/history", headers=viewer).status_code == 200
    assert api.client.post(f"/resource/all/{doc['id']}/history/1/restore", headers=viewer).status_code == 403


def test_if_match_gives_optimistic_concurrency(api):
    doc = create(api.client, "/document", title="Doc")
    first = api.client.get(f"/resource/all/{doc['id']}")
    etag = first.headers["etag"]
    ok = api.client.patch(
        f"/resource/all/{doc['id']}", json={"description": "mine"}, headers={"If-Match": etag}
    )
    assert ok.status_code == 200
    assert ok.headers["etag"] != etag
    stale = api.client.patch(
        f"/resource/all/{doc['id']}", json={"description": "theirs"}, headers={"If-Match": etag}
    )
    assert stale.status_code == 412
    assert "If-Match" in stale.json()["detail"]
    assert api.client.get(f"/resource/all/{doc['id']}").json()["description"] == "mine"
    # clients that send no If-Match keep working
    assert api.client.patch(f"/resource/all/{doc['id']}", json={"description": "any"}).status_code == 200


def test_parallel_patches_of_different_fields_lose_nothing(api):
    doc = create(api.client, "/document", title="Doc")
    fields = [("description", "d"), ("icon", "i"), ("url", "u"), ("native_type", "n"), ("definition", "x")]

    def patch(item: tuple[str, str]) -> int:
        name, value = item
        return api.client.patch(f"/resource/all/{doc['id']}", json={name: value}).status_code

    with ThreadPoolExecutor(max_workers=5) as pool:
        assert set(pool.map(patch, fields)) == {200}
    final = api.client.get(f"/resource/all/{doc['id']}").json()
    for name, value in fields:
        assert final[name] == value
    assert api.client.get(f"/resource/all/{doc['id']}/history").json()["count"] == 6


def test_admins_manage_keys_and_tokens_are_shown_once(api):
    created = api.client.post("/keys", json={"name": "ci", "role": "editor"})
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith("cairn_")
    assert body["prefix"] == body["token"][: len(body["prefix"])]
    listed = api.client.get("/keys").json()
    assert all("token" not in k for k in listed)
    assert {k["name"] for k in listed} >= {"ci", "test-admin"}
    editor = {"Authorization": f"Bearer {body['token']}"}
    assert api.client.get("/resource/catalog", headers=editor).status_code == 200
    assert api.client.get("/keys", headers=editor).status_code == 403
    used = next(k for k in api.client.get("/keys").json() if k["id"] == body["id"])
    assert used["last_used_at"] is not None
    assert api.client.delete(f"/keys/{body['id']}").status_code == 204
    from cairn.core.keys import KeyResolver

    KeyResolver.clear_all()
    assert api.client.get("/resource/catalog", headers=editor).status_code == 401
    assert api.client.delete(f"/keys/{body['id']}").status_code == 404
    assert api.client.delete("/keys/not-a-uuid").status_code == 404


def test_expired_keys_are_refused(api):
    past = api.client.post(
        "/keys", json={"name": "old", "role": "viewer", "expires_at": "2000-01-01T00:00:00Z"}
    )
    token = past.json()["token"]
    response = api.client.get("/resource/catalog", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
