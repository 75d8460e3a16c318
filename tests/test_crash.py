"""kill -9 in the middle of writes: the database stays intact and every batch is all or nothing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy import func, select, text

from cairn.core.exchange import Importer
from cairn.core.keys import create_key
from cairn.core.principal import system_principal
from cairn.core.tenancy import WorkspaceRef
from cairn.store import Store, deferred_indexes
from cairn.store.schema import resource

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(store: Store) -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[1] / "src")
    return {**os.environ, "CAIRN_DATABASE_URL": store.url, "PYTHONPATH": src}


def _start_server(store: Store) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "cairn.api.app:app_from_env",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=_env(store),
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthcheck", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def _check_integrity(store: Store) -> None:
    with store.read() as conn:
        if store.dialect == "sqlite":
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
            assert conn.execute(text("PRAGMA foreign_key_check")).first() is None
        child = resource.alias("child")
        counted = (
            select(func.count())
            .select_from(child)
            .where(child.c.parent_id == resource.c.id, child.c.archived.is_(False))
            .scalar_subquery()
        )
        wrong = conn.execute(
            select(resource.c.id).where(resource.c.archived.is_(False), resource.c.children_count != counted)
        ).first()
        assert wrong is None, "children_count drifted from the real number of children"


def _index_definitions(store: Store) -> list[tuple[str, str]]:
    with store.read() as conn:
        if store.dialect == "sqlite":
            sql = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        else:
            sql = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
        return sorted((str(name), str(definition)) for name, definition in conn.execute(text(sql)))


def test_kill_during_import_leaves_whole_batches(
    store: Store, workspace: WorkspaceRef, tmp_path: Path
) -> None:
    BATCH = 2000  # lines per transaction, given to the CLI below
    indexes = _index_definitions(store)

    lines = []
    for i in range(BATCH * 30):
        lines.append(
            orjson.dumps({"kind": "resource", "data": {"entity_type": "document", "title": f"doc {i}"}})
        )
    source = tmp_path / "big.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cairn.cli.main",
            "import",
            str(source),
            "--db",
            store.url,
            "--batch-size",
            str(BATCH),
        ],
        env=_env(store),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with store.read() as conn:
            landed = conn.execute(
                select(func.count()).select_from(resource).where(resource.c.entity_type == "document")
            ).scalar_one()
        if landed >= BATCH * 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _check_integrity(store)
    with store.read() as conn:
        landed = conn.execute(
            select(func.count()).select_from(resource).where(resource.c.entity_type == "document")
        ).scalar_one()
    assert 0 < landed < BATCH * 30, "the kill should land mid-import"
    assert landed % BATCH == 0, f"{landed} rows is not a whole number of {BATCH}-line batches"
    # The import built its indexes at the end (store/deferred_indexes.py) and died first: the
    # next start builds them, exactly as they were.
    if store.dialect == "sqlite":
        with store.read() as conn:
            assert deferred_indexes.pending(conn), "the kill should land while the indexes are deferred"
    restarted = Store(store.url)
    try:
        restarted.migrate()
    finally:
        restarted.dispose()
    assert _index_definitions(store) == indexes
    _check_integrity(store)


def test_kill_during_bulk_updates_leaves_whole_batches(store: Store, workspace: WorkspaceRef) -> None:
    key = create_key(store, workspace_id=workspace.id, name="crash", role="admin")
    headers = {"Authorization": f"Bearer {key.token}"}
    proc, base = _start_server(store)
    try:
        principal = system_principal(workspace.id, workspace.organization_id)
        docs = [orjson.dumps({"entity_type": "document", "title": f"d{i}"}) for i in range(2000)]
        Importer(store, principal).run(docs)
        with store.read() as conn:
            ids = list(
                conn.execute(
                    select(resource.c.id).where(resource.c.entity_type == "document").order_by(resource.c.pk)
                ).scalars()
            )
        batches = [ids[i : i + 100] for i in range(0, len(ids), 100)]
        stop = threading.Event()

        def hammer() -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                for number, batch in enumerate(batches):
                    if stop.is_set():
                        return
                    body = [{"id": rid, "data": {"description": f"batch-{number}"}} for rid in batch]
                    try:
                        client.post("/resource/all/bulk_update", json=body)
                    except httpx.HTTPError:
                        return

        worker = threading.Thread(target=hammer)
        worker.start()
        time.sleep(0.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        stop.set()
        worker.join()
    finally:
        if proc.poll() is None:
            proc.kill()
    _check_integrity(store)
    with store.read() as conn:
        rows = dict(conn.execute(select(resource.c.id, resource.c.description)).all())  # type: ignore[arg-type]
    for number, batch in enumerate(batches):
        values = {rows[rid] for rid in batch}
        assert values in ({None}, {f"batch-{number}"}), f"batch {number} is partly applied: {values}"
    proc2, _ = _start_server(store)
    proc2.terminate()
    proc2.wait()
