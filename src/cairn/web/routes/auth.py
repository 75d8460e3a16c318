"""Sign in with an API key, sign out."""

from __future__ import annotations

from fastapi import APIRouter, Query
from starlette.responses import Response

from cairn.core.errors import AuthenticationFailed
from cairn.web.context import UI_PREFIX, FormDep, UiDep, safe_next
from cairn.web.pages import NavPage

router = APIRouter()
PAGES: list[NavPage] = []
MAX_KEY_LENGTH = 512


@router.get(f"{UI_PREFIX}/signin")
def signin_page(ui: UiDep, next: str | None = Query(None, max_length=2048)) -> Response:
    if ui.principal is not None:
        return ui.redirect(safe_next(next))
    return ui.render("signin.html", next_path=safe_next(next), error=None, title="Sign in")


@router.post(f"{UI_PREFIX}/signin")
def signin(ui: UiDep, form: FormDep) -> Response:
    token = form.get("api_key", "").strip()
    next_path = safe_next(form.get("next"))
    error = None
    if not token:
        error = "Enter an API key."
    elif len(token) > MAX_KEY_LENGTH:
        error = "Invalid API key."
    else:
        try:
            principal = ui.services.keys.resolve(token)
        except AuthenticationFailed as exc:
            error = exc.message
        else:
            ui.start_session(principal.key_id)
            return ui.redirect(next_path)
    return ui.render("signin.html", status_code=400, next_path=next_path, error=error, title="Sign in")


@router.post(f"{UI_PREFIX}/signout")
def signout(ui: UiDep, form: FormDep) -> Response:
    ui.start_session(None)
    ui.principal = None
    return ui.redirect(f"{UI_PREFIX}/signin")
