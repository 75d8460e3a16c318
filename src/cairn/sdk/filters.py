"""Catalog filters and sorts that read like Python.

>>> from cairn import F, S
>>> tables = (F.type == "table") & F.title.contains("cust") & ~(F.pii == True)
>>> tables.to_json()["operator"]
'and'
>>> (F.native_type.isin(["table", "view"]) | F.description.is_set()).to_json()["operator"]
'or'
>>> S.desc("external_usage").then(S.asc("title")).to_json()
{'field': 'external_usage', 'order': 'desc', 'tie_breaker': {'field': 'title', 'order': 'asc'}}

Every expression is checked by the same parser the server uses as soon as it is built, so an
unknown field, ``contains`` on a number or ``isin`` without a list fails with ``FilterError``
before any request is sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cairn.core import filters as core
from cairn.core.errors import InvalidInput
from cairn.sdk._errors import InvalidInputError


class FilterError(InvalidInputError):
    """A filter or sort the server would refuse (raised before any request)."""


def _checked_filter(tree: dict[str, Any]) -> dict[str, Any]:
    try:
        core.parse_filter(tree)
    except InvalidInput as exc:
        raise FilterError(exc.message) from None
    return tree


class Expr:
    """A filter expression; combine with ``&``, ``|`` and ``~``."""

    __slots__ = ("_tree",)

    def __init__(self, tree: dict[str, Any]) -> None:
        self._tree = _checked_filter(tree)

    def to_json(self) -> dict[str, Any]:
        """The catalog filter JSON (secoda-api section 6)."""
        return self._tree

    def _combine(self, operator: str, other: object) -> Expr:
        if not isinstance(other, Expr):
            raise FilterError(f"cannot combine a filter with {type(other).__name__} using {operator!r}")
        operands: list[dict[str, Any]] = []
        for side in (self._tree, other._tree):
            # (a & b) & c is one 'and' of three, not a nested tree: shallower and easier to read.
            if side.get("operator") == operator:
                operands.extend(side["operands"])
            else:
                operands.append(side)
        return Expr({"operator": operator, "operands": operands})

    def __and__(self, other: object) -> Expr:
        return self._combine("and", other)

    def __or__(self, other: object) -> Expr:
        return self._combine("or", other)

    def __invert__(self) -> Expr:
        return Expr({"operator": "not", "operands": [self._tree]})

    def __bool__(self) -> bool:
        raise FilterError("use &, | and ~ to combine filters (and, or, not cannot be overloaded)")

    def __repr__(self) -> str:
        return f"Expr({self._tree!r})"


class Field:
    """One filterable field: ``F.title``, ``F.type``, ``F["schema"]``."""

    __slots__ = ("name",)
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, name: str) -> None:
        try:
            core.resolve_field(name, path="filter")
        except InvalidInput as exc:
            raise FilterError(exc.message) from None
        self.name = name

    def _condition(self, operator: str, value: Any) -> Expr:
        return Expr({"operator": operator, "field": self.name, "value": value})

    def __eq__(self, value: object) -> Expr:  # type: ignore[override]
        return self._condition("exact", value)

    def __ne__(self, value: object) -> Expr:  # type: ignore[override]
        return ~self._condition("exact", value)

    def contains(self, value: str) -> Expr:
        """Case-insensitive substring (text fields) or membership (list fields such as ``tags``)."""
        return self._condition("contains", value)

    def isin(self, values: Iterable[Any]) -> Expr:
        """Equal to any of ``values``."""
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            raise FilterError(f"{self.name}.isin() takes a list of values, not {type(values).__name__}")
        return self._condition("in", list(values))

    def is_set(self, flag: bool = True) -> Expr:
        """Has a value (``False``: has none; for list fields, is empty)."""
        return self._condition("is_set", flag)

    def __repr__(self) -> str:
        return f"F.{self.name}"


class _Fields:
    """``F.<field>`` builds conditions on catalog fields."""

    def __getattr__(self, name: str) -> Field:
        if name.startswith("__"):
            raise AttributeError(name)
        return Field(name)

    def __getitem__(self, name: str) -> Field:
        return Field(name)


F = _Fields()


class Sort:
    """A sort order: ``S.desc("external_usage").then(S.asc("title"))``."""

    __slots__ = ("_keys",)

    def __init__(self, keys: tuple[tuple[str, str], ...]) -> None:
        tree = _tree(keys)
        try:
            core.parse_sort(tree)
        except InvalidInput as exc:
            raise FilterError(exc.message) from None
        self._keys = keys

    def then(self, other: Sort) -> Sort:
        """Break ties with another sort."""
        if not isinstance(other, Sort):
            raise FilterError(f"then() takes a sort (S.asc/S.desc), not {type(other).__name__}")
        return Sort(self._keys + other._keys)

    def to_json(self) -> dict[str, Any]:
        result = _tree(self._keys)
        assert result is not None
        return result

    def __repr__(self) -> str:
        return " then ".join(f"{order} {name}" for name, order in self._keys)


def _tree(keys: tuple[tuple[str, str], ...]) -> dict[str, Any] | None:
    tree: dict[str, Any] | None = None
    for name, order in reversed(keys):
        node: dict[str, Any] = {"field": name, "order": order}
        if tree is not None:
            node["tie_breaker"] = tree
        tree = node
    return tree


class S:
    """Sort builders."""

    @staticmethod
    def asc(field: str) -> Sort:
        return Sort(((field, "asc"),))

    @staticmethod
    def desc(field: str) -> Sort:
        return Sort(((field, "desc"),))


def filter_json(value: Expr | dict[str, Any] | None) -> dict[str, Any] | None:
    """A filter argument (builder or raw JSON), checked."""
    if value is None:
        return None
    if isinstance(value, Expr):
        return value.to_json()
    if isinstance(value, dict):
        return _checked_filter(value)
    raise FilterError(f"filter must be built with F or be a dict, not {type(value).__name__}")


def sort_json(value: Sort | dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, Sort):
        return value.to_json()
    if isinstance(value, dict):
        try:
            core.parse_sort(value)
        except InvalidInput as exc:
            raise FilterError(exc.message) from None
        return value
    raise FilterError(f"sort must be built with S or be a dict, not {type(value).__name__}")
