"""Request dependencies: the services and the authenticated caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from cairn.core.errors import AuthenticationFailed
from cairn.core.integrations import IntegrationService
from cairn.core.keys import KeyResolver
from cairn.core.principal import Principal
from cairn.core.ratelimit import RateLimiter, WriteRateLimiter
from cairn.core.resources import ResourceService
from cairn.store import Store


@dataclass
class Services:
    store: Store
    keys: KeyResolver
    resources: ResourceService
    integrations: IntegrationService
    write_limiter: WriteRateLimiter
    kontent_limiter: RateLimiter


_LIMITED_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Other faces have limits of their own; ingest endpoints (Airflow callbacks, OpenLineage events)
# and read-only POSTs (MCP tool calls) are not entity writes.
_UNLIMITED_PREFIXES = ("/v2/", "/users/", "/organizations", "/ai/", "/integration/run_logs/", "/keys")
_UNLIMITED_PATHS = frozenset({"/lineage", "/lineage/batch"})


KONTENT_PREFIX = "/v2/"


def kontent_write(request: Request) -> bool:
    """Kontent.ai's limits count requests; reads are never limited here (DECISIONS.md)."""
    return request.method in _WRITE_METHODS and request.url.path.startswith(KONTENT_PREFIX)


_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def secoda_write(request: Request) -> bool:
    """Writes Secoda's documented limit applies to: POST, PUT and PATCH on its entity endpoints."""
    if request.method not in _LIMITED_METHODS:
        return False
    path = request.url.path
    return path not in _UNLIMITED_PATHS and not path.startswith(_UNLIMITED_PREFIXES)


# Dependencies are async so FastAPI runs them on the event loop instead of hopping to the
# thread pool once per dependency; only the endpoint itself (which does the I/O) runs in a thread.
# A key is resolved from an in-process cache almost always; a miss costs one indexed lookup.
async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_principal(request: Request) -> Principal:
    header = request.headers.get("authorization")
    if not header:
        raise AuthenticationFailed("Authentication credentials were not provided.")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() not in ("bearer", "token") or not token:
        raise AuthenticationFailed("Use 'Authorization: Bearer <API key>'.")
    services: Services = request.app.state.services
    principal = services.keys.resolve(token)
    if services.write_limiter.enabled and secoda_write(request):
        await run_in_threadpool(services.write_limiter.hit, principal.workspace_id)
    elif services.kontent_limiter.enabled and kontent_write(request):
        await run_in_threadpool(services.kontent_limiter.hit, principal.workspace_id)
    return principal


ServicesDep = Annotated[Services, Depends(get_services)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
