"""``cairn import``: every line validated like the API, bad lines reported by number, derived
fields and counts equal whatever the batch and worker layout."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from cairn.core.demo import load_demo
from cairn.core.exchange import Importer, export_workspace
from cairn.core.principal import Principal, system_principal
from cairn.core.tenancy import WorkspaceRef, create_organization, create_workspace
from cairn.store import Store
from cairn.store.schema import resource

DEFAULT = "00000000-0000-0000-0000-000000000000"


def _fresh_workspace(store: Store, name: str) -> Principal:
    with store.write() as conn:
        org = create_organization(conn, name=name)
        target = create_workspace(conn, organization_id=org, name=name)
    return system_principal(target.id, org)


def _export(store: Store, principal: Principal) -> list[dict[str, Any]]:
    return list(export_workspace(store, principal))


def _comparable(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An export without what legitimately differs between two workspaces."""
    out = []
    for line in lines:
        data = {k: v for k, v in line["data"].items() if k != "workspace_id"}
        if line["kind"] == "integration" or data.get("id") == DEFAULT:
            # Both exist before the import (the Default collection in every workspace).
            data.pop("created_at", None)
            data.pop("updated_at", None)
        out.append({"kind": line["kind"], "data": data})
    return out


def _source(store: Store, admin: Principal) -> list[bytes]:
    load_demo(store, admin)
    return [orjson.dumps(line) for line in _export(store, admin)]


def _by_type(lines: list[bytes], entity_type: str) -> dict[str, Any]:
    for raw in lines:
        line = orjson.loads(raw)
        if line["kind"] == "resource" and line["data"]["entity_type"] == entity_type:
            data: dict[str, Any] = line["data"]
            return data
    raise AssertionError(entity_type)


def _with_bad_lines(lines: list[bytes]) -> tuple[list[bytes], dict[int, str]]:
    """The export with bad lines mixed in (after their would-be parents); line number -> the
    start of the message the importer must report for it."""
    table = _by_type(lines, "table")
    column = _by_type(lines, "column")
    first_id = _by_type(lines, "database")["id"]
    nested = str(uuid.uuid4())
    bad: list[tuple[bytes, str | None]] = [
        (b"not json", "not valid JSON"),
        (b"[1, 2]", "a line must be a JSON object"),
        (b'{"kind": "resource", "data": 5}', "'data' must be a JSON object"),
        (b'{"kind": "weird", "data": {}}', "unknown kind 'weird'"),
        (
            orjson.dumps(
                {"kind": "resource", "data": {"entity_type": "column", "title": "x", "parent": nested}}
            ),
            f"parent {nested} does not exist",
        ),
        (
            orjson.dumps(
                {"data": {"entity_type": "column", "title": "dup", "parent": table["id"], "id": first_id}}
            ),
            f"a resource with id {first_id} already exists",
        ),
        (
            orjson.dumps(
                {"data": {"entity_type": "column", "title": "nested", "parent": column["id"], "id": nested}}
            ),
            None,
        ),
        (orjson.dumps({"data": {"entity_type": "nope", "title": "x"}}), "entity_type: Input should be"),
        (
            orjson.dumps({"data": {"entity_type": "table", "title": "x"}}),
            "a table must belong to an integration",
        ),
        (orjson.dumps({"data": {"entity_type": "document", "title": ""}}), "title is required"),
        (
            orjson.dumps({"data": {"entity_type": "document", "title": "d", "id": "nope"}}),
            "id must be a UUID",
        ),
        (
            orjson.dumps({"data": {"entity_type": "schema", "title": "s", "parent": table["id"]}}),
            "a schema cannot be placed under a table",
        ),
        (orjson.dumps({"data": {"entity_type": "document", "title": "a\u0000b"}}), "title: Value error"),
        (
            orjson.dumps({"data": {"entity_type": "document", "title": "d", "pii": "maybe"}}),
            "pii: Input should",
        ),
        (
            orjson.dumps(
                {"data": {"entity_type": "document", "title": "d", "collections": [str(uuid.uuid4())]}}
            ),
            "collection ",
        ),
        (
            orjson.dumps({"kind": "integration", "data": {"id": "x", "name": "n", "type": "t"}}),
            "integration id",
        ),
    ]
    mixed = list(lines)
    for raw, _ in bad:
        mixed.append(raw)
    mixed.append(orjson.dumps({"entity_type": "document", "title": "no kind", "id": str(uuid.uuid4())}))
    expected = {
        len(lines) + index + 1: message for index, (_, message) in enumerate(bad) if message is not None
    }
    return mixed, expected


