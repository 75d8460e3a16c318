"""Catalog queries the pages share, written in the catalog filter language (core/filters.py)."""

from __future__ import annotations

from typing import Any

from cairn.core import filters as flt
from cairn.core.principal import Principal
from cairn.core.resources import PageRequest, PageResult, ResourceService

# What a home page lists: things people look for, not their parts (columns, charts, properties).
NOTABLE_TYPES = (
    "table",
    "dashboard",
    "document",
    "glossary",
    "job",
    "query",
    "event",
    "model",
    "dataset",
    "database",
    "schema",
    "question",
)
SORT_RECENT = flt.parse_sort({"field": "updated_at", "order": "desc"})
SORT_POPULAR = flt.parse_sort({"field": "total_usage", "order": "desc"})
SORT_TITLE = flt.parse_sort({"field": "title", "order": "asc"})
SORT_CREATED = flt.parse_sort({"field": "created_at", "order": "asc", "tie_breaker": {"field": "title"}})


def condition(operator: str, field: str, value: Any) -> dict[str, Any]:
    return {"operator": operator, "field": field, "value": value}


def build(*conditions: dict[str, Any] | None) -> flt.Filter | None:
    """Parse through the same validator the API uses, so the UI cannot send what the API refuses."""
    present = [c for c in conditions if c is not None]
    if not present:
        return None
    return flt.parse_filter({"operator": "and", "operands": present})


def top(
    resources: ResourceService,
    principal: Principal,
    *conditions: dict[str, Any] | None,
    sort: list[flt.SortKey],
    limit: int,
) -> PageResult:
    return resources.list(principal, filter_node=build(*conditions), sort=sort, paging=PageRequest(1, limit))


def children(
    resources: ResourceService,
    principal: Principal,
    parent_id: str,
    entity_types: tuple[str, ...] | None = None,
    *,
    limit: int = 500,
) -> PageResult:
    kinds = condition("in", "entity_type", list(entity_types)) if entity_types else None
    return top(
        resources,
        principal,
        condition("exact", "parent", parent_id),
        kinds,
        sort=SORT_CREATED,
        limit=limit,
    )
