"""What integrations push into the catalog: metadata files, dbt artifacts, Airflow run logs."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select

from cairn.connectors import dbt
from cairn.core import audit, extras
from cairn.core.errors import InvalidInput
from cairn.core.extractions import records_extraction
from cairn.core.ingest import (
    IngestResult,
    MetadataIngest,
    no_gc,
    parse_lineages_jsonl,
    parse_resources_csv,
    parse_resources_jsonl,
)
from cairn.core.principal import Principal
from cairn.core.resources import PageRequest, PageResult, ResourceService, check_page
from cairn.core.runs import RunReport, record_runs
from cairn.models.common import iso, utc_now
from cairn.models.integrations import RunLogIngest
from cairn.models.resources import ResourceWrite
from cairn.store import Store
from cairn.store import resources as repo
from cairn.store.schema import integration_artifact, resource, resource_detail

R = resource.c
A = integration_artifact.c
MANIFEST = "manifest"
RUN_RESULTS = "run_results"


class IntegrationSync:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.ingest = MetadataIngest(store)
        self.resources = ResourceService(store)

    # ---- custom integration metadata --------------------------------------------------------

    @records_extraction("import_metadata")
    def import_metadata(
        self,
        principal: Principal,
        integration_id: str,
        *,
        csv_file: bytes | None = None,
        resources_file: bytes | None = None,
        lineages_file: bytes | None = None,
    ) -> dict[str, Any]:
        if csv_file is not None and resources_file is not None:
            raise InvalidInput("send either a CSV 'file' or a JSONL 'resources_file', not both", field="file")
        if csv_file is None and resources_file is None:
            raise InvalidInput(
                "upload a CSV as 'file', or JSON Lines as 'resources_file' (and optionally 'lineages_file')",
                field="file",
            )
        with no_gc():
            return self._import_metadata(principal, integration_id, csv_file, resources_file, lineages_file)

    def _import_metadata(
        self,
        principal: Principal,
        integration_id: str,
        csv_file: bytes | None,
        resources_file: bytes | None,
        lineages_file: bytes | None,
    ) -> dict[str, Any]:
        records = (
            parse_resources_csv(csv_file)
            if csv_file is not None
            else parse_resources_jsonl(resources_file or b"")
        )
        links = parse_lineages_jsonl(lineages_file) if lineages_file is not None else []
        result = self.ingest.run(principal, integration_id, records, links, source="import_metadata")
        return {"integration_id": integration_id, **result.summary()}

    # ---- dbt ------------------------------------------------------------------------------------

    @records_extraction("dbt")
    def dbt_upload(
        self,
        principal: Principal,
        integration_id: str,
        *,
        manifest: bytes | None,
        run_results: bytes | None,
    ) -> dict[str, Any]:
        principal.require_write()
        if manifest is None and run_results is None:
            raise InvalidInput(
                "upload 'manifest' (manifest.json) and/or 'run_results' files", field="manifest"
            )
        with self.store.write() as conn:
            self.ingest.require_integration(conn, principal, integration_id)
            stored = _artifacts(conn, principal.workspace_id, integration_id)
            manifest_data = manifest if manifest is not None else stored.get(MANIFEST)
            if manifest_data is None:
                raise InvalidInput(
                    "no manifest: upload 'manifest' (manifest.json) with the run results", field="manifest"
                )
            results_data = run_results if run_results is not None else stored.get(RUN_RESULTS)
            result = self._dbt_in(conn, principal, integration_id, manifest_data, results_data)
            for name, data in ((MANIFEST, manifest), (RUN_RESULTS, run_results)):
                if data is not None:
                    _store_artifact(conn, principal.workspace_id, integration_id, name, data)
            audit.record(
                conn,
                principal,
                event="imported",
                resource_type="integration",
                resource_id=integration_id,
                details={"source": "dbt", **result},
            )
        return {"message": "Successfully ran extraction for dbt", **result}

    @records_extraction("dbt")
    def dbt_trigger(self, principal: Principal, integration_id: str) -> dict[str, Any]:
        """Run the extraction again from the artifacts uploaded last."""
        principal.require_write()
        with self.store.write() as conn:
            self.ingest.require_integration(conn, principal, integration_id)
            stored = _artifacts(conn, principal.workspace_id, integration_id)
            if MANIFEST not in stored:
                raise InvalidInput(
                    "nothing to sync: upload dbt artifacts first (POST .../upload_artifacts)",
                    field="integration_id",
                )
            result = self._dbt_in(conn, principal, integration_id, stored[MANIFEST], stored.get(RUN_RESULTS))
            audit.record(
                conn,
                principal,
                event="synced",
                resource_type="integration",
                resource_id=integration_id,
                details={"source": "dbt", **result},
            )
        return {"message": "Successfully ran extraction for dbt", **result}

    def _dbt_in(
        self,
        conn: Connection,
        principal: Principal,
        integration_id: str,
        manifest: bytes,
        run_results: bytes | None,
    ) -> dict[str, int]:
        artifacts = dbt.parse_artifacts(manifest, run_results)
        ordered = self.ingest.prepare(artifacts.records)
        result: IngestResult = self.ingest.apply_in(
            conn, principal, integration_id, ordered, artifacts.links, origin="dbt"
        )
        # A run_results file without an invocation id is keyed by its content: the same file
        # uploaded twice is the same set of runs.
        invocation = artifacts.invocation_id or hashlib.sha1(run_results or b"").hexdigest()[:16]
        pks = _pks(
            conn,
            principal.workspace_id,
            [result.ids[r.unique_id] for r in artifacts.results if r.unique_id in result.ids],
        )
        reports = [
            RunReport(
                resource_pk=pks[result.ids[r.unique_id]],
                run_key=f"dbt:{invocation}",
                name=r.unique_id,
                status=r.status,
                started_at=r.started_at,
                finished_at=r.finished_at,
                details={
                    "invocation_id": artifacts.invocation_id,
                    "execution_time": r.execution_time,
                    "message": r.message,
                    "failures": r.failures,
                },
            )
            for r in artifacts.results
            if r.unique_id in result.ids and result.ids[r.unique_id] in pks
        ]
        runs = record_runs(conn, principal.workspace_id, reports)
        return {**result.summary(), "runs": runs}

    def failing_tests(self, principal: Principal, integration_id: str, paging: PageRequest) -> PageResult:
        """Entities of the integration that a dbt test whose last result failed is about."""
        with self.store.read() as conn:
            self.ingest.require_integration(conn, principal, integration_id)
            visible = self.resources.visibility(principal, None)
            tests = conn.execute(
                select(R.id, R.title, R.databuilder_id, resource_detail.c.data)
                .join(resource_detail, resource_detail.c.resource_pk == R.pk)
                .where(visible, R.integration_id == integration_id, R.entity_type == "test")
                .order_by(R.title, R.id)
            ).all()
            failing: dict[str, list[dict[str, Any]]] = {}
            for test in tests:
                data = test.data or {}
                if data.get("dbt_status") not in dbt.FAILING:
                    continue
                for tested in data.get("dbt_tested") or []:
                    failing.setdefault(tested, []).append(
                        {
                            "id": test.id,
                            "title": test.title,
                            "databuilder_id": test.databuilder_id,
                            "status": data.get("dbt_status"),
                            "failures": data.get("dbt_failures"),
                            "message": data.get("dbt_message"),
                        }
                    )
            rows = list(_by_databuilder_id(conn, visible, integration_id, list(failing)))
            rows.sort(key=lambda r: (r.title or "", r.id))
            total = len(rows)
            total_pages = check_page(paging, total)
            start = (paging.page - 1) * paging.page_size
            page = rows[start : start + paging.page_size]
            permissions = principal.permissions()
            items = [repo.to_entity(r, permissions) for r in page]
            extras.decorate(conn, page, items)
            for row, item in zip(page, items, strict=True):
                item["failing_tests"] = failing[row.databuilder_id]
        return PageResult(items, total, paging.page, paging.page_size, total_pages)

    # ---- Airflow ---------------------------------------------------------------------------------

    @records_extraction("airflow")
    def ingest_run_log(self, principal: Principal, integration_id: str, body: RunLogIngest) -> dict[str, Any]:
        """A DAG becomes a job of the integration (keyed by its dag_id); a task try becomes a run."""
        principal.require_write()
        task, dag = body.task_instance, body.dag
        if task is None and dag is None:
            raise InvalidInput("send 'task_instance' and/or 'dag'", field="task_instance")
        if task is not None and dag is not None and task.dag_id != dag.dag_id:
            raise InvalidInput(
                f"task_instance.dag_id '{task.dag_id}' is not dag.dag_id '{dag.dag_id}'",
                field="task_instance.dag_id",
            )
        dag_id = dag.dag_id if dag is not None else task.dag_id if task is not None else ""
        ws = principal.workspace_id
        with self.store.write() as conn:
            self.ingest.require_integration(conn, principal, integration_id)
            job = conn.execute(
                select(resource).where(
                    R.workspace_id == ws,
                    R.integration_id == integration_id,
                    R.databuilder_id == dag_id,
                    R.entity_type == "job",
                    R.archived.is_(False),
                )
            ).first()
            if job is None:
                created = self.resources.create_in(
                    conn,
                    principal,
                    ResourceWrite(
                        title=dag_id,
                        entity_type="job",
                        integration=integration_id,
                        databuilder_id=dag_id,
                        description=dag.description if dag is not None else None,
                        native_type="airflow_dag",
                        published=True,
                    ),
                )
                job_pk, job_id = int(created["pk"]), str(created["id"])
            else:
                job_pk, job_id = int(job.pk), str(job.id)
                if dag is not None and dag.description is not None and dag.description != job.description:
                    self.resources.update_in(
                        conn, principal, job_id, ResourceWrite(description=dag.description)
                    )
            if dag is not None:
                wanted = {
                    "schedule_interval": dag.schedule_interval,
                    "catchup": dag.catchup,
                    "is_paused_upon_creation": dag.is_paused_upon_creation,
                    "max_active_tasks": dag.max_active_tasks,
                    "max_active_runs": dag.max_active_runs,
                    "dag_start_date": iso(dag.start_date),
                    "dag_end_date": iso(dag.end_date),
                }
                extras.set_details(conn, ws, job_pk, wanted)
            runs = 0
            if task is not None:
                runs = record_runs(
                    conn,
                    ws,
                    [
                        RunReport(
                            resource_pk=job_pk,
                            run_key=f"airflow:{task.task_id}|{iso(task.start_date)}|{task.try_number}",
                            name=task.task_id,
                            status=task.state,
                            started_at=task.start_date,
                            finished_at=task.end_date,
                            details={
                                "try_number": task.try_number,
                                "max_tries": task.max_tries,
                                "hostname": task.hostname,
                                "sql": task.sql,
                            },
                        )
                    ],
                )
        return {"job_id": job_id, "runs_recorded": runs}


def _artifacts(conn: Connection, workspace_id: str, integration_id: str) -> dict[str, bytes]:
    rows = conn.execute(
        select(A.name, A.content).where(A.workspace_id == workspace_id, A.integration_id == integration_id)
    ).all()
    return {row.name: row.content.encode() for row in rows}


def _store_artifact(conn: Connection, workspace_id: str, integration_id: str, name: str, data: bytes) -> None:
    conn.execute(
        delete(integration_artifact).where(
            A.workspace_id == workspace_id, A.integration_id == integration_id, A.name == name
        )
    )
    conn.execute(
        insert(integration_artifact).values(
            workspace_id=workspace_id,
            integration_id=integration_id,
            name=name,
            # Parsed already, so valid JSON and therefore valid UTF-8.
            content=data.decode("utf-8"),
            uploaded_at=utc_now(),
        )
    )


def _pks(conn: Connection, workspace_id: str, ids: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        for pk, rid in conn.execute(
            select(R.pk, R.id).where(R.workspace_id == workspace_id, R.id.in_(chunk))
        ):
            found[rid] = int(pk)
    return found


def _by_databuilder_id(conn: Connection, visible: Any, integration_id: str, ids: list[str]) -> list[Row[Any]]:
    rows: list[Row[Any]] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows.extend(
            conn.execute(
                select(resource).where(
                    visible, R.integration_id == integration_id, R.databuilder_id.in_(chunk)
                )
            ).all()
        )
    return rows
