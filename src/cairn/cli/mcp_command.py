"""``cairn mcp``: serve the catalog to AI agents over the Model Context Protocol."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cairn.cli.connect import ApiKeyOption, DbOption, UrlOption, err, local_database, server_key

if TYPE_CHECKING:
    from cairn.sdk import AsyncClient


def register(app: typer.Typer) -> None:
    app.command("mcp")(mcp)


def mcp(
    http: Annotated[bool, typer.Option("--http", help="Serve streamable HTTP instead of stdio.")] = False,
    host: Annotated[str, typer.Option(help="Interface for --http.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for --http.")] = 8765,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    db: DbOption = None,
) -> None:
    """Run an MCP server (stdio by default) with the tools search_data_assets,
    search_documentation, retrieve_entity, entity_lineage, glossary and list_collections."""
    import cairn
    from cairn.mcp_server import build_server

    if db is None and url:
        key = server_key(api_key)

        def open_client() -> AsyncClient:
            return cairn.AsyncClient(base_url=url, api_key=key)

    else:
        database = local_database(db)

        def open_client() -> AsyncClient:
            return cairn.AsyncCatalog(database)

    server = build_server(open_client)
    if http:
        err.print(f"Cairn MCP server on http://{host}:{port}/mcp")
        server.run("streamable-http", host=host, port=port)
    else:
        server.run("stdio")
