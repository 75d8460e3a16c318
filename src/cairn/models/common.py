"""Building blocks shared by every wire model (server and SDK)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MAX_TEXT = 1_000_000
MAX_INT = 2**63 - 1


def _check_storable(value: str) -> str:
    # PostgreSQL rejects NUL bytes and lone surrogates cannot be encoded as UTF-8; both must
    # be refused at the edge so that no backend ever sees them.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid UTF-8 text") from exc
    return value


def check_text(value: str) -> str:
    """Validate a string from outside (query parameters, filter values, import lines)."""
    return _check_storable(value)


MAX_JSON_DEPTH = 32


def _check_json(value: Any, depth: int = 0) -> Any:
    """Free-form JSON is stored as-is, so every key and string inside must be storable too."""
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"must not be nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        _check_storable(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        # The JSON encoder (orjson) and both databases' JSON types stop at 64 bits.
        if not -(2**63) <= value <= MAX_INT:
            raise ValueError("integers must fit in 64 bits")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_storable(str(key))
            _check_json(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, depth + 1)
    return value


def check_json(value: Any) -> Any:
    """Validate free-form JSON from outside (every key and string storable)."""
    return _check_json(value)


JsonObject = Annotated[dict[str, Any], AfterValidator(_check_json)]
Text = Annotated[str, Field(max_length=MAX_TEXT), AfterValidator(_check_storable)]
ShortText = Annotated[str, Field(max_length=1000), AfterValidator(_check_storable)]
Identifier = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_check_storable)]
Count = Annotated[int, Field(ge=0, le=MAX_INT)]


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    """Timestamps on the wire: ISO-8601 UTC with a ``Z``."""
    if value is None:
        return None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class InputModel(BaseModel):
    """Request bodies: unknown keys are ignored (real clients send extra fields)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


class ReadModel(BaseModel):
    """Response bodies: tolerant of fields a newer server adds."""

    model_config = ConfigDict(extra="allow")
