"""Lineage: the graph around one resource, drawn in the browser by the vendored lineage.js.

The page embeds the first graph as JSON (no second round trip) and lists every node as links
for screen readers and for browsers without script; changing direction, depth or level fetches
the same graph from ``/ui/lineage/{id}/graph`` and redraws in place. The graph comes from the
core traversal with the caller's principal, so nodes the caller may not see are never sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from markupsafe import Markup
from starlette.responses import Response

from cairn.api.responses import FastJSONResponse
from cairn.core.graph import LineageGraphService
from cairn.models.graph import MAX_DEPTH, Direction, Level, LineageGraph
from cairn.web.context import UI_PREFIX, Ui, UserDep

router = APIRouter()
PAGES: list[object] = []
NODE_LIMIT = 400  # enough for the 200-node graphs the layout is made for, bounded for the browser
ResourceId = Annotated[str, Path(max_length=64)]


@dataclass(frozen=True)
class View:
    """Which graph around the resource: the page's controls, as query parameters."""

    direction: Direction
    depth: int
    level: Level


async def view_params(
    direction: Annotated[Direction, Query()] = "both",
    depth: Annotated[int, Query(ge=1, le=MAX_DEPTH)] = 2,
    level: Annotated[Level, Query()] = "table",
) -> View:
    return View(direction, depth, level)


ViewDep = Annotated[View, Depends(view_params)]


def _graph(ui: Ui, resource_id: str, view: View) -> LineageGraph:
    graph = LineageGraphService(ui.services.store).graph(
        ui.user, resource_id, direction=view.direction, depth=view.depth, level=view.level, limit=NODE_LIMIT
    )
    return LineageGraph.model_validate(graph)


def _json_for_script(graph: LineageGraph) -> Markup:
    """JSON inside <script type="application/json">: ``<`` escaped so no text can close the tag."""
    text = graph.model_dump_json().replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - escaped above; the block is data, never run


@router.get(f"{UI_PREFIX}/lineage/{{resource_id}}")
def lineage_page(ui: UserDep, resource_id: ResourceId, view: ViewDep) -> Response:
    entity = ui.services.resources.get(ui.user, resource_id)
    graph = _graph(ui, resource_id, view)
    by_depth: dict[int, list[object]] = {}
    for node in graph.nodes:
        by_depth.setdefault(node.depth, []).append(node)
    return ui.render(
        "lineage.html",
        title=f"Lineage: {entity['title'] or 'Untitled'}",
        entity=entity,
        graph=graph,
        graph_json=_json_for_script(graph),
        by_depth=sorted(by_depth.items()),
        direction=view.direction,
        depth=view.depth,
        level=view.level,
        max_depth=MAX_DEPTH,
    )


@router.get(f"{UI_PREFIX}/lineage/{{resource_id}}/graph")
def lineage_graph(ui: UserDep, resource_id: ResourceId, view: ViewDep) -> Response:
    graph = _graph(ui, resource_id, view)
    return ui.finish(FastJSONResponse(graph.model_dump(mode="json")))
