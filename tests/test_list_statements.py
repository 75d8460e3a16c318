"""The catalog list's statements are built once per caller scope and filter shape and run with
the filter's values bound (``store/resources.py:filter_template``, ``list_statements``): every
value and every caller still gets exactly its own rows and count (both backends)."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from cairn.core import filters as flt
from cairn.core import visibility
from cairn.core.resources import ResourceService
from cairn.store import resources as repo
from tests.helpers import catalog, create, make_integration, warehouse
from tests.test_permissions import RESOURCES, VISIBLE, build


def ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["results"]}


def statements_of(api: Any) -> Any:
    return visibility.STATEMENTS


def test_one_shape_serves_every_value_with_its_own_rows_and_count(api: Any) -> None:
    first = warehouse(api.client, columns=3)
    second = create(api.client, entity_type="table", title="dim_order", parent=first["schema"]["id"])
    second_columns = {
        create(api.client, entity_type="column", title=f"o_{i}", parent=second["id"])["id"] for i in range(5)
    }
    before = len(statements_of(api))
    one = catalog(api.client, {"operator": "exact", "field": "parent_id", "value": first["table"]["id"]})
    after_one = len(statements_of(api))
    other = catalog(api.client, {"operator": "exact", "field": "parent_id", "value": second["id"]})
    assert ids(one) == {c["id"] for c in first["columns"]}
    assert one.json()["count"] == 3
    assert ids(other) == second_columns
    assert other.json()["count"] == 5
    # Both values ran the statements of one shape (built by the first, or by an earlier test:
    # the cache is the process's, shared by workspaces when teams hide nothing).
    assert after_one in (before, before + 1)
    assert len(statements_of(api)) == after_one
    nothing = catalog(api.client, {"operator": "exact", "field": "parent_id", "value": "no-such-parent"})
    assert nothing.status_code == 200
    assert nothing.json()["count"] == 0
    assert nothing.json()["results"] == []


def test_pages_and_counts_agree_and_a_page_past_the_end_is_a_404(api: Any) -> None:
    table = warehouse(api.client, columns=7)["table"]["id"]
    parent = {"operator": "exact", "field": "parent_id", "value": table}
    seen: list[str] = []
    for page in (1, 2, 3):
        response = catalog(api.client, parent, page=page, page_size=3)
        body = response.json()
        assert response.status_code == 200
        assert (body["count"], body["total_pages"]) == (7, 3)
        seen += [item["id"] for item in body["results"]]
    assert len(seen) == len(set(seen)) == 7
    past = catalog(api.client, parent, page=4, page_size=3)
    assert past.status_code == 404
    assert "page" in past.text
    empty = {"operator": "exact", "field": "title", "value": "nothing is called this"}
    assert catalog(api.client, empty, page=2).status_code == 404
    assert catalog(api.client, parent, page_size=0).status_code == 400


@pytest.mark.parametrize(
    ("needle", "expected"),
    [("a%b", {"a%b"}), ("a_b", {"a_b"}), ("a/b", {"a/b"}), ("%", {"a%b", "100%"}), ("ab", {"xaby"})],
)
def test_a_bound_contains_value_matches_its_characters_literally(
    api: Any, needle: str, expected: set[str]
) -> None:
    integration = make_integration(api.client)
    titles = ["a%b", "a_b", "a/b", "axb", "aXXb", "100%", "xaby"]
    by_id = {
        create(api.client, entity_type="table", title=t, integration=integration)["id"]: t for t in titles
    }
    response = catalog(
        api.client,
        {
            "operator": "and",
            "operands": [
                {"operator": "exact", "field": "type", "value": "table"},
                {"operator": "contains", "field": "title", "value": needle},
            ],
        },
    )
    assert {by_id[i] for i in ids(response)} == expected


def test_callers_sharing_cached_statements_each_see_only_their_own(api: Any) -> None:
    """One app, every role, the same shapes: a statement built for one caller's scope never
    serves another's (the permission matrix runs each role in an app of its own)."""
    world = build(api)
    shapes: list[tuple[Any, set[str]]] = [
        (None, set(RESOURCES)),
        ({"operator": "contains", "field": "description", "value": "needle"}, set(RESOURCES)),
        ({"operator": "exact", "field": "parent_id", "value": world.ids["gen-pub"]}, {"aaa-col"}),
        ({"operator": "contains", "field": "title", "value": "aaa"}, {n for n in RESOURCES if "aaa" in n}),
    ]
    for _ in range(2):  # the second round runs on statements the first one built
        for role in sorted(VISIBLE):
            for node, names in shapes:
                wanted = {world.ids[n] for n in names & VISIBLE[role]}
                response = world.api.client.get(
                    "/resource/catalog",
                    headers=world.headers[role],
                    params={} if node is None else {"filter": flt.orjson.dumps(node).decode()},
                )
                found = ids(response) & {world.ids[n] for n in RESOURCES}
                assert found == wanted, (role, node)
                hidden = {world.ids[n] for n in RESOURCES} - wanted - {world.ids["aaa-gone"]}
                assert not found & hidden


def test_pages_sorted_by_usage_walk_the_usage_index_unless_a_filter_has_its_own() -> None:
    usage = [flt.SortKey(flt.FIELDS["external_usage"], True)]
    parent = flt.parse_filter({"operator": "exact", "field": "parent_id", "value": "x"})
    described = flt.parse_filter({"operator": "contains", "field": "description", "value": "x"})
    tagged = flt.parse_filter({"operator": "exact", "field": "tags", "value": "x"})
    deleted = flt.parse_filter({"operator": "exact", "field": "archived", "value": True})
    assert repo.walks_usage_index(None, usage)
    assert repo.walks_usage_index(described, usage)
    assert not repo.walks_usage_index(parent, usage)
    assert not repo.walks_usage_index(flt.Logical("or", (described, parent)), usage)
    assert not repo.walks_usage_index(tagged, usage)
    assert not repo.walks_usage_index(deleted, usage)
    assert not repo.walks_usage_index(None, [flt.SortKey(flt.FIELDS["title"], False)])


# INDEXED BY and EXPLAIN QUERY PLAN are SQLite's: this test has no PostgreSQL case to skip.
@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_sqlite_plans_the_unfiltered_page_on_the_usage_index_for_every_role(api: Any) -> None:
    world = build(api)
    resolver = api.client.app.state.services.keys
    service: ResourceService = api.client.app.state.services.resources
    path = api.store.url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as raw:
        raw.execute("ANALYZE")  # the statistics under which the planner scanned and sorted
    for role, token in world.tokens.items():
        principal = resolver.resolve(token)
        statements = service._list_statements(
            principal, None, tuple(flt.DEFAULT_SORT), count_up_to=None, wire=True
        )
        with api.store.read() as conn:
            page = statements.page.params(ws=principal.workspace_id, page_limit=50, page_offset=0)
            sql = str(page.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
            plan = conn.connection.driver_connection.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
        steps = [row[3] for row in plan]
        assert f"INDEXED BY {repo.USAGE_INDEX}" in sql, role
        assert any(f"USING INDEX {repo.USAGE_INDEX}" in step for step in steps), (role, steps)
        assert not any(step == "SCAN resource" for step in steps), (role, steps)