def _rows(store: Store, principal: Principal) -> dict[str, dict[str, Any]]:
    with store.read() as conn:
        rows = conn.execute(select(resource).where(resource.c.workspace_id == principal.workspace_id)).all()
    skip = {"pk", "workspace_id", "created_at", "updated_at"}
    return {r.id: {k: v for k, v in r._mapping.items() if k not in skip} for r in rows}


def test_round_trip_is_lossless(store: Store, admin: Principal) -> None:
    source = _source(store, admin)
    target = _fresh_workspace(store, "copy")
    report = Importer(store, target).run(source)
    assert report.errors == []
    assert _comparable(_export(store, target)) == _comparable(_export(store, admin))


def test_bad_lines_are_reported_by_number_and_good_ones_land(store: Store, admin: Principal) -> None:
    lines, expected = _with_bad_lines(_source(store, admin))
    target = _fresh_workspace(store, "copy")
    report = Importer(store, target).run(lines)
    assert [number for number, _ in report.errors] == sorted(expected)
    for number, message in report.errors:
        assert message.startswith(expected[number]), (number, message)
    rows = _rows(store, target)
    titles = {row["title"] for row in rows.values()}
    assert {"nested", "no kind"} <= titles
    nested = next(row for row in rows.values() if row["title"] == "nested")
    parent = rows[nested["parent_id"]]
    assert nested["title_full"] == f"{parent['title_full']}.nested"
    assert nested["search_metadata"]["table"] == parent["search_metadata"]["table"]
    assert parent["children_count"] == 1


@pytest.mark.parametrize(("batch_size", "chunk_size", "workers"), [(3, 4, 1), (1, 1, 2), (50, 7, 0)])
def test_batches_and_workers_do_not_change_the_result(
    store: Store, admin: Principal, workspace: WorkspaceRef, batch_size: int, chunk_size: int, workers: int
) -> None:
    """Parents in earlier batches, children counted across batches, lines validated in worker
    processes: the same rows and the same errors as one inline batch."""
    lines, _ = _with_bad_lines(_source(store, admin))
    whole = _fresh_workspace(store, "whole")
    split = _fresh_workspace(store, "split")
    one = Importer(store, whole, workers=0).run(lines)
    many = Importer(store, split, batch_size=batch_size, chunk_size=chunk_size, workers=workers).run(lines)
    assert many.errors == one.errors
    assert many.created == one.created
    a, b = _rows(store, whole), _rows(store, split)
    no_kind = {rid for rid, row in a.items() if row["title"] == "no kind"}
    no_kind |= {rid for rid, row in b.items() if row["title"] == "no kind"}
    assert {k: v for k, v in a.items() if k not in no_kind} == {
        k: v for k, v in b.items() if k not in no_kind
    }
    counted = {rid: sum(1 for r in b.values() if r["parent_id"] == rid and not r["archived"]) for rid in b}
    assert {rid: row["children_count"] for rid, row in b.items()} == counted
    assert DEFAULT in b


def test_an_id_added_by_another_writer_during_the_import_is_reported(
    store: Store, admin: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The importer keeps the ids of a small workspace in memory; one it could not know about
    (written by someone else meanwhile) still ends as a clear error, and the rest lands."""
    from cairn.store import resources as repo

    target = _fresh_workspace(store, "copy")
    taken = str(uuid.uuid4())
    Importer(store, target).run(
        [orjson.dumps({"data": {"id": taken, "entity_type": "document", "title": "a"}})]
    )
    monkeypatch.setattr(repo, "all_ids_up_to", lambda *_args: set())
    lines = [
        orjson.dumps({"data": {"id": str(uuid.uuid4()), "entity_type": "document", "title": "b"}}),
        orjson.dumps({"data": {"id": taken, "entity_type": "document", "title": "c"}}),
    ]
    report = Importer(store, target).run(lines)
    assert report.errors == [(2, f"a resource with id {taken} already exists")]
    assert report.created["resource"] == 1
    assert sorted(row["title"] for row in _rows(store, target).values()) == ["Default", "a", "b"]
