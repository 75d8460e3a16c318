"""Custom properties: a workspace defines them (name, value type, which entity types carry them)
and sets a value per entity. Values show on the entity as ``properties.custom``."""

from __future__ import annotations

import builtins
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, select, update

from cairn.core import audit, extras, records
from cairn.core.errors import InvalidInput, NotFound
from cairn.core.hierarchy import canonical_type
from cairn.core.principal import Principal
from cairn.core.resources import _valid_id
from cairn.models.common import _check_json, iso, utc_now
from cairn.models.custom_properties import CustomPropertyValueWrite, CustomPropertyWrite
from cairn.store import Store
from cairn.store import resources as repo
from cairn.store.schema import custom_property, custom_property_value, integration, resource

CP = custom_property.c
ALL = "all"
MAX_VALUE_CHARS = 100_000


def to_json(row: Row[Any], integration_ref: dict[str, str] | None) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "entity_types": row.entity_types,
        "value_type": row.value_type,
        "integration": integration_ref,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def check_entity_types(value: builtins.list[str] | str | None) -> builtins.list[str]:
    if value is None:
        return []
    names = [value] if isinstance(value, str) else value
    out: builtins.list[str] = []
    for index, name in enumerate(names):
        if name == ALL:
            return [ALL]
        try:
            out.append(canonical_type(name))
        except InvalidInput as exc:
            raise InvalidInput(exc.message, field=f"entity_types[{index}]") from exc
    return list(dict.fromkeys(out))


def check_value(value_type: str, value: Any) -> Any:
    """A value that fits the property's type, as stored (``None`` clears the value)."""
    if value is None:
        return None

    def wrong(expected: str) -> InvalidInput:
        return InvalidInput(f"a {value_type} property takes {expected}", field="value")

    if value_type in ("string", "text", "markdown", "url", "user", "select"):
        if not isinstance(value, str):
            raise wrong("a string")
        if len(value) > MAX_VALUE_CHARS:
            raise InvalidInput(f"value must be at most {MAX_VALUE_CHARS} characters", field="value")
    elif value_type == "number":
        if isinstance(value, str):
            try:
                value = float(value) if any(c in value for c in ".eE") else int(value)
            except ValueError:
                raise wrong("a number") from None
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise wrong("a number")
    elif value_type == "boolean":
        if isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        if not isinstance(value, bool):
            raise wrong("true or false")
    elif value_type == "date":
        if not isinstance(value, str):
            raise wrong("an ISO-8601 date")
        try:
            (datetime if "T" in value else date).fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise wrong("an ISO-8601 date") from None
    elif value_type == "multiselect" and (
        not isinstance(value, list) or not all(isinstance(v, str) for v in value)
    ):
        raise wrong("a list of strings")
    try:
        _check_json(value)
    except ValueError as exc:
        raise InvalidInput(f"value {exc}", field="value") from exc
    return value


