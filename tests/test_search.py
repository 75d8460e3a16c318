"""Search: tokenization, ranking tiers, typos, visibility, filters and facets, index consistency
with every write path, and input errors. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest

from cairn.core.exchange import Importer
from cairn.core.principal import Principal
from cairn.core.resources import ResourceService
from cairn.core.search import SearchService, highlights, one_edit_variants, query_words
from cairn.models.common import utc_now
from cairn.models.search import SearchQuery
from cairn.store import Store
from cairn.store.search import Term
from tests.helpers import create, make_integration


def search(api: Any, q: str, headers: dict[str, str] | None = None, **params: Any) -> dict[str, Any]:
    response = api.client.get("/search", params={"q": q, **params}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def titles(body: dict[str, Any]) -> list[str]:
    return [hit["resource"]["title"] for hit in body["results"]]


@pytest.fixture
def schema(api: Any) -> dict[str, Any]:
    integration = make_integration(api.client, "snowflake")
    db = create(
        api.client, entity_type="database", title="analytics", integration=integration, published=True
    )
    made = create(api.client, entity_type="schema", title="marts", parent=db["id"], published=True)
    made["integration"] = integration
    return made


def table(api: Any, schema: dict[str, Any], title: str, **extra: Any) -> dict[str, Any]:
    return create(api.client, entity_type="table", title=title, parent=schema["id"], published=True, **extra)


def test_snake_camel_and_dotted_names_all_match_a_word(api, schema):
    for title in ("dim_customer", "dimCustomer", "CUSTOMER_ORDERS", "orders"):
        table(api, schema, title)
    body = search(api, "customer")
    assert sorted(titles(body)) == ["CUSTOMER_ORDERS", "dimCustomer", "dim_customer"]
    assert sorted(titles(search(api, "analytics.dim_customer"))) == ["dimCustomer", "dim_customer"]
    assert sorted(titles(search(api, "dimCustomer"))) == ["dimCustomer", "dim_customer"]
    assert titles(search(api, "marts.orders")) == ["orders", "CUSTOMER_ORDERS"]


def test_ranking_tiers_then_boosts(api, schema):
    table(api, schema, "customer_lifetime_value", external_usage=10)
    table(api, schema, "dim_customer", external_usage=5000)
    table(api, schema, "orders", description="One row per customer order")
    table(api, schema, "customer")
    create(
        api.client,
        entity_type="glossary",
        title="Revenue",
        definition="Money a customer paid",
        published=True,
    )
    body = search(api, "customer")
    tiers = [(hit["resource"]["title"], hit["tier"]) for hit in body["results"]]
    assert tiers == [
        ("customer", "exact_title"),
        ("customer_lifetime_value", "title_prefix"),
        ("dim_customer", "title_phrase"),
        ("orders", "title_full_or_description"),
        ("Revenue", "definition_or_column"),
    ]
    scores = [hit["score"] for hit in body["results"]]
    assert scores == sorted(scores, reverse=True)


def test_popularity_verified_and_documentation_order_one_tier(api, schema):
    table(api, schema, "fct_orders_a")
    table(api, schema, "fct_orders_b", external_usage=50)
    table(api, schema, "fct_orders_c", internal_usage=20_000, external_usage=30_000)
    table(api, schema, "fct_orders_d", verified=True, description="Documented")
    assert titles(search(api, "orders")) == ["fct_orders_c", "fct_orders_d", "fct_orders_b", "fct_orders_a"]


def test_phrase_beats_scattered_words_and_columns_rank_last(api, schema):
    monthly = table(api, schema, "monthly_revenue_by_region")
    table(api, schema, "revenue_monthly")
    create(api.client, entity_type="column", title="monthly_revenue", parent=monthly["id"], published=True)
    body = search(api, "monthly revenue")
    assert [(h["resource"]["title"], h["tier"]) for h in body["results"]] == [
        ("monthly_revenue_by_region", "title_prefix"),
        ("revenue_monthly", "title"),
        ("monthly_revenue", "definition_or_column"),
    ]


def test_one_typo_still_finds_the_word(api, schema):
    table(api, schema, "dim_customer")
    table(api, schema, "payments")
    body = search(api, "custmer")
    assert body["fuzzy"] is True
    assert titles(body) == ["dim_customer"]
    assert search(api, "dim custmoer")["results"][0]["resource"]["title"] == "dim_customer"
    exact = search(api, "paymnts")
    assert exact["results"][0]["tier"] == "exact_title"
    assert search(api, "customer")["fuzzy"] is False
    assert search(api, "cxstxmer")["count"] == 0  # two typos are not one


def test_prefix_of_the_last_word_matches_as_you_type(api, schema):
    table(api, schema, "subscriptions")
    assert titles(search(api, "subscr")) == ["subscriptions"]
    assert search(api, "subscr")["results"][0]["tier"] == "title_prefix"


def test_highlights_mark_the_matched_words(api, schema):
    table(api, schema, "dimCustomer", description="x" * 300 + " every customer we have " + "y" * 300)
    hit = search(api, "customer")["results"][0]
    by_field = {h["field"]: h for h in hit["highlights"]}
    assert by_field["title"]["spans"] == [[3, 11]]
    assert by_field["title"]["html"] == "dim<mark>Customer</mark>"
    description = by_field["description"]
    assert len(description["text"]) < 300
    start, end = description["spans"][0]
    assert description["text"][start:end] == "customer"
    assert "<mark>customer</mark>" in description["html"]


def test_highlight_escapes_html(api, schema):
    table(api, schema, "<b>customer</b>")
    html = search(api, "customer")["results"][0]["highlights"][0]["html"]
    assert html == "&lt;b&gt;<mark>customer</mark>&lt;/b&gt;"


def test_viewers_see_published_only_and_facets_do_not_leak(api, schema):
    table(api, schema, "customer_public")
    create(api.client, entity_type="table", title="customer_draft", parent=schema["id"], published=False)
    viewer = api.as_role("viewer")
    seen = search(api, "customer", headers=viewer)
    assert titles(seen) == ["customer_public"]
    assert seen["count"] == 1
    assert seen["facets"]["entity_type"] == [{"value": "table", "count": 1, "label": "table"}]
    assert search(api, "customer")["count"] == 2
    assert search(api, "draft", headers=viewer)["count"] == 0


def test_archived_and_stale_are_hidden_and_come_back(api, schema):
    gone = table(api, schema, "customer_gone")
    table(api, schema, "customer_stale", stale=True)
    table(api, schema, "customer_live")
    assert api.client.delete(f"/resource/all/{gone['id']}").status_code == 204
    assert titles(search(api, "customer")) == ["customer_live"]
    assert api.client.post(f"/resource/all/{gone['id']}/restore").status_code == 200
    assert sorted(titles(search(api, "customer"))) == ["customer_gone", "customer_live"]


def test_filters_and_facets(api, schema):
    gold = api.client.post("/tag/tags", json={"name": "gold"}).json()["id"]
    finance = create(api.client, "/collection/collections", title="Finance")["id"]
    table(api, schema, "revenue_daily", tags=[gold], owners=["ann"], collections=[finance])
    table(api, schema, "revenue_weekly", tags=[gold], owners=["bob"])
    create(api.client, entity_type="dashboard_group", title="Boards", published=True)
    create(api.client, entity_type="glossary", title="Revenue", published=True)
    body = search(api, "revenue")
    facets = body["facets"]
    assert body["count"] == 3
    assert {f["value"]: f["count"] for f in facets["entity_type"]} == {"table": 2, "glossary": 1}
    assert facets["tags"] == [{"value": gold, "count": 2, "label": "gold"}]
    assert facets["collections"] == [{"value": finance, "count": 1, "label": "Finance"}]
    assert {f["value"]: f["count"] for f in facets["owners"]} == {"ann": 1, "bob": 1}
    assert facets["integration"] == [{"value": schema["integration"], "count": 2, "label": "snowflake"}]
    assert facets["database"] == [{"value": "analytics", "count": 2, "label": None}]
    assert facets["schema"] == [{"value": "marts", "count": 2, "label": None}]

    assert titles(search(api, "revenue", entity_type="glossary")) == ["Revenue"]
    assert titles(search(api, "revenue", entity_type="glossary,dictionary_term")) == ["Revenue"]
    assert sorted(titles(search(api, "revenue", tags=gold))) == ["revenue_daily", "revenue_weekly"]
    assert titles(search(api, "revenue", owners="ann")) == ["revenue_daily"]
    assert titles(search(api, "revenue", collections=finance)) == ["revenue_daily"]
    assert search(api, "revenue", integration=schema["integration"])["count"] == 2
    assert search(api, "revenue", schema="marts", database="analytics")["count"] == 2
    both = api.client.get("/search", params=[("q", "revenue"), ("owners", "ann"), ("owners", "bob")])
    assert both.json()["count"] == 2
    filtered = search(api, "revenue", tags=gold, owners="bob")
    assert titles(filtered) == ["revenue_weekly"]
    assert filtered["facets"]["owners"] == [{"value": "bob", "count": 1, "label": None}]


def test_pages_are_slices_of_one_ranking(api, schema):
    # Pages whose non-column hits all reach a tier are ranked without the columns; the others
    # rank every match. Either way each page must be a slice of the same order.
    for n in range(6):
        made = table(api, schema, f"customer_{n}", external_usage=n * 10)
        create(api.client, entity_type="column", title="customer_id", parent=made["id"], published=True)
    for title in ("Churn", "Lifetime value"):
        create(api.client, entity_type="glossary", title=title, definition="Per customer.", published=True)
    whole = search(api, "customer", page_size=100)
    assert whole["count"] == 14
    ranking = [hit["resource"]["id"] for hit in whole["results"]]
    assert [hit["tier"] for hit in whole["results"][:6]] == ["title_prefix"] * 6
    for size in (3, 4, 5):
        pages = [search(api, "customer", page_size=size, page=n) for n in range(1, -(-14 // size) + 1)]
        assert [hit["resource"]["id"] for page in pages for hit in page["results"]] == ranking, size


def test_paging(api, schema):
    for n in range(7):
        table(api, schema, f"events_{n}", external_usage=n)
    first = search(api, "events", page_size=3)
    assert (first["count"], first["total_pages"]) == (7, 3)
    assert titles(first) == ["events_6", "events_5", "events_4"]
    last = search(api, "events", page_size=3, page=3)
    assert titles(last) == ["events_0"]
    beyond = api.client.get("/search", params={"q": "events", "page": 4, "page_size": 3})
    assert beyond.status_code == 404
    assert beyond.json()["detail"] == "Invalid page."


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "x" * 257}, "q"),
        ({"q": ""}, "q"),
        ({}, "q"),
        ({"q": "a\x00b"}, "q"),
        ({"q": "a", "page_size": 101}, "page_size"),
        ({"q": "a", "page": 0}, "page"),
        ({"q": "a", "entity_type": "spreadsheet"}, "entity_type"),
        ({"q": "a", "tags": "x" * 300}, "tags"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, params, field):
    response = api.client.get("/search", params=params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert field in body["detail"]
    assert field in body["fields"]


def test_queries_of_only_punctuation_or_fts_syntax_are_harmless(api, schema):
    table(api, schema, "orders")
    for q in ['"', "*", "NEAR(", "a OR", "{title}:", "'; DROP TABLE resource; --", "((", "^", "-", "%_"]:
        assert search(api, q)["count"] == 0, q
    assert search(api, 'orders"')["count"] == 1


def test_search_needs_a_key(api):
    response = api.client.get("/search", params={"q": "x"}, headers={"Authorization": ""})
    assert response.status_code == 401
    assert "detail" in response.json()


# ---- the index follows every write path ------------------------------------------------------


def test_index_follows_edits_renames_and_moves(api, schema):
    made = table(api, schema, "old_name", description="about apples")
    assert api.client.patch(f"/resource/all/{made['id']}", json={"title": "new_name"}).status_code == 200
    assert search(api, "old")["count"] == 0
    assert titles(search(api, "new_name")) == ["new_name"]
    api.client.patch(f"/resource/all/{made['id']}", json={"description": "about pears"})
    assert search(api, "apples")["count"] == 0
    assert titles(search(api, "pears")) == ["new_name"]
    # Renaming the schema changes every child's title_full, and the index with it.
    api.client.patch(f"/resource/all/{schema['id']}", json={"title": "gold_layer"})
    assert titles(search(api, "gold_layer.new_name")) == ["new_name"]
    assert search(api, "marts.new_name")["count"] == 0


def test_bulk_update_is_indexed_and_a_failed_one_changes_nothing(api, schema):
    a = table(api, schema, "alpha")
    b = table(api, schema, "beta")
    ok = api.client.post(
        "/resource/all/bulk_update",
        json=[{"id": a["id"], "data": {"title": "gamma"}}, {"id": b["id"], "data": {"title": "delta"}}],
    )
    assert ok.status_code == 200
    assert titles(search(api, "gamma")) == ["gamma"]
    failed = api.client.post(
        "/resource/all/bulk_update",
        json=[{"id": a["id"], "data": {"title": "epsilon"}}, {"id": b["id"], "data": {"parent": a["id"]}}],
    )
    assert failed.status_code == 400
    assert search(api, "epsilon")["count"] == 0
    assert titles(search(api, "gamma")) == ["gamma"]


def test_purged_resources_leave_the_index(api, store, admin, schema):
    made = table(api, schema, "doomed_table")
    api.client.delete(f"/resource/all/{made['id']}")
    assert ResourceService(store).purge(admin, archived_before=utc_now() + timedelta(seconds=1)) == 1
    table(api, schema, "other_table")
    assert search(api, "doomed")["count"] == 0
    assert search(api, "table")["count"] == 1


def test_imported_resources_are_searchable(store: Store, admin: Principal):
    integration = "7f1c0a4e-8d1b-4d7e-9a51-3b2f6f0c9e11"
    database = "0c9b3f1e-6a2d-4e8f-b7c5-1d2e3f4a5b6c"
    lines = [
        {"kind": "integration", "data": {"id": integration, "name": "bq", "type": "bigquery"}},
        {
            "kind": "resource",
            "data": {
                "id": database,
                "entity_type": "database",
                "title": "warehouse",
                "integration": integration,
                "published": True,
            },
        },
        {
            "kind": "resource",
            "data": {"entity_type": "glossary", "title": "Net Revenue Retention", "published": True},
        },
    ]
    report = Importer(store, admin).run(orjson.dumps(line) for line in lines)
    assert report.errors == []
    result = SearchService(store).search(admin, SearchQuery(q="revenue retention"))
    assert [h.resource["title"] for h in result.results] == ["Net Revenue Retention"]
    assert SearchService(store).search(admin, SearchQuery(q="warehouse")).count == 1


# ---- pure helpers ---------------------------------------------------------------------------


def test_query_words_split_like_the_index():
    assert query_words("analytics.dim_customer") == ["analytics", "dim", "customer"]
    assert query_words("dimCustomer  HTTP") == ["dim", "customer", "http"]
    assert query_words("--") == []


def test_one_edit_variants():
    variants = set(one_edit_variants("cat"))
    assert {"at", "act", "cut", "cart", "cats"} <= variants
    assert "cat" not in variants
    assert "dog" not in variants


def test_highlights_helper_for_prefixes():
    entity = {"title": "subscriptions_daily", "title_full": None, "description": "", "definition": None}
    marked = highlights(entity, [Term(("subscr",), prefix=True)])
    assert [(h.field, h.spans) for h in marked] == [("title", [(0, 13)])]
