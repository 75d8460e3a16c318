"""schemathesis against the app's own OpenAPI document: no 5xx, no response outside the spec."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from cairn.core.keys import create_key
from cairn.core.tenancy import WorkspaceRef
from cairn.store import Store
from tests.helpers import warehouse

pytestmark = [pytest.mark.filterwarnings("ignore"), pytest.mark.slow]

EXAMPLES_PER_OPERATION = 20
# Business rules (an existing parent, a known entity type) reject some schema-valid bodies, and
# unknown keys are deliberately ignored, so the positive/negative data-acceptance checks do not
# apply; the server must still never fail and always answer inside its declared contract.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


def test_every_operation_conforms_to_the_spec(store: Store, workspace: WorkspaceRef) -> None:
    from fastapi.testclient import TestClient

    from cairn.api.app import create_app

    app = create_app(store, migrate=False)
    key = create_key(store, workspace_id=workspace.id, name="fuzz", role="admin")
    headers = {"Authorization": f"Bearer {key.token}"}
    with TestClient(app, headers=headers) as client:
        warehouse(client, columns=2)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            check()
        except BaseException as exc:  # collect every operation's failures, then report them together
            if isinstance(exc, KeyboardInterrupt):
                raise
            failures.append(f"{operation.label}: {exc}")
    assert operations > 30
    assert not failures, "\n\n".join(failures)
