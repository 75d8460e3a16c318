"""A load test: many concurrent clients mixing reads and writes against a live ``cairn serve``,
then a check that no write was lost and no request failed on the server's side.

    python -m bench.load [--db URL] [--clients 200] [--seconds 60] [--workers 2]

Each client owns one field of one shared document (eight clients share a document, each on its
own field), so every acknowledged PATCH has a known final value: at the end each owned field
must hold its client's last acknowledged write, each document's history must count exactly its
acknowledged changes, and every acknowledged create must exist. Reads are catalog lists with a
filter, gets by id, legacy collection lists and audit-free history pages. Loopback only, bounded
in time; the write rate limits are off (the load measures the server, not the 30/min limit).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

FIELDS = (
    "description",
    "definition",
    "url",
    "icon",
    "native_type",
    "question_status",
    "question_priority",
    "databuilder_id",
)
OUT = Path(__file__).parent / "out"
READ_FILTER = json.dumps({"operator": "contains", "field": "title", "value": "load"})


@dataclass
class LoadReport:
    clients: int
    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)
    read_latencies: list[float] = field(default_factory=list)
    write_latencies: list[float] = field(default_factory=list)
    lost_writes: list[str] = field(default_factory=list)
    acked_writes: int = 0
    acked_creates: int = 0

    @property
    def server_errors(self) -> int:
        return sum(n for code, n in self.statuses.items() if code >= 500)

    def summary(self) -> dict[str, Any]:
        def pct(samples: list[float]) -> dict[str, float]:
            if not samples:
                return {}
            ordered = sorted(samples)
            return {
                "p50_ms": round(statistics.median(ordered) * 1000, 1),
                "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 1),
                "n": len(ordered),
            }

        total = sum(self.statuses.values())
        return {
            "clients": self.clients,
            "seconds": round(self.seconds, 1),
            "requests": total,
            "requests_per_second": round(total / self.seconds, 1) if self.seconds else 0,
            "statuses": dict(sorted(self.statuses.items())),
            "server_errors": self.server_errors,
            "transport_errors": dict(self.transport_errors),
            "acked_writes": self.acked_writes,
            "acked_creates": self.acked_creates,
            "lost_writes": len(self.lost_writes),
            "lost_examples": self.lost_writes[:5],
            "reads": pct(self.read_latencies),
            "writes": pct(self.write_latencies),
        }


@dataclass
class _Owned:
    doc: str
    field: str
    last_acked: str | None = None
    unknown: int = 0  # writes whose answer never came (may or may not have landed)


async def _client_loop(
    number: int,
    base: str,
    headers: dict[str, str],
    owned: _Owned,
    docs: list[str],
    deadline: float,
    report: LoadReport,
    created: list[str],
    acked_per_doc: Counter[str],
    unknown_per_doc: Counter[str],
) -> None:
    rng = random.Random(number)
    seq = 0
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        while time.monotonic() < deadline:
            roll = rng.random()
            started = time.perf_counter()
            is_write = roll < 0.4
            try:
                if roll < 0.35:
                    seq += 1
                    value = f"c{number}-s{seq}"
                    response = await client.patch(f"/resource/all/{owned.doc}", json={owned.field: value})
                    if response.status_code == 200:
                        owned.last_acked = value
                        report.acked_writes += 1
                        acked_per_doc[owned.doc] += 1
                elif roll < 0.4:
                    response = await client.post("/document", json={"title": f"load new {number}-{seq}"})
                    if response.status_code == 201:
                        created.append(response.json()["id"])
                        report.acked_creates += 1
                elif roll < 0.7:
                    response = await client.get(
                        "/resource/catalog", params={"filter": READ_FILTER, "page_size": 20}
                    )
                elif roll < 0.9:
                    response = await client.get(f"/resource/all/{rng.choice(docs)}")
                elif roll < 0.95:
                    response = await client.get("/tag")
                else:
                    response = await client.get(f"/resource/all/{rng.choice(docs)}/history")
            except httpx.HTTPError as exc:
                report.transport_errors[type(exc).__name__] += 1
                if is_write and roll < 0.35:
                    owned.unknown += 1
                    unknown_per_doc[owned.doc] += 1
                continue
            elapsed = time.perf_counter() - started
            report.statuses[response.status_code] += 1
            (report.write_latencies if is_write else report.read_latencies).append(elapsed)


async def run_load(base: str, token: str, *, clients: int, seconds: float) -> LoadReport:
    headers = {"Authorization": f"Bearer {token}"}
    report = LoadReport(clients=clients, seconds=seconds)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as setup:
        docs: list[str] = []
        for n in range(-(-clients // len(FIELDS))):
            response = await setup.post("/document", json={"title": f"load doc {n}", "published": True})
            response.raise_for_status()
            docs.append(response.json()["id"])
    owned = [_Owned(docs[i // len(FIELDS)], FIELDS[i % len(FIELDS)]) for i in range(clients)]
    created: list[str] = []
    acked_per_doc: Counter[str] = Counter()
    unknown_per_doc: Counter[str] = Counter()
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(
        *(
            _client_loop(
                i, base, headers, owned[i], docs, deadline, report, created, acked_per_doc, unknown_per_doc
            )
            for i in range(clients)
        )
    )
    report.seconds = time.monotonic() - started

    # every acknowledged write is there
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as check:
        current = {}
        for doc in docs:
            current[doc] = (await check.get(f"/resource/all/{doc}")).json()
        for mine in owned:
            value = current[mine.doc].get(mine.field)
            if mine.last_acked is not None and value != mine.last_acked and not mine.unknown:
                report.lost_writes.append(f"{mine.doc}.{mine.field}: {value!r} != {mine.last_acked!r}")
        for doc in docs:
            history = (await check.get(f"/resource/all/{doc}/history", params={"page_size": 1})).json()
            changes = history["count"] - 1  # the first version is the create
            low, high = acked_per_doc[doc], acked_per_doc[doc] + unknown_per_doc[doc]
            if not low <= changes <= high:
                report.lost_writes.append(f"{doc}: {changes} versions after create, {low} acknowledged")
        for rid in created:
            if (await check.get(f"/resource/all/{rid}")).status_code != 200:
                report.lost_writes.append(f"created {rid} is missing")
    return report


def serve(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CAIRN_WRITE_RATE_LIMIT": "0",
        "CAIRN_KONTENT_RATE_PER_SECOND": "0",
        "CAIRN_KONTENT_RATE_PER_MINUTE": "0",
    }
    command = [sys.executable, "-m", "cairn.cli.main", "serve", "--db", url, "--port", str(port)]
    return subprocess.Popen([*command, "--workers", str(workers)], env=env)


def wait_until_up(base: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base}/healthcheck", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise SystemExit("server did not start")
        time.sleep(0.2)


def main() -> None:
    from sqlalchemy import text

    from bench.__main__ import free_port
    from cairn.core.keys import create_key
    from cairn.core.tenancy import default_workspace
    from cairn.store import Store

    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--db", default=None, help="database URL (default: a fresh SQLite file in bench/out)")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    if args.db is None:
        path = OUT / "load.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        url = args.db
    store = Store(url)
    if store.dialect == "postgresql":
        with store.write() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    store.migrate()
    workspace = default_workspace(store)
    token = create_key(store, workspace_id=workspace.id, name="load", role="admin").token
    store.dispose()
    port = free_port()
    server = serve(url, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server)
        report = asyncio.run(run_load(base, token, clients=args.clients, seconds=args.seconds))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    summary = {"backend": store.dialect, "workers": args.workers, **report.summary()}
    (OUT / f"load_{store.dialect}_{args.clients}.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    if report.server_errors or report.lost_writes:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
