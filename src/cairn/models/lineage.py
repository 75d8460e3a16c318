"""Lineage objects (``/lineage/manual``): one edge seen from either end (server and SDK)."""

from __future__ import annotations

from pydantic import BaseModel

from cairn.models.common import Identifier, InputModel, ShortText


class LineageCreate(InputModel):
    from_entity: Identifier | None = None
    to_entity: Identifier | None = None
    from_entity_id: Identifier | None = None
    to_entity_id: Identifier | None = None
    direction: ShortText = "DOWNSTREAM"


class LineageObject(BaseModel):
    """``direction`` DOWNSTREAM: ``from_entity`` feeds ``to_entity``; UPSTREAM: the reverse view."""

    id: str
    created_at: str
    updated_at: str
    from_entity: str
    to_entity: str
    from_entity_id: str
    to_entity_id: str
    direction: str
    workspace_id: str
    is_manual: bool
    origin: str
    level: str


class LineagePage(BaseModel):
    links: dict[str, str | None]
    meta: dict[str, int | None]
    count: int
    total_pages: int
    results: list[LineageObject]
