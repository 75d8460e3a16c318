"""Which entity may sit under which (spec section 7), and what each type inherits."""

from __future__ import annotations

import re
from functools import lru_cache

from cairn.core.errors import InvalidInput
from cairn.models.resources import ENTITY_TYPE_ALIASES, ENTITY_TYPES

# entity type -> allowed parent types; an empty set means "root only".
ALLOWED_PARENTS: dict[str, frozenset[str]] = {
    "database": frozenset(),
    "schema": frozenset({"database"}),
    "table": frozenset({"schema"}),
    "column": frozenset({"table", "column"}),
    "dashboard_group": frozenset(),
    "dashboard": frozenset({"dashboard_group"}),
    "chart": frozenset({"dashboard"}),
    "job_group": frozenset(),
    "job": frozenset({"job_group"}),
    "category": frozenset(),
    "event": frozenset({"category"}),
    "event_property": frozenset({"event"}),
    "query": frozenset(),
    "document": frozenset({"document"}),
    "glossary": frozenset({"glossary"}),
    "question": frozenset(),
    "question_reply": frozenset({"question"}),
    "test_suite": frozenset(),
    "test": frozenset({"test_suite"}),
    "collection": frozenset({"collection"}),
    "model": frozenset(),
    "dataset": frozenset(),
}

# Types that cannot exist without a parent.
PARENT_REQUIRED: frozenset[str] = frozenset({"schema", "column", "question_reply"})

# Warehouse types belong to an integration (given, or inherited from the parent).
INTEGRATION_REQUIRED: frozenset[str] = frozenset({"database", "schema", "table", "column"})

# Deleting one of these deletes its subtree; other types orphan their children.
CASCADE_DELETE: frozenset[str] = frozenset(
    {
        "database",
        "schema",
        "table",
        "column",
        "dashboard_group",
        "dashboard",
        "chart",
        "job_group",
        "job",
        "category",
        "event",
        "event_property",
        "question",
        "test_suite",
        "test",
    }
)

# Ancestor titles recorded in search_metadata under the ancestor's type name.
PATH_KEYS: frozenset[str] = frozenset(
    {"database", "schema", "table", "dashboard_group", "dashboard", "job_group"}
)


def canonical_type(value: str) -> str:
    name = ENTITY_TYPE_ALIASES.get(value, value)
    if name not in ENTITY_TYPES:
        raise InvalidInput(f"unknown entity_type '{value}'", field="entity_type")
    return name


def check_parent(entity_type: str, parent_type: str | None) -> None:
    allowed = ALLOWED_PARENTS[entity_type]
    if parent_type is None:
        if entity_type in PARENT_REQUIRED:
            wanted = " or ".join(sorted(allowed))
            raise InvalidInput(f"a {entity_type} needs a parent of type {wanted}", field="parent")
        return
    if parent_type not in allowed:
        if not allowed:
            raise InvalidInput(f"a {entity_type} cannot have a parent", field="parent")
        wanted = " or ".join(sorted(allowed))
        raise InvalidInput(
            f"a {entity_type} cannot be placed under a {parent_type}; its parent must be a {wanted}",
            field="parent",
        )


def derive_search_metadata(
    entity_type: str,
    title: str,
    parent_metadata: dict[str, object] | None,
    own: dict[str, object] | None,
) -> dict[str, object]:
    """Ancestry context used by filters (``schema``, ``database``) and search."""
    metadata: dict[str, object] = dict(own or {})
    if parent_metadata:
        metadata.update({k: v for k, v in parent_metadata.items() if k != "type"})
    if entity_type in PATH_KEYS:
        metadata[entity_type] = title
    metadata["type"] = entity_type
    return metadata


def title_full(title: str, parent_title_full: str | None) -> str:
    return f"{parent_title_full}.{title}" if parent_title_full else title


_WORD = re.compile(r"[^\W_]+")


@lru_cache(maxsize=1 << 14)  # catalogs repeat their column names
def camel_case(title: str) -> str:
    """``Sample Table`` -> ``sampleTable`` (the seed's ``title_cased`` example)."""
    words: list[str] = _WORD.findall(title)
    if not words:
        return ""
    return words[0].lower() + "".join(w[:1].upper() + w[1:].lower() for w in words[1:])
