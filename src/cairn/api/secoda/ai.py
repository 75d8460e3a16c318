"""Secoda dialect: the MCP proxy ``POST /ai/mcp/tools/call/`` that MCP servers forward tools to."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from cairn.api.deps import PrincipalDep, ServicesDep
from cairn.api.responses import FastJSONResponse
from cairn.api.secoda.resources import ERRORS
from cairn.core.mcp_tools import McpTools
from cairn.models.common import InputModel, JsonObject, ShortText

router = APIRouter(tags=["ai"])


class ToolCall(InputModel):
    name: ShortText = Field(min_length=1)
    arguments: JsonObject = Field(default_factory=dict)


class ToolContent(BaseModel):
    type: str
    text: str


class ToolResult(BaseModel):
    isError: bool  # noqa: N815 - the MCP wire name
    content: list[ToolContent]


@router.post("/ai/mcp/tools/call", response_model=ToolResult, responses=ERRORS, operation_id="mcp_tools_call")
def call_tool(principal: PrincipalDep, services: ServicesDep, body: ToolCall) -> Response:
    result: dict[str, Any] = McpTools(services.store).call(principal, body.name, body.arguments)
    return FastJSONResponse(result)
