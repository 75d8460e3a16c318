"""OpenLineage events sent by the real openlineage-python client to a live Cairn server."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import column_lineage_dataset, documentation_job, schema_dataset, sql_job
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport
from sqlalchemy import select

from cairn.connectors.sql import crawl_sql
from cairn.core.keys import create_key
from cairn.core.lineage import LineageService
from cairn.core.principal import Principal
from cairn.core.resources import PageRequest
from cairn.store import Store
from cairn.store.schema import run
from tests.live_server import live_server
from tests.test_connectors_sql import rows

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.0.0/client/python"
T0 = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def _event(
    state: RunState,
    run_id: str,
    at: datetime,
    *,
    inputs: list[Any] | None = None,
    outputs: list[Any] | None = None,
) -> RunEvent:
    job_facets = {
        "documentation": documentation_job.DocumentationJobFacet(description="Revenue per day"),
        "sql": sql_job.SQLJobFacet(query="INSERT INTO mart.daily_revenue SELECT ..."),
    }
    return RunEvent(
        eventType=state,
        eventTime=at.isoformat(),
        run=Run(runId=run_id),
        job=Job(namespace="airflow", name="etl.daily_revenue", facets=job_facets),
        producer=PRODUCER,
        inputs=inputs or [],
        outputs=outputs or [],
    )


def test_openlineage_client_against_a_live_server(store: Store, admin: Principal, tmp_path: Path) -> None:
    source = tmp_path / "shop.sqlite"
    conn = sqlite3.connect(source)
    conn.executescript("CREATE TABLE orders (id INTEGER PRIMARY KEY, amount REAL, placed_on TEXT);")
    conn.close()
    assert crawl_sql(store, admin, f"sqlite:///{source}").errors == []
    key = create_key(store, workspace_id=admin.workspace_id, name="airflow", role="editor")
    viewer = create_key(store, workspace_id=admin.workspace_id, name="reader", role="viewer")

    orders = InputDataset(namespace=f"sqlite://{source}", name="shop.main.orders")
    source_of = (orders.namespace, orders.name)
    output_facets = {
        "schema": schema_dataset.SchemaDatasetFacet(
            fields=[
                schema_dataset.SchemaDatasetFacetFields(name="day", type="DATE", description="The day"),
                schema_dataset.SchemaDatasetFacetFields(name="revenue", type="DECIMAL(12,2)"),
            ]
        ),
        "columnLineage": column_lineage_dataset.ColumnLineageDatasetFacet(
            fields={
                "revenue": column_lineage_dataset.Fields(
                    inputFields=[column_lineage_dataset.InputField(*source_of, "amount")]
                ),
                "day": column_lineage_dataset.Fields(
                    inputFields=[column_lineage_dataset.InputField(*source_of, "placed_on")]
                ),
            }
        ),
    }
    revenue = OutputDataset(
        namespace="postgres://dw:5432", name="analytics.mart.daily_revenue", facets=output_facets
    )
    first, second = str(uuid.uuid4()), str(uuid.uuid4())

    with live_server(store) as base:
        client = OpenLineageClient(
            transport=HttpTransport(HttpConfig(url=base, auth=ApiKeyTokenProvider({"api_key": key.token})))
        )
        client.emit(_event(RunState.START, first, T0, inputs=[orders], outputs=[revenue]))
        done_at = T0 + timedelta(minutes=5)
        client.emit(_event(RunState.COMPLETE, first, done_at, inputs=[orders], outputs=[revenue]))
        # Late delivery: an older RUNNING event must not move the finished run back.
        client.emit(_event(RunState.RUNNING, first, T0 + timedelta(minutes=2)))
        client.emit(_event(RunState.START, second, T0 + timedelta(hours=1)))
        client.emit(_event(RunState.FAIL, second, T0 + timedelta(hours=1, minutes=1)))

        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key.token}"}) as http:
            batch = [
                {
                    "eventType": "COMPLETE",
                    "eventTime": (T0 + timedelta(hours=2)).isoformat(),
                    "run": {"runId": str(uuid.uuid4())},
                    "job": {"namespace": "dbt", "name": "nightly"},
                    "inputs": [{"namespace": revenue.namespace, "name": revenue.name}],
                    "outputs": [{"namespace": "s3://lake", "name": "exports/revenue.csv"}],
                    "producer": PRODUCER,
                    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
                },
                {
                    "eventTime": (T0 + timedelta(hours=2)).isoformat(),
                    "dataset": {"namespace": "s3://lake", "name": "exports/archive.csv"},
                    "producer": PRODUCER,
                    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
                },
            ]
            accepted = http.post("/api/v1/lineage/batch", json=batch)
            assert accepted.status_code == 201, accepted.text
            assert accepted.json()["events"] == 2
            assert http.post("/api/v1/lineage", json=batch).status_code == 201  # an array works too
            missing = http.post("/api/v1/lineage", json={**batch[0], "eventTime": None})
            assert missing.status_code == 400
            assert any("eventTime" in f for f in missing.json()["fields"])
            no_job = http.post("/api/v1/lineage", json={k: v for k, v in batch[0].items() if k != "job"})
            assert no_job.status_code == 400
            assert no_job.json()["fields"] == {"body.job": ["a RunEvent needs a job"]}
            bad_state = http.post("/api/v1/lineage", json={**batch[0], "eventType": "DONE"})
            assert bad_state.status_code == 400
            # No backend stores a NUL character (PostgreSQL refuses it): a 400 naming the field.
            nul_job = {**batch[0]["job"], "name": "etl\x00daily"}
            nul = http.post("/api/v1/lineage", json={**batch[0], "job": nul_job})
            assert nul.status_code == 400, nul.text
            assert any("job.name" in f for f in nul.json()["fields"])
            as_viewer = {"Authorization": f"Bearer {viewer.token}"}
            denied = http.post("/api/v1/lineage", json=batch[0], headers=as_viewer)
            assert denied.status_code == 403
            assert httpx.post(f"{base}/api/v1/lineage", json=batch[0]).status_code == 401

    got = rows(store, admin.workspace_id)
    job = got["airflow.etl.daily_revenue"]
    assert job["entity_type"] == "job"
    assert job["description"] == "Revenue per day"
    assert job["sql"].startswith("INSERT INTO mart.daily_revenue")
    assert (job["last_run_state"], job["last_run_id"]) == ("FAIL", second)
    assert got["airflow"]["entity_type"] == "job_group"
    with store.read() as conn:
        runs = {r.run_key: r for r in conn.execute(select(run))}
    done = runs[first]
    assert done.status == "COMPLETE"
    assert done.started_at.replace(tzinfo=UTC) == T0
    assert done.finished_at.replace(tzinfo=UTC) == T0 + timedelta(minutes=5)
    assert runs[second].status == "FAIL"

    # The input mapped onto the crawled table; the output was created with its columns.
    assert [k for k in got if k.endswith("orders")] == ["shop.main.orders"]
    daily = got["analytics.mart.daily_revenue"]
    assert daily["entity_type"] == "table"
    assert got["analytics.mart.daily_revenue.day"]["description"] == "The day"
    assert got["analytics.mart.daily_revenue.revenue"]["native_type"] == "DECIMAL(12,2)"
    assert got["exports/archive.csv"]["entity_type"] == "table"

    page = LineageService(store).list(admin, origin="openlineage", paging=PageRequest(page_size=100))
    ids = {v["id"]: k for k, v in got.items()}
    edges = {(ids[e["upstream_id"]], ids[e["downstream_id"]]) for e in page.items}
    assert edges == {
        ("shop.main.orders", "airflow.etl.daily_revenue"),
        ("airflow.etl.daily_revenue", "analytics.mart.daily_revenue"),
        ("shop.main.orders.amount", "analytics.mart.daily_revenue.revenue"),
        ("shop.main.orders.placed_on", "analytics.mart.daily_revenue.day"),
        ("analytics.mart.daily_revenue", "dbt.nightly"),
        ("dbt.nightly", "exports/revenue.csv"),
    }
