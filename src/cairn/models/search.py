"""Search: the query a client asks and the ranked, highlighted, faceted answer.

``SearchService(store).search(principal, SearchQuery) -> SearchResult`` is the one entry point
(HTTP ``GET /search``, the SDK, the CLI, the MCP tools and the web UI all go through it).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from cairn.models.common import Identifier, InputModel, ReadModel, check_text

MAX_QUERY_LENGTH = 256
DEFAULT_SEARCH_PAGE_SIZE = 20
MAX_SEARCH_PAGE_SIZE = 100
MAX_FILTER_VALUES = 100
# Matches are counted exactly up to this many; past it a result says ``count_relation: "gte"``
# (Elasticsearch's track_total_hits), and pages reach this far and no further.
COUNT_LIMIT = 10_000

FACETS: tuple[str, ...] = (
    "entity_type",
    "integration",
    "database",
    "schema",
    "tags",
    "owners",
    "collections",
)

# Why a result matched, best first (each tier outranks every boost of the tiers below it).
Tier = Literal[
    "exact_title",
    "title_prefix",
    "title_phrase",
    "title",
    "title_full_or_description",
    "definition_or_column",
]

FilterValues = Annotated[list[Identifier], Field(max_length=MAX_FILTER_VALUES)]


class SearchQuery(InputModel):
    """What to look for. List filters match any of their values; different filters all apply."""

    q: Annotated[str, Field(min_length=1, max_length=MAX_QUERY_LENGTH), AfterValidator(check_text)]
    entity_type: FilterValues = Field(default_factory=list)
    integration: FilterValues = Field(default_factory=list)
    database: FilterValues = Field(default_factory=list)
    schema_: FilterValues = Field(default_factory=list, alias="schema")
    tags: FilterValues = Field(default_factory=list)
    owners: FilterValues = Field(default_factory=list)
    collections: FilterValues = Field(default_factory=list)
    page: int = Field(default=1, ge=1, le=1_000_000)
    page_size: int = Field(default=DEFAULT_SEARCH_PAGE_SIZE, ge=1, le=MAX_SEARCH_PAGE_SIZE)

    model_config = {**InputModel.model_config, "populate_by_name": True}


class Highlight(BaseModel):
    """One matched field: ``text`` (a fragment for long fields), the matched ``spans`` as
    [start, end) character offsets into it, and ``html``: the text escaped, matches in <mark>."""

    field: Literal["title", "title_full", "description", "definition"]
    text: str
    spans: list[tuple[int, int]]
    html: str


class SearchHit(BaseModel):
    resource: dict[str, Any] = Field(description="The entity, as /resource/all/{id} returns it.")
    score: float
    tier: Tier
    highlights: list[Highlight]


class FacetValue(BaseModel):
    value: str
    count: int
    label: str | None = Field(default=None, description="A display name (integration, tag, owner...).")


CountRelation = Literal["eq", "gte"]


class SearchResult(ReadModel):
    query: str
    count: int = Field(
        description=f"Every visible resource that matches, across all pages, counted up to {COUNT_LIMIT:,}: "
        "with count_relation 'gte' there are at least that many."
    )
    count_relation: CountRelation = Field(
        default="eq", description="'eq': count is exact; 'gte': count is a lower bound (more match)."
    )
    facets_exact: bool = Field(
        default=True,
        description="False when the matches were too many to count: the column matches are then counted "
        "(up to the limit) in the entity_type facet only, the other facets cover the other matches.",
    )
    page: int
    page_size: int
    total_pages: int
    fuzzy: bool = Field(description="True when nothing matched as typed and one-typo matches were used.")
    results: list[SearchHit]
    facets: dict[str, list[FacetValue]] = Field(
        description="Counts over all matches: " + ", ".join(FACETS) + " (most frequent first)."
    )

    def count_text(self) -> str:
        """The count as people read it: ``1,234``, or ``10,000+`` past the counting limit."""
        return f"{self.count:,}" + ("+" if self.count_relation == "gte" else "")
