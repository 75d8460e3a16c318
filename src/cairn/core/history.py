"""Resource history: every change is a version (who, when, which fields, old and new values).

Each version keeps the full snapshot of the writable fields after the change, so restoring a
version brings back every field exactly; the restore is itself a new version.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select

from cairn.core.principal import Principal
from cairn.models.common import iso, utc_now
from cairn.models.resources import LIST_FIELDS
from cairn.store.schema import resource, resource_version

V = resource_version.c

# The entity keys a user or a source can change; derived keys (title_full, children_count,
# search_metadata derived parts, timestamps) follow from these.
TRACKED_FIELDS: tuple[str, ...] = (
    "title",
    "entity_type",
    "native_type",
    "integration",
    "parent",
    "description",
    "definition",
    "icon",
    "url",
    "pii",
    "verified",
    "published",
    "archived",
    "stale",
    "forced_unstale_by_user",
    *LIST_FIELDS,
    "internal_usage",
    "external_usage",
    "row_count",
    "byte_size",
    "databuilder_id",
    "external_updated_at",
    "display_metadata",
    "question_status",
    "question_priority",
    "question_answered_by",
    "question_assigned_to",
)


def snapshot(entity: dict[str, Any]) -> dict[str, Any]:
    return {name: entity.get(name) for name in TRACKED_FIELDS}


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    old = before or {}
    new = after or {}
    out: dict[str, dict[str, Any]] = {}
    for name in TRACKED_FIELDS:
        if old.get(name) != new.get(name):
            out[name] = {"old": old.get(name), "new": new.get(name)}
    return out


def record(
    conn: Connection,
    principal: Principal,
    *,
    resource_id: str,
    event: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> int | None:
    """Append a version; callers hold the resource's write lock, so numbers never collide."""
    before_snap = snapshot(before) if before is not None else None
    after_snap = snapshot(after) if after is not None else None
    diff = changes(before_snap, after_snap)
    if event == "updated" and not diff:
        return None
    current = conn.execute(_LAST_VERSION, {"ws": principal.workspace_id, "rid": resource_id}).scalar_one()
    version = int(current or 0) + 1
    snap = after_snap if after_snap is not None else before_snap
    conn.execute(_INSERT, _version_row(principal, resource_id, version, event, diff, snap))
    return version


def record_updates(
    conn: Connection, principal: Principal, updates: list[tuple[str, dict[str, Any], dict[str, Any]]]
) -> None:
    """``record`` of an "updated" version for many (resource id, before, after) entities at once:
    one query for their last versions and one insert (callers hold the write locks)."""
    pending: list[tuple[str, dict[str, Any], dict[str, dict[str, Any]]]] = []
    for resource_id, before, after in updates:
        after_snap = snapshot(after)
        diff = changes(snapshot(before), after_snap)
        if diff:
            pending.append((resource_id, after_snap, diff))
    if not pending:
        return
    ids = [resource_id for resource_id, _, _ in pending]
    last = dict(conn.execute(_LAST_VERSIONS, {"ws": principal.workspace_id, "ids": ids}).all())
    conn.execute(
        _INSERT,
        [
            _version_row(principal, rid, int(last.get(rid) or 0) + 1, "updated", diff, snap)
            for rid, snap, diff in pending
        ],
    )


def _version_row(
    principal: Principal,
    resource_id: str,
    version: int,
    event: str,
    diff: dict[str, dict[str, Any]],
    snap: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "workspace_id": principal.workspace_id,
        "resource_id": resource_id,
        "version": version,
        "event": event,
        "actor_id": principal.key_id,
        "actor_name": principal.name,
        "at": utc_now(),
        "changes": diff,
        "snapshot": snap,
    }


# Built once: every write records a version, and building the statements cost more than
# running them.
_LAST_VERSION = select(func.max(V.version)).where(
    V.workspace_id == bindparam("ws"), V.resource_id == bindparam("rid")
)
# Per resource, a max() over its (workspace, resource, version) index range: one index probe
# each. Grouping the versions of all the ids read every version they ever had (a collection
# renamed by every Kontent.ai PATCH of a benchmark had dozens), growing with the history.
_LAST_VERSIONS = select(
    resource.c.id,
    select(func.max(V.version))
    .where(V.workspace_id == resource.c.workspace_id, V.resource_id == resource.c.id)
    .scalar_subquery(),
).where(resource.c.workspace_id == bindparam("ws"), resource.c.id.in_(bindparam("ids", expanding=True)))
_INSERT = insert(resource_version)


def versions(
    conn: Connection, workspace_id: str, resource_id: str, *, limit: int, offset: int
) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(resource_version)
        .where(V.workspace_id == workspace_id, V.resource_id == resource_id)
        .order_by(V.version.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [
        {
            "version": r.version,
            "event": r.event,
            "at": iso(r.at),
            "actor": {"id": r.actor_id, "name": r.actor_name},
            "changes": r.changes,
        }
        for r in rows
    ]


def count(conn: Connection, workspace_id: str, resource_id: str) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(resource_version)
            .where(V.workspace_id == workspace_id, V.resource_id == resource_id)
        ).scalar_one()
    )


def snapshot_of(conn: Connection, workspace_id: str, resource_id: str, version: int) -> dict[str, Any] | None:
    row = conn.execute(
        select(V.snapshot, V.event).where(
            V.workspace_id == workspace_id, V.resource_id == resource_id, V.version == version
        )
    ).first()
    if row is None:
        return None
    snap: dict[str, Any] = row.snapshot
    return snap
