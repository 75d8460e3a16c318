"""Import throughput in-process, without the HTTP part of ``python -m bench``: ``cairn import``
of the synthetic catalog (``bench/generate.py``) and ``import_metadata`` of the Secoda JSONL of
``bench/ingest.py`` (then the same file again).

    python -m bench.imports [--size 100000] [--rows 100000] [--db URL]

On a shared machine wall-clock figures follow the load; the CPU time of this process (and, for
``cairn import``, of its validation workers) is given beside them and is the steadier figure.
The database server's own CPU (PostgreSQL) is not included.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from typing import Any

from bench.__main__ import OUT, fresh_store
from bench.generate import write
from bench.ingest import write_jsonl
from cairn.core.exchange import Importer
from cairn.core.ingest import MetadataIngest, parse_resources_jsonl
from cairn.core.integrations import IntegrationService
from cairn.core.principal import Principal, system_principal
from cairn.core.tenancy import default_workspace
from cairn.models.integrations import IntegrationCreate
from cairn.store import Store


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return float(usage.ru_utime + usage.ru_stime)


def _timed(label: str, count: int, run: Any) -> dict[str, Any]:
    load_before = os.getloadavg()
    started, cpu, workers = time.perf_counter(), time.process_time(), _children_cpu()
    summary = run()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    figures = {
        "count": count,
        "seconds": round(elapsed, 1),
        "per_second": round(count / elapsed),
        "cpu_seconds": round(cpu, 1),
        "per_cpu_second": round(count / max(cpu, 1e-9)),
        "workers_cpu_seconds": round(_children_cpu() - workers, 1),
        "load_before": [round(x, 1) for x in load_before],
        "load_after": [round(x, 1) for x in os.getloadavg()],
        "summary": summary,
    }
    print(label, json.dumps(figures), flush=True)
    return figures


def _empty_workspace(url: str | None, size: int) -> tuple[Store, Principal]:
    store = fresh_store(url, size)
    store.migrate()
    workspace = default_workspace(store)
    return store, system_principal(workspace.id, workspace.organization_id)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__)
    parser.add_argument("--size", type=int, default=100_000, help="resources for cairn import (0: skip)")
    parser.add_argument("--rows", type=int, default=100_000, help="import_metadata lines (0: skip)")
    parser.add_argument("--db", default=None, help="database URL (default: SQLite files in bench/out; wiped)")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    backend = "sqlite" if args.db is None else args.db.split(":")[0].split("+")[0]
    results: dict[str, Any] = {"backend": backend}
    if args.size:
        source = OUT / f"catalog_{args.size}.jsonl"
        if not source.exists():
            write(args.size, source)
        store, principal = _empty_workspace(args.db, args.size)

        def run_import() -> dict[str, Any]:
            with source.open("rb") as lines:
                report = Importer(store, principal).run(lines)
            return {"resources": report.total, "bad_lines": len(report.errors)}

        results["cairn_import"] = _timed("cairn import", args.size, run_import)
        store.dispose()
    if args.rows:
        source = OUT / f"resources_{args.rows}.jsonl"
        write_jsonl(args.rows, source)
        data = source.read_bytes()
        store, principal = _empty_workspace(args.db, 0)
        body = IntegrationCreate(name="bench", type="custom")
        integration_id = str(IntegrationService(store).create(principal, body)["id"])

        def run_ingest() -> dict[str, int]:
            records = parse_resources_jsonl(data)
            return MetadataIngest(store).run(principal, integration_id, records).summary()

        for label in ("import_metadata", "import_metadata again"):
            results[label.replace(" ", "_")] = _timed(label, args.rows, run_ingest)
        store.dispose()
    out = OUT / f"results_imports_{backend}.json"
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
