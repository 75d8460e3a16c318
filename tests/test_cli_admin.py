"""The administration commands through typer's runner: keys, demo, export and import."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cairn.cli.main import app

runner = CliRunner()


def invoke(*args: str, code: int = 0, stdin: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=stdin, env={"COLUMNS": "200"})
    assert result.exit_code == code, (result.output, result.exception)
    assert "Traceback" not in result.output
    return result.output


def test_keys_create_list_revoke(store):
    token = (
        invoke("keys", "create", "--name", "ci", "--role", "viewer", "--db", store.url)
        .strip()
        .splitlines()[-1]
    )
    assert token.startswith("cairn_")
    listed = invoke("keys", "list", "--db", store.url)
    assert "ci" in listed
    assert "viewer" in listed
    assert token not in listed  # only prefixes are shown
    key_id = next(line.split()[1] for line in listed.splitlines() if " ci " in f" {line} ")
    assert "Revoked" in invoke("keys", "revoke", key_id, "--db", store.url)
    bad_role = invoke("keys", "create", "--name", "x", "--role", "owner", "--db", store.url, code=1)
    assert bad_role.startswith("error: ")


def test_demo_is_idempotent_and_export_import_round_trip(store, tmp_path):
    assert "57 resources created" in invoke("demo", "--db", store.url)
    assert "0 resources created" in invoke("demo", "--db", store.url)
    exported = invoke("export", "--db", store.url)
    lines = [json.loads(line) for line in exported.splitlines() if line.startswith("{")]
    assert {line["kind"] for line in lines} >= {"integration", "resource", "collection"}
    dump = tmp_path / "catalog.jsonl"
    dump.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    target = tmp_path / "copy.db"
    imported = invoke("import", str(dump), "--db", str(target))
    assert "0 bad lines" in imported
    listed = json.loads(invoke("ls", "warehouse/analytics", "--db", str(target), "--json"))
    assert [e["name"] for e in listed] == ["marts", "staging"]


def test_import_reports_bad_lines_and_missing_files(store, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind": "resource", "data": {"entity_type": "schema", "title": "orphan"}}\nnot json\n')
    output = invoke("import", str(bad), "--db", store.url, code=2)
    assert "line 1:" in output
    assert "line 2:" in output
    missing = invoke("import", str(tmp_path / "nope.jsonl"), "--db", store.url, code=1)
    assert missing.strip() == f"error: no such file: {tmp_path / 'nope.jsonl'}"
