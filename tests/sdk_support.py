"""Helpers for SDK tests: one scenario drives the sync and the async client alike.

``Blocking`` wraps an ``AsyncClient`` so that the same test code calls it: every coroutine is
run to completion on one event loop and every ``AsyncPager`` is consumed with ``async for``, so
the async code paths (coroutines, async pagers, prefetch tasks) are the ones exercised.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from typing import Any

from cairn.sdk import AsyncPager
from cairn.sdk._ops import Namespace


class BlockingPager:
    def __init__(self, pager: AsyncPager[Any], loop: asyncio.AbstractEventLoop) -> None:
        self._pager = pager
        self._loop = loop

    def __iter__(self) -> Iterator[Any]:
        async def collect() -> list[Any]:
            return [item async for item in self._pager]

        return iter(self._loop.run_until_complete(collect()))

    def first(self) -> Any:
        return self._loop.run_until_complete(self._pager.first())

    def to_list(self) -> list[Any]:
        return self._loop.run_until_complete(self._pager.to_list())


class Blocking:
    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_loop", loop)

    def _wrap(self, value: Any) -> Any:
        if inspect.isawaitable(value):
            return self._wrap(self._loop.run_until_complete(value))
        if isinstance(value, AsyncPager):
            return BlockingPager(value, self._loop)
        if isinstance(value, Namespace):
            return Blocking(value, self._loop)
        return value

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if callable(value) and not isinstance(value, type):
            return lambda *args, **kwargs: self._wrap(value(*args, **kwargs))
        return self._wrap(value)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._target, name, value)


def demo_with_lineage(store: Any, admin: Any) -> str:
    """The demo catalog plus lineage customers -> stg_customers -> dim_customer; its URL."""
    import cairn
    from cairn import F
    from cairn.core.demo import load_demo

    load_demo(store, admin)
    with cairn.Catalog(store.url) as catalog:
        raw = catalog.resources.list(filter=F.title == "customers").first()
        staged = catalog.resources.list(filter=F.title == "stg_customers").first()
        dim = catalog.resources.list(filter=F.title == "dim_customer").first()
        assert raw is not None
        assert staged is not None
        assert dim is not None
        catalog.lineage.create(raw.id, staged.id)
        catalog.lineage.create(staged.id, dim.id)
    return str(store.url)
