"""Small builders for tests: a warehouse tree through the public API."""

from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient


def make_integration(client: TestClient, name: str = "warehouse") -> str:
    response = client.post("/integration/integrations", json={"name": name, "type": "postgres"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def create(client: TestClient, path: str = "/resource/catalog", **body: Any) -> dict[str, Any]:
    response = client.post(path, json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def warehouse(client: TestClient, columns: int = 3) -> dict[str, Any]:
    """integration > database > schema > table > columns."""
    integration = make_integration(client)
    db = create(client, entity_type="database", title="analytics", integration=integration, published=True)
    schema = create(client, entity_type="schema", title="public", parent=db["id"], published=True)
    table = create(client, entity_type="table", title="dim_customer", parent=schema["id"], published=True)
    cols = [
        create(client, entity_type="column", title=f"col_{i}", parent=table["id"], published=True)
        for i in range(columns)
    ]
    return {"integration": integration, "database": db, "schema": schema, "table": table, "columns": cols}


def catalog(client: TestClient, filter: Any = None, sort: Any = None, **params: Any) -> Any:
    query: dict[str, Any] = dict(params)
    if filter is not None:
        query["filter"] = json.dumps(filter)
    if sort is not None:
        query["sort"] = json.dumps(sort)
    return client.get("/resource/catalog", params=query)
