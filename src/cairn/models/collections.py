"""Collections as each face shows them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from cairn.models.common import InputModel, ShortText, Text


class LegacyBadge(BaseModel):
    category: str
    badge_name: str | None
    name: str


class LegacyCollection(BaseModel):
    """Seed 000's ``/tag/`` item."""

    id: str
    neo4j_id: str
    created_at: str | None
    updated_at: str | None
    name: str
    icon: str | None
    description: str | None
    count: int
    jobs: list[str]
    tables: list[str]
    dictionary_terms: list[str]
    badges: list[LegacyBadge]
    requests: list[Any]


class LegacyCollectionPage(BaseModel):
    page: int
    count: int
    total_pages: int
    links: dict[str, str | None]
    meta: dict[str, int | None]
    results: list[LegacyCollection]


class LegacyCollectionCreate(InputModel):
    name: ShortText = Field(min_length=1, max_length=200)
    description: Text | None = None
    icon: ShortText | None = None


class LegacyCollectionUpdate(InputModel):
    name: ShortText | None = Field(default=None, min_length=1, max_length=200)
    description: Text | None = None


class LegacyMessage(BaseModel):
    msg: str


class KontentCollection(BaseModel):
    id: str
    name: str
    codename: str
    external_id: str | None = None


class KontentCollections(BaseModel):
    collections: list[KontentCollection]
    last_modified: str | None


class KontentError(BaseModel):
    request_id: str
    error_code: int
    message: str
    validation_errors: list[dict[str, str]] = Field(default_factory=list)


class Organization(BaseModel):
    id: str
    name: str
    logo: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class Workspace(BaseModel):
    """A Cairn workspace; the DataForce face calls it an orbit."""

    id: str
    name: str
    organization_id: str
    bucket_secret_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class Collection(BaseModel):
    """A collection on the DataForce face and in the Python SDK (seed 004)."""

    id: str
    orbit_id: str
    name: str
    description: str | None = None
    collection_type: str | None = None
    tags: list[str] | None = None
    total_models: int = 0
    created_at: str
    updated_at: str | None = None


class CollectionCreate(InputModel):
    name: ShortText = Field(min_length=1, max_length=200)
    description: Text | None = None
    collection_type: Literal["model", "dataset"] | None = None
    tags: list[ShortText] | None = None


class CollectionUpdate(InputModel):
    name: ShortText | None = Field(default=None, min_length=1, max_length=200)
    description: Text | None = None
    tags: list[ShortText] | None = None
