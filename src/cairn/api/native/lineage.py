"""``/lineage/graph/{id}`` and ``/lineage/impact/{id}``: Cairn's lineage traversal endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from cairn.api.deps import PrincipalDep, ServicesDep
from cairn.api.responses import FastJSONResponse
from cairn.api.secoda.resources import ERRORS
from cairn.core.graph import LineageGraphService
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

router = APIRouter(tags=["lineage"])


@router.get(
    "/lineage/graph/{resource_id}",
    response_model=LineageGraph,
    responses=ERRORS,
    operation_id="lineage_graph",
)
def lineage_graph(
    resource_id: str,
    principal: PrincipalDep,
    services: ServicesDep,
    direction: Annotated[Direction, Query()] = "downstream",
    depth: Annotated[int, Query(ge=1, le=MAX_DEPTH, description="Hops to follow")] = DEFAULT_DEPTH,
    level: Annotated[Level, Query(description="Table-level or column-level edges")] = "table",
    limit: Annotated[
        int, Query(ge=1, le=MAX_NODE_LIMIT, description="Most nodes returned")
    ] = DEFAULT_NODE_LIMIT,
) -> Response:
    graph = LineageGraphService(services.store).graph(
        principal, resource_id, direction=direction, depth=depth, level=level, limit=limit
    )
    return FastJSONResponse(graph)


@router.get(
    "/lineage/impact/{resource_id}", response_model=Impact, responses=ERRORS, operation_id="lineage_impact"
)
def lineage_impact(resource_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    return FastJSONResponse(LineageGraphService(services.store).impact(principal, resource_id))
