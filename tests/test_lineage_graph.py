"""Lineage traversal over HTTP: graph directions, depth, cycles, node limit, levels, hidden
resources and impact analysis. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from cairn.core.lineage import EdgeSpec, LineageService
from cairn.core.principal import Principal
from cairn.store import Store
from tests.helpers import create, warehouse


@pytest.fixture
def tree(api: Any) -> dict[str, Any]:
    return warehouse(api.client, columns=2)


def table(api: Any, tree: dict[str, Any], title: str, *, published: bool = True) -> str:
    made = create(
        api.client, entity_type="table", title=title, parent=tree["schema"]["id"], published=published
    )
    return str(made["id"])


def link(store: Store, admin: Principal, *pairs: tuple[str, str], origin: str = "manual") -> None:
    LineageService(store).add_edges(admin, [EdgeSpec(u, d, origin) for u, d in pairs])


def graph(api: Any, resource_id: str, headers: dict[str, str] | None = None, **params: Any) -> dict[str, Any]:
    response = api.client.get(f"/lineage/graph/{resource_id}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def depths(body: dict[str, Any]) -> dict[str, int]:
    return {n["id"]: n["depth"] for n in body["nodes"]}


def pairs(body: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["upstream_id"], e["downstream_id"]) for e in body["edges"]}


def test_directions_and_depth(api, store, admin, tree):
    a, b, c, d = (table(api, tree, name) for name in "abcd")
    link(store, admin, (a, b), (b, c), (c, d))
    down = graph(api, a, depth=2)
    assert depths(down) == {a: 0, b: 1, c: 2}
    assert pairs(down) == {(a, b), (b, c)}
    assert down["truncated"] is False
    assert {n["title"] for n in down["nodes"]} == {"a", "b", "c"}
    node = next(n for n in down["nodes"] if n["id"] == b)
    assert node["entity_type"] == "table"
    assert node["integration"] == tree["integration"]
    assert depths(graph(api, d, direction="upstream", depth=5)) == {d: 0, c: -1, b: -2, a: -3}
    both = graph(api, b, direction="both", depth=1)
    assert depths(both) == {b: 0, a: -1, c: 1}
    assert pairs(both) == {(a, b), (b, c)}


def test_cycles_end(api, store, admin, tree):
    a, b, c = (table(api, tree, name) for name in "abc")
    link(store, admin, (a, b), (b, c), (c, a))
    body = graph(api, a, depth=20)
    assert depths(body) == {a: 0, b: 1, c: 2}
    assert pairs(body) == {(a, b), (b, c), (c, a)}


def test_each_origin_is_its_own_edge(api, store, admin, tree):
    a, b = table(api, tree, "a"), table(api, tree, "b")
    link(store, admin, (a, b), origin="manual")
    link(store, admin, (a, b), origin="dbt")
    body = graph(api, a)
    assert sorted(e["origin"] for e in body["edges"]) == ["dbt", "manual"]
    assert len(body["nodes"]) == 2


def test_node_limit_sets_truncated(api, store, admin, tree):
    hub = table(api, tree, "hub")
    leaves = [table(api, tree, f"leaf{i}") for i in range(8)]
    link(store, admin, *((hub, leaf) for leaf in leaves))
    cut = graph(api, hub, limit=4)
    assert cut["truncated"] is True
    assert len(cut["nodes"]) == 4
    assert depths(cut)[hub] == 0
    assert all(e["upstream_id"] in depths(cut) and e["downstream_id"] in depths(cut) for e in cut["edges"])
    whole = graph(api, hub, limit=9)
    assert whole["truncated"] is False
    assert len(whole["nodes"]) == 9


def test_hidden_resources_are_omitted_and_not_walked_through(api, store, admin, tree):
    a = table(api, tree, "a")
    draft = table(api, tree, "draft", published=False)
    c = table(api, tree, "c")
    d = table(api, tree, "d")
    link(store, admin, (a, draft), (draft, c), (a, d))
    assert depths(graph(api, a, depth=3)) == {a: 0, draft: 1, c: 2, d: 1}
    viewer = api.as_role("viewer")
    seen = graph(api, a, headers=viewer, depth=3)
    assert depths(seen) == {a: 0, d: 1}
    assert pairs(seen) == {(a, d)}
    assert api.client.get(f"/lineage/graph/{draft}", headers=viewer).status_code == 404
    assert api.client.get(f"/lineage/impact/{draft}", headers=viewer).status_code == 404
    impact = api.client.get(f"/lineage/impact/{a}", headers=viewer).json()
    assert [n["id"] for n in impact["impacted"]] == [d]
    # Archived resources drop out too.
    assert api.client.delete(f"/resource/all/{d}").status_code == 204
    assert depths(graph(api, a, headers=viewer)) == {a: 0}


def test_column_level_graph(api, store, admin, tree):
    source = tree["table"]["id"]
    first, second = (c["id"] for c in tree["columns"])
    target = table(api, tree, "target")
    target_col = create(api.client, entity_type="column", title="t_col", parent=target, published=True)["id"]
    link(store, admin, (first, target_col), (source, target))
    body = graph(api, source, level="column")
    assert depths(body) == {source: 0, first: 0, second: 0, target_col: 1}
    assert pairs(body) == {(first, target_col)}
    assert {e["level"] for e in body["edges"]} == {"column"}
    assert depths(graph(api, target_col, level="column", direction="upstream")) == {target_col: 0, first: -1}
    assert pairs(graph(api, source)) == {(source, target)}


def test_impact_lists_everything_downstream(api, store, admin, tree):
    source = tree["table"]["id"]
    first = tree["columns"][0]["id"]
    mart = table(api, tree, "mart")
    side = table(api, tree, "side")
    side_col = create(api.client, entity_type="column", title="s_col", parent=side, published=True)["id"]
    group = create(api.client, entity_type="dashboard_group", title="Boards", published=True)["id"]
    board = create(api.client, entity_type="dashboard", title="Sales", parent=group, published=True)["id"]
    chart = create(api.client, entity_type="chart", title="By month", parent=board, published=True)["id"]
    link(store, admin, (source, mart), (mart, board), (board, chart), (first, side_col), (chart, source))
    response = api.client.get(f"/lineage/impact/{source}")
    assert response.status_code == 200, response.text
    impact = response.json()
    assert impact["root"]["id"] == source
    assert [(n["id"], n["depth"]) for n in impact["impacted"]] == [
        (mart, 1),
        (side, 1),
        (board, 2),
        (chart, 3),
    ]
    assert impact["by_type"] == {"table": 2, "dashboard": 1, "chart": 1}
    assert impact["count"] == 4
    assert [(c["id"], c["table_id"], c["table_title"]) for c in impact["columns"]] == [
        (side_col, side, "side")
    ]
    assert impact["truncated"] is False
    column_impact = api.client.get(f"/lineage/impact/{first}").json()
    assert [n["id"] for n in column_impact["impacted"]] == [side]
    assert [c["id"] for c in column_impact["columns"]] == [side_col]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"direction": "sideways"}, "direction"),
        ({"depth": 0}, "depth"),
        ({"depth": 21}, "depth"),
        ({"level": "row"}, "level"),
        ({"limit": 0}, "limit"),
        ({"limit": 5001}, "limit"),
    ],
)
def test_bad_parameters_are_400s(api, tree, params, field):
    response = api.client.get(f"/lineage/graph/{tree['table']['id']}", params=params)
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_unknown_resources_are_404s(api):
    for path in ("/lineage/graph/nope", "/lineage/impact/0c9b3f1e-6a2d-4e8f-b7c5-1d2e3f4a5b6c"):
        response = api.client.get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


def test_resources_reached_at_several_depths_do_not_hide_the_rest(api, store, admin, tree):
    # Every node feeds every later one: n4 is reached at depths 1 to 4, and n5 only behind n4.
    # The first rows of the walk repeat resources, so the walk must be read further to find n5.
    root, *chain = (table(api, tree, f"n{i}") for i in range(6))
    ordered = [root, *chain[:4]]
    link(
        store, admin, *((a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :]), (chain[3], chain[4])
    )
    whole = graph(api, root, depth=5, limit=6)
    assert whole["truncated"] is False
    assert depths(whole) == {root: 0, **dict.fromkeys(chain[:4], 1), chain[4]: 2}
    cut = graph(api, root, depth=5, limit=5)
    assert cut["truncated"] is True
    assert depths(cut) == {root: 0, **dict.fromkeys(chain[:4], 1)}


def test_hidden_resources_reached_first_do_not_cut_the_walk_short(api, store, admin, tree):
    # A hop tests the resource it leaves, so the walk's first rows are the hub's drafts (hidden
    # from a viewer, never walked through): they fill the first read's cap of limit + 1 rows,
    # and the walk must be read further to find the visible resources behind them.
    hub = table(api, tree, "hub")
    drafts = [table(api, tree, f"d{i}", published=False) for i in range(6)]
    shown = [table(api, tree, f"s{i}") for i in range(3)]
    behind = table(api, tree, "behind")
    link(store, admin, *((hub, d) for d in drafts), *((hub, s) for s in shown), (shown[0], behind))
    link(store, admin, *((d, behind) for d in drafts))
    viewer = api.as_role("viewer")
    whole = graph(api, hub, headers=viewer, depth=3, limit=5)
    assert whole["truncated"] is False
    assert depths(whole) == {hub: 0, **dict.fromkeys(shown, 1), behind: 2}
    cut = graph(api, hub, headers=viewer, depth=3, limit=3)
    assert cut["truncated"] is True
    assert depths(cut) == {hub: 0, **dict.fromkeys(shown[:2], 1)}  # nearest first, then by key
    impact = api.client.get(f"/lineage/impact/{hub}", headers=viewer).json()
    assert {n["id"] for n in impact["impacted"]} == {*shown, behind}
