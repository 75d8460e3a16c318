"""Search: ranked full-text matches over the catalog, with highlights and facet counts.

One interface for every face: ``SearchService(store).search(principal, SearchQuery)``. The text
index is the backend's (``cairn.store.search``: SQLite FTS5, PostgreSQL tsvector); ranking,
visibility, filters and facets are the same SQL on both.

Ranking: a tier says why a resource matched (exact title > title prefix > title phrase > all
words in the title > title_full phrase or all words in the description > definition or column
name),
and a boost orders resources within a tier: popularity (log of internal + external usage),
verified, documented. A tier is worth more than the largest boost, so boosts never reorder
tiers. Archived and stale resources are hidden exactly as the catalog list hides them (the
visibility rule of ``ResourceService``), and so are drafts for viewers and guests; facet counts
are computed over the same visible matches, so they never reveal hidden resources.

Typo tolerance: when nothing matches as typed, each word of four or more letters that the index
does not hold is replaced by its most frequent one-edit variant that it does hold (one letter
deleted, inserted, replaced or two swapped), and that reading is searched and ranked like a typed
query; only if it finds nothing does every word match any of its known variants. ``fuzzy`` is set
on the result either way.

Cost: a common word at 1M resources matches ~94,000, ~90% of them ``customer_id``-like columns,
which always rank in the lowest band. So the non-columns have a text index lane of their own
(migration 0019_search): they are counted and faceted exactly, and a page is ranked from them
alone whenever they fill it with tiered hits. Columns are counted only up to what is left of
COUNT_LIMIT (then ``count_relation`` is "gte" and they count in the entity_type facet alone),
and ranked only when a page needs them, the ones titled exactly like the query first.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from string import ascii_lowercase, digits
from typing import Any, get_args

from sqlalchemy import ColumnElement, Connection, FromClause, and_, case, func, literal_column, or_, select

from cairn.core import extras, visibility
from cairn.core.hierarchy import canonical_type
from cairn.core.principal import Principal
from cairn.core.resources import PageRequest, ResourceService, check_page
from cairn.models.search import (
    COUNT_LIMIT,
    FACETS,
    FacetValue,
    Highlight,
    SearchHit,
    SearchQuery,
    SearchResult,
    Tier,
)
from cairn.store import Store, deferred_indexes
from cairn.store import resources as repo
from cairn.store.schema import catalog_user, integration, resource, resource_member, search_doc, tag
from cairn.store.search import Field, Lane, Term, TextIndex, text_index

R = resource.c
M = resource_member.c
D = search_doc.c

MAX_WORDS = 12
FUZZY_MIN_LENGTH = 4
FUZZY_MAX_WORDS = 4
FACET_LIMIT = 20
FRAGMENT_RADIUS = 80

# Tier numbers as the ranking SQL computes them: 0 is the lowest (the Literal lists best first).
TIER_NAMES: tuple[Tier, ...] = tuple(reversed(get_args(Tier)))
# A tier is worth more than the largest boost: search_doc.boost (migration 0012_search_doc) is
# min(12, 0.75 ln(1 + usage)) + 4 if verified + 3 if documented, at most 19.
TIER_WEIGHT = 20.0
# Column names are the lowest tier: a column's whole score (its own tier and boosts) is scaled
# into the band below one tier, so "customer" finds the customer tables before the thousands
# of customer_id columns, and still orders the columns among themselves.
COLUMN_SCALE = 6.5
LOWEST_TIER: Tier = TIER_NAMES[0]
# The non-columns' title keys with what a page of the top two tiers reads (0021_entity_titles).
ENTITY_TITLE_INDEX = "ix_search_doc_entity_title"
# The non-columns' documents whole, in pk order (0023_entity_documents, SQLite): a common word's
# non-column matches sit a page each all over search_doc, more than the page cache keeps; this
# index is a tenth of its size and stays cached.
ENTITY_DOCUMENTS_INDEX = "ix_search_doc_entity_documents"
# Below this many non-column matches, ranking them all costs less than ranking the titled first.
TITLE_RANKED_MIN_MATCHES = 2000

# The non-columns, written as a literal so that SQLite sees the partial indexes' own condition.
_NON_COLUMN = D.entity_type != literal_column("'column'")

_RUN = re.compile(r"[^\W_]+")
_VARIANT_LETTERS = ascii_lowercase + digits
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", ascii_lowercase)
_LIST_FACETS = ("tags", "owners", "collections")


def _mixed_case(word: str) -> bool:
    return word.lower() != word and word.upper() != word


def _camel_parts(run: str, start: int) -> list[tuple[str, int]]:
    """Split before each capital, like the index does for mixed-case titles."""
    if not _mixed_case(run):
        return [(run, start)]
    bounds = [0] + [i for i, ch in enumerate(run) if i and ch.isupper()] + [len(run)]
    return [(run[a:b], start + a) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def query_words(q: str) -> list[str]:
    """The words of a query, tokenized like indexed text (separators and camelCase split)."""
    words: list[str] = []
    for match in _RUN.finditer(q):
        words.extend(part.lower() for part, _ in _camel_parts(match.group(), match.start()))
    return words[:MAX_WORDS]


def one_edit_variants(word: str) -> list[str]:
    """Every string one deletion, transposition, replacement or insertion away from ``word``."""
    letters = _VARIANT_LETTERS + "".join(sorted({c for c in word if c not in _VARIANT_LETTERS}))
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    variants = {a + b[1:] for a, b in splits if b}
    variants |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    variants |= {a + c + b[1:] for a, b in splits if b for c in letters}
    variants |= {a + c + b for a, b in splits for c in letters}
    variants.discard(word)
    return sorted(variants)


def _key(words: Sequence[str]) -> str:
    return "".join(words).translate(_ASCII_LOWER)


def _usable(index: str, dropped: frozenset[str]) -> str | None:
    """``index`` for a statement to name, or None while an import has dropped it."""
    return None if index in dropped else index


def _successor(key: str) -> str | None:
    """The least string above every string that starts with ``key``, in code point order (the
    byte order of UTF-8); None when there is none to write."""
    last = ord(key[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:
        last = 0xE000  # surrogates are no characters of their own
    if last > 0x10FFFF:
        return None
    return key[:-1] + chr(last)


@dataclass(frozen=True)
class _Lanes:
    entities: bool  # the entity_type filter lets non-columns through
    columns: bool  # ... or columns


def _lanes(entity_types: Sequence[str]) -> _Lanes:
    types = {canonical_type(t) for t in entity_types}
    if not types:
        return _Lanes(entities=True, columns=True)
    return _Lanes(entities=bool(types - {"column"}), columns="column" in types)


@dataclass(frozen=True)
class _Counted:
    facets: dict[str, list[FacetValue]]
    total: int  # exact, or COUNT_LIMIT when there are more
    exact: bool
    non_columns: int = 0  # the visible non-column matches, counted up to COUNT_LIMIT + 1


@dataclass(frozen=True)
class _Ranked:
    pk: int
    column: bool
    tier: int
    score: float
    length: int

    @staticmethod
    def of(row: Any) -> _Ranked:
        column = row.entity_type == "column"
        raw = int(row.tier) * TIER_WEIGHT + float(row.boost)
        return _Ranked(row.pk, column, int(row.tier), raw / COLUMN_SCALE if column else raw, int(row.length))


@dataclass(frozen=True)
class _Plan:
    terms: tuple[Term, ...]
    key: str  # the query with separators removed, compared with titles the same way
    fuzzy: bool  # a typo reading of the query (the result says so)
    variants: bool = False  # terms hold every known variant: ranked by the typo tiers

    def whole_words(self) -> tuple[Term, ...]:
        """The terms without the prefix match: what they find is a subset of what ``terms`` find."""
        return tuple(Term(t.alternatives) for t in self.terms)

    def fuzzy_keys(self) -> list[str]:
        """The keys of every one-typo reading of the query (one word replaced by a variant)."""
        words = [t.alternatives[0] for t in self.terms]
        keys: set[str] = set()
        for position, term in enumerate(self.terms):
            for alternative in term.alternatives[1:]:
                keys.add("".join([*words[:position], alternative, *words[position + 1 :]]))
        return sorted(k.translate(_ASCII_LOWER) for k in keys)


# The fields a match may be in that name nothing but the resource itself.
_OWN_FIELDS: tuple[Field, ...] = ("title", "description", "definition")


@dataclass(frozen=True)
class _PathGuard:
    """What keeps a search from matching hidden ancestors' names in a visible resource's path.

    ``title_full`` (indexed, and in the ranking's path words) and the database/schema values
    name every ancestor: a resource under an ancestor the caller may not see is found only by
    its own fields, and never by a database or schema filter.

    Worked out once per search: the distinct parents of the flagged matches that would match
    by their path (``hidden_above``, copied to the search documents with ``parent_id``: few
    rows, store/ancestor_flags.py), then which of
    those parents are hidden or under a hidden ancestor (one recursive query up). The
    statements test a match's parent against that list. Following every match's ancestors in
    the statement instead was a per-row subplan on PostgreSQL (about 1 ms a match).
    """

    under: ColumnElement[bool]  # the match's parent is hidden, or under a hidden ancestor
    own: ColumnElement[bool] | None  # the match holds the terms in its own fields (None: by path)

    @classmethod
    def of(
        cls,
        conn: Connection,
        principal: Principal,
        index: TextIndex,
        plan: _Plan,
        base: ColumnElement[bool],
        *,
        by_path: bool,
    ) -> _PathGuard | None:
        mask = visibility.ancestry_mask(principal)
        if not mask or not visibility.has_flagged(conn, principal):
            return None  # no resource of the workspace has an ancestor hidden from this caller
        own = None if by_path else index.matches(plan.terms, fields=_OWN_FIELDS, pk=D.pk)
        # Only the matches that need their path (all of them under a path filter) are read; the
        # documents carry the flags and the parent (0022_search_doc_ancestry): no resource row.
        by_path_alone = index.hits_beyond(plan.terms, _OWN_FIELDS) if own is not None else None
        found = (index.hits(plan.terms) if by_path_alone is None else by_path_alone).subquery("found")
        flagged = D.hidden_above.op("&")(mask) != 0
        candidates = (
            select(D.parent_id)
            .distinct()
            .select_from(found.join(search_doc, D.pk == found.c.pk))
            .where(base, flagged, D.parent_id.is_not(None))
        )
        hidden = visibility.hidden_paths(conn, principal, list(conn.execute(candidates).scalars()))
        if not hidden:
            return None
        # An unflagged match has nothing hidden above it: only flagged ones test their parent.
        return cls(and_(flagged, D.parent_id.in_(sorted(hidden))), own)

    def condition(self) -> ColumnElement[bool]:
        # The cheap test first: the own-fields match is looked at only for matches under hidden.
        return ~self.under if self.own is None else or_(~self.under, self.own)


class SearchService:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.resources = ResourceService(store)
        self.index = text_index(store.dialect)

    def search(self, principal: Principal, query: SearchQuery) -> SearchResult:
        words = query_words(query.q)
        filters = self._filters(principal, query)
        paging = PageRequest(page=query.page, page_size=query.page_size)
        if not words:
            check_page(paging, 0)
            return self._empty(query)
        # The catalog's own visibility rule, over the search documents (same columns).
        base = and_(*ResourceService.visibility_of(search_doc, principal), *filters)
        lanes = _lanes(query.entity_type)
        plan = _Plan(self._terms(words, fuzzy=False), _key(words), False)
        with self.store.read() as conn:
            if self.store.dialect == "postgresql":
                # Each statement visits a few thousand rows: starting parallel workers for them
                # costs more than they save, and a server busy with other requests has no idle
                # cores for them (1M, load 3: one word 192 -> 144 ms, typo 280 -> 242 ms).
                conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
                # psycopg prepares a statement on the server after five runs, and PostgreSQL then
                # tries a generic plan, blind to the query's words and the caller's ancestry ids:
                # a non-admin's search went 200 -> 1,700 ms from its eleventh run (100k resources).
                conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
            # The indexes the statements may name: not those an import has dropped for now
            # (SQLite, store/deferred_indexes.py; a statement naming one would fail).
            dropped = frozenset(deferred_indexes.pending(conn))
            by_path = bool(query.database or query.schema_)
            guards: dict[_Plan, _PathGuard | None] = {}

            def guard_of(plan: _Plan) -> _PathGuard | None:
                if plan not in guards:
                    guards[plan] = _PathGuard.of(conn, principal, self.index, plan, base, by_path=by_path)
                return guards[plan]

            def scope(plan: _Plan) -> ColumnElement[bool]:
                guard = guard_of(plan)
                return base if guard is None else and_(base, guard.condition())

            counted = self._count(conn, principal, plan, scope(plan), lanes, dropped)
            if counted.total == 0 and any(self._fuzzable(w) for w in words):
                variants = self._terms(words, fuzzy=True)
                known = self.index.frequencies(conn, sorted({a for t in variants for a in t.alternatives}))
                # The likeliest reading first (each unknown word replaced by its most frequent
                # known variant), searched and ranked like a typed query; only when that finds
                # nothing, every known variant at once.
                corrected = self._corrected(words, variants, known)
                if corrected is not None:
                    plan = _Plan(self._terms(corrected, fuzzy=False), _key(corrected), True)
                    counted = self._count(conn, principal, plan, scope(plan), lanes, dropped)
                if counted.total == 0 and (terms := self._narrowed(variants, known)) is not None:
                    plan = _Plan(terms, _key(words), True, variants=True)
                    counted = self._count(conn, principal, plan, scope(plan), lanes, dropped)
            total_pages = check_page(paging, counted.total)
            hits = (
                self._page(
                    conn, principal, plan, scope(plan), lanes, paging, counted, dropped, guard_of(plan)
                )
                if counted.total
                else []
            )
        return SearchResult(
            query=query.q,
            count=counted.total,
            count_relation="eq" if counted.exact else "gte",
            facets_exact=counted.exact,
            page=paging.page,
            page_size=paging.page_size,
            total_pages=total_pages,
            fuzzy=plan.fuzzy,
            results=hits,
            facets=counted.facets,
        )

    # ---- query building ----------------------------------------------------------------

    def _matched(self, plan: _Plan, lane: Lane, terms: tuple[Term, ...] | None = None) -> FromClause:
        """The search documents of the index's matches in ``lane``, driven from the index."""
        found = self.index.hits(plan.terms if terms is None else terms, lane=lane).subquery("found")
        return found.join(search_doc, D.pk == found.c.pk)

    @staticmethod
    def _fuzzable(word: str) -> bool:
        return len(word) >= FUZZY_MIN_LENGTH and not word.isdigit()

    def _terms(self, words: Sequence[str], *, fuzzy: bool) -> tuple[Term, ...]:
        terms: list[Term] = []
        fuzzed = 0
        for position, word in enumerate(words):
            alternatives: tuple[str, ...] = (word,)
            if fuzzy and self._fuzzable(word) and fuzzed < FUZZY_MAX_WORDS:
                alternatives = (word, *one_edit_variants(word))
                fuzzed += 1
            # The last word may be incomplete (search as you type): it also matches as a prefix.
            # A one-letter prefix would match most of the index; it must match as a word.
            terms.append(Term(alternatives, prefix=position == len(words) - 1 and len(word) > 1))
        return tuple(terms)

    @staticmethod
    def _corrected(words: Sequence[str], terms: Sequence[Term], known: dict[str, int]) -> list[str] | None:
        """The query with each word the index lacks replaced by its most frequent variant the
        index holds (ties: the first in order), or None when no word can be corrected."""
        corrected = list(words)
        for position, term in enumerate(terms):
            typed, *variants = term.alternatives
            held = [v for v in variants if v in known]
            if typed not in known and held:
                corrected[position] = min(held, key=lambda v: (-known[v], v))
        return corrected if corrected != list(words) else None

    @staticmethod
    def _narrowed(terms: Sequence[Term], known: dict[str, int]) -> tuple[Term, ...] | None:
        """The typo-tolerant terms, narrowed to variants the index holds (None: no match)."""
        narrowed = tuple(
            Term((t.alternatives[0], *(a for a in t.alternatives[1:] if a in known)), t.prefix) for t in terms
        )
        if all(len(t.alternatives) == 1 for t in narrowed):
            return None
        return narrowed

    @staticmethod
    def _filters(principal: Principal, query: SearchQuery) -> list[ColumnElement[bool]]:
        """List filters match any of their values; different filters all apply."""
        conditions: list[ColumnElement[bool]] = []
        scalar = {
            D.entity_type: list(dict.fromkeys(canonical_type(t) for t in query.entity_type)),
            D.integration_id: query.integration,
            D.database: query.database,
            D.schema: query.schema_,
        }
        for column, values in scalar.items():
            if values:
                conditions.append(column.in_(values))
        for field in _LIST_FACETS:
            values = getattr(query, field)
            if values:
                members = select(M.resource_pk).where(
                    M.workspace_id == principal.workspace_id, M.field == field, M.value.in_(values)
                )
                conditions.append(D.pk.in_(members))
        return conditions

    def _tier(
        self, plan: _Plan, lane: Lane, under_hidden: ColumnElement[bool] | None = None
    ) -> ColumnElement[int]:
        words = [t.alternatives[0] for t in plan.terms]
        phrase = " " + " ".join(words)
        multi = len(words) > 1
        context: Sequence[Field] = ("title_full", "description")
        whens: list[tuple[ColumnElement[bool], int]] = []
        if plan.variants:
            whens.append((D.title_key.in_(plan.fuzzy_keys()), 5))
            whens.append((self.index.matches(plan.terms, fields=("title",), pk=D.pk, lane=lane), 3))
            whens.append((self.index.matches(plan.terms, fields=context, pk=D.pk, lane=lane), 1))
            return case(*whens, else_=0)
        # The words columns are space-framed, so " dim cust" is a phrase starting at a word.
        whens.append((D.title_key == plan.key, 5))
        whens.append((func.substr(D.title_key, 1, len(plan.key)) == plan.key, 4))
        whens.append((self._has(D.title_words, phrase), 3))
        if multi:
            whens.append((self._all_words(D.title_words, words), 2))
        # A path names the ancestors: one with a hidden ancestor must not rank by it.
        in_path = self._has(D.path_words, phrase)
        in_context = [
            in_path if under_hidden is None else and_(~under_hidden, in_path),
            self.index.matches(plan.terms, fields=("description",), pk=D.pk, lane=lane),
        ]
        if multi:
            # A qualified name (``analytics.dim_customer``) names some of the path's parts.
            all_in_path = self._all_words(D.path_words, words)
            in_context.append(all_in_path if under_hidden is None else and_(~under_hidden, all_in_path))
        whens.append((or_(*in_context), 1))
        return case(*whens, else_=0)

    def _has(self, column: Any, fragment: str) -> ColumnElement[bool]:
        # A plain substring position: cheaper per row than LIKE '%...%' with an escape character.
        position = func.instr if self.store.dialect == "sqlite" else func.strpos
        found: ColumnElement[bool] = position(column, fragment) > 0
        return found

    def _all_words(self, column: Any, words: Sequence[str]) -> ColumnElement[bool]:
        parts = [self._has(column, f" {w} ") for w in words[:-1]]
        parts.append(self._has(column, f" {words[-1]}"))
        return and_(*parts)

    # ---- reads -------------------------------------------------------------------------

    def _ranked(
        self,
        plan: _Plan,
        lane: Lane,
        where: ColumnElement[bool],
        source: FromClause | None = None,
        under_hidden: ColumnElement[bool] | None = None,
        index: str | None = None,
    ) -> Any:
        """The matches of ``lane`` with what orders them: ``tier`` (computed once a row), ``boost``
        and ``length``. The score, ``tier * TIER_WEIGHT + boost`` (scaled by 1 / COLUMN_SCALE
        for columns), grows with (tier, boost) and is computed from them in Python. ``index``:
        the search documents are read through it (SQLite)."""
        tier = self._tier(plan, lane, under_hidden).label("tier")
        length = func.length(D.title_key).label("length")
        stmt = select(D.pk, D.entity_type, tier, D.boost, length)
        stmt = stmt.select_from(source if source is not None else self._matched(plan, lane))
        if index is not None:
            stmt = stmt.with_hint(search_doc, f"INDEXED BY {index}", "sqlite")
        return stmt.where(where)

    @staticmethod
    def _best(ranked: Any, need: int) -> Any:
        c = ranked.selected_columns
        return ranked.order_by(c.tier.desc(), c.boost.desc(), c.length, c.pk).limit(need)

    def _page(
        self,
        conn: Connection,
        principal: Principal,
        plan: _Plan,
        where: ColumnElement[bool],
        lanes: _Lanes,
        paging: PageRequest,
        counted: _Counted,
        dropped: frozenset[str],
        guard: _PathGuard | None = None,
    ) -> list[SearchHit]:
        """One page of the whole ranking (score, then shorter titles, then pk), merged from the
        best non-columns and, only when they do not settle the page, the best columns. Results
        reach as far as the count (COUNT_LIMIT past it), like the pages."""
        need = min(paging.page * paging.page_size, counted.total)
        under_hidden = None if guard is None else guard.under
        order: list[Any] = []
        if lanes.entities:
            non_columns = and_(where, _NON_COLUMN)
            order = self._best_non_columns(
                conn, plan, non_columns, need, counted.non_columns, under_hidden, dropped
            )
        # Every column scores below one tier (COLUMN_SCALE): when the best non-columns fill the
        # page and all reach a tier, no column can be on it.
        settled = len(order) == need and order[-1].score >= TIER_WEIGHT
        if lanes.columns and not settled:
            order += [_Ranked.of(row) for row in self._top_columns(conn, plan, where, need, under_hidden)]
            order.sort(key=lambda o: (-o.score, o.length, o.pk))
        order = order[(paging.page - 1) * paging.page_size : need]
        rows = {row.pk: row for row in conn.execute(select(resource).where(R.pk.in_([o.pk for o in order])))}
        ordered = [rows[o.pk] for o in order]
        permissions = principal.permissions()
        entities = [repo.to_entity(row, permissions) for row in ordered]
        extras.decorate(conn, ordered, entities)
        visibility.redact(conn, principal, entities, [visibility.hidden_above_bits(r) for r in ordered])
        return [
            SearchHit(
                resource=entity,
                score=round(o.score, 4),
                tier=LOWEST_TIER if o.column else TIER_NAMES[o.tier],
                highlights=highlights(entity, plan.terms),
            )
            for o, entity in zip(order, entities, strict=True)
        ]

    def _best_non_columns(
        self,
        conn: Connection,
        plan: _Plan,
        where: ColumnElement[bool],
        need: int,
        matches: int,
        under_hidden: ColumnElement[bool] | None,
        dropped: frozenset[str],
    ) -> list[_Ranked]:
        """The ``need`` best non-column matches, best first.

        The top tiers are read first: titles equal to the query or starting with it, from the
        index of non-column title keys (``_title_led``), then, for a common word, the matches
        in titles (``_title_ranked``). Only when they do not settle the page is every match
        ranked."""
        index = _usable(ENTITY_DOCUMENTS_INDEX, dropped)
        led = None if ENTITY_TITLE_INDEX in dropped else self._title_led(conn, plan, where, need)
        if led is not None and len(led) < need and matches >= TITLE_RANKED_MIN_MATCHES:
            led = self._title_ranked(conn, plan, where, need, led, under_hidden, index)
        if led is not None and len(led) == need:
            return led
        ranked = self._ranked(plan, "entities", where, under_hidden=under_hidden, index=index)
        return [_Ranked.of(row) for row in conn.execute(self._best(ranked, need))]

    def _title_led(
        self, conn: Connection, plan: _Plan, where: ColumnElement[bool], need: int
    ) -> list[_Ranked] | None:
        """The best of the non-columns whose title is the query or starts with it (the top two
        tiers, above every other match), at most ``need``: all of them when fewer. None when
        the query has no such reading.

        Read from the index of non-column title keys, which holds what the visibility rule and
        the order read: a prefix range of it instead of ranking every match (1,220 rows instead
        of 5,528 for "customer" at 1M). The tier is the same CASE as ``_tier``'s first two
        branches; only matches of the text index count."""
        if plan.variants or not plan.key:
            return None
        after = _successor(plan.key)
        if after is None:
            return None
        # Byte order on PostgreSQL too, whatever the database's collation (the index's own).
        title = D.title_key if self.store.dialect == "sqlite" else D.title_key.collate("C")
        tier = case((D.title_key == plan.key, 5), else_=4).label("tier")
        led = (
            select(D.pk, D.entity_type, tier, D.boost, func.length(D.title_key).label("length"))
            .where(
                title >= plan.key,
                title < after,
                func.substr(D.title_key, 1, len(plan.key)) == plan.key,
                where,
                self.index.matches(plan.terms, pk=D.pk, lane="entities"),
            )
            .with_hint(search_doc, f"INDEXED BY {ENTITY_TITLE_INDEX}", "sqlite")
        )
        return [_Ranked.of(row) for row in conn.execute(self._best(led, need))]

    def _title_ranked(
        self,
        conn: Connection,
        plan: _Plan,
        where: ColumnElement[bool],
        need: int,
        led: list[_Ranked],
        under_hidden: ColumnElement[bool] | None,
        index: str | None,
    ) -> list[_Ranked] | None:
        """The ``need`` best non-columns when ``led`` (every match of the top two tiers, too few)
        and the matches in titles make that many of tier ``title`` or better; else None.

        Ranks only what the text index finds in titles, for a common word a fraction of its
        matches ("overview" at 1M: 6,176 dashboards of 37,056 matches, the rest charts named
        after them by their paths). Every match of tiers ``title_phrase`` and ``title``
        is among them: the title words and the indexed title split the same text at the same
        places, and the last word matches as a prefix in both (only when it is longer than one
        letter, hence the test). The top two tiers need not be (``custom_er``): ``led``."""
        if plan.variants or not plan.terms[-1].prefix:
            return None
        titled = self.index.hits(plan.terms, fields=("title",), lane="entities").subquery("found")
        source = titled.join(search_doc, D.pk == titled.c.pk)
        ranked = self._ranked(plan, "entities", where, source=source, under_hidden=under_hidden, index=index)
        found = {o.pk: o for o in led}
        found.update((o.pk, o) for o in (_Ranked.of(row) for row in conn.execute(self._best(ranked, need))))
        best = sorted(found.values(), key=lambda o: (-o.score, o.length, o.pk))[:need]
        return best if len(best) == need and best[-1].tier >= 2 else None

    def _top_columns(
        self,
        conn: Connection,
        plan: _Plan,
        where: ColumnElement[bool],
        need: int,
        under_hidden: ColumnElement[bool] | None = None,
    ) -> list[Any]:
        """The ``need`` best visible column matches, best first.

        Columns whose title is exactly the query (``customer_id`` for "customer id") are the top
        tier, ordered by boost then pk: the title-key index (0019_search) lists them in that
        order, so when they are enough, the first ``need`` of them are the answer and the other
        (often tens of thousands of) column matches are never visited. Each is still checked
        against the text index, which decides what matches."""
        where = and_(where, D.entity_type == "column")
        if not plan.variants:
            # The words as whole words first: a prefix makes the index gather every word it
            # starts (~3 ms for "customer*" at 1M) for each probe, while the whole-word test
            # decides nearly every candidate; both pass exactly the rows the prefix test passes.
            held = self.index.holds(plan.terms, D.pk)
            if self.index.gathers_prefixes:
                held = or_(self.index.holds(plan.whole_words(), D.pk), held)
            exact = and_(where, D.title_key == plan.key, held)
            probe = self._ranked(plan, "columns", exact, source=search_doc, under_hidden=under_hidden)
            found = list(conn.execute(probe.order_by(D.boost.desc(), D.pk).limit(need)))
            if len(found) == need:
                return found
        ranked = self._ranked(plan, "columns", where, under_hidden=under_hidden)
        return list(conn.execute(self._best(ranked, need)))

    def _count(
        self,
        conn: Connection,
        principal: Principal,
        plan: _Plan,
        where: ColumnElement[bool],
        lanes: _Lanes,
        dropped: frozenset[str],
    ) -> _Counted:
        """The total and the facet counts over the visible matches, exact up to COUNT_LIMIT.

        The non-columns (their own index lane) are counted and faceted first; the columns then
        only up to what is left of the limit. Past it the total is the limit (``gte``) and the
        columns count in the entity_type facet alone (as many as were counted)."""
        limit = COUNT_LIMIT
        counts: dict[str, defaultdict[str, int]] = {name: defaultdict(int) for name in FACETS}
        members = self._has_list_members(conn, principal.workspace_id)
        entities = 0
        if lanes.entities:
            bound = self._bound(conn, plan.terms, "entities", limit + 1)
            index = _usable(ENTITY_DOCUMENTS_INDEX, dropped)
            matched = self._visible(plan, "entities", and_(where, _NON_COLUMN), bound, index=index)
            entities = self._group(conn, principal, matched, counts, members)
        columns = 0
        # Past the limit already, the columns would change neither the total nor the facets.
        if lanes.columns and entities <= limit:
            column_counts: dict[str, defaultdict[str, int]] = {name: defaultdict(int) for name in FACETS}
            room = limit - entities + 1
            only_columns = and_(where, D.entity_type == "column")
            columns = 0
            prefixed = self.index.gathers_prefixes and any(t.prefix for t in plan.terms)
            if prefixed and self._indexed(conn, plan.whole_words(), room) >= room:
                # Whole words stream from the index where a prefix is first gathered whole; they
                # match a subset, so when they alone fill the room the columns are past the limit.
                # (Only tried when the index holds that many whole-word matches at all: a count
                # of index entries alone costs a tenth of visiting them.)
                whole = self._visible(plan, "columns", only_columns, room, terms=plan.whole_words())
                columns = int(conn.execute(select(func.count()).select_from(whole)).scalar_one())
            if columns < room:
                matched = self._visible(plan, "columns", only_columns, room)
                columns = self._group(conn, principal, matched, column_counts, members=False)
            if entities + columns <= limit:
                for name, values in column_counts.items():
                    for value, n in values.items():
                        counts[name][value] += n
                if columns and members:
                    self._group_members(conn, principal, matched, counts)
            else:
                counts["entity_type"]["column"] += columns
        exact = entities + columns <= limit
        self._drop_hidden_ancestry(conn, principal, counts)
        top = {
            name: sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))[:FACET_LIMIT]
            for name, values in counts.items()
        }
        labels = self._labels(conn, principal, top)
        facets = {
            name: [FacetValue(value=v, count=n, label=labels.get((name, v))) for v, n in values]
            for name, values in top.items()
        }
        return _Counted(facets, entities + columns if exact else limit, exact, entities)

    def _indexed(self, conn: Connection, terms: tuple[Term, ...], limit: int, lane: Lane = "all") -> int:
        """How many resources of ``lane`` hold ``terms``, counted up to ``limit``, visible or not."""
        found = self.index.hits(terms, lane=lane).limit(limit).subquery("indexed")
        return int(conn.execute(select(func.count()).select_from(found)).scalar_one())

    def _bound(self, conn: Connection, terms: tuple[Term, ...], lane: Lane, limit: int) -> int | None:
        """``limit``, or None when the index holds no more matches than that: a LIMIT keeps
        SQLite from flattening the grouped subquery (a co-routine per row, about +70% for the
        5,500 non-column matches of "customer" at 1M), and counting the non-columns' index
        entries alone is cheap (0.6 ms). Not for the columns: counting theirs is a pass over the
        whole index (5.8 ms for "products history*" at 1M), more than the LIMIT costs them."""
        if self.store.dialect != "sqlite":
            return limit  # PostgreSQL plans the LIMIT without that cost: no probe
        return limit if self._indexed(conn, terms, limit + 1, lane) > limit else None

    def _visible(
        self,
        plan: _Plan,
        lane: Lane,
        where: ColumnElement[bool],
        limit: int | None,
        terms: tuple[Term, ...] | None = None,
        index: str | None = None,
    ) -> Any:
        """The first ``limit`` visible matches of ``lane`` in index order (their facet values);
        every one with no limit. ``index``: the search documents are read through it (SQLite)."""
        visible = (
            select(D.pk, D.entity_type, D.integration_id, D.database, D.schema)
            .select_from(self._matched(plan, lane, terms))
            .where(where)
        )
        if index is not None:
            visible = visible.with_hint(search_doc, f"INDEXED BY {index}", "sqlite")
        return (visible if limit is None else visible.limit(limit)).subquery("visible")

    @staticmethod
    def _group(
        conn: Connection,
        principal: Principal,
        matched: Any,
        counts: dict[str, defaultdict[str, int]],
        members: bool,
    ) -> int:
        """Add the facet counts of ``matched`` to ``counts``; the number of matches. Tags, owners
        and collections need a second pass, made only when the workspace has any (``members``)."""
        v = matched.c
        grouped = select(v.entity_type, v.integration_id, v.database, v.schema, func.count()).group_by(
            v.entity_type, v.integration_id, v.database, v.schema
        )
        total = 0
        for entity_type, integration_id, db, sch, n in conn.execute(grouped):
            total += n
            for name, value in (
                ("entity_type", entity_type),
                ("integration", integration_id),
                ("database", db),
                ("schema", sch),
            ):
                if value is not None:
                    counts[name][value] += n
        if total and members:
            SearchService._group_members(conn, principal, matched, counts)
        return total

    @staticmethod
    def _group_members(
        conn: Connection, principal: Principal, matched: Any, counts: dict[str, defaultdict[str, int]]
    ) -> None:
        listed = (
            select(M.field, M.value, func.count())
            .select_from(matched.join(resource_member, M.resource_pk == matched.c.pk))
            .where(M.workspace_id == principal.workspace_id, M.field.in_(_LIST_FACETS))
            .group_by(M.field, M.value)
        )
        for field, value, n in conn.execute(listed):
            counts[field][value] += n

    @staticmethod
    def _has_list_members(conn: Connection, workspace_id: str) -> bool:
        """Whether any resource of the workspace has a tag, owner or collection (an index probe).

        Ordered as the lookup index is, so that SQLite reads it: with statistics that say one
        workspace and one field (``teams``) fill the table, its planner scanned the whole table
        for a first row that was not there (200,000 memberships, 20-36 ms a search at 1M)."""
        probe = (
            select(M.resource_pk)
            .where(M.workspace_id == workspace_id, M.field.in_(_LIST_FACETS))
            .order_by(M.workspace_id, M.field)
            .limit(1)
        )
        return conn.execute(probe).first() is not None

    def _drop_hidden_ancestry(
        self, conn: Connection, principal: Principal, counts: dict[str, defaultdict[str, int]]
    ) -> None:
        """A visible table under a hidden schema must not name it: database and schema facet
        values are kept only when the caller can see a database or schema of that name."""
        if principal.is_admin:
            return
        for name in ("database", "schema"):
            wanted = list(counts[name])
            if not wanted:
                continue
            visible = set(
                conn.execute(
                    select(R.title).where(
                        self.resources.visibility(principal, None),
                        R.entity_type == name,
                        R.title.in_(wanted),
                    )
                ).scalars()
            )
            for value in wanted:
                if value not in visible:
                    del counts[name][value]

    def _labels(
        self, conn: Connection, principal: Principal, top: dict[str, list[tuple[str, int]]]
    ) -> dict[tuple[str, str], str]:
        """Display names for facet values; only of things the caller may see."""
        ws = principal.workspace_id
        labels: dict[tuple[str, str], str] = {}

        def ids(name: str) -> list[str]:
            return [v for v, _ in top.get(name, [])]

        if wanted := ids("integration"):
            stmt = select(integration.c.id, integration.c.name).where(
                integration.c.workspace_id == ws, integration.c.id.in_(wanted)
            )
            labels.update((("integration", i), n) for i, n in conn.execute(stmt))
        if wanted := ids("tags"):
            stmt = select(tag.c.id, tag.c.name).where(tag.c.workspace_id == ws, tag.c.id.in_(wanted))
            labels.update((("tags", i), n) for i, n in conn.execute(stmt))
        if wanted := ids("owners"):
            U = catalog_user.c
            people = select(U.id, U.first_name, U.last_name, U.email).where(
                U.workspace_id == ws, U.id.in_(wanted)
            )
            for person in conn.execute(people):
                labels[("owners", person.id)] = (
                    f"{person.first_name} {person.last_name}".strip() or person.email
                )
        if wanted := ids("collections"):
            stmt = select(R.id, R.title).where(self.resources.visibility(principal, None), R.id.in_(wanted))
            labels.update((("collections", i), t) for i, t in conn.execute(stmt) if t)
        for value, _ in top.get("entity_type", []):
            labels[("entity_type", value)] = value.replace("_", " ")
        return labels

    @staticmethod
    def _empty(query: SearchQuery) -> SearchResult:
        return SearchResult(
            query=query.q,
            count=0,
            page=query.page,
            page_size=query.page_size,
            total_pages=0,
            fuzzy=False,
            results=[],
            facets={name: [] for name in FACETS},
        )


