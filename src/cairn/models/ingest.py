"""Wire models of the ingest endpoints (shared with the SDK)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from cairn.models.common import InputModel, ShortText, Text


class SqlIngestRequest(InputModel):
    url: Text = Field(min_length=1, description="SQLAlchemy URL of the source database.")
    integration: ShortText | None = Field(default=None, min_length=1)
    include: list[ShortText] = Field(default_factory=list, max_length=1000)
    exclude: list[ShortText] = Field(default_factory=list, max_length=1000)


class IngestSummary(BaseModel):
    integration: str | None
    created: int
    updated: int
    unchanged: int
    staled: int
    unstaled: int
    lineage_edges: int
    errors: list[str]
