"""``cairn mcp``: a Model Context Protocol server so that AI agents can explore the catalog.

Built on the official ``mcp`` package (2.x: ``mcp.server.mcpserver.MCPServer``). Every tool goes
through the async SDK, so the server works the same on a remote Cairn (``AsyncClient``) and on a
local database (``AsyncCatalog``), with the permissions of the key (or of the local admin).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from cairn.models.resources import ENTITY_TYPES, Resource
from cairn.sdk import AsyncClient, CairnError, F, InvalidInputError, NotFoundError, S
from cairn.sdk._lineage import Direction

INSTRUCTIONS = """Cairn is a data catalog: databases, schemas, tables and columns from the
warehouse, dashboards and charts, documents and glossary terms, grouped into collections.
Start with search_data_assets or search_documentation, then retrieve_entity for the full record
of an id, entity_lineage for what feeds it and what it feeds, glossary for business terms and
list_collections for the curated groups."""

DOCUMENT_TYPES = ("document", "glossary")
NOT_ASSETS = frozenset({*DOCUMENT_TYPES, "question", "question_reply", "collection"})
ASSET_TYPES = [t for t in ENTITY_TYPES if t not in NOT_ASSETS]
MAX_LIMIT = 100

T = TypeVar("T")


def summary(resource: Resource) -> dict[str, Any]:
    """What an agent needs to pick a result: short, no empty fields."""
    found = {
        "id": resource.id,
        "title": resource.title_full or resource.title,
        "entity_type": resource.entity_type,
        "native_type": resource.native_type,
        "description": resource.description,
        "integration": resource.integration,
        "usage": resource.total_usage,
        "verified": resource.verified or None,
    }
    return {k: v for k, v in found.items() if v not in (None, "", [])}


async def answered(call: Awaitable[T]) -> T:
    """A catalog error becomes a tool error with the server's own words (not a crash)."""
    try:
        return await call
    except NotFoundError:
        raise ToolError("not found (or not visible with this key)") from None
    except CairnError as exc:
        raise ToolError(str(getattr(exc, "detail", exc))) from None


def build_server(open_client: Callable[[], AsyncClient]) -> MCPServer[Any]:
    """The MCP server over a client made by ``open_client`` (opened and closed with the server)."""
    holder: dict[str, AsyncClient] = {}

    @asynccontextmanager
    async def lifespan(_server: MCPServer[Any]) -> AsyncIterator[None]:
        holder["client"] = open_client()
        try:
            yield
        finally:
            await holder.pop("client").aclose()

    server: MCPServer[Any] = MCPServer(
        name="cairn", instructions=INSTRUCTIONS, lifespan=lifespan, log_level="WARNING"
    )

    def client() -> AsyncClient:
        return holder["client"]

    def limited(limit: int) -> int:
        return max(1, min(limit, MAX_LIMIT))

    @server.tool()
    async def search_data_assets(
        query: str, entity_type: str | None = None, limit: int = 10
    ) -> list[dict[str, Any]]:
        """Search tables, columns, dashboards, charts, jobs... by name and description, best
        matches first (one typo is forgiven). entity_type narrows to one type (table, column,
        dashboard, chart, ...)."""
        kinds = [entity_type] if entity_type else ASSET_TYPES
        return [{**summary(r), "matched": tier} for r, tier in await searched(query, kinds, limit)]

    async def searched(query: str, kinds: list[str], limit: int) -> list[tuple[Resource, str]]:
        try:
            found = await client().search.query(query, entity_type=kinds, page_size=limited(limit))
        except InvalidInputError as exc:
            raise ToolError(str(exc)) from None
        except CairnError as exc:
            raise ToolError(str(getattr(exc, "detail", exc))) from None
        return [(Resource.model_validate(hit.resource), hit.tier) for hit in found.results]

    @server.tool()
    async def search_documentation(query: str, limit: int = 10) -> list[dict[str, Any]]:
        """Search documents and glossary terms by title and text, best matches first."""
        return [
            {**summary(r), "matched": tier, "text": (r.definition or "")[:2000]}
            for r, tier in await searched(query, list(DOCUMENT_TYPES), limit)
        ]

    @server.tool()
    async def retrieve_entity(entity_id: str) -> dict[str, Any]:
        """The full record of one catalog entity by id (as search results give them)."""
        found = await answered(client().resources.get(entity_id))
        return {k: v for k, v in found.model_dump(mode="json").items() if v not in (None, "", [], {})}

    @server.tool()
    async def entity_lineage(entity_id: str, direction: Direction = "both", depth: int = 2) -> dict[str, Any]:
        """What feeds an entity (upstream) and what it feeds (downstream), up to depth hops:
        the nodes (id, title, type, distance) and the edges (upstream -> downstream, origin)."""
        graph = await answered(
            client().lineage.graph(entity_id, direction=direction, depth=max(1, min(depth, 5)))
        )
        return {
            "root": graph.root,
            "nodes": [
                {**summary(node), "distance": graph.distance.get(node.id)} for node in graph.nodes.values()
            ],
            "edges": [
                {"upstream": e.upstream, "downstream": e.downstream, "origin": e.origin} for e in graph.edges
            ],
        }

    @server.tool()
    async def glossary(term: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """Business glossary terms with their definitions; term filters by name."""
        condition = F.type == "glossary"
        try:
            if term:
                condition = condition & F.title.contains(term)
        except CairnError as exc:
            raise ToolError(str(exc)) from None
        pager = client().resources.list(condition, S.asc("title"), page_size=limited(limit))
        page = await answered(pager.first_page())
        return [
            {"id": r.id, "term": r.title, "definition": r.definition or r.description} for r in page.items
        ]

    @server.tool()
    async def list_collections() -> list[dict[str, Any]]:
        """The curated collections of the workspace (groups of tables, models and documents)."""
        found = await answered(client().collections.list())
        return [
            {
                "id": c.id,
                "name": c.name,
                "description": c.description,
                "collection_type": c.collection_type,
                "total_models": c.total_models,
                "tags": c.tags,
            }
            for c in found
        ]

    return server
