"""One implementation behind the sync and the async client (sans-I/O).

Every SDK method is written once, as a generator that *yields* the HTTP requests it needs and
receives each reply (or has the typed error thrown into it). ``Client`` drives such a generator
with blocking I/O and ``AsyncClient`` with ``await``; the descriptors below give each method the
right shape on each client (``T`` on the sync one, ``Awaitable[T]`` on the async one), so the
rules, the request building and the parsing exist in one place only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, cast, overload

import orjson

if TYPE_CHECKING:
    from cairn.sdk._client import AsyncClient, Client
    from cairn.sdk._pagination import AsyncPager, PageQuery, SyncPager

T = TypeVar("T")
P = ParamSpec("P")
C = TypeVar("C", "Client", "AsyncClient")

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class Req:
    """One HTTP request an operation needs (the path is relative to the client's base URL)."""

    method: str
    path: str
    params: dict[str, str] | None = None
    json: Any = None
    headers: dict[str, str] | None = None
    # httpx request extensions (the pager's ``trace`` hook: it learns when a request is sent).
    extensions: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def idempotent(self) -> bool:
        return self.method in IDEMPOTENT


@dataclass(frozen=True)
class Reply:
    """A successful (2xx/3xx) response; errors are raised (thrown into the operation) instead."""

    status_code: int
    headers: dict[str, str]
    content: bytes
    _body: list[Any] = field(default_factory=list, repr=False, compare=False)

    def json(self) -> Any:
        if not self._body:
            self._body.append(orjson.loads(self.content) if self.content else None)
        return self._body[0]


Call = Generator[Req, Reply, T]
"""An operation: yields requests, receives replies, returns its result."""


def single(req: Req) -> Call[Reply]:
    """The common case: one request, its reply."""
    reply = yield req
    return reply


class Namespace(Generic[C]):
    """``client.tags``, ``client.resources``, ...: a group of operations bound to one client."""

    def __init__(self, client: C) -> None:
        self._client: C = client


class endpoint(Generic[P, T]):  # noqa: N801 - used as a decorator, named like one
    """Turns an operation into a method: ``T`` on ``Client``, ``Awaitable[T]`` on ``AsyncClient``."""

    def __init__(self, fn: Callable[Concatenate[Any, P], Call[T]]) -> None:
        self._fn = fn
        functools.update_wrapper(cast(Any, self), fn)

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> endpoint[P, T]: ...

    @overload
    def __get__(self, obj: Namespace[Client], owner: type[Any]) -> Callable[P, T]: ...

    @overload
    def __get__(
        self, obj: Namespace[AsyncClient], owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...

    def __get__(self, obj: Any, owner: type[Any]) -> Any:
        if obj is None:
            return self
        fn = self._fn
        client = obj._client
        if client.is_async:

            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                return await client._arun(fn(obj, *args, **kwargs))

            return run_async

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            return client._run(fn(obj, *args, **kwargs))

        return run


class paginated(Generic[P, T]):  # noqa: N801 - used as a decorator, named like one
    """Turns a page query into a method returning a lazy pager (``SyncPager`` / ``AsyncPager``)."""

    def __init__(self, fn: Callable[Concatenate[Any, P], PageQuery[T]]) -> None:
        self._fn = fn
        functools.update_wrapper(cast(Any, self), fn)

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> paginated[P, T]: ...

    @overload
    def __get__(self, obj: Namespace[Client], owner: type[Any]) -> Callable[P, SyncPager[T]]: ...

    @overload
    def __get__(self, obj: Namespace[AsyncClient], owner: type[Any]) -> Callable[P, AsyncPager[T]]: ...

    def __get__(self, obj: Any, owner: type[Any]) -> Any:
        if obj is None:
            return self
        from cairn.sdk._pagination import AsyncPager, SyncPager

        fn = self._fn
        client = obj._client
        pager = AsyncPager if client.is_async else SyncPager

        @functools.wraps(fn)
        def make(*args: Any, **kwargs: Any) -> Any:
            return pager(client, fn(obj, *args, **kwargs))

        return make
