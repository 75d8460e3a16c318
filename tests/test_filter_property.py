"""Property test: random catalog filters give the same rows in SQL as a plain-Python reference.

The reference evaluator below is written from the documented semantics (README, "The catalog
filter"), not from the SQL compiler, on both SQLite and PostgreSQL.
"""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from cairn.core import filters as flt
from cairn.core.integrations import IntegrationService
from cairn.core.principal import Principal
from cairn.core.resources import PageRequest, ResourceService
from cairn.core.tags import TagService
from cairn.models.integrations import IntegrationCreate
from cairn.models.resources import ResourceWrite
from cairn.models.tags import TagWrite
from cairn.store import Store
from cairn.store import resources as repo
from cairn.store.schema import resource

pytestmark = pytest.mark.slow

WORDS = ["cust", "Customer", "ORDERS", "order_items", "pay%ment", "a_b", "x", "", "Événement"[1:]]
OWNERS = ["ann", "bob", "cy"]
# Label tags are validated on write: these ids are created as tags before the catalog is built.
TAGS = [f"7a9c0000-0000-4000-8000-00000000000{i}" for i in range(3)]
NATIVE = ["table", "view", None]

TEXT_FIELDS = ["title", "description", "native_type", "title_full", "icon"]
BOOL_FIELDS = ["published", "pii", "verified", "archived", "stale"]
INT_FIELDS = ["external_usage", "children_count", "row_count"]
LIST_FIELDS = ["owners", "tags"]
META_FIELDS = ["schema", "database", "table"]
ALIASES = {"type": "entity_type", "parent_id": "parent", "integration_id": "integration"}

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def ascii_lower(value: str) -> str:
    return value.translate(_ASCII_LOWER)


def build_catalog(store: Store, admin: Principal) -> list[dict[str, Any]]:
    service = ResourceService(store)
    for name, tag_id in zip(("pii", "gold", "raw"), TAGS, strict=True):
        TagService(store).create(admin, TagWrite(name=name), tag_id=tag_id)
    integration = IntegrationService(store).create(admin, IntegrationCreate(name="wh"))
    db = service.create(
        admin, ResourceWrite(entity_type="database", title="Sales", integration=integration["id"])
    )
    schemas = [
        service.create(admin, ResourceWrite(entity_type="schema", title=t, parent=db["id"]))
        for t in ("marts", "raw")
    ]
    for i in range(36):
        parent = schemas[i % 2]
        table = service.create(
            admin,
            ResourceWrite(
                entity_type="table",
                title=f"{WORDS[i % len(WORDS)]}_{i}",
                parent=parent["id"],
                description=[None, "", "Holds Customer rows", "orders and PAYMENTS"][i % 4],
                native_type=NATIVE[i % 3],
                published=bool(i % 2),
                pii=i % 5 == 0,
                verified=i % 7 == 0,
                archived=i % 11 == 0,
                stale=i % 13 == 0,
                external_usage=(i * 37) % 10,
                row_count=None if i % 4 == 0 else i * 100,
                owners=OWNERS[: i % 4],
                tags=[TAGS[i % 3]] if i % 2 else [],
                icon=None if i % 3 else "🗄",
            ),
        )
        if i % 6 == 0:
            service.create(admin, ResourceWrite(entity_type="column", title=f"col_{i}", parent=table["id"]))
    with store.read() as conn:
        rows = conn.execute(select(resource).where(resource.c.workspace_id == admin.workspace_id)).all()
    return [repo.to_entity(r, {}) for r in rows]


def value_of(entity: dict[str, Any], field: str) -> Any:
    if field in META_FIELDS:
        return (entity["search_metadata"] or {}).get(field)
    return entity[field]


def reference(node: Any, entity: dict[str, Any]) -> bool:
    op = node["operator"]
    if op in ("and", "or", "not"):
        results = [reference(child, entity) for child in node["operands"]]
        if op == "and":
            return all(results)
        if op == "or":
            return any(results)
        return not all(results)
    field = ALIASES.get(node["field"], node["field"])
    value = node["value"]
    actual = value_of(entity, field)
    if field in LIST_FIELDS:
        if op == "is_set":
            return bool(actual) if value in (None, True) else not actual
        if op == "in":
            return any(v in actual for v in value if v is not None)
        return value is not None and value in actual
    if op == "is_set":
        present = actual is not None and actual != ""
        return present if value in (None, True) else not present
    if op == "contains":
        return actual is not None and ascii_lower(value) in ascii_lower(str(actual))
    if op == "in":
        return any((actual is None) if v is None else (actual is not None and actual == v) for v in value)
    if value is None:
        return actual is None
    return actual is not None and actual == value


