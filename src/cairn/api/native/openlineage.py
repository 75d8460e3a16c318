"""OpenLineage receiver: ``POST /api/v1/lineage`` (one event, or an array) and ``/api/v1/lineage/batch``.

The official clients' HTTP transport posts each event to ``{url}/api/v1/lineage``; the batch
form takes a JSON array. Editors and admins may send events (a pipeline's key).
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from cairn.api.deps import PrincipalDep, ServicesDep
from cairn.api.responses import FastJSONResponse
from cairn.api.secoda.resources import ERRORS
from cairn.connectors.openlineage import ingest_events
from cairn.models.openlineage import LineageEvent, LineageReceipt

router = APIRouter(tags=["openlineage"])


@router.post(
    "/lineage",
    status_code=201,
    response_model=LineageReceipt,
    responses=ERRORS,
    operation_id="openlineage_event",
)
def receive_event(
    body: LineageEvent | list[LineageEvent], principal: PrincipalDep, services: ServicesDep
) -> Response:
    events = body if isinstance(body, list) else [body]
    return FastJSONResponse(ingest_events(services.store, principal, events), status_code=201)


@router.post(
    "/lineage/batch",
    status_code=201,
    response_model=LineageReceipt,
    responses=ERRORS,
    operation_id="openlineage_batch",
)
def receive_batch(body: list[LineageEvent], principal: PrincipalDep, services: ServicesDep) -> Response:
    return FastJSONResponse(ingest_events(services.store, principal, body), status_code=201)
