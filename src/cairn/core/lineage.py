"""Lineage edges: who feeds whom, at table or column level, and where each edge was learnt.

Every source (manual edits, SQL parsing, view definitions, dbt, OpenLineage, imports) writes
through this module, so an edge means the same thing whichever face or connector made it.
An edge is stored once, upstream to downstream; the Secoda face shows it as two lineage
objects (``id`` from the upstream side, ``reverse_id`` from the downstream side).
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, and_, delete, func, or_, select
from sqlalchemy.sql import Select

from cairn.core import audit
from cairn.core.errors import InvalidInput, NotFound
from cairn.core.principal import Principal
from cairn.core.records import valid_id
from cairn.core.resources import PageRequest, PageResult, ResourceService, check_page
from cairn.models.common import iso, utc_now
from cairn.store import Store
from cairn.store.schema import lineage_edge, resource

E = lineage_edge.c
R = resource.c
ORIGINS = ("manual", "sql", "view", "dbt", "openlineage", "import")
LEVELS = ("table", "column")
MAX_EDGES_PER_CALL = 10_000

_up = resource.alias("up")
_down = resource.alias("down")


@dataclass(frozen=True)
class EdgeSpec:
    """``downstream`` is computed from ``upstream``: data flows from the first to the second."""

    upstream_id: str
    downstream_id: str
    origin: str


def to_json(row: Row[Any] | dict[str, Any]) -> dict[str, Any]:
    m = row._mapping if isinstance(row, Row) else row
    return {
        "id": m["id"],
        "reverse_id": m["reverse_id"],
        "upstream_id": m["upstream_id"],
        "downstream_id": m["downstream_id"],
        "level": m["level"],
        "origin": m["origin"],
        "created_at": iso(m["created_at"]),
        "updated_at": iso(m["updated_at"]),
    }


def _edge_select() -> Select[Any]:
    return (
        select(
            E.pk,
            E.upstream_pk,
            E.downstream_pk,
            E.id,
            E.reverse_id,
            E.level,
            E.origin,
            E.created_at,
            E.updated_at,
            _up.c.id.label("upstream_id"),
            _down.c.id.label("downstream_id"),
        )
        .select_from(lineage_edge)
        .join(_up, _up.c.pk == E.upstream_pk)
        .join(_down, _down.c.pk == E.downstream_pk)
    )


def _visible(principal: Principal, alias: Any) -> ColumnElement[bool]:
    """The catalog's own visibility rule, applied to one end of an edge."""
    rule = ResourceService.visibility_of(alias, principal)
    return and_(*rule)


