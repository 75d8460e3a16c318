"""Lineage traversal: the graph around a resource and the impact of changing it.

Every walk is one recursive CTE over ``lineage_edge`` (no round trip per hop), the same SQL on
SQLite and PostgreSQL. It walks integer keys only: each hop is one probe of a covering edge
index ``(end, level, other end)`` and one of the narrow ``search_doc`` row for the visibility
rule; titles are read once at the end, for the bounded set of nodes returned. Cycles are
harmless: the walk is a ``UNION`` of (resource, depth) pairs bounded by the depth, so a node is
revisited at most once per depth. A walk never passes through a resource the caller cannot see:
hidden resources are neither returned nor used as a bridge to what lies behind them, and a
returned node whose parent is hidden does not name it.

The walk is breadth-first and read with a row cap. SQLite expands every row it hands out (a
row's edges are followed when it leaves the queue), so the work is the edges of the rows read:
the cap must be as small as it can be. A first read takes ``limit + 1`` rows: fewer means the
walk is complete; ``limit + 1`` distinct resources prove it holds more than ``limit``
(``truncated``), and being breadth-first they are the nearest. Only when the rows repeat a
resource (reached again at another depth) is the walk read again with the cap of
``(limit + 1) * (depth + 1)``: with at most ``limit`` distinct resources there are at most
``limit * (depth + 1)`` (resource, depth) pairs, so reaching that cap proves more than
``limit``. Both engines stop the recursion once the cap is read (SQLite runs the CTE as a
co-routine, PostgreSQL's recursive union is pulled lazily).

Results are the wire dictionaries (no model per node: building a pydantic object per node and
edge cost more than the walk itself at a few thousand nodes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Row,
    Select,
    cast,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.sql.selectable import CTE

from cairn.core import visibility
from cairn.core.errors import InvalidInput, NotFound
from cairn.core.principal import Principal
from cairn.core.records import valid_id
from cairn.core.resources import ResourceService
from cairn.models.graph import (
    DEFAULT_DEPTH,
    DEFAULT_NODE_LIMIT,
    IMPACT_MAX_DEPTH,
    IMPACT_NODE_LIMIT,
    MAX_DEPTH,
    MAX_NODE_LIMIT,
    Direction,
    Level,
)
from cairn.store import Store
from cairn.store.schema import Pk, lineage_edge, resource, search_doc

E = lineage_edge.c
R = resource.c
_CHUNK = 500


def _node_select(*extra: Any) -> Select[Any]:
    """What a graph node shows of a resource (``pk`` to join on)."""
    return select(R.pk, R.id, R.title, R.entity_type, R.integration_id, R.parent_id, *extra)


@dataclass(frozen=True)
class _Walk:
    """One recursive walk: from ``seeds`` along edges of ``level``, one way."""

    name: str
    seeds: Select[Any]  # (pk, depth 0)
    level: Level
    downstream: bool
    depth: int


def _cte(walk: _Walk, principal: Principal) -> CTE:
    cte = walk.seeds.cte(walk.name, recursive=True)
    # The narrow search documents carry the columns the visibility rule reads: a hop checks
    # them there instead of reading the wide resource row.
    node = search_doc.alias(f"{walk.name}_node")
    start, end = (E.upstream_pk, E.downstream_pk) if walk.downstream else (E.downstream_pk, E.upstream_pk)
    # SQLite builds a Bloom filter over the whole edge (and resource) index for every walk when
    # each key of the probe is a plain ``=`` (a full index scan: 100 ms at 200k edges). ``IN (x)``
    # for the end and ``level || ''`` (checked from the covering index, not a key) avoid it; a
    # resource's edges are nearly all of one level anyway.
    step = (
        select(end.label("pk"), (cte.c.depth + 1).label("depth"))
        .select_from(cte.join(lineage_edge, start.in_([cte.c.pk])).join(node, node.c.pk.in_([end])))
        .where(
            cte.c.depth < walk.depth,
            E.level.concat("") == walk.level,
            *ResourceService.visibility_of(node, principal),
        )
    )
    return cte.union(step)


def _nearest(walk: _Walk, principal: Principal, limit: int, cap: int) -> Select[Any]:
    """Up to ``limit + 1`` distinct resources of a walk's first ``cap`` rows, each at its
    smallest depth with how many rows named it, nearest first; titles are joined on these only."""
    cte = _cte(walk, principal)
    rows = select(cte.c.pk, cte.c.depth).limit(cap).subquery()
    depth = func.min(rows.c.depth).label("depth")
    # ``walk.name`` is one of this module's constant walk names, never user input.
    nearest = (
        select(rows.c.pk, depth, func.count().label("hits"), literal_column(f"'{walk.name}'").label("walk"))
        .group_by(rows.c.pk)
        .order_by(depth, rows.c.pk)
        .limit(limit + 1)
        .subquery()
    )
    return _node_select(nearest.c.depth, nearest.c.walk, nearest.c.hits).join(nearest, nearest.c.pk == R.pk)


def _walk_rows(conn: Connection, principal: Principal, walks: Sequence[_Walk], limit: int) -> list[Row[Any]]:
    """The nearest ``limit + 1`` resources of each walk (see the module's notes on the cap)."""

    def read(parts: Sequence[Select[Any]]) -> list[Row[Any]]:
        return list(conn.execute(parts[0] if len(parts) == 1 else union_all(*parts)).all())

    rows = read([_nearest(w, principal, limit, limit + 1) for w in walks])
    again = [
        w
        for w in walks
        if (mine := [r for r in rows if r.walk == w.name])
        and sum(r.hits for r in mine) > limit
        and len(mine) <= limit
    ]
    if again:
        names = {w.name for w in again}
        rows = [r for r in rows if r.walk not in names]
        rows += read([_nearest(w, principal, limit, (limit + 1) * (w.depth + 1)) for w in again])
    return rows


def _node(row: Row[Any], depth: int) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "entity_type": row.entity_type,
        "integration": row.integration_id,
        "parent": row.parent_id,
        "depth": depth,
    }


