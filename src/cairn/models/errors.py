"""Error bodies of the Secoda and DataForce dialects (``{"detail": ...}``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    detail: str
    fields: dict[str, list[str]] = Field(default_factory=dict)
