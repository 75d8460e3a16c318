"""Catalog resources: the entity object every Secoda-style endpoint returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from cairn.models.common import Count, Identifier, InputModel, JsonObject, ReadModel, ShortText, Text

ENTITY_TYPES: tuple[str, ...] = (
    "database",
    "schema",
    "table",
    "column",
    "dashboard_group",
    "dashboard",
    "chart",
    "job_group",
    "job",
    "event",
    "event_property",
    "query",
    "document",
    "glossary",
    "question",
    "question_reply",
    "category",
    "test_suite",
    "test",
    "collection",
    "model",
    "dataset",
)

# Accepted on input, stored under the canonical name.
ENTITY_TYPE_ALIASES: dict[str, str] = {"dictionary_term": "glossary"}

EntityTypeName = Literal[
    "database",
    "schema",
    "table",
    "column",
    "dashboard_group",
    "dashboard",
    "chart",
    "job_group",
    "job",
    "event",
    "event_property",
    "query",
    "document",
    "glossary",
    "dictionary_term",
    "question",
    "question_reply",
    "category",
    "test_suite",
    "test",
    "collection",
    "model",
    "dataset",
]

IdList = list[Identifier]

# List-valued fields: replaced whole on write, matched by membership in filters.
LIST_FIELDS: tuple[str, ...] = (
    "owners",
    "owners_groups",
    "collections",
    "tags",
    "teams",
    "subscribers",
    "bookmarked_by",
    "internal_users",
    "external_users",
    "sources",
    "multiplayers",
)


class Permissions(BaseModel):
    read: bool
    write: bool
    execute: bool


class ResourceWrite(InputModel):
    """Every writable field of a resource. On PATCH only the fields sent change."""

    title: ShortText | None = None
    entity_type: EntityTypeName | None = None
    native_type: ShortText | None = None
    integration: Identifier | None = None
    parent: Identifier | None = None
    description: Text | None = None
    definition: Text | None = None
    icon: ShortText | None = None
    url: Text | None = None
    pii: bool | None = None
    verified: bool | None = None
    published: bool | None = None
    archived: bool | None = None
    stale: bool | None = None
    forced_unstale_by_user: bool | None = None
    teams: IdList | None = None
    owners: IdList | None = None
    owners_groups: IdList | None = None
    collections: IdList | None = None
    tags: IdList | None = None
    subscribers: IdList | None = None
    bookmarked_by: IdList | None = None
    internal_users: IdList | None = None
    external_users: IdList | None = None
    sources: IdList | None = None
    multiplayers: IdList | None = None
    internal_usage: Count | None = None
    external_usage: Count | None = None
    row_count: Count | None = None
    byte_size: Count | None = None
    databuilder_id: ShortText | None = None
    external_updated_at: datetime | None = None
    search_metadata: JsonObject | None = None
    display_metadata: JsonObject | None = None
    question_status: ShortText | None = None
    question_priority: ShortText | None = None
    question_answered_by: Identifier | None = None
    question_assigned_to: Identifier | None = None


class BulkUpdateItem(InputModel):
    id: Identifier
    data: ResourceWrite


class Resource(ReadModel):
    """The entity object, exactly as the API returns it (seed 001)."""

    id: str
    created_at: str
    updated_at: str
    entity_type: str
    native_type: str | None = None
    icon: str | None = None
    title: str | None = None
    title_full: str | None = None
    title_cased: str | None = None
    description: str | None = None
    definition: str | None = None
    definition_version: int = 1
    multiplayers: list[str] = Field(default_factory=list)
    multiplayer_last_modified_by: str | None = None
    multiplayer_last_modified: str | None = None
    owners: list[str] = Field(default_factory=list)
    owners_groups: list[str] = Field(default_factory=list)
    collections: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)
    subscribers: list[str] = Field(default_factory=list)
    bookmarked_by: list[str] = Field(default_factory=list)
    workspace_id: str
    total_usage: int = 0
    published: bool = False
    archived: bool = False
    archived_at: str | None = None
    pii: bool = False
    verified: bool = False
    url: str | None = None
    parent: str | None = None
    children_count: int = 0
    integration: str | None = None
    external_updated_at: str | None = None
    internal_usage: int = 0
    internal_users: list[str] = Field(default_factory=list)
    external_usage: int = 0
    external_users: list[str] = Field(default_factory=list)
    databuilder_id: str | None = None
    search_metadata: dict[str, Any] = Field(default_factory=dict)
    sources: list[str] = Field(default_factory=list)
    stale: bool = False
    stale_at: str | None = None
    forced_unstale_by_user: bool = False
    current_user_permissions: Permissions | None = None
    row_count: int | None = None
    byte_size: int | None = None
    display_metadata: dict[str, Any] = Field(default_factory=dict)
    question_status: str | None = None
    question_priority: str | None = None
    question_answered_by: str | None = None
    question_assigned_to: str | None = None
    properties: dict[str, Any] = Field(
        default_factory=dict, description="custom: the entity's custom property values"
    )


class PageLinks(BaseModel):
    next: str | None
    previous: str | None


class PageMeta(BaseModel):
    page: int
    previous_page: int | None
    next_page: int | None
    count: int
    total_pages: int


class ResourcePage(BaseModel):
    """The Secoda pagination envelope (``v1_ListResponse``)."""

    links: PageLinks
    meta: PageMeta
    count: int
    total_pages: int
    next: str | None = None
    previous: str | None = None
    resource_totals: dict[str, Any] = Field(default_factory=dict)
    results: list[Resource]


class VersionActor(BaseModel):
    id: str | None
    name: str | None


class ResourceVersion(BaseModel):
    """One recorded change: which fields, old and new values."""

    version: int
    event: str
    at: str
    actor: VersionActor
    changes: dict[str, dict[str, Any]]


class VersionPage(BaseModel):
    links: PageLinks
    meta: PageMeta
    count: int
    total_pages: int
    next: str | None = None
    previous: str | None = None
    resource_totals: dict[str, Any] = Field(default_factory=dict)
    results: list[ResourceVersion]


class ScanResponse(BaseModel):
    """A keyset page: ``next`` is the id to pass as ``after``, null on the last page."""

    results: list[Resource]
    next: str | None
