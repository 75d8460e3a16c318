"""dbt artifacts made in the suite by a real dbt project (dbt-core + dbt-duckdb), merged into the catalog."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cairn.cli.main import app as cli
from cairn.connectors.dbt import parse_artifacts, parse_dbt_artifacts
from cairn.connectors.dbt_project import ingest_dbt
from cairn.connectors.sql import crawl_sql
from cairn.core.errors import InvalidInput
from cairn.core.lineage import LineageService
from cairn.core.principal import Principal
from cairn.core.resources import PageRequest, ResourceService
from cairn.models.resources import ResourceWrite
from cairn.store import Store
from cairn.store.schema import catalog_user, run, tag
from tests.test_connectors_sql import rows

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "tests" / "dbt_project"
DBT = ROOT / ".venv-dbt" / "bin" / "dbt"


@pytest.fixture(scope="session")
def dbt_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``dbt build`` then ``dbt docs generate`` once per session; the artifacts and the warehouse file."""
    assert DBT.exists(), "dbt is not installed: run `make install` (it creates .venv-dbt)"
    work = tmp_path_factory.mktemp("dbt") / "project"
    shutil.copytree(PROJECT, work, ignore=shutil.ignore_patterns("target", "logs", "*.duckdb"))
    warehouse = work / "warehouse.duckdb"
    env = {
        **os.environ,
        "CAIRN_DBT_DUCKDB": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PROFILES_DIR": str(work),
    }
    flags = ["--project-dir", str(work), "--profiles-dir", str(work)]
    build = subprocess.run([str(DBT), "build", *flags], env=env, capture_output=True, text=True, check=False)
    assert build.returncode == 0, build.stdout[-3000:]
    results = json.loads((work / "target" / "run_results.json").read_text())
    docs = subprocess.run(
        [str(DBT), "docs", "generate", *flags], env=env, capture_output=True, text=True, check=False
    )
    assert docs.returncode == 0, docs.stdout[-3000:]
    target = work / "target"
    (target / "build_run_results.json").write_text(json.dumps(results))
    return {
        "warehouse": warehouse,
        "manifest_path": target / "manifest.json",
        "catalog_path": target / "catalog.json",
        "run_results_path": target / "build_run_results.json",
        "manifest": json.loads((target / "manifest.json").read_text()),
        "catalog": json.loads((target / "catalog.json").read_text()),
        "run_results": results,
    }


def test_parser_is_plain_data(dbt_run: dict[str, Any]) -> None:
    parsed = parse_dbt_artifacts(dbt_run["manifest"], dbt_run["catalog"], dbt_run["run_results"])
    json.dumps(parsed)  # plain data all the way down
    assert parsed["project"] == "cairn_shop"
    assert parsed["adapter"] == "duckdb"
    kinds = {n["unique_id"]: n["resource_type"] for n in parsed["nodes"]}
    assert kinds["model.cairn_shop.customer_orders"] == "model"
    assert kinds["seed.cairn_shop.raw_customers"] == "seed"
    assert kinds["snapshot.cairn_shop.customers_snapshot"] == "snapshot"
    assert kinds["source.cairn_shop.shop_raw.raw_payments"] == "source"
    assert kinds["exposure.cairn_shop.revenue_dashboard"] == "exposure"
    assert sum(1 for k in kinds.values() if k == "test") == 4
    lineage = {(e["upstream"].split(".")[-1], e["downstream"].split(".")[-1]) for e in parsed["lineage"]}
    assert ("raw_payments", "stg_orders") in lineage
    assert ("customer_orders", "revenue_dashboard") in lineage
    columns = {
        (
            e["upstream"].split(".")[-1],
            e["upstream_column"],
            e["downstream"].split(".")[-1],
            e["downstream_column"],
        )
        for e in parsed["column_lineage"]
    }
    assert ("stg_orders", "amount", "customer_orders", "revenue") in columns
    assert ("raw_payments", "amount_cents", "stg_orders", "amount") in columns
    assert ("raw_customers", "first_name", "stg_customers", "full_name") in columns
    with pytest.raises(InvalidInput) as caught:
        parse_dbt_artifacts({"nodes": []})
    assert caught.value.field == "manifest.nodes"
    with pytest.raises(InvalidInput):
        parse_dbt_artifacts(dbt_run["manifest"], run_results={"results": {}})


