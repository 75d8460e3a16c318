"""Benchmark the web UI: server response time of every page, and the bytes of a first load.

    python -m bench.web --size 1000000 [--skip-import] [--requests 100]

Imports the synthetic catalog of ``python -m bench`` (or reuses its database with
``--skip-import``), adds the demo catalog beside it (collections, lineage, glossary), starts a
real server on loopback, signs in through the sign-in form like a browser, and times each page
(full HTML, as a browser asks for it; htmx fragments where the page swaps one). The first load
is the home page plus every asset it references, as transferred (gzip), with an empty cache.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import text

from bench.__main__ import OUT, free_port, fresh_store, timed
from bench.generate import write
from cairn.core.demo import load_demo
from cairn.core.exchange import Importer
from cairn.core.keys import create_key
from cairn.core.principal import system_principal
from cairn.core.tenancy import default_workspace
from cairn.store import Store

ASSET = re.compile(r'<(?:script|link)[^>]+(?:src|href)="(/ui/static/[^"]+)"')
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@contextmanager
def server(url: str) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "CAIRN_DATABASE_URL": url, "CAIRN_WRITE_RATE_LIMIT": "0"}
    command = [sys.executable, "-m", "uvicorn", "cairn.api.app:app_from_env", "--factory"]
    proc = subprocess.Popen(
        [*command, "--port", str(port), "--log-level", "warning", "--no-access-log"], env=env
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/healthcheck", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("server did not start")
            time.sleep(0.2)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def sign_in(client: httpx.Client, token: str) -> None:
    page = client.get("/ui/signin")
    found = CSRF.search(page.text)
    if found is None:
        raise SystemExit("no CSRF token on the sign-in page")
    response = client.post("/ui/signin", data={"csrf_token": found.group(1), "api_key": token, "next": "/"})
    if response.status_code != 303:
        raise SystemExit(f"sign-in failed: {response.status_code}")


def first_load(base: str, token: str) -> dict[str, Any]:
    """Bytes on the wire for the home page and its assets, as a browser with an empty cache."""
    with httpx.Client(base_url=base, follow_redirects=False, timeout=60) as client:
        sign_in(client, token)
        home = client.get("/", headers={"Accept-Encoding": "gzip"})
        sizes = {"/": len(home.content)}
        wire = {"/": int(home.headers.get("content-length") or len(home.content))}
        for path in ASSET.findall(home.text):
            raw = client.get(path, headers={"Accept-Encoding": "identity"})
            zipped = client.stream("GET", path, headers={"Accept-Encoding": "gzip"})
            with zipped as response:
                wire[path] = int(response.headers["content-length"])
            sizes[path] = len(raw.content)
    return {
        "transferred_bytes": sum(wire.values()),
        "uncompressed_bytes": sum(sizes.values()),
        "files": {path: {"transferred": wire[path], "uncompressed": sizes[path]} for path in wire},
    }


def sample_ids(store: Store, workspace_id: str) -> dict[str, list[str]]:
    kinds = {"table": 500, "column": 500, "dashboard": 200, "collection": 50}
    found: dict[str, list[str]] = {}
    by_type = text("SELECT id FROM resource WHERE workspace_id = :ws AND entity_type = :kind LIMIT :n")
    demo = text(
        "SELECT id FROM resource WHERE workspace_id = :ws AND entity_type = 'table' "
        "AND title IN ('fct_orders', 'stg_orders', 'dim_customer')"
    )
    with store.read() as conn:
        for kind, n in kinds.items():
            found[kind] = list(conn.execute(by_type, {"ws": workspace_id, "kind": kind, "n": n}).scalars())
        found["demo_table"] = list(conn.execute(demo, {"ws": workspace_id}).scalars())
    return found


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.web", description=__doc__)
    parser.add_argument("--size", type=int, default=100_000, help="resources in the synthetic catalog")
    parser.add_argument("--db", default=None, help="database URL (default: a SQLite file in bench/out)")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page")
    parser.add_argument("--skip-import", action="store_true", help="reuse the database of an earlier run")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    if args.skip_import:
        store = Store(args.db or f"sqlite:///{OUT / f'bench_{args.size}.db'}")
    else:
        source = OUT / f"catalog_{args.size}.jsonl"
        if not source.exists():
            write(args.size, source)
        store = fresh_store(args.db, args.size)
    store.migrate()
    workspace = default_workspace(store)
    principal = system_principal(workspace.id, workspace.organization_id)
    if not args.skip_import:
        with source.open("rb") as lines:
            Importer(store, principal).run(lines)
    load_demo(store, principal)  # collections, lineage and glossary beside the synthetic bulk
    ids = sample_ids(store, workspace.id)
    token = create_key(store, workspace_id=workspace.id, name="bench-web", role="admin").token
    url = store.url
    store.dispose()
    rng = random.Random(1)
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    results: dict[str, Any] = {"size": args.size, "backend": backend}
    with server(url) as base:
        results["first_load"] = first_load(base, token)
        with httpx.Client(base_url=base, follow_redirects=False, timeout=60) as client:
            sign_in(client, token)

            def page(path: str | Callable[[], str], **headers: str) -> Callable[[], None]:
                def fetch() -> None:
                    target = path() if callable(path) else path
                    response = client.get(target, headers=headers)
                    if response.status_code != 200:
                        raise SystemExit(f"{target}: {response.status_code} {response.text[:200]}")

                return fetch

            def one(kind: str) -> Callable[[], str]:
                return lambda: f"/ui/resource/{rng.choice(ids[kind])}"

            pages: dict[str, Callable[[], None]] = {
                "home": page("/"),
                "search": page("/ui/search?q=customer+orders"),
                "search_typo": page("/ui/search?q=custmer"),
                "search_facet_fragment": page(
                    "/ui/search?q=customer&entity_type=table", **{"HX-Request": "true"}
                ),
                "catalog_tables": page("/ui/catalog"),
                "catalog_dashboards_page_10": page("/ui/catalog?type=dashboard&page=10"),
                "catalog_fragment": page("/ui/catalog?type=glossary", **{"HX-Request": "true"}),
                "resource_table": page(one("table")),
                "resource_column": page(one("column")),
                "resource_dashboard": page(one("dashboard")),
                "collections": page("/ui/collections"),
                "collection": page(lambda: f"/ui/collections/{rng.choice(ids['collection'])}"),
                "glossary": page("/ui/glossary"),
                "lineage": page(lambda: f"/ui/lineage/{rng.choice(ids['demo_table'])}"),
                "lineage_graph_json": page(lambda: f"/ui/lineage/{rng.choice(ids['table'])}/graph?depth=3"),
                "admin_keys": page("/ui/admin/keys"),
                "admin_users": page("/ui/admin/users"),
                "admin_teams": page("/ui/admin/teams"),
                "admin_integrations": page("/ui/admin/integrations"),
                "admin_runs": page("/ui/admin/runs"),
                "field_edit_fragment": page(
                    lambda: f"/ui/resource/{rng.choice(ids['column'])}/field/description?edit=true",
                    **{"HX-Request": "true"},
                ),
            }
            with httpx.Client(base_url=base, timeout=60) as anonymous:

                def signin_page() -> None:
                    if anonymous.get("/ui/signin").status_code != 200:
                        raise SystemExit("/ui/signin did not answer 200")

                pages["signin"] = signin_page
                for name, fetch in pages.items():
                    # A page slower than a second is timed 5 times: enough to report, not to wait on.
                    started = time.perf_counter()
                    fetch()
                    slow = time.perf_counter() - started > 1.0
                    results[name] = timed(fetch, 5 if slow else args.requests)
                    print(f"{name}: {results[name]}", flush=True)
    out = OUT / f"web_{results['backend']}_{args.size}.json"
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
