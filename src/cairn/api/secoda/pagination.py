"""The Secoda list envelope: absolute, parameter-preserving links built from the request."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import Request

from cairn.api.middleware import ORIGINAL_PATH_KEY
from cairn.core.resources import PageResult


def page_url(request: Request, page: int | None) -> str | None:
    if page is None:
        return None
    params = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k != "page"]
    params.append(("page", str(page)))
    path = request.scope.get(ORIGINAL_PATH_KEY, request.url.path)
    base = f"{request.url.scheme}://{request.url.netloc}{path}"
    return f"{base}?{urlencode(params)}"


def envelope(request: Request, result: PageResult) -> dict[str, Any]:
    next_url = page_url(request, result.next_page)
    previous_url = page_url(request, result.previous_page)
    return {
        "links": {"next": next_url, "previous": previous_url},
        "meta": {
            "page": result.page,
            "previous_page": result.previous_page,
            "next_page": result.next_page,
            "count": result.count,
            "total_pages": result.total_pages,
        },
        "count": result.count,
        "total_pages": result.total_pages,
        "next": next_url,
        "previous": previous_url,
        "resource_totals": {},
        "results": result.items,
    }
