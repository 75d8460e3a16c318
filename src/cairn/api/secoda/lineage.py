"""Secoda dialect: manual lineage objects and lineage from a SQL statement."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from cairn.api.deps import PrincipalDep, ServicesDep
from cairn.api.responses import FastJSONResponse
from cairn.api.secoda.pagination import envelope
from cairn.api.secoda.params import PageParam, PageSizeParam, paging
from cairn.api.secoda.resources import ERRORS, TextParam, text_param
from cairn.core.errors import InvalidInput
from cairn.core.lineage_objects import LineageObjects, ObjectFilter, id_list
from cairn.core.resources import DEFAULT_PAGE_SIZE
from cairn.core.sql_lineage import SqlLineage
from cairn.models.lineage import LineageCreate, LineageObject, LineagePage

router = APIRouter(tags=["lineage"])


class QueryLineage(BaseModel):
    sql: str
    source_tables: list[dict[str, Any]]
    unresolved_tables: list[str]
    column_lineages: list[dict[str, Any]]
    target_table_id: str | None = Field(default=None)


def _one_of(*values: tuple[str, str | None]) -> list[str] | None:
    """``x``, ``x_id`` and ``x__in`` narrow the same end; several of them must all hold."""
    chosen: list[str] | None = None
    for name, value in values:
        ids = id_list(value, name) if name.endswith("__in") else ([value] if value is not None else None)
        if ids is None:
            continue
        chosen = ids if chosen is None else [i for i in chosen if i in ids]
    return chosen


@router.get("/lineage/manual", response_model=LineagePage, responses=ERRORS, operation_id="lineage_list")
def list_lineage(
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    from_entity: TextParam = None,
    from_entity_id: TextParam = None,
    from_entity__in: TextParam = None,
    to_entity: TextParam = None,
    to_entity_id: TextParam = None,
    to_entity__in: TextParam = None,
    integration_type: TextParam = None,
    integration__type: TextParam = None,
    page: PageParam = 1,
    page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
) -> Response:
    params = {
        "from_entity": from_entity,
        "from_entity_id": from_entity_id,
        "from_entity__in": from_entity__in,
        "to_entity": to_entity,
        "to_entity_id": to_entity_id,
        "to_entity__in": to_entity__in,
        "integration_type": integration_type,
        "integration__type": integration__type,
    }
    clean = {k: text_param(v, k) for k, v in params.items()}
    kinds = {v for v in (clean["integration_type"], clean["integration__type"]) if v is not None}
    if len(kinds) > 1:
        raise InvalidInput("integration_type and integration__type disagree", field="integration_type")
    where = ObjectFilter(
        from_ids=_one_of(*((k, clean[k]) for k in ("from_entity", "from_entity_id", "from_entity__in"))),
        to_ids=_one_of(*((k, clean[k]) for k in ("to_entity", "to_entity_id", "to_entity__in"))),
        integration_type=next(iter(kinds), None),
    )
    result = LineageObjects(services.store).list(principal, where, paging(page, page_size))
    return FastJSONResponse(envelope(request, result))


@router.post(
    "/lineage/manual",
    status_code=201,
    response_model=LineageObject,
    responses=ERRORS,
    operation_id="lineage_create",
)
def create_lineage(principal: PrincipalDep, services: ServicesDep, body: LineageCreate) -> Response:
    source = body.from_entity or body.from_entity_id
    target = body.to_entity or body.to_entity_id
    if source is None:
        raise InvalidInput("from_entity is required", field="from_entity")
    if target is None:
        raise InvalidInput("to_entity is required", field="to_entity")
    created = LineageObjects(services.store).create(principal, source, target, body.direction)
    return FastJSONResponse(created, status_code=201)


@router.get(
    "/lineage/manual/{lineage_id}", response_model=LineageObject, responses=ERRORS, operation_id="lineage_get"
)
def get_lineage(lineage_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    return FastJSONResponse(LineageObjects(services.store).get(principal, lineage_id))


@router.delete(
    "/lineage/manual/{lineage_id}", status_code=204, responses=ERRORS, operation_id="lineage_delete"
)
def delete_lineage(lineage_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    LineageObjects(services.store).delete(principal, lineage_id)
    return Response(status_code=204)


@router.get(
    "/lineage/lineage_from_query",
    response_model=QueryLineage,
    responses=ERRORS,
    operation_id="lineage_from_query",
)
def lineage_from_query(
    principal: PrincipalDep,
    services: ServicesDep,
    sql: TextParam = None,
    dialect: TextParam = None,
    table_id: TextParam = None,
    database: TextParam = None,
    schema: TextParam = None,
) -> Response:
    text = text_param(sql, "sql")
    if text is None:
        raise InvalidInput("sql is required", field="sql")
    result = SqlLineage(services.store).from_query(
        principal,
        text,
        dialect=text_param(dialect, "dialect"),
        database=text_param(database, "database"),
        schema=text_param(schema, "schema"),
        table_id=text_param(table_id, "table_id"),
    )
    return FastJSONResponse(result)
