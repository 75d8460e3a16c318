"""SDK and CLI figures: iterating the whole catalog through the SDK's auto-pagination over HTTP
(sync and async, against a real uvicorn server on loopback), and ``cairn --help`` start-up.

    python -m bench.sdk --size 100000 [--db URL] [--skip-import] [--runs 3]

Only loopback traffic; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.live_server import live_server

import cairn
from bench.__main__ import OUT, fresh_store
from bench.generate import write
from cairn.core.exchange import Importer
from cairn.core.keys import create_key
from cairn.core.principal import system_principal
from cairn.core.tenancy import default_workspace
from cairn.store import Store


def iterate_sync(base: str, token: str, page_size: int) -> dict[str, float]:
    with cairn.Client(base_url=base, api_key=token, timeout=120) as client:
        started = time.perf_counter()
        count = sum(1 for _ in client.resources.list(page_size=page_size))
        elapsed = time.perf_counter() - started
    return {"resources": count, "seconds": round(elapsed, 2), "per_second": round(count / elapsed)}


def iterate_async(base: str, token: str, page_size: int) -> dict[str, float]:
    async def walk() -> tuple[int, float]:
        async with cairn.AsyncClient(base_url=base, api_key=token, timeout=120) as client:
            started = time.perf_counter()
            count = 0
            async for _ in client.resources.list(page_size=page_size):
                count += 1
            return count, time.perf_counter() - started

    count, elapsed = asyncio.run(walk())
    return {"resources": count, "seconds": round(elapsed, 2), "per_second": round(count / elapsed)}


def cli_startup(runs: int) -> dict[str, float]:
    command = [str(Path(sys.executable).with_name("cairn")), "--help"]
    samples = []
    for _ in range(runs + 3):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - started)
    samples = sorted(samples[3:])  # the first runs warm the page cache
    return {
        "p50_ms": round(statistics.median(samples) * 1000, 1),
        "min_ms": round(samples[0] * 1000, 1),
        "max_ms": round(samples[-1] * 1000, 1),
        "n": len(samples),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sdk", description=__doc__)
    parser.add_argument("--size", type=int, default=100_000, help="resources in the synthetic catalog")
    parser.add_argument("--db", default=None, help="database URL (default: a SQLite file in bench/out)")
    parser.add_argument("--skip-import", action="store_true", help="reuse the database of an earlier run")
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3, help="timed walks of the whole catalog per client")
    parser.add_argument("--cli-runs", type=int, default=20, help="timed 'cairn --help' runs")
    args = parser.parse_args()
    os.environ["CAIRN_WRITE_RATE_LIMIT"] = "0"
    OUT.mkdir(exist_ok=True)
    results: dict[str, Any] = {
        "size": args.size,
        "backend": "sqlite" if args.db is None else args.db.split(":")[0],
    }
    results["load_before"] = os.getloadavg()
    results["cli_help"] = cli_startup(args.cli_runs)
    print(f"cairn --help: {results['cli_help']}", flush=True)

    if args.skip_import:
        store = Store(args.db or f"sqlite:///{OUT / f'bench_{args.size}.db'}")
        store.migrate()
    else:
        source = OUT / f"catalog_{args.size}.jsonl"
        if not source.exists():
            write(args.size, source)
        store = fresh_store(args.db, args.size)
        store.migrate()
        workspace = default_workspace(store)
        with source.open("rb") as lines:
            Importer(store, system_principal(workspace.id, workspace.organization_id)).run(lines)
    workspace = default_workspace(store)
    token = create_key(store, workspace_id=workspace.id, name="bench-sdk", role="admin").token

    with live_server(store) as base:
        for label, walk in (("sync", iterate_sync), ("async", iterate_async)):
            runs = [walk(base, token, args.page_size) for _ in range(args.runs)]
            best = max(runs, key=lambda r: r["per_second"])
            results[f"iterate_{label}"] = {
                "best": best,
                "median_per_second": round(statistics.median(r["per_second"] for r in runs)),
                "runs": len(runs),
                "page_size": args.page_size,
            }
            print(f"iterate ({label}): {results[f'iterate_{label}']}", flush=True)
    store.dispose()
    results["load_after"] = os.getloadavg()
    out = OUT / f"results_sdk_{results['backend']}_{args.size}.json"
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
