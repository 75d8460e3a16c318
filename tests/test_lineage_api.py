"""Secoda lineage objects (/lineage/manual), lineage from SQL, and the MCP tool proxy."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine, event

from cairn.core.principal import system_principal
from cairn.core.sql_lineage import SqlLineage
from cairn.store import deferred_indexes
from tests.conftest import Api
from tests.helpers import create, make_integration, warehouse


def test_manual_lineage_create_reverse_get_list_filters_delete(api: Api) -> None:
    tree = warehouse(api.client, columns=1)
    table = tree["table"]
    other = create(
        api.client, entity_type="table", title="fct_orders", parent=tree["schema"]["id"], published=True
    )
    dash = create(api.client, entity_type="dashboard", title="Revenue", published=True)

    response = api.client.post(
        "/lineage/manual/",
        json={"from_entity": table["id"], "to_entity": other["id"], "direction": "DOWNSTREAM"},
    )
    assert response.status_code == 201, response.text
    edge = response.json()
    assert edge["from_entity"] == edge["from_entity_id"] == table["id"]
    assert edge["to_entity"] == edge["to_entity_id"] == other["id"]
    assert edge["direction"] == "DOWNSTREAM"
    assert edge["is_manual"] is True
    assert edge["workspace_id"] == api.workspace.id
    # UPSTREAM from the dashboard: fct_orders feeds Revenue.
    up = api.client.post(
        "/api/v1/lineage/manual",
        json={"from_entity_id": dash["id"], "to_entity_id": other["id"], "direction": "upstream"},
    ).json()
    assert (up["from_entity"], up["to_entity"], up["direction"]) == (dash["id"], other["id"], "UPSTREAM")

    everything = api.client.get("/lineage/manual/").json()
    assert everything["count"] == 4  # two edges, each seen from both ends
    assert everything["meta"]["count"] == 4
    assert everything["meta"]["total_pages"] == 1
    reverse = [
        o for o in everything["results"] if o["from_entity"] == other["id"] and o["to_entity"] == table["id"]
    ]
    assert len(reverse) == 1
    assert reverse[0]["direction"] == "UPSTREAM"
    got = api.client.get(f"/lineage/manual/{reverse[0]['id']}/").json()
    assert got == reverse[0]

    def ids(**params: str) -> set[tuple[str, str]]:
        response = api.client.get("/lineage/manual", params=params)
        assert response.status_code == 200, response.text
        return {(o["from_entity"], o["to_entity"]) for o in response.json()["results"]}

    assert ids(from_entity=table["id"]) == {(table["id"], other["id"])}
    assert ids(from_entity_id=other["id"]) == {(other["id"], table["id"]), (other["id"], dash["id"])}
    assert ids(to_entity=other["id"]) == {(table["id"], other["id"]), (dash["id"], other["id"])}
    assert ids(to_entity__in=f"{table['id']},{dash['id']}") == {
        (other["id"], table["id"]),
        (other["id"], dash["id"]),
    }
    assert ids(from_entity__in=dash["id"], to_entity_id=other["id"]) == {(dash["id"], other["id"])}
    # The integration of the object's from end (the dashboard has none).
    assert ids(integration_type="postgres") == {
        (table["id"], other["id"]),
        (other["id"], table["id"]),
        (other["id"], dash["id"]),
    }
    assert ids(integration__type="looker") == set()
    # Paging keeps the envelope's links.
    first = api.client.get("/lineage/manual", params={"page_size": 3}).json()
    assert first["links"]["next"] is not None
    assert len(first["results"]) == 3

    assert api.client.delete(f"/lineage/manual/{reverse[0]['id']}").status_code == 204
    assert api.client.get(f"/lineage/manual/{edge['id']}").status_code == 404  # both objects went
    assert api.client.get(f"/lineage/manual/{reverse[0]['id']}").status_code == 404
    assert ids() == {(dash["id"], other["id"]), (other["id"], dash["id"])}


def test_manual_lineage_bad_input(api: Api) -> None:
    tree = warehouse(api.client, columns=1)
    table, column = tree["table"]["id"], tree["columns"][0]["id"]
    bad: list[tuple[dict[str, Any], str]] = [
        ({"to_entity": table}, "from_entity"),
        ({"from_entity": table}, "to_entity"),
        ({"from_entity": table, "to_entity": table}, "own upstream"),
        ({"from_entity": table, "to_entity": column}, "column"),
        ({"from_entity": table, "to_entity": "00000000-0000-0000-0000-000000000001"}, "does not exist"),
        ({"from_entity": table, "to_entity": "nope"}, "to_entity"),
        ({"from_entity": table, "to_entity": tree["schema"]["id"], "direction": "SIDEWAYS"}, "direction"),
    ]
    for body, message in bad:
        response = api.client.post("/lineage/manual/", json=body)
        assert response.status_code == 400, (body, response.text)
        assert message in response.json()["detail"]
    assert api.client.get("/lineage/manual").json()["count"] == 0
    assert api.client.get("/lineage/manual/nope").status_code == 404
    assert api.client.delete("/lineage/manual/00000000-0000-0000-0000-000000000001").status_code == 404
    assert api.client.get("/lineage/manual", params={"from_entity__in": ","}).status_code == 400
    viewer = api.client.post(
        "/lineage/manual",
        json={"from_entity": table, "to_entity": tree["schema"]["id"]},
        headers=api.as_role("viewer"),
    )
    assert viewer.status_code == 403


def _shop(api: Api) -> dict[str, Any]:
    integration = make_integration(api.client, "warehouse")
    db = create(api.client, entity_type="database", title="shop", integration=integration, published=True)
    schema = create(api.client, entity_type="schema", title="public", parent=db["id"], published=True)
    tables: dict[str, Any] = {}
    for name, cols in {
        "orders": ["id", "customer_id", "amount"],
        "customers": ["id", "name"],
        "items": ["order_id", "sku"],
    }.items():
        table = create(api.client, entity_type="table", title=name, parent=schema["id"], published=True)
        tables[name] = {
            "table": table,
            "columns": {
                c: create(api.client, entity_type="column", title=c, parent=table["id"])["id"] for c in cols
            },
        }
    return tables


SQL = """
insert into public.order_report
select o.id as order_id, c.name as customer, sum(o.amount) as total, i.sku, missing.x
from public.orders o
join customers c on c.id = o.customer_id
join public.items i on i.order_id = o.id
left join other_schema.missing missing on missing.id = o.id
group by 1, 2, 4, 5
"""


def test_lineage_from_query_resolves_tables_and_columns(api: Api) -> None:
    tables = _shop(api)
    response = api.client.get(
        "/lineage/lineage_from_query/", params={"sql": SQL, "dialect": "postgres", "database": "shop"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sql"] == SQL
    sources = {t["title"]: t for t in body["source_tables"]}
    assert set(sources) == {"orders", "customers", "items"}
    orders = sources["orders"]
    assert orders["id"] == tables["orders"]["table"]["id"]
    assert (orders["schema_name"], orders["database_name"], orders["integration_type"]) == (
        "public",
        "shop",
        "postgres",
    )
    assert orders["integration_title"] == "warehouse"
    assert body["unresolved_tables"] == ["other_schema.missing"]
    lineage = {
        (c["to_column"], c["from_table"], c["from_column"]): c["from_column_id"]
        for c in body["column_lineages"]
    }
    assert lineage == {
        ("order_id", "orders", "id"): tables["orders"]["columns"]["id"],
        ("customer", "customers", "name"): tables["customers"]["columns"]["name"],
        ("total", "orders", "amount"): tables["orders"]["columns"]["amount"],
        ("sku", "items", "sku"): tables["items"]["columns"]["sku"],
    }
    # A schema default narrows unqualified names; a wrong one resolves nothing.
    none = api.client.get(
        "/lineage/lineage_from_query", params={"sql": "select * from orders", "schema": "other"}
    )
    assert none.json()["source_tables"] == []
    assert none.json()["unresolved_tables"] == ["orders"]


def test_lineage_from_query_traces_through_ctes_subqueries_stars_and_unions(api: Api) -> None:
    """sqlglot's lineage follows a column through the query's own scopes to the catalog's."""
    tables = _shop(api)

    def traced(sql: str) -> set[tuple[str, str, str, str | None]]:
        response = api.client.get(
            "/lineage/lineage_from_query", params={"sql": sql, "dialect": "postgres", "database": "shop"}
        )
        assert response.status_code == 200, response.text
        return {
            (c["to_column"], c["from_table"], c["from_column"], c["from_column_id"])
            for c in response.json()["column_lineages"]
        }

    orders, customers = tables["orders"]["columns"], tables["customers"]["columns"]
    cte = (
        "with big as (select id, amount from orders where amount > 10)"
        " select b.id, b.amount * 2 as Doubled from big b"
    )
    assert traced(cte) == {
        ("id", "orders", "id", orders["id"]),
        ("Doubled", "orders", "amount", orders["amount"]),
    }
    sub = "select s.total from (select sum(amount) as total from public.orders) s"
    assert traced(sub) == {("total", "orders", "amount", orders["amount"])}
    assert traced("select * from customers") == {
        ("id", "customers", "id", customers["id"]),
        ("name", "customers", "name", customers["name"]),
    }
    union = "select id from orders union all select id from customers"
    assert traced(union) == {("id", "orders", "id", orders["id"]), ("id", "customers", "id", customers["id"])}
    # Unquoted names match the catalog's columns whatever their case; the output keeps the SQL's
    # spelling and the input the catalog's.
    upper = "select O.AMOUNT as Total from ORDERS O"
    assert traced(upper) == {("Total", "orders", "amount", orders["amount"])}
    # A column the catalog does not settle (both tables have an id) is left out, not guessed.
    assert traced("select id, name from orders o join customers c on c.id = o.customer_id") == {
        ("name", "customers", "name", customers["name"])
    }


