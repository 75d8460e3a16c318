"""Label tags. Resources reference them by id in ``tags``; deleting a tag drops it from them."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, Row, delete, select

from cairn.core import audit, records
from cairn.core.errors import InvalidInput
from cairn.core.principal import Principal
from cairn.core.resources import PageRequest, PageResult
from cairn.models.common import iso, utc_now
from cairn.models.tags import TagWrite
from cairn.store import Store
from cairn.store import resources as repo
from cairn.store.schema import resource, tag

T = tag.c
DEFAULT_COLOR = "#149634"


def to_json(row: Row[Any] | dict[str, Any]) -> dict[str, Any]:
    m = row._mapping if isinstance(row, Row) else row
    return {
        "id": m["id"],
        "created_at": iso(m["created_at"]),
        "updated_at": iso(m["updated_at"]),
        "name": m["name"],
        "description": m["description"],
        "color": m["color"],
        "integration_id": m["integration_id"],
        "workspace_id": m["workspace_id"],
    }


class TagService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def list(self, principal: Principal, paging: PageRequest) -> PageResult:
        with self.store.read() as conn:
            return records.paged(
                conn, tag, T.workspace_id == principal.workspace_id, [T.name, T.id], paging, to_json
            )

    def get(self, principal: Principal, tag_id: str) -> dict[str, Any]:
        with self.store.read() as conn:
            return to_json(records.require(conn, tag, principal.workspace_id, tag_id))

    def create(self, principal: Principal, body: TagWrite, *, tag_id: str | None = None) -> dict[str, Any]:
        principal.require_write()
        with self.store.write() as conn:
            return self.create_in(conn, principal, body, tag_id=tag_id)

    def create_in(
        self,
        conn: Connection,
        principal: Principal,
        body: TagWrite,
        *,
        tag_id: str | None = None,
        integration_id: str | None = None,
    ) -> dict[str, Any]:
        if not body.name or not body.name.strip():
            raise InvalidInput("name is required", field="name")
        self._check_free(conn, principal.workspace_id, body.name, None)
        now = utc_now()
        new_id = tag_id or str(uuid.uuid4())
        values: dict[str, Any] = {
            "workspace_id": principal.workspace_id,
            "id": new_id,
            "name": body.name,
            "description": body.description,
            "color": body.color or DEFAULT_COLOR,
            "integration_id": integration_id,
            "created_at": now,
            "updated_at": now,
        }
        records.insert_unique(
            conn, tag, values, message=f"a tag named '{body.name}' already exists", field="name"
        )
        audit.record(
            conn,
            principal,
            event="created",
            resource_type="tag",
            resource_id=new_id,
            resource_title=body.name,
        )
        return to_json(values)

    def update(self, principal: Principal, tag_id: str, body: TagWrite) -> dict[str, Any]:
        principal.require_write()
        sent = body.model_fields_set
        with self.store.write() as conn:
            row = records.require(conn, tag, principal.workspace_id, tag_id, for_update=True)
            values: dict[str, Any] = {}
            if "name" in sent:
                if not body.name or not body.name.strip():
                    raise InvalidInput("name cannot be empty", field="name")
                if body.name != row.name:
                    self._check_free(conn, principal.workspace_id, body.name, row.pk)
                values["name"] = body.name
            if "description" in sent:
                values["description"] = body.description
            if "color" in sent:
                if body.color is None:
                    raise InvalidInput("color cannot be null", field="color")
                values["color"] = body.color
            if values:
                values["updated_at"] = utc_now()
                records.update_unique(
                    conn,
                    tag,
                    row.pk,
                    values,
                    message=f"a tag named '{body.name}' already exists",
                    field="name",
                )
                audit.record(
                    conn,
                    principal,
                    event="updated",
                    resource_type="tag",
                    resource_id=row.id,
                    resource_title=values.get("name", row.name),
                    details={"fields": sorted(k for k in values if k != "updated_at")},
                )
            fresh = conn.execute(select(tag).where(T.pk == row.pk)).one()
            return to_json(fresh)

    def delete(self, principal: Principal, tag_id: str) -> None:
        principal.require_write()
        ws = principal.workspace_id
        with self.store.write() as conn:
            row = records.require(conn, tag, ws, tag_id, for_update=True)
            now = utc_now()
            for pk in repo.member_pks(conn, ws, "tags", row.id):
                current = conn.execute(select(resource.c.tags).where(resource.c.pk == pk)).scalar_one()
                remaining = [t for t in current if t != row.id]
                repo.update_row(conn, pk, ws, {"tags": remaining, "updated_at": now})
            conn.execute(delete(tag).where(T.pk == row.pk))
            audit.record(
                conn,
                principal,
                event="deleted",
                resource_type="tag",
                resource_id=row.id,
                resource_title=row.name,
            )

    @staticmethod
    def _check_free(conn: Connection, workspace_id: str, name: str, own_pk: int | None) -> None:
        taken = conn.execute(select(T.pk).where(T.workspace_id == workspace_id, T.name == name)).first()
        if taken is not None and taken.pk != own_pk:
            raise InvalidInput(f"a tag named '{name}' already exists", field="name")
