"""Full-text match conditions, one implementation per backend (index: migration 0012_search).

The core describes what must match (terms and the fields they must be in); each
backend turns that into ``resource.pk IN (<index lookup>)``, so the rest of a search query
(visibility, filters, ranking, facets) is ordinary SQL over ``resource`` on both backends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    column,
    exists,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
)

from cairn.store.schema import resource, resource_search

Field = Literal["title", "title_full", "description", "definition"]
# Which resources a lookup covers: every one, the non-columns alone (their own index lane,
# migration 0019_search), or the columns (on SQLite the whole index, narrowed by the join).
Lane = Literal["all", "entities", "columns"]
ALL_FIELDS: tuple[Field, ...] = ("title", "title_full", "description", "definition")
# Frequencies only rank typo corrections; counting further would cost a pass over a common
# word's every match.
FREQUENCY_CAP = 1000


@dataclass(frozen=True)
class Term:
    """One query word: any of ``alternatives`` (the word, or its one-typo variants) matches;
    with ``prefix``, words that start with an alternative match too."""

    alternatives: tuple[str, ...]
    prefix: bool = False


class TextIndex(Protocol):
    # Whether a prefix term costs a gathering of every word it starts before the first match
    # (FTS5; a GIN index scans a key range instead): then whole words are worth trying first.
    gathers_prefixes: bool

    def matches(
        self,
        terms: Sequence[Term],
        *,
        fields: Sequence[Field] = ALL_FIELDS,
        pk: ColumnElement[Any] = resource.c.pk,
        lane: Lane = "all",
    ) -> ColumnElement[bool]:
        """``pk`` (a resource key column) is of a resource whose ``fields`` hold every term."""
        ...

    def holds(self, terms: Sequence[Term], pk: ColumnElement[Any]) -> ColumnElement[bool]:
        """The same test as a probe per row (``EXISTS`` by key): for a few candidate rows found
        otherwise, where ``matches`` would first list every match."""
        ...

    def hits(
        self, terms: Sequence[Term], *, fields: Sequence[Field] = ALL_FIELDS, lane: Lane = "all"
    ) -> Select[tuple[int]]:
        """The keys (column ``pk``) of the resources of ``lane`` whose ``fields`` hold every term:
        joined to a table, it drives a search from the index instead of building an IN list of
        every match. The "columns" lane may also yield other resources (the caller filters)."""
        ...

    def hits_beyond(self, terms: Sequence[Term], fields: Sequence[Field]) -> Select[tuple[int]]:
        """The keys of the resources holding every term, but not every term within ``fields``
        (what matches only through the other fields), worked out inside the index."""
        ...

    def frequencies(self, conn: Connection, words: Sequence[str]) -> dict[str, int]:
        """Of ``words``, those the index holds, each with the number of resources holding it
        (counted up to ``FREQUENCY_CAP``, the same on both backends)."""
        ...


def _quote(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


_FTS = table("resource_fts", column("rowid", Integer))
_FTS_ENTITIES = table("resource_fts_entities", column("rowid", Integer))


class Fts5Index:
    """SQLite: the contentless FTS5 table ``resource_fts`` (rowid = resource.pk)."""

    gathers_prefixes = True

    def frequencies(self, conn: Connection, words: Sequence[str]) -> dict[str, int]:
        # An OR of hundreds of typo variants costs tens of milliseconds in FTS5, the vocabulary
        # lookup of which exist a few. The vocabulary counts a word's documents by reading its
        # whole list (12 ms for "customer" in the whole index at 1M): the lane without columns
        # is read first, and a word it already holds FREQUENCY_CAP times is not looked up again.
        capped = {
            w: n
            for w, n in self._vocabulary(conn, "resource_fts_entities", words).items()
            if n >= FREQUENCY_CAP
        }
        found = self._vocabulary(conn, "resource_fts", [w for w in words if w not in capped])
        return {**found, **capped}

    @staticmethod
    def _vocabulary(conn: Connection, lane: str, words: Sequence[str]) -> dict[str, int]:
        conn.exec_driver_sql(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{lane}_terms USING fts5vocab('main', '{lane}', 'row')"
        )
        # The words as one JSON array: binding each of a typo's 500 variants as its own
        # parameter cost more in SQLAlchemy (3 ms) than the lookups in SQLite.
        rows = conn.exec_driver_sql(
            f"SELECT term, doc FROM temp.{lane}_terms WHERE term IN (SELECT value FROM json_each(?))",
            (orjson.dumps(list(words)).decode(),),
        )
        return {term: min(int(docs), FREQUENCY_CAP) for term, docs in rows}

    def expression(self, terms: Sequence[Term], fields: Sequence[Field]) -> str:
        parts = []
        for term in terms:
            star = " *" if term.prefix else ""
            parts.append("(" + " OR ".join(_quote(a) + star for a in term.alternatives) + ")")
        body = " AND ".join(parts)
        if tuple(fields) == ALL_FIELDS:
            return body
        return "{" + " ".join(fields) + "} : (" + body + ")"

    def matches(
        self,
        terms: Sequence[Term],
        *,
        fields: Sequence[Field] = ALL_FIELDS,
        pk: ColumnElement[Any] = resource.c.pk,
        lane: Lane = "all",
    ) -> ColumnElement[bool]:
        return pk.in_(self.hits(terms, fields=fields, lane=lane))

    def holds(self, terms: Sequence[Term], pk: ColumnElement[Any]) -> ColumnElement[bool]:
        # FTS5 answers MATCH with ``rowid = ?`` by seeking each term's list to that row.
        return exists(self.hits(terms).where(_FTS.c.rowid == pk))

    def hits(
        self, terms: Sequence[Term], *, fields: Sequence[Field] = ALL_FIELDS, lane: Lane = "all"
    ) -> Select[tuple[int]]:
        return self._matching(self.expression(terms, fields), lane)

    def hits_beyond(self, terms: Sequence[Term], fields: Sequence[Field]) -> Select[tuple[int]]:
        # FTS5's binary NOT: the row lists are merged inside the index, no row is looked up.
        every = self.expression(terms, ALL_FIELDS)
        return self._matching(f"({every}) NOT {self.expression(terms, fields)}", "all")

    @staticmethod
    def _matching(expression: str, lane: Lane) -> Select[tuple[int]]:
        fts = _FTS_ENTITIES if lane == "entities" else _FTS
        # Anonymous binds keep the statement's shape (and SQLAlchemy's compiled cache) stable.
        match = literal_column(fts.name).op("MATCH")(literal(expression))
        return select(fts.c.rowid.label("pk")).where(match)


# The EXISTS probe filters first, so only the few words that exist are counted.
_LEXEME_FREQUENCIES = text(
    "SELECT w, (SELECT count(*) FROM (SELECT 1 FROM resource_search "
    "WHERE vector @@ to_tsquery('simple', quote_literal(w)) LIMIT :cap) AS held) "
    "FROM unnest(CAST(:words AS text[])) AS w WHERE EXISTS "
    "(SELECT 1 FROM resource_search WHERE vector @@ to_tsquery('simple', quote_literal(w)))"
)

_WEIGHTS: dict[Field, str] = {"title": "A", "title_full": "B", "description": "C", "definition": "D"}


def _lexeme(word: str, prefix: bool, weights: str) -> str:
    suffix = ("*" if prefix else "") + weights
    return "'" + word.replace("'", "''") + "'" + (":" + suffix if suffix else "")


class TsvectorIndex:
    """PostgreSQL: ``resource_search.vector`` (weighted tsvector, GIN index)."""

    gathers_prefixes = False

    def frequencies(self, conn: Connection, words: Sequence[str]) -> dict[str, int]:
        # One probe of the GIN index per word: a missing key costs microseconds, while a tsquery
        # OR of hundreds of variants made every match and ranking condition seconds long.
        if not words:
            return {}
        rows = conn.execute(_LEXEME_FREQUENCIES, {"words": list(words), "cap": FREQUENCY_CAP})
        return {word: int(held) for word, held in rows}

    def expression(self, terms: Sequence[Term], fields: Sequence[Field]) -> str:
        weights = "" if tuple(fields) == ALL_FIELDS else "".join(_WEIGHTS[f] for f in fields)
        parts = []
        for term in terms:
            alternatives = [_lexeme(a, term.prefix, weights) for a in term.alternatives]
            parts.append(alternatives[0] if len(alternatives) == 1 else "(" + " | ".join(alternatives) + ")")
        return " & ".join(parts)

    def matches(
        self,
        terms: Sequence[Term],
        *,
        fields: Sequence[Field] = ALL_FIELDS,
        pk: ColumnElement[Any] = resource.c.pk,
        lane: Lane = "all",
    ) -> ColumnElement[bool]:
        return pk.in_(self.hits(terms, fields=fields, lane=lane))

    def holds(self, terms: Sequence[Term], pk: ColumnElement[Any]) -> ColumnElement[bool]:
        return exists(self.hits(terms).where(resource_search.c.resource_pk == pk))

    def hits_beyond(self, terms: Sequence[Term], fields: Sequence[Field]) -> Select[tuple[int]]:
        # The weighted lexemes of ``fields`` negated: the GIN index finds the rows by the first part.
        every, within = self.expression(terms, ALL_FIELDS), self.expression(terms, fields)
        return self._matching(f"({every}) & !({within})", "all")

    def hits(
        self, terms: Sequence[Term], *, fields: Sequence[Field] = ALL_FIELDS, lane: Lane = "all"
    ) -> Select[tuple[int]]:
        return self._matching(self.expression(terms, fields), lane)

    @staticmethod
    def _matching(expression: str, lane: Lane) -> Select[tuple[int]]:
        query = func.to_tsquery("simple", literal(expression))
        S = resource_search.c
        found = select(S.resource_pk.label("pk")).where(S.vector.bool_op("@@")(query))
        if lane == "entities":
            return found.where(~S.is_column)  # the partial GIN index of 0019_search (same predicate)
        if lane == "columns":
            return found.where(S.is_column)
        return found


# The FTS5 tables of the text index: every resource, and the non-columns' lane (0019_search).
FTS_TABLES = ("resource_fts", "resource_fts_entities")


def merge_segments(conn: Connection) -> None:
    """SQLite: merge each FTS5 table of the text index into one segment (its ``optimize``).

    A bulk load leaves a segment per flushed batch that automerge has not folded yet (20 after
    a 1M import); every term lookup seeks in each of them, so the few hundred variant lookups
    of a typo search cost 11 ms instead of 1.3 ms at 1M, and every query pays a little. About
    1.2 s a table at 1M. PostgreSQL's GIN index keeps a small pending list instead (0017)."""
    if conn.dialect.name != "sqlite":
        return
    for name in FTS_TABLES:
        conn.exec_driver_sql(f"INSERT INTO {name}({name}) VALUES ('optimize')")


def segment_counts(conn: Connection) -> dict[str, int]:
    """SQLite: the number of segments of each FTS5 table of the text index (empty elsewhere)."""
    if conn.dialect.name != "sqlite":
        return {}
    return {
        name: int(conn.exec_driver_sql(f"SELECT count(DISTINCT segid) FROM {name}_idx").scalar_one())
        for name in FTS_TABLES
    }


def text_index(dialect: str) -> TextIndex:
    if dialect == "sqlite":
        return Fts5Index()
    if dialect == "postgresql":
        return TsvectorIndex()
    raise ValueError(f"no text index for {dialect}")


__all__ = [
    "ALL_FIELDS",
    "FTS_TABLES",
    "Field",
    "Fts5Index",
    "Lane",
    "Term",
    "TextIndex",
    "TsvectorIndex",
    "merge_segments",
    "segment_counts",
    "text_index",
]
