"""Drive the real secoda-analysis-mcp server over stdio, as an MCP host would.

Run by the interpreter of ``.venv-secoda-mcp`` (secoda-analysis-mcp needs ``mcp<2``, which the
project's own environment does not have). Reads ``[{"tool": ..., "arguments": {...}}, ...]`` as
JSON on stdin and prints ``[{"isError": ..., "text": ...}, ...]``; ``API_URL`` and ``API_TOKEN``
come from the environment and are passed on to the server process.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def main(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    server = StdioServerParameters(
        command=sys.executable, args=["-m", "secoda_analysis_mcp"], env=dict(os.environ)
    )
    results: list[dict[str, Any]] = []
    async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = await session.list_tools()
        results.append({"tools": sorted(t.name for t in tools.tools)})
        for call in calls:
            result = await asyncio.wait_for(session.call_tool(call["tool"], call.get("arguments", {})), 60)
            text = "".join(c.text for c in result.content if getattr(c, "type", "") == "text")
            results.append({"isError": bool(result.isError), "text": text})
    return results


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.load(sys.stdin)))))
