"""Browse and filter the catalog: title contains, type facets, paging; live without a reload."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from cairn.core.collections import CollectionService
from cairn.core.resources import RESULT_CAP, PageRequest
from cairn.models.resources import ENTITY_TYPES
from cairn.web import queries as q
from cairn.web.context import UI_PREFIX, UserDep
from cairn.web.pages import NavPage

router = APIRouter()
PAGES = [NavPage("catalog", "Catalog", f"{UI_PREFIX}/catalog", 20)]
PAGE_SIZE = 25
MAX_QUERY = 200


@router.get(f"{UI_PREFIX}/catalog")
def catalog(
    ui: UserDep,
    text: Annotated[str, Query(alias="q", max_length=MAX_QUERY)] = "",
    types: Annotated[list[str], Query(alias="type", max_length=len(ENTITY_TYPES))] = [],  # noqa: B006
    page: Annotated[int, Query(ge=1, le=RESULT_CAP // PAGE_SIZE)] = 1,
    collection: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    principal = ui.user
    resources = ui.services.resources
    text = text.strip()
    chosen = [t for t in dict.fromkeys(types) if t in ENTITY_TYPES]
    title = q.condition("contains", "title", text) if text else None
    kinds = q.condition("in", "entity_type", chosen) if chosen else None
    facets = resources.type_counts(principal, q.build(title))
    total = sum(facets.get(t, 0) for t in chosen) if chosen else sum(facets.values())
    last_page = max(1, -(-min(total, RESULT_CAP) // PAGE_SIZE))
    result = resources.list(
        principal,
        filter_node=q.build(title, kinds),
        sort=q.SORT_POPULAR,
        paging=PageRequest(min(page, last_page), PAGE_SIZE, cap=RESULT_CAP),
    )
    context: dict[str, Any] = {
        "title": f"Catalog: {text}" if text else "Catalog",
        "text": text,
        "chosen": chosen,
        "facets": sorted(facets.items(), key=lambda kv: (-kv[1], kv[0])),
        "result": result,
        "page_url": lambda n: _url(text, chosen, n),
        # Editors tick results and add them to (or take them out of) a collection.
        "pick_collections": CollectionService(ui.services.store).list(principal) if ui.can_write else [],
        "chosen_collection": collection,
    }
    template = "catalog_results.html" if ui.is_htmx else "catalog.html"
    return ui.render(template, **context)


def _url(text: str, chosen: list[str], page: int) -> str:
    from urllib.parse import urlencode

    params: list[tuple[str, str | int]] = []
    if text:
        params.append(("q", text))
    params.extend(("type", t) for t in chosen)
    if page > 1:
        params.append(("page", page))
    query = urlencode(params)
    return f"{UI_PREFIX}/catalog" + (f"?{query}" if query else "")
