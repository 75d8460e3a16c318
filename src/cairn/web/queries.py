"""Catalog queries the pages share, written in the catalog filter language (core/filters.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cairn.core import audit, records
from cairn.core import filters as flt
from cairn.core.errors import NotFound
from cairn.core.people import user_json
from cairn.core.principal import Principal
from cairn.core.resources import PageRequest, PageResult, ResourceService
from cairn.store import Store
from cairn.store.schema import catalog_user, tag, team, user_group

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
# External usage is the indexed popularity figure (and the API's default sort).
SORT_POPULAR = flt.parse_sort({"field": "external_usage", "order": "desc"})
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
    """The first ``limit`` matches; ``count`` stops at ``limit + 1`` (enough for "more...")."""
    return resources.list(
        principal,
        filter_node=build(*conditions),
        sort=sort,
        paging=PageRequest(1, limit),
        count_up_to=limit + 1,
    )


def popular(
    resources: ResourceService, principal: Principal, types: tuple[str, ...], limit: int
) -> list[dict[str, Any]]:
    """The most used resources among ``types``: one indexed read per type, merged.

    One ``entity_type IN (...)`` query would sort every row of those types (the usage index
    serves one type at a time), which costs seconds on a million resources.
    """
    # Unused resources are not popular; skipping them also spares sorting a type's long tail of
    # zero-usage rows (thousands of ties) to pick the first few.
    used = {"operator": "not", "operands": [condition("in", "external_usage", [0])]}
    found: list[dict[str, Any]] = []
    for kind in types:
        kind_is = condition("exact", "entity_type", kind)
        found += top(resources, principal, kind_is, used, sort=SORT_POPULAR, limit=limit).items
    found.sort(key=lambda e: (-int(e["external_usage"]), e["id"]))
    return found[:limit]


def recently_updated(
    resources: ResourceService, principal: Principal, types: tuple[str, ...], limit: int
) -> list[dict[str, Any]]:
    """The last changed resources among ``types``, from the audit log's time index (resources
    have no index on ``updated_at``), fetched through the caller's visibility."""
    with resources.store.read() as conn:
        ids = audit.recently_changed(conn, principal.workspace_id, events=20 * limit)
    if not ids:
        return []
    return top(
        resources,
        principal,
        condition("in", "id", ids),
        condition("in", "entity_type", list(types)),
        sort=SORT_RECENT,
        limit=limit,
    ).items


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


def labels_of(store: Store, principal: Principal, entities: list[dict[str, Any]]) -> Labels:
    """Names for the tag, owner and team ids the given entities hold, in one read."""
    wanted: dict[str, list[str]] = {"tags": [], "owners": [], "teams": []}
    for entity in entities:
        for name, ids in wanted.items():
            ids.extend(entity.get(name) or [])
    ws = principal.workspace_id
    with store.read() as conn:
        tags = records.by_ids(conn, tag, ws, wanted["tags"])
        users = records.by_ids(conn, catalog_user, ws, wanted["owners"])
        groups = records.by_ids(conn, user_group, ws, wanted["owners"])
        teams = records.by_ids(conn, team, ws, wanted["teams"])
    owners = {i: user_json(r, [], [])["display_name"] for i, r in users.items()}
    owners.update({i: r.name for i, r in groups.items()})
    return Labels(
        tags={i: r.name for i, r in tags.items()},
        owners=owners,
        teams={i: r.name for i, r in teams.items()},
    )


@dataclass(frozen=True)
class Labels:
    tags: dict[str, str]
    owners: dict[str, str]
    teams: dict[str, str]

    def name(self, kind: str, record_id: str) -> str:
        """A missing name (a removed user, say) shows the id: the link is real, its label gone."""
        found: dict[str, str] = getattr(self, kind)
        return found.get(record_id, record_id)


def column_keys(column: dict[str, Any]) -> tuple[bool, str | None]:
    """(primary key?, foreign key target) of a column, from Secoda's ``is_pk`` extra field or the
    ``display_metadata`` crawlers fill (``is_pk``, ``foreign_key``: "table.column")."""
    shown = column.get("display_metadata") or {}
    is_pk = bool(column.get("is_pk") or shown.get("is_pk"))
    target = column.get("foreign_key") or shown.get("foreign_key")
    return is_pk, str(target) if target else None


def clamped(fetch: Callable[[PageRequest], PageResult], page: int, page_size: int) -> PageResult:
    """A page of a list, or its first page when ``page`` is past the end (a stale link)."""
    try:
        return fetch(PageRequest(page, page_size))
    except NotFound:
        return fetch(PageRequest(1, page_size))
