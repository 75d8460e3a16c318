"""Benchmark Cairn end to end: import, then HTTP latencies against a real server, beside the
same queries as raw SQL in-process (the floor).

    python -m bench --size 100000 [--db URL] [--requests 300]

Only loopback traffic; every loop is bounded in count.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from bench.generate import write
from cairn.core.exchange import Importer
from cairn.core.keys import create_key
from cairn.core.principal import system_principal
from cairn.core.tenancy import default_workspace
from cairn.store import Store

OUT = Path(__file__).parent / "out"
FILTER = {
    "operator": "and",
    "operands": [
        {"operator": "exact", "field": "type", "value": "table"},
        {"operator": "contains", "field": "title", "value": "cust"},
    ],
}


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 2),
        "n": len(ordered),
    }


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) of a process, all threads; this process when ``pid`` is None."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(fn: Callable[[], Any], count: int, *, cpu_of: int | None = -1) -> dict[str, float]:
    """p50/p95 wall time, and the CPU a process spent per call (``cpu_of``: a pid, None for
    this process, -1 for none): on a shared machine the CPU figure is the stable one."""
    for _ in range(min(20, count)):  # warm caches and connections
        fn()
    samples = []
    cpu_before = cpu_seconds(cpu_of) if cpu_of != -1 else 0.0
    for _ in range(count):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    result = percentiles(samples)
    if cpu_of != -1:
        result["cpu_ms_per_call"] = round((cpu_seconds(cpu_of) - cpu_before) / count * 1000, 2)
    return result


def within_2x(results: dict[str, Any]) -> dict[str, dict[str, float | bool]]:
    """Each HTTP read against twice its floor: its raw SQL p50 plus the transport floor's p50 (no
    HTTP request can be within 2x of an in-process query of a quarter millisecond on its own)."""
    transport = results["http_transport_floor"]["p50_ms"]
    judged: dict[str, dict[str, float | bool]] = {}
    for read in ("list_filtered", "columns_of_table", "get_by_id"):
        floor = round(results[f"sql_{read}"]["p50_ms"] + transport, 2)
        http = results[f"http_{read}"]["p50_ms"]
        judged[read] = {"http_p50_ms": http, "floor_p50_ms": floor, "met": http <= 2 * floor}
    return judged


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """A memory line of ``/proc/PID/status`` in MB (``RssFile`` is mapped file pages: the
    database pages SQLite's mmap reads, which the OS page cache holds and can drop)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024, 1)
    return -1.0


def fresh_store(url: str | None, size: int) -> Store:
    if url is None:
        path = OUT / f"bench_{size}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return Store(f"sqlite:///{path}")
    store = Store(url)
    if store.dialect == "postgresql":
        with store.write() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    return store


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--size", type=int, default=100_000, help="resources in the synthetic catalog")
    parser.add_argument("--db", default=None, help="database URL (default: a SQLite file in bench/out)")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per query")
    parser.add_argument("--skip-import", action="store_true", help="reuse the database of an earlier run")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    source = OUT / f"catalog_{args.size}.jsonl"
    if not source.exists():
        write(args.size, source)
    results: dict[str, Any] = {
        "size": args.size,
        "backend": "sqlite" if args.db is None else args.db.split(":")[0],
    }

    if args.skip_import:
        store = Store(args.db or f"sqlite:///{OUT / f'bench_{args.size}.db'}")
        store.migrate()
    else:
        store = fresh_store(args.db, args.size)
        store.migrate()
    workspace = default_workspace(store)
    principal = system_principal(workspace.id, workspace.organization_id)
    if not args.skip_import:
        started = time.perf_counter()
        own_cpu = time.process_time()
        with source.open("rb") as lines:
            report = Importer(store, principal).run(lines)
        elapsed = time.perf_counter() - started
        own_cpu = time.process_time() - own_cpu
        workers_cpu = sum(
            getattr(resource.getrusage(resource.RUSAGE_CHILDREN), f) for f in ("ru_utime", "ru_stime")
        )
        results["import"] = {
            "resources": report.total,
            "seconds": round(elapsed, 1),
            "per_second": round(report.total / elapsed),
            "bad_lines": len(report.errors),
            # The writer (this process) is the serial part: resources per second of its CPU is
            # what a quiet machine would reach, as long as the workers keep up on another core.
            "writer_cpu_seconds": round(own_cpu, 1),
            "workers_cpu_seconds": round(workers_cpu, 1),
            "per_writer_cpu_second": round(report.total / max(own_cpu, 1e-9)),
        }
        print(f"import: {results['import']}", flush=True)

    with store.read() as conn:
        tables = list(
            conn.execute(text("SELECT id FROM resource WHERE entity_type = 'table' LIMIT 2000")).scalars()
        )
        all_ids = list(conn.execute(text("SELECT id FROM resource ORDER BY pk LIMIT 20000")).scalars())
        docs = list(
            conn.execute(
                text("SELECT id FROM resource WHERE entity_type = 'column' ORDER BY pk DESC LIMIT 5000")
            ).scalars()
        )
    rng = random.Random(1)
    key = create_key(store, workspace_id=workspace.id, name="bench", role="admin")
    url = store.url
    store.dispose()

    port = free_port()
    # The benchmark measures the catalog, not the Secoda-style write rate limit (30/min).
    env = {
        **os.environ,
        "CAIRN_DATABASE_URL": url,
        "CAIRN_WRITE_RATE_LIMIT": "0",
        "CAIRN_KONTENT_RATE_PER_SECOND": "0",
        "CAIRN_KONTENT_RATE_PER_MINUTE": "0",
    }
    server = subprocess.Popen(
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
            "--no-access-log",
        ],
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/healthcheck", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not start")
            time.sleep(0.2)
        headers = {"Authorization": f"Bearer {key.token}"}
        n = args.requests
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            filt = json.dumps(FILTER)

            def check(response: httpx.Response) -> httpx.Response:
                if response.status_code >= 400:
                    raise SystemExit(f"{response.request.url}: {response.status_code} {response.text[:200]}")
                return response

            # The transport's own floor: a trivial request (same client, headers and keep-alive
            # connection) through uvicorn and the app's middleware, with no query behind it.
            results["http_transport_floor"] = timed(
                lambda: check(client.get("/healthcheck")), n, cpu_of=server.pid
            )
            results["http_list_filtered"] = timed(
                lambda: check(client.get("/resource/catalog", params={"filter": filt})), n, cpu_of=server.pid
            )
            results["http_columns_of_table"] = timed(
                lambda: check(
                    client.get(
                        "/resource/catalog",
                        params={
                            "filter": json.dumps(
                                {"operator": "exact", "field": "parent_id", "value": rng.choice(tables)}
                            )
                        },
                    )
                ),
                n,
                cpu_of=server.pid,
            )
            results["http_get_by_id"] = timed(
                lambda: check(client.get(f"/resource/all/{rng.choice(all_ids)}")), n, cpu_of=server.pid
            )
            results["http_patch"] = timed(
                lambda: check(
                    client.patch(
                        f"/resource/all/{rng.choice(docs)}", json={"description": f"d{rng.random()}"}
                    )
                ),
                max(50, n // 3),
                cpu_of=server.pid,
            )
            batches = 20
            started = time.perf_counter()
            for b in range(batches):
                body = [{"id": rid, "data": {"description": f"bulk {b}"}} for rid in rng.sample(docs, 100)]
                check(client.post("/resource/all/bulk_update", json=body))
            elapsed = time.perf_counter() - started
            results["http_bulk_update"] = {
                "resources_per_second": round(batches * 100 / elapsed),
                "batches": batches,
            }
        results["server_rss_mb"] = rss_mb(server.pid)
        results["server_rss_anon_mb"] = rss_mb(server.pid, "RssAnon")
        results["server_rss_file_mb"] = rss_mb(server.pid, "RssFile")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    floor = Store(url)
    ws = workspace.id
    # The same substring test the server compiles: SQLite's LIKE folds ASCII case itself.
    like = "title LIKE '%cust%'" if floor.dialect == "sqlite" else "title ILIKE '%cust%'"
    with floor.read() as conn:
        list_sql = text(
            "SELECT * FROM resource WHERE workspace_id = :ws AND archived = false AND stale = false "
            f"AND entity_type = 'table' AND {like} "
            "ORDER BY external_usage DESC, id LIMIT 50"
        )
        count_sql = text(
            "SELECT count(*) FROM resource WHERE workspace_id = :ws AND archived = false AND stale = false "
            f"AND entity_type = 'table' AND {like}"
        )
        results["sql_list_filtered"] = timed(
            lambda: (conn.execute(count_sql, {"ws": ws}).all(), conn.execute(list_sql, {"ws": ws}).all()),
            n,
            cpu_of=None,
        )
        cols_sql = text(
            "SELECT * FROM resource WHERE workspace_id = :ws AND archived = false AND stale = false "
            "AND parent_id = :p ORDER BY external_usage DESC, id LIMIT 50"
        )
        cols_count = text(
            "SELECT count(*) FROM resource WHERE workspace_id = :ws AND archived = false "
            "AND stale = false AND parent_id = :p"
        )

        def columns() -> None:
            parent = rng.choice(tables)
            conn.execute(cols_count, {"ws": ws, "p": parent}).all()
            conn.execute(cols_sql, {"ws": ws, "p": parent}).all()

        results["sql_columns_of_table"] = timed(columns, n, cpu_of=None)
        get_sql = text("SELECT * FROM resource WHERE workspace_id = :ws AND id = :id")
        results["sql_get_by_id"] = timed(
            lambda: conn.execute(get_sql, {"ws": ws, "id": rng.choice(all_ids)}).all(), n, cpu_of=None
        )
    floor.dispose()
    results["within_2x_of_floor"] = within_2x(results)
    out = OUT / f"results_{results['backend']}_{args.size}.json"
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
