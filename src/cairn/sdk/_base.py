"""What the sync and async clients share: configuration, the retry policy, turning an HTTP
response into a reply or a typed error, and the rules for resolving defaults. No I/O here."""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import orjson

from cairn.sdk._errors import APIConnectionError, ConfigurationError, MultipleResourcesFoundError, error_for
from cairn.sdk._ops import Call, Reply, Req

if TYPE_CHECKING:
    import httpx

DEFAULT_BASE_URL = "http://127.0.0.1:8585"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2


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


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before sending a request again.

    - A connection that could not be made (nothing reached the server): every method.
    - 429 Too Many Requests (the server refused before acting): every method, after
      ``Retry-After`` when the server sends it.
    - 5xx, timeouts and dropped connections: idempotent methods only (GET, HEAD, OPTIONS, PUT,
      DELETE), since a POST or PATCH may have been applied.

    Waits grow exponentially (``backoff * 2**attempt``, at most ``max_backoff``) with jitter, so
    that many clients refused at once do not come back at once.
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0

    def _wait(self, attempt: int) -> float:
        ceiling = min(self.max_backoff, self.backoff * float(2**attempt))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def after_error(self, req: Req, error: Exception, attempt: int) -> float | None:
        import httpx

        if attempt >= self.max_retries:
            return None
        never_sent = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
        if never_sent or (req.idempotent and isinstance(error, httpx.TransportError)):
            return self._wait(attempt)
        return None

    def after_status(self, req: Req, status: int, headers: Mapping[str, str], attempt: int) -> float | None:
        if attempt >= self.max_retries:
            return None
        if status == 429:
            told = retry_after(headers.get("retry-after"))
            return self._wait(attempt) if told is None else min(float(told), self.max_retry_after)
        if status >= 500 and req.idempotent:
            return self._wait(attempt)
        return None


def retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date); ``None`` when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def to_reply(response: httpx.Response) -> Reply:
    """A 2xx/3xx response as a reply; anything else as the typed error naming method, URL, status."""
    if response.status_code >= 400:
        body: Any = None
        if response.content:
            try:
                body = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                body = response.text
        raise error_for(response.status_code, body, response.request.method, str(response.request.url))
    return Reply(response.status_code, dict(response.headers), response.content)


def encode(req: Req) -> tuple[bytes | None, dict[str, str]]:
    if req.json is None:
        return None, {}
    return orjson.dumps(req.json), {"Content-Type": "application/json"}


class BaseClient:
    is_async = False

    def __init__(
        self,
        base_url: str | None,
        api_key: str | None,
        organization: str | None,
        workspace: str | None,
        collection: str | None,
        timeout: float | httpx.Timeout,
        max_retries: int,
        *,
        require_key: bool = True,
    ) -> None:
        resolved_key = api_key or os.environ.get("CAIRN_API_KEY")
        if not resolved_key and require_key:
            raise ConfigurationError("no API key: pass api_key= or set CAIRN_API_KEY")
        self.base_url = (base_url or os.environ.get("CAIRN_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.api_key = resolved_key or ""
        self.timeout = timeout
        self.retry = RetryPolicy(max_retries=max_retries)
        self._wanted = {"organization": organization, "workspace": workspace, "collection": collection}
        self._organization: str | None = None
        self._workspace: str | None = None
        self._collection: str | None = None
        self._configured = False

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "cairn-python"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"

    def _prepared(self, req: Req) -> tuple[str, bytes | None, dict[str, str]]:
        content, headers = encode(req)
        return self._url(req.path), content, {**headers, **(req.headers or {})}

    def _outcome(
        self,
        req: Req,
        url: str,
        attempt: int,
        *,
        response: httpx.Response | None = None,
        error: Exception | None = None,
    ) -> Reply | float:
        """What a try came to: the reply, the typed error (raised), or how long to wait to try again."""
        if response is None:
            assert error is not None
            delay = self.retry.after_error(req, error, attempt)
            if delay is None:
                raise APIConnectionError(
                    f"cannot reach {req.method} {url}: {error.__class__.__name__}: {error}"
                ) from error
            return delay
        delay = self.retry.after_status(req, response.status_code, response.headers, attempt)
        return to_reply(response) if delay is None else delay

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

    # ---- defaults (organization > workspace > collection), resolved the same way by both clients

    def _choose_organization(self, value: str | None) -> Call[None]:
        from cairn.models.collections import Organization

        reply = yield Req("GET", "/users/me/organizations")
        found = pick("organization", value, [Organization.model_validate(o) for o in reply.json()])
        self._organization = found.id if found else None
        self._workspace = self._collection = None

    def _choose_workspace(self, value: str | None) -> Call[None]:
        from cairn.models.collections import Workspace

        if self._organization is None:
            if value is not None:
                raise ConfigurationError("set an organization before a workspace")
            return
        reply = yield Req("GET", f"/organizations/{self._organization}/orbits")
        found = pick("workspace", value, [Workspace.model_validate(w) for w in reply.json()])
        self._workspace = found.id if found else None
        self._collection = None

    def _choose_collection(self, value: str | None) -> Call[None]:
        if value is None:
            self._collection = None
            return
        from cairn.sdk._collections import find_collection

        found = yield from find_collection(self, value)
        if found is None:
            raise ConfigurationError(f"collection {value!r} not found")
        self._collection = found.id

    def _configure(
        self, organization: str | None, workspace: str | None, collection: str | None
    ) -> Call[None]:
        yield from self._choose_organization(organization)
        yield from self._choose_workspace(workspace)
        self._configured = True
        yield from self._choose_collection(collection)

    def _ensure_configured(self) -> Call[None]:
        if not self._configured:
            wanted = self._wanted
            yield from self._configure(wanted["organization"], wanted["workspace"], wanted["collection"])
