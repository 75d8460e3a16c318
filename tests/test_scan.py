"""``GET /resource/scan``: keyset pages in creation order, the same visibility as the catalog list."""

from __future__ import annotations

import json


def _create(api, **fields):
    response = api.client.post("/resource/catalog", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


def test_scan_walks_everything_once_in_creation_order(api):
    made = [_create(api, title=f"doc {i}", entity_type="document", published=True) for i in range(7)]
    seen, after, pages = [], None, 0
    documents = json.dumps({"operator": "exact", "field": "entity_type", "value": "document"})
    while True:
        params = {"page_size": 3, "filter": documents, **({"after": after} if after else {})}
        response = api.client.get("/resource/scan", params=params)
        assert response.status_code == 200
        body = response.json()
        seen += [r["id"] for r in body["results"]]
        pages += 1
        assert response.headers.get("cairn-next-after") == body["next"]
        if body["next"] is None:
            break
        after = body["next"]
    assert seen == [r["id"] for r in made]
    assert pages == 3


def test_scan_applies_the_filter_and_hides_what_lists_hide(api):
    _create(api, title="published table", entity_type="document", published=True)
    draft = _create(api, title="draft", entity_type="document", published=False)
    gone = _create(api, title="deleted", entity_type="document", published=True)
    assert api.client.delete(f"/resource/all/{gone['id']}").status_code == 204
    flt = json.dumps({"operator": "contains", "field": "title", "value": "table"})
    assert [
        r["title"] for r in api.client.get("/resource/scan", params={"filter": flt}).json()["results"]
    ] == ["published table"]
    viewer = api.as_role("viewer")
    titles = [r["title"] for r in api.client.get("/resource/scan", headers=viewer).json()["results"]]
    assert draft["title"] not in titles
    assert gone["title"] not in titles
    # A position may be a resource hidden since: the walk resumes after it.
    assert api.client.get("/resource/scan", params={"after": gone["id"]}).status_code == 200


def test_scan_refuses_bad_input_with_the_field(api):
    response = api.client.get("/resource/scan", params={"after": "no-such-id"})
    assert response.status_code == 400
    assert "after" in response.json()["detail"]
    assert api.client.get("/resource/scan", params={"page_size": 0}).status_code == 400
    assert api.client.get("/resource/scan", params={"page_size": 1001}).status_code == 400
    bad = api.client.get("/resource/scan", params={"filter": '{"operator": "near"}'})
    assert bad.status_code == 400
    assert "operator" in bad.json()["detail"]
