"""``POST /ingest/sql``: crawl a database into the workspace (admins; the SDK and CLI call the same core)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from cairn.api.deps import PrincipalDep, ServicesDep
from cairn.api.responses import FastJSONResponse
from cairn.api.secoda.resources import ERRORS
from cairn.connectors.sql import crawl_sql
from cairn.models.ingest import IngestSummary, SqlIngestRequest

router = APIRouter(tags=["ingest"])


@router.post("/ingest/sql", response_model=IngestSummary, responses=ERRORS, operation_id="ingest_sql")
def ingest_sql(body: SqlIngestRequest, principal: PrincipalDep, services: ServicesDep) -> Response:
    principal.require_admin()
    summary = crawl_sql(
        services.store,
        principal,
        body.url,
        integration=body.integration,
        include=body.include,
        exclude=body.exclude,
    )
    return FastJSONResponse(summary.as_dict())
