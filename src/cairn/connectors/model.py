"""What a connector hands the merge engine: plain nodes keyed by a stable source path."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

# Scalar columns that only the source knows: re-crawls overwrite them.
SOURCE_FIELDS: tuple[str, ...] = ("native_type", "row_count", "byte_size", "external_updated_at", "url")
# Scalars a user may also write in Cairn: the source writes them only while nobody else has.
PROTECTED_FIELDS: tuple[str, ...] = ("description", "definition")
# Lists a source contributes items to; items a user added are kept.
MERGED_LISTS: tuple[str, ...] = ("owners", "tags", "collections", "sources")


@dataclass
class Node:
    """One catalog resource as a source sees it.

    ``key`` is the resource's ``databuilder_id`` (integration and path, stable across crawls);
    ``parent`` is the key of its parent node. A node with ``target_id`` creates nothing: it
    decorates that existing resource (a dbt model's docs on the warehouse table it builds) and
    writes only protected fields and lists.
    """

    key: str
    entity_type: str
    title: str
    parent: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    target_id: str | None = None
    published: bool = True


@dataclass
class Summary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    staled: int = 0
    unstaled: int = 0
    errors: list[str] = field(default_factory=list)
    edges: int = 0
    integration: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "integration": self.integration,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "staled": self.staled,
            "unstaled": self.unstaled,
            "lineage_edges": self.edges,
            "errors": list(self.errors),
        }


def path_key(*parts: str) -> str:
    """A databuilder id from path parts; '%' and '/' inside a name are escaped so parts stay apart."""
    return "/".join(p.replace("%", "%25").replace("/", "%2F") for p in parts)


def key_parts(key: str) -> list[str]:
    return [unquote(p) for p in key.split("/")]


def under(key: str, prefixes: Iterable[str]) -> bool:
    return any(key == p or key.startswith(p + "/") for p in prefixes)
