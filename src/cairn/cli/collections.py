"""``cairn collections list|create|rename|delete`` (the workspace's collections, through the SDK)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cairn.cli.browse import listing
from cairn.cli.connect import (
    ApiKeyOption,
    DbOption,
    JsonOption,
    UrlOption,
    connected,
    emit_json,
    err,
    fail,
    out,
)

if TYPE_CHECKING:
    from cairn.models.collections import Collection
    from cairn.sdk import Client

app = typer.Typer(help="List, create, rename and delete collections.", no_args_is_help=True)
CollectionArg = Annotated[str, typer.Argument(help="The collection's id or exact name.")]


def _find(client: Client, value: str) -> Collection:
    found = client.collections.get(value)
    if found is None:
        fail(f"no collection {value!r}")
    return found


@app.command("list")
def list_(
    url: UrlOption = None, api_key: ApiKeyOption = None, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """Every collection, in workspace order."""
    with connected(url, api_key, db) as client:
        found = client.collections.list()
    if as_json:
        emit_json(found)
        return
    table = listing("name", "type", "models", "tags")
    for c in found:
        table.add_row(c.name, c.collection_type or "", str(c.total_models), ", ".join(c.tags or []), c.id)
    out.print(table)


@app.command()
def create(
    name: Annotated[str, typer.Argument(help="The new collection's name.")],
    description: Annotated[str, typer.Option(help="What it holds.")] = "",
    collection_type: Annotated[str | None, typer.Option("--type", help="model or dataset.")] = None,
    tags: Annotated[list[str] | None, typer.Option("--tag", help="A label (repeatable).")] = None,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a collection."""
    with connected(url, api_key, db) as client:
        made = client.collections.create(description, name, collection_type, tags)
    if as_json:
        emit_json(made)
    else:
        err.print(f"Created collection {made.name!r} ({made.id}).")


@app.command()
def rename(
    collection: CollectionArg,
    new_name: Annotated[str, typer.Argument(help="Its new name.")],
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Rename a collection."""
    with connected(url, api_key, db) as client:
        renamed = client.collections.update(name=new_name, collection_id=_find(client, collection).id)
    if as_json:
        emit_json(renamed)
    else:
        err.print(f"Renamed {collection!r} to {renamed.name!r} ({renamed.id}).")


@app.command()
def delete(
    collection: CollectionArg,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    db: DbOption = None,
) -> None:
    """Delete a collection (its members stay in the catalog)."""
    with connected(url, api_key, db) as client:
        target = _find(client, collection)
        client.collections.delete(target.id)
    err.print(f"Deleted collection {target.name!r} ({target.id}).")
