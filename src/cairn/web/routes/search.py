"""Search: ranked, highlighted results with facet filters that update in place (htmx)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from markupsafe import Markup
from pydantic import ValidationError
from starlette.responses import Response

from cairn.core.collections import CollectionService
from cairn.core.errors import InvalidInput, NotFound
from cairn.core.search import SearchService
from cairn.models.search import FACETS, MAX_FILTER_VALUES, MAX_QUERY_LENGTH, SearchQuery, SearchResult
from cairn.web.context import UI_PREFIX, UserDep
from cairn.web.pages import NavPage

router = APIRouter()
PAGES = [NavPage("search", "Search", f"{UI_PREFIX}/search", 15)]
PAGE_SIZE = 20
FACET_LABELS = {
    "entity_type": "Type",
    "integration": "Integration",
    "database": "Database",
    "schema": "Schema",
    "tags": "Tags",
    "owners": "Owners",
    "collections": "Collections",
}
FacetValues = Annotated[list[str], Query(max_length=MAX_FILTER_VALUES)]


@router.get(f"{UI_PREFIX}/search")
def search_page(
    ui: UserDep,
    text: Annotated[str, Query(alias="q", max_length=MAX_QUERY_LENGTH)] = "",
    entity_type: FacetValues = [],  # noqa: B006 - FastAPI copies defaults per request
    integration: FacetValues = [],  # noqa: B006
    database: FacetValues = [],  # noqa: B006
    schema: FacetValues = [],  # noqa: B006
    tags: FacetValues = [],  # noqa: B006
    owners: FacetValues = [],  # noqa: B006
    collections: FacetValues = [],  # noqa: B006
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    collection: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    principal = ui.user
    chosen = {
        "entity_type": entity_type,
        "integration": integration,
        "database": database,
        "schema": schema,
        "tags": tags,
        "owners": owners,
        "collections": collections,
    }
    chosen = {k: list(dict.fromkeys(v)) for k, v in chosen.items()}
    text = text.strip()
    result: SearchResult | None = None
    if text:
        try:
            query = SearchQuery.model_validate({"q": text, **chosen, "page": page, "page_size": PAGE_SIZE})
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first.get("loc", ())) or "q"
            raise InvalidInput(f"{field}: {first.get('msg', 'invalid')}", field=field) from exc
        service = SearchService(ui.services.store)
        try:
            result = service.search(principal, query)
        except NotFound:  # a page past the end (the results shrank): the first page
            result = service.search(principal, query.model_copy(update={"page": 1}))
    context: dict[str, Any] = {
        "title": f"Search: {text}" if text else "Search",
        "text": text,
        "result": result,
        "facet_groups": _facet_groups(result, chosen),
        "chosen": chosen,
        "page_url": lambda n: _url(text, chosen, n),
        "highlight": _highlight,
        "pick_collections": CollectionService(ui.services.store).list(principal) if ui.can_write else [],
        "chosen_collection": collection,
    }
    return ui.render("search_results.html" if ui.is_htmx else "search.html", **context)


def _facet_groups(result: SearchResult | None, chosen: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Each facet's values; a chosen value stays listed (with 0) so it can be unticked."""
    groups = []
    for name in FACETS:
        values = [
            {"value": v.value, "label": v.label or v.value, "count": v.count}
            for v in (result.facets.get(name, []) if result else [])
        ]
        present = {v["value"] for v in values}
        values += [{"value": v, "label": v, "count": 0} for v in chosen[name] if v not in present]
        if values:
            groups.append({"name": name, "label": FACET_LABELS[name], "values": values[:25]})
    return groups


def _highlight(hit: Any, field: str) -> Markup | None:
    """The search core's highlight HTML (text escaped, matches in <mark>) for one field."""
    for found in hit.highlights:
        if found.field == field:
            return Markup(found.html)  # noqa: S704 - escaped by cairn.core.search
    return None


def _url(text: str, chosen: dict[str, list[str]], page: int) -> str:
    params: list[tuple[str, str | int]] = [("q", text)]
    for name, values in chosen.items():
        params.extend((name, v) for v in values)
    if page > 1:
        params.append(("page", page))
    return f"{UI_PREFIX}/search?{urlencode(params)}"
