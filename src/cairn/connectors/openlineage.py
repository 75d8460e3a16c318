"""OpenLineage events (spec 2-0-2) into the catalog.

- A job is a ``job`` resource under a ``job_group`` named after its namespace.
- A dataset maps onto the catalog table whose ``title_full`` is its name (``db.schema.table``, as a
  SQL crawl names them); a dataset no catalog table matches is created (database, schema, table,
  and columns from the schema facet) in the ``openlineage`` integration.
- Each run is a row of the job's runs, keyed by ``runId``: its state is the latest event's (by
  ``eventTime``, so events arriving out of order do not move a run backwards), and the job shows
  its last run (state, time, id).
- Lineage: input dataset -> job -> output dataset, and input column -> output column from the
  columnLineage facet (origin "openlineage"); edges only accumulate, as each run reports a part.

An event describes part of the world, so nothing is ever staled by OpenLineage.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update

from cairn.connectors.merge import Merger, columns_of, ensure_integration, tables_by_title
from cairn.connectors.model import Node, path_key
from cairn.core import extras
from cairn.core.errors import InvalidInput
from cairn.core.lineage import EdgeSpec, LineageService
from cairn.core.principal import Principal
from cairn.models.common import iso, utc_now
from cairn.models.openlineage import MAX_BATCH, Dataset, LineageEvent
from cairn.store import Store
from cairn.store.schema import lineage_edge, resource, resource_detail, run

INTEGRATION = "openlineage"
TERMINAL = frozenset({"COMPLETE", "FAIL", "ABORT"})
# Namespace schemes of the OpenLineage naming spec whose dataset names are dotted table paths.
SQL_SCHEMES = frozenset(
    {
        "postgres",
        "postgresql",
        "mysql",
        "mariadb",
        "sqlite",
        "duckdb",
        "sqlserver",
        "mssql",
        "oracle",
        "db2",
        "teradata",
        "snowflake",
        "bigquery",
        "redshift",
        "trino",
        "presto",
        "hive",
        "databricks",
        "clickhouse",
        "awsathena",
        "athena",
        "spanner",
        "synapse",
        "vertica",
        "cassandra",
        "mongodb",
    }
)
R = resource.c
E = lineage_edge.c


@dataclass
class _DatasetInfo:
    namespace: str
    name: str
    columns: dict[str, str | None] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    description: str | None = None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _check(events: Sequence[LineageEvent]) -> None:
    if len(events) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} events per request", field="body")
    for index, event in enumerate(events):
        where = f"[{index}]" if len(events) > 1 else "body"
        if event.run is not None and event.job is None:
            raise InvalidInput("a RunEvent needs a job", field=f"{where}.job")
        if event.run is None and event.job is None and event.dataset is None:
            raise InvalidInput("an event needs a run and a job, a job, or a dataset", field=f"{where}.run")
        if event.run is not None and event.eventType is None:
            raise InvalidInput("a RunEvent needs an eventType", field=f"{where}.eventType")


def _split(namespace: str, name: str) -> tuple[str | None, str | None, str]:
    """``db.schema.table`` -> its parts; shorter names sit under the namespace as the database.

    Only database namespaces name tables with dots: a path (``s3://bucket``, ``file``) or a topic
    is one table named by the whole name.
    """
    if namespace.split(":", 1)[0].lower() not in SQL_SCHEMES:
        return None, None, name
    parts = name.split(".")
    if len(parts) >= 3:
        return parts[0], parts[1], ".".join(parts[2:])
    if len(parts) == 2:
        return namespace, parts[0], parts[1]
    return None, None, name


def ingest_events(store: Store, principal: Principal, events: Sequence[LineageEvent]) -> dict[str, int]:
    principal.require_write()
    _check(events)
    integration_id = ensure_integration(store, principal, name=INTEGRATION, kind=INTEGRATION, credentials={})
    datasets: dict[tuple[str, str], _DatasetInfo] = {}

    def note(dataset: Dataset, *, output: bool = False) -> _DatasetInfo:
        info = datasets.setdefault(
            (dataset.namespace, dataset.name), _DatasetInfo(dataset.namespace, dataset.name)
        )
        facets = dataset.facets
        if facets is None:
            return info
        if facets.schema_ is not None:
            for f in facets.schema_.fields:
                info.columns[f.name] = f.type or info.columns.get(f.name)
                if f.description:
                    info.descriptions[f.name] = f.description
        if facets.documentation is not None:
            info.description = facets.documentation.description
        if output and facets.columnLineage is not None:
            for column, source in facets.columnLineage.fields.items():
                info.columns.setdefault(column, None)
                for upstream in source.inputFields:
                    up = datasets.setdefault(
                        (upstream.namespace, upstream.name), _DatasetInfo(upstream.namespace, upstream.name)
                    )
                    up.columns.setdefault(upstream.field, None)
        return info

    jobs: dict[tuple[str, str], LineageEvent] = {}
    for event in events:
        for dataset in event.inputs:
            note(dataset)
        for dataset in event.outputs:
            note(dataset, output=True)
        if event.dataset is not None:
            note(event.dataset)
        if event.job is not None:
            jobs[(event.job.namespace, event.job.name)] = event

    keys: list[str] = []
    for (namespace, name), info in datasets.items():
        database, schema, _ = _split(namespace, name)
        keys.append(path_key("dataset", namespace, name))
        keys.extend(path_key("dataset", namespace, name, c) for c in info.columns)
        if database is not None and schema is not None:
            keys += [
                path_key("database", namespace, database),
                path_key("schema", namespace, database, schema),
            ]
    for namespace, name in jobs:
        keys += [path_key("namespace", namespace), path_key("job", namespace, name)]
    merger = Merger(store, principal, integration_id, source=INTEGRATION, keys=keys)

    # Datasets a catalog table already stands for (a crawled warehouse) are not created again.
    with store.read() as conn:
        unowned = [d for d in datasets if merger.resource_id(path_key("dataset", *d)) is None]
        matched = tables_by_title(
            conn, principal.workspace_id, [n for _, n in unowned], exclude_integration=integration_id
        )
        matched_columns = columns_of(conn, principal.workspace_id, [r.id for r in matched.values()])
    targets = {d: matched[d[1].lower()].id for d in unowned if d[1].lower() in matched}

    nodes: list[Node] = []
    for (namespace, name), info in datasets.items():
        if (namespace, name) in targets:
            continue
        database, schema, table = _split(namespace, name)
        parent = None
        if database is not None and schema is not None:
            db_key = path_key("database", namespace, database)
            parent = path_key("schema", namespace, database, schema)
            nodes.append(Node(db_key, "database", database, details={"namespace": namespace}))
            nodes.append(Node(parent, "schema", schema, parent=db_key))
        key = path_key("dataset", namespace, name)
        fields: dict[str, Any] = {"native_type": "dataset"}
        if info.description:
            fields["description"] = info.description
        nodes.append(
            Node(
                key,
                "table",
                table,
                parent=parent,
                fields=fields,
                details={"namespace": namespace, "name": name},
            )
        )
        for column, kind in info.columns.items():
            column_fields: dict[str, Any] = {}
            if kind:
                column_fields["native_type"] = kind
            if column in info.descriptions:
                column_fields["description"] = info.descriptions[column]
            nodes.append(
                Node(
                    path_key("dataset", namespace, name, column),
                    "column",
                    column,
                    parent=key,
                    fields=column_fields,
                )
            )
    for namespace, name in jobs:
        event = jobs[(namespace, name)]
        assert event.job is not None
        group = path_key("namespace", namespace)
        nodes.append(Node(group, "job_group", namespace))
        facets = event.job.facets
        job_fields: dict[str, Any] = {"native_type": "openlineage job"}
        details: dict[str, Any] = {"namespace": namespace}
        if facets is not None:
            if facets.documentation is not None:
                job_fields["description"] = facets.documentation.description
            if facets.jobType is not None:
                details.update(
                    {
                        k: v
                        for k, v in facets.jobType.model_dump().items()
                        if v is not None and k != "integration"
                    }
                )
                if facets.jobType.integration:
                    details["integration_type"] = facets.jobType.integration
            if facets.sql is not None:
                details["sql"] = facets.sql.query
        nodes.append(
            Node(
                path_key("job", namespace, name),
                "job",
                name,
                parent=group,
                fields=job_fields,
                details=details,
            )
        )
    merger.apply(nodes)

    def dataset_id(namespace: str, name: str) -> str | None:
        return targets.get((namespace, name)) or merger.resource_id(path_key("dataset", namespace, name))

    def column_id(namespace: str, name: str, column: str) -> str | None:
        target = targets.get((namespace, name))
        if target is not None:
            return matched_columns.get(target, {}).get(column.lower())
        return merger.resource_id(path_key("dataset", namespace, name, column))

    specs: dict[tuple[str, str], None] = {}
    for event in events:
        job = merger.resource_id(path_key("job", event.job.namespace, event.job.name)) if event.job else None
        for dataset in event.inputs:
            up = dataset_id(dataset.namespace, dataset.name)
            if up and job:
                specs.setdefault((up, job))
        for dataset in event.outputs:
            down = dataset_id(dataset.namespace, dataset.name)
            if down and job:
                specs.setdefault((job, down))
            lineage = dataset.facets.columnLineage if dataset.facets else None
            for column, source in lineage.fields.items() if lineage else []:
                down_column = column_id(dataset.namespace, dataset.name, column)
                for upstream in source.inputFields:
                    up_column = column_id(upstream.namespace, upstream.name, upstream.field)
                    if up_column and down_column and up_column != down_column:
                        specs.setdefault((up_column, down_column))
    runs = _record_runs(store, principal, merger, events)
    edges = _add_edges(store, principal, list(specs))
    return {
        "events": len(events),
        "jobs": len(jobs),
        "datasets": len(datasets),
        "runs": runs,
        "created": merger.summary.created,
        "lineage_edges": edges,
    }


def _add_edges(store: Store, principal: Principal, pairs: list[tuple[str, str]]) -> int:
    """Add the edges not there yet. Most events repeat known lineage, so the existing ones are
    looked up first in one query and only new edges go through the lineage core."""
    if not pairs:
        return 0
    ws = principal.workspace_id
    ids = list({i for pair in pairs for i in pair})
    with store.write() as conn:
        # A stale or deleted end (a dropped warehouse table) has no lineage to gain.
        pks: dict[str, int] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            stmt = select(R.id, R.pk).where(
                R.workspace_id == ws, R.id.in_(chunk), R.archived.is_(False), R.stale.is_(False)
            )
            pks.update({row.id: row.pk for row in conn.execute(stmt)})
        wanted = [(u, d) for u, d in pairs if u in pks and d in pks]
        downs = sorted({pks[d] for _, d in wanted})
        known: set[tuple[int, int]] = set()
        for start in range(0, len(downs), 500):
            stmt = select(E.upstream_pk, E.downstream_pk).where(
                E.workspace_id == ws, E.origin == INTEGRATION, E.downstream_pk.in_(downs[start : start + 500])
            )
            known.update((row.upstream_pk, row.downstream_pk) for row in conn.execute(stmt))
        new = [EdgeSpec(u, d, INTEGRATION) for u, d in wanted if (pks[u], pks[d]) not in known]
        if new:
            LineageService(store).add_edges_in(conn, principal, new)
    return len(wanted)


@dataclass
class _RunState:
    job_id: str
    name: str
    state: str
    at: datetime
    started: datetime | None
    producer: str


def _record_runs(store: Store, principal: Principal, merger: Merger, events: Sequence[LineageEvent]) -> int:
    """Upsert one run per ``runId``; a run only moves forward in event time."""
    latest: dict[str, _RunState] = {}
    for event in sorted((e for e in events if e.run is not None), key=lambda e: _utc(e.eventTime)):
        assert event.run is not None
        assert event.job is not None
        job_id = merger.resource_id(path_key("job", event.job.namespace, event.job.name))
        if job_id is None:
            continue
        run_key = str(event.run.runId)
        at = _utc(event.eventTime)
        before = latest.get(run_key)
        started = before.started if before else None
        if event.eventType == "START" and started is None:
            started = at
        latest[run_key] = _RunState(job_id, event.job.name, str(event.eventType), at, started, event.producer)
    if not latest:
        return 0
    ws = principal.workspace_id
    now = utc_now()
    with store.write() as conn:
        job_ids = list({r.job_id for r in latest.values()})
        pks: dict[str, int] = {}
        for start in range(0, len(job_ids), 500):
            chunk = job_ids[start : start + 500]
            stmt = select(R.id, R.pk).where(R.workspace_id == ws, R.id.in_(chunk))
            pks.update({row.id: row.pk for row in conn.execute(stmt)})
        keys = list(latest)
        existing: dict[tuple[int, str], Any] = {}
        runs_of = select(
            run.c.pk, run.c.resource_pk, run.c.run_key, run.c.status, run.c.started_at, run.c.details
        )
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            for found in conn.execute(runs_of.where(run.c.workspace_id == ws, run.c.run_key.in_(chunk))):
                existing[(found.resource_pk, found.run_key)] = found
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        last: dict[int, tuple[str, str, str]] = {}
        for run_key, state in latest.items():
            pk = pks[state.job_id]
            when = iso(state.at) or ""
            finished = state.at if state.state in TERMINAL else None
            row = existing.get((pk, run_key))
            if row is None:
                inserts.append(
                    {
                        "resource_pk": pk,
                        "workspace_id": ws,
                        "id": str(uuid.uuid4()),
                        "run_key": run_key,
                        "name": state.name,
                        "status": state.state,
                        "started_at": state.started or state.at,
                        "finished_at": finished,
                        "details": {"event_time": when, "producer": state.producer},
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            else:
                seen = (row.details or {}).get("event_time") or ""
                if seen > when or (seen == when and row.status in TERMINAL and state.state not in TERMINAL):
                    continue  # an older event than the one recorded: the run does not move back
                updates.append(
                    {
                        "b_pk": row.pk,
                        "b_status": state.state,
                        "b_details": {**(row.details or {}), "event_time": when},
                        "b_finished": finished,
                        "b_started": row.started_at or state.started,
                        "b_now": now,
                    }
                )
            if pk not in last or when >= last[pk][0]:
                last[pk] = (when, state.state, run_key)
        if inserts:
            conn.execute(run.insert(), inserts)
        if updates:
            conn.execute(
                update(run)
                .where(run.c.pk == bindparam("b_pk"))
                .values(
                    status=bindparam("b_status"),
                    details=bindparam("b_details", type_=run.c.details.type),
                    finished_at=func.coalesce(
                        bindparam("b_finished", type_=run.c.finished_at.type), run.c.finished_at
                    ),
                    started_at=bindparam("b_started", type_=run.c.started_at.type),
                    updated_at=bindparam("b_now", type_=run.c.updated_at.type),
                ),
                updates,
            )
        # The job shows its last run: one statement for all the jobs of the batch.
        shown = extras.details_of(conn, list(last))
        changed: list[dict[str, Any]] = []
        added: list[dict[str, Any]] = []
        for pk, (when, status, run_key) in last.items():
            current = shown.get(pk)
            shown_at = (current or {}).get("last_run_at") or ""
            if shown_at > when or (shown_at == when and (current or {}).get("last_run_state") == status):
                continue
            data = {**(current or {}), "last_run_state": status, "last_run_at": when, "last_run_id": run_key}
            if current is None:
                added.append({"resource_pk": pk, "workspace_id": ws, "data": data})
            else:
                changed.append({"b_pk": pk, "b_data": data})
        if added:
            conn.execute(resource_detail.insert(), added)
        if changed:
            conn.execute(
                update(resource_detail)
                .where(resource_detail.c.resource_pk == bindparam("b_pk"))
                .values(data=bindparam("b_data", type_=resource_detail.c.data.type)),
                changed,
            )
    return len(latest)
