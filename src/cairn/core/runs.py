"""Executions recorded on a resource: Airflow task runs on a job, dbt results on a model or test.

A run is identified on its resource by a ``run_key`` that the source repeats when it reports
the same execution again (a retry callback, a re-uploaded ``run_results.json``), so reporting
twice updates the run instead of adding a second one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select, update

from cairn.core.principal import Principal
from cairn.core.resources import PageRequest, PageResult, ResourceService, check_page
from cairn.models.common import iso, utc_now
from cairn.store import Store
from cairn.store.schema import run

RUN = run.c


@dataclass
class RunReport:
    """What a source says about one execution."""

    resource_pk: int
    run_key: str
    name: str
    status: str | None
    started_at: datetime | None
    finished_at: datetime | None
    details: dict[str, Any] = field(default_factory=dict)


def run_json(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "status": row.status,
        "started_at": iso(row.started_at),
        "finished_at": iso(row.finished_at),
        "details": row.details,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def record_runs(conn: Connection, workspace_id: str, reports: list[RunReport]) -> int:
    """Insert new runs and update re-reported ones; returns how many rows changed."""
    if not reports:
        return 0
    now = utc_now()
    changed = 0
    pks = sorted({r.resource_pk for r in reports})
    stored: dict[tuple[int, str], Row[Any]] = {}
    for start in range(0, len(pks), 500):
        for row in conn.execute(select(run).where(RUN.resource_pk.in_(pks[start : start + 500]))):
            stored[(row.resource_pk, row.run_key)] = row
    for report in reports:
        values = {
            "name": report.name,
            "status": report.status,
            "started_at": report.started_at,
            "finished_at": report.finished_at,
            "details": report.details,
        }
        old = stored.get((report.resource_pk, report.run_key))
        if old is None:
            conn.execute(
                run.insert().values(
                    resource_pk=report.resource_pk,
                    workspace_id=workspace_id,
                    id=str(uuid.uuid4()),
                    run_key=report.run_key,
                    created_at=now,
                    updated_at=now,
                    **values,
                )
            )
            changed += 1
        elif any(_differs(getattr(old, k), v) for k, v in values.items()):
            conn.execute(update(run).where(RUN.pk == old.pk).values(updated_at=now, **values))
            changed += 1
    return changed


def _differs(stored: Any, wanted: Any) -> bool:
    if isinstance(stored, datetime) and isinstance(wanted, datetime):
        return iso(stored) != iso(wanted)
    return bool(stored != wanted)


class RunService:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.resources = ResourceService(store)

    def list(self, principal: Principal, resource_id: str, paging: PageRequest) -> PageResult:
        """Runs of a visible resource, newest first."""
        with self.store.read() as conn:
            row = self.resources._visible_row(conn, principal, resource_id, None)
            where = RUN.resource_pk == row.pk
            total = int(conn.execute(select(func.count()).select_from(run).where(where)).scalar_one())
            total_pages = check_page(paging, total)
            rows = conn.execute(
                select(run)
                .where(where)
                .order_by(RUN.started_at.desc(), RUN.pk.desc())
                .limit(paging.page_size)
                .offset((paging.page - 1) * paging.page_size)
            ).all()
        return PageResult([run_json(r) for r in rows], total, paging.page, paging.page_size, total_pages)
