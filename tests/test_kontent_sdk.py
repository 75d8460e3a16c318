"""The official @kontent-ai/management-sdk (npm), unchanged, against a live Cairn server."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from cairn.core.keys import create_key
from tests.live_server import live_server

HARNESS = Path(__file__).parent / "kontent_js"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None, reason="Node.js is not installed on this machine"
)


def test_official_sdk_lists_patches_and_gets_typed_errors(store, workspace):
    assert (HARNESS / "node_modules" / "@kontent-ai" / "management-sdk").is_dir(), (
        "run `make install` (npm install in tests/kontent_js) first"
    )
    key = create_key(store, workspace_id=workspace.id, name="kontent-sdk", role="editor")
    good = [
        {"op": "addInto", "value": {"name": "Second collection", "external_id": "second_external_id"}},
        {
            "op": "addInto",
            "value": {"name": "US branch", "externalId": "us"},
            "before": {"codename": "second_collection"},
        },
        {"op": "move", "reference": {"codename": "default"}, "after": {"external_id": "second_external_id"}},
        {
            "op": "replace",
            "property_name": "name",
            "value": "US branch (renamed)",
            "reference": {"codename": "us_branch"},
        },
    ]
    bad = [
        {
            "op": "addInto",
            "value": {"name": "x"},
            "before": {"codename": "default"},
            "after": {"codename": "us_branch"},
        }
    ]
    with live_server(store) as base:
        result = subprocess.run(
            [
                "node",
                str(HARNESS / "drive.js"),
                f"{base}/v2",
                workspace.id,
                key.token,
                json.dumps(good),
                json.dumps(bad),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["listed"]["collections"] == [
        {
            "id": "00000000-0000-0000-0000-000000000000",
            "name": "Default",
            "codename": "default",
            "externalId": None,
        }
    ]
    assert out["listed"]["lastModified"] is None
    assert [(c["name"], c["codename"], c["externalId"]) for c in out["set"]["collections"]] == [
        ("US branch (renamed)", "us_branch", "us"),
        ("Second collection", "second_collection", "second_external_id"),
        ("Default", "default", None),
    ]
    assert out["set"]["lastModified"] is not None
    error = out["error"]
    assert error["typed"] is True
    assert error["errorCode"] == 5
    assert error["requestId"]
    assert "mutually exclusive" in " ".join(error["validationErrors"])
