"""Collections in workspace order, reordered with the Kontent.ai-style move operation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.responses import Response

from cairn.core.collections import CollectionService
from cairn.core.errors import InvalidInput
from cairn.web.context import UI_PREFIX, FormDep, Ui, UserDep
from cairn.web.pages import NavPage

router = APIRouter()
PAGES = [NavPage("collections", "Collections", f"{UI_PREFIX}/collections", 30)]


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
