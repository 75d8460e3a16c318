"""Integrations own databases, dashboards and jobs; deleting one deletes what it owns."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, Row, delete, func, select

from cairn.core import audit
from cairn.core.errors import NotFound
from cairn.core.extractions import forget_integration
from cairn.core.principal import Principal
from cairn.core.resources import PageRequest, PageResult, _valid_id, check_page
from cairn.models.common import iso, utc_now
from cairn.models.integrations import IntegrationCreate
from cairn.store import Store
from cairn.store.schema import integration, resource, resource_member

COLS = integration.c
_SECRET_HINTS = ("password", "secret", "token", "key", "credential", "private")


def redact(credentials: dict[str, Any]) -> dict[str, Any]:
    """Secrets never leave the server: any credential that looks secret is masked."""
    return {
        k: ("********" if any(h in k.lower() for h in _SECRET_HINTS) and v not in (None, "") else v)
        for k, v in credentials.items()
    }


def to_integration(row: Row[Any] | dict[str, Any]) -> dict[str, Any]:
    m = row._mapping if isinstance(row, Row) else row
    return {
        "id": m["id"],
        "created_at": iso(m["created_at"]),
        "updated_at": iso(m["updated_at"]),
        "name": m["name"],
        "type": m["type"],
        "credentials": redact(m["credentials"] or {}),
        "workspace_id": m["workspace_id"],
        "teams": m["teams"],
        "properties": m["properties"],
    }


class IntegrationService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def list(self, principal: Principal, *, type: str | None, paging: PageRequest) -> PageResult:
        where = COLS.workspace_id == principal.workspace_id
        if type:
            where = where & (COLS.type == type)
        with self.store.read() as conn:
            total = int(conn.execute(select(func.count()).select_from(integration).where(where)).scalar_one())
            total_pages = check_page(paging, total)
            rows = conn.execute(
                select(integration)
                .where(where)
                .order_by(COLS.created_at, COLS.id)
                .limit(paging.page_size)
                .offset((paging.page - 1) * paging.page_size)
            ).all()
        return PageResult(
            [to_integration(r) for r in rows], total, paging.page, paging.page_size, total_pages
        )

    def create(
        self, principal: Principal, body: IntegrationCreate, *, integration_id: str | None = None
    ) -> dict[str, Any]:
        principal.require_admin()
        with self.store.write() as conn:
            return to_integration(self.create_in(conn, principal, body, integration_id=integration_id))

    def create_in(
        self,
        conn: Connection,
        principal: Principal,
        body: IntegrationCreate,
        *,
        integration_id: str | None = None,
    ) -> dict[str, Any]:
        now = utc_now()
        values = {
            "workspace_id": principal.workspace_id,
            "id": integration_id or str(uuid.uuid4()),
            "name": body.name,
            "type": body.type,
            "credentials": body.credentials,
            "teams": body.teams,
            "properties": {},
            "created_at": now,
            "updated_at": now,
        }
        conn.execute(integration.insert().values(**values))
        audit.record(
            conn,
            principal,
            event="created",
            resource_type="integration",
            resource_id=str(values["id"]),
            resource_title=body.name,
        )
        return values

    def get(self, principal: Principal, integration_id: str) -> dict[str, Any]:
        with self.store.read() as conn:
            row = self._row(conn, principal, integration_id)
        return to_integration(row)

    def _row(self, conn: Connection, principal: Principal, integration_id: str) -> Row[Any]:
        row = (
            _valid_id(integration_id)
            and conn.execute(
                select(integration).where(
                    COLS.workspace_id == principal.workspace_id, COLS.id == integration_id
                )
            ).first()
        )
        if not row:
            raise NotFound("Not found.")
        return row

    def delete(self, principal: Principal, integration_id: str) -> None:
        principal.require_admin()
        with self.store.write() as conn:
            row = self._row(conn, principal, integration_id)
            owned = select(resource.c.pk).where(
                resource.c.workspace_id == principal.workspace_id, resource.c.integration_id == row.id
            )
            conn.execute(delete(resource_member).where(resource_member.c.resource_pk.in_(owned)))
            conn.execute(
                delete(resource).where(
                    resource.c.workspace_id == principal.workspace_id, resource.c.integration_id == row.id
                )
            )
            conn.execute(delete(integration).where(COLS.pk == row.pk))
            forget_integration(conn, principal.workspace_id, row.id)
            audit.record(
                conn,
                principal,
                event="deleted",
                resource_type="integration",
                resource_id=row.id,
                resource_title=row.name,
            )
