"""``client.lineage``: lineage objects (``/lineage/manual``) and graph walks over them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import orjson

from cairn.models.lineage import LineageCreate, LineageObject
from cairn.models.resources import Resource
from cairn.sdk._crud import body, fetch, pages, remove, send
from cairn.sdk._errors import InvalidInputError
from cairn.sdk._ops import C, Call, Namespace, Req, endpoint, paginated
from cairn.sdk._pagination import PageQuery, keyset

Direction = Literal["upstream", "downstream", "both"]
MAX_DEPTH = 20
BATCH = 100  # ids per request while walking


@dataclass(frozen=True)
class LineageEdge:
    upstream: str
    downstream: str
    origin: str
    level: str


@dataclass
class LineageGraph:
    """What feeds ``root`` (upstream) and what it feeds (downstream), ``depth`` hops away at most.

    ``nodes`` holds every resource of the graph the caller may see, root included; ``distance``
    says how many hops each is from the root.
    """

    root: str
    direction: Direction
    depth: int
    nodes: dict[str, Resource] = field(default_factory=dict)
    edges: list[LineageEdge] = field(default_factory=list)
    distance: dict[str, int] = field(default_factory=dict)

    def upstream_of(self, resource_id: str) -> list[str]:
        return [e.upstream for e in self.edges if e.downstream == resource_id]

    def downstream_of(self, resource_id: str) -> list[str]:
        return [e.downstream for e in self.edges if e.upstream == resource_id]


def _chunks(ids: Iterable[str]) -> Iterable[list[str]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), BATCH):
        yield ordered[start : start + BATCH]


class Lineage(Namespace[C]):
    """Lineage between resources, whatever made it (manual, SQL, dbt, OpenLineage, ...).

    >>> client.lineage.create(orders_table.id, revenue_dashboard.id)  # orders feeds the dashboard
    >>> graph = client.lineage.graph(orders_table.id, direction="downstream", depth=3)
    >>> [graph.nodes[i].title for i in graph.downstream_of(orders_table.id)]
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
    def graph(self, resource_id: str, *, direction: Direction = "both", depth: int = 3) -> Call[LineageGraph]:
        """Walk lineage from a resource, hop by hop (one request per hop and 100 nodes).

        ``direction``: ``upstream`` (what feeds it), ``downstream`` (what it feeds) or ``both``.
        Cycles are handled: a node is visited once, at its shortest distance.
        """
        if direction not in ("upstream", "downstream", "both"):
            raise InvalidInputError("direction must be upstream, downstream or both")
        if not 1 <= depth <= MAX_DEPTH:
            raise InvalidInputError(f"depth must be between 1 and {MAX_DEPTH}")
        graph = LineageGraph(resource_id, direction, depth, distance={resource_id: 0})
        root = yield from fetch(Resource, f"/resource/all/{resource_id}")
        graph.nodes[root.id] = root
        seen_edges: set[tuple[str, str, str]] = set()
        for wanted in ("upstream", "downstream"):
            if direction not in (wanted, "both"):
                continue
            frontier, visited = {resource_id}, {resource_id}
            for hop in range(1, depth + 1):
                reached: set[str] = set()
                for chunk in _chunks(frontier):
                    query = pages(LineageObject, "/lineage/manual", 1000, from_entity__in=",".join(chunk))
                    req: Req | None = query.first
                    while req is not None:
                        reply = yield req
                        page = query.parse(req, reply)
                        for obj in page.items:
                            if obj.direction != wanted.upper():
                                continue
                            up, down = (
                                (obj.to_entity, obj.from_entity)
                                if wanted == "upstream"
                                else (
                                    obj.from_entity,
                                    obj.to_entity,
                                )
                            )
                            key = (up, down, obj.origin)
                            if key not in seen_edges:
                                seen_edges.add(key)
                                graph.edges.append(LineageEdge(up, down, obj.origin, obj.level))
                            reached.add(obj.to_entity)
                        req = page.next
                frontier = reached - visited
                visited |= reached
                for node in frontier:
                    graph.distance.setdefault(node, hop)
                if not frontier:
                    break
        missing = [n for n in graph.distance if n not in graph.nodes]
        for chunk in _chunks(missing):
            tree = {"operator": "in", "field": "id", "value": chunk}
            lookup = keyset(Resource, "/resource/scan", {"filter": orjson.dumps(tree).decode()}, BATCH)
            reply = yield lookup.first
            for found in lookup.parse(lookup.first, reply).items:
                graph.nodes[found.id] = found
        return graph
