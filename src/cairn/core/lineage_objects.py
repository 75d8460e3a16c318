"""Secoda's lineage objects over Cairn's lineage edges.

Each edge is two Secoda objects: ``id`` seen from the upstream end (``from`` = upstream,
``direction`` DOWNSTREAM) and ``reverse_id`` seen from the downstream end (UPSTREAM). Creating
one direction therefore makes the opposite one too, and deleting either removes both.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, select, union_all

from cairn.core.errors import InvalidInput
from cairn.core.lineage import EdgeSpec, LineageService, to_json
from cairn.core.lineage import _edge_select as edge_select
from cairn.core.principal import Principal
from cairn.core.records import valid_id
from cairn.core.resources import PageRequest, PageResult, ResourceService, check_page
from cairn.store import Store
from cairn.store.schema import integration, lineage_edge, resource

E = lineage_edge.c
DIRECTIONS = ("UPSTREAM", "DOWNSTREAM")


@dataclass(frozen=True)
class ObjectFilter:
    from_ids: Sequence[str] | None = None
    to_ids: Sequence[str] | None = None
    integration_type: str | None = None


def object_json(edge: dict[str, Any], workspace_id: str, *, reverse: bool) -> dict[str, Any]:
    up, down = edge["upstream_id"], edge["downstream_id"]
    source, target = (down, up) if reverse else (up, down)
    return {
        "id": edge["reverse_id"] if reverse else edge["id"],
        "created_at": edge["created_at"],
        "updated_at": edge["updated_at"],
        "from_entity": source,
        "to_entity": target,
        "from_entity_id": source,
        "to_entity_id": target,
        "direction": "UPSTREAM" if reverse else "DOWNSTREAM",
        "workspace_id": workspace_id,
        "is_manual": edge["origin"] == "manual",
        "origin": edge["origin"],
        "level": edge["level"],
    }


def id_list(value: str | None, name: str) -> list[str] | None:
    """A comma-separated ``__in`` parameter; ids that cannot exist simply match nothing."""
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise InvalidInput(f"{name} needs at least one id", field=name)
    return items


class LineageObjects:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.edges = LineageService(store)

    def list(self, principal: Principal, where: ObjectFilter, paging: PageRequest) -> PageResult:
        up = resource.alias("up")
        down = resource.alias("down")
        visible = and_(
            E.workspace_id == principal.workspace_id,
            *ResourceService.visibility_of(up, principal),
            *ResourceService.visibility_of(down, principal),
        )

        def side(reverse: bool) -> Any:
            source, target = (down, up) if reverse else (up, down)
            conditions: list[ColumnElement[bool]] = [visible]
            if where.from_ids is not None:
                conditions.append(source.c.id.in_(list(where.from_ids)))
            if where.to_ids is not None:
                conditions.append(target.c.id.in_(list(where.to_ids)))
            if where.integration_type is not None:
                typed = select(integration.c.id).where(
                    integration.c.workspace_id == principal.workspace_id,
                    integration.c.type == where.integration_type,
                )
                conditions.append(source.c.integration_id.in_(typed))
            return (
                select(
                    E.pk.label("pk"),
                    literal(reverse).label("reverse"),
                    E.created_at.label("created_at"),
                )
                .select_from(lineage_edge)
                .join(up, up.c.pk == E.upstream_pk)
                .join(down, down.c.pk == E.downstream_pk)
                .where(*conditions)
            )

        objects = union_all(side(False), side(True)).subquery()
        with self.store.read() as conn:
            total = int(conn.execute(select(func.count()).select_from(objects)).scalar_one())
            total_pages = check_page(paging, total)
            picked = conn.execute(
                select(objects.c.pk, objects.c.reverse)
                .order_by(objects.c.created_at, objects.c.pk, objects.c.reverse)
                .limit(paging.page_size)
                .offset((paging.page - 1) * paging.page_size)
            ).all()
            edges = self._edges(conn, principal, [p.pk for p in picked])
        items = [object_json(edges[p.pk], principal.workspace_id, reverse=bool(p.reverse)) for p in picked]
        return PageResult(items, total, paging.page, paging.page_size, total_pages)

    @staticmethod
    def _edges(conn: Any, principal: Principal, pks: builtins.list[int]) -> dict[int, dict[str, Any]]:
        if not pks:
            return {}
        rows = conn.execute(edge_select().where(E.pk.in_(pks))).all()
        return {row.pk: to_json(row) for row in rows}

    def create(self, principal: Principal, from_id: str, to_id: str, direction: str) -> dict[str, Any]:
        """A manual edge; ``DOWNSTREAM`` means data flows from ``from_id`` to ``to_id``."""
        normalised = direction.strip().upper()
        if normalised not in DIRECTIONS:
            raise InvalidInput("direction must be UPSTREAM or DOWNSTREAM", field="direction")
        for name, value in (("from_entity", from_id), ("to_entity", to_id)):
            if not valid_id(value):
                raise InvalidInput(f"{name} must be a resource id (got '{value}')", field=name)
        reverse = normalised == "UPSTREAM"
        upstream, downstream = (to_id, from_id) if reverse else (from_id, to_id)
        (edge,) = self.edges.add_edges(principal, [EdgeSpec(upstream, downstream, "manual")])
        return object_json(edge, principal.workspace_id, reverse=reverse)

    def get(self, principal: Principal, object_id: str) -> dict[str, Any]:
        edge = self.edges.get(principal, object_id)
        return object_json(edge, principal.workspace_id, reverse=edge["reverse_id"] == object_id)

    def delete(self, principal: Principal, object_id: str) -> None:
        self.edges.delete(principal, object_id)
