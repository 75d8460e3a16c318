"""Auto-pagination: lazy pagers over Secoda page envelopes and over keyset scans.

>>> for table in client.resources.list(filter=F.type == "table"):  # doctest: +SKIP
...     print(table.title)
>>> client.resources.list(filter=F.title.contains("cust")).first()  # doctest: +SKIP
>>> async for tag in async_client.tags.list():  # doctest: +SKIP
...     print(tag.name)
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, TypeAdapter, create_model

from cairn.gcpause import gc_paused
from cairn.sdk._ops import Call, Reply, Req, single

if TYPE_CHECKING:
    from cairn.sdk._client import AsyncClient, Client

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next: Req | None
    count: int | None = None  # the total, where the endpoint reports one


@dataclass(frozen=True)
class PageQuery(Generic[T]):
    """How to fetch a first page and, from each reply, the page and the request for the next."""

    first: Req
    parse: Callable[[Req, Reply], Page[T]]
    # The next request read from the reply's headers alone (None: not known before parsing),
    # so that the next page can be on its way while this one is parsed.
    peek: Callable[[Req, Reply], Req | None] | None = None

    def fetch(self, req: Req) -> Call[Page[T]]:
        reply = yield req
        return self.parse(req, reply)

    def smallest(self) -> PageQuery[T]:
        """The same query asking for one item per page (what ``first()`` needs)."""
        params = {**(self.first.params or {}), "page_size": "1"}
        return replace(self, first=replace(self.first, params=params))


class _Meta(BaseModel):
    next_page: int | None = None
    count: int | None = None


@functools.cache
def _envelope(model: type[M]) -> TypeAdapter[Any]:
    # One pass in pydantic-core straight from the bytes: no intermediate Python dicts.
    envelope = create_model(f"{model.__name__}Envelope", meta=(_Meta, ...), results=(list[model], ...))  # type: ignore[valid-type]
    return TypeAdapter(envelope)


@functools.cache
def _scan(model: type[M]) -> TypeAdapter[Any]:
    scan = create_model(f"{model.__name__}Scan", next=(str | None, ...), results=(list[model], ...))  # type: ignore[valid-type]
    return TypeAdapter(scan)


def numbered(model: type[M], path: str, params: dict[str, str], page_size: int) -> PageQuery[M]:
    """A Secoda list (``page``/``page_size``, ``meta.next_page``)."""
    adapter = _envelope(model)

    def parse(req: Req, reply: Reply) -> Page[M]:
        body = _validate(adapter, reply.content)
        following = None
        if body.meta.next_page is not None:
            following = replace(req, params={**(req.params or {}), "page": str(body.meta.next_page)})
        return Page(list(body.results), following, body.meta.count)

    return PageQuery(Req("GET", path, params={**params, "page_size": str(page_size)}), parse)


def _validate(adapter: TypeAdapter[Any], content: bytes) -> Any:
    """A whole page, from the bytes, in one pydantic-core call (see ``cairn.gcpause``)."""
    with gc_paused():
        return adapter.validate_json(content)


NEXT_HEADER = "cairn-next-after"
# The httpcore trace event after which a request is on the wire (HTTP/1.1 and HTTP/2), and how
# long a pager waits for it before parsing the page it has (transports that do not trace, such
# as the embedded app's, end the wait when their answer is in).
SENT_EVENT = "send_request_body.complete"
SEND_WAIT = 0.05


def _traced(req: Req, trace: Callable[[str, Any], Any]) -> Req:
    return replace(req, extensions={**(req.extensions or {}), "trace": trace})


def keyset(model: type[M], path: str, params: dict[str, str], page_size: int) -> PageQuery[M]:
    """A keyset scan (``after`` = the ``next`` of the previous page, also sent as a header)."""
    adapter = _scan(model)

    def after(req: Req, cursor: str | None) -> Req | None:
        return None if cursor is None else replace(req, params={**(req.params or {}), "after": cursor})

    def parse(req: Req, reply: Reply) -> Page[M]:
        body = _validate(adapter, reply.content)
        return Page(list(body.results), after(req, body.next))

    def peek(req: Req, reply: Reply) -> Req | None:
        return after(req, reply.headers.get(NEXT_HEADER))

    return PageQuery(Req("GET", path, params={**params, "page_size": str(page_size)}), parse, peek)


class SyncPager(Generic[T]):
    """Iterating fetches page after page, lazily; nothing is sent before the first item is asked for."""

    def __init__(self, client: Client, query: PageQuery[T]) -> None:
        self._client = client
        self._query = query

    def pages(self) -> Iterator[Page[T]]:
        """Page after page; where the server says early what comes next, the following page is
        fetched on a helper thread while this one is parsed and consumed."""
        query = self._query
        req: Req | None = query.first
        if query.peek is None:
            while req is not None:
                page = self._client._run(query.fetch(req))
                yield page
                req = page.next
            return
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cairn-prefetch") as pool:

            def ahead(following: Req) -> tuple[Future[Reply], threading.Event]:
                sent = threading.Event()

                def trace(event: str, info: Any) -> None:
                    if event.endswith(SENT_EVENT):
                        sent.set()

                future = pool.submit(self._client._run, single(_traced(following, trace)))
                future.add_done_callback(lambda _: sent.set())
                return future, sent

            pending, sent = ahead(query.first)
            while req is not None:
                reply = pending.result()
                following = query.peek(req, reply)
                if following is not None:
                    pending, sent = ahead(following)
                    # Parsing holds the GIL for the whole page: were it to start first, the
                    # helper thread could not send the request until it ended, and the server
                    # would sit idle while this side parses.
                    sent.wait(SEND_WAIT)
                page = query.parse(req, reply)
                yield page
                if following is None and page.next is not None:
                    following = page.next
                    pending, sent = ahead(following)
                req = following

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.items

    def first_page(self) -> Page[T]:
        """Only the first page (one request): its items and, where the endpoint says, the total."""
        return self._client._run(self._query.fetch(self._query.first))

    def first(self) -> T | None:
        """The first item (one request for a single item), or ``None``."""
        page = self._client._run(self._query.fetch(self._query.smallest().first))
        return page.items[0] if page.items else None

    def to_list(self) -> list[T]:
        """Every item of every page."""
        return list(self)


class AsyncPager(Generic[T]):
    """``async for`` fetches page after page, lazily."""

    def __init__(self, client: AsyncClient, query: PageQuery[T]) -> None:
        self._client = client
        self._query = query

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Page after page; the following page is requested while this one is consumed."""
        query = self._query
        req: Req | None = query.first
        if query.peek is None:
            while req is not None:
                page = await self._client._arun(query.fetch(req))
                yield page
                req = page.next
            return

        def ahead(following: Req) -> tuple[asyncio.Future[Reply], asyncio.Event]:
            sent = asyncio.Event()

            async def trace(event: str, info: Any) -> None:
                if event.endswith(SENT_EVENT):
                    sent.set()

            task = asyncio.ensure_future(self._client._arun(single(_traced(following, trace))))
            task.add_done_callback(lambda _: sent.set())
            return task, sent

        pending: asyncio.Future[Reply] | None
        pending, sent = ahead(query.first)
        try:
            while req is not None and pending is not None:
                reply = await pending
                pending = None
                following = query.peek(req, reply)
                if following is not None:
                    pending, sent = ahead(following)
                    # A task runs only when this coroutine yields: without this wait the
                    # request would go out after the page is parsed and consumed, not before.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(sent.wait(), SEND_WAIT)
                page = query.parse(req, reply)
                yield page
                if following is None and page.next is not None:
                    following = page.next
                    pending, sent = ahead(following)
                req = following
        finally:
            # The caller stopped (break, error, aclose): the page requested ahead is not wanted.
            if pending is not None:
                if pending.done():
                    if not pending.cancelled():
                        pending.exception()  # retrieved: an error nobody will see is not logged
                else:
                    pending.cancel()

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.items:
                yield item

    async def first_page(self) -> Page[T]:
        return await self._client._arun(self._query.fetch(self._query.first))

    async def first(self) -> T | None:
        page = await self._client._arun(self._query.fetch(self._query.smallest().first))
        return page.items[0] if page.items else None

    async def to_list(self) -> list[T]:
        return [item async for item in self]
