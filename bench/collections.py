"""Collections figures: a Kontent.ai PATCH of 50 operations on a workspace of 100 collections,
and the SDK's ``collections.get(name)`` at 10,000 collections, over HTTP on loopback.

    python -m bench.collections [--db URL]
"""

from __future__ import annotations

import argparse
import json
import os
import random

import httpx
from tests.live_server import live_server

import cairn
from bench.__main__ import OUT, fresh_store, timed
from cairn.core.keys import create_key
from cairn.core.tenancy import default_workspace


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

        # cpu: this process, i.e. the in-process server and the client together
        results["kontent_patch_50_ops_100_collections"] = timed(patch50, args.requests, cpu_of=None)

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
            lambda: client.collections.get(rng.choice(names)), args.requests, cpu_of=None
        )
        client.close()
    out = OUT / f"results_collections_{results['backend']}.json"
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
