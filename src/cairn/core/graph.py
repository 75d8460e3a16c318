"""Lineage traversal: the graph around a resource and the impact of changing it.

Every walk is one recursive CTE over ``lineage_edge`` (no round trip per hop), the same SQL on
SQLite and PostgreSQL. It walks integer keys only: each hop is one probe of a covering edge
index ``(end, level, other end)`` and one of the narrow ``search_doc`` row for the visibility
rule (of the resource a hop leaves); titles are read once at the end, for the bounded set of
nodes returned. Cycles are
harmless: the walk is a ``UNION`` of (resource, depth) pairs bounded by the depth, so a node is
revisited at most once per depth. A walk never passes through a resource the caller cannot see:
hidden resources are neither returned nor used as a bridge to what lies behind them, and a
returned node whose parent is hidden does not name it.

The walk is breadth-first and read with a row cap. SQLite expands every row it hands out (a
row's edges are followed when it leaves the queue), so the work is the edges of the rows read:
the cap must be as small as it can be. A first read takes ``limit + 1`` rows: fewer means the
walk is complete; ``limit + 1`` distinct visible resources prove it holds more than ``limit``
(``truncated``), and being breadth-first they are the nearest. Only when the rows repeat a
resource (reached again at another depth) or name hidden ones is the walk read again, with a
cap ``depth + 1`` times larger each time, until it holds ``limit + 1`` visible resources or is
complete. Both engines stop the recursion once the cap is read (SQLite runs the CTE as a
co-routine, PostgreSQL's recursive union is pulled lazily).

Results are the wire dictionaries (no model per node: building a pydantic object per node and
edge cost more than the walk itself at a few thousand nodes).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Integer,
    Row,
    Select,
    bindparam,
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
from cairn.store.prepared import Prepared
from cairn.store.schema import Pk, lineage_edge, resource, search_doc

E = lineage_edge.c
R = resource.c
_CHUNK = 500


def _node_select(*extra: Any) -> Select[Any]:
    """What a graph node shows of a resource (``pk`` to join on)."""
    return select(R.pk, R.id, R.title, R.entity_type, R.integration_id, R.parent_id, *extra)


def _by_id(visible: Any) -> Select[Any]:
    return _node_select().where(visible, R.id == bindparam("rid"))


def _by_ids(visible: Any) -> Select[Any]:
    return _node_select().where(visible, R.id.in_(bindparam("ids", expanding=True)))


# The edges among a graph's nodes, ``:ups`` to ``:downs``, built once (not 1,000 literals a walk).
_EDGES_AMONG = select(E.pk, E.id, E.origin, E.upstream_pk, E.downstream_pk).where(
    E.upstream_pk.in_(bindparam("ups", expanding=True)),
    E.downstream_pk.in_(bindparam("downs", expanding=True)),
    E.level == bindparam("level"),
)


@dataclass(frozen=True)
class _Walk:
    """One recursive walk from the root (``:root_pk``; with ``columns``, also the visible columns
    of the table ``:root_id``) along edges of ``level``, one way, ``:{name}_depth`` hops."""

    name: str
    level: Level
    downstream: bool
    columns: bool = False


class _WalkRow(NamedTuple):
    """A row of ``_walks_statement``."""

    pk: int
    id: str
    title: str | None
    entity_type: str
    integration_id: str | None
    parent_id: str | None
    depth: int
    walk: str
    total: int


def _seeds(walk: _Walk, principal: Principal) -> Select[Any]:
    """Where a walk starts: the root; at column level a table's visible columns as well."""
    # Typed like lineage_edge's ends, so PostgreSQL accepts the recursive union.
    root = cast(bindparam("root_pk", type_=Integer), Pk).label("pk")
    seeds: Any = select(root, literal(0, Integer).label("depth"))
    if walk.columns:
        columns = select(R.pk, literal(0, Integer)).where(
            *ResourceService.visibility_of(resource, principal),
            R.parent_id == bindparam("root_id"),
            R.entity_type == "column",
        )
        seeds = union_all(seeds, columns).subquery().select()
    typed: Select[Any] = seeds
    return typed


def _cte(walk: _Walk, principal: Principal) -> CTE:
    cte = _seeds(walk, principal).cte(walk.name, recursive=True)
    # The narrow search documents carry the columns the visibility rule reads. A hop checks the
    # resource it leaves, not each one it reaches: a row is expanded only when it is visible,
    # so hidden resources are never a bridge, at one probe per expanded row instead of one per
    # edge followed (the hub's first hop alone follows 1,383 edges). Rows reached but never
    # expanded are tested once, with their titles (``_nearest``).
    node = search_doc.alias(f"{walk.name}_node")
    start, end = (E.upstream_pk, E.downstream_pk) if walk.downstream else (E.downstream_pk, E.upstream_pk)
    # SQLite builds a Bloom filter over the whole edge (and resource) index for every walk when
    # each key of the probe is a plain ``=`` (a full index scan: 100 ms at 200k edges). ``IN (x)``
    # for the end and ``level || ''`` (checked from the covering index, not a key) avoid it; a
    # resource's edges are nearly all of one level anyway.
    step = (
        select(end.label("pk"), (cte.c.depth + 1).label("depth"))
        .select_from(cte.join(node, node.c.pk.in_([cte.c.pk])).join(lineage_edge, start.in_([cte.c.pk])))
        .where(
            cte.c.depth < bindparam(f"{walk.name}_depth", type_=Integer),
            *ResourceService.visibility_of(node, principal),
            E.level.concat("") == walk.level,
        )
    )
    return cte.union(step)


