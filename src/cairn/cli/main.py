"""The ``cairn`` command: serve, keys, demo, export, import; catalog commands live in their own
modules (browse, collections, mcp) and are registered below."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from cairn.cli import browse, mcp_command
from cairn.cli import collections as collections_cli

app = typer.Typer(
    name="cairn",
    help="Cairn: a self-hosted data catalog.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(__import__("cairn.cli.ingest", fromlist=["app"]).app, name="ingest")

err = Console(stderr=True, soft_wrap=True)
DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL or SQLite file (default: $CAIRN_DATABASE_URL or ./cairn.db)."),
]


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def _open(db: str | None):  # type: ignore[no-untyped-def]
    from cairn.core.principal import system_principal
    from cairn.core.tenancy import default_workspace
    from cairn.store import Store, database_url_from_env

    try:
        store = Store(database_url_from_env(db), pool_size=2)
        store.migrate()
        workspace = default_workspace(store)
    except Exception as exc:  # a bad URL or an unreachable server: one line, no traceback
        fail(f"cannot open database: {exc}")
    return store, workspace, system_principal(workspace.id, workspace.organization_id)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8585,
    db: DbOption = None,
    workers: Annotated[int, typer.Option(help="Worker processes (use 1 with SQLite).")] = 1,
    write_rate_limit: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Secoda-face writes per workspace and minute, shared by all workers "
            "(default: $CAIRN_WRITE_RATE_LIMIT or 30; 0 disables).",
        ),
    ] = None,
    redis_url: Annotated[
        str | None,
        typer.Option(
            help="Count rate limits in Redis instead of the database (default: $CAIRN_REDIS_URL).",
        ),
    ] = None,
) -> None:
    """Serve the API (migrating the database first)."""
    import uvicorn

    from cairn.core.ratelimit import ENV_VAR, REDIS_URL_VAR, kontent_limits_from_env, limit_from_env
    from cairn.store import database_url_from_env

    url = database_url_from_env(db)
    os.environ["CAIRN_DATABASE_URL"] = url
    if redis_url:
        os.environ[REDIS_URL_VAR] = redis_url
    try:
        # Workers are separate processes: they read the limits from the environment.
        os.environ[ENV_VAR] = str(limit_from_env(write_rate_limit))
        kontent_limits_from_env()
    except ValueError as exc:
        fail(str(exc))
    store, workspace, _ = _open(url)
    store.dispose()
    err.print(f"Cairn on http://{host}:{port}  (database: {_safe_url(url)}, workspace {workspace.id})")
    uvicorn.run(
        "cairn.api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="A label for the key.")],
    role: Annotated[
        str | None,
        typer.Option(help="admin, editor, viewer or guest (default: the --user's role, else admin)."),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(
            "--user", help="The catalog user (email or id) the key acts for; its teams scope what it sees."
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Create an API key in the default workspace; the token is the last line printed."""
    from cairn.core.errors import CairnError
    from cairn.core.keys import create_key

    store, workspace, _ = _open(db)
    try:
        key = create_key(store, workspace_id=workspace.id, name=name, role=role, user=user)
    except CairnError as exc:
        fail(exc.message)
    err.print(
        f"Created {key.role} key '{key.name}' ({key.id}) for workspace {workspace.id}. It is shown once:"
    )
    print(key.token)


@keys_app.command("list")
def keys_list(db: DbOption = None) -> None:
    """List the workspace's keys (prefixes only)."""
    from rich.table import Column, Table

    from cairn.core.keys import list_keys

    store, workspace, _ = _open(db)
    # An id is only useful whole: revoke takes it.
    table = Table(Column("id", no_wrap=True, min_width=36), "name", "role", "prefix", "created", "revoked")
    for key in list_keys(store, workspace_id=workspace.id):
        table.add_row(
            *(str(key[c] or "") for c in ("id", "name", "role", "prefix", "created_at", "revoked_at"))
        )
    Console().print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: str, db: DbOption = None) -> None:
    """Revoke a key by id."""
    from cairn.core.errors import CairnError
    from cairn.core.keys import revoke_key

    store, workspace, _ = _open(db)
    try:
        revoke_key(store, workspace_id=workspace.id, key_id=key_id)
    except CairnError as exc:
        fail(exc.message)
    err.print(f"Revoked {key_id}.")


