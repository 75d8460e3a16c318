"""The ASGI application: every dialect's routes over one set of services."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from cairn import web
from cairn.api import dataforce, errors, kontent
from cairn.api.deps import Services
from cairn.api.middleware import BodyLimitMiddleware, CanonicalPathMiddleware
from cairn.api.native import ingest as native_ingest
from cairn.api.native import keys as native_keys
from cairn.api.native import lineage as native_lineage
from cairn.api.native import openlineage as native_openlineage
from cairn.api.native import scan as native_scan
from cairn.api.native import search as native_search
from cairn.api.responses import FastJSONResponse
from cairn.api.secoda import ai as secoda_ai
from cairn.api.secoda import collections as secoda_collections
from cairn.api.secoda import custom_properties as secoda_custom_properties
from cairn.api.secoda import integrations as secoda_integrations
from cairn.api.secoda import lineage as secoda_lineage
from cairn.api.secoda import notifications as secoda_notifications
from cairn.api.secoda import people as secoda_people
from cairn.api.secoda import questions as secoda_questions
from cairn.api.secoda import resources as secoda_resources
from cairn.api.secoda import tags as secoda_tags
from cairn.core.integrations import IntegrationService
from cairn.core.keys import KeyResolver
from cairn.core.ratelimit import WriteRateLimiter, kontent_limiter, limit_from_env, redis_url_from_env
from cairn.core.resources import ResourceService
from cairn.store import Store, database_url_from_env

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
# Metadata files and dbt manifests (import_metadata, upload_artifacts).
DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024


class Health(BaseModel):
    status: str


health_router = APIRouter(tags=["health"])


@health_router.get("/healthcheck", response_model=Health, operation_id="healthcheck")
def healthcheck() -> FastJSONResponse:
    return FastJSONResponse({"status": "OK"})


def build_services(
    store: Store,
    *,
    write_rate_limit: int | None = None,
    kontent_rate_limits: tuple[int | None, int | None] = (None, None),
    redis_url: str | None = None,
) -> Services:
    """``kontent_rate_limits``: (per second, per minute); None takes the environment's or the default."""
    redis_url = redis_url or redis_url_from_env()
    per_second, per_minute = kontent_rate_limits
    return Services(
        store=store,
        keys=KeyResolver(store),
        resources=ResourceService(store),
        integrations=IntegrationService(store),
        write_limiter=WriteRateLimiter(store, limit_from_env(write_rate_limit), redis_url=redis_url),
        kontent_limiter=kontent_limiter(
            store, per_second=per_second, per_minute=per_minute, redis_url=redis_url
        ),
    )


def create_app(
    store: Store | None = None,
    *,
    migrate: bool = True,
    max_body_bytes: int | None = None,
    write_rate_limit: int | None = None,
    kontent_rate_limits: tuple[int | None, int | None] = (None, None),
    redis_url: str | None = None,
) -> FastAPI:
    """``write_rate_limit``: Secoda-face writes per workspace and minute.

    Default: ``$CAIRN_WRITE_RATE_LIMIT``, else 30; 0 disables the limit.
    """
    store = store or Store(database_url_from_env())
    if migrate:
        store.migrate()
    services = build_services(
        store, write_rate_limit=write_rate_limit, kontent_rate_limits=kontent_rate_limits, redis_url=redis_url
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        store.dispose()

    app = FastAPI(
        title="Cairn",
        version="0.1.0",
        description="A self-hosted data catalog. Secoda-, Kontent.ai- and DataForce-compatible APIs.",
        default_response_class=FastJSONResponse,
        lifespan=lifespan,
    )
    app.state.services = services
    errors.install(app)
    app.include_router(health_router)
    # The Kontent.ai and DataForce faces first: routing tries each route in order (twice per
    # included router), and at the end of the list matching was a third of a DataForce
    # get-by-name's event-loop time. No other route matches their paths (tested).
    app.include_router(kontent.router)
    app.include_router(dataforce.router)
    app.include_router(secoda_resources.router)
    app.include_router(secoda_integrations.router)
    app.include_router(native_keys.router)
    app.include_router(native_scan.router)
    app.include_router(native_search.router)
    app.include_router(native_ingest.router)
    app.include_router(native_lineage.router)
    app.include_router(native_openlineage.router)
    # Before collections: ``/tag/tags`` must win over the legacy ``/tag/{collection_id}``.
    app.include_router(secoda_tags.router)
    app.include_router(secoda_collections.router)
    app.include_router(secoda_people.router)
    app.include_router(secoda_notifications.router)
    app.include_router(secoda_custom_properties.router)
    app.include_router(secoda_questions.router)
    app.include_router(secoda_ai.router)
    app.include_router(secoda_lineage.router)
    web.install(app, services)
    limit = max_body_bytes or int(os.environ.get("CAIRN_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))
    upload_limit = int(os.environ.get("CAIRN_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=limit, render=errors.render_raw, upload_max_bytes=upload_limit
    )
    app.add_middleware(CanonicalPathMiddleware)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (each worker process opens its own store)."""
    return create_app()
