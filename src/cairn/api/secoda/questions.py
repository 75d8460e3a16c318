"""Secoda dialect: questions and replies, event categories and event properties."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from cairn.api.deps import PrincipalDep, ServicesDep
from cairn.api.responses import FastJSONResponse
from cairn.api.secoda.pagination import envelope
from cairn.api.secoda.params import PageParam, PageSizeParam, paging
from cairn.api.secoda.resources import ERRORS, TextParam, text_param
from cairn.core import filters as flt
from cairn.core.errors import InvalidInput, NotFound
from cairn.core.questions import QuestionService, event_property_json
from cairn.core.resources import DEFAULT_PAGE_SIZE
from cairn.models.common import InputModel
from cairn.models.questions import (
    EventProperty,
    EventPropertyFields,
    EventPropertyPage,
    Question,
    QuestionFields,
    QuestionPage,
    Reply,
    ReplyFields,
    ReplyPage,
)
from cairn.models.resources import Resource, ResourcePage, ResourceWrite

router = APIRouter()


class NoFields(InputModel):
    """Event categories have only the entity's own fields."""


F = TypeVar("F", bound=BaseModel)
RawBody = Annotated[dict[str, Any], Body()]


def split_body(raw: dict[str, Any], fields_model: type[F]) -> tuple[ResourceWrite, F]:
    """The entity fields and the type's own fields of one body; the route decides the entity type
    (pysecoda sends ``entity_type`` "glossary" or "" here)."""
    data = {k: v for k, v in raw.items() if k != "entity_type"}
    try:
        return ResourceWrite.model_validate(data), fields_model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc


# ---- questions -----------------------------------------------------------------------------------

Q = "/question/questions"


@router.get(
    Q, response_model=QuestionPage, responses=ERRORS, operation_id="questions_list", tags=["questions"]
)
def list_questions(
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    page: PageParam = 1,
    page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
) -> Response:
    result = QuestionService(services.store).list_questions(principal, paging(page, page_size))
    return FastJSONResponse(envelope(request, result))


@router.post(
    Q,
    status_code=201,
    response_model=Question,
    responses=ERRORS,
    operation_id="questions_create",
    tags=["questions"],
)
def create_question(principal: PrincipalDep, services: ServicesDep, body: RawBody) -> Response:
    write, fields = split_body(body, QuestionFields)
    return FastJSONResponse(
        QuestionService(services.store).create_question(principal, write, fields), status_code=201
    )


