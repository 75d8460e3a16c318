"""The SQL connector against real PostgreSQL, MariaDB, SQLite and DuckDB sources."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from cairn.cli.main import app as cli
from cairn.connectors.sql import crawl_sql
from cairn.core import extras
from cairn.core.errors import InvalidInput, PermissionDenied
from cairn.core.lineage import LineageService
from cairn.core.principal import Principal
from cairn.core.resources import PageRequest, ResourceService
from cairn.models.resources import ResourceWrite
from cairn.store import Store
from cairn.store.schema import integration, resource, resource_version
from tests.conftest import Api, _worker
from tests.connector_sources import maria_databases, maria_run, pg_run, pg_source

SHOP = [
    "CREATE SCHEMA shop",
    "CREATE TABLE shop.customers (id serial PRIMARY KEY, name text NOT NULL, email varchar(200))",
    "COMMENT ON TABLE shop.customers IS 'People who buy'",
    "COMMENT ON COLUMN shop.customers.email IS 'Contact address'",
    "CREATE TABLE shop.orders (id bigint PRIMARY KEY, customer_id int REFERENCES shop.customers(id), "
    "amount numeric(10, 2), placed_at timestamptz)",
    "CREATE TABLE shop.legacy (id int)",
    "CREATE VIEW shop.big_orders AS SELECT o.id, c.name AS customer, o.amount * 2 AS doubled "
    "FROM shop.orders o JOIN shop.customers c ON c.id = o.customer_id WHERE o.amount > 100",
    "CREATE MATERIALIZED VIEW shop.totals AS SELECT customer_id, sum(amount) AS total FROM shop.orders "
    "GROUP BY customer_id",
    "CREATE SCHEMA scratch",
    "CREATE TABLE scratch.tmp (x int)",
    "INSERT INTO shop.customers (name) SELECT 'c' || g FROM generate_series(1, 50) g",
    "ANALYZE",
]


def rows(store: Store, workspace_id: str) -> dict[str, Any]:
    """Every resource by ``title_full``, with its details merged in (as the API shows them)."""
    with store.read() as conn:
        found = conn.execute(
            select(resource).where(
                resource.c.workspace_id == workspace_id, resource.c.entity_type != "collection"
            )
        ).all()
        details = extras.details_of(conn, [r.pk for r in found])
    return {r.title_full: {**r._mapping, **details.get(r.pk, {})} for r in found}


def upstreams(store: Store, admin: Principal) -> set[tuple[str, str]]:
    page = LineageService(store).list(admin, origin="view", paging=PageRequest(page_size=1000))
    return {(e["upstream_id"], e["downstream_id"]) for e in page.items}


def named_edges(store: Store, admin: Principal, got: dict[str, Any]) -> set[tuple[str, str]]:
    ids = {v["id"]: k for k, v in got.items()}
    return {(ids[u], ids[d]) for u, d in upstreams(store, admin)}


def versions(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(resource_version)).scalar_one())


def test_postgres_crawl_recrawl_user_edits_and_staleness(store: Store, admin: Principal) -> None:
    with pg_source() as url:
        pg_run(url, *SHOP)
        source_url = url.replace("postgres@", "postgres:s3cret@")
        first = crawl_sql(store, admin, source_url, exclude=["scratch"])
        assert first.errors == []
        got = rows(store, admin.workspace_id)
        db = url.rsplit("/", 1)[1]
        customers = got[f"{db}.shop.customers"]
        assert customers["native_type"] == "table"
        assert customers["description"] == "People who buy"
        assert customers["row_count"] == 50
        assert customers["byte_size"] > 0
        assert customers["primary_key"] == ["id"]
        assert customers["published"] is True
        email = got[f"{db}.shop.customers.email"]
        assert email["description"] == "Contact address"
        assert email["native_type"] == "VARCHAR(200)"
        assert (email["type"], email["sort_order"], email["is_pk"], email["is_nullable"]) == (
            "string",
            3,
            False,
            True,
        )
        assert got[f"{db}.shop.customers.id"]["is_pk"] is True
        assert got[f"{db}.shop.customers.name"]["is_nullable"] is False
        orders = got[f"{db}.shop.orders"]
        assert orders["foreign_keys"] == [
            {
                "columns": ["customer_id"],
                "referred_schema": "shop",
                "referred_table": "customers",
                "referred_columns": ["id"],
            }
        ]
        assert got[f"{db}.shop.orders.customer_id"]["foreign_key"] == "shop.customers.id"
        assert got[f"{db}.shop.orders.placed_at"]["type"] == "timestamp"
        assert got[f"{db}.shop.orders.amount"]["native_type"] == "NUMERIC(10, 2)"
        view = got[f"{db}.shop.big_orders"]
        assert view["native_type"] == "view"
        assert "shop.orders" in view["view_definition"]
        assert got[f"{db}.shop.totals"]["native_type"] == "materialized view"
        assert got[f"{db}.shop.totals.total"]["type"] == "decimal"
        assert f"{db}.scratch" not in got
        assert f"{db}.scratch.tmp" not in got
        edges = upstreams(store, admin)
        ids = {v["id"]: k.removeprefix(f"{db}.") for k, v in got.items()}
        named = {(ids[u], ids[d]) for u, d in edges}
        assert named == {
            ("shop.orders", "shop.big_orders"),
            ("shop.customers", "shop.big_orders"),
            ("shop.orders.id", "shop.big_orders.id"),
            ("shop.customers.name", "shop.big_orders.customer"),
            ("shop.orders.amount", "shop.big_orders.doubled"),
            ("shop.orders", "shop.totals"),
            ("shop.orders.customer_id", "shop.totals.customer_id"),
            ("shop.orders.amount", "shop.totals.total"),
        }
        assert first.edges == len(named)
        assert got[db]["children_count"] == 2  # public and shop
        assert got[f"{db}.shop"]["children_count"] == 5
        assert customers["children_count"] == 3
        assert customers["databuilder_id"].endswith("/shop/customers")
        assert first.created == len(got)
        # The password is never stored.
        with store.read() as conn:
            creds = conn.execute(select(integration.c.credentials)).scalar_one()
        assert "s3cret" not in str(creds)
        assert "***" in creds["url"]

        # A re-crawl of an unchanged source writes nothing, not even updated_at.
        before_versions = versions(store)
        second = crawl_sql(store, admin, source_url, exclude=["scratch"])
        assert (second.created, second.updated, second.staled, second.errors) == (0, 0, 0, [])
        assert second.unchanged == len(got)
        again = rows(store, admin.workspace_id)
        assert {k: v["updated_at"] for k, v in again.items()} == {k: v["updated_at"] for k, v in got.items()}
        assert versions(store) == before_versions
        assert upstreams(store, admin) == edges

        # A user documents two resources in Cairn; then the source changes.
        service = ResourceService(store)
        service.update(
            admin, customers["id"], ResourceWrite(description="Our customers (curated)", owners=["alice"])
        )
        service.update(admin, orders["id"], ResourceWrite(tags=[]))
        pg_run(
            url,
            "COMMENT ON TABLE shop.customers IS 'changed at the source'",
            "COMMENT ON TABLE shop.orders IS 'Orders placed'",
            "ALTER TABLE shop.orders ADD COLUMN note text",
            "DROP TABLE shop.legacy",
        )
        third = crawl_sql(store, admin, source_url, exclude=["scratch"])
        assert third.errors == []
        after = rows(store, admin.workspace_id)
        assert after[f"{db}.shop.customers"]["description"] == "Our customers (curated)"
        assert after[f"{db}.shop.customers"]["owners"] == ["alice"]
        assert after[f"{db}.shop.orders"]["description"] == "Orders placed"
        assert after[f"{db}.shop.orders.note"]["sort_order"] == 5
        legacy = after[f"{db}.shop.legacy"]
        assert legacy["stale"] is True
        assert legacy["stale_at"] is not None
        assert after[f"{db}.shop.legacy.id"]["stale"] is True
        assert third.staled == 2
        assert third.created == 1
        assert after[f"{db}.shop.customers"]["id"] == customers["id"]  # updated in place

        # Stale resources are hidden from lists; the table coming back unstales it.
        listed = service.list(admin).items
        assert legacy["id"] not in {item["id"] for item in listed}
        pg_run(url, "CREATE TABLE shop.legacy (id int)")
        fourth = crawl_sql(store, admin, source_url, exclude=["scratch"])
        back = rows(store, admin.workspace_id)
        assert back[f"{db}.shop.legacy"]["stale"] is False
        assert back[f"{db}.shop.legacy"]["stale_at"] is None
        assert back[f"{db}.shop.legacy"]["id"] == legacy["id"]
        assert fourth.unstaled == 2

        # Excluded schemas are not staled by a crawl that did not look at them.
        fifth = crawl_sql(store, admin, source_url, include=["public"])
        assert fifth.staled == 0


def test_connection_failure_and_bad_urls_are_reported_without_the_password(
    store: Store, admin: Principal
) -> None:
    with pytest.raises(InvalidInput) as caught:
        crawl_sql(store, admin, "postgresql://postgres:hunter2@127.0.0.1:1/nowhere")
    assert caught.value.field == "url"
    assert "hunter2" not in caught.value.message
    assert "***" in caught.value.message
    for bad in ("not a url", "oracle://x/y", "sqlite:///does/not/exist.db", "duckdb:///:memory:"):
        with pytest.raises(InvalidInput):
            crawl_sql(store, admin, bad)
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(integration)).scalar_one() == 0
    viewer = Principal(admin.workspace_id, admin.organization_id, "editor")
    with pytest.raises(PermissionDenied):
        crawl_sql(store, viewer, "sqlite:///x.db")


def test_mariadb_crawl_and_a_schema_without_permission(store: Store, admin: Principal) -> None:
    user = f"cairn_ro_{_worker()}"[:80]
    with maria_databases("shop", "locked") as (shop, locked):
        maria_run(
            f"CREATE TABLE `{shop}`.customers (id int PRIMARY KEY, "
            "name varchar(40) NOT NULL COMMENT 'Full name') "
            "COMMENT='People who buy'",
            f"CREATE TABLE `{shop}`.orders (id int PRIMARY KEY, customer_id int, amount decimal(10,2), "
            f"FOREIGN KEY (customer_id) REFERENCES `{shop}`.customers(id))",
            f"INSERT INTO `{shop}`.customers VALUES (1, 'a'), (2, 'b')",
            f"CREATE VIEW `{shop}`.named_orders AS SELECT o.id, c.name FROM `{shop}`.orders o "
            f"JOIN `{shop}`.customers c ON c.id = o.customer_id",
            f"ANALYZE TABLE `{shop}`.customers",
            f"CREATE TABLE `{locked}`.secrets (id int)",
            f"CREATE VIEW `{locked}`.v AS SELECT id FROM `{locked}`.secrets",
            f"DROP USER IF EXISTS '{user}'@'%'",
            f"CREATE USER '{user}'@'%' IDENTIFIED BY 'pw-{user}'",
            f"GRANT SELECT ON `{shop}`.* TO '{user}'@'%'",
            f"GRANT SHOW VIEW ON `{shop}`.* TO '{user}'@'%'",
            # SELECT without SHOW VIEW: the view's definition cannot be read.
            f"GRANT SELECT ON `{locked}`.* TO '{user}'@'%'",
        )
        try:
            url = f"mysql://{user}:pw-{user}@127.0.0.1:3306/"
            summary = crawl_sql(store, admin, url, include=[shop, locked], integration="maria")
            assert len(summary.errors) == 1
            assert summary.errors[0].startswith(f"schema {locked}:")
            assert f"pw-{user}" not in summary.errors[0]
            got = rows(store, admin.workspace_id)
            customers = got[f"127.0.0.1.{shop}.customers"]
            assert customers["description"] == "People who buy"
            assert customers["row_count"] == 2
            assert customers["external_updated_at"] is not None
            assert got[f"127.0.0.1.{shop}.customers.name"]["description"] == "Full name"
            assert got[f"127.0.0.1.{shop}.customers.name"]["native_type"] == "VARCHAR(40)"
            assert got[f"127.0.0.1.{shop}.orders.customer_id"]["foreign_key"] == f"{shop}.customers.id"
            assert got[f"127.0.0.1.{shop}.named_orders"]["native_type"] == "view"
            assert named_edges(store, admin, got) >= {
                (f"127.0.0.1.{shop}.orders", f"127.0.0.1.{shop}.named_orders"),
                (f"127.0.0.1.{shop}.customers.name", f"127.0.0.1.{shop}.named_orders.name"),
            }
            assert not any(k.startswith(f"127.0.0.1.{locked}") for k in got)

            # Changing the source: a dropped column goes stale; the locked schema stays unjudged.
            maria_run(f"ALTER TABLE `{shop}`.orders DROP COLUMN amount")
            again = crawl_sql(store, admin, url, include=[shop, locked], integration="maria")
            assert again.staled == 1
            assert rows(store, admin.workspace_id)[f"127.0.0.1.{shop}.orders.amount"]["stale"] is True
        finally:
            maria_run(f"DROP USER IF EXISTS '{user}'@'%'")


def test_sqlite_file(store: Store, admin: Principal, tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);"
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), body TEXT);"
        "CREATE VIEW user_posts AS SELECT u.email, p.body FROM posts p JOIN users u ON u.id = p.user_id;"
        "INSERT INTO users (email) VALUES ('a@x'), ('b@x'), ('c@x'); ANALYZE;"
    )
    conn.close()
    summary = crawl_sql(store, admin, f"sqlite:///{path}")
    assert summary.errors == []
    got = rows(store, admin.workspace_id)
    assert got["app.main.posts.user_id"]["foreign_key"] == "main.users.id"
    assert got["app.main.users.id"]["is_pk"] is True
    assert got["app.main.users"]["row_count"] == 3
    assert got["app.main.users"]["byte_size"] >= 4096
    assert got["app.main.user_posts"]["native_type"] == "view"
    assert "JOIN users" in got["app.main.user_posts"]["view_definition"]
    assert named_edges(store, admin, got) == {
        ("app.main.posts", "app.main.user_posts"),
        ("app.main.users", "app.main.user_posts"),
        ("app.main.users.email", "app.main.user_posts.email"),
        ("app.main.posts.body", "app.main.user_posts.body"),
    }
    conn = sqlite3.connect(path)
    conn.executescript("ALTER TABLE users ADD COLUMN name TEXT; DROP VIEW user_posts;")
    conn.close()
    again = crawl_sql(store, admin, f"sqlite:///{path}")
    assert (again.created, again.staled) == (1, 3)
    assert path.stat().st_size > 0


def test_duckdb_file(store: Store, admin: Principal, tmp_path: Path) -> None:
    path = tmp_path / "lake.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute(
        "CREATE SCHEMA raw;"
        "CREATE TABLE raw.events (id INTEGER PRIMARY KEY, kind VARCHAR NOT NULL, "
        "seen_at TIMESTAMP, tags VARCHAR[]);"
        "COMMENT ON TABLE raw.events IS 'Clickstream';"
        "COMMENT ON COLUMN raw.events.kind IS 'Event kind';"
        "INSERT INTO raw.events VALUES (1, 'a', NULL, NULL), (2, 'b', NULL, NULL);"
        "CREATE VIEW raw.kinds AS SELECT kind, count(*) AS n FROM raw.events GROUP BY kind;"
    )
    conn.close()
    summary = crawl_sql(store, admin, f"duckdb:///{path}")
    assert summary.errors == []
    got = rows(store, admin.workspace_id)
    events = got["lake.raw.events"]
    assert events["description"] == "Clickstream"
    assert events["row_count"] == 2
    assert events["primary_key"] == ["id"]
    kind = got["lake.raw.events.kind"]
    assert (kind["description"], kind["type"], kind["is_nullable"], kind["sort_order"]) == (
        "Event kind",
        "string",
        False,
        2,
    )
    assert got["lake.raw.events.tags"]["type"] == "array"
    assert got["lake.raw.kinds"]["native_type"] == "view"
    assert named_edges(store, admin, got) == {
        ("lake.raw.events", "lake.raw.kinds"),
        ("lake.raw.events.kind", "lake.raw.kinds.kind"),
    }
    unchanged = crawl_sql(store, admin, f"duckdb:///{path}")
    assert (unchanged.created, unchanged.updated, unchanged.staled) == (0, 0, 0)


def test_api_and_cli(api: Api, tmp_path: Path) -> None:
    path = tmp_path / "small.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);")
    conn.close()
    client: Any = api.client
    response = client.post("/ingest/sql", json={"url": f"sqlite:///{path}", "integration": "small"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["errors"]) == (5, [])
    assert (
        client.post("/api/v1/ingest/sql/", json={"url": f"sqlite:///{path}", "integration": "small"}).json()[
            "unchanged"
        ]
        == 5
    )
    bad = client.post("/ingest/sql", json={"url": "postgresql://u:pw@127.0.0.1:1/x"})
    assert bad.status_code == 400
    assert bad.json()["fields"] == {"url": [bad.json()["detail"]]}
    assert "pw" not in bad.json()["detail"].replace("postgresql", "")
    assert client.post("/ingest/sql", json={}).status_code == 400
    editor = client.post("/ingest/sql", json={"url": f"sqlite:///{path}"}, headers=api.as_role("editor"))
    assert editor.status_code == 403

    catalog = tmp_path / "cli.db"
    result = CliRunner().invoke(cli, ["ingest", "sql", f"sqlite:///{path}", "--db", str(catalog)])
    assert result.exit_code == 0, result.output
    assert "5 created, 0 updated, 0 unchanged, 0 staled" in result.output
    failed = CliRunner().invoke(
        cli, ["ingest", "sql", "postgresql://u:topsecret@127.0.0.1:1/x", "--db", str(catalog)]
    )
    assert failed.exit_code == 1
    assert "topsecret" not in failed.output
    assert "***" in failed.output
