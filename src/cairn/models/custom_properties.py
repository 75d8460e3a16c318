"""Custom properties (``/resource/all_v2/custom_properties``): definitions and per-entity values."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from cairn.models.common import InputModel, ShortText

ValueType = Literal[
    "string", "text", "markdown", "number", "boolean", "date", "url", "user", "select", "multiselect"
]


class CustomPropertyWrite(InputModel):
    """Create needs ``name`` and ``value_type``; PUT and PATCH change only what is sent."""

    name: Annotated[ShortText, Field(min_length=1, max_length=200)] | None = None
    entity_types: Annotated[list[ShortText], Field(max_length=100)] | ShortText | None = None
    value_type: ValueType | None = None


class CustomPropertyValueWrite(InputModel):
    value: Any = None


class IntegrationRef(BaseModel):
    id: str
    name: str
    type: str


class CustomProperty(BaseModel):
    id: str
    name: str
    entity_types: list[str]
    value_type: str
    integration: IntegrationRef | None = None
    created_at: str
    updated_at: str


class CustomPropertyValue(BaseModel):
    id: str
    name: str
    value: Any
    type: str
    entity_id: str
