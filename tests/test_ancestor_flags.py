"""``resource.hidden_above`` (which rows have an ancestor more restricted than themselves) stays
right on every path that changes what a subtree inherits: API create, patch (published, teams,
a move), bulk update, delete and restore, history restore, import, connectors, team deletion,
and the migration that computes it for existing rows (both backends)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import select

from cairn.store import Store
from cairn.store.ancestor_flags import ARCHIVED, PUBLISHED, TEAMS
from cairn.store.migrate import alembic_config
from cairn.store.schema import resource
from tests.helpers import create, make_integration
from tests.test_team_sets import crawl_one_table, import_into_new_workspace, make_team, search_doc_mismatches

R = resource.c


def stored_flags(store: Store) -> dict[str, int]:
    with store.read() as conn:
        return {str(rid): int(bits) for rid, bits in conn.execute(select(R.id, R.hidden_above))}


def assert_flags_exact(store: Store) -> dict[str, int]:
    """Every row's bits are what its ancestors make them, recomputed from scratch here: set for
    every ancestor that really is more restricted (unpublished above published, archived above
    live, teams not covering the row's), and the TEAMS bit otherwise only where the parent has it."""
    with store.read() as conn:
        rows = {
            (r.workspace_id, r.id): r
            for r in conn.execute(
                select(R.workspace_id, R.id, R.parent_id, R.published, R.archived, R.teams, R.hidden_above)
            )
        }
    expected: dict[tuple[str, str], int] = {}

    def teams(row: Any) -> set[str]:
        return set(row.teams or []) or {""}

    def ancestors(key: tuple[str, str]) -> list[Any]:
        found = []
        parent = rows[key].parent_id
        while parent is not None and (key[0], parent) in rows and len(found) < 100:
            found.append(rows[(key[0], parent)])
            parent = rows[(key[0], parent)].parent_id
        return found

    def bits(key: tuple[str, str]) -> int:
        if key not in expected:
            row = rows[key]
            above = ancestors(key)
            value = 0
            if row.published and any(not a.published for a in above):
                value |= PUBLISHED
            if not row.archived and any(a.archived for a in above):
                value |= ARCHIVED
            if any(not teams(a) >= teams(row) for a in above):
                value |= TEAMS
            elif above and bits((key[0], above[0].id)) & TEAMS:
                value |= TEAMS  # kept conservatively from the parent
            expected[key] = value
        return expected[key]

    for key, row in rows.items():
        assert row.hidden_above == bits(key), (row.id, row.hidden_above, bits(key))
    assert search_doc_mismatches(store) == []  # the search documents carry the same bits
    return {key[1]: value for key, value in expected.items()}


def tree(api: Any, *, published: bool = True, teams: list[str] | None = None) -> dict[str, dict[str, Any]]:
    integration = make_integration(api.client)
    db = create(api.client, entity_type="database", title="db", integration=integration, published=True)
    schema = create(
        api.client, entity_type="schema", title="sch", parent=db["id"], published=published, teams=teams or []
    )
    table = create(api.client, entity_type="table", title="tbl", parent=schema["id"], published=True)
    column = create(api.client, entity_type="column", title="col", parent=table["id"], published=True)
    return {"db": db, "schema": schema, "table": table, "column": column}


def test_create_and_patch_keep_the_flags_exact(api):
    a = make_team(api, "A")
    made = tree(api, published=False)
    flags = assert_flags_exact(api.store)
    assert flags[made["db"]["id"]] == 0
    assert flags[made["schema"]["id"]] == 0  # a draft under a published database: nothing above it
    assert flags[made["table"]["id"]] == PUBLISHED
    assert flags[made["column"]["id"]] == PUBLISHED

    # Publishing the schema clears its subtree; moving its teams to A flags it again.
    schema = made["schema"]["id"]
    assert api.client.patch(f"/resource/all/{schema}", json={"published": True}).status_code == 200
    assert stored_flags(api.store)[made["column"]["id"]] == 0
    assert api.client.patch(f"/resource/all/{schema}", json={"teams": [a]}).status_code == 200
    flags = assert_flags_exact(api.store)
    assert flags[made["table"]["id"]] == TEAMS
    assert flags[made["column"]["id"]] == TEAMS
    # The table joins team A too: the schema covers it, but the database (default team) does not
    # (a guest of A would see the table and not the database).
    assert api.client.patch(f"/resource/all/{made['table']['id']}", json={"teams": [a]}).status_code == 200
    flags = assert_flags_exact(api.store)
    assert flags[made["table"]["id"]] == TEAMS

    # A move under a published schema of no team leaves nothing restricted above the table.
    other = create(api.client, entity_type="schema", title="open", parent=made["db"]["id"], published=True)
    moved = api.client.patch(
        f"/resource/all/{made['table']['id']}", json={"parent": other["id"], "teams": []}
    )
    assert moved.status_code == 200, moved.text
    flags = assert_flags_exact(api.store)
    assert flags[made["table"]["id"]] == 0
    assert flags[made["column"]["id"]] == 0


def test_bulk_update_delete_and_restore_keep_the_flags_exact(api):
    made = tree(api)
    schema, table = made["schema"]["id"], made["table"]["id"]
    bulk = [{"id": schema, "data": {"published": False}}]
    assert api.client.post("/resource/all/bulk_update/", json=bulk).status_code == 200
    assert assert_flags_exact(api.store)[made["column"]["id"]] == PUBLISHED
    bulk = [{"id": schema, "data": {"published": True}}, {"id": table, "data": {"published": False}}]
    assert api.client.post("/resource/all/bulk_update/", json=bulk).status_code == 200
    flags = assert_flags_exact(api.store)
    assert (flags[table], flags[made["column"]["id"]]) == (0, PUBLISHED)

    # Deleting a document orphans its children (documents do not cascade): nothing above them.
    parent = create(api.client, entity_type="document", title="parent doc", published=True)
    child = create(api.client, entity_type="document", title="child doc", parent=parent["id"], published=True)
    assert api.client.delete(f"/resource/all/{parent['id']}").status_code == 204
    assert api.client.delete(f"/resource/all/{table}").status_code == 204
    flags = assert_flags_exact(api.store)
    assert flags[made["column"]["id"]] & ARCHIVED == 0  # archived with its table
    assert api.client.post(f"/resource/all/{table}/restore").status_code == 200
    assert api.client.post(f"/resource/all/{parent['id']}/restore").status_code == 200
    flags = assert_flags_exact(api.store)
    assert flags[child["id"]] == 0
    assert flags[made["column"]["id"]] == PUBLISHED

    # The table's first version was published: restoring it clears the column.
    assert api.client.post(f"/resource/all/{table}/history/1/restore").status_code == 200
    assert assert_flags_exact(api.store)[made["column"]["id"]] == 0


def test_team_deletion_keeps_the_flags_exact(api):
    a, b = make_team(api, "A"), make_team(api, "B")
    parent = create(api.client, entity_type="document", title="handbook", teams=[a])
    child = create(api.client, entity_type="document", title="chapter", parent=parent["id"], teams=[a, b])
    assert assert_flags_exact(api.store)[child["id"]] == TEAMS
    # Deleting B leaves the chapter in A alone, which its parent covers.
    assert api.client.delete(f"/auth/teams/{b}").status_code == 204
    assert assert_flags_exact(api.store)[child["id"]] == 0


def test_import_and_connectors_keep_the_flags_exact(api, tmp_path: Path):
    a = make_team(api, "A")
    made = tree(api, published=False, teams=[a])
    target = import_into_new_workspace(api)
    assert_flags_exact(api.store)
    with api.store.read() as conn:
        copied = dict(conn.execute(select(R.title, R.hidden_above).where(R.workspace_id == target)).all())
    assert copied["tbl"] == PUBLISHED | TEAMS
    assert copied["sch"] == TEAMS  # in A, under a database of the default team

    crawl_one_table(api, tmp_path)
    assert_flags_exact(api.store)
    assert stored_flags(api.store)[made["column"]["id"]] == PUBLISHED | TEAMS


def test_the_migration_computes_the_flags_of_existing_rows(api):
    a = make_team(api, "A")
    made = tree(api, published=False, teams=[a])
    with api.store.write() as conn:
        config = alembic_config(api.store)
        config.attributes["connection"] = conn
        command.downgrade(config, "0018_importer")
    api.store.migrate()
    flags = assert_flags_exact(api.store)
    assert flags[made["column"]["id"]] == PUBLISHED | TEAMS
    assert flags[made["schema"]["id"]] == TEAMS
