"""``GET /search``: Cairn's own search endpoint (errors as ``{"detail": ...}``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import ValidationError

from cairn.api.deps import PrincipalDep, ServicesDep
from cairn.api.responses import FastJSONResponse
from cairn.api.secoda.resources import ERRORS
from cairn.core.errors import InvalidInput
from cairn.core.search import SearchService
from cairn.models.search import (
    DEFAULT_SEARCH_PAGE_SIZE,
    MAX_QUERY_LENGTH,
    MAX_SEARCH_PAGE_SIZE,
    SearchQuery,
    SearchResult,
)

router = APIRouter(tags=["search"])

ListParam = Annotated[
    list[str] | None,
    Query(description="Repeat the parameter or separate values with commas; any value matches."),
]


def _values(raw: list[str] | None) -> list[str]:
    return [v.strip() for item in raw or [] for v in item.split(",") if v.strip()]


@router.get("/search", response_model=SearchResult, responses=ERRORS, operation_id="search")
def search(
    principal: PrincipalDep,
    services: ServicesDep,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_LENGTH, description="The words to find")],
    entity_type: ListParam = None,
    integration: ListParam = None,
    database: ListParam = None,
    schema: ListParam = None,
    tags: ListParam = None,
    owners: ListParam = None,
    collections: ListParam = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_SEARCH_PAGE_SIZE)] = DEFAULT_SEARCH_PAGE_SIZE,
) -> Response:
    try:
        query = SearchQuery.model_validate(
            {
                "q": q,
                "entity_type": _values(entity_type),
                "integration": _values(integration),
                "database": _values(database),
                "schema": _values(schema),
                "tags": _values(tags),
                "owners": _values(owners),
                "collections": _values(collections),
                "page": page,
                "page_size": page_size,
            }
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error.get("loc") else "q"
        raise InvalidInput(f"Invalid value for '{field}': {error['msg']}", field=field) from exc
    result = SearchService(services.store).search(principal, query)
    return FastJSONResponse(result.model_dump(mode="json"))