class CustomPropertyService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _json(self, conn: Connection, rows: builtins.list[Row[Any]]) -> builtins.list[dict[str, Any]]:
        ids = {r.integration_id for r in rows if r.integration_id}
        refs: dict[str, dict[str, str]] = {}
        if ids:
            for row in conn.execute(
                select(integration.c.id, integration.c.name, integration.c.type).where(
                    integration.c.workspace_id == rows[0].workspace_id, integration.c.id.in_(ids)
                )
            ):
                refs[row.id] = {"id": row.id, "name": row.name, "type": row.type}
        return [to_json(r, refs.get(r.integration_id) if r.integration_id else None) for r in rows]

    def list(self, principal: Principal) -> builtins.list[dict[str, Any]]:
        with self.store.read() as conn:
            rows = conn.execute(
                select(custom_property)
                .where(CP.workspace_id == principal.workspace_id)
                .order_by(CP.created_at, CP.pk)
            ).all()
            return self._json(conn, list(rows))

    def get(self, principal: Principal, property_id: str) -> dict[str, Any]:
        with self.store.read() as conn:
            return self._json(
                conn, [records.require(conn, custom_property, principal.workspace_id, property_id)]
            )[0]

    def create(self, principal: Principal, body: CustomPropertyWrite) -> dict[str, Any]:
        principal.require_write()
        if not body.name or not body.name.strip():
            raise InvalidInput("name is required", field="name")
        if body.value_type is None:
            raise InvalidInput("value_type is required", field="value_type")
        entity_types = check_entity_types(body.entity_types)
        now = utc_now()
        property_id = str(uuid.uuid4())
        with self.store.write() as conn:
            records.insert_unique(
                conn,
                custom_property,
                {
                    "workspace_id": principal.workspace_id,
                    "id": property_id,
                    "name": body.name,
                    "entity_types": entity_types,
                    "value_type": body.value_type,
                    "integration_id": None,
                    "created_at": now,
                    "updated_at": now,
                },
                message=f"a custom property named '{body.name}' already exists",
                field="name",
            )
            audit.record(
                conn,
                principal,
                event="created",
                resource_type="custom_property",
                resource_id=property_id,
                resource_title=body.name,
            )
            row = records.require(conn, custom_property, principal.workspace_id, property_id)
            return self._json(conn, [row])[0]

    def update(self, principal: Principal, property_id: str, body: CustomPropertyWrite) -> dict[str, Any]:
        principal.require_write()
        sent = body.model_fields_set
        with self.store.write() as conn:
            row = records.require(conn, custom_property, principal.workspace_id, property_id, for_update=True)
            values: dict[str, Any] = {}
            if "name" in sent:
                if not body.name or not body.name.strip():
                    raise InvalidInput("name cannot be empty", field="name")
                values["name"] = body.name
            if "entity_types" in sent:
                values["entity_types"] = check_entity_types(body.entity_types)
            if "value_type" in sent:
                if body.value_type is None:
                    raise InvalidInput("value_type cannot be null", field="value_type")
                if body.value_type != row.value_type:
                    self._check_existing_values(conn, row.pk, body.value_type)
                values["value_type"] = body.value_type
            if values:
                values["updated_at"] = utc_now()
                records.update_unique(
                    conn,
                    custom_property,
                    row.pk,
                    values,
                    message=f"a custom property named '{values.get('name')}' already exists",
                    field="name",
                )
                audit.record(
                    conn,
                    principal,
                    event="updated",
                    resource_type="custom_property",
                    resource_id=row.id,
                    resource_title=values.get("name", row.name),
                    details={"fields": sorted(k for k in values if k != "updated_at")},
                )
            fresh = conn.execute(select(custom_property).where(CP.pk == row.pk)).one()
            return self._json(conn, [fresh])[0]

    @staticmethod
    def _check_existing_values(conn: Connection, property_pk: int, value_type: str) -> None:
        """Changing the type must not leave stored values that the new type would refuse."""
        values = conn.execute(
            select(custom_property_value.c.value).where(custom_property_value.c.property_pk == property_pk)
        ).scalars()
        for stored in values:
            value = extras.unwrap(stored)
            try:
                check_value(value_type, value)
            except InvalidInput:
                raise InvalidInput(
                    f"existing values do not fit value_type '{value_type}' (e.g. {value!r})",
                    field="value_type",
                ) from None

    def delete(self, principal: Principal, property_id: str) -> None:
        principal.require_write()
        with self.store.write() as conn:
            row = records.require(conn, custom_property, principal.workspace_id, property_id, for_update=True)
            conn.execute(delete(custom_property_value).where(custom_property_value.c.property_pk == row.pk))
            conn.execute(delete(custom_property).where(CP.pk == row.pk))
            audit.record(
                conn,
                principal,
                event="deleted",
                resource_type="custom_property",
                resource_id=row.id,
                resource_title=row.name,
            )

    def set_value(
        self, principal: Principal, property_id: str, entity_id: str, body: CustomPropertyValueWrite
    ) -> dict[str, Any]:
        principal.require_write()
        ws = principal.workspace_id
        with self.store.write() as conn:
            prop = records.require(conn, custom_property, ws, property_id)
            entity = _valid_id(entity_id) and repo.get_row(conn, ws, entity_id, for_update=True)
            if not entity or entity.archived:
                raise NotFound(f"entity {entity_id} does not exist")
            allowed = prop.entity_types or []
            if ALL not in allowed and allowed and entity.entity_type not in allowed:
                raise InvalidInput(
                    f"custom property '{prop.name}' applies to {', '.join(allowed)}, "
                    f"not to a {entity.entity_type}",
                    field="entity_id",
                )
            value = check_value(prop.value_type, body.value)
            if value is None:
                conn.execute(
                    delete(custom_property_value).where(
                        custom_property_value.c.property_pk == prop.pk,
                        custom_property_value.c.resource_pk == entity.pk,
                    )
                )
            else:
                extras.touch_value(conn, ws, prop.pk, entity.pk, value)
            conn.execute(update(resource).where(resource.c.pk == entity.pk).values(updated_at=utc_now()))
            audit.record(
                conn,
                principal,
                event="updated",
                resource_type=entity.entity_type,
                resource_id=entity.id,
                resource_title=entity.title,
                details={"custom_property": prop.id, "name": prop.name},
            )
            return {
                "id": prop.id,
                "name": prop.name,
                "value": value,
                "type": prop.value_type,
                "entity_id": entity.id,
            }
