"""ASGI middleware: one canonical path per route, and a bound on request bodies.

Secoda clients call every route with and without ``/api/v1`` and with and without a trailing
slash, and some POST (which ``requests`` would turn into a GET on a redirect). So the path is
rewritten in place, never redirected; the original is kept for building ``links``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ORIGINAL_PATH_KEY = "cairn.original_path"
PREFIX = "/api/v1"


# pysecoda's list loops request ``base + "/" + links.next``, i.e. a whole URL inside the path
# (``/https://host/tag/?page=2``); that breaks against real Secoda too. The embedded scheme and
# host are dropped and the rest is served as if it had been asked for directly.
_EMBEDDED_URL = re.compile(r"^/+https?:/+[^/]*")


def strip_embedded_url(path: str) -> str:
    match = _EMBEDDED_URL.match(path)
    if match is None:
        return path
    return path[match.end() :] or "/"


def canonical_path(path: str) -> str:
    if path == PREFIX or path.startswith(PREFIX + "/"):
        path = path[len(PREFIX) :] or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return path


class CanonicalPathMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            original = strip_embedded_url(scope["path"])
            scope = dict(scope)
            scope[ORIGINAL_PATH_KEY] = original
            scope["path"] = canonical_path(original)
            scope["raw_path"] = scope["path"].encode("utf-8", "surrogateescape")
        await self.app(scope, receive, send)


UPLOAD_SUFFIXES = (
    "/import_metadata",
    "/upload_artifacts",
    "/integration/dbt/manifest",
    "/integration/dbt/run_results",
)

ErrorRenderer = Callable[[str, int, str], tuple[bytes, list[tuple[bytes, bytes]]]]


class BodyLimitMiddleware:
    """Refuse bodies over ``max_bytes`` with a 413 in the caller's dialect, before any work."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        render: ErrorRenderer,
        upload_max_bytes: int | None = None,
    ) -> None:
        self.app = app
        self.default_max_bytes = max_bytes
        self.upload_max_bytes = upload_max_bytes or max_bytes
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Metadata files and dbt manifests are far larger than any JSON request.
        is_upload = canonical_path(scope["path"]).endswith(UPLOAD_SUFFIXES)
        limit = self.upload_max_bytes if is_upload else self.default_max_bytes
        declared = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
                break
        if declared is not None and declared > limit:
            await self._reject(scope, send, limit)
            return
        if declared is not None:
            await self.app(scope, receive, send)
            return
        # No length given (chunked): buffer up to the limit, then replay.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            body = message.get("body", b"")
            size += len(body)
            if size > limit:
                await self._reject(scope, send, limit)
                return
            chunks.append(body)
            more = message.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, scope: Scope, send: Send, limit: int) -> None:
        message = f"Request body is larger than {limit} bytes."
        body, headers = self.render(canonical_path(scope["path"]), 413, message)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    *headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def json_bytes(data: Any) -> bytes:
    return orjson.dumps(data)
