"""A synthetic catalog in the ``cairn export`` format.

Shape: integrations > databases > schemas > tables (about 20 columns each), plus dashboard
groups > dashboards > charts and glossary terms. Names are realistic enough that about one
table in eight contains "cust"; usage is skewed (a few hot tables, a long tail).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

SUBJECTS = [
    "customer",
    "orders",
    "payments",
    "sessions",
    "events",
    "products",
    "inventory",
    "accounts",
    "invoices",
    "shipments",
    "refunds",
    "campaigns",
    "leads",
    "subscriptions",
    "users",
    "stores",
]
PREFIXES = ["dim_", "fct_", "stg_", "raw_", "int_", ""]
SUFFIXES = ["", "_daily", "_v2", "_history", "_snapshot", "_agg", "_2024"]
COLUMNS = [
    "id",
    "created_at",
    "updated_at",
    "customer_id",
    "order_id",
    "amount",
    "currency",
    "status",
    "email",
    "country",
    "region",
    "product_id",
    "quantity",
    "price",
    "discount",
    "channel",
    "source",
    "is_active",
    "first_name",
    "last_name",
    "phone",
    "address",
    "city",
    "postal_code",
    "session_id",
    "device",
]
NOW = "2026-11-01T00:00:00.000000Z"


def _id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _resource(
    rng: random.Random, entity_type: str, title: str, parent: str | None, **extra: Any
) -> dict[str, Any]:
    return {
        "kind": "resource",
        "data": {
            "id": _id(rng),
            "entity_type": entity_type,
            "title": title,
            "parent": parent,
            "created_at": NOW,
            "updated_at": NOW,
            "published": True,
            **extra,
        },
    }


def catalog(total: int, *, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Yield about ``total`` resources (plus integrations), parents before children."""
    rng = random.Random(seed)
    tables_needed = max(1, int(total * 0.95) // 21)
    integrations = max(1, tables_needed // 2000)
    tables_per_integration = -(-tables_needed // integrations)
    emitted = 0
    for n in range(integrations):
        integration = _id(rng)
        yield {
            "kind": "integration",
            "data": {
                "id": integration,
                "name": f"warehouse_{n}",
                "type": "postgres",
                "created_at": NOW,
                "updated_at": NOW,
            },
        }
        left = tables_per_integration
        for d in range(2):
            database = _resource(rng, "database", f"db_{n}_{d}", None, integration=integration)
            yield database
            emitted += 1
            for s in range(5):
                schema = _resource(rng, "schema", f"schema_{s}", database["data"]["id"])
                yield schema
                emitted += 1
                for _ in range(-(-tables_per_integration // 10)):
                    if left <= 0 or emitted >= total:
                        break
                    left -= 1
                    name = (
                        rng.choice(PREFIXES)
                        + rng.choice(SUBJECTS)
                        + rng.choice(SUFFIXES)
                        + f"_{rng.randrange(10**6)}"
                    )
                    usage = int(rng.paretovariate(1.2) * 10)
                    table = _resource(
                        rng,
                        "table",
                        name,
                        schema["data"]["id"],
                        native_type=rng.choice(["table", "table", "view"]),
                        description=f"The {name} table.",
                        external_usage=usage,
                        row_count=usage * 1000,
                    )
                    yield table
                    emitted += 1
                    for position, column in enumerate(rng.sample(COLUMNS, 20)):
                        yield _resource(
                            rng,
                            "column",
                            column,
                            table["data"]["id"],
                            native_type="varchar",
                            external_usage=position,
                            pii=column in ("email", "phone", "first_name"),
                        )
                        emitted += 1
    while emitted < total:
        group = _resource(rng, "dashboard_group", f"group_{emitted}", None)
        yield group
        dashboard = _resource(
            rng, "dashboard", f"{rng.choice(SUBJECTS)} overview {emitted}", group["data"]["id"]
        )
        yield dashboard
        emitted += 2
        for c in range(5):
            yield _resource(rng, "chart", f"chart {c}", dashboard["data"]["id"])
            emitted += 1
        yield _resource(
            rng, "glossary", f"{rng.choice(SUBJECTS)} term {emitted}", None, description="A business term."
        )
        emitted += 1


def write(total: int, path: Path, *, seed: int = 7) -> int:
    count = 0
    with path.open("wb") as out:
        for line in catalog(total, seed=seed):
            out.write(orjson.dumps(line))
            out.write(b"\n")
            count += 1
    return count