@router.get(
    Q + "/{question_id}",
    response_model=Question,
    responses=ERRORS,
    operation_id="questions_get",
    tags=["questions"],
)
def get_question(question_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    return FastJSONResponse(QuestionService(services.store).get_question(principal, question_id))


@router.patch(
    Q + "/{question_id}",
    response_model=Question,
    responses=ERRORS,
    operation_id="questions_update",
    tags=["questions"],
)
def update_question(
    question_id: str, principal: PrincipalDep, services: ServicesDep, body: RawBody
) -> Response:
    write, fields = split_body(body, QuestionFields)
    return FastJSONResponse(
        QuestionService(services.store).update_question(principal, question_id, write, fields)
    )


@router.delete(
    Q + "/{question_id}",
    status_code=204,
    responses=ERRORS,
    operation_id="questions_delete",
    tags=["questions"],
)
def delete_question(question_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    services.resources.delete(principal, question_id, entity_type="question")
    return Response(status_code=204)


# ---- replies -------------------------------------------------------------------------------------

RP = "/question/replies"


@router.get(RP, response_model=ReplyPage, responses=ERRORS, operation_id="replies_list", tags=["questions"])
def list_replies(
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    question: TextParam = None,
    parent: TextParam = None,
    page: PageParam = 1,
    page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
) -> Response:
    question_id = text_param(question, "question") or None
    parent_id = text_param(parent, "parent") or None
    if question_id and parent_id and question_id != parent_id:
        raise InvalidInput("question and parent name different questions", field="parent")
    result = QuestionService(services.store).list_replies(
        principal, paging(page, page_size), question=question_id or parent_id
    )
    return FastJSONResponse(envelope(request, result))


@router.post(
    RP,
    status_code=201,
    response_model=Reply,
    responses=ERRORS,
    operation_id="replies_create",
    tags=["questions"],
)
def create_reply(principal: PrincipalDep, services: ServicesDep, body: RawBody) -> Response:
    write, fields = split_body(body, ReplyFields)
    return FastJSONResponse(
        QuestionService(services.store).create_reply(principal, write, fields), status_code=201
    )


@router.get(
    RP + "/{reply_id}", response_model=Reply, responses=ERRORS, operation_id="replies_get", tags=["questions"]
)
def get_reply(reply_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    return FastJSONResponse(QuestionService(services.store).get_reply(principal, reply_id))


@router.patch(
    RP + "/{reply_id}",
    response_model=Reply,
    responses=ERRORS,
    operation_id="replies_update",
    tags=["questions"],
)
def update_reply(reply_id: str, principal: PrincipalDep, services: ServicesDep, body: RawBody) -> Response:
    write, fields = split_body(body, ReplyFields)
    return FastJSONResponse(QuestionService(services.store).update_reply(principal, reply_id, write, fields))


@router.delete(
    RP + "/{reply_id}", status_code=204, responses=ERRORS, operation_id="replies_delete", tags=["questions"]
)
def delete_reply(reply_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    QuestionService(services.store).delete_reply(principal, reply_id)
    return Response(status_code=204)


# ---- event categories ----------------------------------------------------------------------------

EC = "/event/category"


@router.get(
    EC, response_model=ResourcePage, responses=ERRORS, operation_id="event_categories_list", tags=["events"]
)
def list_categories(
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    page: PageParam = 1,
    page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
) -> Response:
    result = services.resources.list(
        principal, filter_node=flt.exact("entity_type", "category"), paging=paging(page, page_size)
    )
    return FastJSONResponse(envelope(request, result))


@router.post(
    EC,
    status_code=201,
    response_model=Resource,
    responses=ERRORS,
    operation_id="event_categories_create",
    tags=["events"],
)
def create_category(principal: PrincipalDep, services: ServicesDep, body: RawBody) -> Response:
    write, _ = split_body(body, NoFields)
    return FastJSONResponse(
        services.resources.create(principal, write, entity_type="category"), status_code=201
    )


@router.get(
    EC + "/{category_id}",
    response_model=Resource | EventProperty,
    responses=ERRORS,
    operation_id="event_categories_get",
    tags=["events"],
    summary="An event category (an event property's id is answered too: pysecoda looks them up here)",
)
def get_category(category_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    entity = services.resources.get(principal, category_id)
    if entity["entity_type"] == "event_property":
        return FastJSONResponse(event_property_json(entity))
    if entity["entity_type"] != "category":
        raise NotFound("Not found.")
    return FastJSONResponse(entity)


@router.patch(
    EC + "/{category_id}",
    response_model=Resource,
    responses=ERRORS,
    operation_id="event_categories_update",
    tags=["events"],
)
def update_category(
    category_id: str, principal: PrincipalDep, services: ServicesDep, body: RawBody
) -> Response:
    write, _ = split_body(body, NoFields)
    return FastJSONResponse(
        services.resources.update(
            principal, category_id, write, entity_type="category", allow_type_change=False
        )
    )


@router.delete(
    EC + "/{category_id}",
    status_code=204,
    responses=ERRORS,
    operation_id="event_categories_delete",
    tags=["events"],
)
def delete_category(category_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    services.resources.delete(principal, category_id, entity_type="category")
    return Response(status_code=204)


# ---- event properties ----------------------------------------------------------------------------

EP = "/event/event_properties"


@router.post(
    "/event/property",
    status_code=201,
    response_model=EventProperty,
    responses=ERRORS,
    operation_id="event_properties_create",
    tags=["events"],
)
def create_event_property(principal: PrincipalDep, services: ServicesDep, body: RawBody) -> Response:
    write, fields = split_body(body, EventPropertyFields)
    return FastJSONResponse(
        QuestionService(services.store).create_event_property(principal, write, fields), status_code=201
    )


router.add_api_route(
    EP,
    create_event_property,
    methods=["POST"],
    status_code=201,
    response_model=EventProperty,
    responses=ERRORS,
    operation_id="event_properties_create_alias",
    tags=["events"],
)


@router.get(
    EP,
    response_model=EventPropertyPage,
    responses=ERRORS,
    operation_id="event_properties_list",
    tags=["events"],
)
def list_event_properties(
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    page: PageParam = 1,
    page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
) -> Response:
    result = QuestionService(services.store).list_event_properties(principal, paging(page, page_size))
    return FastJSONResponse(envelope(request, result))


@router.get(
    EP + "/{property_id}",
    response_model=EventProperty,
    responses=ERRORS,
    operation_id="event_properties_get",
    tags=["events"],
)
def get_event_property(property_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    return FastJSONResponse(QuestionService(services.store).get_event_property(principal, property_id))


@router.patch(
    EP + "/{property_id}",
    response_model=EventProperty,
    responses=ERRORS,
    operation_id="event_properties_update",
    tags=["events"],
)
def update_event_property(
    property_id: str, principal: PrincipalDep, services: ServicesDep, body: RawBody
) -> Response:
    write, fields = split_body(body, EventPropertyFields)
    return FastJSONResponse(
        QuestionService(services.store).update_event_property(principal, property_id, write, fields)
    )


@router.delete(
    EP + "/{property_id}",
    status_code=204,
    responses=ERRORS,
    operation_id="event_properties_delete",
    tags=["events"],
)
def delete_event_property(property_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    services.resources.delete(principal, property_id, entity_type="event_property")
    return Response(status_code=204)
