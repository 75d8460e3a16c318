"""Helpers shared by the small workspace-scoped records (tags, users, teams, groups, properties)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Table, func, select
from sqlalchemy.exc import IntegrityError

from cairn.core.errors import InvalidInput, NotFound
from cairn.core.resources import PageRequest, PageResult, check_page


def valid_id(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def find(
    conn: Connection, table: Table, workspace_id: str, record_id: str, *, for_update: bool = False
) -> Row[Any] | None:
    if not valid_id(record_id):
        return None
    stmt = select(table).where(table.c.workspace_id == workspace_id, table.c.id == record_id)
    if for_update:
        stmt = stmt.with_for_update()
    return conn.execute(stmt).first()


def require(
    conn: Connection, table: Table, workspace_id: str, record_id: str, *, for_update: bool = False
) -> Row[Any]:
    row = find(conn, table, workspace_id, record_id, for_update=for_update)
    if row is None:
        raise NotFound("Not found.")
    return row


def existing_ids(
    conn: Connection, table: Table, workspace_id: str, ids: list[str], *, field: str, noun: str
) -> None:
    """Every id in ``ids`` names a record of ``table`` in the workspace, else a 400 names one."""
    wanted = list(dict.fromkeys(ids))
    valid = [i for i in wanted if valid_id(i)]
    found: set[str] = set()
    for start in range(0, len(valid), 500):
        chunk = valid[start : start + 500]
        found.update(
            conn.execute(
                select(table.c.id).where(table.c.workspace_id == workspace_id, table.c.id.in_(chunk))
            ).scalars()
        )
    missing = [i for i in wanted if i not in found]
    if missing:
        raise InvalidInput(f"{noun} {missing[0]} does not exist", field=field)


def by_ids(conn: Connection, table: Table, workspace_id: str, ids: list[str]) -> dict[str, Row[Any]]:
    """The workspace's records among ``ids`` (malformed or foreign ids are simply absent)."""
    valid = [i for i in dict.fromkeys(ids) if valid_id(i)]
    found: dict[str, Row[Any]] = {}
    for start in range(0, len(valid), 500):
        chunk = valid[start : start + 500]
        for row in conn.execute(
            select(table).where(table.c.workspace_id == workspace_id, table.c.id.in_(chunk))
        ):
            found[row.id] = row
    return found


def paged(
    conn: Connection,
    table: Table,
    where: ColumnElement[bool],
    order_by: list[Any],
    paging: PageRequest,
    to_json: Callable[[Row[Any]], dict[str, Any]],
) -> PageResult:
    total = int(conn.execute(select(func.count()).select_from(table).where(where)).scalar_one())
    total_pages = check_page(paging, total)
    rows = conn.execute(
        select(table)
        .where(where)
        .order_by(*order_by)
        .limit(paging.page_size)
        .offset((paging.page - 1) * paging.page_size)
    ).all()
    return PageResult([to_json(r) for r in rows], total, paging.page, paging.page_size, total_pages)


def insert_unique(
    conn: Connection, table: Table, values: dict[str, Any], *, message: str, field: str
) -> None:
    """Insert a row whose unique key a concurrent writer may have just taken: that is a 400, not a 500."""
    try:
        with conn.begin_nested():
            conn.execute(table.insert().values(**values))
    except IntegrityError as exc:
        raise InvalidInput(message, field=field) from exc


def update_unique(
    conn: Connection, table: Table, pk: int, values: dict[str, Any], *, message: str, field: str
) -> None:
    try:
        with conn.begin_nested():
            conn.execute(table.update().where(table.c.pk == pk).values(**values))
    except IntegrityError as exc:
        raise InvalidInput(message, field=field) from exc