def visible(entity: dict[str, Any], node: Any) -> bool:
    mentioned = (
        flt.mentions(flt.parse_filter(node), "archived"),
        flt.mentions(flt.parse_filter(node), "stale"),
    )
    return (mentioned[0] or not entity["archived"]) and (mentioned[1] or not entity["stale"])


text_values = st.sampled_from(
    ["cust", "CUST", "order", "_", "%", "a_b", "", "marts", "raw", "Sales", "x_0", "🗄"]
)


def conditions() -> st.SearchStrategy[dict[str, Any]]:
    text = st.builds(
        lambda op, f, v: {"operator": op, "field": f, "value": v},
        st.sampled_from(["exact", "contains"]),
        st.sampled_from(["title", "title", "description", "description", *TEXT_FIELDS, *META_FIELDS]),
        text_values,
    )
    text_null = st.builds(
        lambda f: {"operator": "exact", "field": f, "value": None}, st.sampled_from(TEXT_FIELDS)
    )
    text_in = st.builds(
        lambda f, v: {"operator": "in", "field": f, "value": v},
        st.sampled_from(TEXT_FIELDS + META_FIELDS),
        st.lists(st.one_of(text_values, st.none()), max_size=3),
    )
    boolean = st.builds(
        lambda f, v: {"operator": "exact", "field": f, "value": v},
        st.sampled_from(BOOL_FIELDS),
        st.booleans(),
    )
    integer = st.builds(
        lambda op, f, v: {"operator": op, "field": f, "value": v if op == "exact" else [v, v + 1]},
        st.sampled_from(["exact", "in"]),
        st.sampled_from(INT_FIELDS),
        st.integers(0, 12),
    )
    lists = st.builds(
        lambda op, f, v: {"operator": op, "field": f, "value": v if op != "in" else [v, "nobody"]},
        st.sampled_from(["exact", "contains", "in"]),
        st.sampled_from(LIST_FIELDS),
        st.sampled_from(OWNERS + TAGS),
    )
    is_set = st.builds(
        lambda f, v: {"operator": "is_set", "field": f, "value": v},
        st.sampled_from(TEXT_FIELDS + INT_FIELDS + LIST_FIELDS + META_FIELDS),
        st.sampled_from([None, True, False]),
    )
    types = st.builds(
        lambda f, v: {"operator": "exact", "field": f, "value": v},
        st.sampled_from(["type", "entity_type"]),
        st.sampled_from(["table", "column", "schema", "database", "dictionary_term"]),
    )
    # Text conditions carry most of the semantics (case folding, NULLs, wildcards): weight them.
    return st.one_of(text, text, text, text_null, text_in, boolean, integer, lists, is_set, types)


filters = st.recursive(
    conditions(),
    lambda children: st.builds(
        lambda op, operands: {"operator": op, "operands": operands},
        st.sampled_from(["and", "or", "not"]),
        st.lists(children, min_size=1, max_size=3),
    ),
    max_leaves=8,
)


def test_sql_and_reference_evaluator_agree(store: Store, admin: Principal) -> None:
    entities = build_catalog(store, admin)
    service = ResourceService(store)
    assert len(entities) > 40

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(node=filters)
    def check(node: dict[str, Any]) -> None:
        parsed = flt.parse_filter(node)
        result = service.list(admin, filter_node=parsed, paging=PageRequest(page_size=1000))
        got = {item["id"] for item in result.items}
        expected = {e["id"] for e in entities if visible(e, node) and reference(node, e)}
        assert got == expected, node
        assert result.count == len(expected)

    check()


def test_sort_matches_python_ordering(store: Store, admin: Principal) -> None:
    entities = [e for e in build_catalog(store, admin) if not e["archived"] and not e["stale"]]
    service = ResourceService(store)
    for field in ("title", "row_count", "native_type", "external_usage"):
        for descending in (False, True):
            keys = [flt.SortKey(flt.FIELDS[field], descending)]
            got = [i["id"] for i in service.list(admin, sort=keys, paging=PageRequest(page_size=1000)).items]

            # NULLs are the smallest value; text compares byte-wise; ``id`` breaks ties ascending.
            def key(e: dict[str, Any], f: str = field) -> tuple[Any, ...]:
                v = e[f]
                return (v is not None, v.encode() if isinstance(v, str) else v if v is not None else 0)

            ordered = sorted(entities, key=lambda e: e["id"])
            ordered = sorted(ordered, key=key, reverse=descending)
            if descending:
                # the id tie-breaker stays ascending under a descending primary key
                groups: dict[Any, list[str]] = {}
                for e in ordered:
                    groups.setdefault(key(e), []).append(e["id"])
                expected = [i for k in sorted(groups, reverse=True) for i in sorted(groups[k])]
            else:
                expected = [e["id"] for e in ordered]
            assert got == expected, field
