"""``cairn ingest``: crawl a SQL database or load dbt artifacts into the catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from cairn.cli.connect import ApiKeyOption, JsonOption, UrlOption, connected, emit_json, out
from cairn.cli.connect import DbOption as CatalogDbOption
from cairn.connectors.model import Summary

app = typer.Typer(help="Crawl sources (SQL databases, dbt projects) into the catalog.", no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Catalog database URL or SQLite file (default: $CAIRN_DATABASE_URL or ./cairn.db)."
    ),
]


def report(summary: Summary) -> None:
    """The closing summary; the errors are listed first, one line each."""
    for message in summary.errors[:100]:
        err.print(f"[yellow]error:[/yellow] {message}", highlight=False)
    if len(summary.errors) > 100:
        err.print(f"... and {len(summary.errors) - 100} more errors")
    err.print(
        f"{summary.created} created, {summary.updated} updated, {summary.unchanged} unchanged, "
        f"{summary.staled} staled, {summary.unstaled} unstaled, {summary.edges} lineage edges, "
        f"{len(summary.errors)} errors",
        highlight=False,
    )


@app.command("sql")
def sql(
    url: Annotated[str, typer.Argument(help="SQLAlchemy URL of the source, e.g. postgresql://user@host/db.")],
    integration: Annotated[
        str | None, typer.Option(help="Integration name (default: backend, host and database).")
    ] = None,
    include: Annotated[
        list[str] | None, typer.Option(help="Schemas to crawl (glob; repeat for more).")
    ] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="Schemas to skip (glob; repeat).")] = None,
    db: DbOption = None,
) -> None:
    """Crawl a PostgreSQL, MySQL/MariaDB, SQLite or DuckDB database."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from cairn.cli.main import _open, fail
    from cairn.connectors.sql import crawl_sql, mask
    from cairn.core.errors import CairnError

    store, _, principal = _open(db)
    with Progress(
        TextColumn("crawling {task.fields[schema]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as progress:
        task = progress.add_task("crawl", total=None, schema="")

        def advance(schema: str, done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, schema=schema)

        try:
            summary = crawl_sql(
                store,
                principal,
                url,
                integration=integration,
                include=include or (),
                exclude=exclude or (),
                progress=advance,
            )
        except CairnError as exc:
            progress.stop()
            fail(exc.message)
    err.print(f"Crawled {mask(url)}", highlight=False)
    report(summary)
    if summary.errors:
        raise typer.Exit(2)


def _load_json(path: Path, option: str) -> dict[str, Any]:
    import orjson

    from cairn.cli.main import fail

    try:
        data = orjson.loads(path.read_bytes())
    except OSError as exc:
        fail(f"{option}: cannot read {path}: {exc.strerror}")
    except orjson.JSONDecodeError as exc:
        fail(f"{option}: {path} is not valid JSON: {exc}")
    if not isinstance(data, dict):
        fail(f"{option}: {path} must hold a JSON object")
    return data


@app.command("dbt")
def dbt(
    manifest: Annotated[Path, typer.Argument(help="dbt's target/manifest.json.")],
    catalog: Annotated[Path | None, typer.Option(help="target/catalog.json (dbt docs generate).")] = None,
    run_results: Annotated[
        Path | None, typer.Option("--run-results", help="target/run_results.json (test statuses).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Load a dbt project's artifacts: models, sources, seeds, snapshots, tests, exposures, lineage."""
    from cairn.cli.main import _open, fail
    from cairn.connectors.dbt_project import ingest_dbt
    from cairn.core.errors import CairnError

    loaded_manifest = _load_json(manifest, "manifest")
    loaded_catalog = _load_json(catalog, "--catalog") if catalog else None
    loaded_results = _load_json(run_results, "--run-results") if run_results else None
    store, _, principal = _open(db)
    with err.status("loading dbt artifacts"):
        try:
            summary = ingest_dbt(store, principal, loaded_manifest, loaded_catalog, loaded_results)
        except CairnError as exc:
            fail(exc.message)
    err.print(f"Loaded {manifest}", highlight=False)
    report(summary)
    if summary.errors:
        raise typer.Exit(2)


@app.command("runs")
def runs(
    integration: Annotated[str | None, typer.Option(help="Only the runs of this integration id.")] = None,
    status: Annotated[str | None, typer.Option(help="succeeded, partial or failed.")] = None,
    limit: Annotated[int, typer.Option("-n", "--limit", min=1, help="How many runs, newest first.")] = 20,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    db: CatalogDbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Past ingestion runs: when, which source, how they ended, what they changed."""
    from itertools import islice

    from cairn.cli.browse import listing

    with connected(url, api_key, db) as client:
        found = list(
            islice(
                client.integrations.extractions(integration, status=status, page_size=min(limit, 100)), limit
            )
        )
    if as_json:
        emit_json(found)
        return
    table = listing("started", "source", "status", "changes", "by")
    for run in found:
        changes = run.error or ", ".join(
            f"{k} {v:,}" for k, v in run.summary.items() if k != "duration_ms" and v
        )
        table.add_row(
            run.started_at[:19], run.source, run.status, changes or "nothing changed", run.actor, run.id
        )
    out.print(table)
