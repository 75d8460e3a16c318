"""Upkeep after a bulk load or many edits: fresh planner statistics and a compact text index.

One place for what ``cairn import`` does when it ends and ``cairn optimize`` does on demand.
"""

from __future__ import annotations

from sqlalchemy import Connection

from cairn.store import search


def refresh(conn: Connection) -> dict[str, tuple[int, int]]:
    """ANALYZE every table (a bulk load fills resource, its members and the search tables; a
    planner without their statistics scans them whole) and merge the text index into one
    segment (``search.merge_segments``). The FTS5 tables' segment counts before and after
    (empty on PostgreSQL)."""
    before = search.segment_counts(conn)
    conn.exec_driver_sql("ANALYZE")
    search.merge_segments(conn)
    after = search.segment_counts(conn)
    return {name: (before[name], after[name]) for name in before}


__all__ = ["refresh"]
