"""Lineage figures (issue 7): the graph and impact endpoints at 1M resources and 2M edges.

    python -m bench.lineage --size 1000000 [--db URL] [--requests 200] [--skip-import]

The catalog is bench/generate.py's, imported with the real importer. Lineage edges are generated
from it and loaded with SQL in bulk (the benchmark measures traversal, not edge ingest): tables in
five layers, each table fed by one to six tables of the layer before (skewed, so the first tables
of a layer are hubs), each column of a fed table fed by a column of its upstream table with
probability 0.8, dashboards fed by last-layer tables and feeding their charts. One extra source
table feeds exactly 1,000 resources (250 last-layer tables, 125 dashboards and their 625 charts)
and its columns feed one column of each of those tables. At 1M resources that is about 2M edges.

Measured in-process (``core_*``, the floor) and over HTTP on loopback, as an admin and as a
viewer (whose walk applies the visibility rule): 5 hops downstream of the busiest first-layer
table (the 500-node limit cuts it), and the impact of the source that feeds 1,000 resources.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import text
from tests.live_server import live_server

from bench.__main__ import OUT, timed
from bench.generate import write
from cairn.core.exchange import Importer
from cairn.core.graph import LineageGraphService
from cairn.core.keys import KeyResolver, create_key
from cairn.core.principal import Principal, system_principal
from cairn.core.tenancy import default_workspace
from cairn.store import Store

LAYERS = 5
IMPACT_TABLES = 250
IMPACT_DASHBOARDS = 125


def _skewed(rng: random.Random, items: list[Any]) -> Any:
    return items[int(len(items) * rng.random() ** 3)]


def lineage_edges(catalog: Path, seed: int = 11) -> tuple[list[tuple[str, str, str]], str, str]:
    """(upstream id, downstream id, level) edges for a catalog file, the hub and the impact source."""
    rng = random.Random(seed)
    tables: list[str] = []
    columns: dict[str, list[str]] = defaultdict(list)
    charts: dict[str, list[str]] = defaultdict(list)
    dashboards: list[str] = []
    with catalog.open("rb") as lines:
        for raw in lines:
            line = orjson.loads(raw)
            if line["kind"] != "resource":
                continue
            data = line["data"]
            kind = data["entity_type"]
            if kind == "table":
                tables.append(data["id"])
            elif kind == "column":
                columns[data["parent"]].append(data["id"])
            elif kind == "dashboard":
                dashboards.append(data["id"])
            elif kind == "chart":
                charts[data["parent"]].append(data["id"])
    source, *rest = tables
    rng.shuffle(rest)
    layers = [rest[i::LAYERS] for i in range(LAYERS)]
    impact_tables = layers[-1][-IMPACT_TABLES:]
    sinks = layers[-1][:-IMPACT_TABLES]
    impact_dashboards = dashboards[-IMPACT_DASHBOARDS:]
    edges: list[tuple[str, str, str]] = []

    def feed(up: str, down: str) -> None:
        edges.append((up, down, "table"))
        for column in columns[down]:
            if rng.random() < 0.8 and columns[up]:
                edges.append((rng.choice(columns[up]), column, "column"))

    for depth in range(1, LAYERS):
        targets = layers[depth] if depth < LAYERS - 1 else sinks
        for table in targets:
            for up in {_skewed(rng, layers[depth - 1]) for _ in range(rng.randint(1, 6))}:
                feed(up, table)
    for dashboard in dashboards[:-IMPACT_DASHBOARDS]:
        for up in {_skewed(rng, sinks) for _ in range(rng.randint(1, 3))}:
            edges.append((up, dashboard, "table"))
    for dashboard in dashboards:
        edges.extend((dashboard, chart, "table") for chart in charts[dashboard])
    for table in impact_tables:
        edges.append((source, table, "table"))
        if columns[source] and columns[table]:
            edges.append((rng.choice(columns[source]), columns[table][0], "column"))
    edges.extend((source, dashboard, "table") for dashboard in impact_dashboards)
    hub = layers[0][0]
    return list(dict.fromkeys(edges)), hub, source


def load_edges(store: Store, workspace_id: str, edges: list[tuple[str, str, str]]) -> None:
    """Bulk SQL load: a staging table of ids, then one INSERT ... SELECT joining resource."""
    mark = "?" if store.dialect == "sqlite" else "%s"
    now = "2026-11-01 00:00:00.000000" if store.dialect == "sqlite" else "2026-11-01T00:00:00Z"
    with store.write() as conn:
        conn.exec_driver_sql(
            "CREATE TEMPORARY TABLE edge_in (up_id VARCHAR(36), down_id VARCHAR(36), level VARCHAR(8), "
            "id VARCHAR(36), reverse_id VARCHAR(36))"
        )
        rows = [(u, d, level, str(uuid.uuid4()), str(uuid.uuid4())) for u, d, level in edges]
        for start in range(0, len(rows), 50_000):
            conn.exec_driver_sql(
                f"INSERT INTO edge_in VALUES ({', '.join([mark] * 5)})", rows[start : start + 50_000]
            )
        conn.execute(
            text(
                "INSERT INTO lineage_edge (workspace_id, id, reverse_id, upstream_pk, downstream_pk, level, "
                "origin, created_at, updated_at) "
                "SELECT :ws, e.id, e.reverse_id, u.pk, d.pk, e.level, 'import', :now, :now FROM edge_in e "
                "JOIN resource u ON u.workspace_id = :ws AND u.id = e.up_id "
                "JOIN resource d ON d.workspace_id = :ws AND d.id = e.down_id"
            ),
            {"ws": workspace_id, "now": now},
        )
        conn.exec_driver_sql("DROP TABLE edge_in")
        conn.exec_driver_sql("ANALYZE" if store.dialect == "sqlite" else "ANALYZE lineage_edge")


def _sqlite_path(size: int) -> Path:
    return OUT / f"bench_lineage_{size}.db"


def build(store: Store, admin: Principal, source: Path, results: dict[str, Any]) -> tuple[str, str]:
    """Import the catalog, then generate and load its edges; returns the hub and impact source."""
    started = time.perf_counter()
    with source.open("rb") as lines:
        report = Importer(store, admin).run(lines)
    elapsed = time.perf_counter() - started
    results["import"] = {
        "resources": report.total,
        "seconds": round(elapsed, 1),
        "per_second": round(report.total / elapsed),
        "bad_lines": len(report.errors),
    }
    print(f"import: {results['import']}", flush=True)
    started = time.perf_counter()
    edges, hub, impact_source = lineage_edges(source)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    load_edges(store, admin.workspace_id, edges)
    if store.dialect == "postgresql":
        with store.write() as conn:
            conn.exec_driver_sql("ANALYZE search_doc")
    results["lineage_edges"] = {
        "edges": len(edges),
        "generate_seconds": round(generated, 1),
        "load_seconds": round(time.perf_counter() - started, 1),
    }
    print(f"lineage: {results['lineage_edges']}", flush=True)
    return hub, impact_source


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lineage", description=__doc__)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--db", default=None, help="database URL (default: a SQLite file in bench/out)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per measure")
    parser.add_argument("--skip-import", action="store_true", help="reuse the database of an earlier run")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    source = OUT / f"catalog_{args.size}.jsonl"
    if not source.exists():
        write(args.size, source)
    url = args.db or f"sqlite:///{_sqlite_path(args.size)}"
    if not args.skip_import:
        _wipe(url, args.size)
    store = Store(url)
    results: dict[str, Any] = {"size": args.size, "backend": store.dialect, "loadavg_start": os.getloadavg()}
    store.migrate()
    workspace = default_workspace(store)
    admin = system_principal(workspace.id, workspace.organization_id)
    roots = OUT / f"lineage_roots_{store.dialect}_{args.size}.json"
    if args.skip_import:
        hub, impact_source = json.loads(roots.read_text())
    else:
        hub, impact_source = build(store, admin, source, results)
        roots.write_text(json.dumps([hub, impact_source]))
    with store.read() as conn:
        results["edges_in_database"] = conn.execute(text("SELECT count(*) FROM lineage_edge")).scalar()
    results.update(measure(store, admin, hub, impact_source, args.requests))
    results["loadavg_end"] = os.getloadavg()
    out = OUT / f"results_lineage_{store.dialect}_{args.size}.json"
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


def _wipe(url: str, size: int) -> None:
    if url.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{_sqlite_path(size)}{suffix}").unlink(missing_ok=True)
        return
    store = Store(url)
    with store.write() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    store.dispose()


def measure(store: Store, admin: Principal, hub: str, impact_source: str, n: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    graph = LineageGraphService(store)
    viewer_key = create_key(
        store, workspace_id=admin.workspace_id, name="bench-lineage-viewer", role="viewer"
    )
    viewer = KeyResolver(store).resolve(viewer_key.token)
    hub_graph = graph.graph(admin, hub, depth=5)
    impact = graph.impact(admin, impact_source)
    checks = {
        "hub_5_hops_nodes": len(hub_graph["nodes"]),
        "hub_5_hops_edges": len(hub_graph["edges"]),
        "hub_5_hops_truncated": hub_graph["truncated"],
        "impact_count": impact["count"],
        "impact_columns": len(impact["columns"]),
        "viewer_hub_5_hops_nodes": len(graph.graph(viewer, hub, depth=5)["nodes"]),
        "viewer_impact_count": graph.impact(viewer, impact_source)["count"],
    }
    results["checks"] = checks
    print(f"checks: {checks}", flush=True)
    core: dict[str, Callable[[], Any]] = {
        "hub_5_hops": lambda: graph.graph(admin, hub, depth=5),
        "impact_1000": lambda: graph.impact(admin, impact_source),
        "viewer_hub_5_hops": lambda: graph.graph(viewer, hub, depth=5),
        "viewer_impact_1000": lambda: graph.impact(viewer, impact_source),
    }
    for name, fn in core.items():
        results[f"core_{name}"] = timed(fn, n, cpu_of=None)
        print("core", name, results[f"core_{name}"], flush=True)
    key = create_key(store, workspace_id=admin.workspace_id, name="bench-lineage", role="admin")
    clients = {"": key.token, "viewer_": viewer_key.token}
    with live_server(store) as base:
        for who, token in clients.items():
            with httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120
            ) as client:

                def get(path: str, client: httpx.Client = client, **params: Any) -> None:
                    response = client.get(path, params=params)
                    if response.status_code != 200:
                        raise SystemExit(f"{path}: {response.status_code} {response.text[:200]}")

                http: dict[str, Callable[[], Any]] = {
                    "hub_5_hops": lambda: get(f"/lineage/graph/{hub}", direction="downstream", depth=5),
                    "impact_1000": lambda: get(f"/lineage/impact/{impact_source}"),
                }
                for name, fn in http.items():
                    results[f"http_{who}{name}"] = timed(fn, n)
                    print("http", who + name, results[f"http_{who}{name}"], flush=True)
    return results


if __name__ == "__main__":
    main()
