"""The real ``secoda-analysis-mcp`` 0.1.1 server, driven over MCP stdio against a live Cairn.

It needs ``mcp<2``, so it runs from ``.venv-secoda-mcp`` (``make install`` creates it) through
tests/secoda_mcp/driver.py; it reads ``API_URL`` and ``API_TOKEN`` as it does against Secoda.
Every HTTP call spec §9 lists for it is exercised through its tools, and each answer is checked.

Cairn has no AI assistant: ``ai_chat`` (``POST /ai/embedded_prompt/``) gets a 404, which the tool
reports as its error; that is the closest correct behaviour for a catalog without a model.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cairn.core.keys import create_key
from cairn.core.tenancy import WorkspaceRef
from cairn.store import Store
from tests.live_server import live_server

ROOT = Path(__file__).resolve().parents[1]
MCP_PYTHON = ROOT / ".venv-secoda-mcp" / "bin" / "python"
DRIVER = Path(__file__).parent / "secoda_mcp" / "driver.py"


@pytest.fixture
def server(store: Store, workspace: WorkspaceRef) -> Iterator[tuple[httpx.Client, str, str]]:
    assert MCP_PYTHON.exists(), "run `make install`: it creates .venv-secoda-mcp"
    key = create_key(store, workspace_id=workspace.id, name="mcp", role="admin")
    with (
        live_server(store) as base,
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key.token}"}, timeout=30) as client,
    ):
        yield client, base, key.token


def run_tools(base: str, token: str, calls: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    env = {**os.environ, "API_URL": f"{base}/api/v1/", "API_TOKEN": token}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [str(MCP_PYTHON), str(DRIVER)],
        input=json.dumps(calls),
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    first, *results = json.loads(done.stdout.strip().splitlines()[-1])
    return first["tools"], results


def post(client: httpx.Client, path: str, **body: Any) -> dict[str, Any]:
    response = client.post(path, json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def test_every_tool_against_cairn(server: tuple[httpx.Client, str, str]) -> None:
    client, base, token = server
    integration = post(client, "/integration/integrations", name="warehouse", type="postgres")["id"]
    db = post(client, "/resource/catalog", entity_type="database", title="shop", integration=integration)
    schema = post(client, "/resource/catalog", entity_type="schema", title="public", parent=db["id"])
    customers = post(
        client, "/resource/catalog", entity_type="table", title="dim_customer", parent=schema["id"],
        description="One row per customer. " + "x" * 300,
    )  # fmt: skip
    orders = post(client, "/resource/catalog", entity_type="table", title="fct_orders", parent=schema["id"])
    column = post(
        client, "/resource/catalog", entity_type="column", title="customer_id", parent=customers["id"]
    )
    term = post(client, "/resource/catalog", entity_type="glossary", title="Customer", description="A payer")
    doc = post(client, "/resource/catalog", entity_type="document", title="Customer handbook")
    finance = post(client, "/collection/collections/", title="Finance", description="Money things")
    question = post(client, "/question/questions/", title="Where do customers live?", description="?")
    lineage = client.post(
        "/lineage/manual/", json={"from_entity": customers["id"], "to_entity": orders["id"]}
    )
    assert lineage.status_code == 201

    table_filter = {
        "operator": "and",
        "operands": [
            {"operator": "exact", "field": "type", "value": "table"},
            {"operator": "is_set", "field": "description", "value": None},
        ],
    }
    calls: list[dict[str, Any]] = [
        {
            "tool": "list_resources",
            "arguments": {"filter": table_filter, "sort": {"field": "title", "order": "asc"}},
        },
        {
            "tool": "list_resources",
            "arguments": {"filter": {"operator": "exact", "field": "nope", "value": 1}},
        },
        {"tool": "list_resources", "arguments": {"sort": {"field": "title", "order": "desc"}, "page": 1}},
        {"tool": "get_resource", "arguments": {"resource_id": customers["id"], "truncate_length": 40}},
        {"tool": "get_resource", "arguments": {"resource_id": "definitely-not-a-real-id"}},
        {"tool": "list_collections", "arguments": {"title": "fin"}},
        {"tool": "get_collection", "arguments": {"collection_id": finance["id"]}},
        {"tool": "list_questions", "arguments": {}},
        {"tool": "get_question", "arguments": {"question_id": question["id"]}},
        {"tool": "search_data_assets", "arguments": {"query": "customer"}},
        {"tool": "search_documentation", "arguments": {"query": "customer"}},
        {"tool": "retrieve_entity", "arguments": {"entity_id": term["id"]}},
        {"tool": "entity_lineage", "arguments": {"entity_id": orders["id"]}},
        {"tool": "glossary", "arguments": {}},
        {"tool": "retrieve_entity", "arguments": {"entity_id": "00000000-0000-0000-0000-000000000001"}},
        {"tool": "ai_chat", "arguments": {"prompt": "What is a customer?", "timeout_seconds": 10}},
    ]
    tools, results = run_tools(base, token, calls)
    assert {"list_resources", "get_resource", "search_data_assets", "entity_lineage", "glossary"} <= set(
        tools
    )
    texts = [r["text"] for r in results]

    listed = json.loads(texts[0])
    assert [r["title"] for r in listed["results"]] == ["dim_customer"]
    assert listed["results"][0]["description"].endswith("...")  # the client truncates at 150
    assert listed["count"] == 1
    assert "Bad request. Check filter/sort format" in texts[1]
    assert "nope" in texts[1]
    titles = [r["title"] for r in json.loads(texts[2])["results"]]
    assert titles == sorted(titles, reverse=True)
    entity = json.loads(texts[3])
    assert entity["id"] == customers["id"]
    assert (
        entity["description"] == ("One row per customer. " + "x" * 300)[:40] + "..."
    )  # the client truncates
    assert "Resource not found" in texts[4]
    assert [c["title"] for c in json.loads(texts[5])["results"]] == ["Finance"]
    assert json.loads(texts[6])["description"] == "Money things"
    assert [q["id"] for q in json.loads(texts[7])["results"]] == [question["id"]]
    assert json.loads(texts[8])["title"] == "Where do customers live?"

    # The proxied tools: what /ai/mcp/tools/call/ answers, passed through by the client.
    assert {r["id"] for r in json.loads(texts[9])["results"]} == {customers["id"], column["id"]}
    assert {r["id"] for r in json.loads(texts[10])["results"]} == {term["id"], doc["id"], question["id"]}
    assert json.loads(texts[11])["title"] == "Customer"
    assert [u["id"] for u in json.loads(texts[12])["upstream"]] == [customers["id"]]
    assert [t["title"] for t in json.loads(texts[13])["terms"]] == ["Customer"]
    assert texts[14].startswith("Error: ")
    assert "was not found" in texts[14]
    assert "404" in json.loads(texts[15])["error"]
