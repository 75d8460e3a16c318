"""The resource page: breadcrumbs, badges, documentation with inline edits, columns, charts,
members, history with restore."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from cairn.core.errors import InvalidInput, NotFound, PreconditionFailed
from cairn.core.principal import Principal
from cairn.core.resources import PageRequest, ResourceService
from cairn.models.resources import ResourceWrite
from cairn.store import resources as repo
from cairn.web import queries as q
from cairn.web.context import UI_PREFIX, FormDep, Ui, UserDep, safe_next

router = APIRouter()
PAGES: list[Any] = []

EDITABLE_TEXT = {"description": "Description", "definition": "Documentation"}
FLAGS = {"verified": "Verified", "pii": "PII", "published": "Published"}
# Which children a page shows in its own section, and under what heading.
CHILD_SECTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "table": ("Columns", ("column",)),
    "dashboard": ("Charts", ("chart",)),
    "event": ("Properties", ("event_property",)),
}
HISTORY_PAGE = 20
# History shows old and new values of these; other fields are named only (ids, lists, JSON).
DIFF_FIELDS = frozenset(
    {"title", "description", "definition", "native_type", "pii", "verified", "published", "url", "stale"}
)

ResourceId = Annotated[str, Path(max_length=64)]


def etag_of(entity: dict[str, Any]) -> str:
    """The resource's ETag as the API computes it, from the entity the page was rendered with."""
    updated = datetime.fromisoformat(str(entity["updated_at"]).replace("Z", "+00:00"))
    return repo.etag({"id": entity["id"], "updated_at": updated})


def resource_url(resource_id: str) -> str:
    return f"{UI_PREFIX}/resource/{resource_id}"


def _collections_of(resources: ResourceService, principal: Principal, entity: dict[str, Any]) -> list[Any]:
    ids = entity.get("collections") or []
    if not ids:
        return []
    found = q.top(
        resources,
        principal,
        q.condition("in", "id", ids[:200]),
        q.condition("exact", "entity_type", "collection"),
        sort=q.SORT_TITLE,
        limit=200,
    )
    return found.items


@router.get(f"{UI_PREFIX}/resource/{{resource_id}}")
def resource_page(
    ui: UserDep,
    resource_id: ResourceId,
    history_page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    restored: Annotated[int | None, Query(ge=1, le=2**31)] = None,
) -> Response:
    principal = ui.user
    resources = ui.services.resources
    entity = resources.get(principal, resource_id)
    kind = entity["entity_type"]
    section = CHILD_SECTIONS.get(kind)
    parts: list[dict[str, Any]] = []
    parts_title = ""
    if section is not None:
        parts_title, kinds = section
        parts = q.children(resources, principal, resource_id, kinds).items
    if kind == "collection":
        contents = q.top(
            resources,
            principal,
            q.condition("exact", "collections", resource_id),
            sort=q.SORT_POPULAR,
            limit=100,
        )
    else:
        excluded = section[1] if section else ()
        others = (
            {"operator": "not", "operands": [q.condition("in", "entity_type", list(excluded))]}
            if excluded
            else None
        )
        contents = q.top(
            resources,
            principal,
            q.condition("exact", "parent", resource_id),
            others,
            sort=q.SORT_POPULAR,
            limit=100,
        )
    try:
        history = resources.history(principal, resource_id, PageRequest(history_page, HISTORY_PAGE))
    except NotFound:  # a page past the end of the history: show the first one
        history = resources.history(principal, resource_id, PageRequest(1, HISTORY_PAGE))
    return ui.render(
        "resource.html",
        title=entity["title"] or "Untitled",
        entity=entity,
        etag=etag_of(entity),
        crumbs=resources.ancestors(principal, resource_id),
        parts=parts,
        parts_title=parts_title,
        part_etags={p["id"]: etag_of(p) for p in parts},
        contents=contents,
        collections=_collections_of(resources, principal, entity),
        labels=q.labels_of(ui.services.store, principal, [entity]),
        column_keys={p["id"]: q.column_keys(p) for p in parts},
        custom=(entity.get("properties") or {}).get("custom", []),
        history=history,
        editable_text=EDITABLE_TEXT,
        diff_fields=DIFF_FIELDS,
        flags=FLAGS,
        restored=restored,
    )


