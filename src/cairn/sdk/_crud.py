"""Operation building blocks shared by the namespaces (each one request, parsed into a model)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from cairn.sdk._errors import InvalidInputError
from cairn.sdk._ops import Call, Req
from cairn.sdk._pagination import PageQuery, numbered

M = TypeVar("M", bound=BaseModel)
W = TypeVar("W", bound=BaseModel)


def body(write_model: type[W], data: BaseModel | Mapping[str, Any] | None, fields: Mapping[str, Any]) -> Any:
    """A write body checked against the server's own input model; only the fields given are sent."""
    if isinstance(data, BaseModel):
        merged: dict[str, Any] = {**data.model_dump(exclude_unset=True), **fields}
    else:
        merged = {**(data or {}), **fields}
    try:
        checked = write_model.model_validate(merged)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
        raise InvalidInputError(f"invalid {write_model.__name__}: {problems}") from None
    return checked.model_dump(mode="json", exclude_unset=True)


def fetch(model: type[M], path: str, params: dict[str, str] | None = None) -> Call[M]:
    reply = yield Req("GET", path, params=params)
    return model.model_validate_json(reply.content)


def fetch_list(model: type[M], path: str) -> Call[list[M]]:
    reply = yield Req("GET", path)
    return TypeAdapter(list[model]).validate_json(reply.content)  # type: ignore[valid-type]


def send(model: type[M], method: str, path: str, payload: Any) -> Call[M]:
    reply = yield Req(method, path, json=payload)
    return model.model_validate_json(reply.content)


def remove(path: str) -> Call[None]:
    yield Req("DELETE", path)


def pages(model: type[M], path: str, page_size: int, **params: str | None) -> PageQuery[M]:
    return numbered(model, path, {k: v for k, v in params.items() if v is not None}, page_size)
