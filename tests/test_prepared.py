"""Prepared selects (store/prepared.py) give the rows ``Connection.execute`` gives, value for
value and type for type, with their parameters bound as SQLAlchemy binds them (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select

from cairn.store import Store
from cairn.store.prepared import Prepared
from cairn.store.schema import resource
from tests.helpers import create, warehouse

R = resource.c


def _same(store: Store, stmt: Any, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with store.read() as conn:
        expected = [tuple(row) for row in conn.execute(stmt, params)]
        found = Prepared(stmt).rows(conn, params)
    assert found == expected
    for got, want in zip(found, expected, strict=True):
        assert [type(v) for v in got] == [type(v) for v in want]
    return found


def test_rows_are_processed_like_execute(api: Any, workspace: Any) -> None:
    made = warehouse(api.client, columns=2)
    table = made["table"]["id"]
    # Booleans (SQLite's 0/1), JSON (decoded), timestamps, literals bound as parameters.
    stmt = (
        select(R.id, R.published, R.archived, R.search_metadata, R.owners, R.created_at, R.entity_type)
        .where(R.workspace_id == bindparam("ws"), R.parent_id == bindparam("parent"))
        .where(R.entity_type == "column")
        .order_by(R.id)
    )
    rows = _same(api.store, stmt, {"ws": workspace.id, "parent": table})
    assert len(rows) == 2
    assert all(row[1] is True and row[2] is False and isinstance(row[3], dict) for row in rows)


def test_a_datetime_parameter_is_bound_as_sqlalchemy_binds_it(api: Any, workspace: Any) -> None:
    made = create(api.client, entity_type="document", title="dated")
    stmt = select(R.id).where(
        R.workspace_id == bindparam("ws"), R.created_at > bindparam("since", type_=R.created_at.type)
    )
    earlier = datetime.now(UTC) - timedelta(days=1)
    assert (made["id"],) in _same(api.store, stmt, {"ws": workspace.id, "since": earlier})
    assert _same(api.store, stmt, {"ws": workspace.id, "since": earlier + timedelta(days=2)}) == []


def test_an_expanding_parameter_runs_through_execute(api: Any, workspace: Any) -> None:
    ids = [create(api.client, entity_type="document", title=f"doc{i}")["id"] for i in range(3)]
    stmt = select(R.id).where(R.workspace_id == bindparam("ws"), R.id.in_(bindparam("ids", expanding=True)))
    found = _same(api.store, stmt.order_by(R.id), {"ws": workspace.id, "ids": ids[:2]})
    assert {row[0] for row in found} == set(ids[:2])
