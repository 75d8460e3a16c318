"""A bulk import into a (nearly) empty SQLite database builds its secondary indexes once, at the
end (store/deferred_indexes.py); whatever happens in between, no database stays without them."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from cairn.core import exchange
from cairn.core.exchange import Importer
from cairn.core.principal import Principal
from cairn.store import Store, deferred_indexes
from cairn.store.schema import resource

pytestmark = pytest.mark.parametrize("store", ["sqlite"], indirect=True)


def _indexes(store: Store) -> list[tuple[str, str]]:
    with store.read() as conn:
        rows = conn.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
        ).all()
    return [(name, sql) for name, sql in rows]


def _restart(store: Store) -> None:
    """What the next server start or CLI command does to the database."""
    reopened = Store(store.url)
    try:
        reopened.migrate()
    finally:
        reopened.dispose()


def _docs(count: int, tag: str = "doc") -> list[bytes]:
    return [
        orjson.dumps({"kind": "resource", "data": {"entity_type": "document", "title": f"{tag} {i}"}})
        for i in range(count)
    ]


def test_import_drops_secondary_indexes_and_builds_them_at_the_end(store: Store, admin: Principal) -> None:
    before = _indexes(store)
    seen: list[list[str]] = []

    def progress(_done: int) -> None:
        with store.read() as conn:
            seen.append(deferred_indexes.pending(conn))

    report = Importer(store, admin, batch_size=50, workers=0).run(_docs(120), progress=progress)
    assert (report.errors, report.total) == ([], 120)
    dropped = seen[0]
    assert "ix_resource_parent" in dropped
    assert "ix_resource_member_lookup" in dropped
    assert "ix_search_doc_title_key" in dropped
    assert "uq_resource_workspace_id" in dropped, "ids are checked in memory meanwhile"
    assert not any(name.startswith("sqlite_autoindex") for name, _ in before)
    assert _indexes(store) == before, "every index is back, with the same definition"
    with store.read() as conn:
        assert deferred_indexes.pending(conn) == []
        assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        query = "EXPLAIN QUERY PLAN SELECT pk FROM resource WHERE workspace_id = 'w' AND parent_id = 'p'"
        plan = " ".join(str(row[-1]) for row in conn.execute(text(query)))
    assert "ix_resource_parent" in plan


def test_small_imports_and_full_databases_keep_their_indexes(
    store: Store, admin: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _indexes(store)
    seen: list[list[str]] = []

    def progress(_done: int) -> None:
        with store.read() as conn:
            seen.append(deferred_indexes.pending(conn))

    Importer(store, admin, batch_size=500, workers=0).run(_docs(100), progress=progress)
    assert seen == [[]], "an import smaller than a batch changes no schema"
    monkeypatch.setattr(exchange, "DEFER_INDEXES_BELOW", 50)  # the database now holds more
    seen.clear()
    Importer(store, admin, batch_size=20, workers=0).run(_docs(60, "more"), progress=progress)
    assert seen
    assert all(pending == [] for pending in seen)
    assert _indexes(store) == before


def test_a_failing_import_still_builds_the_indexes(
    store: Store, admin: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _indexes(store)
    calls = 0
    flush = Importer._flush

    def failing_flush(self: Importer, batch: list[Any]) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("disk on fire")
        flush(self, batch)

    monkeypatch.setattr(Importer, "_flush", failing_flush)
    with pytest.raises(RuntimeError):
        Importer(store, admin, batch_size=30, workers=0).run(_docs(100))
    assert _indexes(store) == before


def test_migrate_builds_what_a_crashed_import_left_unbuilt(store: Store) -> None:
    before = _indexes(store)
    with store.write() as conn:
        dropped = deferred_indexes.defer(conn, ("resource", "resource_member"))
    assert len(dropped) >= 9
    assert {name for name, _ in _indexes(store)}.isdisjoint(dropped)
    # As after a kill -9 between the drop and the build: the next start builds them.
    _restart(store)
    assert _indexes(store) == before
    with store.read() as conn:
        assert deferred_indexes.pending(conn) == []
    # Built already (another process got there first): the marks are cleared, nothing fails.
    with store.write() as conn:
        deferred_indexes.defer(conn, ("resource",))
    with store.write() as conn:
        for _name, sql in before:
            conn.exec_driver_sql(sql.replace(" INDEX ", " INDEX IF NOT EXISTS ", 1))
        assert deferred_indexes.restore(conn)
    assert _indexes(store) == before


def test_a_start_during_a_live_import_leaves_the_build_to_it(store: Store) -> None:
    before = _indexes(store)
    with deferred_indexes.import_lock(store):
        with store.write() as conn:
            dropped = deferred_indexes.defer(conn, ("resource",))
        assert deferred_indexes.import_running(store)
        store.migrate()  # the import holds the lock: it builds them itself
        assert {name for name, _ in _indexes(store)}.isdisjoint(dropped)
    assert not deferred_indexes.import_running(store), "the lock goes with its holder"
    store.migrate()
    assert _indexes(store) == before


def _copy_row(conn: Any, resource_id: str) -> None:
    """Another writer's insert of a row with an id that exists (a new pk, everything else equal)."""
    names = [c.name for c in resource.columns if c.name != "pk"]
    listed = ", ".join(names)
    conn.exec_driver_sql(
        f"INSERT INTO resource ({listed}) SELECT {listed} FROM resource WHERE id = ?", (resource_id,)
    )


