"""Full-text match conditions, one implementation per backend (index: migration 0012_search).

The core describes what must match (terms, the fields they must be in, phrase or not); each
backend turns that into ``resource.pk IN (<index lookup>)``, so the rest of a search query
(visibility, filters, ranking, facets) is ordinary SQL over ``resource`` on both backends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any, Literal, Protocol

from sqlalchemy import ColumnElement, Integer, bindparam, column, func, select, text

from cairn.store.schema import resource, resource_search

Field = Literal["title", "title_full", "description", "definition"]
ALL_FIELDS: tuple[Field, ...] = ("title", "title_full", "description", "definition")


@dataclass(frozen=True)
class Term:
    """One query word: any of ``alternatives`` (the word, or its one-typo variants) matches;
    with ``prefix``, words that start with an alternative match too."""

    alternatives: tuple[str, ...]
    prefix: bool = False


class TextIndex(Protocol):
    def matches(
        self, terms: Sequence[Term], *, fields: Sequence[Field] = ALL_FIELDS, phrase: bool = False
    ) -> ColumnElement[bool]:
        """Resources whose ``fields`` hold every term (adjacent and in order with ``phrase``)."""
        ...


_names = count()


def _param(value: str) -> Any:
    # Unique names: one statement holds several match conditions.
    return bindparam(f"match_{next(_names)}", value)


def _quote(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


class Fts5Index:
    """SQLite: the contentless FTS5 table ``resource_fts`` (rowid = resource.pk)."""

    def expression(self, terms: Sequence[Term], fields: Sequence[Field], phrase: bool) -> str:
        if phrase and all(len(t.alternatives) == 1 for t in terms):
            body = " + ".join(_quote(t.alternatives[0]) for t in terms)
            if terms[-1].prefix:
                body += " *"
        else:
            parts = []
            for term in terms:
                star = " *" if term.prefix else ""
                parts.append("(" + " OR ".join(_quote(a) + star for a in term.alternatives) + ")")
            body = " AND ".join(parts)
        if tuple(fields) == ALL_FIELDS:
            return body
        return "{" + " ".join(fields) + "} : (" + body + ")"

    def matches(
        self, terms: Sequence[Term], *, fields: Sequence[Field] = ALL_FIELDS, phrase: bool = False
    ) -> ColumnElement[bool]:
        param = _param(self.expression(terms, fields, phrase))
        lookup = (
            text(f"SELECT rowid FROM resource_fts WHERE resource_fts MATCH :{param.key}")
            .bindparams(param)
            .columns(column("rowid", Integer))
        )
        return resource.c.pk.in_(lookup)


_WEIGHTS: dict[Field, str] = {"title": "A", "title_full": "B", "description": "C", "definition": "D"}


def _lexeme(word: str, prefix: bool, weights: str) -> str:
    suffix = ("*" if prefix else "") + weights
    return "'" + word.replace("'", "''") + "'" + (":" + suffix if suffix else "")


class TsvectorIndex:
    """PostgreSQL: ``resource_search.vector`` (weighted tsvector, GIN index)."""

    def expression(self, terms: Sequence[Term], fields: Sequence[Field], phrase: bool) -> str:
        weights = "" if tuple(fields) == ALL_FIELDS else "".join(_WEIGHTS[f] for f in fields)
        parts = []
        for term in terms:
            alternatives = [_lexeme(a, term.prefix, weights) for a in term.alternatives]
            parts.append(alternatives[0] if len(alternatives) == 1 else "(" + " | ".join(alternatives) + ")")
        return (" <-> " if phrase else " & ").join(parts)

    def matches(
        self, terms: Sequence[Term], *, fields: Sequence[Field] = ALL_FIELDS, phrase: bool = False
    ) -> ColumnElement[bool]:
        query = func.to_tsquery("simple", _param(self.expression(terms, fields, phrase)))
        S = resource_search.c
        return resource.c.pk.in_(select(S.resource_pk).where(S.vector.bool_op("@@")(query)))


def text_index(dialect: str) -> TextIndex:
    if dialect == "sqlite":
        return Fts5Index()
    if dialect == "postgresql":
        return TsvectorIndex()
    raise ValueError(f"no text index for {dialect}")


__all__ = ["ALL_FIELDS", "Field", "Fts5Index", "Term", "TextIndex", "TsvectorIndex", "text_index"]
