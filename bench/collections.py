"""Collections figures: a Kontent.ai PATCH of 50 operations on a workspace of 100 collections,
and the SDK's ``collections.get(name)`` at 10,000 collections, over HTTP on loopback.

    python -m bench.collections [--db URL]
"""

from __future__ import annotations

import argparse
import json
import os
import random
from pathlib import Path

import httpx
from tests.live_server import live_server

import cairn
from bench.__main__ import OUT, fresh_store, timed
from cairn.core.keys import create_key
from cairn.core.tenancy import default_workspace


def _child_pid() -> int:
    """The live server: this process's only child."""
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.collections", description=__doc__)
    parser.add_argument("--db", default=None, help="database URL (default: a SQLite file in bench/out)")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    os.environ["CAIRN_WRITE_RATE_LIMIT"] = "0"  # measure the catalog, not the write rate limits
    os.environ["CAIRN_KONTENT_RATE_PER_SECOND"] = "0"
    os.environ["CAIRN_KONTENT_RATE_PER_MINUTE"] = "0"
    OUT.mkdir(exist_ok=True)
    results: dict[str, object] = {"backend": "sqlite" if args.db is None else args.db.split(":")[0]}
    store = fresh_store(args.db, 0)
    store.migrate()
    workspace = default_workspace(store)
    key = create_key(store, workspace_id=workspace.id, name="bench", role="admin")
    headers = {"Authorization": f"Bearer {key.token}"}
    rng = random.Random(3)
    path = f"/v2/projects/{workspace.id}/collections"
    with live_server(store) as base, httpx.Client(base_url=base, headers=headers, timeout=120) as http:
        server_pid = _child_pid()
        seed = [
            {"op": "addInto", "value": {"name": f"Collection {i}", "codename": f"c_{i}"}} for i in range(99)
        ]
        assert http.patch(path, json=seed).status_code == 200
        counter = iter(range(10**9))

        def patch50() -> None:
            ops: list[dict[str, object]] = []
            for _ in range(25):
                a, b = rng.sample(range(99), 2)
                ops.append(
                    {"op": "move", "reference": {"codename": f"c_{a}"}, "before": {"codename": f"c_{b}"}}
                )
                ops.append(
                    {
                        "op": "replace",
                        "property_name": "name",
                        "value": f"Renamed {next(counter)}",
                        "reference": {"codename": f"c_{rng.randrange(99)}"},
                    }
                )
            response = http.patch(path, json=ops)
            assert response.status_code == 200, response.text

        # cpu: the server process's CPU per request (load on a shared machine does not inflate it)
        results["kontent_patch_50_ops_100_collections"] = timed(patch50, args.requests, cpu_of=server_pid)

        for start in range(99, 10_000, 1000):
            batch = [
                {"op": "addInto", "value": {"name": f"Collection {i}", "codename": f"c_{i}"}}
                for i in range(start, min(start + 1000, 10_000))
            ]
            assert http.patch(path, json=batch).status_code == 200
        client = cairn.Client(base_url=base, api_key=key.token)
        assert len(client.collections.list()) == 10_001  # and the Default collection
        names = [f"Collection {i}" for i in range(100, 10_000)]
        results["sdk_get_by_name_10000_collections"] = timed(
            lambda: client.collections.get(rng.choice(names)), args.requests, cpu_of=server_pid
        )
        results["sdk_get_by_name_client_cpu"] = timed(
            lambda: client.collections.get(rng.choice(names)), args.requests, cpu_of=None
        )
        client.close()
    results["load_average"] = os.getloadavg()
    out = OUT / f"results_collections_{results['backend']}.json"
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
