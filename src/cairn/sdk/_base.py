"""What the sync and async clients share: configuration, request building, response parsing,
and the rules for resolving defaults. No I/O happens here."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import httpx

from cairn.sdk._errors import ConfigurationError, MultipleResourcesFoundError, error_for

DEFAULT_BASE_URL = "http://127.0.0.1:8585"
DEFAULT_TIMEOUT = 30.0


class Named(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=Named)


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def pick(kind: str, value: str | None, available: Sequence[N]) -> N | None:
    """A default by id or exact name; with no value, the only one there is (else none)."""
    if value is None:
        return available[0] if len(available) == 1 else None
    matches = [a for a in available if (a.id == value if is_uuid(value) else a.name == value)]
    if not matches:
        names = ", ".join(f"{a.name!r} ({a.id})" for a in available) or "none"
        raise ConfigurationError(f"{kind} {value!r} not found; available: {names}")
    if len(matches) > 1:
        raise MultipleResourcesFoundError(f"several {kind}s are named {value!r}; use an id")
    return matches[0]


def only_one(kind: str, value: str, matches: Sequence[N]) -> N | None:
    if len(matches) > 1:
        raise MultipleResourcesFoundError(f"{len(matches)} {kind}s match {value!r}; use an id")
    return matches[0] if matches else None


class BaseClient:
    def __init__(
        self,
        base_url: str | None,
        api_key: str | None,
        organization: str | None,
        workspace: str | None,
        collection: str | None,
        timeout: float,
    ) -> None:
        resolved_key = api_key or os.environ.get("CAIRN_API_KEY")
        if not resolved_key:
            raise ConfigurationError("no API key: pass api_key= or set CAIRN_API_KEY")
        self.base_url = (base_url or os.environ.get("CAIRN_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.api_key = resolved_key
        self.timeout = timeout
        self._wanted = {"organization": organization, "workspace": workspace, "collection": collection}
        self._organization: str | None = None
        self._workspace: str | None = None
        self._collection: str | None = None

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.api_key}",
            "Accept": "application/json",
            "User-Agent": "cairn-python",
        }

    @staticmethod
    def _parse(response: httpx.Response) -> Any:
        body: Any = None
        if response.content:
            try:
                body = response.json()
            except ValueError:
                body = response.text
        if response.status_code >= 400:
            raise error_for(response.status_code, body, response.request.method, str(response.request.url))
        return body

    def _orbit_path(self) -> str:
        if not self._organization:
            raise ConfigurationError("no default organization: set client.organization")
        if not self._workspace:
            raise ConfigurationError("no default workspace: set client.workspace")
        return f"/organizations/{self._organization}/orbits/{self._workspace}"

    def _collection_id(self, collection_id: str | None) -> str:
        chosen = collection_id or self._collection
        if not chosen:
            raise ConfigurationError("pass collection_id= or set a default collection (client.collection)")
        return chosen


Builder = Callable[..., Any]