def _field_context(ui: Ui, entity: dict[str, Any], name: str, variant: str) -> dict[str, Any]:
    return {
        "entity": entity,
        "etag": etag_of(entity),
        "name": name,
        "label": EDITABLE_TEXT[name],
        "variant": "cell" if variant == "cell" else "block",
        "can_write": ui.can_write,
    }


def _check_field(name: str) -> None:
    if name not in EDITABLE_TEXT:
        raise NotFound("Not found.")


@router.get(f"{UI_PREFIX}/resource/{{resource_id}}/field/{{name}}")
def field_fragment(
    ui: UserDep,
    resource_id: ResourceId,
    name: Annotated[str, Path(max_length=32)],
    edit: bool = False,
    variant: Annotated[str, Query(max_length=8)] = "block",
) -> Response:
    _check_field(name)
    entity = ui.services.resources.get(ui.user, resource_id)
    context = _field_context(ui, entity, name, variant)
    if edit:
        ui.user.require_write()
        return ui.render("field_edit.html", error=None, value=entity[name] or "", **context)
    return ui.render("field_view.html", **context)


@router.post(f"{UI_PREFIX}/resource/{{resource_id}}/field/{{name}}")
def save_field(
    ui: UserDep, form: FormDep, resource_id: ResourceId, name: Annotated[str, Path(max_length=32)]
) -> Response:
    _check_field(name)
    principal = ui.user
    resources = ui.services.resources
    value = form.get("value", "").replace("\r\n", "\n")
    variant = form.get("variant", "block")
    try:
        body = ResourceWrite.model_validate({name: value or None})
        entity = resources.update(principal, resource_id, body, if_match=form.get("etag") or None)
    except (InvalidInput, PreconditionFailed, ValueError) as exc:
        current = resources.get(principal, resource_id)
        message = exc.message if isinstance(exc, InvalidInput | PreconditionFailed) else _first_error(exc)
        if isinstance(exc, PreconditionFailed):
            message = (
                "Someone changed this resource after you opened the editor. "
                "Your text is kept below; the saved version is shown on reload."
            )
        context = _field_context(ui, current, name, variant)
        context["etag"] = form.get("etag", "") if not isinstance(exc, PreconditionFailed) else context["etag"]
        return ui.render("field_edit.html", status_code=400, error=message, value=value, **context)
    if not ui.is_htmx:
        return ui.redirect(safe_next(form.get("back")) if form.get("back") else resource_url(resource_id))
    return ui.render("field_view.html", saved=True, **_field_context(ui, entity, name, variant))


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        details = errors()
        if details:
            return str(details[0].get("msg", "Invalid value."))
    return "Invalid value."


@router.post(f"{UI_PREFIX}/resource/{{resource_id}}/flag/{{name}}")
def save_flag(
    ui: UserDep, form: FormDep, resource_id: ResourceId, name: Annotated[str, Path(max_length=32)]
) -> Response:
    if name not in FLAGS:
        raise NotFound("Not found.")
    value = form.get("value")
    if value not in ("true", "false"):
        raise InvalidInput("value must be true or false", field="value")
    entity = ui.services.resources.update(
        ui.user, resource_id, ResourceWrite.model_validate({name: value == "true"})
    )
    if not ui.is_htmx:
        return ui.redirect(safe_next(form.get("back")) if form.get("back") else resource_url(resource_id))
    return ui.render("flag.html", entity=entity, name=name, label=FLAGS[name], can_write=True, saved=True)


@router.post(f"{UI_PREFIX}/resource/{{resource_id}}/restore/{{version}}")
def restore(
    ui: UserDep, form: FormDep, resource_id: ResourceId, version: Annotated[int, Path(ge=1, le=2**31)]
) -> Response:
    ui.services.resources.restore_version(ui.user, resource_id, version)
    return ui.redirect(resource_url(resource_id) + f"?restored={version}")
