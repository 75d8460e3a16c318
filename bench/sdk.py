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
import resource
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


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _server_pid() -> int | None:
    """The live server's pid (our only child process), where /proc tells (Linux)."""
    try:
        tasks = list(Path(f"/proc/{os.getpid()}/task").iterdir())
    except OSError:
        return None
    for task in tasks:
        children = (task / "children").read_text().split()
        if children:
            return int(children[0])
    return None


def _process_cpu(pid: int | None) -> float:
    """CPU seconds ``pid`` has used so far (0 where /proc is not there)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _figures(count: int, elapsed: float, cpu: float, server_cpu: float) -> dict[str, float]:
    return {
        "resources": count,
        "seconds": round(elapsed, 2),
        "per_second": round(count / elapsed),
        "client_cpu_seconds": round(cpu, 2),
        "client_cpu_us_per_resource": round(cpu / count * 1e6, 1),
        "server_cpu_us_per_resource": round(server_cpu / count * 1e6, 1),
        "load": round(os.getloadavg()[0], 2),
    }


def iterate_sync(base: str, token: str, page_size: int, server: int | None) -> dict[str, float]:
    with cairn.Client(base_url=base, api_key=token, timeout=120) as client:
        started, cpu, server_cpu = time.perf_counter(), _cpu(), _process_cpu(server)
        count = sum(1 for _ in client.resources.list(page_size=page_size))
        elapsed, cpu = time.perf_counter() - started, _cpu() - cpu
    return _figures(count, elapsed, cpu, _process_cpu(server) - server_cpu)


def iterate_async(base: str, token: str, page_size: int, server: int | None) -> dict[str, float]:
    async def walk() -> tuple[int, float, float, float]:
        async with cairn.AsyncClient(base_url=base, api_key=token, timeout=120) as client:
            started, cpu, server_cpu = time.perf_counter(), _cpu(), _process_cpu(server)
            count = 0
            async for _ in client.resources.list(page_size=page_size):
                count += 1
            elapsed, cpu = time.perf_counter() - started, _cpu() - cpu
            return count, elapsed, cpu, _process_cpu(server) - server_cpu

    return _figures(*asyncio.run(walk()))


def cli_startup(runs: int) -> dict[str, float]:
    """Wall-clock time of ``cairn --help``, and the CPU time it used (less sensitive to a loaded
    machine: what the command itself costs, without the wait for a core)."""
    command = [str(Path(sys.executable).with_name("cairn")), "--help"]
    wall, cpu = [], []
    for _ in range(runs + 3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        wall.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    wall, cpu = sorted(wall[3:]), sorted(cpu[3:])  # the first runs warm the page cache
    return {
        "p50_ms": round(statistics.median(wall) * 1000, 1),
        "min_ms": round(wall[0] * 1000, 1),
        "max_ms": round(wall[-1] * 1000, 1),
        "cpu_p50_ms": round(statistics.median(cpu) * 1000, 1),
        "n": len(wall),
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

    server_cpu = _children_cpu()
    walked = 0
    with live_server(store) as base:
        server = _server_pid()
        for label, walk in (("sync", iterate_sync), ("async", iterate_async)):
            runs = [walk(base, token, args.page_size, server) for _ in range(args.runs)]
            walked += sum(int(r["resources"]) for r in runs)
            best = max(runs, key=lambda r: r["per_second"])
            results[f"iterate_{label}"] = {
                "best": best,
                "median_per_second": round(statistics.median(r["per_second"] for r in runs)),
                "runs": len(runs),
                "page_size": args.page_size,
            }
            print(f"iterate ({label}): {results[f'iterate_{label}']}", flush=True)
    # The server is a child process: its CPU is known once it has exited (start-up included);
    # each walk's own share of it is read from /proc meanwhile (``best`` of each client).
    results["server_cpu_us_per_resource_with_startup"] = round(
        (_children_cpu() - server_cpu) / walked * 1e6, 1
    )
    results["client_cpu_us_per_resource"] = round(
        statistics.median(
            results[f"iterate_{label}"]["best"]["client_cpu_seconds"]
            / results[f"iterate_{label}"]["best"]["resources"]
            for label in ("sync", "async")
        )
        * 1e6,
        1,
    )
    store.dispose()
    results["load_after"] = os.getloadavg()
    out = OUT / f"results_sdk_{results['backend']}_{args.size}.json"
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
