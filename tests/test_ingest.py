"""Integration pushes: import_metadata (CSV, JSONL), dbt artifacts, Airflow run logs."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Api
from tests.helpers import catalog, make_integration

RESOURCES = [
    {
        "entity_type": "table",
        "databuilder_id": "secoda.public.order",
        "title": "order",
        "description": "Orders from KFC",
        "schema": "public",
        "database": "secoda",
    },
    {
        "entity_type": "column",
        "databuilder_id": "secoda.public.order.order_id",
        "parent_databuilder_id": "secoda.public.order",
        "title": "order_id",
        "is_pk": True,
        "type": "integer",
        "sort_order": 1,
    },
    {
        "entity_type": "dashboard",
        "databuilder_id": "dashboard.revenue",
        "title": "2023 Revenue Forecast",
        "group": "analytics",
    },
    {
        "entity_type": "chart",
        "databuilder_id": "dashboard.revenue.yoy",
        "parent_databuilder_id": "dashboard.revenue",
        "title": "YoY Growth",
        "product": "tableau",
    },
]


def jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "\n".join(json.dumps(r) for r in rows).encode()


def upload(api: Api, integration: str, **files: bytes) -> Any:
    return api.client.post(
        f"/integration/integrations/{integration}/import_metadata/",
        files={name: (f"{name}.jsonl", data) for name, data in files.items()},
    )


def by_databuilder(api: Api, stale: bool = False) -> dict[str, dict[str, Any]]:
    node: dict[str, Any] = {"operator": "is_set", "field": "databuilder_id", "value": None}
    if stale:
        node = {"operator": "and", "operands": [node, {"operator": "exact", "field": "stale", "value": True}]}
    response = catalog(api.client, filter=node, page_size=1000)
    assert response.status_code == 200, response.text
    return {r["databuilder_id"]: r for r in response.json()["results"]}


def test_jsonl_import_creates_hierarchy_then_reimport_changes_nothing(api: Api) -> None:
    integration = make_integration(api.client, "custom")
    response = upload(api, integration, resources_file=jsonl(RESOURCES))
    assert response.status_code == 200, response.text
    # The table's database and schema and the dashboard's group are made from their names.
    assert response.json() == {
        "integration_id": integration,
        "created": 7,
        "updated": 0,
        "unchanged": 0,
        "stale": 0,
        "lineage": 0,
    }
    found = by_databuilder(api)
    table, column = found["secoda.public.order"], found["secoda.public.order.order_id"]
    schema = found["cairn:schema:secoda.public"]
    assert table["parent"] == schema["id"]
    assert schema["parent"] == found["cairn:database:secoda"]["id"]
    assert table["title_full"] == "secoda.public.order"
    assert table["search_metadata"]["schema"] == "public"
    assert table["integration"] == integration
    assert table["children_count"] == 1
    assert column["parent"] == table["id"]
    assert column["native_type"] == "integer"
    assert column["is_pk"] is True
    assert column["sort_order"] == 1
    assert found["dashboard.revenue.yoy"]["product"] == "tableau"
    assert found["dashboard.revenue"]["parent"] == found["cairn:dashboard_group:analytics"]["id"]
    before = api.client.get(f"/resource/all/{table['id']}").json()

    again = upload(api, integration, resources_file=jsonl(RESOURCES))
    assert again.json()["created"] == 0
    assert again.json()["updated"] == 0
    assert again.json()["unchanged"] == 7
    assert api.client.get(f"/resource/all/{table['id']}").json() == before


def test_reimport_updates_by_databuilder_id_and_marks_absent_stale(api: Api) -> None:
    integration = make_integration(api.client, "custom")
    upload(api, integration, resources_file=jsonl(RESOURCES))
    first = by_databuilder(api)
    changed = [dict(RESOURCES[0], description="Orders, all of them")] + RESOURCES[2:]
    response = upload(api, integration, resources_file=jsonl(changed))
    assert response.status_code == 200, response.text
    summary = response.json()
    assert (summary["created"], summary["updated"], summary["stale"]) == (0, 1, 1)
    now = by_databuilder(api)
    assert "secoda.public.order.order_id" not in now  # stale resources leave lists
    assert now["secoda.public.order"]["id"] == first["secoda.public.order"]["id"]
    assert now["secoda.public.order"]["description"] == "Orders, all of them"
    stale = by_databuilder(api, stale=True)
    assert list(stale) == ["secoda.public.order.order_id"]
    assert stale["secoda.public.order.order_id"]["stale_at"] is not None
    # Naming it again brings it back (same id).
    upload(api, integration, resources_file=jsonl(RESOURCES))
    assert (
        by_databuilder(api)["secoda.public.order.order_id"]["id"]
        == first["secoda.public.order.order_id"]["id"]
    )
    # An edit made in the catalog since is compared again: the file's value comes back once.
    table_id = first["secoda.public.order"]["id"]
    assert api.client.patch(f"/resource/all/{table_id}", json={"description": "edited"}).status_code == 200
    summary = upload(api, integration, resources_file=jsonl(RESOURCES)).json()
    assert (summary["updated"], summary["unchanged"]) == (1, 6)
    assert api.client.get(f"/resource/all/{table_id}").json()["description"] == "Orders from KFC"
    assert upload(api, integration, resources_file=jsonl(RESOURCES)).json()["unchanged"] == 7
    # Another integration's resources are never touched.
    other = make_integration(api.client, "other")
    upload(api, other, resources_file=jsonl(RESOURCES[2:]))
    assert "secoda.public.order" in by_databuilder(api)


def test_csv_import(api: Api) -> None:
    integration = make_integration(api.client, "custom")
    csv_text = (
        "entity_type,databuilder_id,parent_databuilder_id,title,description,schema,database,is_pk\n"
        "table,db.s.t,,t,A table,s,db,\n"
        "column,db.s.t.c,db.s.t,c,,,,true\n"
    )
    response = api.client.post(
        f"/integration/integrations/{integration}/import_metadata",
        files={"file": ("metadata.csv", csv_text.encode())},
    )
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 4
    found = by_databuilder(api)
    assert found["db.s.t"]["description"] == "A table"
    assert found["db.s.t.c"]["is_pk"] is True


def test_bad_files_are_400_and_write_nothing(api: Api) -> None:
    integration = make_integration(api.client, "custom")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"resources_file": jsonl(RESOURCES) + b"\n{not json"}, "resources_file line 5"),
        ({"resources_file": jsonl([*RESOURCES, {"entity_type": "table"}])}, "databuilder_id"),
        (
            {"resources_file": jsonl([*RESOURCES, {"entity_type": "spaceship", "databuilder_id": "x"}])},
            "entity_type",
        ),
        ({"resources_file": jsonl([*RESOURCES, RESOURCES[0]])}, "appears twice"),
        (
            {"resources_file": jsonl([{**RESOURCES[1], "parent_databuilder_id": "nope"}])},
            "'nope' is not in the file",
        ),
        (
            {
                "resources_file": jsonl(
                    [{**RESOURCES[3], "parent_databuilder_id": "secoda.public.order"}, RESOURCES[0]]
                )
            },
            "cannot be placed under a table",
        ),
        (
            {"resources_file": jsonl([{"entity_type": "column", "databuilder_id": "c"}])},
            "needs parent_databuilder_id",
        ),
        ({"file": b"title\nx\n"}, "header row"),
        ({"file": b"\xff\xfe"}, "UTF-8"),
        ({"lineages_file": b"{}"}, "resources_file"),
        ({}, "upload a CSV"),
    ]
    for files, message in cases:
        response = api.client.post(
            f"/integration/integrations/{integration}/import_metadata",
            files={k: ("f", v) for k, v in files.items()} or {"unrelated": ("f", b"x")},
        )
        assert response.status_code == 400, (message, response.text)
        assert message in response.json()["detail"], response.json()
    # pysecoda sends JSON with local paths: a clear 400.
    response = api.client.post(
        f"/integration/integrations/{integration}/import_metadata", json={"resources_file": "/tmp/r.jsonl"}
    )
    assert response.status_code == 400
    assert "multipart/form-data" in response.json()["detail"]
    missing = upload(api, "00000000-0000-0000-0000-00000000abcd", resources_file=jsonl(RESOURCES))
    assert missing.status_code == 404
    assert "integration" in missing.json()["detail"]
    assert by_databuilder(api) == {}
    viewer = api.client.post(
        f"/integration/integrations/{integration}/import_metadata",
        files={"resources_file": ("r", jsonl(RESOURCES))},
        headers=api.as_role("viewer"),
    )
    assert viewer.status_code == 403


# ---- dbt ------------------------------------------------------------------------------------------


def manifest() -> dict[str, Any]:
    return {
        "metadata": {"dbt_version": "1.7.0"},
        "nodes": {
            "seed.shop.raw_orders": {
                "resource_type": "seed",
                "name": "raw_orders",
                "database": "analytics",
                "schema": "raw",
                "columns": {},
                "depends_on": {"nodes": []},
            },
            "model.shop.orders": {
                "resource_type": "model",
                "name": "orders",
                "alias": "orders",
                "database": "analytics",
                "schema": "marts",
                "description": "One row per order",
                "config": {"materialized": "table"},
                "columns": {
                    "order_id": {"name": "order_id", "description": "Key", "data_type": "integer"},
                    "amount": {"name": "amount", "data_type": "numeric"},
                },
                "depends_on": {"nodes": ["seed.shop.raw_orders", "source.shop.stripe.payments"]},
            },
            "test.shop.unique_orders_order_id.abc": {
                "resource_type": "test",
                "name": "unique_orders_order_id",
                "column_name": "order_id",
                "test_metadata": {"name": "unique", "kwargs": {}},
                "attached_node": "model.shop.orders",
                "depends_on": {"nodes": ["model.shop.orders"]},
            },
            "test.shop.not_null_orders_amount.def": {
                "resource_type": "test",
                "name": "not_null_orders_amount",
                "column_name": "amount",
                "test_metadata": {"name": "not_null", "kwargs": {}},
                "depends_on": {"nodes": ["model.shop.orders"]},
            },
        },
        "sources": {
            "source.shop.stripe.payments": {
                "resource_type": "source",
                "name": "payments",
                "identifier": "payments",
                "source_name": "stripe",
                "database": "analytics",
                "schema": "stripe",
                "columns": {},
                "description": "Stripe payments",
            }
        },
    }


def run_results(unique_status: str = "pass") -> dict[str, Any]:
    timing = [
        {"name": "execute", "started_at": "2026-12-01T10:00:00Z", "completed_at": "2026-12-01T10:00:02Z"}
    ]
    return {
        "metadata": {"invocation_id": "inv-1"},
        "results": [
            {"unique_id": "model.shop.orders", "status": "success", "timing": timing, "execution_time": 2.0},
            {
                "unique_id": "test.shop.unique_orders_order_id.abc",
                "status": unique_status,
                "failures": 3,
                "message": "Got 3 results",
                "timing": timing,
            },
            {
                "unique_id": "test.shop.not_null_orders_amount.def",
                "status": "pass",
                "failures": 0,
                "timing": timing,
            },
        ],
    }


def dbt_upload(api: Api, integration: str, **docs: dict[str, Any]) -> Any:
    return api.client.post(
        f"/integration/dbt/{integration}/upload_artifacts",
        files={name: (f"{name}.json", json.dumps(doc).encode()) for name, doc in docs.items()},
    )


def test_dbt_artifacts_models_sources_seeds_tests_and_failing_tests(api: Api) -> None:
    integration = make_integration(api.client, "dbt")
    response = dbt_upload(api, integration, manifest=manifest(), run_results=run_results("fail"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "Successfully ran extraction for dbt"
    # 3 tables + 2 columns + 2 tests + 1 database + 3 schemas
    assert (body["created"], body["runs"]) == (11, 3)
    found = by_databuilder(api)
    orders = found["model.shop.orders"]
    assert orders["entity_type"] == "table"
    assert orders["native_type"] == "table"
    assert orders["title_full"] == "analytics.marts.orders"
    assert found["model.shop.orders.order_id"]["native_type"] == "integer"
    assert found["source.shop.stripe.payments"]["native_type"] == "source"
    assert found["seed.shop.raw_orders"]["native_type"] == "seed"
    test = found["test.shop.unique_orders_order_id.abc"]
    assert test["entity_type"] == "test"
    assert test["dbt_status"] == "fail"
    assert test["dbt_failures"] == 3

    failing = api.client.get(f"/integration/dbt/{integration}/failing_tests")
    assert failing.status_code == 200, failing.text
    results = failing.json()["results"]
    assert [r["id"] for r in results] == [orders["id"]]
    assert [t["title"] for t in results[0]["failing_tests"]] == ["unique_orders_order_id"]
    assert results[0]["failing_tests"][0]["message"] == "Got 3 results"

    runs = api.client.get(f"/resource/all/{orders['id']}/runs").json()["results"]
    assert [(r["status"], r["details"]["execution_time"]) for r in runs] == [("success", 2.0)]

    # The same artifacts again change nothing; trigger re-runs the stored ones.
    again = dbt_upload(api, integration, manifest=manifest(), run_results=run_results("fail"))
    assert (again.json()["created"], again.json()["updated"], again.json()["runs"]) == (0, 0, 0)
    fixed = dbt_upload(
        api, integration, run_results={**run_results("pass"), "metadata": {"invocation_id": "inv-2"}}
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["updated"] == 1
    assert fixed.json()["runs"] == 3
    assert api.client.get(f"/integration/dbt/{integration}/failing_tests").json()["results"] == []
    trigger = api.client.post(f"/integration/dbt/{integration}/trigger")
    assert trigger.status_code == 200
    assert trigger.json()["unchanged"] == 11


def test_dbt_bad_input(api: Api) -> None:
    integration = make_integration(api.client, "dbt")
    assert api.client.post(f"/integration/dbt/{integration}/trigger").status_code == 400
    bad = [
        ({"manifest": ("m.json", b"{nope")}, "not valid JSON"),
        ({"manifest": ("m.json", b"[]")}, "JSON object"),
        ({"manifest": ("m.json", b'{"nodes": 3}')}, "'nodes'"),
        ({"run_results": ("r.json", json.dumps(run_results()).encode())}, "no manifest"),
        (
            {
                "manifest": ("m.json", json.dumps(manifest()).encode()),
                "run_results": ("r.json", b'{"results": 1}'),
            },
            "'results'",
        ),
    ]
    nul = {**run_results(), "results": [{"unique_id": "model.shop.orders", "status": "ok\u0000"}]}
    bad.append(
        (
            {
                "manifest": ("m.json", json.dumps(manifest()).encode()),
                "run_results": ("r.json", json.dumps(nul).encode()),
            },
            "NUL",
        )
    )
    for files, message in bad:
        response = api.client.post(f"/integration/dbt/{integration}/upload_artifacts", files=files)
        assert response.status_code == 400, response.text
        assert message in response.json()["detail"]
    assert by_databuilder(api) == {}
    response = api.client.post(
        f"/integration/dbt/{integration}/upload_artifacts", json={"manifest": "/x.json"}
    )
    assert response.status_code == 400
    unknown = "00000000-0000-0000-0000-00000000abcd"
    assert api.client.get(f"/integration/dbt/{unknown}/failing_tests").status_code == 404
    assert api.client.post(f"/integration/dbt/{unknown}/trigger").status_code == 404


# ---- Airflow ----------------------------------------------------------------------------------


def test_airflow_run_logs_make_jobs_and_record_task_runs(api: Api) -> None:
    integration = make_integration(api.client, "airflow")
    dag = {
        "dag_id": "daily_orders",
        "schedule_interval": "@daily",
        "catchup": False,
        "description": "Loads orders",
        "max_active_runs": 1,
        "start_date": "2026-11-01T00:00:00+00:00",
    }
    task = {
        "task_id": "load",
        "dag_id": "daily_orders",
        "start_date": "2026-12-01T01:00:00+00:00",
        "end_date": "2026-12-01T01:05:00+00:00",
        "state": "success",
        "try_number": 1,
        "max_tries": 3,
        "hostname": "worker-1",
        "sql": "select 1",
    }
    path = f"/integration/run_logs/{integration}/ingest/"
    first = api.client.post(path, json={"dag": dag})
    assert first.status_code == 201, first.text
    job_id = first.json()["job_id"]
    job = api.client.get(f"/resource/all/{job_id}").json()
    assert (job["entity_type"], job["title"], job["description"]) == ("job", "daily_orders", "Loads orders")
    assert job["schedule_interval"] == "@daily"
    assert job["integration"] == integration
    for _ in range(2):  # a re-sent callback is the same run
        response = api.client.post(path, json={"task_instance": task, "dag": dag})
        assert response.status_code == 201
        assert response.json()["job_id"] == job_id
    retry = api.client.post(path, json={"task_instance": {**task, "try_number": 2, "state": "failed"}})
    assert retry.json()["runs_recorded"] == 1
    runs = api.client.get(f"/resource/all/{job_id}/runs").json()
    assert runs["count"] == 2
    assert sorted((r["status"], r["details"]["try_number"]) for r in runs["results"]) == [
        ("failed", 2),
        ("success", 1),
    ]
    assert runs["results"][0]["details"]["hostname"] == "worker-1"
    jobs = catalog(api.client, filter={"operator": "exact", "field": "type", "value": "job"}).json()
    assert jobs["count"] == 1


def test_airflow_bad_input(api: Api) -> None:
    integration = make_integration(api.client, "airflow")
    path = f"/integration/run_logs/{integration}/ingest"
    assert api.client.post(path, json={}).status_code == 400
    response = api.client.post(path, json={"task_instance": {"task_id": "t"}})
    assert response.status_code == 400
    assert "dag_id" in response.text
    response = api.client.post(
        path, json={"task_instance": {"task_id": "t", "dag_id": "a"}, "dag": {"dag_id": "b"}}
    )
    assert response.status_code == 400
    assert "dag_id" in response.json()["detail"]
    nul = api.client.post(path, json={"dag": {"dag_id": "a", "schedule_interval": {"cron": "\u0000"}}})
    assert nul.status_code == 400
    assert "schedule_interval" in nul.json()["detail"]
    unknown = api.client.post(
        "/integration/run_logs/00000000-0000-0000-0000-00000000abcd/ingest", json={"dag": {"dag_id": "a"}}
    )
    assert unknown.status_code == 404
    assert (
        catalog(api.client, filter={"operator": "exact", "field": "type", "value": "job"}).json()["count"]
        == 0
    )


def test_lineages_file_makes_import_edges_and_follows_the_file(api: Api) -> None:
    from cairn.core.lineage import LineageService
    from cairn.core.principal import system_principal

    integration = make_integration(api.client, "custom")
    extra = {
        "entity_type": "table",
        "databuilder_id": "secoda.public.payment",
        "schema": "public",
        "database": "secoda",
    }
    resources = jsonl([*RESOURCES, extra])
    links = [
        {"from_databuilder_id": "secoda.public.order", "to_databuilder_id": "dashboard.revenue"},
        {"from_databuilder_id": "secoda.public.payment", "to_databuilder_id": "secoda.public.order"},
    ]
    response = upload(api, integration, resources_file=resources, lineages_file=jsonl(links))
    assert response.status_code == 200, response.text
    assert response.json()["lineage"] == 2
    found = by_databuilder(api)
    service = LineageService(api.store)
    admin = system_principal(api.workspace.id, api.workspace.organization_id)

    def edges() -> set[tuple[str, str]]:
        items = service.list(admin, origin="import").items
        return {(e["upstream_id"], e["downstream_id"]) for e in items}

    expected = {
        (found["secoda.public.order"]["id"], found["dashboard.revenue"]["id"]),
        (found["secoda.public.payment"]["id"], found["secoda.public.order"]["id"]),
    }
    assert edges() == expected
    ids = {e["id"] for e in service.list(admin, origin="import").items}
    upload(api, integration, resources_file=resources, lineages_file=jsonl(links))
    assert {e["id"] for e in service.list(admin, origin="import").items} == ids  # same edges, untouched
    upload(api, integration, resources_file=resources, lineages_file=jsonl(links[:1]))
    assert edges() == {(found["secoda.public.order"]["id"], found["dashboard.revenue"]["id"])}

    bad = [
        ([{"from_databuilder_id": "secoda.public.order", "to_databuilder_id": "nowhere"}], "'nowhere'"),
        (
            [
                {
                    "from_databuilder_id": "secoda.public.order.order_id",
                    "to_databuilder_id": "dashboard.revenue",
                }
            ],
            "column",
        ),
        ([{"from_databuilder_id": "secoda.public.order"}], "to_databuilder_id"),
    ]
    for lines, message in bad:
        response = upload(api, integration, resources_file=resources, lineages_file=jsonl(lines))
        assert response.status_code == 400, response.text
        assert message in response.json()["detail"]
    assert len(edges()) == 1
