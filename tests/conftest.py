"""Fixtures: every storage-touching test runs against SQLite and PostgreSQL.

``CAIRN_TEST_BACKENDS`` (default ``sqlite,postgres``) picks the backends;
``CAIRN_TEST_POSTGRES_URL`` points at a server where test databases may be created.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cairn.core.keys import create_key
from cairn.core.principal import Principal, system_principal
from cairn.core.tenancy import WorkspaceRef, default_workspace
from cairn.store import Store
from cairn.store.schema import metadata

warnings.filterwarnings("ignore", message=".*httpx.*starlette.testclient.*")

# The suite makes far more than 30 writes a minute: every app and live server it starts runs
# without the write rate limits unless a test turns them on (tests/test_rate_limit.py does).
os.environ["CAIRN_WRITE_RATE_LIMIT"] = "0"
os.environ["CAIRN_KONTENT_RATE_PER_SECOND"] = "0"
os.environ["CAIRN_KONTENT_RATE_PER_MINUTE"] = "0"

BACKENDS = [
    b.strip() for b in os.environ.get("CAIRN_TEST_BACKENDS", "sqlite,postgres").split(",") if b.strip()
]
PG_ADMIN_URL = os.environ.get(
    "CAIRN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _worker() -> str:
    # Unique per process: several checkouts may run the suite against one server at once.
    return f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    store.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"cairn_test_{_worker()}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    store = Store(url)
    store.migrate()
    store.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_postgres(store: Store) -> None:
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with store.write() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    backend = request.param
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "cairn.db"
        shutil.copy(template, path)
        instance = Store(f"sqlite:///{path}")
    elif backend == "postgres":
        instance = Store(request.getfixturevalue("postgres_url"))
        _truncate_postgres(instance)
    else:  # pragma: no cover - configuration error
        raise ValueError(f"unknown backend {backend}")
    yield instance
    instance.dispose()


@pytest.fixture
def workspace(store: Store) -> WorkspaceRef:
    return default_workspace(store)


@pytest.fixture
def admin(workspace: WorkspaceRef) -> Principal:
    return system_principal(workspace.id, workspace.organization_id)


@dataclass
class Api:
    """A TestClient with a key of a given role; ``as_role`` makes more."""

    client: object
    store: Store
    workspace: WorkspaceRef
    headers: dict[str, str]

    def as_role(self, role: str) -> dict[str, str]:
        key = create_key(self.store, workspace_id=self.workspace.id, name=f"{role}-key", role=role)
        return {"Authorization": f"Bearer {key.token}"}


@pytest.fixture
def api(store: Store, workspace: WorkspaceRef) -> Iterator[Api]:
    from fastapi.testclient import TestClient

    from cairn.api.app import create_app

    app = create_app(store, migrate=False)
    key = create_key(store, workspace_id=workspace.id, name="test-admin", role="admin")
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {key.token}"
        yield Api(client, store, workspace, {"Authorization": f"Bearer {key.token}"})
