"""The tools Secoda's MCP proxy (``POST /ai/mcp/tools/call/``) offers, answered from the catalog.

A tool answers ``{isError, content: [{type: "text", text}]}``; ``text`` is JSON the MCP
clients pass on to a model as it is. A tool that cannot run (an unknown entity, a missing
argument, ``run_sql`` without a warehouse connection) says why with ``isError: true``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from pydantic import ValidationError

from cairn.core import filters as flt
from cairn.core.errors import CairnError
from cairn.core.lineage import LineageService
from cairn.core.principal import Principal
from cairn.core.resources import PageRequest, ResourceService
from cairn.core.search import SearchService
from cairn.models.search import SearchQuery
from cairn.store import Store

DATA_ASSET_TYPES = ("table", "column", "dashboard", "chart", "database", "schema", "job", "event", "query")
DOCUMENTATION_TYPES = ("document", "question", "glossary")
PAGE_SIZE = 20
GLOSSARY_LIMIT = 1000
# The fields a model needs to tell results apart; the whole entity is one retrieve_entity away.
SUMMARY_FIELDS = (
    "id",
    "title",
    "title_full",
    "entity_type",
    "native_type",
    "description",
    "integration",
    "parent",
    "url",
    "verified",
    "search_metadata",
)


class ToolError(Exception):
    """A tool-level failure: reported to the client with ``isError``, not as an HTTP error."""


# Long prose is what truncate_length shortens; ids, titles and types stay whole so results
# can still be referred to.
TRUNCATED_FIELDS = frozenset({"description", "definition"})


def truncate(value: Any, limit: int | None, *, prose: bool = False) -> Any:
    if limit is None:
        return value
    if isinstance(value, str):
        return value if not prose or len(value) <= limit else value[:limit] + "..."
    if isinstance(value, dict):
        return {k: truncate(v, limit, prose=k in TRUNCATED_FIELDS) for k, v in value.items()}
    if isinstance(value, list):
        return [truncate(v, limit, prose=prose) for v in value]
    return value


def _summary(entity: dict[str, Any]) -> dict[str, Any]:
    return {k: entity.get(k) for k in SUMMARY_FIELDS}


def _int_arg(arguments: dict[str, Any], name: str, default: int | None) -> int | None:
    value = arguments.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ToolError(f"'{name}' must be a positive integer")
    return value


def _text_arg(arguments: dict[str, Any], name: str) -> str:
    value = arguments.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ToolError(f"'{name}' is required and must be a non-empty string")
    if "\x00" in value:
        raise ToolError(f"'{name}' must not contain NUL characters")
    return value


class McpTools:
    def __init__(self, store: Store) -> None:
        self.resources = ResourceService(store)
        self.lineage = LineageService(store)
        self.search = SearchService(store)
        self.tools: dict[str, Callable[[Principal, dict[str, Any]], Any]] = {
            "search_data_assets": lambda p, a: self._search(p, a, DATA_ASSET_TYPES),
            "search_documentation": lambda p, a: self._search(p, a, DOCUMENTATION_TYPES),
            "retrieve_entity": self._retrieve,
            "entity_lineage": self._lineage,
            "glossary": self._glossary,
            "run_sql": self._run_sql,
        }

    def call(self, principal: Principal, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        tool = self.tools.get(name)
        try:
            if tool is None:
                raise ToolError(f"unknown tool '{name}'; available: {', '.join(sorted(self.tools))}")
            limit = _int_arg(arguments, "truncate_length", 150)
            result = truncate(tool(principal, arguments), limit)
        except ToolError as exc:
            return _content(str(exc), error=True)
        except CairnError as exc:
            return _content(exc.message, error=True)
        return _content(orjson.dumps(result).decode(), error=False)

    def _search(self, principal: Principal, arguments: dict[str, Any], types: tuple[str, ...]) -> Any:
        query = _text_arg(arguments, "query")
        page = _int_arg(arguments, "page", 1) or 1
        try:
            wanted = SearchQuery(q=query, entity_type=list(types), page=page, page_size=PAGE_SIZE)
        except ValidationError as exc:
            raise ToolError(f"'query': {exc.errors()[0]['msg']}") from exc
        try:
            result = self.search.search(principal, wanted)
        except CairnError as exc:
            raise ToolError(exc.message) from exc
        return {
            "query": query,
            "page": page,
            "count": result.count,
            # "gte": more match than were counted (count is then the counting limit).
            "count_relation": result.count_relation,
            "total_pages": result.total_pages,
            "results": [{**_summary(hit.resource), "score": hit.score} for hit in result.results],
        }

    def _retrieve(self, principal: Principal, arguments: dict[str, Any]) -> Any:
        entity_id = _text_arg(arguments, "entity_id")
        try:
            return self.resources.get(principal, entity_id)
        except CairnError as exc:
            raise ToolError(f"entity {entity_id} was not found") from exc

    def _lineage(self, principal: Principal, arguments: dict[str, Any]) -> Any:
        entity_id = _text_arg(arguments, "entity_id")
        try:
            entity = self.resources.get(principal, entity_id)
        except CairnError as exc:
            raise ToolError(f"entity {entity_id} was not found") from exc
        upstream = self._ends(principal, downstream=entity_id)
        downstream = self._ends(principal, upstream=entity_id)
        return {"entity": _summary(entity), "upstream": upstream, "downstream": downstream}

    def _ends(
        self, principal: Principal, *, upstream: str | None = None, downstream: str | None = None
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            result = self.lineage.list(
                principal,
                upstream_ids=[upstream] if upstream else None,
                downstream_ids=[downstream] if downstream else None,
                paging=PageRequest(page, 1000),
            )
            for edge in result.items:
                other = edge["downstream_id"] if upstream else edge["upstream_id"]
                try:
                    entity = _summary(self.resources.get(principal, other))
                except CairnError:
                    continue
                found.append({**entity, "origin": edge["origin"], "level": edge["level"]})
            if result.next_page is None or page >= 10:
                return found
            page += 1

    def _glossary(self, principal: Principal, arguments: dict[str, Any]) -> Any:
        node = flt.parse_filter({"operator": "exact", "field": "entity_type", "value": "glossary"})
        sort = flt.parse_sort({"field": "title", "order": "asc"})
        result = self.resources.list(
            principal, filter_node=node, sort=sort, paging=PageRequest(1, GLOSSARY_LIMIT)
        )
        return {
            "count": result.count,
            "terms": [
                {
                    "id": e["id"],
                    "title": e["title"],
                    "description": e["description"],
                    "definition": e["definition"],
                }
                for e in result.items
            ],
        }

    def _run_sql(self, principal: Principal, arguments: dict[str, Any]) -> Any:
        raise ToolError(
            "run_sql is not available: Cairn holds catalog metadata only and has no read-only "
            "connection to a warehouse to run SQL on"
        )


def _content(text: str, *, error: bool) -> dict[str, Any]:
    return {"isError": error, "content": [{"type": "text", "text": text}]}
