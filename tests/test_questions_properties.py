"""Custom properties, questions and replies, event categories and properties (both backends)."""

from __future__ import annotations

from tests.helpers import catalog, create, warehouse

CP = "/resource/all_v2/custom_properties"


def test_custom_property_lifecycle_and_values_show_on_entities(api):
    tree = warehouse(api.client, columns=0)
    table_id = tree["table"]["id"]
    made = api.client.post(
        CP + "/", json={"name": "Owner team", "entity_types": ["table"], "value_type": "string"}
    )
    assert made.status_code == 200, made.text
    prop = made.json()
    assert (prop["name"], prop["entity_types"], prop["value_type"], prop["integration"]) == (
        "Owner team",
        ["table"],
        "string",
        None,
    )
    listed = api.client.get(CP)
    assert listed.status_code == 200
    assert [p["id"] for p in listed.json()] == [prop["id"]]  # a bare array, not an envelope

    put = api.client.put(f"{CP}/{prop['id']}/{table_id}", json={"value": "growth"})
    assert (put.status_code, put.content) == (204, b"")
    entity = api.client.get(f"/resource/all/{table_id}").json()
    assert [(c["name"], c["value"], c["type"]) for c in entity["properties"]["custom"]] == [
        ("Owner team", "growth", "string")
    ]
    row = catalog(api.client, filter={"operator": "exact", "field": "id", "value": table_id}).json()[
        "results"
    ][0]
    assert row["properties"]["custom"][0]["value"] == "growth"

    patched = api.client.patch(f"{CP}/{prop['id']}/{table_id}/", json={"value": "finance"})
    assert patched.json() == {
        "id": prop["id"],
        "name": "Owner team",
        "value": "finance",
        "type": "string",
        "entity_id": table_id,
    }
    # the schema applies to tables only
    wrong = api.client.put(f"{CP}/{prop['id']}/{tree['schema']['id']}", json={"value": "x"})
    assert (wrong.status_code, list(wrong.json()["fields"])) == (400, ["entity_id"])
    assert api.client.put(f"{CP}/{prop['id']}/{table_id}", json={"value": 7}).status_code == 400
    assert (
        api.client.put(
            f"{CP}/{prop['id']}/00000000-0000-4000-8000-00000000abcd", json={"value": "x"}
        ).status_code
        == 404
    )

    renamed = api.client.patch(f"{CP}/{prop['id']}", json={"name": "Team"})
    assert renamed.json()["name"] == "Team"
    assert api.client.put(f"{CP}/{prop['id']}", json={"entity_types": "all"}).json()["entity_types"] == [
        "all"
    ]
    cleared = api.client.put(f"{CP}/{prop['id']}/{table_id}", json={"value": None})
    assert cleared.status_code == 204
    assert api.client.get(f"/resource/all/{table_id}").json()["properties"]["custom"] == []
    api.client.put(f"{CP}/{prop['id']}/{table_id}", json={"value": "again"})
    assert api.client.delete(f"{CP}/{prop['id']}").status_code == 204
    assert api.client.get(f"{CP}/{prop['id']}").status_code == 404
    assert api.client.get(f"/resource/all/{table_id}").json()["properties"]["custom"] == []


def test_custom_property_bad_input(api):
    def fields(body: dict) -> list[str]:
        response = api.client.post(CP, json=body)
        assert response.status_code == 400, response.text
        return list(response.json()["fields"])

    assert fields({"value_type": "string"}) == ["name"]
    assert fields({"name": "x"}) == ["value_type"]
    assert fields({"name": "x", "value_type": "colour"}) == ["value_type"]
    assert fields({"name": "x", "value_type": "string", "entity_types": ["spaceship"]}) == ["entity_types[0]"]
    api.client.post(CP, json={"name": "n", "value_type": "number"})
    assert fields({"name": "n", "value_type": "string"}) == ["name"]
    assert len(api.client.get(CP).json()) == 1
    doc = create(api.client, "/document", title="d")
    prop = api.client.get(CP).json()[0]
    assert api.client.put(f"{CP}/{prop['id']}/{doc['id']}", json={"value": "12.5"}).status_code == 204
    values = api.client.get(f"/resource/all/{doc['id']}").json()["properties"]["custom"]
    assert values[0]["value"] == 12.5
    # a type change that stored values do not fit is refused
    changed = api.client.patch(f"{CP}/{prop['id']}", json={"value_type": "boolean"})
    assert (changed.status_code, list(changed.json()["fields"])) == (400, ["value_type"])