@app.command()
def demo(db: DbOption = None) -> None:
    """Load a small demo catalog (idempotent)."""
    from cairn.core.demo import load_demo

    store, _, principal = _open(db)
    result = load_demo(store, principal)
    err.print(f"Demo catalog: {result['resources']} resources created.")


@app.command()
def purge(
    older_than: Annotated[
        str, typer.Option("--older-than", help="Age of deletions to purge: 30d, 12h or 90m.")
    ],
    db: DbOption = None,
) -> None:
    """Remove deleted (archived) resources for good once they are older than a given age."""
    from datetime import timedelta

    from cairn.core.resources import ResourceService
    from cairn.models.common import utc_now

    units = {"d": "days", "h": "hours", "m": "minutes"}
    amount, unit = older_than[:-1], older_than[-1:]
    if unit not in units or not amount.isdigit():
        fail("--older-than takes a number and a unit: 30d, 12h or 90m")
    store, _, principal = _open(db)
    cutoff = utc_now() - timedelta(**{units[unit]: int(amount)})
    removed = ResourceService(store).purge(principal, archived_before=cutoff)
    err.print(f"Purged {removed} resources deleted before {cutoff:%Y-%m-%d %H:%M} UTC.")


@app.command()
def optimize(db: DbOption = None) -> None:
    """Refresh the query planner's statistics and merge the text index into one segment.

    Worth running after many edits: every write adds a small FTS5 segment that automerge folds
    only in part (2,000 single-row edits left 15 segments at 1M resources, and a typo search's
    variant lookups cost 14 ms instead of 1.3 ms). An import of 10,000+ resources does both
    itself. About 4 s at 1M resources on SQLite; readers keep answering meanwhile (WAL)."""
    import time

    from cairn.store import maintenance

    store, _, _ = _open(db)
    started = time.perf_counter()
    with store.write() as conn:
        merged = maintenance.refresh(conn)
    took = time.perf_counter() - started
    segments = "".join(f", {name}: {before} -> {after} segments" for name, (before, after) in merged.items())
    err.print(f"Statistics refreshed{segments} in {took:.1f} s.")


@app.command("export")
def export(db: DbOption = None) -> None:
    """Write the workspace as JSON Lines to stdout."""
    import orjson

    from cairn.core.exchange import export_workspace

    store, _, principal = _open(db)
    out = sys.stdout.buffer
    count = 0
    for line in export_workspace(store, principal):
        out.write(orjson.dumps(line))
        out.write(b"\n")
        count += 1
    out.flush()
    err.print(f"Exported {count} objects.")


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="A JSON Lines file from 'cairn export' ('-' for stdin).")],
    db: DbOption = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", min=1, help="Lines per write transaction (all or nothing).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=0, help="Validation processes (0: validate inline).")
    ] = None,
) -> None:
    """Load a JSON Lines export; bad lines are reported by number, good ones land."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from cairn.core.exchange import BATCH, Importer

    if str(path) != "-" and not path.is_file():
        fail(f"no such file: {path}")
    store, _, principal = _open(db)
    total = None if str(path) == "-" else _count_lines(path)
    started = time.perf_counter()
    with Progress(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}/s"),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal and total is None,
    ) as progress:
        task = progress.add_task("import", total=total, rate="0")
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            rate = done / max(time.perf_counter() - started, 1e-9)
            progress.update(task, advance=n, rate=f"{rate:,.0f}")

        importer = Importer(store, principal, batch_size=batch_size or BATCH, workers=workers)
        report = importer.run(_lines(path), progress=advance)
    elapsed = time.perf_counter() - started
    for number, message in report.errors[:50]:
        err.print(f"line {number}: {message}", highlight=False, markup=False)
    if len(report.errors) > 50:
        err.print(f"... and {len(report.errors) - 50} more bad lines")
    created = ", ".join(f"{n} {k}s" for k, n in sorted(report.created.items())) or "nothing"
    err.print(f"Imported {created} in {elapsed:.1f}s; {len(report.errors)} bad lines.")
    if report.errors:
        raise typer.Exit(2)


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def _lines(path: Path) -> Iterator[bytes]:
    if str(path) == "-":
        yield from sys.stdin.buffer
        return
    with path.open("rb") as handle:
        yield from handle


browse.register(app)
app.add_typer(collections_cli.app, name="collections")
mcp_command.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
