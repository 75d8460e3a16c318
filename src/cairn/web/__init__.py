"""The web UI: server-rendered pages (Jinja2) made live with htmx, mounted on the API app.

Pages live under ``/ui`` (the home page is also served at ``/`` itself, without a redirect), call
the core services in-process with the signed-in caller's ``Principal``, and so see exactly what
that key would see through the API.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import RedirectResponse, Response

from cairn.api.deps import Services
from cairn.web.assets import StaticAssets
from cairn.web.context import (
    UI_PREFIX,
    SignInRequired,
    Ui,
    WebState,
    build_environment,
    sign_in_url,
)
from cairn.web.pages import PageRegistry
from cairn.web.routes import admin, auth, catalog, collections, glossary, home, lineage, resource, search
from cairn.web.session import SessionCodec, secret_from_env

# Each module brings a router and the pages it adds to the navigation.
MODULES = (auth, home, search, catalog, collections, glossary, resource, lineage, admin)

HEADINGS = {
    400: "That did not work",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "Conflict",
    412: "Changed meanwhile",
    413: "Too large",
    429: "Slow down",
}


def is_ui_path(path: str) -> bool:
    # ``/`` is the home page; every other root path belongs to the API faces.
    return path in ("/", UI_PREFIX) or path.startswith(UI_PREFIX + "/")


def render_error(request: Request, status: int, message: str) -> Response:
    """Errors on UI paths as pages (or, for htmx, as a message in the page's status area)."""
    if status == 401:
        return RedirectResponse(sign_in_url(request.url.path), status_code=303)
    ui: Ui | None = getattr(request.state, "ui", None)
    web: WebState = request.app.state.web
    if ui is None:
        from cairn.web.session import Session

        ui = Ui(request=request, web=web, session=Session.fresh(), principal=None)
    if ui.is_htmx:
        response = ui.render("error_fragment.html", status_code=status, message=message)
        # Show the message in the status area instead of replacing the element that asked.
        response.headers["HX-Retarget"] = "#flash"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    heading = HEADINGS.get(status, "Something went wrong")
    return ui.render("error.html", status_code=status, title=heading, heading=heading, message=message)


def install(app: FastAPI, services: Services, *, secret: str | None = None) -> None:
    assets = StaticAssets()
    pages = PageRegistry()
    for module in MODULES:
        for page in module.PAGES:
            pages.add(page)
    app.state.web = WebState(
        services=services,
        codec=SessionCodec(secret or secret_from_env()),
        assets=assets,
        env=build_environment(assets),
        pages=pages,
    )

    app.state.html_errors = (is_ui_path, render_error)

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        ui: Ui | None = getattr(request.state, "ui", None)
        url = sign_in_url(exc.next_path)
        if ui is not None:
            return ui.redirect(url)
        return RedirectResponse(url, status_code=303)

    root = APIRouter(include_in_schema=False)

    @root.get(f"{UI_PREFIX}/static/{{name}}")
    def _static(request: Request, name: str) -> Response:
        return assets.response(request, name)

    app.include_router(root)
    for module in MODULES:
        app.include_router(module.router, include_in_schema=False)


__all__ = ["MODULES", "install", "is_ui_path", "render_error"]
