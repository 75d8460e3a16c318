"""Collections in workspace order (reordered with the Kontent.ai-style move operation), a page
per collection with its members, and adding or removing many resources at once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from cairn.core.collections import CollectionService
from cairn.core.errors import InvalidInput, NotFound
from cairn.core.resources import PageRequest
from cairn.web import queries as q
from cairn.web.context import UI_PREFIX, FormDep, FormListsDep, Ui, UserDep
from cairn.web.pages import NavPage

router = APIRouter()
PAGES = [NavPage("collections", "Collections", f"{UI_PREFIX}/collections", 30)]
MEMBERS_PAGE = 50
CollectionId = Annotated[str, Path(max_length=64)]


def collection_url(collection_id: str) -> str:
    return f"{UI_PREFIX}/collections/{collection_id}"


def _render(ui: Ui, *, fragment: bool, error: str | None = None, status_code: int = 200) -> Response:
    principal = ui.user
    service = CollectionService(ui.services.store)
    records = service.list(principal)
    members = service.members(principal, [r.id for r in records])
    return ui.render(
        "collections_list.html" if fragment else "collections.html",
        status_code=status_code,
        title="Collections",
        collections=records,
        member_counts={cid: len(items) for cid, items in members.items()},
        error=error,
    )


@router.get(f"{UI_PREFIX}/collections")
def collections_page(ui: UserDep) -> Response:
    return _render(ui, fragment=ui.is_htmx)


@router.post(f"{UI_PREFIX}/collections/{{collection_id}}/move")
def move(ui: UserDep, form: FormDep, collection_id: Annotated[str, Path(max_length=64)]) -> Response:
    """Move one collection: ``direction`` up/down, or ``before``/``after`` another (drag and drop)."""
    principal = ui.user
    principal.require_write()
    service = CollectionService(ui.services.store)
    operation: dict[str, object] = {"op": "move", "reference": {"id": collection_id}}
    direction = form.get("direction")
    try:
        if direction in ("up", "down"):
            order = [r.id for r in service.list(principal)]
            if collection_id not in order:
                raise InvalidInput("no such collection", field="collection")
            index = order.index(collection_id)
            if direction == "up" and index > 0:
                operation["before"] = {"id": order[index - 1]}
            elif direction == "down" and index < len(order) - 1:
                operation["after"] = {"id": order[index + 1]}
            else:
                return _render(ui, fragment=ui.is_htmx)  # already at that end: nothing to do
        elif form.get("before"):
            operation["before"] = {"id": form["before"]}
        elif form.get("after"):
            operation["after"] = {"id": form["after"]}
        else:
            raise InvalidInput("say where to move it: direction, before or after", field="direction")
        service.apply_operations(principal, [operation])
    except InvalidInput as exc:
        if not ui.is_htmx:
            raise
        return _render(ui, fragment=True, error=exc.message, status_code=400)
    if not ui.is_htmx:
        return ui.redirect(f"{UI_PREFIX}/collections")
    return _render(ui, fragment=True)


@router.get(f"{UI_PREFIX}/collections/{{collection_id}}")
def collection_page(
    ui: UserDep,
    collection_id: CollectionId,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    added: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    removed: Annotated[int | None, Query(ge=0, le=100_000)] = None,
) -> Response:
    principal = ui.user
    record = CollectionService(ui.services.store).get(principal, collection_id)
    resources = ui.services.resources
    node = q.build(q.condition("exact", "collections", record.id))
    try:
        members = resources.list(
            principal, filter_node=node, sort=q.SORT_POPULAR, paging=PageRequest(page, MEMBERS_PAGE)
        )
    except NotFound:  # past the last page (members were removed meanwhile): the first one
        members = resources.list(
            principal, filter_node=node, sort=q.SORT_POPULAR, paging=PageRequest(1, MEMBERS_PAGE)
        )
    return ui.render(
        "collection.html",
        title=record.name,
        collection=record,
        members=members,
        added=added,
        removed=removed,
    )


@router.post(f"{UI_PREFIX}/collections/members")
def change_members(ui: UserDep, form: FormListsDep) -> Response:
    """Add the chosen resources to a collection, or take them out (search results, member lists)."""
    principal = ui.user
    principal.require_write()
    chosen = form.get("resource", [])
    collection_id = (form.get("collection") or [""])[0]
    action = (form.get("action") or [""])[0]
    if action not in ("add", "remove"):
        raise InvalidInput("action must be add or remove", field="action")
    if not collection_id:
        raise InvalidInput("choose a collection", field="collection")
    service = CollectionService(ui.services.store)
    record = service.get(principal, collection_id)
    if action == "add":
        changed = service.change_members(principal, record.id, add=chosen)
    else:
        changed = service.change_members(principal, record.id, remove=chosen)
    word = "added" if action == "add" else "removed"
    return ui.redirect(f"{collection_url(record.id)}?{word}={changed}")
