"""The extraction log: every ingest of an integration, how it ended and what it changed.

Each ingest entry point (``import_metadata``, the dbt uploads and trigger, the Airflow run-log
ingest, the SQL and dbt connectors) is wrapped by ``records_extraction``, so the API, the CLI and
the SDK's embedded mode record runs the same way. A run is written after the ingest returns, in
a transaction of its own: a failed ingest rolls back everything it wrote and still leaves the
record of why it failed.
"""

from __future__ import annotations

import functools
import inspect
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Connection, Row, delete, func, insert, select

from cairn.core.errors import CairnError, InvalidInput, NotFound, PermissionDenied
from cairn.core.principal import Principal
from cairn.core.resources import PageRequest, PageResult, check_page
from cairn.models.common import iso, utc_now
from cairn.store import Store
from cairn.store.schema import extraction, integration

E = extraction.c
STATUSES = ("succeeded", "partial", "failed")
# What a summary may say it changed, under the names both summary shapes use.
_COUNT_NAMES = {
    "created": "created",
    "updated": "updated",
    "unchanged": "unchanged",
    "stale": "stale",
    "staled": "stale",
    "unstaled": "unstaled",
    "lineage": "lineage",
    "lineage_edges": "lineage",
    "runs": "runs",
    "runs_recorded": "runs",
}
_MAX_ERROR = 2000

P = ParamSpec("P")
R = TypeVar("R")


def summary_counts(result: Any) -> tuple[dict[str, int], str | None, int]:
    """Counts, integration id and number of per-item errors from either summary shape."""
    data = result.as_dict() if hasattr(result, "as_dict") else result
    if not isinstance(data, dict):
        return {}, None, 0
    counts = {name: int(data[key]) for key, name in _COUNT_NAMES.items() if isinstance(data.get(key), int)}
    integration_id = data.get("integration_id") or data.get("integration")
    errors = data.get("errors")
    return counts, integration_id if isinstance(integration_id, str) else None, len(errors or [])


def _write(
    store: Store,
    principal: Principal,
    *,
    source: str,
    integration_id: str | None,
    started_at: datetime,
    elapsed: float,
    status: str,
    summary: dict[str, Any],
    error: str | None,
) -> None:
    with store.write() as conn:
        conn.execute(
            insert(extraction).values(
                workspace_id=principal.workspace_id,
                id=str(uuid.uuid4()),
                integration_id=integration_id,
                source=source,
                status=status,
                actor=principal.name,
                started_at=started_at,
                finished_at=utc_now(),
                summary={**summary, "duration_ms": round(elapsed * 1000)},
                error=error[:_MAX_ERROR] if error else None,
            )
        )


def records_extraction(source: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Record each call of an ingest entry point as an extraction.

    The wrapped callable takes a ``principal`` and either a ``store`` or a ``self`` holding one;
    the integration comes from its ``integration_id`` argument or from the summary it returns.
    Calls refused before any work (no permission, no such integration) are not recorded: they
    are not runs of the integration.
    """

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            arguments = signature.bind_partial(*args, **kwargs).arguments
            principal: Principal = arguments["principal"]
            store: Store = arguments["store"] if "store" in arguments else arguments["self"].store
            integration_id = arguments.get("integration_id")
            started_at, clock = utc_now(), time.perf_counter()
            try:
                result = fn(*args, **kwargs)
            except (PermissionDenied, NotFound):
                raise
            except Exception as exc:
                if not principal.can_write:
                    raise
                message = (
                    exc.message if isinstance(exc, CairnError) else f"internal error: {type(exc).__name__}"
                )
                _write(
                    store,
                    principal,
                    source=source,
                    integration_id=integration_id if isinstance(integration_id, str) else None,
                    started_at=started_at,
                    elapsed=time.perf_counter() - clock,
                    status="failed",
                    summary={},
                    error=message,
                )
                raise
            counts, returned_id, errors = summary_counts(result)
            _write(
                store,
                principal,
                source=source,
                integration_id=returned_id or (integration_id if isinstance(integration_id, str) else None),
                started_at=started_at,
                elapsed=time.perf_counter() - clock,
                status="partial" if errors else "succeeded",
                summary={**counts, "errors": errors},
                error=None,
            )
            return result

        return run

    return wrap


def to_extraction(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "integration_id": row.integration_id,
        "integration_name": row.integration_name,
        "source": row.source,
        "status": row.status,
        "actor": row.actor,
        "started_at": iso(row.started_at),
        "finished_at": iso(row.finished_at),
        "summary": row.summary,
        "error": row.error,
    }


@dataclass(frozen=True)
class ExtractionFilter:
    integration_id: str | None = None
    status: str | None = None


class ExtractionService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def list(self, principal: Principal, where: ExtractionFilter, paging: PageRequest) -> PageResult:
        """Newest first. Editors and admins: the people who run ingests read why one failed."""
        principal.require_write()
        if where.status is not None and where.status not in STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", field="status")
        clause = E.workspace_id == principal.workspace_id
        if where.integration_id is not None:
            clause = clause & (E.integration_id == where.integration_id)
        if where.status is not None:
            clause = clause & (E.status == where.status)
        with self.store.read() as conn:
            total = int(conn.execute(select(func.count()).select_from(extraction).where(clause)).scalar_one())
            total_pages = check_page(paging, total)
            # Names of the integrations still there, joined on the page's rows only.
            named = extraction.outerjoin(
                integration,
                (integration.c.workspace_id == E.workspace_id) & (integration.c.id == E.integration_id),
            )
            rows = conn.execute(
                select(extraction, integration.c.name.label("integration_name"))
                .select_from(named)
                .where(clause)
                .order_by(E.started_at.desc(), E.pk.desc())
                .limit(paging.page_size)
                .offset((paging.page - 1) * paging.page_size)
            ).all()
        return PageResult([to_extraction(r) for r in rows], total, paging.page, paging.page_size, total_pages)


def forget_integration(conn: Connection, workspace_id: str, integration_id: str) -> None:
    """An integration's runs go with it."""
    conn.execute(delete(extraction).where(E.workspace_id == workspace_id, E.integration_id == integration_id))