def _hide_parents(conn: Connection, principal: Principal, nodes: Iterable[dict[str, Any]]) -> None:
    """A node under a hidden parent does not name it (the catalog's rule for breadcrumbs)."""
    listed = list(nodes)
    hidden = visibility.hidden_among(conn, principal, [n["parent"] for n in listed])
    for node in listed:
        if node["parent"] in hidden:
            node["parent"] = None


class LineageGraphService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def graph(
        self,
        principal: Principal,
        resource_id: str,
        *,
        direction: Direction = "downstream",
        depth: int = DEFAULT_DEPTH,
        level: Level = "table",
        limit: int = DEFAULT_NODE_LIMIT,
    ) -> dict[str, Any]:
        """The graph as ``LineageGraph``'s JSON."""
        if not 1 <= depth <= MAX_DEPTH:
            raise InvalidInput(f"depth must be between 1 and {MAX_DEPTH}", field="depth")
        if not 1 <= limit <= MAX_NODE_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_NODE_LIMIT}", field="limit")
        with self.store.read() as conn:
            root = self._root(conn, principal, resource_id)
            walks = [
                _Walk(f"walk_{way}", self._seeds(principal, root, level), level, way == "downstream", depth)
                for way in ("downstream", "upstream")
                if direction in (way, "both")
            ]
            found = self._resolve(conn, principal, walks, limit)
            truncated = len(found) > limit
            kept = dict(list(found.items())[:limit])
            edges = self._edges(conn, kept, level)
            _hide_parents(conn, principal, kept.values())
        return {
            "root": root.id,
            "direction": direction,
            "level": level,
            "depth": depth,
            "nodes": list(kept.values()),
            "edges": edges,
            "truncated": truncated,
        }

    def impact(self, principal: Principal, resource_id: str) -> dict[str, Any]:
        """Everything downstream, by table-level lineage and through the columns' lineage, as
        ``Impact``'s JSON."""
        with self.store.read() as conn:
            root = self._root(conn, principal, resource_id)
            walks = [
                _Walk(f"walk_{level}", self._seeds(principal, root, level), level, True, IMPACT_MAX_DEPTH)
                for level in ("table", "column")
            ]
            rows = _walk_rows(conn, principal, walks, IMPACT_NODE_LIMIT)
            seeds = {root.pk} | {r.pk for r in rows if r.walk == "walk_column" and r.depth == 0}
            impacted: dict[str, dict[str, Any]] = {}
            columns: list[dict[str, Any]] = []
            parents: dict[str, int] = {}
            for row in rows:
                if row.pk in seeds:
                    continue
                if row.walk == "walk_table":
                    impacted.setdefault(row.id, _node(row, row.depth))
                    continue
                columns.append(
                    {
                        "id": row.id,
                        "title": row.title,
                        "table_id": row.parent_id,
                        "table_title": None,
                        "depth": row.depth,
                    }
                )
                if row.parent_id is not None:
                    parents[row.parent_id] = min(row.depth, parents.get(row.parent_id, row.depth))
            tables = self._visible(conn, principal, list(parents))
            for column in columns:
                parent = tables.get(column["table_id"] or "")
                column["table_title"] = parent.title if parent is not None else None
                if parent is None:
                    column["table_id"] = None
            for table_id, parent in tables.items():
                if table_id != root.id and table_id not in impacted:
                    impacted[table_id] = _node(parent, parents[table_id])
            ordered = sorted(
                impacted.values(), key=lambda n: (n["depth"], n["entity_type"], n["title"] or "", n["id"])
            )
            per_walk = Counter(r.walk for r in rows)
            truncated = (
                any(n > IMPACT_NODE_LIMIT for n in per_walk.values()) or len(ordered) > IMPACT_NODE_LIMIT
            )
            ordered = ordered[:IMPACT_NODE_LIMIT]
            root_node = _node(root, 0)
            _hide_parents(conn, principal, [root_node, *ordered])
        columns.sort(key=lambda c: (c["depth"], c["table_title"] or "", c["title"] or "", c["id"]))
        return {
            "root": root_node,
            "count": len(ordered),
            "by_type": dict(Counter(n["entity_type"] for n in ordered).most_common()),
            "impacted": ordered,
            "columns": columns[:IMPACT_NODE_LIMIT],
            "truncated": truncated,
        }

    # ---- helpers -----------------------------------------------------------------------

    def _root(self, conn: Connection, principal: Principal, resource_id: str) -> Row[Any]:
        row: Row[Any] | None = None
        if valid_id(resource_id):
            stmt = _node_select().where(
                *ResourceService.visibility_of(resource, principal), R.id == resource_id
            )
            row = conn.execute(stmt).first()
        if row is None:
            raise NotFound("Not found.")
        return row

    @staticmethod
    def _seeds(principal: Principal, root: Row[Any], level: Level) -> Select[Any]:
        """Where a walk starts: the root; at column level a table's visible columns as well."""
        # Typed like lineage_edge's ends, so PostgreSQL accepts the recursive union.
        seeds: Any = select(cast(literal(root.pk), Pk).label("pk"), literal(0, Integer).label("depth"))
        if level == "column" and root.entity_type != "column":
            columns = select(R.pk, literal(0, Integer)).where(
                *ResourceService.visibility_of(resource, principal),
                R.parent_id == root.id,
                R.entity_type == "column",
            )
            seeds = union_all(seeds, columns).subquery().select()
        typed: Select[Any] = seeds
        return typed

    def _resolve(
        self, conn: Connection, principal: Principal, walks: Sequence[_Walk], limit: int
    ) -> dict[int, dict[str, Any]]:
        """Up to ``limit + 1`` nodes by pk, nearest first (the root once, at depth 0)."""
        rows = _walk_rows(conn, principal, walks, limit)
        nodes: dict[int, dict[str, Any]] = {}
        for row in sorted(rows, key=lambda r: (r.depth, r.walk != "walk_downstream", r.pk)):
            if row.pk not in nodes and len(nodes) <= limit:
                nodes[row.pk] = _node(row, row.depth if row.walk == "walk_downstream" else -row.depth)
        return nodes

    @staticmethod
    def _edges(conn: Connection, nodes: dict[int, dict[str, Any]], level: Level) -> list[dict[str, Any]]:
        pks = sorted(nodes)
        found: list[Any] = []  # rows of the select above
        for start in range(0, len(pks), _CHUNK):
            stmt = select(E.pk, E.id, E.origin, E.upstream_pk, E.downstream_pk).where(
                E.upstream_pk.in_(pks[start : start + _CHUNK]), E.downstream_pk.in_(pks), E.level == level
            )
            found.extend(conn.execute(stmt).all())
        found.sort(key=lambda row: row.pk)
        return [
            {
                "id": row.id,
                "upstream_id": nodes[row.upstream_pk]["id"],
                "downstream_id": nodes[row.downstream_pk]["id"],
                "level": level,
                "origin": row.origin,
            }
            for row in found
        ]

    @staticmethod
    def _visible(conn: Connection, principal: Principal, ids: Sequence[str]) -> dict[str, Row[Any]]:
        found: dict[str, Row[Any]] = {}
        visible = ResourceService.visibility_of(resource, principal)
        for start in range(0, len(ids), _CHUNK):
            stmt = _node_select().where(*visible, R.id.in_(list(ids[start : start + _CHUNK])))
            found.update({row.id: row for row in conn.execute(stmt)})
        return found


__all__ = ["LineageGraphService"]
