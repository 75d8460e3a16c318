"""Error bodies per dialect. The core raises one set of errors; each face words them its way."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from cairn.core.errors import CairnError, RateLimited

KONTENT_PREFIX = "/v2/"

# Kontent.ai error codes by status (5 is "invalid request body", 10000 "rate limit").
_KONTENT_CODES = {400: 5, 401: 1, 403: 7, 404: 2, 405: 3, 413: 5, 429: 10000}


def dialect_for(path: str) -> str:
    return "kontent" if path.startswith(KONTENT_PREFIX) else "secoda"


def error_body(
    path: str, status: int, message: str, fields: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    if dialect_for(path) == "kontent":
        details = [f"{k}: {m}" if k else m for k, msgs in (fields or {}).items() for m in msgs]
        return {
            "request_id": str(uuid.uuid4()),
            "error_code": _KONTENT_CODES.get(status, status),
            "message": message,
            "validation_errors": [{"message": d} for d in details] or [{"message": message}],
        }
    body: dict[str, Any] = {"detail": message}
    if fields:
        body["fields"] = fields
    return body


HtmlErrors = tuple[Callable[[str], bool], Callable[[Request, int, str], Response]]


def render_raw(path: str, status: int, message: str) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    return orjson.dumps(error_body(path, status, message)), []


def _response(
    request: Request,
    status: int,
    message: str,
    fields: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    # A face that speaks HTML (the web UI) registers itself here; its paths get its pages.
    html: HtmlErrors | None = getattr(request.app.state, "html_errors", None)
    if html is not None and html[0](request.url.path):
        page = html[1](request, status, message)
        if headers:
            page.headers.update(headers)
        return page
    body = error_body(request.url.path, status, message, fields)
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def _loc_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(CairnError)
    async def _cairn_error(request: Request, exc: CairnError) -> Response:
        fields = {exc.field: [exc.message]} if exc.field else None
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        return _response(request, exc.status_code, exc.message, fields, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        fields: dict[str, list[str]] = {}
        for err in exc.errors():
            loc = ("body",) if err.get("type") == "json_invalid" else tuple(err.get("loc", ()))
            fields.setdefault(_loc_name(loc), []).append(str(err.get("msg", "invalid")))
        first_field, first_msgs = next(iter(fields.items()), ("body", ["invalid request"]))
        message = f"Invalid value for '{first_field}': {first_msgs[0]}"
        return _response(request, 400, message, fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        if exc.status_code == 404 and message == "Not Found":
            message = "Not found."
        if exc.status_code == 405:
            message = f'Method "{request.method}" not allowed.'
        return _response(request, exc.status_code, message, headers=getattr(exc, "headers", None))
