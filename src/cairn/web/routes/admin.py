"""Administration: the workspace's API keys (list, create, revoke). Admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.responses import Response

from cairn.core.errors import InvalidInput
from cairn.core.keys import create_key, list_keys, revoke_key
from cairn.core.principal import ROLES
from cairn.web.context import UI_PREFIX, FormDep, Ui, UserDep
from cairn.web.pages import NavPage, admins

router = APIRouter()
PAGES = [NavPage("admin", "Admin", f"{UI_PREFIX}/admin/keys", 90, shown_to=admins)]
MAX_NAME = 200


def _page(ui: Ui, *, status_code: int = 200, created: object = None, error: str | None = None) -> Response:
    principal = ui.user
    keys = list_keys(ui.services.store, workspace_id=principal.workspace_id)
    return ui.render(
        "admin_keys.html",
        status_code=status_code,
        title="API keys",
        keys=keys,
        roles=ROLES,
        created=created,
        error=error,
    )


@router.get(f"{UI_PREFIX}/admin/keys")
def keys_page(ui: UserDep) -> Response:
    ui.user.require_admin()
    return _page(ui)


@router.post(f"{UI_PREFIX}/admin/keys")
def keys_create(ui: UserDep, form: FormDep) -> Response:
    principal = ui.user
    principal.require_admin()
    name = form.get("name", "").strip()
    role = form.get("role", "")
    try:
        if len(name) > MAX_NAME:
            raise InvalidInput(f"name must be at most {MAX_NAME} characters", field="name")
        created = create_key(ui.services.store, workspace_id=principal.workspace_id, name=name, role=role)
    except InvalidInput as exc:
        return _page(ui, status_code=400, error=exc.message)
    # The token is shown once, in this response only; the store keeps its digest.
    return _page(ui, created=created)


@router.post(f"{UI_PREFIX}/admin/keys/{{key_id}}/revoke")
def keys_revoke(ui: UserDep, form: FormDep, key_id: Annotated[str, Path(max_length=64)]) -> Response:
    principal = ui.user
    principal.require_admin()
    revoke_key(ui.services.store, workspace_id=principal.workspace_id, key_id=key_id)
    if key_id == principal.key_id:
        ui.start_session(None)
        return ui.redirect(f"{UI_PREFIX}/signin")
    return ui.redirect(f"{UI_PREFIX}/admin/keys")
