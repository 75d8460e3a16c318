"""The page registry: each UI module declares its pages; the navigation is built from them.

A page whose service is not in the product yet is simply not registered. When one lands (search,
lineage), its module adds a ``NavPage`` and a router and lists itself in ``cairn.web.MODULES``;
no template changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cairn.core.principal import Principal


def everyone(_: Principal) -> bool:
    return True


def admins(principal: Principal) -> bool:
    return principal.is_admin


@dataclass(frozen=True)
class NavPage:
    key: str
    label: str
    path: str
    order: int
    shown_to: Callable[[Principal], bool] = everyone


class PageRegistry:
    def __init__(self) -> None:
        self._pages: dict[str, NavPage] = {}

    def add(self, page: NavPage) -> None:
        if page.key in self._pages:
            raise ValueError(f"page {page.key!r} is registered twice")
        self._pages[page.key] = page

    def nav(self, principal: Principal | None) -> list[NavPage]:
        if principal is None:
            return []
        return sorted(
            (p for p in self._pages.values() if p.shown_to(principal)), key=lambda p: (p.order, p.key)
        )

    def keys(self) -> list[str]:
        return sorted(self._pages)
