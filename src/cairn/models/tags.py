"""Label-style tags (``/tag/tags``): a name, a description and a color."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from cairn.models.common import InputModel, ReadModel, ShortText, Text
from cairn.models.resources import PageLinks, PageMeta

Color = Annotated[ShortText, Field(max_length=32)]


class TagWrite(InputModel):
    """Create needs ``name``; PATCH and PUT change only the fields sent."""

    name: Annotated[ShortText, Field(min_length=1, max_length=200)] | None = None
    description: Text | None = None
    color: Color | None = None


class Tag(ReadModel):
    id: str
    created_at: str
    updated_at: str
    name: str
    description: str | None = None
    color: str | None = None
    integration_id: str | None = None
    workspace_id: str


class TagPage(BaseModel):
    links: PageLinks
    meta: PageMeta
    count: int
    total_pages: int
    next: str | None = None
    previous: str | None = None
    results: list[Tag]