# ---- highlighting ------------------------------------------------------------------------


def _tokens(text: str) -> Iterable[tuple[int, int, str]]:
    """Indexed words with their offsets: each alphanumeric run and its camelCase parts."""
    for match in _RUN.finditer(text):
        run = match.group()
        yield match.start(), match.end(), run.lower()
        parts = _camel_parts(run, match.start())
        if len(parts) > 1:
            for part, start in parts:
                yield start, start + len(part), part.lower()


def _matches(word: str, terms: Sequence[Term]) -> bool:
    for term in terms:
        for alternative in term.alternatives:
            if word == alternative or (term.prefix and word.startswith(alternative)):
                return True
    return False


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _html(text: str, spans: list[tuple[int, int]]) -> str:
    out: list[str] = []
    at = 0
    for start, end in spans:
        out.append(html.escape(text[at:start]))
        out.append("<mark>" + html.escape(text[start:end]) + "</mark>")
        at = end
    out.append(html.escape(text[at:]))
    return "".join(out)


def highlights(entity: dict[str, Any], terms: Sequence[Term]) -> list[Highlight]:
    """The fields of a hit where query words occur, with the matched spans marked."""
    found: list[Highlight] = []
    fields: tuple[Field, ...] = ("title", "title_full", "description", "definition")
    for field in fields:
        value = entity.get(field)
        if not isinstance(value, str) or not value:
            continue
        spans = _merge([(s, e) for s, e, word in _tokens(value) if _matches(word, terms)])
        if not spans:
            continue
        text = value
        if field in ("description", "definition") and len(value) > 2 * FRAGMENT_RADIUS:
            start = max(0, spans[0][0] - FRAGMENT_RADIUS)
            end = min(len(value), spans[0][1] + FRAGMENT_RADIUS)
            text = value[start:end]
            spans = [(max(s, start) - start, min(e, end) - start) for s, e in spans if s < end and e > start]
        found.append(Highlight(field=field, text=text, spans=spans, html=_html(text, spans)))
    return found


__all__ = ["SearchService", "highlights", "one_edit_variants", "query_words"]