def test_questions_replies_and_accepted_answer(api):
    asker = api.client.post("/user", json={"email": "ask@b.co", "first_name": "Ask"}).json()
    made = api.client.post(
        "/question/questions/",
        json={
            "title": "Where is revenue?",
            "description": "Which table",
            "entity_type": "glossary",
            "assigned_to": asker["id"],
            "priority": "high",
        },
    )
    assert made.status_code == 201, made.text
    question = made.json()
    assert (question["entity_type"], question["status"], question["priority"], question["assigned_to"]) == (
        "question",
        "OPEN",
        "HIGH",
        asker["id"],
    )
    assert question["question_status"] == "OPEN"
    qid = question["id"]
    first = api.client.post("/question/replies/", json={"definition": "Try fct_orders", "parent": qid})
    assert first.status_code == 201, first.text
    second = api.client.post(
        "/question/replies/",
        json={"definition": "fct_revenue", "parent": qid, "accepted_answer": True, "owners": [asker["id"]]},
    ).json()
    assert (second["accepted_answer"], second["question"], second["title"]) == (
        True,
        qid,
        "Re: Where is revenue?",
    )
    answered = api.client.get(f"/question/questions/{qid}").json()
    assert (answered["status"], answered["answer"], answered["answered_by"]) == (
        "RESOLVED",
        second["id"],
        asker["id"],
    )
    row = catalog(api.client, filter={"operator": "exact", "field": "type", "value": "question"}).json()[
        "results"
    ][0]
    assert (row["question_status"], row["question_answered_by"], row["question_priority"]) == (
        "RESOLVED",
        asker["id"],
        "HIGH",
    )

    # accepting another reply moves the answer
    api.client.patch(f"/question/replies/{first.json()['id']}", json={"accepted_answer": True})
    replies = api.client.get("/question/replies", params={"question": qid}).json()["results"]
    assert [(r["id"], r["accepted_answer"]) for r in replies] == [
        (first.json()["id"], True),
        (second["id"], False),
    ]
    assert api.client.get("/question/replies", params={"parent": qid}).json()["count"] == 2
    assert api.client.get(f"/question/questions/{qid}").json()["answer"] == first.json()["id"]
    assert api.client.delete(f"/question/replies/{first.json()['id']}").status_code == 204
    reopened = api.client.get(f"/question/questions/{qid}").json()
    assert (reopened["status"], reopened["answer"]) == ("OPEN", None)

    patched = api.client.patch(f"/question/questions/{qid}", json={"status": "closed", "title": "Revenue?"})
    assert (patched.json()["status"], patched.json()["title"]) == ("CLOSED", "Revenue?")
    listing = api.client.get("/question/questions").json()
    assert [q["id"] for q in listing["results"]] == [qid]
    assert listing["meta"]["next_page"] is None
    assert api.client.delete(f"/question/questions/{qid}").status_code == 204
    assert api.client.get(f"/question/replies/{second['id']}").status_code == 404


def test_question_bad_input(api):
    assert (
        api.client.post("/question/questions", json={"title": "q", "status": "pondering"}).status_code == 400
    )
    assert (
        api.client.post("/question/questions", json={"title": "q", "assigned_to": "nobody"}).status_code
        == 400
    )
    assert api.client.post("/question/questions", json={"description": "no title"}).status_code == 400
    assert api.client.get("/question/questions").json()["count"] == 0
    doc = create(api.client, "/document", title="d")
    bad_parent = api.client.post("/question/replies", json={"definition": "x", "parent": doc["id"]})
    assert (bad_parent.status_code, list(bad_parent.json()["fields"])) == (400, ["parent"])
    assert api.client.post("/question/replies", json={"definition": "x"}).status_code == 400
    assert api.client.post("/question/replies", json=["not", "an", "object"]).status_code == 400
    assert api.client.get("/question/replies").json()["count"] == 0


def test_event_categories_and_properties(api):
    category = api.client.post(
        "/event/category", json={"title": "Checkout", "integration": None, "teams": []}
    )
    assert category.status_code == 201, category.text
    cid = category.json()["id"]
    assert category.json()["entity_type"] == "category"
    event = create(api.client, "/event/events", title="order_placed", parent=cid, entity_type="glossary")
    assert event["entity_type"] == "event"
    prop = api.client.post(
        "/event/property",
        json={
            "type": "string",
            "enum": "card, cash",
            "is_required": True,
            "title": "payment_method",
            "description": "How they paid",
            "entity_type": "",
            "parent": event["id"],
        },
    )
    assert prop.status_code == 201, prop.text
    body = prop.json()
    assert (
        body["entity_type"],
        body["type"],
        body["enum_values"],
        body["is_required"],
        body["is_array_type"],
    ) == (
        "event_property",
        "string",
        ["card", "cash"],
        True,
        False,
    )
    assert body["title_full"] == "Checkout.order_placed.payment_method"
    listed = api.client.get("/event/event_properties/").json()
    assert [p["title"] for p in listed["results"]] == ["payment_method"]
    assert listed["results"][0]["type"] == "string"
    patched = api.client.patch(
        f"/event/event_properties/{body['id']}", json={"is_required": False, "type": "enum"}
    )
    assert (patched.json()["is_required"], patched.json()["type"]) == (False, "enum")
    assert [c["id"] for c in api.client.get("/event/category/").json()["results"]] == [cid]
    assert api.client.get(f"/event/category/{cid}").json()["title"] == "Checkout"
    # pysecoda's get_event_property_by_id asks /event/category/{id}: answered with the property
    assert api.client.get(f"/event/category/{body['id']}").json()["type"] == "enum"
    assert api.client.get(f"/event/category/{event['id']}").status_code == 404
    assert api.client.post("/event/property", json={"title": "x", "is_required": "maybe"}).status_code == 400
    assert api.client.delete(f"/event/event_properties/{body['id']}").status_code == 204
    assert api.client.get(f"/event/event_properties/{body['id']}").status_code == 404
