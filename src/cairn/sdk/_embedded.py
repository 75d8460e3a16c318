"""Embedded mode: ``cairn.Catalog("catalog.db")`` serves the SDK from the real app in-process.

The requests go through the same ASGI application a server runs (same routes, rules and error
bodies), only without a socket: there is one code path, and a script can move between a local
file and a server by changing one line. The caller acts as an admin of the default workspace.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import httpx

from cairn.sdk._base import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from cairn.sdk._client import AsyncClient, Client

if TYPE_CHECKING:
    from fastapi import FastAPI

    from cairn.store import Store

EMBEDDED_URL = "http://cairn.embedded"


def _embedded_app(database: str | None) -> tuple[Store, FastAPI]:
    from cairn.api.app import create_app
    from cairn.api.deps import get_principal
    from cairn.core.principal import Principal, system_principal
    from cairn.core.tenancy import default_workspace
    from cairn.store import Store, database_url_from_env

    store = Store(database_url_from_env(database), pool_size=2)
    store.migrate()
    workspace = default_workspace(store)
    principal = system_principal(workspace.id, workspace.organization_id)
    # In-process callers are not rate limited: the limit protects a shared server from its clients.
    app = create_app(store, migrate=False, write_rate_limit=0)

    async def local_principal() -> Principal:
        return principal

    app.dependency_overrides[get_principal] = local_principal
    return store, app


class BlockingASGITransport(httpx.BaseTransport):
    """httpx's ASGI transport is async only: this one runs the app on an event loop in a helper
    thread (an anyio blocking portal, as Starlette's TestClient does) and blocks for each answer."""

    def __init__(self, app: Any) -> None:
        import anyio.from_thread

        self._stack = ExitStack()
        self._portal = self._stack.enter_context(anyio.from_thread.start_blocking_portal())
        self._inner = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        content = request.read()

        async def call() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            inner = httpx.Request(request.method, request.url, headers=request.headers, content=content)
            response = await self._inner.handle_async_request(inner)
            return response.status_code, response.headers.raw, await response.aread()

        status, headers, body = self._portal.call(call)
        return httpx.Response(status, headers=headers, content=body, request=request)

    def close(self) -> None:
        self._stack.close()


class Catalog(Client):
    """The SDK on a local database, no server: ``Catalog("catalog.db")`` or a PostgreSQL URL.

    >>> with cairn.Catalog("catalog.db") as catalog:
    ...     db = catalog.resources.create(title="analytics", entity_type="database", integration=...)
    ...     [r.title for r in catalog.resources.list(filter=F.type == "table")]

    With no argument it opens ``$CAIRN_DATABASE_URL`` (default ``./cairn.db``), migrating it first.
    """

    def __init__(
        self,
        database: str | None = None,
        *,
        collection: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        self._store, app = _embedded_app(database)
        transport = BlockingASGITransport(app)
        super().__init__(
            EMBEDDED_URL,
            collection=collection,
            timeout=timeout,
            max_retries=DEFAULT_MAX_RETRIES,
            http_client=httpx.Client(transport=transport, timeout=timeout),
            _require_key=False,
        )

    def close(self) -> None:
        super().close()
        self._store.dispose()


class AsyncCatalog(AsyncClient):
    """``Catalog`` for asyncio code: ``async with cairn.AsyncCatalog("catalog.db") as catalog: ...``."""

    def __init__(
        self,
        database: str | None = None,
        *,
        collection: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        self._store, app = _embedded_app(database)
        super().__init__(
            EMBEDDED_URL,
            collection=collection,
            timeout=timeout,
            max_retries=DEFAULT_MAX_RETRIES,
            http_client=httpx.AsyncClient(transport=httpx.ASGITransport(app=app), timeout=timeout),
            _require_key=False,
        )

    async def aclose(self) -> None:
        await super().aclose()
        self._store.dispose()
