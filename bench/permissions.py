"""What permission filtering costs: the same catalog reads for an admin, an editor, a viewer and
a guest of one team, in-process (the core) and over HTTP against a real server.

    python -m bench.permissions --size 1000000 [--db URL] [--requests 200] [--skip-import]

The catalog is ``bench/generate.py``'s, with one resource in ten in CLOSED team A, one in ten
in CLOSED team B and the rest in the default team. The admin's reads have no permission
clause; the editor's carry the CLOSED-team exclusion, the viewer's adds ``published``, the
guest's is limited to team A. Only loopback traffic; every loop is bounded in count.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import text

from bench.__main__ import FILTER, OUT, free_port, timed
from bench.generate import write
from bench.load import wait_until_up
from cairn.core import filters as flt
from cairn.core.exchange import Importer
from cairn.core.keys import KeyResolver, create_key
from cairn.core.people import TeamService, UserService
from cairn.core.principal import system_principal
from cairn.core.resources import PageRequest, ResourceService
from cairn.core.search import SearchService
from cairn.core.tenancy import default_workspace
from cairn.models.people import TeamWrite, UserWrite
from cairn.models.search import SearchQuery
from cairn.store import Store

ROLES = ("admin", "editor", "viewer", "guest_a")
# One common word (tables and their ``customer_id`` columns) and one qualified name.
SEARCHES = ("customer", "orders")


def with_teams(lines: Iterator[bytes], team_a: str, team_b: str) -> Iterator[bytes]:
    """The generated catalog, one resource in ten in team A and one in ten in team B."""
    for line in lines:
        item = orjson.loads(line)
        if item.get("kind") == "resource":
            bucket = zlib.crc32(item["data"]["id"].encode()) % 10
            item["data"]["teams"] = [team_a] if bucket == 0 else [team_b] if bucket == 1 else []
        yield orjson.dumps(item)


def open_store(url: str | None, size: int, fresh: bool) -> Store:
    if url is None:
        path = OUT / f"permissions_{size}.db"
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return Store(f"sqlite:///{path}")
    store = Store(url)
    if fresh and store.dialect == "postgresql":
        with store.write() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    return store


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.permissions", description=__doc__)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--db", default=None, help="database URL (default: a SQLite file in bench/out)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per query and role")
    parser.add_argument("--skip-import", action="store_true", help="reuse the database of an earlier run")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    source = OUT / f"catalog_{args.size}.jsonl"
    if not source.exists():
        write(args.size, source)
    store = open_store(args.db, args.size, fresh=not args.skip_import)
    store.migrate()
    workspace = default_workspace(store)
    admin = system_principal(workspace.id, workspace.organization_id)
    results: dict[str, Any] = {"size": args.size, "backend": store.dialect}
    teams = TeamService(store)
    existing = {t["name"]: t["id"] for t in teams.list(admin, PageRequest(1, 100)).items}
    for name in ("A", "B"):
        if name not in existing:
            existing[name] = teams.create(admin, TeamWrite(name=name, type="CLOSED"))["id"]
    if not args.skip_import:
        started = time.perf_counter()
        with source.open("rb") as lines:
            report = Importer(store, admin).run(with_teams(lines, existing["A"], existing["B"]))
        results["import"] = {"resources": report.total, "seconds": round(time.perf_counter() - started, 1)}
        print(f"import: {results['import']}", flush=True)
    users = UserService(store)
    email = "guest.a@example.com"
    if not any(u["email"] == email for u in users.list(admin, PageRequest(1, 1000)).items):
        users.create(admin, UserWrite(email=email, role="guest", teams=[existing["A"]]))
    tokens = {
        "admin": create_key(store, workspace_id=workspace.id, name="b-admin", role="admin").token,
        "editor": create_key(store, workspace_id=workspace.id, name="b-editor", role="editor").token,
        "viewer": create_key(store, workspace_id=workspace.id, name="b-viewer", role="viewer").token,
        "guest_a": create_key(store, workspace_id=workspace.id, name="b-guest", user=email).token,
    }
    with store.read() as conn:
        tables = list(
            conn.execute(text("SELECT id FROM resource WHERE entity_type = 'table' LIMIT 2000")).scalars()
        )
    rng = random.Random(1)
    n = args.requests
    filter_node = flt.parse_filter(FILTER)

    # ---- in-process: the core's list (count + page + serialisation), no HTTP -------------------
    resolver = KeyResolver(store)
    service = ResourceService(store)
    searcher = SearchService(store)
    core: dict[str, Any] = {}
    for role in ROLES:
        principal = resolver.resolve(tokens[role])
        core[role] = {
            "list_filtered": timed(
                lambda p=principal: service.list(p, filter_node=filter_node), n, cpu_of=None
            ),
            "list_all": timed(lambda p=principal: service.list(p), max(20, n // 4), cpu_of=None),
            "columns_of_table": timed(
                lambda p=principal: service.list(
                    p,
                    filter_node=flt.parse_filter(
                        {"operator": "exact", "field": "parent_id", "value": rng.choice(tables)}
                    ),
                ),
                n,
                cpu_of=None,
            ),
            "search": timed(
                lambda p=principal: searcher.search(p, SearchQuery(q=rng.choice(SEARCHES))),
                max(20, n // 2),
                cpu_of=None,
            ),
        }
        counts = service.list(principal, filter_node=filter_node).count, service.list(principal).count
        core[role]["counts"] = {
            "filtered": counts[0],
            "all": counts[1],
            **{f"search {q}": searcher.search(principal, SearchQuery(q=q)).count for q in SEARCHES},
        }
        print(role, json.dumps(core[role]), flush=True)
    results["core"] = core
    url = store.url
    store.dispose()

    # ---- over HTTP, one uvicorn worker ----------------------------------------------------------
    port = free_port()
    env = {**os.environ, "CAIRN_DATABASE_URL": url, "CAIRN_WRITE_RATE_LIMIT": "0"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "cairn.api.app:app_from_env", "--factory", "--port", str(port)]
        + ["--log-level", "warning", "--no-access-log"],
        env=env,
    )
    http: dict[str, Any] = {}
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, server)
        filt = json.dumps(FILTER)
        for role in ROLES:
            headers = {"Authorization": f"Bearer {tokens[role]}"}
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:

                def get(path: str, params: dict[str, str] | None = None, c: httpx.Client = client) -> None:
                    response = c.get(path, params=params)
                    if response.status_code != 200:
                        raise SystemExit(f"{path}: {response.status_code} {response.text[:200]}")

                http[role] = {
                    "list_filtered": timed(
                        lambda: get("/resource/catalog", {"filter": filt}), n, cpu_of=server.pid
                    ),
                    "list_all": timed(lambda: get("/resource/catalog"), max(20, n // 4), cpu_of=server.pid),
                    "columns_of_table": timed(
                        lambda: get(
                            "/resource/catalog",
                            {
                                "filter": json.dumps(
                                    {"operator": "exact", "field": "parent_id", "value": rng.choice(tables)}
                                )
                            },
                        ),
                        n,
                        cpu_of=server.pid,
                    ),
                    "search": timed(
                        lambda: get("/search", {"q": rng.choice(SEARCHES)}),
                        max(20, n // 2),
                        cpu_of=server.pid,
                    ),
                }
            print(role, "http", json.dumps(http[role]), flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    results["http"] = http

    # Wall p50, and CPU per call (the process doing the work: this one in-process, the server
    # over HTTP), which other load on a shared machine does not inflate.
    summary: dict[str, dict[str, float]] = {}
    cpu_summary: dict[str, dict[str, float]] = {}
    for layer in ("core", "http"):
        for role in ROLES[1:]:
            for query, base_figures in results[layer]["admin"].items():
                if query == "counts":
                    continue
                figures = results[layer][role][query]
                ratio = figures["p50_ms"] / base_figures["p50_ms"]
                summary.setdefault(f"{layer}.{query}", {})[role] = round((ratio - 1) * 100, 1)
                cpu_ratio = figures["cpu_ms_per_call"] / base_figures["cpu_ms_per_call"]
                cpu_summary.setdefault(f"{layer}.{query}", {})[role] = round((cpu_ratio - 1) * 100, 1)
    results["overhead_pct_vs_admin_p50"] = summary
    results["overhead_pct_vs_admin_cpu"] = cpu_summary
    results["load_average"] = os.getloadavg()
    out = OUT / f"permissions_{results['backend']}_{args.size}.json"
    out.write_text(json.dumps(results, indent=2))
    print(
        json.dumps(
            {k: results[k] for k in ("overhead_pct_vs_admin_p50", "overhead_pct_vs_admin_cpu")}, indent=2
        )
    )


if __name__ == "__main__":
    main()
