"""Query parameters shared by Secoda list endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from cairn.core.resources import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest

MAX_PAGE = 1_000_000

PageParam = Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number")]
PageSizeParam = Annotated[
    int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"results per page (default {DEFAULT_PAGE_SIZE})")
]


def paging(page: int, page_size: int, cap: int | None = None) -> PageRequest:
    return PageRequest(page=page, page_size=page_size, cap=cap)
