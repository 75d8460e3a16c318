"""The catalog commands (get, ls, search, collections) through typer's runner, on a database
(--db, both backends) and on a live server (--url/--api-key); errors are one line, never a
traceback; and one end-to-end run of the installed ``cairn`` command in a subprocess."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cairn.cli.main import app
from cairn.core.keys import create_key
from tests.live_server import free_port, live_server, wait_until_healthy
from tests.sdk_support import demo_with_lineage

runner = CliRunner()


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.output, result.exception)
    assert "Traceback" not in result.output
    return result.output


@pytest.fixture
def demo(store, admin):
    return demo_with_lineage(store, admin)


def test_lineage_shows_a_tree_upstream_and_downstream(demo):
    dim = json.loads(run("search", "dim_customer", "--type", "table", "--db", demo, "--json"))[0]["resource"]
    graph = json.loads(run("lineage", dim["id"], "--upstream", "--db", demo, "--json"))
    assert sorted((n["title"], n["depth"]) for n in graph["nodes"]) == [
        ("customers", -2),
        ("dim_customer", 0),
        ("stg_customers", -1),
    ]
    shallow = json.loads(run("lineage", dim["id"], "--upstream", "--depth", "1", "--db", demo, "--json"))
    assert len(shallow["nodes"]) == 2
    tree = run("lineage", dim["id"], "--db", demo)
    assert "upstream" in tree
    assert "stg_customers" in tree
    assert "downstream" in tree
    down = json.loads(run("lineage", dim["id"], "--downstream", "--db", demo, "--json"))
    assert all(n["depth"] >= 0 for n in down["nodes"])
    assert "stg_customers" not in [n["title"] for n in down["nodes"]]


def test_ls_browses_the_hierarchy_like_a_file_system(demo):
    top = run("ls", "--db", demo)
    assert "Warehouse/" in top
    assert "integration" in top
    assert "Customer" in top  # a glossary term has no integration: it sits at the top
    schemas = json.loads(run("ls", "warehouse/analytics", "--db", demo, "--json"))
    assert [(e["name"], e["type"], e["children"]) for e in schemas] == [
        ("marts", "schema", 3),
        ("staging", "schema", 2),
    ]
    tables = [e["name"] for e in json.loads(run("ls", "/Warehouse/analytics/marts/", "--db", demo, "--json"))]
    assert tables == ["dim_customer", "fct_orders", "fct_payments"]
    leaf = json.loads(run("ls", "warehouse/analytics/marts/dim_customer/email", "--db", demo, "--json"))
    assert [(e["name"], e["type"]) for e in leaf] == [("email", "column")]
    assert len(json.loads(run("ls", "warehouse", "--db", demo, "--json", "--limit", "1"))) == 1


def test_get_and_search(demo):
    hits = json.loads(run("search", "custmer", "--type", "table", "--db", demo, "--json"))
    assert {h["resource"]["entity_type"] for h in hits} == {"table"}
    table_id = next(h["resource"]["id"] for h in hits if h["resource"]["title"] == "dim_customer")
    assert "exact_title" in run("search", "dim_customer", "--db", demo)
    shown = run("get", table_id, "--db", demo)
    assert "analytics.marts.dim_customer" in shown
    assert "One row per customer" in shown
    assert json.loads(run("get", table_id, "--db", demo, "--json"))["id"] == table_id
    assert "nothing matches" in run("search", "zzzz-nothing", "--db", demo)


def test_collections_list_create_rename_delete(demo):
    made = json.loads(
        run(
            "collections",
            "create",
            "Payments",
            "--type",
            "dataset",
            "--tag",
            "finance",
            "--db",
            demo,
            "--json",
        )
    )
    assert (made["name"], made["collection_type"], made["tags"]) == ("Payments", "dataset", ["finance"])
    listed = run("collections", "list", "--db", demo)
    assert "Payments" in listed
    assert "Default" in listed
    renamed = json.loads(run("collections", "rename", "Payments", "Billing", "--db", demo, "--json"))
    assert renamed["id"] == made["id"]
    assert renamed["name"] == "Billing"
    run("collections", "delete", made["id"], "--db", demo)
    assert "Billing" not in run("collections", "list", "--db", demo)
    out = run("collections", "delete", "Billing", "--db", demo, code=1)
    assert out.strip() == "error: no collection 'Billing'"


def test_errors_are_one_line_and_a_non_zero_exit(demo, tmp_path):
    for args, expected in [
        (("get", "00000000-0000-0000-0000-0000000000aa", "--db", demo), "404 while requesting GET"),
        (("ls", "warehouse/nowhere", "--db", demo), "nothing named 'nowhere' in warehouse"),
        (("ls", "nope", "--db", demo), "no integration or top-level resource named 'nope'"),
        (("search", "x" * 300, "--db", demo), "at most 256 characters"),
        (("get", "x", "--db", str(tmp_path / "missing.db")), "no database at"),
        (("collections", "delete", "Default", "--db", demo), "400 while requesting DELETE"),
        (("get", "x", "--url", "http://127.0.0.1:9"), "--url needs an API key"),
        (("get", "x", "--url", f"http://127.0.0.1:{free_port()}", "--api-key", "k"), "cannot reach GET"),
    ]:
        output = run(*args, code=1)
        assert output.startswith("error: "), output
        assert expected in output, output
        assert len(output.strip().splitlines()) == 1, output


def test_the_same_commands_on_a_live_server(demo, store, workspace):
    token = create_key(store, workspace_id=workspace.id, name="cli", role="admin").token
    with live_server(store) as base:
        env = {"CAIRN_BASE_URL": base, "CAIRN_API_KEY": token}
        result = runner.invoke(app, ["ls", "warehouse/raw", "--json"], env=env)
        assert result.exit_code == 0, result.output
        assert [e["name"] for e in json.loads(result.output)] == ["shop"]
        made = runner.invoke(app, ["collections", "create", "Remote", "--url", base, "--api-key", token])
        assert made.exit_code == 0, made.output
        assert "Remote" in runner.invoke(app, ["collections", "list"], env=env).output
        denied = runner.invoke(app, ["search", "customer", "--url", base, "--api-key", "wrong"])
        assert denied.exit_code == 1
        assert denied.output.startswith("error: Error response 401 while requesting GET")


def test_end_to_end_in_a_subprocess(tmp_path):
    cairn = Path(sys.executable).with_name("cairn")
    db = str(tmp_path / "e2e.db")
    env = {**os.environ, "CAIRN_DATABASE_URL": db}
    env.pop("CAIRN_BASE_URL", None)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(cairn), *args], env=env, capture_output=True, text=True, timeout=120)

    assert cli("demo").returncode == 0
    listed = cli("ls", "warehouse/analytics/marts", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "dim_customer" in [e["name"] for e in json.loads(listed.stdout)]
    missing = cli("get", "no-such-id")
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: ")
    assert "Traceback" not in missing.stderr

    # cairn serve, then the same commands over HTTP with a key from cairn keys create
    token = cli("keys", "create", "--name", "e2e").stdout.strip().splitlines()[-1]
    port = free_port()
    server = subprocess.Popen(
        [str(cairn), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_healthy(base, server)
        remote = cli("collections", "list", "--json", "--url", base, "--api-key", token)
        assert remote.returncode == 0, remote.stderr
        assert "Finance" in [c["name"] for c in json.loads(remote.stdout)]
        # An ingest run recorded in-process is read back over HTTP.
        source = tmp_path / "app.sqlite"
        sqlite3.connect(source).execute("CREATE TABLE t (id INTEGER)").connection.close()
        assert cli("ingest", "sql", f"sqlite:///{source}", "--db", db).returncode == 0
        runs = cli("ingest", "runs", "--json", "--url", base, "--api-key", token)
        assert runs.returncode == 0, runs.stderr
        assert [(r["source"], r["status"]) for r in json.loads(runs.stdout)] == [("sql", "succeeded")]
    finally:
        server.terminate()
        server.wait(timeout=20)