def _ids(lines: list[bytes]) -> list[str]:
    return [str(uuid.UUID(int=i + 1)) for i in range(len(lines))]


def _with_ids(lines: list[bytes]) -> list[bytes]:
    out = []
    for line, rid in zip(lines, _ids(lines), strict=True):
        parsed = orjson.loads(line)
        parsed["data"]["id"] = rid
        out.append(orjson.dumps(parsed))
    return out


def test_ids_stay_unique_while_their_index_is_deferred(store: Store, admin: Principal) -> None:
    """A guard trigger refuses other writers' duplicates meanwhile, with the constraint's error;
    an id another writer took before the import reached its line is reported for that line."""
    lines = _with_ids(_docs(150))
    ids = _ids(lines)
    refused: list[str] = []

    def progress(_done: int) -> None:
        if refused:
            return
        with store.read() as conn:
            assert "uq_resource_workspace_id" in deferred_indexes.pending(conn)
        with pytest.raises(IntegrityError) as raised, store.write() as conn:
            _copy_row(conn, ids[0])
        refused.append(str(raised.value.orig))
        # A resource with the id of a line still to come lands first (another import, say).
        late = Importer(store, admin, workers=0).run([lines[120]])
        assert (late.errors, late.total) == ([], 1)

    report = Importer(store, admin, batch_size=50, workers=0).run(lines, progress=progress)
    assert refused == ["UNIQUE constraint failed: resource.workspace_id, resource.id"]
    assert report.errors == [(121, f"a resource with id {ids[120]} already exists")]
    assert report.total == 149
    with store.read() as conn:
        assert deferred_indexes.pending(conn) == []
        triggers = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars()
        assert not [name for name in triggers if name.endswith("_guard")]
        counted = conn.exec_driver_sql("SELECT count(*), count(DISTINCT id) FROM resource").one()
    assert counted[0] == counted[1]
    # The index itself refuses duplicates again.
    with pytest.raises(IntegrityError), store.write() as conn:
        _copy_row(conn, ids[1])


def test_a_crash_with_the_unique_index_deferred_keeps_the_guard_until_the_build(
    store: Store, admin: Principal
) -> None:
    before = _indexes(store)
    with store.write() as conn:
        dropped = deferred_indexes.defer(conn, ("resource",), ("uq_resource_workspace_id",))
    assert "uq_resource_workspace_id" in dropped
    report = Importer(store, admin, workers=0).run(_with_ids(_docs(3)))
    assert report.total == 3
    with pytest.raises(IntegrityError), store.write() as conn:
        _copy_row(conn, _ids(_docs(3))[0])
    _restart(store)
    assert _indexes(store) == before
    with store.read() as conn:
        triggers = list(
            conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars()
        )
    assert "uq_resource_workspace_id_guard" not in triggers


def test_children_of_parents_in_earlier_batches_are_counted(store: Store, admin: Principal) -> None:
    folder = str(uuid.UUID(int=10**6))
    lines = [
        orjson.dumps({"kind": "resource", "data": {"id": folder, "entity_type": "document", "title": "f"}})
    ]
    lines += [
        orjson.dumps(
            {"kind": "resource", "data": {"entity_type": "document", "title": f"d{i}", "parent": folder}}
        )
        for i in range(70)
    ]
    report = Importer(store, admin, batch_size=25, workers=0).run(lines)
    assert (report.errors, report.total) == ([], 71)
    with store.read() as conn:
        count = conn.exec_driver_sql(
            "SELECT children_count FROM resource WHERE id = ?", (folder,)
        ).scalar_one()
    assert count == 70


@pytest.mark.parametrize("wire", [False, True])
def test_lists_answer_while_an_import_has_dropped_the_index_they_name(
    store: Store, admin: Principal, wire: bool
) -> None:
    """A default list names ``ix_resource_usage`` (``INDEXED BY`` on SQLite), which an import
    into an empty database drops while it runs: the list reads without the hint meanwhile."""
    from cairn.core.resources import ResourceService

    service = ResourceService(store)
    already = service.list(admin, wire=wire).count
    seen: list[tuple[bool, int]] = []

    def progress(_done: int) -> None:
        with store.read() as conn:
            dropped = "ix_resource_usage" in deferred_indexes.pending(conn)
        seen.append((dropped, service.list(admin, wire=wire).count))

    report = Importer(store, admin, batch_size=50, workers=0).run(_docs(120), progress=progress)
    assert report.errors == []
    assert seen[0] == (True, already + 50)
    assert service.list(admin, wire=wire).count == already + 120


def test_the_builds_sort_with_temporary_files_and_the_connection_gets_memory_back(
    store: Store, admin: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's sorter starts its helper threads only with temporary storage in files."""
    seen: list[int] = []
    restore = deferred_indexes.restore

    def spying_restore(conn: Any) -> list[str]:
        seen.append(int(conn.exec_driver_sql("PRAGMA temp_store").scalar_one()))
        return restore(conn)

    monkeypatch.setattr(deferred_indexes, "restore", spying_restore)
    report = Importer(store, admin, batch_size=50, workers=0).run(_docs(120))
    assert report.total == 120
    assert seen == [1], "FILE while the indexes are built"
    with store.write() as conn:
        assert conn.exec_driver_sql("PRAGMA temp_store").scalar_one() == 2
        assert deferred_indexes.pending(conn) == []
