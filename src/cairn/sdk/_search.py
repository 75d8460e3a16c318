"""``client.search``: ranked, highlighted, faceted search (``GET /search``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, TypedDict

from typing_extensions import Unpack

from cairn.models.search import SearchHit, SearchQuery, SearchResult
from cairn.sdk._crud import body
from cairn.sdk._ops import C, Call, Namespace, Reply, Req, endpoint, paginated
from cairn.sdk._pagination import Page, PageQuery

Values = str | Sequence[str] | None


class SearchFilters(TypedDict, total=False):
    entity_type: Values
    integration: Values
    database: Values
    schema: Values
    tags: Values
    owners: Values
    collections: Values


FILTERS = tuple(SearchFilters.__annotations__)


def _request(q: str, filters: SearchFilters, page: int, page_size: int) -> Req:
    given: Mapping[str, Any] = filters
    as_lists = {k: [v] if isinstance(v, str) else list(v) for k, v in given.items() if v}
    checked = body(SearchQuery, None, {"q": q, **as_lists, "page": page, "page_size": page_size})
    params: dict[str, str] = {"q": checked["q"], "page": str(page), "page_size": str(page_size)}
    for name in FILTERS:
        values = as_lists.get(name)
        if values:
            params[name] = ",".join(values)
    return Req("GET", "/search", params=params)


class Search(Namespace[C]):
    """Search the catalog the way people look for things.

    >>> found = client.search.query("customer", entity_type="table")
    >>> found.count, found.results[0].resource["title"], found.facets["integration"]
    >>> for hit in client.search.hits("custmer"):  # one typo still finds "customer"
    ...     print(hit.tier, hit.resource["title_full"])
    """

    @endpoint
    def query(
        self, q: str, *, page: int = 1, page_size: int = 20, **filters: Unpack[SearchFilters]
    ) -> Call[SearchResult]:
        """One page of results with highlights, and facet counts over every match.

        ``count`` is exact up to 10,000 matches; past that ``count_relation`` is ``"gte"``
        (``result.count_text()`` reads ``10,000+``), ``facets_exact`` is False and pages reach
        the first 10,000 results.

        Filters (``entity_type``, ``integration``, ``database``, ``schema``, ``tags``, ``owners``,
        ``collections``) take one value or several (any of them matches); different filters all
        apply.
        """
        reply = yield _request(q, filters, page, page_size)
        return SearchResult.model_validate_json(reply.content)

    @paginated
    def hits(self, q: str, *, page_size: int = 100, **filters: Unpack[SearchFilters]) -> PageQuery[SearchHit]:
        """Every hit, best first, fetched page by page (same filters as ``query``), up to the
        first 10,000 when more match."""

        def parse(req: Req, reply: Reply) -> Page[SearchHit]:
            result = SearchResult.model_validate_json(reply.content)
            following = None
            if result.page < result.total_pages:
                following = replace(req, params={**(req.params or {}), "page": str(result.page + 1)})
            return Page(list(result.results), following, result.count)

        return PageQuery(_request(q, filters, 1, page_size), parse)
