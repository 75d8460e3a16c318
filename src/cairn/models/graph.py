"""Lineage graph and impact analysis as ``/lineage/graph/{id}`` and ``/lineage/impact/{id}`` return them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Direction = Literal["upstream", "downstream", "both"]
Level = Literal["table", "column"]

DEFAULT_DEPTH = 3
MAX_DEPTH = 20
DEFAULT_NODE_LIMIT = 500
MAX_NODE_LIMIT = 5000
# Impact analysis follows every hop; these bound a pathological graph.
IMPACT_MAX_DEPTH = 50
IMPACT_NODE_LIMIT = 10_000


class GraphNode(BaseModel):
    id: str
    title: str | None
    entity_type: str
    integration: str | None
    parent: str | None
    depth: int = Field(description="Hops from the root: negative upstream, positive downstream, 0 the root.")


class GraphEdge(BaseModel):
    id: str = Field(description="The edge as seen from upstream (Secoda's lineage object id).")
    upstream_id: str
    downstream_id: str
    level: Level
    origin: str


class LineageGraph(BaseModel):
    root: str
    direction: Direction
    level: Level
    depth: int
    nodes: list[GraphNode]
    edges: list[GraphEdge] = Field(description="Every edge of the level between two returned nodes.")
    truncated: bool = Field(description="True when the node limit cut the graph short.")


class ImpactedColumn(BaseModel):
    id: str
    title: str | None
    table_id: str | None
    table_title: str | None
    depth: int


class Impact(BaseModel):
    root: GraphNode
    count: int = Field(description="How many downstream resources (columns not counted).")
    by_type: dict[str, int]
    impacted: list[GraphNode] = Field(
        description="Every downstream resource, nearest first; tables reached only through column "
        "lineage are included."
    )
    columns: list[ImpactedColumn] = Field(
        description="Downstream columns fed by the root column (or by the root table's columns)."
    )
    truncated: bool