def test_one_reader_for_the_cli_and_the_upload_refuses_the_same_artifacts() -> None:
    """`cairn ingest dbt` and Secoda's upload_artifacts read artifacts through one parser, so
    what one refuses the other refuses, with the same message."""
    model = {
        "resource_type": "model",
        "name": "orders",
        "database": "analytics",
        "schema": "marts",
        "description": "  One row per order  ",
    }
    bad: list[tuple[dict[str, Any], dict[str, Any] | None, str, str]] = [
        ({}, None, "manifest.nodes", "'nodes'"),
        ({"nodes": {"model.x.orders": {**model, "description": "bad\u0000"}}}, None, "manifest", "NUL"),
        (
            {"nodes": {}},
            {"results": [{"status": "pass"}]},
            "run_results.results",
            "results[0] has no unique_id",
        ),
        ({"nodes": {}}, {"results": [{"unique_id": "m", "status": "ok\u0000"}]}, "run_results", "NUL"),
    ]
    for manifest, results, field, message in bad:
        with pytest.raises(InvalidInput) as cli:
            parse_dbt_artifacts(manifest, run_results=results)
        assert (cli.value.field, message in cli.value.message) == (field, True), cli.value.message
        documents = json.dumps(manifest).encode(), json.dumps(results).encode() if results else None
        with pytest.raises(InvalidInput) as upload:
            parse_artifacts(*documents)
        assert upload.value.message == cli.value.message
    # The same text on both faces: trimmed, as the CLI always stored it.
    parsed = parse_dbt_artifacts({"nodes": {"model.x.orders": model}})
    assert parsed["nodes"][0]["description"] == "One row per order"
    records = parse_artifacts(json.dumps({"nodes": {"model.x.orders": model}}).encode()).records
    assert [(r.title, r.description) for r in records] == [("orders", "One row per order")]


def _by_native(got: dict[str, Any], native: str, title: str) -> dict[str, Any]:
    return next(v for v in got.values() if v["native_type"] == native and v["title"] == title)