# EXPLAIN QUERY PLAN and INDEXED BY are SQLite's: this test has no PostgreSQL case to skip.
@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_lineage_from_query_looks_tables_and_columns_up_by_title_and_parent(api: Api) -> None:
    """Without statistics SQLite preferred ix_resource_visible (every row of the workspace)."""
    _shop(api)
    principal = system_principal(api.workspace.id, api.workspace.organization_id)
    plans: list[list[Any]] = []

    def keep(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        if sql.lstrip().upper().startswith("SELECT") and "FROM resource" in sql:
            plans.append(cursor.connection.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall())

    event.listen(Engine, "before_cursor_execute", keep)
    try:
        body = SqlLineage(api.store).from_query(principal, SQL, dialect="postgres", database="shop")
    finally:
        event.remove(Engine, "before_cursor_execute", keep)
    assert len(body["source_tables"]) == 3
    used = [" ".join(str(row[3]) for row in plan) for plan in plans]
    assert any("USING INDEX ix_resource_title" in u for u in used), used
    assert any("USING INDEX ix_resource_parent" in u for u in used), used
    assert not any("ix_resource_visible" in u or "SCAN resource" in u for u in used), used


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_lineage_from_query_while_an_import_has_dropped_the_indexes(api: Api) -> None:
    """An import into an empty database defers the indexes the lookups name: still answered."""
    _shop(api)
    with api.store.write() as conn:
        dropped = deferred_indexes.defer(conn, ("resource",))
    assert {"ix_resource_title", "ix_resource_parent"} <= set(dropped)
    try:
        response = api.client.get(
            "/lineage/lineage_from_query", params={"sql": SQL, "dialect": "postgres", "database": "shop"}
        )
        assert response.status_code == 200, response.text
        assert {t["title"] for t in response.json()["source_tables"]} == {"orders", "customers", "items"}
        assert len(response.json()["column_lineages"]) == 4
    finally:
        with api.store.write() as conn:
            assert deferred_indexes.restore(conn)


def test_lineage_from_query_bad_input(api: Api) -> None:
    cases = [
        ({}, "sql is required"),
        ({"sql": "   "}, "sql is required"),
        ({"sql": "select from where ("}, "cannot be parsed"),
        ({"sql": "select 1; select 2"}, "exactly one"),
        ({"sql": "select 'unterminated from t"}, "cannot be parsed"),
        ({"sql": "select " + "(" * 5000 + "1" + ")" * 5000}, "cannot be parsed"),
        ({"sql": "select 1", "dialect": "klingon"}, "dialect"),
        ({"sql": "select 1", "table_id": "00000000-0000-0000-0000-000000000001"}, "Not found"),
    ]
    for params, message in cases:
        response = api.client.get("/lineage/lineage_from_query", params=params)
        assert response.status_code in (400, 404), response.text
        assert message in response.json()["detail"]


def _tool(api: Api, name: str, **arguments: Any) -> tuple[bool, str]:
    response = api.client.post("/ai/mcp/tools/call/", json={"name": name, "arguments": arguments})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [c["type"] for c in body["content"]] == ["text"]
    return body["isError"], body["content"][0]["text"]


def test_mcp_tools(api: Api) -> None:
    tree = warehouse(api.client, columns=2)
    doc = create(
        api.client, entity_type="document", title="Customer handbook", definition="x" * 400, published=True
    )
    term = create(
        api.client, entity_type="glossary", title="Customer", description="Someone who pays", published=True
    )
    downstream = create(api.client, entity_type="dashboard", title="Customer churn", published=True)
    api.client.post(
        "/lineage/manual", json={"from_entity": tree["table"]["id"], "to_entity": downstream["id"]}
    )

    error, text = _tool(api, "search_data_assets", query="customer")
    assert not error
    found = json.loads(text)
    # cairn.core.search ranks title matches first; columns match through their table's full title.
    titles = [r["title"] for r in found["results"]]
    assert set(titles[:2]) == {"dim_customer", "Customer churn"}
    assert set(titles[2:]) == {"col_0", "col_1"}
    assert found["count"] == 4
    error, text = _tool(api, "search_documentation", query="CUSTOMER", truncate_length=5)
    assert {r["id"] for r in json.loads(text)["results"]} == {doc["id"], term["id"]}
    assert "Someo..." in text
    error, text = _tool(api, "retrieve_entity", entity_id=doc["id"], truncate_length=None)
    assert not error
    assert json.loads(text)["definition"] == "x" * 400
    error, text = _tool(api, "retrieve_entity", entity_id=doc["id"])
    assert json.loads(text)["definition"] == "x" * 150 + "..."
    error, text = _tool(api, "entity_lineage", entity_id=tree["table"]["id"])
    lineage = json.loads(text)
    assert [d["id"] for d in lineage["downstream"]] == [downstream["id"]]
    assert lineage["upstream"] == []
    error, text = _tool(api, "glossary")
    assert json.loads(text)["terms"][0]["title"] == "Customer"

    for name, arguments, message in [
        ("run_sql", {"query": "select 1"}, "no read-only connection"),
        ("retrieve_entity", {"entity_id": "00000000-0000-0000-0000-000000000001"}, "not found"),
        ("retrieve_entity", {}, "'entity_id' is required"),
        ("search_data_assets", {"query": "x", "page": 0}, "'page'"),
        ("search_data_assets", {"query": "x", "page": 9}, "Invalid page"),
        ("teleport", {}, "unknown tool"),
    ]:
        error, text = _tool(api, name, **arguments)
        assert error, (name, text)
        assert message in text
    assert api.client.post("/ai/mcp/tools/call/", json={"arguments": {}}).status_code == 400
