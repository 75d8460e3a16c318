"""``cairn.Client`` and ``cairn.AsyncClient``: the same namespaces, driven with blocking or async I/O."""

from __future__ import annotations

import asyncio
import itertools
import time
from functools import cached_property
from typing import Generic, TypeVar, cast

import httpx

from cairn.sdk._base import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, BaseClient, is_uuid
from cairn.sdk._catalog import Resources
from cairn.sdk._collections import Collections, Organizations, Workspaces
from cairn.sdk._errors import CairnError, ConfigurationError
from cairn.sdk._lineage import Lineage
from cairn.sdk._namespaces import CustomProperties, Groups, Integrations, Tags, Teams, Users
from cairn.sdk._ops import C, Call, Reply, Req
from cairn.sdk._search import Search

T = TypeVar("T")


class _Namespaces(Generic[C]):
    """The namespaces both clients expose, typed for each (``Resources[Client]``, ...)."""

    @cached_property
    def resources(self) -> Resources[C]:
        return Resources(cast(C, self))

    @cached_property
    def collections(self) -> Collections[C]:
        return Collections(cast(C, self))

    @cached_property
    def tags(self) -> Tags[C]:
        return Tags(cast(C, self))

    @cached_property
    def integrations(self) -> Integrations[C]:
        return Integrations(cast(C, self))

    @cached_property
    def users(self) -> Users[C]:
        return Users(cast(C, self))

    @cached_property
    def teams(self) -> Teams[C]:
        return Teams(cast(C, self))

    @cached_property
    def groups(self) -> Groups[C]:
        return Groups(cast(C, self))

    @cached_property
    def custom_properties(self) -> CustomProperties[C]:
        return CustomProperties(cast(C, self))

    @cached_property
    def lineage(self) -> Lineage[C]:
        return Lineage(cast(C, self))

    @cached_property
    def search(self) -> Search[C]:
        return Search(cast(C, self))

    @cached_property
    def organizations(self) -> Organizations[C]:
        return Organizations(cast(C, self))

    @cached_property
    def workspaces(self) -> Workspaces[C]:
        return Workspaces(cast(C, self))


class Client(BaseClient, _Namespaces["Client"]):
    """A synchronous client.

    >>> client = Client(base_url="http://127.0.0.1:8585", api_key="cairn_...")
    >>> finance = client.collections.create("Models for finance", "Finance", CollectionType.MODEL)
    >>> client.collections.get("Finance").id == finance.id
    True
    >>> [t.title for t in client.resources.list(filter=F.type == "table")]

    ``base_url`` and ``api_key`` default to ``$CAIRN_BASE_URL`` and ``$CAIRN_API_KEY``;
    ``timeout`` (seconds, or an ``httpx.Timeout``) applies to each request and ``max_retries``
    to connection errors, 429 and (for idempotent requests) 5xx answers.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        organization: str | None = None,
        workspace: str | None = None,
        collection: str | None = None,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
        _require_key: bool = True,
    ) -> None:
        super().__init__(
            base_url,
            api_key,
            organization,
            workspace,
            collection,
            timeout,
            max_retries,
            require_key=_require_key,
        )
        self._http = http_client or httpx.Client(timeout=timeout)
        self._http.headers.update(self._headers())
        wanted = self._wanted
        self._run(self._configure(wanted["organization"], wanted["workspace"], wanted["collection"]))

    # ---- the driver: one operation, its requests sent with blocking I/O and retried per policy

    def _run(self, call: Call[T]) -> T:
        try:
            req = next(call)
            while True:
                try:
                    reply = self._send(req)
                except CairnError as exc:
                    req = call.throw(exc)
                else:
                    req = call.send(reply)
        except StopIteration as stop:
            result: T = stop.value
            return result

    def _send(self, req: Req) -> Reply:
        url, content, headers = self._prepared(req)
        for attempt in itertools.count():
            try:
                response = self._http.request(
                    req.method,
                    url,
                    params=req.params,
                    content=content,
                    headers=headers,
                    extensions=req.extensions,
                )
            except httpx.TransportError as exc:
                outcome = self._outcome(req, url, attempt, error=exc)
            else:
                outcome = self._outcome(req, url, attempt, response=response)
            if isinstance(outcome, Reply):
                return outcome
            time.sleep(outcome)
        raise AssertionError("unreachable")  # pragma: no cover

    # ---- defaults

    @property
    def organization(self) -> str | None:
        return self._organization

    @organization.setter
    def organization(self, value: str | None) -> None:
        self._run(self._choose_organization(value))

    @property
    def workspace(self) -> str | None:
        return self._workspace

    @workspace.setter
    def workspace(self, value: str | None) -> None:
        self._run(self._choose_workspace(value))

    @property
    def collection(self) -> str | None:
        return self._collection

    @collection.setter
    def collection(self, value: str | None) -> None:
        self._run(self._choose_collection(value))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class AsyncClient(BaseClient, _Namespaces["AsyncClient"]):
    """The asynchronous client: every method of ``Client``, awaited; lists are ``async for``.

    >>> async with AsyncClient(base_url="http://127.0.0.1:8585", api_key="cairn_...") as client:
    ...     await client.setup_config()  # optional: defaults resolve on first use otherwise
    ...     async for table in client.resources.list(filter=F.type == "table"):
    ...         print(table.title)
    """

    is_async = True

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        organization: str | None = None,
        workspace: str | None = None,
        collection: str | None = None,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        _require_key: bool = True,
    ) -> None:
        super().__init__(
            base_url,
            api_key,
            organization,
            workspace,
            collection,
            timeout,
            max_retries,
            require_key=_require_key,
        )
        self._http = http_client or httpx.AsyncClient(timeout=timeout)
        self._http.headers.update(self._headers())

    async def setup_config(
        self, organization: str | None = None, workspace: str | None = None, collection: str | None = None
    ) -> None:
        """Resolve the default organization, workspace and collection (by id or exact name)."""
        wanted = self._wanted
        await self._arun(
            self._configure(
                organization or wanted["organization"],
                workspace or wanted["workspace"],
                collection or wanted["collection"],
            )
        )

    async def _arun(self, call: Call[T]) -> T:
        try:
            req = next(call)
            while True:
                try:
                    reply = await self._asend(req)
                except CairnError as exc:
                    req = call.throw(exc)
                else:
                    req = call.send(reply)
        except StopIteration as stop:
            result: T = stop.value
            return result

    async def _asend(self, req: Req) -> Reply:
        url, content, headers = self._prepared(req)
        for attempt in itertools.count():
            try:
                response = await self._http.request(
                    req.method,
                    url,
                    params=req.params,
                    content=content,
                    headers=headers,
                    extensions=req.extensions,
                )
            except httpx.TransportError as exc:
                outcome = self._outcome(req, url, attempt, error=exc)
            else:
                outcome = self._outcome(req, url, attempt, response=response)
            if isinstance(outcome, Reply):
                return outcome
            await asyncio.sleep(outcome)
        raise AssertionError("unreachable")  # pragma: no cover

    @property
    def organization(self) -> str | None:
        return self._organization

    @property
    def workspace(self) -> str | None:
        return self._workspace

    @property
    def collection(self) -> str | None:
        return self._collection

    @collection.setter
    def collection(self, value: str | None) -> None:
        # An id is taken as given (no I/O in a setter); names resolve via setup_config(collection=...).
        if value is not None and not is_uuid(value):
            raise ConfigurationError(
                "set a collection by id here, or by name with await setup_config(collection=...)"
            )
        self._collection = value

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()


__all__ = ["AsyncClient", "Client"]