def test_dbt_merged_onto_the_crawled_warehouse(
    store: Store, admin: Principal, dbt_run: dict[str, Any]
) -> None:
    assert crawl_sql(store, admin, f"duckdb:///{dbt_run['warehouse']}").errors == []
    summary = ingest_dbt(store, admin, dbt_run["manifest"], dbt_run["catalog"], dbt_run["run_results"])
    assert summary.errors == []
    got = rows(store, admin.workspace_id)
    table = got["warehouse.main.customer_orders"]
    node = _by_native(got, "dbt model", "customer_orders")
    assert table["description"] == "One row per customer: **orders and revenue**"
    assert table["sources"] == [node["id"]]
    assert table["children_count"] == 4  # the warehouse table keeps its columns
    assert node["children_count"] == 0
    assert node["dbt_materialized"] == "table"
    with store.read() as conn:
        tags = dict(conn.execute(select(tag.c.name, tag.c.id)).all())
        users = dict(conn.execute(select(catalog_user.c.email, catalog_user.c.id)).all())
    assert set(table["tags"]) == {tags["finance"], tags["gold"]}
    assert table["owners"] == [users["ada@example.com"]]
    revenue = got["warehouse.main.customer_orders.revenue"]
    assert revenue["description"] == "Total paid, in dollars"
    assert revenue["tags"] == [tags["money"]]
    assert got["warehouse.main.raw_payments"]["description"] == "One row per payment"
    assert got["warehouse.main.raw_payments.amount_cents"]["description"] == "Amount in cents"
    assert got["warehouse.snapshots.customers_snapshot"]["sources"] == [
        _by_native(got, "dbt snapshot", "customers_snapshot")["id"]
    ]
    assert set(got["warehouse.main.stg_customers"]["tags"]) == {tags["staging"]}

    tests = {v["title"]: v for v in got.values() if v["entity_type"] == "test"}
    assert tests["unique_stg_customers_customer_id"]["status"] == "pass"
    warned = tests["accepted_values_customer_orders_order_count__False__0__1"]
    assert (warned["status"], warned["failures"]) == ("warn", 1)
    assert warned["parent_id"] == got["cairn_shop"]["id"]  # the project's test suite
    with store.read() as conn:
        statuses = sorted(conn.execute(select(run.c.status)).scalars())
    assert statuses == ["pass", "pass", "pass", "warn"]
    dashboard = got["Revenue dashboard"]
    assert (dashboard["entity_type"], dashboard["url"]) == ("dashboard", "https://bi.example.com/d/revenue")
    assert dashboard["owners"] == [users["grace@example.com"]]

    page = LineageService(store).list(admin, origin="dbt", paging=PageRequest(page_size=1000))
    ids = {v["id"]: k for k, v in got.items()}
    edges = {(ids[e["upstream_id"]], ids[e["downstream_id"]]) for e in page.items}
    assert ("warehouse.main.stg_customers", "warehouse.main.customer_orders") in edges
    assert ("warehouse.main.raw_payments", "warehouse.main.stg_orders") in edges
    assert ("warehouse.main.customer_orders", "Revenue dashboard") in edges
    assert ("warehouse.main.stg_customers", "warehouse.snapshots.customers_snapshot") in edges
    assert ("warehouse.main.stg_orders.amount", "warehouse.main.customer_orders.revenue") in edges
    assert ("warehouse.main.raw_customers.last_name", "warehouse.main.stg_customers.full_name") in edges
    assert summary.edges == len(page.items)

    # The same artifacts again: nothing changes.
    again = ingest_dbt(store, admin, dbt_run["manifest"], dbt_run["catalog"], dbt_run["run_results"])
    assert (again.created, again.updated, again.staled, again.errors) == (0, 0, 0, [])
    assert rows(store, admin.workspace_id) == got

    # A description written in Cairn survives a changed dbt description; a removed model goes stale.
    ResourceService(store).update(
        admin, table["id"], ResourceWrite(description="Curated by the finance team")
    )
    manifest = copy.deepcopy(dbt_run["manifest"])
    manifest["nodes"]["model.cairn_shop.customer_orders"]["description"] = "changed in dbt"
    manifest["nodes"]["model.cairn_shop.stg_orders"]["description"] = "Orders (v2)"
    del manifest["nodes"]["snapshot.cairn_shop.customers_snapshot"]
    third = ingest_dbt(store, admin, manifest, dbt_run["catalog"], dbt_run["run_results"])
    after = rows(store, admin.workspace_id)
    assert after["warehouse.main.customer_orders"]["description"] == "Curated by the finance team"
    assert after["warehouse.main.stg_orders"]["description"] == "Orders (v2)"
    assert _by_native(after, "dbt snapshot", "customers_snapshot")["stale"] is True
    assert (
        after["warehouse.snapshots.customers_snapshot"]["stale"] is False
    )  # the warehouse table is not dbt's
    assert third.staled == 1


def test_dbt_without_a_warehouse_crawl_and_the_cli(
    store: Store, admin: Principal, dbt_run: dict[str, Any], tmp_path: Path
) -> None:
    summary = ingest_dbt(store, admin, dbt_run["manifest"])
    assert summary.errors == []
    got = rows(store, admin.workspace_id)
    node = _by_native(got, "dbt model", "customer_orders")
    assert node["description"] == "One row per customer: **orders and revenue**"
    assert got["customer_orders.revenue"]["description"] == "Total paid, in dollars"
    assert node["children_count"] == 3  # the documented columns, without catalog.json

    catalog_db = tmp_path / "cli.db"
    args = ["ingest", "dbt", str(dbt_run["manifest_path"]), "--db", str(catalog_db)]
    args += ["--catalog", str(dbt_run["catalog_path"]), "--run-results", str(dbt_run["run_results_path"])]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert " created, 0 updated, 0 unchanged, 0 staled" in result.output
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    failed = CliRunner().invoke(cli, ["ingest", "dbt", str(broken), "--db", str(catalog_db)])
    assert failed.exit_code == 1
    assert "not valid JSON" in failed.output
