"""``cairn mcp`` driven by the official ``mcp`` client library: stdio (a subprocess) and
streamable HTTP, on both backends."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.live_server import free_port
from tests.sdk_support import demo_with_lineage

CAIRN = str(Path(sys.executable).with_name("cairn"))
TOOLS = {
    "search_data_assets",
    "search_documentation",
    "retrieve_entity",
    "entity_lineage",
    "glossary",
    "list_collections",
}


@pytest.fixture
def demo(store, admin) -> str:
    return demo_with_lineage(store, admin)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
    env["CAIRN_WRITE_RATE_LIMIT"] = "0"
    return env


def structured(result: Any) -> Any:
    assert not result.is_error, result.content
    content = result.structured_content
    # Lists come wrapped as {"result": [...]}; objects come as they are.
    return content["result"] if set(content) == {"result"} else content


def test_stdio_server_answers_every_tool(demo: str) -> None:
    async def scenario() -> None:
        params = StdioServerParameters(command=CAIRN, args=["mcp", "--db", demo], env=_env())
        async with Client(params) as client:
            assert {t.name for t in (await client.list_tools()).tools} == TOOLS

            assets = structured(
                await client.call_tool("search_data_assets", {"query": "customer", "limit": 5})
            )
            dim_customer = next(a for a in assets if a["title"] == "analytics.marts.dim_customer")
            assert dim_customer["matched"]
            assert all(a["entity_type"] not in ("glossary", "document") for a in assets)
            columns = structured(
                await client.call_tool(
                    "search_data_assets", {"query": "customer_id", "entity_type": "column"}
                )
            )
            assert columns
            assert {c["entity_type"] for c in columns} == {"column"}

            docs = structured(await client.call_tool("search_documentation", {"query": "customer"}))
            assert {d["entity_type"] for d in docs} <= {"document", "glossary"}
            assert "How we model customers" in [d["title"] for d in docs]
            assert any("customer" in d["text"].lower() for d in docs)

            entity = structured(await client.call_tool("retrieve_entity", {"entity_id": dim_customer["id"]}))
            assert entity["title"] == "dim_customer"
            assert entity["description"].startswith("One row per customer")

            graph = structured(
                await client.call_tool(
                    "entity_lineage", {"entity_id": dim_customer["id"], "direction": "upstream"}
                )
            )
            by_id = {n["id"]: n for n in graph["nodes"]}
            assert sorted((n["title"], n["distance"]) for n in by_id.values()) == [
                ("analytics.marts.dim_customer", 0),
                ("analytics.staging.stg_customers", 1),
                ("raw.shop.customers", 2),
            ]
            assert len(graph["edges"]) == 2
            assert {e["origin"] for e in graph["edges"]} == {"manual"}

            terms = structured(await client.call_tool("glossary", {}))
            assert [t["term"] for t in terms] == ["Active customer", "Customer", "Lifetime value"]
            assert terms[1]["definition"]
            assert [t["term"] for t in structured(await client.call_tool("glossary", {"term": "life"}))] == [
                "Lifetime value"
            ]

            collections = structured(await client.call_tool("list_collections", {}))
            assert {"Default", "Finance", "Marketing"} <= {c["name"] for c in collections}

            missing = await client.call_tool("retrieve_entity", {"entity_id": "no-such-id"})
            assert missing.is_error
            assert "not found" in missing.content[0].text
            too_long = await client.call_tool("search_data_assets", {"query": "x" * 300})
            assert too_long.is_error
            assert "256 characters" in too_long.content[0].text

    asyncio.run(scenario())


def test_streamable_http_server(demo: str) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [CAIRN, "mcp", "--http", "--port", str(port), "--db", demo],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None, "the MCP server exited"
            assert time.monotonic() < deadline, "the MCP server did not start"
            time.sleep(0.1)

        async def scenario() -> list[str]:
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                return [c["name"] for c in structured(await client.call_tool("list_collections", {}))]

        assert "Finance" in asyncio.run(scenario())
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
