"""Bulk inserts (``store/resources.py: executemany``) write rows whose empty columns are SQL
literals instead of bound values on SQLite: the stored rows are the ones bound values give."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table

from cairn.store import Store
from cairn.store import resources as repo

_META = MetaData()
_COLUMNS = (
    lambda: Column("pk", Integer, primary_key=True),
    lambda: Column("name", String, nullable=False),
    lambda: Column("note", String, nullable=True),
    lambda: Column("size", Integer, nullable=True),
    lambda: Column("tags", JSON, nullable=False),
    lambda: Column("extra", JSON(none_as_null=True), nullable=True),
)
BULK = Table("bulk_layout_bulk", _META, *(make() for make in _COLUMNS))
PLAIN = Table("bulk_layout_plain", _META, *(make() for make in _COLUMNS))


def _rows() -> list[dict[str, Any]]:
    # Shapes change from row to row, in runs of one, two and three, with values that look like
    # the literals without being them.
    values: list[dict[str, Any]] = [
        {"name": "a", "note": None, "size": None, "tags": [], "extra": None},
        {"name": "b", "note": "x", "size": 0, "tags": ["t"], "extra": []},
        {"name": "c", "note": "x", "size": 0, "tags": ["t"], "extra": {}},
        {"name": "d", "note": "[]", "size": None, "tags": [], "extra": {"k": [1]}},
        {"name": "e", "note": "NULL", "size": None, "tags": [], "extra": None},
        {"name": "f", "note": "", "size": None, "tags": [], "extra": None},
        {"name": "g", "note": None, "size": 7, "tags": [""], "extra": "[]"},
    ]
    return [{"pk": pk, **row} for pk, row in enumerate(values * 3, start=1)]


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
@pytest.mark.parametrize("max_shapes", [64, 1])
def test_bulk_rows_equal_bound_rows(store: Store, max_shapes: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same stored text and types as every value bound (the statement before literals)."""
    monkeypatch.setattr(repo, "MAX_SHAPES", max_shapes)
    monkeypatch.setattr(repo.BulkLayout, "_cache", {})
    stored = "SELECT *, typeof(note), typeof(size), typeof(tags), typeof(extra) FROM {} ORDER BY pk"
    with store.write() as conn:
        _META.create_all(conn)
        rows = _rows()
        repo.executemany(conn, BULK, rows)
        layout = repo.BulkLayout.of(PLAIN, "sqlite")
        conn.exec_driver_sql(layout.sql, [tuple(layout.params(row)) for row in rows])
        bulk = conn.exec_driver_sql(stored.format(BULK.name)).all()
        plain = conn.exec_driver_sql(stored.format(PLAIN.name)).all()
        _META.drop_all(conn)
    assert len(bulk) == len(rows)
    assert [tuple(row) for row in bulk] == [tuple(row) for row in plain]


def test_runs_keep_row_order_and_group_shapes() -> None:
    layout = repo.BulkLayout(BULK, "sqlite")
    params = [layout.params(row) for row in _rows()]
    runs = [(sql, list(values)) for sql, values in layout.runs(params)]
    assert sum(len(values) for _sql, values in runs) == len(params)
    assert [values[0] for _sql, values in runs] == sorted(values[0] for _sql, values in runs), "pks ascend"
    first_sql, first_values = runs[0]
    assert "NULL" in first_sql
    assert "'[]'" in first_sql
    assert len(first_values[0]) == first_sql.count("?")
