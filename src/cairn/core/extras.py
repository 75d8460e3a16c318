"""What an entity shows beyond its resource row: custom property values and type-specific details.

Both live in side tables keyed by the resource's ``pk`` (deleted with it). Read paths load them
for a whole page in two indexed queries and merge them into the entity dicts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Connection,
    Integer,
    Select,
    bindparam,
    delete,
    insert,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
    update,
)

from cairn.models.common import iso, utc_now
from cairn.store.prepared import Prepared
from cairn.store.schema import Timestamp, custom_property, custom_property_value, resource_detail

CP = custom_property.c
CV = custom_property_value.c
D = resource_detail.c
_CHUNK = 500


def _chunks(values: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(values), _CHUNK):
        yield list(values[start : start + _CHUNK])


def _rows_of(
    conn: Connection,
    by_list: Select[Any] | CompoundSelect[Any],
    by_range: Select[Any] | CompoundSelect[Any] | Prepared,
    pks: Sequence[int],
) -> Iterable[Any]:
    """Side-table rows of these resources: one range query when the keys are dense (a scan page
    of a thousand consecutive resources, the columns of a table, a single resource), else ``IN``
    lists. Rendering and binding an ``IN`` of many keys cost more than reading the few extra rows
    a range may hold."""
    if not pks:
        return ()
    low, high = min(pks), max(pks)
    if high - low < _DENSE_SPREAD * len(pks):
        wanted = set(pks)
        bounds = {"low": low, "high": high}
        if isinstance(by_range, Prepared):
            return (row for row in by_range.rows(conn, bounds) if row[0] in wanted)
        found = conn.execute(by_range, bounds)
        return (row for row in found if row[0] in wanted)
    return (row for chunk in _chunks(pks) for row in conn.execute(by_list, {"pks": chunk}))


_DENSE_SPREAD = 4
_PKS: BindParameter[list[int]] = bindparam("pks", expanding=True)
_PK_RANGE: tuple[BindParameter[int], BindParameter[int]] = (bindparam("low"), bindparam("high"))

# Built once (every read decorates its rows): statement construction dominated small reads.
_DETAILS = select(D.resource_pk, D.data)
_DETAILS_BY_LIST = _DETAILS.where(D.resource_pk.in_(_PKS))
_DETAILS_BY_RANGE = _DETAILS.where(D.resource_pk.between(*_PK_RANGE))


def details_of(conn: Connection, pks: Sequence[int]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for pk, data in _rows_of(conn, _DETAILS_BY_LIST, _DETAILS_BY_RANGE, pks):
        found[pk] = data or {}
    return found


def set_details(conn: Connection, workspace_id: str, resource_pk: int, changes: dict[str, Any]) -> None:
    """Merge ``changes`` into a resource's details (a key set to None is removed)."""
    current = conn.execute(select(D.data).where(D.resource_pk == resource_pk)).scalar_one_or_none()
    merged = dict(current or {})
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    if current is None:
        if merged:
            conn.execute(
                insert(resource_detail).values(
                    resource_pk=resource_pk, workspace_id=workspace_id, data=merged
                )
            )
    elif merged:
        conn.execute(update(resource_detail).where(D.resource_pk == resource_pk).values(data=merged))
    else:
        conn.execute(delete(resource_detail).where(D.resource_pk == resource_pk))


_CUSTOM_VALUES = select(
    CV.resource_pk, CV.value, CV.created_at, CV.updated_at, CP.id, CP.name, CP.value_type, CP.pk
).join(custom_property, CP.pk == CV.property_pk)
_CUSTOM_VALUES_BY_LIST = _CUSTOM_VALUES.where(CV.resource_pk.in_(_PKS)).order_by(CV.resource_pk, CP.pk)
_CUSTOM_VALUES_BY_RANGE = _CUSTOM_VALUES.where(CV.resource_pk.between(*_PK_RANGE)).order_by(
    CV.resource_pk, CP.pk
)


