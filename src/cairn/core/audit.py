"""The workspace audit log: who created, changed or deleted what, through any face.

Every core write path calls ``record`` inside its own transaction, so an event exists exactly
when the change committed. Events older than ``RETENTION_DAYS`` are pruned as new ones arrive.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from cairn.core.errors import InvalidInput
from cairn.core.principal import Principal
from cairn.models.common import iso, utc_now
from cairn.store.schema import audit_event

RETENTION_DAYS = 90
_PRUNE_EVERY_SECONDS = 3600.0
A = audit_event.c

_INSERT = insert(audit_event)
_last_prune: dict[str, float] = {}
_prune_lock = threading.Lock()


def record(
    conn: Connection,
    principal: Principal,
    *,
    event: str,
    resource_type: str,
    resource_id: str | None,
    resource_title: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    record_many(conn, principal, event=event, events=[(resource_type, resource_id, resource_title, details)])


def record_many(
    conn: Connection,
    principal: Principal,
    *,
    event: str,
    events: list[tuple[str, str | None, str | None, dict[str, Any] | None]],
) -> None:
    """``record`` for many (resource type, id, title, details) in one insert."""
    if not events:
        return
    now = utc_now()
    conn.execute(
        _INSERT,  # built once: every write records an event
        [
            {
                "workspace_id": principal.workspace_id,
                "id": str(uuid.uuid4()),
                "created_at": now,
                "event": event,
                "resource_type": resource_type,
                "resource_id": resource_id,
                "resource_title": (resource_title or None) and resource_title[:500],
                "performer_id": principal.key_id,
                "performer_name": principal.name,
                "details": details or {},
            }
            for resource_type, resource_id, resource_title, details in events
        ],
    )
    if _prune_due(principal.workspace_id):
        prune(conn, principal.workspace_id)


def _prune_due(workspace_id: str) -> bool:
    """At most one prune per workspace and hour in this process (others prune their own)."""
    now = time.monotonic()
    with _prune_lock:
        last = _last_prune.get(workspace_id)
        if last is not None and now - last < _PRUNE_EVERY_SECONDS:
            return False
        _last_prune[workspace_id] = now
        return True


def prune(conn: Connection, workspace_id: str, *, days: int = RETENTION_DAYS) -> int:
    cutoff = utc_now() - timedelta(days=days)
    result = conn.execute(delete(audit_event).where(A.workspace_id == workspace_id, A.created_at < cutoff))
    return int(result.rowcount or 0)


def to_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "created_at": iso(row.created_at),
        "event": row.event,
        "resource_id": row.resource_id,
        "resource_type": row.resource_type,
        "resource_title": row.resource_title,
        "performer": {"id": row.performer_id, "name": row.performer_name},
        "details": row.details,
    }


def list_events(
    conn: Connection, principal: Principal, *, days: int, limit: int, offset: int
) -> tuple[int, list[dict[str, Any]]]:
    """Newest first, within the last ``days`` days (at most the retention period)."""
    principal.require_admin()
    if not 1 <= days <= RETENTION_DAYS:
        raise InvalidInput(f"days must be between 1 and {RETENTION_DAYS}", field="days")
    where = (A.workspace_id == principal.workspace_id) & (A.created_at >= utc_now() - timedelta(days=days))
    total = int(conn.execute(select(func.count()).select_from(audit_event).where(where)).scalar_one())
    rows = conn.execute(
        select(audit_event)
        .where(where)
        .order_by(A.created_at.desc(), A.pk.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return total, [to_json(r) for r in rows]


def recently_changed(conn: Connection, workspace_id: str, *, events: int) -> list[str]:
    """Ids of resources touched by the newest ``events`` events, newest first (any caller: the ids
    say nothing by themselves; callers fetch the resources through the visibility rule)."""
    rows = conn.execute(
        select(A.resource_id)
        .where(A.workspace_id == workspace_id, A.resource_id.is_not(None))
        .order_by(A.created_at.desc(), A.pk.desc())
        .limit(events)
    ).scalars()
    return list(dict.fromkeys(r for r in rows if r))
