"""Browse the catalog by type, most used first; finding by name is the search page's job.

Every list here is one indexed range read (type, then usage) with a bounded count, so a page
costs the same on a million resources as on a hundred.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from starlette.responses import Response

from cairn.core.collections import CollectionService
from cairn.core.resources import PageRequest
from cairn.web import queries as q
from cairn.web.context import UI_PREFIX, UserDep
from cairn.web.pages import NavPage

router = APIRouter()
PAGES = [NavPage("catalog", "Catalog", f"{UI_PREFIX}/catalog", 20)]
PAGE_SIZE = 25
BROWSE_LIMIT = 1000  # the most used 1,000 of a type; past that, search narrows better than paging
BrowseType = Literal[q.NOTABLE_TYPES]  # type: ignore[valid-type]


@router.get(f"{UI_PREFIX}/catalog")
def catalog(
    ui: UserDep,
    kind: Annotated[BrowseType, Query(alias="type")] = "table",
    page: Annotated[int, Query(ge=1, le=BROWSE_LIMIT // PAGE_SIZE)] = 1,
    collection: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    principal = ui.user
    node = q.build(q.condition("exact", "entity_type", kind))
    result = q.clamped(
        lambda p: ui.services.resources.list(
            principal,
            filter_node=node,
            sort=q.SORT_POPULAR,
            paging=PageRequest(p.page, PAGE_SIZE, cap=BROWSE_LIMIT),
            count_up_to=BROWSE_LIMIT + 1,
        ),
        page,
        PAGE_SIZE,
    )
    context: dict[str, Any] = {
        "title": f"Catalog: {kind}",
        "kind": kind,
        "kinds": q.NOTABLE_TYPES,
        "result": result,
        "more": result.count > BROWSE_LIMIT,
        "browse_limit": BROWSE_LIMIT,
        "page_url": lambda n: f"{UI_PREFIX}/catalog?type={kind}" + (f"&page={n}" if n > 1 else ""),
        # Editors tick results and add them to (or take them out of) a collection.
        "pick_collections": CollectionService(ui.services.store).list(principal) if ui.can_write else [],
        "chosen_collection": collection,
    }
    return ui.render("catalog_results.html" if ui.is_htmx else "catalog.html", **context)
