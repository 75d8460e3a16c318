"""Ingest figures over HTTP on loopback: ``import_metadata`` of a JSONL file (first import, then
the same file again, which must change nothing), and ``lineage_from_query`` for a 3-join SQL
statement against the imported catalog.

    python -m bench.ingest [--rows 100000] [--db URL] [--requests 200]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import httpx
from tests.live_server import live_server

from bench.__main__ import OUT, cpu_seconds, fresh_store, timed
from cairn.core.keys import create_key
from cairn.core.tenancy import default_workspace

COLUMNS_PER_TABLE = 19  # a table line and its columns: 20 rows per table

SQL = """
select o.order_id, c.name as customer, sum(o.amount) as total, p.title as product, r.region
from shop.public.table_00001 o
join shop.public.table_00002 c on c.col_01 = o.col_02
join shop.public.table_00003 p on p.col_01 = o.col_03
join shop.public.table_00004 r on r.col_01 = c.col_04
where o.col_05 > 10
group by 1, 2, 4, 5
"""


def write_jsonl(rows: int, path: Path) -> int:
    """Tables (Secoda's format: database and schema by name) with their columns."""
    written = 0
    with path.open("w") as out:
        table = 0
        while written < rows:
            table += 1
            schema = f"schema_{table % 20:02d}" if table > 4 else "public"
            table_id = f"shop.{schema}.table_{table:05d}"
            out.write(
                json.dumps(
                    {
                        "entity_type": "table",
                        "databuilder_id": table_id,
                        "title": f"table_{table:05d}",
                        "description": f"Table number {table}",
                        "database": "shop",
                        "schema": schema,
                    }
                )
                + "\n"
            )
            written += 1
            for column in range(1, COLUMNS_PER_TABLE + 1):
                if written >= rows:
                    break
                out.write(
                    json.dumps(
                        {
                            "entity_type": "column",
                            "databuilder_id": f"{table_id}.col_{column:02d}",
                            "parent_databuilder_id": table_id,
                            "title": f"col_{column:02d}",
                            "type": "integer" if column % 2 else "varchar",
                            "sort_order": column,
                        }
                    )
                    + "\n"
                )
                written += 1
    return written


def _server_pid() -> int:
    """The uvicorn child ``live_server`` started: its CPU, not the client's, is the figure."""
    me = os.getpid()
    children = Path(f"/proc/{me}/task/{me}/children").read_text().split()
    if len(children) != 1:
        raise SystemExit(f"expected one server process, found {children}")
    return int(children[0])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", default=None, help="database URL (default: a SQLite file in bench/out)")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    os.environ["CAIRN_WRITE_RATE_LIMIT"] = "0"  # measure ingest, not the write rate limit
    OUT.mkdir(exist_ok=True)
    source = OUT / f"resources_{args.rows}.jsonl"
    rows = write_jsonl(args.rows, source)
    data = source.read_bytes()
    results: dict[str, object] = {
        "backend": "sqlite" if args.db is None else args.db.split(":")[0],
        "rows": rows,
    }
    results["load_average_start"] = os.getloadavg()
    store = fresh_store(args.db, 0)
    store.migrate()
    workspace = default_workspace(store)
    key = create_key(store, workspace_id=workspace.id, name="bench", role="admin")
    headers = {"Authorization": f"Bearer {key.token}"}
    with live_server(store) as base, httpx.Client(base_url=base, headers=headers, timeout=600) as http:
        server = _server_pid()
        integration = http.post("/integration/integrations", json={"name": "bench", "type": "custom"}).json()[
            "id"
        ]
        path = f"/integration/integrations/{integration}/import_metadata"
        for label in ("import", "reimport"):
            started, cpu_before = time.perf_counter(), cpu_seconds(server)
            response = http.post(path, files={"resources_file": ("resources.jsonl", data)})
            elapsed = time.perf_counter() - started
            server_cpu = cpu_seconds(server) - cpu_before
            if response.status_code != 200:
                raise SystemExit(f"{label}: {response.status_code} {response.text[:300]}")
            results[label] = {
                "seconds": round(elapsed, 2),
                "resources_per_second": round(rows / elapsed),
                "server_cpu_seconds": round(server_cpu, 2),
                "summary": response.json(),
            }
            print(label, results[label], flush=True)
        params = {"sql": SQL, "dialect": "postgres"}
        check = http.get("/lineage/lineage_from_query", params=params).json()
        if len(check["source_tables"]) != 4:
            raise SystemExit(f"lineage_from_query resolved {check['source_tables']}")
        results["lineage_from_query_3_joins"] = timed(
            lambda: http.get("/lineage/lineage_from_query", params=params), args.requests, cpu_of=server
        )
        print("lineage_from_query", results["lineage_from_query_3_joins"], flush=True)
    store.dispose()
    results["load_average"] = os.getloadavg()
    out = OUT / f"results_ingest_{results['backend']}_{rows}.json"
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
