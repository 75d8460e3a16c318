"""The extraction log: every ingest is recorded with its outcome, through every entry point."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

import cairn
from cairn.cli.main import app as cli
from tests.conftest import Api
from tests.helpers import catalog, make_integration
from tests.test_ingest import RESOURCES, jsonl, upload
from tests.test_web import Browser


def runs(api: Api, path: str = "/integration/extractions", **params: Any) -> dict[str, Any]:
    response = api.client.get(path, params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_import_metadata_runs_succeed_fail_and_are_listed_newest_first(api: Api) -> None:
    integration = make_integration(api.client, "custom")
    assert upload(api, integration, resources_file=jsonl(RESOURCES)).status_code == 200
    assert upload(api, integration, resources_file=jsonl(RESOURCES)).status_code == 200
    before = catalog(api.client, page_size=100).json()["count"]
    bad = upload(api, integration, resources_file=b'{"entity_type": "table"}\n')
    assert bad.status_code == 400

    page = runs(api, f"/integration/integrations/{integration}/extractions")
    assert page["count"] == 3
    failed, second, first = page["results"]
    assert (failed["status"], failed["source"], failed["integration_id"]) == (
        "failed",
        "import_metadata",
        integration,
    )
    assert "title" in failed["error"] or "databuilder_id" in failed["error"]
    assert failed["summary"]["duration_ms"] >= 0
    assert first["status"] == "succeeded"
    assert first["error"] is None
    assert {k: first["summary"][k] for k in ("created", "updated", "stale", "errors")} == {
        "created": 7,
        "updated": 0,
        "stale": 0,
        "errors": 0,
    }
    assert second["summary"]["unchanged"] == 7
    assert second["summary"]["created"] == 0
    assert first["actor"] == "test-admin"
    assert first["integration_name"] == "custom"
    assert first["started_at"] <= second["started_at"] <= failed["started_at"]
    # The failed upload wrote nothing to the catalog: only its record.
    assert catalog(api.client, page_size=100).json()["count"] == before

    assert runs(api, status="failed")["count"] == 1
    assert runs(api, integration_id=integration, status="succeeded")["count"] == 2
    refused = api.client.get("/integration/extractions", params={"status": "exploded"})
    assert refused.status_code == 400
    assert "status" in refused.text


def test_refused_calls_are_not_runs_and_viewers_cannot_read_runs(api: Api) -> None:
    integration = make_integration(api.client, "custom")
    viewer = api.as_role("viewer")
    forbidden = api.client.post(
        f"/integration/integrations/{integration}/import_metadata/",
        files={"resources_file": ("r.jsonl", jsonl(RESOURCES))},
        headers=viewer,
    )
    assert forbidden.status_code == 403
    missing = upload(api, "6d0c8f5e-0000-4000-8000-000000000000", resources_file=jsonl(RESOURCES))
    assert missing.status_code == 404
    assert runs(api)["count"] == 0
    assert api.client.get("/integration/extractions", headers=viewer).status_code == 403
    assert api.client.get("/integration/extractions", headers=api.as_role("editor")).status_code == 200
    unknown = api.client.get("/integration/integrations/6d0c8f5e-0000-4000-8000-000000000000/extractions")
    assert unknown.status_code == 404


def test_dbt_airflow_and_crawl_runs_and_deleting_the_integration_drops_them(api: Api, tmp_path: Path) -> None:
    integration = make_integration(api.client, "dbt")
    manifest = {
        "metadata": {"project_name": "shop"},
        "nodes": {
            "model.shop.orders": {
                "resource_type": "model",
                "unique_id": "model.shop.orders",
                "name": "orders",
                "database": "db",
                "schema": "marts",
                "depends_on": {"nodes": []},
                "columns": {},
            }
        },
        "sources": {},
    }
    dbt = api.client.post(
        f"/integration/dbt/{integration}/upload_artifacts",
        files={"manifest": ("manifest.json", json.dumps(manifest).encode())},
    )
    assert dbt.status_code == 200, dbt.text
    airflow = make_integration(api.client, "airflow")
    logged = api.client.post(
        f"/integration/run_logs/{airflow}/ingest/",
        json={"dag": {"dag_id": "nightly"}},
    )
    assert logged.status_code == 201, logged.text
    source = tmp_path / "app.sqlite"
    conn = sqlite3.connect(source)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
    conn.close()
    crawled = api.client.post("/ingest/sql", json={"url": f"sqlite:///{source}", "integration": "app"})
    assert crawled.status_code == 200, crawled.text
    broken = api.client.post("/ingest/sql", json={"url": f"sqlite:///{tmp_path}/missing.sqlite"})
    assert broken.status_code == 400

    by_source = {r["source"]: r for r in reversed(runs(api)["results"])}
    assert by_source["dbt"]["integration_id"] == integration
    assert by_source["dbt"]["summary"]["created"] >= 1
    assert by_source["airflow"]["integration_id"] == airflow
    assert by_source["airflow"]["summary"]["runs"] == 0
    crawl = [r for r in runs(api)["results"] if r["source"] == "sql"]
    assert [r["status"] for r in crawl] == ["failed", "succeeded"]
    assert crawl[1]["integration_id"] == crawled.json()["integration"]
    assert crawl[1]["summary"]["created"] >= 3  # database, table and its columns
    assert crawl[0]["integration_id"] is None
    assert "missing.sqlite" in crawl[0]["error"]

    assert api.client.delete(f"/integration/integrations/{integration}").status_code == 204
    assert all(r["integration_id"] != integration for r in runs(api)["results"])


def test_sdk_cli_and_admin_page_show_runs(api: Api, tmp_path: Path) -> None:
    database = tmp_path / "catalog.db"
    source = tmp_path / "shop.sqlite"
    conn = sqlite3.connect(source)
    conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
    conn.close()
    runner = CliRunner()
    crawled = runner.invoke(cli, ["ingest", "sql", f"sqlite:///{source}", "--db", str(database)])
    assert crawled.exit_code == 0, crawled.output
    listed = runner.invoke(cli, ["ingest", "runs", "--db", str(database), "--json"])
    assert listed.exit_code == 0, listed.output
    [run] = json.loads(listed.stdout)
    assert (run["source"], run["status"]) == ("sql", "succeeded")
    table = runner.invoke(cli, ["ingest", "runs", "--db", str(database), "--status", "failed"])
    assert table.exit_code == 0
    assert run["id"] not in table.stdout
    with cairn.Catalog(str(database)) as client:
        [again] = client.integrations.extractions(run["integration_id"]).to_list()
        assert again.id == run["id"]
        assert again.summary["created"] == run["summary"]["created"]

    integration = make_integration(api.client, "custom")
    upload(api, integration, resources_file=b"not json\n")
    admin = Browser(api.client.app)
    admin.sign_in(api.headers["Authorization"].removeprefix("Bearer "))
    page = admin.get("/ui/admin/runs?status=failed")
    assert page.status_code == 200, page.text
    assert "import_metadata" in page.text
    assert "badge-failed" in page.text
    assert "custom" in page.text
    assert 'href="/ui/admin/runs" aria-current="page"' in admin.get("/ui/admin/runs").text
    viewer = Browser(api.client.app)
    viewer.sign_in(api.as_role("viewer").get("Authorization", "").removeprefix("Bearer "))
    refused = viewer.get("/ui/admin/runs")
    assert refused.status_code == 403
    assert "import_metadata" not in refused.text
