"""Connector figures: crawl a PostgreSQL database of N tables x M columns end to end with the real
``cairn ingest sql`` command, re-crawl it unchanged, and post OpenLineage events over HTTP.

    python -m bench.connectors [--tables 2000] [--columns 20] [--views 50] [--db URL] [--events 10000]

The source database (``cairn_bench_source`` on the local PostgreSQL) is built once and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from bench.__main__ import OUT, fresh_store
from cairn.core.keys import create_key
from cairn.core.tenancy import default_workspace

PG_ADMIN = os.environ.get("CAIRN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SOURCE = "cairn_bench_source"
SCHEMAS = 10


def build_source(tables: int, columns: int, views: int) -> str:
    """A database of ``tables`` tables of ``columns`` columns over 10 schemas, with comments and views."""
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{SOURCE}"
    shape = f"{tables}x{columns}+{views}"
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": SOURCE}).first()
        if exists:
            source = create_engine(url)
            with source.connect() as sconn:
                found = sconn.execute(text("SELECT obj_description('public'::regnamespace)")).scalar()
            source.dispose()
            if found == shape:
                admin.dispose()
                return url
            conn.execute(text(f'DROP DATABASE "{SOURCE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{SOURCE}"'))
    admin.dispose()
    source = create_engine(url, isolation_level="AUTOCOMMIT")
    per_schema = tables // SCHEMAS
    with source.connect() as conn:
        for s in range(SCHEMAS):
            conn.exec_driver_sql(f"CREATE SCHEMA s{s}")
            statements = []
            for t in range(per_schema):
                cols = ", ".join(
                    ["id bigint PRIMARY KEY"]
                    + [
                        f"c{c} {('text', 'integer', 'numeric(12,2)', 'timestamptz')[c % 4]}"
                        for c in range(1, columns)
                    ]
                )
                statements.append(f"CREATE TABLE s{s}.t{t} ({cols})")
                statements.append(f"COMMENT ON TABLE s{s}.t{t} IS 'table {t} of schema {s}'")
                statements.append(f"COMMENT ON COLUMN s{s}.t{t}.c1 IS 'first column'")
            conn.exec_driver_sql(";\n".join(statements))
        for v in range(views):
            s, t = v % SCHEMAS, v % per_schema
            conn.exec_driver_sql(
                f"CREATE VIEW s{s}.v{v} AS SELECT a.id, a.c1, b.c2 FROM s{s}.t{t} a "
                f"JOIN s{s}.t{(t + 1) % per_schema} b ON b.id = a.id"
            )
        conn.exec_driver_sql("ANALYZE")
        conn.exec_driver_sql(f"COMMENT ON SCHEMA public IS '{shape}'")
    source.dispose()
    return url


def run_cli(url: str, db: str) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "cairn.cli.main", "ingest", "sql", url.replace("+psycopg", ""), "--db", db],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"ingest failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed, proc.stderr.strip().splitlines()[-1]


def openlineage_events(count: int) -> list[dict[str, Any]]:
    """``count`` RunEvents: START and COMPLETE of count/2 runs over 200 jobs and 400 datasets."""
    events = []
    producer = "https://github.com/OpenLineage/OpenLineage/tree/1.0.0/client/python"
    for i in range(count // 2):
        job = f"job_{i % 200}"
        run_id = str(uuid.UUID(int=i + 1))
        inputs = [
            {"namespace": "postgres://db:5432", "name": f"analytics.raw.src_{(i + k) % 400}"}
            for k in range(2)
        ]
        outputs = [
            {
                "namespace": "postgres://db:5432",
                "name": f"analytics.mart.out_{i % 200}",
                "facets": {
                    "schema": {
                        "_producer": producer,
                        "_schemaURL": "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json",
                        "fields": [{"name": "id", "type": "bigint"}, {"name": "amount", "type": "numeric"}],
                    }
                },
            }
        ]
        for state, minute in (("START", 0), ("COMPLETE", 1)):
            events.append(
                {
                    "eventType": state,
                    "eventTime": f"2026-12-01T{(i // 60) % 24:02d}:{(i + minute) % 60:02d}:00Z",
                    "run": {"runId": run_id},
                    "job": {"namespace": "airflow", "name": job},
                    "inputs": inputs,
                    "outputs": outputs,
                    "producer": producer,
                    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
                }
            )
    return events


def bench_openlineage(db: str, count: int, batch: int) -> dict[str, Any]:
    from tests.live_server import live_server

    store = fresh_store(db if "://" in db else None, -1)
    store.migrate()
    workspace = default_workspace(store)
    key = create_key(store, workspace_id=workspace.id, name="bench", role="editor")
    events = openlineage_events(count)
    headers = {"Authorization": f"Bearer {key.token}"}
    with live_server(store) as base, httpx.Client(base_url=base, headers=headers, timeout=300) as http:
        started = time.perf_counter()
        for start in range(0, len(events), batch):
            chunk = events[start : start + batch]
            response = http.post("/api/v1/lineage/batch", json=chunk)
            response.raise_for_status()
        batched = time.perf_counter() - started
        single = events[:500]
        started = time.perf_counter()
        for event in single:
            http.post("/api/v1/lineage", json=event).raise_for_status()
        one_by_one = time.perf_counter() - started
    store.dispose()
    return {
        "events": len(events),
        "batch_size": batch,
        "seconds_batched": round(batched, 2),
        "events_per_s_batched": round(len(events) / batched),
        "events_per_s_one_request_each": round(len(single) / one_by_one),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.connectors", description=__doc__)
    parser.add_argument("--tables", type=int, default=2000)
    parser.add_argument("--columns", type=int, default=20, help="columns per table")
    parser.add_argument("--views", type=int, default=50)
    parser.add_argument("--db", default=None, help="catalog URL (default: a SQLite file in bench/out)")
    parser.add_argument("--events", type=int, default=10_000, help="OpenLineage events (0 skips)")
    parser.add_argument("--batch", type=int, default=500, help="events per batch request")
    args = parser.parse_args()
    os.environ["CAIRN_WRITE_RATE_LIMIT"] = "0"
    OUT.mkdir(exist_ok=True)
    started = time.perf_counter()
    url = build_source(args.tables, args.columns, args.views)
    results: dict[str, Any] = {"source_build_s": round(time.perf_counter() - started, 1)}
    store = fresh_store(args.db, -2)
    db = args.db or store.url
    store.dispose()
    first, first_summary = run_cli(url, db)
    second, second_summary = run_cli(url, db)
    results.update(
        {
            "catalog": "sqlite" if args.db is None else args.db.split(":")[0],
            "tables": args.tables + args.views,
            "columns": args.tables * args.columns + args.views * 3,
            "crawl_s": round(first, 2),
            "crawl_summary": first_summary,
            "recrawl_unchanged_s": round(second, 2),
            "recrawl_summary": second_summary,
            "load_average": os.getloadavg(),
        }
    )
    if args.events:
        results["openlineage"] = bench_openlineage(db, args.events, args.batch)
    out = OUT / f"connectors_{results['catalog']}.json"
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