class LineageService:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- reads -------------------------------------------------------------------------

    def _where(self, principal: Principal) -> ColumnElement[bool]:
        return and_(
            E.workspace_id == principal.workspace_id, _visible(principal, _up), _visible(principal, _down)
        )

    def get(self, principal: Principal, edge_id: str) -> dict[str, Any]:
        with self.store.read() as conn:
            return to_json(self._require(conn, principal, edge_id))

    def _require(self, conn: Connection, principal: Principal, edge_id: str) -> Row[Any]:
        if not valid_id(edge_id):
            raise NotFound("Not found.")
        row = conn.execute(
            _edge_select().where(self._where(principal), or_(E.id == edge_id, E.reverse_id == edge_id))
        ).first()
        if row is None:
            raise NotFound("Not found.")
        return row

    def list(
        self,
        principal: Principal,
        *,
        upstream_ids: Sequence[str] | None = None,
        downstream_ids: Sequence[str] | None = None,
        origin: str | None = None,
        paging: PageRequest = PageRequest(),
    ) -> PageResult:
        where = self._where(principal)
        if upstream_ids is not None:
            where = and_(where, _up.c.id.in_(list(upstream_ids)))
        if downstream_ids is not None:
            where = and_(where, _down.c.id.in_(list(downstream_ids)))
        if origin is not None:
            _check_origin(origin)
            where = and_(where, E.origin == origin)
        base = _edge_select().where(where)
        with self.store.read() as conn:
            total = int(conn.execute(select(func.count()).select_from(base.subquery())).scalar_one())
            total_pages = check_page(paging, total)
            rows = conn.execute(
                base.order_by(E.created_at, E.pk)
                .limit(paging.page_size)
                .offset((paging.page - 1) * paging.page_size)
            ).all()
        return PageResult([to_json(r) for r in rows], total, paging.page, paging.page_size, total_pages)

    # ---- writes ------------------------------------------------------------------------

    def add_edges(self, principal: Principal, specs: Sequence[EdgeSpec]) -> builtins.list[dict[str, Any]]:
        principal.require_write()
        with self.store.write() as conn:
            return self.add_edges_in(conn, principal, specs)

    def add_edges_in(
        self, conn: Connection, principal: Principal, specs: Sequence[EdgeSpec]
    ) -> builtins.list[dict[str, Any]]:
        """Create the edges that do not exist yet; return every edge asked for, in order.

        Idempotent: an edge with the same ends and origin is returned as it is, so re-running an
        ingest adds nothing.
        """
        principal.require_write()
        if len(specs) > MAX_EDGES_PER_CALL:
            raise InvalidInput(f"at most {MAX_EDGES_PER_CALL} edges per call", field="edges")
        if not specs:
            return []
        ends = self._visible_ends(
            conn, principal, (i for s in specs for i in (s.upstream_id, s.downstream_id))
        )
        wanted: dict[tuple[int, int, str], EdgeSpec] = {}
        for spec in specs:
            _check_origin(spec.origin)
            up = ends.get(spec.upstream_id)
            down = ends.get(spec.downstream_id)
            if up is None:
                raise InvalidInput(f"resource {spec.upstream_id} does not exist", field="upstream_id")
            if down is None:
                raise InvalidInput(f"resource {spec.downstream_id} does not exist", field="downstream_id")
            if up.pk == down.pk:
                raise InvalidInput("a resource cannot be its own upstream", field="downstream_id")
            _level(up.entity_type, down.entity_type)
            wanted.setdefault((up.pk, down.pk, spec.origin), spec)
        existing = self._existing(conn, list(wanted))
        now = utc_now()
        new_rows = [
            {
                "workspace_id": principal.workspace_id,
                "id": str(uuid.uuid4()),
                "reverse_id": str(uuid.uuid4()),
                "upstream_pk": up_pk,
                "downstream_pk": down_pk,
                "level": _level(ends[spec.upstream_id].entity_type, ends[spec.downstream_id].entity_type),
                "origin": origin,
                "created_at": now,
                "updated_at": now,
            }
            for (up_pk, down_pk, origin), spec in wanted.items()
            if (up_pk, down_pk, origin) not in existing
        ]
        if new_rows:
            conn.execute(lineage_edge.insert(), new_rows)
            audit.record(
                conn,
                principal,
                event="created",
                resource_type="lineage",
                resource_id=str(new_rows[0]["id"]) if len(new_rows) == 1 else None,
                details={"count": len(new_rows)},
            )
        keys = [(ends[s.upstream_id].pk, ends[s.downstream_id].pk, s.origin) for s in specs]
        stored = self._existing(conn, list(dict.fromkeys(keys)))
        return [stored[k] for k in keys]

    def replace_upstreams_in(
        self,
        conn: Connection,
        principal: Principal,
        downstream_id: str,
        origin: str,
        upstream_ids: Iterable[str],
    ) -> None:
        """Make ``origin``'s upstream set of one resource exactly ``upstream_ids`` (re-crawls).

        Edges of other origins are left alone: a manual edge survives a connector's re-crawl.
        """
        principal.require_write()
        _check_origin(origin)
        wanted = list(dict.fromkeys(upstream_ids))
        ends = self._visible_ends(conn, principal, [downstream_id, *wanted])
        down = ends.get(downstream_id)
        if down is None:
            raise InvalidInput(f"resource {downstream_id} does not exist", field="downstream_id")
        keep = {ends[u].pk for u in wanted if u in ends}
        stale = delete(lineage_edge).where(
            E.workspace_id == principal.workspace_id,
            E.downstream_pk == down.pk,
            E.origin == origin,
        )
        if keep:
            stale = stale.where(E.upstream_pk.not_in(sorted(keep)))
        conn.execute(stale)
        self.add_edges_in(conn, principal, [EdgeSpec(u, downstream_id, origin) for u in wanted])

    def delete(self, principal: Principal, edge_id: str) -> None:
        """Removes the edge, which is both of its Secoda lineage objects."""
        principal.require_write()
        with self.store.write() as conn:
            row = self._require(conn, principal, edge_id)
            conn.execute(delete(lineage_edge).where(E.pk == row.pk))
            audit.record(
                conn,
                principal,
                event="deleted",
                resource_type="lineage",
                resource_id=row.id,
                details={"upstream_id": row.upstream_id, "downstream_id": row.downstream_id},
            )

    # ---- helpers -----------------------------------------------------------------------

    def _visible_ends(
        self, conn: Connection, principal: Principal, ids: Iterable[str]
    ) -> dict[str, Row[Any]]:
        wanted = [i for i in dict.fromkeys(ids) if valid_id(i)]
        found: dict[str, Row[Any]] = {}
        visible = and_(*ResourceService.visibility_of(resource, principal))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            stmt = select(R.pk, R.id, R.entity_type).where(visible, R.id.in_(chunk))
            found.update({row.id: row for row in conn.execute(stmt)})
        return found

    def _existing(
        self, conn: Connection, keys: Sequence[tuple[int, int, str]]
    ) -> dict[tuple[int, int, str], dict[str, Any]]:
        found: dict[tuple[int, int, str], dict[str, Any]] = {}
        for start in range(0, len(keys), 300):
            chunk = keys[start : start + 300]
            ups = sorted({k[0] for k in chunk})
            rows = conn.execute(
                _edge_select().where(
                    E.upstream_pk.in_(ups),
                    or_(
                        *(and_(E.upstream_pk == u, E.downstream_pk == d, E.origin == o) for u, d, o in chunk)
                    ),
                )
            ).all()
            for row in rows:
                found[(row.upstream_pk, row.downstream_pk, row.origin)] = to_json(row)
        return found


def _level(upstream_type: str, downstream_type: str) -> str:
    columns = (upstream_type == "column") + (downstream_type == "column")
    if columns == 1:
        raise InvalidInput("a column-level edge joins two columns", field="downstream_id")
    return "column" if columns == 2 else "table"


def _check_origin(origin: str) -> None:
    if origin not in ORIGINS:
        raise InvalidInput(f"origin must be one of {', '.join(ORIGINS)}", field="origin")
