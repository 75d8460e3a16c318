"""Search at scale (migration 0019_search): counting bounded by COUNT_LIMIT (``count_relation``,
``facets_exact``), the text index lane without columns kept exact by every write path, and pages
of columns found through the title-key index equal to slices of the one ranking. Both backends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from bench.generate import catalog
from sqlalchemy import text
from typer.testing import CliRunner

from cairn.cli.main import app as cli
from cairn.core import exchange
from cairn.core import search as core_search
from cairn.core.exchange import Importer
from cairn.core.principal import Principal
from cairn.core.search import SearchService
from cairn.models.search import SearchQuery, SearchResult
from cairn.store import Store, deferred_indexes
from cairn.store.search import FTS_TABLES, merge_segments, segment_counts
from tests.helpers import create, make_integration


@pytest.fixture
def schema(api: Any) -> dict[str, Any]:
    integration = make_integration(api.client, "snowflake")
    db = create(
        api.client, entity_type="database", title="analytics", integration=integration, published=True
    )
    made = create(api.client, entity_type="schema", title="marts", parent=db["id"], published=True)
    made["integration"] = integration
    return made


def _table(api: Any, schema: dict[str, Any], title: str, **extra: Any) -> dict[str, Any]:
    return create(api.client, entity_type="table", title=title, parent=schema["id"], published=True, **extra)


def _column(api: Any, parent: dict[str, Any], title: str, **extra: Any) -> dict[str, Any]:
    return create(api.client, entity_type="column", title=title, parent=parent["id"], published=True, **extra)


def _search(api: Any, q: str, **params: Any) -> dict[str, Any]:
    response = api.client.get("/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _facet(body: dict[str, Any], name: str) -> dict[str, int]:
    return {f["value"]: f["count"] for f in body["facets"][name]}


@pytest.fixture
def orders(api: Any, schema: dict[str, Any]) -> dict[str, Any]:
    """Two tables and six columns that match "orders"."""
    for name in ("orders_daily", "orders_history"):
        made = _table(api, schema, name)
        for n in range(3):
            _column(api, made, f"orders_{n}")
    return schema


def test_counts_are_exact_up_to_the_limit(api, orders, monkeypatch):
    monkeypatch.setattr(core_search, "COUNT_LIMIT", 8)
    body = _search(api, "orders")
    assert (body["count"], body["count_relation"], body["facets_exact"]) == (8, "eq", True)
    assert _facet(body, "entity_type") == {"column": 6, "table": 2}
    assert _facet(body, "integration") == {orders["integration"]: 8}
    assert _facet(body, "schema") == {"marts": 8}


def test_past_the_limit_the_count_is_a_lower_bound_and_columns_count_by_type_only(api, orders, monkeypatch):
    monkeypatch.setattr(core_search, "COUNT_LIMIT", 5)
    body = _search(api, "orders", page_size=2)
    assert (body["count"], body["count_relation"], body["facets_exact"]) == (5, "gte", False)
    # The non-columns are counted exactly; the columns only up to what the limit left (4).
    assert _facet(body, "entity_type") == {"table": 2, "column": 4}
    assert _facet(body, "integration") == {orders["integration"]: 2}
    assert _facet(body, "schema") == {"marts": 2}
    # Results and pages reach as far as the count: pages of two, two, one.
    assert body["total_pages"] == 3
    assert [h["resource"]["entity_type"] for h in body["results"]] == ["table", "table"]
    assert len(_search(api, "orders", page_size=2, page=3)["results"]) == 1  # the fifth, no further
    beyond = api.client.get("/search", params={"q": "orders", "page_size": 2, "page": 4})
    assert beyond.status_code == 404
    # Only columns asked for: the lane of non-columns is not read, the columns are bounded.
    columns = _search(api, "orders", entity_type="column")
    assert (columns["count"], columns["count_relation"]) == (5, "gte")
    assert _facet(columns, "entity_type") == {"column": 6}
    tables = _search(api, "orders", entity_type="table")
    assert (tables["count"], tables["count_relation"], tables["facets_exact"]) == (2, "eq", True)


def test_a_non_column_lane_past_the_limit_is_bounded_too(api, schema, monkeypatch):
    for n in range(4):
        _table(api, schema, f"refunds_{n}")
    monkeypatch.setattr(core_search, "COUNT_LIMIT", 2)
    body = _search(api, "refunds")
    assert (body["count"], body["count_relation"], body["facets_exact"]) == (2, "gte", False)
    assert sum(_facet(body, "entity_type").values()) == 3  # counted one past the limit, then stopped


def test_the_count_reads_10000_plus(api, orders, monkeypatch):
    monkeypatch.setattr(core_search, "COUNT_LIMIT", 5)
    result = SearchResult.model_validate(_search(api, "orders"))
    assert result.count_text() == "5+"
    assert (
        SearchResult.model_validate({**_search(api, "orders_daily"), "count": 10_000}).count_text()
        == "10,000"
    )
    past = SearchResult.model_validate({**_search(api, "orders"), "count": 10_000})
    assert past.count_text() == "10,000+"


def test_cli_and_web_show_the_lower_bound(store, admin, monkeypatch, tmp_path):
    lines = [
        {"kind": "resource", "data": {"entity_type": "glossary", "title": f"Churn {n}"}} for n in range(4)
    ]
    assert Importer(store, admin).run(orjson.dumps(line) for line in lines).errors == []
    url = str(store.engine.url.render_as_string(hide_password=False))
    monkeypatch.setattr(core_search, "COUNT_LIMIT", 3)
    shown = CliRunner().invoke(cli, ["search", "churn", "--db", url])
    assert shown.exit_code == 0, shown.output
    assert "3 of 3+ matches" in shown.output  # results reach as far as the count, no further
    monkeypatch.setattr(core_search, "COUNT_LIMIT", 10)
    exact = CliRunner().invoke(cli, ["search", "churn", "--db", url, "-n", "2"])
    assert "2 of 4 matches" in exact.output
    hits = json.loads(CliRunner().invoke(cli, ["search", "churn", "--db", url, "--json"]).output)
    assert len(hits) == 4


def test_pages_of_columns_titled_like_the_query_are_slices_of_one_ranking(api, schema):
    # Columns titled exactly "customer id" (by their words) are the top of the column band and
    # are read through the title-key index; the others are ranked from the text index.
    identity = _table(api, schema, "customer_identity")
    for n, made in enumerate([_table(api, schema, f"orders_{n}", external_usage=n) for n in range(3)]):
        _column(api, made, "customer_id", external_usage=n * 7)
        _column(api, made, "customerId", external_usage=n)
        _column(api, made, "customer_idx")
    # Its key is "customerid" too, and it matches only through its path ("customer_identity")
    # with "id" as a prefix: the whole-word test fails, the prefix test must still pass it.
    _column(api, identity, "customerid", external_usage=50)
    _column(api, identity, "customerid_archive")
    whole = _search(api, "customer id", page_size=100)
    ranking = [(h["resource"]["id"], h["score"]) for h in whole["results"]]
    assert whole["count"] == len(ranking) == 12
    assert whole["results"][0]["resource"]["title"] == "customer_identity"
    for size in (1, 2, 3, 5):
        pages = [_search(api, "customer id", page_size=size, page=n) for n in range(1, -(-12 // size) + 1)]
        assert [(h["resource"]["id"], h["score"]) for p in pages for h in p["results"]] == ranking, size


# ---- the lane of non-columns follows every write path ----------------------------------------


def _lane_mismatches(store: Store) -> list[Any]:
    """Where the lane of non-columns differs from the index restricted to non-columns."""
    with store.read() as conn:
        if store.dialect == "postgresql":
            rows = conn.execute(
                text(
                    "SELECT r.id, r.entity_type, s.is_column FROM resource r "
                    "LEFT JOIN resource_search s ON s.resource_pk = r.pk "
                    "WHERE s.is_column IS NULL OR s.is_column <> (r.entity_type = 'column')"
                )
            ).all()
            return [tuple(row) for row in rows]
        for lane in ("resource_fts", "resource_fts_entities"):
            conn.exec_driver_sql(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{lane}_words "
                f"USING fts5vocab('main', '{lane}', 'instance')"
            )
        # Every (resource, word, field) of the whole index whose resource is not a column,
        # against the lane's own: they must be the same set.
        whole = set(
            conn.exec_driver_sql(
                "SELECT w.doc, w.term, w.col FROM temp.resource_fts_words w "
                "JOIN resource r ON r.pk = w.doc WHERE r.entity_type <> 'column'"
            ).all()
        )
        lane = set(conn.exec_driver_sql("SELECT doc, term, col FROM temp.resource_fts_entities_words").all())
        return sorted(whole ^ lane)


def _found(store: Store, admin: Principal, q: str) -> set[str]:
    result = SearchService(store).search(admin, SearchQuery(q=q, page_size=100))
    return {h.resource["title"] for h in result.results}


def test_the_lane_follows_api_writes_bulk_updates_deletes_and_restores(api, store, admin, schema):
    made = _table(api, schema, "payments_daily", description="All payments.")
    column = _column(api, made, "payment_id")
    assert _lane_mismatches(store) == []
    assert _found(store, admin, "payments") == {"payments_daily", "payment_id"}  # the column by its path
    assert api.client.patch(f"/resource/all/{made['id']}", json={"title": "refunds_daily"}).status_code == 200
    assert api.client.patch(f"/resource/all/{column['id']}", json={"title": "refund_id"}).status_code == 200
    assert _lane_mismatches(store) == []
    assert _found(store, admin, "refunds") == {"refunds_daily", "refund_id"}
    assert _found(store, admin, "payments") == {"refunds_daily"}  # still in its description
    bulk = api.client.post(
        "/resource/all/bulk_update",
        json=[
            {"id": made["id"], "data": {"description": "Money back."}},
            {"id": column["id"], "data": {"description": "Money back, per refund."}},
        ],
    )
    assert bulk.status_code == 200
    assert _lane_mismatches(store) == []
    assert _found(store, admin, "money") == {"refunds_daily", "refund_id"}
    assert api.client.delete(f"/resource/all/{made['id']}").status_code in (200, 204)
    assert _lane_mismatches(store) == []
    assert _found(store, admin, "money") == set()
    assert api.client.post(f"/resource/all/{made['id']}/restore").status_code == 200
    assert _lane_mismatches(store) == []
    assert _found(store, admin, "money") == {"refunds_daily", "refund_id"}
    history = api.client.get(f"/resource/all/{made['id']}/history").json()
    first = min(v["version"] for v in history["results"])
    restored = api.client.post(f"/resource/all/{made['id']}/history/{first}/restore")
    assert restored.status_code == 200, restored.text
    assert _lane_mismatches(store) == []
    assert _found(store, admin, "payments") == {"payments_daily", "refund_id"}


def test_the_lane_follows_a_change_of_entity_type(api, store, admin, schema):
    """No API changes a type today; the triggers still move a row between the lanes."""
    made = _table(api, schema, "sessions_daily")
    column = _column(api, made, "session_id")
    with store.write() as conn:
        conn.execute(text("UPDATE resource SET entity_type = 'view' WHERE id = :id"), {"id": column["id"]})
        conn.execute(text("UPDATE resource SET entity_type = 'column' WHERE id = :id"), {"id": made["id"]})
    assert _lane_mismatches(store) == []


def _generated(size: int) -> Iterator[bytes]:
    return (orjson.dumps(line) for line in catalog(size, seed=3))


@pytest.mark.parametrize("size", [120, 900])  # below and above insert_triggers.MIN_ROWS
def test_the_lane_follows_imports(store, admin, size):
    report = Importer(store, admin, workers=0).run(_generated(size))
    assert report.errors == []
    assert _lane_mismatches(store) == []
    for q, kind in (("db", "database"), ("id", "column")):
        result = SearchService(store).search(admin, SearchQuery(q=q, entity_type=[kind]))
        assert result.count > 0
        assert {h.resource["entity_type"] for h in result.results} == {kind}


def _segments(store: Store) -> dict[str, int]:
    with store.read() as conn:
        return segment_counts(conn)


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_an_import_leaves_each_text_index_table_in_one_segment(store, admin, monkeypatch):
    """A bulk load flushes a segment per batch; each term lookup seeks in every one of them."""
    monkeypatch.setattr(exchange, "ANALYZE_AFTER", 500)
    lines = list(_generated(900))
    before = {q: SearchService(store).search(admin, SearchQuery(q=q)).count for q in ("db", "id", "custmer")}
    assert before == {"db": 0, "id": 0, "custmer": 0}
    report = Importer(store, admin, workers=0, batch_size=100).run(iter(lines))
    assert report.errors == []
    assert _segments(store) == dict.fromkeys(FTS_TABLES, 1)
    assert _lane_mismatches(store) == []
    searched = SearchService(store).search(admin, SearchQuery(q="custmer"))
    assert searched.fuzzy
    assert searched.count > 0
    # Below the threshold nothing is merged: batches of 50 leave several segments behind.
    monkeypatch.setattr(exchange, "ANALYZE_AFTER", 10_000)
    more = Importer(store, admin, workers=0, batch_size=50).run(
        orjson.dumps(line) for line in catalog(300, seed=4)
    )
    assert more.errors == []
    assert max(_segments(store).values()) > 1
    with store.write() as conn:
        merge_segments(conn)
    assert _segments(store) == dict.fromkeys(FTS_TABLES, 1)
    assert _lane_mismatches(store) == []


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_cairn_optimize_merges_what_edits_left_behind(api, store, admin, schema):
    """Each write transaction adds a segment; ``cairn optimize`` folds them into one."""
    made = [_table(api, schema, f"payments_{n}") for n in range(6)]
    for n, table in enumerate(made):
        patched = api.client.patch(f"/resource/all/{table['id']}", json={"description": f"edit {n}"})
        assert patched.status_code == 200
    assert max(_segments(store).values()) > 1
    result = CliRunner().invoke(cli, ["optimize", "--db", store.url])
    assert result.exit_code == 0, result.output
    assert "Statistics refreshed, resource_fts:" in result.output
    assert _segments(store) == dict.fromkeys(FTS_TABLES, 1)
    assert _lane_mismatches(store) == []
    assert SearchService(store).search(admin, SearchQuery(q="paymnts")).count == 6


def test_cairn_optimize_runs_on_every_backend(store):
    result = CliRunner().invoke(cli, ["optimize", "--db", store.url])
    assert result.exit_code == 0, result.output
    assert "Statistics refreshed" in result.output


# ---- pages led by titles (0021_entity_titles) --------------------------------------------------


@pytest.fixture
def titled(api: Any, schema: dict[str, Any]) -> None:
    """Non-columns in every tier for "customer": the exact title, titles starting with it (some
    hidden from viewers or deleted), and titles holding it elsewhere, with usage that would put
    the lower tiers first if tiers did not come first."""
    _table(api, schema, "customer", external_usage=3)
    for n in range(6):
        _table(api, schema, f"customer_orders_{n}", external_usage=n * 10)
    _table(api, schema, "Customers", external_usage=7)
    create(api.client, entity_type="table", title="customer_draft", parent=schema["id"], external_usage=900)
    gone = _table(api, schema, "customer_gone", external_usage=800)
    assert api.client.delete(f"/resource/all/{gone['id']}").status_code == 204
    for n in range(4):
        _table(api, schema, f"dim_customer_{n}", external_usage=1000 + n)
    create(api.client, entity_type="dashboard", title="customer overview", published=True, external_usage=5)
    create(api.client, entity_type="glossary", title="The customer", published=True, external_usage=2000)
    _column(api, _table(api, schema, "orders"), "customer_id", external_usage=5000)
    # Its key is "customer" but its indexed title words are "custom" and "er": a match by its
    # description, of the top tier, that the index of titles does not find.
    _table(api, schema, "custom_er", description="customer data", external_usage=1)
    # Found in its title by the text index (which splits at "~"), yet not of a title tier (its
    # title words do not split there): the most used, it must still rank below those tiers.
    create(api.client, entity_type="dashboard", title="board~overview", published=True, external_usage=10**6)
    # Dashboards holding "overview" in their titles, charts holding it only in their paths.
    for n in range(5):
        board = create(
            api.client, entity_type="dashboard", title=f"sales overview {n}", published=True, external_usage=n
        )
        for c in range(3):
            create(
                api.client,
                entity_type="chart",
                title=f"chart {c}",
                parent=board["id"],
                published=True,
                external_usage=100 + c,
            )


def _ranking(api: Any, q: str, headers: dict[str, str], size: int) -> list[tuple[str, float, str]]:
    pages, page = [], 1
    while True:
        response = api.client.get(
            "/search", params={"q": q, "page_size": size, "page": page}, headers=headers
        )
        if response.status_code == 404:
            break
        assert response.status_code == 200, response.text
        body = response.json()
        pages += [(h["resource"]["title"], h["score"], h["tier"]) for h in body["results"]]
        if page >= body["total_pages"]:
            break
        page += 1
    return pages


def test_pages_led_by_titles_are_slices_of_the_one_ranking(api, titled, monkeypatch):
    settled: dict[str, list[bool]] = {"_title_led": [], "_title_ranked": []}

    def counting(name: str) -> Any:
        method = getattr(SearchService, name)

        def counted(self: SearchService, conn: Any, plan: Any, where: Any, need: int, *rest: Any) -> Any:
            answer = method(self, conn, plan, where, need, *rest)
            settled[name].append(answer is not None and len(answer) == need)
            return answer

        return counted

    for name in settled:
        monkeypatch.setattr(SearchService, name, counting(name))
    monkeypatch.setattr(core_search, "TITLE_RANKED_MIN_MATCHES", 0)
    roles = {"admin": api.headers, "viewer": api.as_role("viewer")}
    expected: dict[tuple[str, str, int], list[tuple[str, float, str]]] = {}
    for role, headers in roles.items():
        for q in ("customer", "customer orders", "custom", "Customers", "overview", "sales ov", "dim c"):
            for size in (1, 2, 3, 7, 50):
                expected[(role, q, size)] = _ranking(api, q, headers, size)
    assert any(settled["_title_led"]), "no page was read through the title index"
    assert any(settled["_title_ranked"]), "no page was ranked from the titles alone"
    assert not all(settled["_title_ranked"])
    # Every match, ranked: what each page must be a slice of.
    monkeypatch.setattr(SearchService, "_title_led", lambda self, *args: None)
    for (role, q, size), ranking in expected.items():
        assert _ranking(api, q, roles[role], size) == ranking, (role, q, size)
    admin_titles = [t for t, _, _ in expected[("admin", "customer", 50)]]
    # The title and the titles starting with it first, whatever the usage of the others.
    assert admin_titles[0] in ("customer", "custom_er")
    assert set(admin_titles[:2]) == {"customer", "custom_er"}
    orders = {f"customer_orders_{n}" for n in range(6)}
    prefixed = {"Customers", "customer_draft", "customer overview", *orders}
    assert set(admin_titles[2:11]) == prefixed
    # (PostgreSQL's title words split at "~" too, so there it is of the phrase tier.)
    overview = [t for t, _, _ in expected[("admin", "overview", 50)] if t != "board~overview"]
    assert overview[:6] == ["customer overview", *(f"sales overview {n}" for n in (4, 3, 2, 1, 0))]
    assert "customer_gone" not in admin_titles
    assert "customer_draft" in admin_titles
    assert "customer_draft" not in [t for t, _, _ in expected[("viewer", "customer", 50)]]


# SQLite alone: PostgreSQL's imports keep their indexes.
@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_searches_while_an_import_has_dropped_the_indexes_answer_the_same(api, store, titled):
    """An import into an almost empty database drops search_doc's indexes until it ends
    (store/deferred_indexes.py); searches then must not name them, and answer the same."""
    queries = ("customer", "overview", "custom", "sales ov")

    def answers() -> list[Any]:
        found = []
        for q in queries:
            body = _search(api, q, page_size=7)
            found.append((body["count"], body["facets"], _ranking(api, q, api.headers, 3)))
        return found

    before = answers()
    with store.write() as conn:
        dropped = deferred_indexes.defer(conn, ["search_doc"])
    assert {core_search.ENTITY_TITLE_INDEX, core_search.ENTITY_DOCUMENTS_INDEX} <= set(dropped)
    assert answers() == before
    with store.write() as conn:
        deferred_indexes.restore(conn)
    assert answers() == before
