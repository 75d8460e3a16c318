"""Search and lineage figures: import with the search index, then ``/search`` and the lineage
graph and impact endpoints over HTTP on loopback, beside the same calls in-process (the floor).

    python -m bench.search --size 100000 [--db URL] [--requests 200] [--no-search-index]

The catalog is bench/generate.py's; lineage edges are generated here from it and loaded with
SQL (the benchmark measures traversal, not edge ingest): tables in five layers, each table fed
by one to six tables of the layer before (skewed, so the first tables of a layer are hubs),
each column of a fed table fed by a column of its upstream table with probability 0.8,
dashboards fed by last-layer tables and feeding their charts. One extra source table feeds
exactly 1,000 resources (250 last-layer tables, 125 dashboards and their 625 charts) and its
columns feed one column of each of those tables. ``--no-search-index`` drops the search
triggers before the import, for the import figure without them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Connection
from tests.live_server import live_server

from bench.__main__ import OUT, fresh_store, timed
from bench.generate import write
from bench.lineage import lineage_edges, load_edges
from cairn.core.exchange import Importer
from cairn.core.graph import LineageGraphService
from cairn.core.keys import create_key
from cairn.core.principal import Principal, system_principal
from cairn.core.search import SearchService
from cairn.core.tenancy import default_workspace
from cairn.models.search import SearchQuery
from cairn.store import Store

ONE_WORD = [
    "customer",
    "orders",
    "payments",
    "sessions",
    "inventory",
    "invoices",
    "shipments",
    "refunds",
    "campaigns",
    "subscriptions",
    "email",
    "country",
    "overview",
    "snapshot",
    "term",
]
TWO_WORDS = [
    "dim customer",
    "customer daily",
    "orders snapshot",
    "fct payments",
    "stg sessions",
    "raw events",
    "products history",
    "inventory agg",
    "customer overview",
    "refunds v2",
    "leads 2024",
    "customer id",
    "users daily",
    "invoices term",
    "stores snapshot",
]
TYPOS = ["custmer", "ordres", "paymnts", "sesions", "invetory", "invoces", "shipmnts", "refnds", "campains"]
SEARCH_TRIGGERS = {
    "sqlite": ["resource_fts_insert", "resource_fts_update", "resource_fts_delete", "search_doc_insert"]
    + ["search_doc_update", "search_doc_delete"],
    "postgresql": ["resource_search_insert ON resource", "resource_search_update ON resource"]
    + ["search_doc_insert ON resource", "search_doc_update ON resource"],
}


def drop_search_triggers(conn: Connection, dialect: str) -> None:
    for trigger in SEARCH_TRIGGERS[dialect]:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--db", default=None, help="database URL (default: a SQLite file in bench/out)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per measure")
    parser.add_argument("--no-search-index", action="store_true", help="import without the search triggers")
    parser.add_argument("--skip-import", action="store_true", help="reuse the database of an earlier run")
    args = parser.parse_args()
    os.environ["CAIRN_WRITE_RATE_LIMIT"] = "0"
    OUT.mkdir(exist_ok=True)
    source = OUT / f"catalog_{args.size}.jsonl"
    if not source.exists():
        write(args.size, source)
    results: dict[str, Any] = {"size": args.size, "loadavg_start": os.getloadavg()}
    if args.skip_import:
        store = Store(args.db or f"sqlite:///{OUT / f'bench_search_{args.size}.db'}")
    else:
        store = fresh_store(args.db, args.size) if args.db else _fresh_sqlite(args.size)
    results["backend"] = store.dialect
    store.migrate()
    workspace = default_workspace(store)
    admin = system_principal(workspace.id, workspace.organization_id)
    if not args.skip_import:
        if args.no_search_index:
            with store.write() as conn:
                drop_search_triggers(conn, store.dialect)
        started = time.perf_counter()
        with source.open("rb") as lines:
            report = Importer(store, admin).run(lines)
        elapsed = time.perf_counter() - started
        results["import"] = {
            "search_index": not args.no_search_index,
            "resources": report.total,
            "seconds": round(elapsed, 1),
            "per_second": round(report.total / elapsed),
            "bad_lines": len(report.errors),
        }
        print(f"import: {results['import']}", flush=True)
        if args.no_search_index:
            _write(results)
            return
    edges, hub, impact_source = lineage_edges(source)
    if not args.skip_import:
        started = time.perf_counter()
        load_edges(store, workspace.id, edges)
        results["lineage_edges"] = {
            "edges": len(edges),
            "load_seconds": round(time.perf_counter() - started, 1),
        }
        print(f"lineage: {results['lineage_edges']}", flush=True)
    results.update(measure(store, admin, hub, impact_source, args.requests))
    results["loadavg_end"] = os.getloadavg()
    _write(results)


def _fresh_sqlite(size: int) -> Store:
    path = OUT / f"bench_search_{size}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return Store(f"sqlite:///{path}")


def _write(results: dict[str, Any]) -> None:
    name = f"results_search_{results['backend']}_{results['size']}"
    if not results.get("import", {}).get("search_index", True):
        name += "_no_index"
    (OUT / f"{name}.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


def measure(store: Store, admin: Principal, hub: str, impact_source: str, n: int) -> dict[str, Any]:
    rng = random.Random(5)
    results: dict[str, Any] = {}
    search = SearchService(store)
    graph = LineageGraphService(store)
    checks = {
        "hub_5_hops_nodes": len(graph.graph(admin, hub, depth=5)["nodes"]),
        "impact_count": graph.impact(admin, impact_source)["count"],
        "counts": {
            q: search.search(admin, SearchQuery(q=q)).count for q in ("customer", "dim customer", "custmer")
        },
    }
    results["checks"] = checks
    print(f"checks: {checks}", flush=True)
    core: dict[str, Callable[[], Any]] = {
        "search_one_word": lambda: search.search(admin, SearchQuery(q=rng.choice(ONE_WORD))),
        "search_two_words": lambda: search.search(admin, SearchQuery(q=rng.choice(TWO_WORDS))),
        "search_typo": lambda: search.search(admin, SearchQuery(q=rng.choice(TYPOS))),
        "lineage_hub_5_hops": lambda: graph.graph(admin, hub, depth=5),
        "lineage_impact_1000": lambda: graph.impact(admin, impact_source),
    }
    for name, fn in core.items():
        # CPU of this process per call: all of it on SQLite, the client side only on PostgreSQL;
        # on a shared machine it is the stable figure beside the wall-clock percentiles.
        results[f"core_{name}"] = timed(fn, n, cpu_of=None)
        print(name, results[f"core_{name}"], flush=True)
    key = create_key(store, workspace_id=admin.workspace_id, name="bench-search", role="admin")
    with (
        live_server(store) as base,
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key.token}"}, timeout=120) as client,
    ):

        def get(path: str, **params: Any) -> None:
            response = client.get(path, params=params)
            if response.status_code != 200:
                raise SystemExit(f"{path}: {response.status_code} {response.text[:200]}")

        http: dict[str, Callable[[], Any]] = {
            "search_one_word": lambda: get("/search", q=rng.choice(ONE_WORD)),
            "search_two_words": lambda: get("/search", q=rng.choice(TWO_WORDS)),
            "search_typo": lambda: get("/search", q=rng.choice(TYPOS)),
            "lineage_hub_5_hops": lambda: get(f"/lineage/graph/{hub}", direction="downstream", depth=5),
            "lineage_impact_1000": lambda: get(f"/lineage/impact/{impact_source}"),
        }
        for name, fn in http.items():
            results[f"http_{name}"] = timed(fn, n)
            print("http", name, results[f"http_{name}"], flush=True)
    return results


if __name__ == "__main__":
    main()
