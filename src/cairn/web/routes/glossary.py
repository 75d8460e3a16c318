"""The glossary: every term the caller may see, with its definition."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from cairn.web import queries as q
from cairn.web.context import UI_PREFIX, UserDep
from cairn.web.pages import NavPage

router = APIRouter()
PAGES = [NavPage("glossary", "Glossary", f"{UI_PREFIX}/glossary", 40)]
PAGE_SIZE = 50


@router.get(f"{UI_PREFIX}/glossary")
def glossary(ui: UserDep, page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    principal = ui.user
    resources = ui.services.resources
    node = q.build(q.condition("exact", "entity_type", "glossary"))
    terms = q.clamped(
        lambda paging: resources.list(principal, filter_node=node, sort=q.SORT_TITLE, paging=paging),
        page,
        PAGE_SIZE,
    )
    return ui.render("glossary.html", title="Glossary", terms=terms)