def _nearest(walk: _Walk, principal: Principal) -> Select[Any]:
    """Up to ``:keep`` distinct visible resources of a walk's first ``:{name}_cap`` rows, each at
    its smallest depth, nearest first, with ``total``: how many rows were read (the cap when the
    walk goes on beyond them); titles are joined on these only."""
    cte = _cte(walk, principal)
    rows = select(cte.c.pk, cte.c.depth).limit(bindparam(f"{walk.name}_cap", type_=Integer)).subquery()
    # ``walk.name`` is one of this module's constant walk names, never user input.
    nearest = (
        select(
            rows.c.pk,
            func.min(rows.c.depth).label("depth"),
            func.sum(func.count()).over().label("total"),
            literal_column(f"'{walk.name}'").label("walk"),
        )
        .group_by(rows.c.pk)
        .subquery()
    )
    return (
        _node_select(nearest.c.depth, nearest.c.walk, nearest.c.total)
        .join(nearest, nearest.c.pk == R.pk)
        .where(*ResourceService.visibility_of(resource, principal))
        .order_by(nearest.c.depth, nearest.c.pk)
        .limit(bindparam("keep", type_=Integer))
    )


def _walks_statement(walks: tuple[_Walk, ...], principal: Principal) -> Prepared:
    parts = [_nearest(w, principal) for w in walks]
    # Each part is ordered and limited on its own: inside a UNION that takes a subquery.
    stmt = parts[0] if len(parts) == 1 else union_all(*(select(part.subquery()) for part in parts))
    return Prepared(stmt)


def _walk_rows(
    conn: Connection, principal: Principal, root: Row[Any], walks: Sequence[_Walk], depth: int, limit: int
) -> list[_WalkRow]:
    """The nearest ``limit + 1`` visible resources of each walk (see the module's notes on the cap).

    A walk's rows may name resources the caller cannot see (reached, never expanded), and
    resources again at another depth: both take rows of the cap. While a walk read its whole cap
    without ``limit + 1`` visible resources it is read again with a cap ``depth + 1`` times
    larger (a resource is at most ``depth + 1`` rows), until either holds or it is complete.
    The statements are built once per caller scope and set of walks.
    """
    kept: list[_WalkRow] = []
    params: dict[str, Any] = {"root_pk": root.pk, "root_id": root.id, "keep": limit + 1}
    pending = {w.name: (w, limit + 1) for w in walks}
    while pending:
        shape = tuple(w for w, _ in pending.values())
        stmt = visibility.STATEMENTS.get(
            ("lineage_walks", visibility.scope_key(principal), shape),
            functools.partial(_walks_statement, shape, principal),
        )
        for name, (_, cap) in pending.items():
            params[f"{name}_cap"] = cap
            params[f"{name}_depth"] = depth
        rows = [_WalkRow._make(row) for row in stmt.rows(conn, params)]
        again: dict[str, tuple[_Walk, int]] = {}
        for name, (w, cap) in pending.items():
            mine = [r for r in rows if r.walk == name]
            if mine and mine[0].total >= cap and len(mine) <= limit:
                again[name] = (w, cap * (depth + 1))
            else:
                kept += mine
        pending = again
    return kept


def _node(row: Row[Any] | _WalkRow, depth: int) -> dict[str, Any]:
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
            columns = level == "column" and root.entity_type != "column"
            walks = [
                _Walk(f"walk_{way}", level, way == "downstream", columns)
                for way in ("downstream", "upstream")
                if direction in (way, "both")
            ]
            found = self._resolve(conn, principal, root, walks, depth, limit)
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
                _Walk(f"walk_{level}", level, True, level == "column" and root.entity_type != "column")
                for level in ("table", "column")
            ]
            rows = _walk_rows(conn, principal, root, walks, IMPACT_MAX_DEPTH, IMPACT_NODE_LIMIT)
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
            stmt = visibility.statement_for(principal, "lineage_root", _by_id)
            row = conn.execute(stmt, {"ws": principal.workspace_id, "rid": resource_id}).first()
        if row is None:
            raise NotFound("Not found.")
        return row

    def _resolve(
        self,
        conn: Connection,
        principal: Principal,
        root: Row[Any],
        walks: Sequence[_Walk],
        depth: int,
        limit: int,
    ) -> dict[int, dict[str, Any]]:
        """Up to ``limit + 1`` nodes by pk, nearest first (the root once, at depth 0)."""
        rows = _walk_rows(conn, principal, root, walks, depth, limit)
        nodes: dict[int, dict[str, Any]] = {}
        for row in sorted(rows, key=lambda r: (r.depth, r.walk != "walk_downstream", r.pk)):
            if row.pk not in nodes and len(nodes) <= limit:
                nodes[row.pk] = _node(row, row.depth if row.walk == "walk_downstream" else -row.depth)
        return nodes

    @staticmethod
    def _edges(conn: Connection, nodes: dict[int, dict[str, Any]], level: Level) -> list[dict[str, Any]]:
        pks = sorted(nodes)
        found: list[Any] = []  # rows of _EDGES_AMONG
        for start in range(0, len(pks), _CHUNK):
            params = {"ups": pks[start : start + _CHUNK], "downs": pks, "level": level}
            found.extend(conn.execute(_EDGES_AMONG, params).all())
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
        stmt = visibility.statement_for(principal, "lineage_nodes", _by_ids)
        for start in range(0, len(ids), _CHUNK):
            params = {"ws": principal.workspace_id, "ids": list(ids[start : start + _CHUNK])}
            found.update({row.id: row for row in conn.execute(stmt, params)})
        return found


__all__ = ["LineageGraphService"]
