"""Administration (admins only): API keys, users, teams, integrations and ingestion runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import ValidationError
from starlette.responses import Response

from cairn.core.errors import InvalidInput
from cairn.core.extractions import STATUSES, ExtractionFilter, ExtractionService
from cairn.core.keys import create_key, list_keys, revoke_key
from cairn.core.people import TeamService, UserService
from cairn.core.principal import ROLES
from cairn.core.resources import PageRequest
from cairn.models.people import TeamWrite, UserWrite
from cairn.web import queries as q
from cairn.web.context import UI_PREFIX, FormDep, Ui, UserDep
from cairn.web.pages import NavPage, admins

router = APIRouter()
PAGES = [NavPage("admin", "Admin", f"{UI_PREFIX}/admin/keys", 90, shown_to=admins)]
MAX_NAME = 200
LIST_PAGE = 100
# The admin area's own tabs, in this order.
TABS = (
    ("keys", "API keys"),
    ("users", "Users"),
    ("teams", "Teams"),
    ("integrations", "Integrations"),
    ("runs", "Ingestion runs"),
)
PageNumber = Annotated[int, Query(ge=1, le=100_000)]


def _admin(ui: Ui) -> Ui:
    ui.user.require_admin()
    return ui


def _render(ui: Ui, tab: str, *, status_code: int = 200, **context: Any) -> Response:
    return ui.render(
        f"admin_{tab}.html",
        status_code=status_code,
        title=dict(TABS)[tab],
        tabs=TABS,
        tab=tab,
        roles=ROLES,
        **context,
    )


def _validation_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "value"
    return f"{where}: {first.get('msg', 'invalid')}"


def _create(
    ui: Ui, create: Callable[[], object], refused: Callable[[str], Response], done_url: str
) -> Response:
    """Run a create; bad input shows the form again with the message (a 400), else back to the list."""
    try:
        create()
    except InvalidInput as exc:
        return refused(exc.message)
    except ValidationError as exc:
        return refused(_validation_message(exc))
    return ui.redirect(done_url)


# ---- keys ----------------------------------------------------------------------------------


def _keys_page(
    ui: Ui, *, status_code: int = 200, created: object = None, error: str | None = None
) -> Response:
    keys = list_keys(ui.services.store, workspace_id=ui.user.workspace_id)
    return _render(ui, "keys", status_code=status_code, keys=keys, created=created, error=error)


@router.get(f"{UI_PREFIX}/admin/keys")
def keys_page(ui: UserDep) -> Response:
    return _keys_page(_admin(ui))


@router.post(f"{UI_PREFIX}/admin/keys")
def keys_create(ui: UserDep, form: FormDep) -> Response:
    principal = _admin(ui).user
    name = form.get("name", "").strip()
    role = form.get("role", "")
    try:
        if len(name) > MAX_NAME:
            raise InvalidInput(f"name must be at most {MAX_NAME} characters", field="name")
        created = create_key(ui.services.store, workspace_id=principal.workspace_id, name=name, role=role)
    except InvalidInput as exc:
        return _keys_page(ui, status_code=400, error=exc.message)
    # The token is shown once, in this response only; the store keeps its digest.
    return _keys_page(ui, created=created)


@router.post(f"{UI_PREFIX}/admin/keys/{{key_id}}/revoke")
def keys_revoke(ui: UserDep, form: FormDep, key_id: Annotated[str, Path(max_length=64)]) -> Response:
    principal = _admin(ui).user
    revoke_key(ui.services.store, workspace_id=principal.workspace_id, key_id=key_id)
    if key_id == principal.key_id:
        ui.start_session(None)
        return ui.redirect(f"{UI_PREFIX}/signin")
    return ui.redirect(f"{UI_PREFIX}/admin/keys")


# ---- users ---------------------------------------------------------------------------------


def _users_page(ui: Ui, page: int, *, status_code: int = 200, error: str | None = None) -> Response:
    users = q.clamped(lambda p: UserService(ui.services.store).list(ui.user, p), page, LIST_PAGE)
    teams = TeamService(ui.services.store).list(ui.user, PageRequest(1, 1000)).items
    return _render(
        ui,
        "users",
        status_code=status_code,
        users=users,
        team_names={t["id"]: t["name"] for t in teams},
        error=error,
    )


@router.get(f"{UI_PREFIX}/admin/users")
def users_page(ui: UserDep, page: PageNumber = 1) -> Response:
    return _users_page(_admin(ui), page)


@router.post(f"{UI_PREFIX}/admin/users")
def users_create(ui: UserDep, form: FormDep) -> Response:
    principal = _admin(ui).user
    fields = {
        "email": form.get("email", "").strip(),
        "first_name": form.get("first_name", "").strip(),
        "last_name": form.get("last_name", "").strip(),
        "role": form.get("role", "viewer"),
    }
    return _create(
        ui,
        lambda: UserService(ui.services.store).create(principal, UserWrite.model_validate(fields)),
        lambda error: _users_page(ui, 1, status_code=400, error=error),
        f"{UI_PREFIX}/admin/users",
    )


# ---- teams ---------------------------------------------------------------------------------


def _teams_page(ui: Ui, page: int, *, status_code: int = 200, error: str | None = None) -> Response:
    teams = q.clamped(lambda p: TeamService(ui.services.store).list(ui.user, p), page, LIST_PAGE)
    return _render(ui, "teams", status_code=status_code, teams=teams, error=error)


@router.get(f"{UI_PREFIX}/admin/teams")
def teams_page(ui: UserDep, page: PageNumber = 1) -> Response:
    return _teams_page(_admin(ui), page)


@router.post(f"{UI_PREFIX}/admin/teams")
def teams_create(ui: UserDep, form: FormDep) -> Response:
    principal = _admin(ui).user
    fields = {
        "name": form.get("name", "").strip(),
        "description": form.get("description", "").strip() or None,
    }
    return _create(
        ui,
        lambda: TeamService(ui.services.store).create(principal, TeamWrite.model_validate(fields)),
        lambda error: _teams_page(ui, 1, status_code=400, error=error),
        f"{UI_PREFIX}/admin/teams",
    )


# ---- integrations --------------------------------------------------------------------------


@router.get(f"{UI_PREFIX}/admin/integrations")
def integrations_page(ui: UserDep, page: PageNumber = 1) -> Response:
    principal = _admin(ui).user
    service = ui.services.integrations
    integrations = q.clamped(lambda p: service.list(principal, type=None, paging=p), page, LIST_PAGE)
    return _render(ui, "integrations", integrations=integrations)


# ---- ingestion runs ------------------------------------------------------------------------


@router.get(f"{UI_PREFIX}/admin/runs")
def runs_page(
    ui: UserDep,
    page: PageNumber = 1,
    status: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    principal = _admin(ui).user
    wanted = status if status in STATUSES else None
    service = ExtractionService(ui.services.store)
    runs = q.clamped(lambda p: service.list(principal, ExtractionFilter(status=wanted), p), page, LIST_PAGE)
    return _render(ui, "runs", runs=runs, statuses=STATUSES, status=wanted)
