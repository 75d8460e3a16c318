"""The home page: a search box, recently updated, popular, and the workspace's collections."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from cairn.core.collections import CollectionService
from cairn.web import queries as q
from cairn.web.context import UI_PREFIX, UserDep
from cairn.web.pages import NavPage

router = APIRouter()
PAGES = [NavPage("home", "Home", UI_PREFIX, 10)]


# ``cairn serve`` answers ``/`` with the UI itself (no redirect), so a bookmark of the bare host works.
@router.get("/")
@router.get(UI_PREFIX)
def home(ui: UserDep) -> Response:
    principal = ui.user
    resources = ui.services.resources
    recent = q.recently_updated(resources, principal, q.NOTABLE_TYPES, 8)
    popular = q.popular(resources, principal, q.NOTABLE_TYPES, 8)
    collections = CollectionService(ui.services.store).list(principal)
    return ui.render(
        "home.html",
        title="Home",
        recent=recent,
        popular=popular,
        collections=collections[:12],
        collections_total=len(collections),
    )
