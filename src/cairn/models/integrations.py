"""Integrations: the sources that own databases, dashboards and jobs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from cairn.models.common import Identifier, InputModel, JsonObject, ReadModel, ShortText


class IntegrationCreate(InputModel):
    name: ShortText = Field(min_length=1)
    type: ShortText = Field(default="custom", min_length=1)
    teams: list[Identifier] = Field(default_factory=list)
    credentials: JsonObject = Field(default_factory=dict)


class Integration(ReadModel):
    id: str
    created_at: str
    updated_at: str
    name: str
    type: str
    credentials: dict[str, Any] = Field(default_factory=dict)
    workspace_id: str
    teams: list[str] = Field(default_factory=list)
    properties: dict[str, Any] = Field(default_factory=dict)


class IntegrationPage(BaseModel):
    links: dict[str, str | None]
    meta: dict[str, int | None]
    count: int
    total_pages: int
    next: str | None = None
    previous: str | None = None
    results: list[Integration]
