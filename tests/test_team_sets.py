"""``resource.team_set`` (what the visibility rule tests) stays exact on every path that writes
a resource's ``teams``: API create and patch, bulk update, history restore, import, connectors,
team deletion, and the migration that numbered existing rows (both backends). The search
documents carry the same number (``search_doc.team_set``, 0021_search_doc_team_set) on every
one of those paths, the bulk import's batch triggers and the migration that filled it included
(and the resource's ``hidden_above`` and ``parent_id``, 0022_search_doc_ancestry)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from sqlalchemy import func, inspect, or_, select, text

from cairn.connectors.sql import crawl_sql
from cairn.core.exchange import Importer, export_workspace
from cairn.core.principal import system_principal
from cairn.core.tenancy import create_organization, create_workspace
from cairn.store import Store, insert_triggers, team_sets
from cairn.store.migrate import alembic_config
from cairn.store.schema import resource, search_doc, team_set, team_set_member
from tests.helpers import create


def assert_exact(store: Store) -> int:
    """Every resource's number names exactly its distinct teams (0: none); returns the rows seen."""
    with store.read() as conn:
        members: dict[int, set[str]] = {}
        for set_id, team_id in conn.execute(select(team_set_member.c.set_id, team_set_member.c.team_id)):
            members.setdefault(set_id, set()).add(team_id)
        workspaces = dict(conn.execute(select(team_set.c.id, team_set.c.workspace_id)).all())
        rows = conn.execute(
            select(resource.c.id, resource.c.workspace_id, resource.c.teams, resource.c.team_set)
        )
        seen = 0
        for rid, workspace_id, teams, number in rows:
            seen += 1
            if not teams:
                assert number == team_sets.NO_TEAMS, rid
            else:
                assert members.get(number) == set(teams), (rid, teams, number)
                assert workspaces[number] == workspace_id
    assert search_doc_mismatches(store) == []
    return seen


def search_doc_mismatches(store: Store) -> list[tuple[Any, ...]]:
    """Resources whose search document is missing or does not carry their team set, ancestry
    flags and parent (0021_search_doc_team_set, 0022_search_doc_ancestry)."""
    copied = ("team_set", "hidden_above", "parent_id")
    with store.read() as conn:
        joined = resource.outerjoin(search_doc, search_doc.c.pk == resource.c.pk)
        rows = conn.execute(
            select(resource.c.id, *(resource.c[n] for n in copied), *(search_doc.c[n] for n in copied))
            .select_from(joined)
            .where(
                or_(
                    search_doc.c.pk.is_(None),
                    *(search_doc.c[n].is_distinct_from(resource.c[n]) for n in copied),
                )
            )
        )
        return [tuple(row) for row in rows]


def number_of(api: Any, resource_id: str) -> int:
    with api.store.read() as conn:
        value: int = conn.execute(
            select(resource.c.team_set).where(resource.c.id == resource_id)
        ).scalar_one()
    return value


def make_team(api: Any, name: str, kind: str = "CLOSED") -> str:
    response = api.client.post("/auth/teams", json={"name": name, "type": kind})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def import_into_new_workspace(api: Any) -> str:
    """The workspace exported and imported into a new one (the import path); its id."""
    admin = system_principal(api.workspace.id, api.workspace.organization_id)
    lines = [orjson.dumps(line) for line in export_workspace(api.store, admin)]
    with api.store.write() as conn:
        org = create_organization(conn, name="copy")
        target = create_workspace(conn, organization_id=org, name="copy")
    report = Importer(api.store, system_principal(target.id, org)).run(lines)
    assert report.errors == []
    return str(target.id)


def crawl_one_table(api: Any, tmp_path: Path) -> None:
    """A connector crawl (the connectors' merge path) of a SQLite database with one table."""
    source = tmp_path / "app.db"
    with sqlite3.connect(source) as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)")
    admin = system_principal(api.workspace.id, api.workspace.organization_id)
    summary = crawl_sql(api.store, admin, f"sqlite:///{source}")
    assert summary.created > 0


def test_api_writes_keep_team_sets_exact(api):
    a, b = make_team(api, "A"), make_team(api, "B")
    first = create(api.client, entity_type="document", title="first", teams=[a])
    second = create(api.client, entity_type="document", title="second", teams=[a, b])
    third = create(api.client, entity_type="document", title="third", teams=[b, a, b])
    plain = create(api.client, entity_type="document", title="plain")
    assert number_of(api, first["id"]) != number_of(api, second["id"])
    assert number_of(api, second["id"]) == number_of(api, third["id"])
    assert number_of(api, plain["id"]) == team_sets.NO_TEAMS
    assert_exact(api.store)

    assert api.client.patch(f"/resource/all/{first['id']}", json={"teams": [b]}).status_code == 200
    assert api.client.patch(f"/resource/all/{plain['id']}", json={"teams": [a, b]}).status_code == 200
    assert number_of(api, plain["id"]) == number_of(api, second["id"])
    bulk = [{"id": second["id"], "data": {"teams": []}}, {"id": third["id"], "data": {"teams": [a]}}]
    assert api.client.post("/resource/all/bulk_update/", json=bulk).status_code == 200
    assert number_of(api, second["id"]) == team_sets.NO_TEAMS
    assert_exact(api.store)

    # Restoring version 1 brings back the first teams list, and its number.
    assert api.client.post(f"/resource/all/{first['id']}/history/1/restore").status_code == 200
    assert api.client.get(f"/resource/all/{first['id']}").json()["teams"] == [a]
    assert_exact(api.store)


