"""The catalog filter and sort language (spec section 6).

``parse_filter`` and ``parse_sort`` turn the JSON a client sends into a validated tree; the
storage layer compiles that tree to SQL. Every error names the offending path and field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from cairn.core.errors import InvalidInput
from cairn.core.hierarchy import canonical_type
from cairn.models.common import check_text
from cairn.models.resources import LIST_FIELDS

FieldKind = Literal["text", "type", "bool", "int", "datetime", "list", "meta"]

MAX_DEPTH = 20
MAX_NODES = 500
MAX_IN_VALUES = 1000
MAX_SORT_DEPTH = 8
MAX_TEXT_VALUE = 1000


@dataclass(frozen=True)
class FieldSpec:
    name: str  # the canonical field name (an entity key)
    kind: FieldKind
    column: str  # the storage column (for ``meta``: the search_metadata key)
    nullable: bool = True


def _fields() -> dict[str, FieldSpec]:
    specs: list[FieldSpec] = []
    for name in (
        "id",
        "workspace_id",
        "title",
        "title_full",
        "title_cased",
        "native_type",
        "icon",
        "description",
        "definition",
        "url",
        "databuilder_id",
        "question_status",
        "question_priority",
        "question_answered_by",
        "question_assigned_to",
        "multiplayer_last_modified_by",
    ):
        specs.append(FieldSpec(name, "text", name, nullable=name not in ("id", "workspace_id")))
    specs.append(FieldSpec("parent", "text", "parent_id"))
    specs.append(FieldSpec("integration", "text", "integration_id"))
    specs.append(FieldSpec("entity_type", "type", "entity_type", nullable=False))
    for name in ("published", "archived", "pii", "verified", "stale", "forced_unstale_by_user"):
        specs.append(FieldSpec(name, "bool", name, nullable=False))
    for name in ("children_count", "internal_usage", "external_usage", "definition_version"):
        specs.append(FieldSpec(name, "int", name, nullable=False))
    specs.append(FieldSpec("total_usage", "int", "total_usage", nullable=False))
    for name in ("row_count", "byte_size"):
        specs.append(FieldSpec(name, "int", name))
    for name in ("created_at", "updated_at"):
        specs.append(FieldSpec(name, "datetime", name, nullable=False))
    for name in ("archived_at", "stale_at", "external_updated_at", "multiplayer_last_modified"):
        specs.append(FieldSpec(name, "datetime", name))
    for name in LIST_FIELDS:
        specs.append(FieldSpec(name, "list", name, nullable=False))
    for key in ("schema", "database", "cluster", "table"):
        specs.append(FieldSpec(key, "meta", key))
    return {spec.name: spec for spec in specs}


FIELDS: dict[str, FieldSpec] = _fields()
ALIASES: dict[str, str] = {
    "type": "entity_type",
    "parent_id": "parent",
    "integration_id": "integration",
    "externally_updated_at": "external_updated_at",
}


def resolve_field(name: Any, *, path: str) -> FieldSpec:
    if not isinstance(name, str):
        raise InvalidInput(f"{path}.field must be a string", field="filter")
    spec = FIELDS.get(ALIASES.get(name, name))
    if spec is None:
        raise InvalidInput(f"{path}: unknown filter field '{name}'", field="filter")
    return spec


@dataclass(frozen=True)
class Condition:
    operator: Literal["exact", "contains", "in", "is_set"]
    field: FieldSpec
    value: Any  # normalised: str | bool | int | datetime | None | tuple[...]


@dataclass(frozen=True)
class Logical:
    operator: Literal["and", "or", "not"]
    operands: tuple[Filter, ...]


Filter = Condition | Logical


# Fields whose value names a resource's ancestors (filters and sorts on them must not reveal
# an ancestor the caller may not see: core/visibility.py).
PATH_FIELDS = frozenset({"title_full", "cluster", "database", "schema", "table"})


@dataclass(frozen=True)
class SortKey:
    field: FieldSpec
    descending: bool


def loads_param(raw: str, *, name: str) -> Any:
    text = raw.strip()
    if not text:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"{name} is not valid JSON: {exc}", field=name) from exc


def parse_filter(data: Any) -> Filter | None:
    if data is None:
        return None
    counter = [0]
    return _parse_node(data, path="filter", depth=1, counter=counter)


def _parse_node(data: Any, *, path: str, depth: int, counter: list[int]) -> Filter:
    if depth > MAX_DEPTH:
        raise InvalidInput(f"{path}: filter is nested deeper than {MAX_DEPTH} levels", field="filter")
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise InvalidInput(f"filter has more than {MAX_NODES} conditions", field="filter")
    if not isinstance(data, dict):
        raise InvalidInput(f"{path} must be a JSON object", field="filter")
    operator = data.get("operator")
    if operator in ("and", "or", "not"):
        operands = data.get("operands")
        if not isinstance(operands, list):
            raise InvalidInput(f"{path}: '{operator}' needs an 'operands' list", field="filter")
        if operator == "not" and not operands:
            raise InvalidInput(f"{path}: 'not' needs at least one operand", field="filter")
        parsed = tuple(
            _parse_node(item, path=f"{path}.operands[{i}]", depth=depth + 1, counter=counter)
            for i, item in enumerate(operands)
        )
        return Logical(operator, parsed)
    if operator in ("exact", "contains", "in", "is_set"):
        spec = resolve_field(data.get("field"), path=path)
        value = data.get("value")
        return Condition(operator, spec, _check_value(operator, spec, value, path=path))
    raise InvalidInput(
        f"{path}: unknown operator {operator!r}; use exact, contains, in, is_set, and, or, not",
        field="filter",
    )


def _check_value(operator: str, spec: FieldSpec, value: Any, *, path: str) -> Any:
    where = f"{path} (field '{spec.name}')"
    if operator == "is_set":
        if value is None or isinstance(value, bool):
            return True if value is None else value
        raise InvalidInput(f"{where}: is_set takes null, true or false", field="filter")
    if operator == "in":
        if not isinstance(value, list):
            raise InvalidInput(f"{where}: 'in' needs a list value", field="filter")
        if len(value) > MAX_IN_VALUES:
            raise InvalidInput(f"{where}: 'in' takes at most {MAX_IN_VALUES} values", field="filter")
        return tuple(_scalar(spec, item, where=where) for item in value)
    if operator == "contains":
        if spec.kind not in ("text", "type", "list", "meta"):
            raise InvalidInput(f"{where}: 'contains' works on text and list fields only", field="filter")
        if not isinstance(value, str):
            raise InvalidInput(f"{where}: 'contains' needs a string value", field="filter")
        if spec.kind in ("list", "type"):
            return _scalar(spec, value, where=where)
        return _text(value, where=where)
    return _scalar(spec, value, where=where)


def _text(value: str, *, where: str) -> str:
    if len(value) > MAX_TEXT_VALUE:
        raise InvalidInput(f"{where}: value is longer than {MAX_TEXT_VALUE} characters", field="filter")
    try:
        return check_text(value)
    except ValueError as exc:
        raise InvalidInput(f"{where}: value {exc}", field="filter") from exc


def _scalar(spec: FieldSpec, value: Any, *, where: str) -> Any:
    if value is None:
        return None
    kind = spec.kind
    if kind in ("text", "meta", "list"):
        if not isinstance(value, str):
            raise InvalidInput(f"{where}: value must be a string", field="filter")
        return _text(value, where=where)
    if kind == "type":
        if not isinstance(value, str):
            raise InvalidInput(f"{where}: value must be a string", field="filter")
        return canonical_type(value) if value in _known_types() else _text(value, where=where)
    if kind == "bool":
        if not isinstance(value, bool):
            raise InvalidInput(f"{where}: value must be true or false", field="filter")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"{where}: value must be a number", field="filter")
        if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
            raise InvalidInput(f"{where}: value must be a whole number", field="filter")
        number = int(value)
        if abs(number) > 2**63 - 1:
            raise InvalidInput(f"{where}: value is out of range", field="filter")
        return number
    if kind == "datetime":
        if not isinstance(value, str):
            raise InvalidInput(f"{where}: value must be an ISO-8601 timestamp", field="filter")
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise InvalidInput(f"{where}: value must be an ISO-8601 timestamp", field="filter") from exc
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    raise InvalidInput(f"{where}: field cannot be filtered", field="filter")  # pragma: no cover


def _known_types() -> frozenset[str]:
    from cairn.models.resources import ENTITY_TYPE_ALIASES, ENTITY_TYPES

    return frozenset(ENTITY_TYPES) | frozenset(ENTITY_TYPE_ALIASES)


def mentions(node: Filter | None, field_name: str) -> bool:
    """Whether a filter refers to a field (hidden resources show only when asked for)."""
    if node is None:
        return False
    if isinstance(node, Condition):
        return node.field.name == field_name
    return any(mentions(child, field_name) for child in node.operands)


def parse_sort(data: Any) -> list[SortKey]:
    keys: list[SortKey] = []
    node = data
    depth = 0
    path = "sort"
    while node is not None:
        depth += 1
        if depth > MAX_SORT_DEPTH:
            raise InvalidInput(f"sort has more than {MAX_SORT_DEPTH} tie-breakers", field="sort")
        if not isinstance(node, dict):
            raise InvalidInput(f"{path} must be a JSON object", field="sort")
        spec = resolve_field(node.get("field"), path=path)
        if spec.kind == "list":
            raise InvalidInput(f"{path}: cannot sort by list field '{spec.name}'", field="sort")
        order = node.get("order", "asc")
        if order not in ("asc", "desc"):
            raise InvalidInput(f"{path}.order must be 'asc' or 'desc'", field="sort")
        keys.append(SortKey(spec, order == "desc"))
        node = node.get("tie_breaker")
        path = f"{path}.tie_breaker"
    return keys


DEFAULT_SORT: list[SortKey] = [SortKey(FIELDS["external_usage"], True)]


def exact(field_name: str, value: Any) -> Condition:
    spec = FIELDS[ALIASES.get(field_name, field_name)]
    return Condition("exact", spec, value)


def all_of(*nodes: Filter | None) -> Filter | None:
    present = tuple(n for n in nodes if n is not None)
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    return Logical("and", present)
