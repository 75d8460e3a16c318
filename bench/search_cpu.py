"""CPU time per search, in-process, on an existing database: the figure that holds on a shared
machine, where wall-clock times move with the load.

    python -m bench.search_cpu sqlite:///bench/out/bench_search_1000000.db [--passes 3]

Runs every query of ``bench.search`` (15 one-word, 15 two-word, 9 typo) through
``SearchService`` as an admin, ``--passes`` times, after one warm-up pass of three queries per
kind, and prints per kind the CPU per search (this process; on PostgreSQL plus the backend
process serving the connection, read from /proc at the kernel's clock-tick resolution) and the
wall-clock p50 / p95 beside the load average. To compare two versions of the code, run it with
each source tree first on PYTHONPATH against the same database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from sqlalchemy import text

from bench.search import ONE_WORD, TWO_WORDS, TYPOS
from cairn.core.principal import system_principal
from cairn.core.search import SearchService
from cairn.core.tenancy import default_workspace
from cairn.models.search import SearchQuery
from cairn.store import Store

TICKS = os.sysconf("SC_CLK_TCK")


def backend_seconds(pid: int | None) -> float:
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.search_cpu", description=__doc__)
    parser.add_argument("db", help="database URL of an earlier bench.search run")
    parser.add_argument("--passes", type=int, default=1)
    args = parser.parse_args()
    store = Store(args.db)
    workspace = default_workspace(store)
    admin = system_principal(workspace.id, workspace.organization_id)
    service = SearchService(store)
    pid = None
    if store.dialect == "postgresql":
        # One thread, one connection at a time: the pool hands back the same backend.
        with store.read() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    for kind, queries in (("one word", ONE_WORD), ("two words", TWO_WORDS), ("typo", TYPOS)):
        for q in queries[:3]:
            service.search(admin, SearchQuery(q=q))
        cpu: list[float] = []
        wall: list[float] = []
        for _ in range(args.passes):
            for q in queries:
                cpu_start, backend_start, wall_start = (
                    time.process_time(),
                    backend_seconds(pid),
                    time.perf_counter(),
                )
                service.search(admin, SearchQuery(q=q))
                wall.append(time.perf_counter() - wall_start)
                cpu.append(time.process_time() - cpu_start + backend_seconds(pid) - backend_start)
        print(
            f"{kind:9}  cpu mean {statistics.mean(cpu) * 1000:6.1f}  p50 {statistics.median(cpu) * 1000:6.1f}"
            f"  p95 {p95(cpu) * 1000:6.1f} ms | wall p50 {statistics.median(wall) * 1000:7.1f}"
            f"  p95 {p95(wall) * 1000:7.1f} ms | load {os.getloadavg()[0]:.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