def test_team_deletion_renumbers_the_resources_it_leaves(api):
    a, b = make_team(api, "A"), make_team(api, "B")
    only_a = create(api.client, entity_type="document", title="only a", teams=[a])
    both = create(api.client, entity_type="document", title="both", teams=[a, b])
    only_b = create(api.client, entity_type="document", title="only b", teams=[b])
    assert api.client.delete(f"/auth/teams/{a}").status_code == 204
    default = next(t["id"] for t in api.client.get("/auth/teams").json()["results"] if t["is_default_team"])
    assert api.client.get(f"/resource/all/{only_a['id']}").json()["teams"] == [default]
    assert api.client.get(f"/resource/all/{both['id']}").json()["teams"] == [b]
    assert number_of(api, both["id"]) == number_of(api, only_b["id"])
    assert_exact(api.store)


def test_import_and_connectors_keep_team_sets_exact(api, tmp_path: Path):
    a, b = make_team(api, "A"), make_team(api, "B")
    create(api.client, entity_type="document", title="one", teams=[a])
    create(api.client, entity_type="document", title="two", teams=[b, a])
    create(api.client, entity_type="document", title="three")
    target = import_into_new_workspace(api)
    with api.store.read() as conn:
        copied = conn.execute(
            select(resource.c.title, resource.c.team_set).where(resource.c.workspace_id == target)
        ).all()
    numbers = {row.title: row.team_set for row in copied}
    assert numbers["three"] == team_sets.NO_TEAMS
    assert len({numbers["one"], numbers["two"], team_sets.NO_TEAMS}) == 3
    assert assert_exact(api.store) >= 8

    crawl_one_table(api, tmp_path)
    assert_exact(api.store)


def test_the_migration_numbers_existing_rows_from_their_team_rows(api):
    a, b = make_team(api, "A"), make_team(api, "B")
    made = [
        create(api.client, entity_type="document", title=title, teams=teams)
        for title, teams in (("one", [a]), ("two", [a, b]), ("three", [b, a]), ("four", []))
    ]
    with api.store.write() as conn:
        config = alembic_config(api.store)
        config.attributes["connection"] = conn
        command.downgrade(config, "0015_trust_indexes")
    api.store.migrate()
    assert assert_exact(api.store) >= 5
    numbers = [number_of(api, item["id"]) for item in made]
    assert numbers[1] == numbers[2]
    assert len({numbers[0], numbers[1], numbers[3]}) == 3
    assert numbers[3] == team_sets.NO_TEAMS


def test_a_bulk_import_writes_the_team_sets_of_its_search_documents(api):
    """Past ``insert_triggers.MIN_ROWS`` an import runs the search document trigger once per batch."""
    a, b = make_team(api, "A"), make_team(api, "B")
    lines = [
        orjson.dumps(
            {
                "kind": "resource",
                "data": {
                    "entity_type": "document",
                    "title": f"doc {i}",
                    "teams": [[a], [b], [a, b], []][i % 4],
                },
            }
        )
        for i in range(insert_triggers.MIN_ROWS + 100)
    ]
    admin = system_principal(api.workspace.id, api.workspace.organization_id)
    report = Importer(api.store, admin, workers=0).run(lines)
    assert report.errors == []
    assert assert_exact(api.store) >= insert_triggers.MIN_ROWS + 100
    with api.store.read() as conn:
        numbers = set(conn.execute(select(search_doc.c.team_set)).scalars())
    assert len(numbers) == 4  # three team sets and no teams


def test_the_migration_fills_the_team_sets_of_existing_search_documents(api):
    a, b = make_team(api, "A"), make_team(api, "B")
    for title, teams in (("one", [a]), ("two", [a, b]), ("three", [b]), ("four", [])):
        create(api.client, entity_type="document", title=title, teams=teams)
    with api.store.write() as conn:
        config = alembic_config(api.store)
        config.attributes["connection"] = conn
        command.downgrade(config, "0020_fts_segments")
        columns = {c["name"] for c in inspect(conn).get_columns("search_doc")}
        assert "team_set" not in columns
        # The triggers are 0012_search_doc's again: a write below this revision still works.
        conn.execute(text("UPDATE resource SET title = title || ' again'"))
    api.store.migrate()
    assert assert_exact(api.store) >= 5
    with api.store.read() as conn:
        with_teams = conn.execute(
            select(func.count()).select_from(search_doc).where(search_doc.c.team_set != 0)
        ).scalar_one()
    assert with_teams == 3
    # After the upgrade every write path keeps it again.
    assert api.client.delete(f"/auth/teams/{a}").status_code == 204
    assert_exact(api.store)
