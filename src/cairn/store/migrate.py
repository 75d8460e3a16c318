"""Run alembic from inside the package: ``cairn serve`` migrates on start."""

from __future__ import annotations

from pathlib import Path
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
