"""Run alembic from inside the package: ``cairn serve`` migrates on start."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config

if TYPE_CHECKING:
    from cairn.store.engine import Store

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(store: Store) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", store.url.replace("%", "%%"))
    config.attributes["store"] = store
    return config


def upgrade(store: Store, revision: str = "head") -> None:
    with store.write() as conn:
        config = alembic_config(store)
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def earlier_migration(name: str) -> ModuleType:
    """An earlier migration's module (``name``: its file name without ``.py``), for a later one
    that must repeat its exact text (a migration's text never changes once released)."""
    path = MIGRATIONS_DIR / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"cairn_migration_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
