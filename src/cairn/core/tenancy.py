"""Organizations and workspaces; every store has at least one of each."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from cairn.models.common import utc_now
from cairn.store import Store
from cairn.store.schema import organization, workspace

DEFAULT_ORGANIZATION_NAME = "Default organization"
DEFAULT_WORKSPACE_NAME = "Default workspace"


@dataclass(frozen=True)
class WorkspaceRef:
    id: str
    organization_id: str
    name: str


def create_workspace(conn: Connection, *, organization_id: str, name: str) -> WorkspaceRef:
    from cairn.core.collections import ensure_default
    from cairn.core.people import ensure_default_team

    ws_id = str(uuid.uuid4())
    conn.execute(
        insert(workspace).values(id=ws_id, organization_id=organization_id, name=name, created_at=utc_now())
    )
    ensure_default(conn, ws_id, organization_id)
    ensure_default_team(conn, ws_id)
    return WorkspaceRef(ws_id, organization_id, name)


def create_organization(conn: Connection, *, name: str) -> str:
    org_id = str(uuid.uuid4())
    conn.execute(insert(organization).values(id=org_id, name=name, created_at=utc_now()))
    return org_id


def default_workspace(store: Store) -> WorkspaceRef:
    """The first workspace, created (with its organization) in an empty store."""
    with store.write() as conn:
        row = conn.execute(
            select(workspace).order_by(workspace.c.created_at, workspace.c.id).limit(1)
        ).first()
        if row is not None:
            return WorkspaceRef(row.id, row.organization_id, row.name)
        org_id = create_organization(conn, name=DEFAULT_ORGANIZATION_NAME)
        return create_workspace(conn, organization_id=org_id, name=DEFAULT_WORKSPACE_NAME)


def get_workspace(conn: Connection, workspace_id: str) -> WorkspaceRef | None:
    row = conn.execute(select(workspace).where(workspace.c.id == workspace_id)).first()
    return None if row is None else WorkspaceRef(row.id, row.organization_id, row.name)
