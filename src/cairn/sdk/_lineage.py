"""``client.lineage``: lineage objects (``/lineage/manual``), the graph around a resource and the
impact of changing it (``/lineage/graph``, ``/lineage/impact``)."""

from __future__ import annotations

from cairn.models.graph import (
    DEFAULT_DEPTH,
    DEFAULT_NODE_LIMIT,
    MAX_DEPTH,
    MAX_NODE_LIMIT,
    Direction,
    Impact,
    Level,
    LineageGraph,
)
from cairn.models.lineage import LineageCreate, LineageObject
from cairn.sdk._crud import body, fetch, pages, remove, send
from cairn.sdk._errors import InvalidInputError
from cairn.sdk._ops import C, Call, Namespace, endpoint, paginated
from cairn.sdk._pagination import PageQuery


class Lineage(Namespace[C]):
    """Lineage between resources, whatever made it (manual, SQL, dbt, OpenLineage, ...).

    >>> client.lineage.create(orders_table.id, revenue_dashboard.id)  # orders feeds the dashboard
    >>> graph = client.lineage.graph(orders_table.id, direction="downstream", depth=3)
    >>> [(n.title, n.depth) for n in graph.nodes]
    >>> client.lineage.impact(orders_table.id).by_type  # {"dashboard": 2, "table": 5, ...}
    """

    @paginated
    def list(
        self,
        *,
        from_entity: str | None = None,
        to_entity: str | None = None,
        integration_type: str | None = None,
        page_size: int = 100,
    ) -> PageQuery[LineageObject]:
        """Lineage objects; each edge appears twice, once from each end (DOWNSTREAM and UPSTREAM)."""
        return pages(
            LineageObject,
            "/lineage/manual",
            page_size,
            from_entity=from_entity,
            to_entity=to_entity,
            integration_type=integration_type,
        )

    @endpoint
    def get(self, lineage_id: str) -> Call[LineageObject]:
        return (yield from fetch(LineageObject, f"/lineage/manual/{lineage_id}"))

    @endpoint
    def create(self, upstream_id: str, downstream_id: str) -> Call[LineageObject]:
        """Record that ``upstream_id`` feeds ``downstream_id`` (idempotent)."""
        payload = body(LineageCreate, None, {"from_entity": upstream_id, "to_entity": downstream_id})
        return (yield from send(LineageObject, "POST", "/lineage/manual", payload))

    @endpoint
    def delete(self, lineage_id: str) -> Call[None]:
        """Remove an edge (by the id of either of its two objects)."""
        yield from remove(f"/lineage/manual/{lineage_id}")

    @endpoint
    def graph(
        self,
        resource_id: str,
        *,
        direction: Direction = "both",
        depth: int = DEFAULT_DEPTH,
        level: Level = "table",
        limit: int = DEFAULT_NODE_LIMIT,
    ) -> Call[LineageGraph]:
        """The lineage around a resource (``GET /lineage/graph/{id}``): one walk on the server.

        ``direction``: ``upstream`` (what feeds it), ``downstream`` (what it feeds) or ``both``;
        each node's ``depth`` is negative upstream, positive downstream, 0 for the root.
        ``truncated`` is true when ``limit`` nodes cut the graph short. Cycles are handled.
        """
        if direction not in ("upstream", "downstream", "both"):
            raise InvalidInputError("direction must be upstream, downstream or both")
        if not 1 <= depth <= MAX_DEPTH:
            raise InvalidInputError(f"depth must be between 1 and {MAX_DEPTH}")
        if not 1 <= limit <= MAX_NODE_LIMIT:
            raise InvalidInputError(f"limit must be between 1 and {MAX_NODE_LIMIT}")
        params = {"direction": direction, "depth": str(depth), "level": level, "limit": str(limit)}
        return (yield from fetch(LineageGraph, f"/lineage/graph/{resource_id}", params))

    @endpoint
    def impact(self, resource_id: str) -> Call[Impact]:
        """Everything downstream of a resource (``GET /lineage/impact/{id}``), nearest first, with
        counts by type and the downstream columns its columns feed."""
        return (yield from fetch(Impact, f"/lineage/impact/{resource_id}"))


def upstream_of(graph: LineageGraph, resource_id: str) -> list[str]:
    """The ids that feed ``resource_id`` directly, within the graph."""
    return [e.upstream_id for e in graph.edges if e.downstream_id == resource_id]


def downstream_of(graph: LineageGraph, resource_id: str) -> list[str]:
    """The ids ``resource_id`` feeds directly, within the graph."""
    return [e.downstream_id for e in graph.edges if e.upstream_id == resource_id]
