"""Per-app and per-request state of the UI: templates, assets, the session and the caller."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse, Response

from cairn.api.deps import Services
from cairn.core.errors import AuthenticationFailed, PermissionDenied
from cairn.core.principal import Principal
from cairn.web.assets import StaticAssets
from cairn.web.markdown import render_markdown
from cairn.web.pages import PageRegistry
from cairn.web.session import COOKIE_NAME, CSRF_FIELD, CSRF_HEADER, Session, SessionCodec

UI_PREFIX = "/ui"

# Scripts and styles come only from our own origin, and no page may be framed. The UI uses no
# inline script, no ``hx-on`` and no ``js:`` values, so htmx needs no ``unsafe-eval``.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class SignInRequired(Exception):
    """Raised by pages that need a caller; answered with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def short_date(value: str | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        return parsed.strftime("%Y-%m-%d %H:%M UTC")
    return value.strftime("%Y-%m-%d %H:%M UTC")


def type_label(entity_type: str | None) -> str:
    labels = {"dashboard_group": "dashboard group", "job_group": "job group", "glossary": "glossary term"}
    kind = entity_type or "resource"
    return labels.get(kind, kind.replace("_", " "))


def build_environment(assets: StaticAssets) -> Environment:
    env = Environment(
        loader=PackageLoader("cairn.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["markdown"] = render_markdown
    env.filters["short_date"] = short_date
    env.filters["type_label"] = type_label
    env.globals["static"] = assets.url
    return env


@dataclass
class WebState:
    """What the UI keeps for the life of the app."""

    services: Services
    codec: SessionCodec
    assets: StaticAssets
    env: Environment
    pages: PageRegistry
    secure_cookies: bool = field(default_factory=lambda: os.environ.get("CAIRN_COOKIE_SECURE") == "1")


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


@dataclass
class Ui:
    """One UI request: its session, the signed-in caller (if any) and the response helpers."""

    request: Request
    web: WebState
    session: Session
    principal: Principal | None
    set_cookie: bool = False

    @property
    def services(self) -> Services:
        return self.web.services

    @property
    def csrf_token(self) -> str:
        return self.web.codec.csrf_token(self.session)

    @property
    def is_htmx(self) -> bool:
        return self.request.headers.get("hx-request") == "true"

    @property
    def user(self) -> Principal:
        if self.principal is None:
            raise SignInRequired(self.request.url.path)
        return self.principal

    @property
    def can_write(self) -> bool:
        return self.principal is not None and self.principal.can_write

    def start_session(self, key_id: str | None) -> None:
        """A new nonce on every sign-in and sign-out: old CSRF tokens stop working."""
        self.session = Session.fresh(key_id)
        self.set_cookie = True

    def render(self, template: str, *, status_code: int = 200, **context: Any) -> Response:
        page = self.web.env.get_template(template)
        html = page.render(
            ui=self,
            principal=self.principal,
            nav=self.web.pages.nav(self.principal),
            csrf_field=CSRF_FIELD,
            current_path=UI_PREFIX if self.request.url.path == "/" else self.request.url.path,
            **context,
        )
        response = HTMLResponse(html, status_code=status_code)
        return self.finish(response)

    def redirect(self, url: str) -> Response:
        if self.is_htmx:
            response: Response = Response(status_code=200, headers={"HX-Redirect": url})
        else:
            response = RedirectResponse(url, status_code=303)
        return self.finish(response)

    def finish(self, response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        # Pages hold what this caller may see; neither shared caches nor the back button keep them.
        response.headers["Cache-Control"] = "no-store"
        response.headers["Vary"] = "Cookie, HX-Request"
        if self.set_cookie:
            response.set_cookie(
                COOKIE_NAME,
                self.web.codec.dumps(self.session),
                max_age=self.web.codec.max_age,
                path="/",
                httponly=True,
                samesite="lax",
                secure=self.web.secure_cookies or self.request.url.scheme == "https",
            )
        return response


async def get_ui(request: Request) -> Ui:
    web = web_state(request)
    session = web.codec.loads(request.cookies.get(COOKIE_NAME))
    ui = Ui(request=request, web=web, session=session or Session.fresh(), principal=None)
    if session is None:
        ui.set_cookie = True
    elif session.key_id is not None:
        try:
            ui.principal = web.services.keys.resolve_id(session.key_id)
        except AuthenticationFailed:
            ui.start_session(None)
    request.state.ui = ui
    return ui


async def get_user_ui(request: Request, ui: Annotated[Ui, Depends(get_ui)]) -> Ui:
    if ui.principal is None:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        raise SignInRequired(target)
    return ui


def same_origin(request: Request) -> bool:
    """Browsers send Origin on POST; when present it must name this server."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc == host


async def csrf_form(request: Request, ui: Annotated[Ui, Depends(get_ui)]) -> dict[str, str]:
    """The submitted form, after the CSRF token and the origin have been checked."""
    form = await request.form()
    token = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
    valid = ui.web.codec.check_csrf(ui.session, token if isinstance(token, str) else None)
    if not same_origin(request) or not valid:
        raise PermissionDenied(
            "The form has expired or did not come from this site. Reload the page and try again."
        )
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def csrf_form_lists(request: Request, form: Annotated[dict[str, str], Depends(csrf_form)]) -> FormLists:
    """Every value of every field (checkbox lists), after the same CSRF and origin checks."""
    data = await request.form()  # parsed once per request; csrf_form read the same object
    return {key: [v for v in data.getlist(key) if isinstance(v, str)] for key in data}


FormLists = dict[str, list[str]]


def sign_in_url(next_path: str) -> str:
    return f"{UI_PREFIX}/signin?next={quote(next_path, safe='/')}"


def safe_next(value: str | None) -> str:
    """Only paths inside the UI: never another host (``//evil``) or a scheme."""
    if (
        not value
        or "\\" in value
        or not (value in ("/", UI_PREFIX) or value.startswith((UI_PREFIX + "/", UI_PREFIX + "?")))
    ):
        return UI_PREFIX
    return value


UiDep = Annotated[Ui, Depends(get_ui)]
UserDep = Annotated[Ui, Depends(get_user_ui)]
FormDep = Annotated[dict[str, str], Depends(csrf_form)]
FormListsDep = Annotated[FormLists, Depends(csrf_form_lists)]
