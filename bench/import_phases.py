"""Where the writer's time goes in ``cairn import`` (SQLite): the importing thread's CPU and wall
time per SQL statement kind (first words of the statement) and per commit, plus the rest of
that thread (Python: placing rows, reading results), the whole process and the workers.

    python -m bench.import_phases [--size 1000000]

Uses ``bench/out/catalog_<size>.jsonl`` (made by ``python -m bench.imports`` or ``bench``) and
imports it into a fresh ``bench/out/bench_<size>.db``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, event

from bench.__main__ import OUT
from bench.generate import write
from bench.imports import _children_cpu, _empty_workspace
from cairn.core.exchange import Importer
from cairn.store import resources


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.import_phases", description=__doc__)
    parser.add_argument("--size", type=int, default=1_000_000, help="resources in the catalog")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    source = OUT / f"catalog_{args.size}.jsonl"
    if not source.exists():
        write(args.size, source)
    store, principal = _empty_workspace(None, args.size)
    cpu: defaultdict[str, float] = defaultdict(float)
    wall: defaultdict[str, float] = defaultdict(float)
    calls: Counter[str] = Counter()
    started: dict[int, tuple[float, float]] = {}

    def before(conn: Connection, _cursor: Any, _statement: str, *_args: Any) -> None:
        started[id(conn)] = (time.thread_time(), time.perf_counter())

    def after(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        cpu0, wall0 = started.pop(id(conn))
        kind = " ".join(statement.split()[:4])[:60]
        cpu[kind] += time.thread_time() - cpu0
        wall[kind] += time.perf_counter() - wall0
        calls[kind] += 1

    engine = store._write_engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)

    @contextmanager
    def timed_write() -> Iterator[Connection]:
        # Store.write, with the commit timed on its own.
        with engine.connect() as conn:
            with conn.begin():
                yield conn
                cpu0, wall0 = time.thread_time(), time.perf_counter()
            cpu["COMMIT"] += time.thread_time() - cpu0
            wall["COMMIT"] += time.perf_counter() - wall0
            calls["COMMIT"] += 1

    store.write = timed_write  # type: ignore[method-assign]
    # Bulk inserts go to the driver's cursor (no SQLAlchemy events): timed around the call.
    insert_many = resources._insert_many

    def timed_insert_many(conn: Connection, layout: resources.BulkLayout, rows: Any) -> None:
        cpu0, wall0 = time.thread_time(), time.perf_counter()
        insert_many(conn, layout, rows)
        kind = f"INSERT INTO {layout.table} (bulk, driver)"
        cpu[kind] += time.thread_time() - cpu0
        wall[kind] += time.perf_counter() - wall0
        calls[kind] += 1

    resources._insert_many = timed_insert_many  # type: ignore[assignment]
    load = os.getloadavg()
    wall0, thread0, process0, workers0 = (
        time.perf_counter(),
        time.thread_time(),
        time.process_time(),
        _children_cpu(),
    )
    with source.open("rb") as lines:
        report = Importer(store, principal).run(lines)
    thread = time.thread_time() - thread0
    print(f"{report.total} resources, {len(report.errors)} bad lines")
    print(
        f"wall {time.perf_counter() - wall0:.1f} s, importing thread CPU {thread:.1f} s, process CPU "
        f"{time.process_time() - process0:.1f} s, workers {_children_cpu() - workers0:.1f} s; "
        f"load {load[0]:.1f} -> {os.getloadavg()[0]:.1f}"
    )
    for kind, seconds in sorted(cpu.items(), key=lambda item: -item[1])[:16]:
        print(f"{seconds:8.2f} s CPU {wall[kind]:8.2f} s wall {calls[kind]:6d}x  {kind}")
    in_sql = sum(cpu.values())
    print(f"SQL and commits {in_sql:.1f} s CPU; the rest of the importing thread {thread - in_sql:.1f} s")
    store.dispose()


if __name__ == "__main__":
    main()
