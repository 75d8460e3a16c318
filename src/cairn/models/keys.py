"""API keys as the admin API shows them (the token only once, at creation)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from cairn.models.common import InputModel, ShortText


class KeyCreate(InputModel):
    name: ShortText = Field(min_length=1)
    role: Literal["admin", "editor", "viewer", "guest"] | None = Field(
        default=None, description="Default: the user's role with `user`, else viewer."
    )
    expires_at: datetime | None = None
    user: ShortText | None = Field(
        default=None, description="A catalog user (id or email) the key acts for; required for guests."
    )


class ApiKey(BaseModel):
    id: str
    name: str
    role: str
    user_id: str | None = None
    prefix: str
    created_at: str | None
    expires_at: str | None
    revoked_at: str | None
    last_used_at: str | None


class CreatedApiKey(ApiKey):
    token: str = Field(description="The secret; shown once.")
