"""Real source databases for connector tests: a PostgreSQL database and MariaDB databases per process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pymysql
from sqlalchemy import create_engine, text

from tests.conftest import PG_ADMIN_URL, _worker

MARIADB = {"host": os.environ.get("CAIRN_TEST_MARIADB_HOST", "127.0.0.1"), "user": "root", "password": ""}


def pg_source_url(suffix: str = "src") -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0].replace("+psycopg", "") + f"/cairn_{suffix}_{_worker()}"


@contextmanager
def pg_source(suffix: str = "src") -> Iterator[str]:
    """A fresh, empty PostgreSQL database; yields its URL (plain ``postgresql://``)."""
    url = pg_source_url(suffix)
    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def pg_run(url: str, *statements: str) -> None:
    engine = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    engine.dispose()


def maria_run(*statements: str) -> None:
    conn = pymysql.connect(**MARIADB, autocommit=True)
    try:
        with conn.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        conn.close()


def maria_query(statement: str) -> list[tuple[Any, ...]]:
    conn = pymysql.connect(**MARIADB, autocommit=True)
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement)
            return list(cursor.fetchall())
    finally:
        conn.close()


@contextmanager
def maria_databases(*names: str) -> Iterator[list[str]]:
    """Fresh MariaDB databases named per process; yields their real names."""
    real = [f"cairn_{n}_{_worker()}" for n in names]
    maria_run(*(f"DROP DATABASE IF EXISTS `{n}`" for n in real), *(f"CREATE DATABASE `{n}`" for n in real))
    try:
        yield real
    finally:
        maria_run(*(f"DROP DATABASE IF EXISTS `{n}`" for n in real))
