"""How catalog commands reach Cairn: a server (``--url``/``--api-key`` or ``CAIRN_BASE_URL``/
``CAIRN_API_KEY``) or a database opened in-process (``--db``, else ``CAIRN_DATABASE_URL`` or
``./cairn.db``). Both go through the Python SDK, so a command behaves the same either way.

Only typer and rich are imported here: the SDK, pydantic and the app load inside commands.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from cairn.sdk import Client

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

UrlOption = Annotated[
    str | None,
    typer.Option("--url", envvar="CAIRN_BASE_URL", help="Cairn server to talk to (env: CAIRN_BASE_URL)."),
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option("--api-key", envvar="CAIRN_API_KEY", help="API key for --url (env: CAIRN_API_KEY)."),
]
DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Open this database in-process instead of a server (URL or SQLite file)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def local_database(db: str | None) -> str:
    """``--db``, else ``$CAIRN_DATABASE_URL``, else ``./cairn.db``; a SQLite file must exist."""
    database = db or os.environ.get("CAIRN_DATABASE_URL") or "cairn.db"
    if "://" not in database and not Path(database).expanduser().is_file():
        fail(f"no database at {database}: pass --db FILE or URL, or --url to use a server")
    return database


def server_key(api_key: str | None) -> str:
    if not api_key:
        fail("--url needs an API key: pass --api-key or set CAIRN_API_KEY")
    return api_key


@dataclass(frozen=True)
class Target:
    url: str | None
    api_key: str | None
    db: str | None

    def open(self) -> Client:
        import cairn

        if self.db is None and self.url:
            return cairn.Client(base_url=self.url, api_key=server_key(self.api_key))
        return cairn.Catalog(local_database(self.db))


@contextmanager
def connected(url: str | None, api_key: str | None, db: str | None) -> Iterator[Client]:
    """The SDK client for a command; any failure becomes one line on stderr and exit code 1."""
    from cairn.sdk import CairnError

    try:
        client = Target(url, api_key, db).open()
    except typer.Exit:
        raise
    except CairnError as exc:
        fail(str(exc))
    except Exception as exc:  # an unreachable or unreadable database: one line, no traceback
        fail(f"cannot open database: {exc}")
    try:
        with client:
            yield client
    except CairnError as exc:
        fail(str(exc))


def emit_json(value: Any) -> None:
    """Models, lists of models and plain data, as JSON on stdout."""
    print(json.dumps(_plain(value), indent=2, ensure_ascii=False))


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