def custom_values_of(conn: Connection, pks: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in _rows_of(conn, _CUSTOM_VALUES_BY_LIST, _CUSTOM_VALUES_BY_RANGE, pks):
        _add_custom_value(found[row.resource_pk], row)
    return found


def _add_custom_value(items: list[dict[str, Any]], row: Any) -> None:
    items.append(
        {
            "id": row.id,
            "name": row.name,
            "value": unwrap(row.value),
            "type": row.value_type,
            "order": len(items),
            "created_at": iso(row.created_at),
            "updated_at": iso(row.updated_at),
        }
    )


def _extras_statement(custom_where: Any, details_where: Any) -> CompoundSelect[Any]:
    """Custom property values and details in one statement (one round trip per page instead of
    two): the values' rows first (they type the columns), then one row per resource with
    details, its ``data`` in ``value`` and ``property_pk`` null."""
    values = _CUSTOM_VALUES.add_columns(literal_column("1", Integer).label("side")).where(custom_where)
    details = select(
        D.resource_pk,
        D.data.label("value"),
        type_coerce(null(), Timestamp).label("created_at"),
        type_coerce(null(), Timestamp).label("updated_at"),
        null().label("id"),
        null().label("name"),
        null().label("value_type"),
        null().label("pk"),
        literal_column("0", Integer).label("side"),
    ).where(details_where)
    return union_all(values, details).order_by("resource_pk", "side", "pk")


class _Extra(NamedTuple):
    """A row of ``_extras_statement``."""

    resource_pk: int
    value: Any
    created_at: Any
    updated_at: Any
    id: str | None
    name: str | None
    value_type: str | None
    pk: int | None
    side: int


_EXTRAS_BY_LIST = _extras_statement(CV.resource_pk.in_(_PKS), D.resource_pk.in_(_PKS))
# Every page and every resource read runs this one: prepared (see store/prepared.py).
_EXTRAS_BY_RANGE = Prepared(
    _extras_statement(CV.resource_pk.between(*_PK_RANGE), D.resource_pk.between(*_PK_RANGE))
)


def decorate(
    conn: Connection,
    rows: Sequence[Any],
    entities: Sequence[dict[str, Any]],
    *,
    pks: Sequence[int] | None = None,
) -> None:
    """Add ``properties.custom`` and the type-specific details to entities built from ``rows``
    (``pks``: their keys, for rows that are plain tuples)."""
    pks = [_pk(row) for row in rows] if pks is None else pks
    if not pks:
        return
    details: dict[int, dict[str, Any]] = {}
    custom: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for found in _rows_of(conn, _EXTRAS_BY_LIST, _EXTRAS_BY_RANGE, pks):
        row = _Extra._make(found)
        if row.side:
            _add_custom_value(custom[row.resource_pk], row)
        else:
            details[row.resource_pk] = row.value or {}
    for pk, entity in zip(pks, entities, strict=True):
        entity["properties"] = {"custom": custom.get(pk, [])}
        extra = details.get(pk)
        if extra:
            entity.update(extra)


def _pk(row: Any) -> int:
    if isinstance(row, dict):
        return int(row["pk"])
    return int(row.pk)


def wrap(value: Any) -> dict[str, Any]:
    """Values are stored inside an object: SQLite's JSON affinity would turn a bare ``12.5`` into a REAL."""
    return {"value": value}


def unwrap(stored: Any) -> Any:
    return stored.get("value") if isinstance(stored, dict) else stored


def touch_value(conn: Connection, workspace_id: str, property_pk: int, resource_pk: int, value: Any) -> None:
    now = utc_now()
    value = wrap(value)
    changed = conn.execute(
        update(custom_property_value)
        .where(CV.property_pk == property_pk, CV.resource_pk == resource_pk)
        .values(value=value, updated_at=now)
    )
    if not changed.rowcount:
        conn.execute(
            insert(custom_property_value).values(
                property_pk=property_pk,
                resource_pk=resource_pk,
                workspace_id=workspace_id,
                value=value,
                created_at=now,
                updated_at=now,
            )
        )
