"""Reading the catalog from the shell: ``cairn get``, ``cairn ls``, ``cairn search``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.table import Table

from cairn.cli.connect import ApiKeyOption, DbOption, JsonOption, UrlOption, connected, emit_json, fail, out

if TYPE_CHECKING:
    from rich.tree import Tree

    from cairn.models.graph import Direction, GraphNode, LineageGraph
    from cairn.models.integrations import Integration
    from cairn.models.resources import Resource
    from cairn.models.search import SearchHit
    from cairn.sdk import Client, Page

T = TypeVar("T")
LimitOption = Annotated[int, typer.Option("--limit", "-n", min=1, max=10_000, help="Show at most this many.")]

SHOWN_FIELDS = (
    "id",
    "entity_type",
    "native_type",
    "title_full",
    "description",
    "parent",
    "integration",
    "owners",
    "tags",
    "collections",
    "total_usage",
    "children_count",
    "published",
    "verified",
    "pii",
    "updated_at",
)


def listing(*headers: str) -> Table:
    """A borderless table whose names wrap rather than lose their ends, with ids always whole."""
    table = Table(box=None, pad_edge=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    table.add_column("id", no_wrap=True, min_width=36)
    return table


def register(app: typer.Typer) -> None:
    app.command("get")(get)
    app.command("ls")(ls)
    app.command("search")(search)
    app.command("lineage")(lineage)


def get(
    resource_id: Annotated[str, typer.Argument(help="The resource's id.")],
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one resource."""
    with connected(url, api_key, db) as client:
        found = client.resources.get(resource_id)
    if as_json:
        emit_json(found)
        return
    table = Table(show_header=False, title=found.title or found.id, title_justify="left")
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for name in SHOWN_FIELDS:
        value = getattr(found, name)
        if value not in (None, [], ""):
            table.add_row(name, ", ".join(value) if isinstance(value, list) else str(value))
    out.print(table)


def ls(
    path: Annotated[
        str,
        typer.Argument(help="Integration, then titles down the hierarchy: warehouse/analytics/marts."),
    ] = "",
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    db: DbOption = None,
    limit: LimitOption = 200,
    as_json: JsonOption = False,
) -> None:
    """Browse the catalog like a file system: integrations, then databases, schemas, tables..."""
    from cairn.sdk import F, S

    parts = [p for p in path.strip("/").split("/") if p]
    with connected(url, api_key, db) as client:
        if not parts:
            integrations = client.integrations.list().to_list()
            loose = client.resources.list(
                filter=~F.parent.is_set() & ~F.integration.is_set(), sort=S.asc("title"), page_size=limit
            )
            entries = [_integration_row(i) for i in integrations] + [
                _resource_row(r) for r in _take(loose.pages(), limit)
            ]
        else:
            node, integration = _walk(client, parts)
            if node is None:
                assert integration is not None
                children = client.resources.list(
                    filter=(F.integration == integration.id) & ~F.parent.is_set(), sort=S.asc("title")
                )
            elif node.children_count == 0:
                children = None
            else:
                children = client.resources.list(filter=F.parent == node.id, sort=S.asc("title"))
            if children is None:
                assert node is not None
                entries = [_resource_row(node)]
            else:
                entries = [_resource_row(r) for r in _take(children.pages(), limit)]
    if as_json:
        emit_json([asdict(e) for e in entries])
        return
    table = listing("name", "type", "children")
    for e in entries:
        folder = e.children or e.type == "integration"
        table.add_row(f"{e.name}/" if folder else e.name, e.type, str(e.children or ""), e.id)
    out.print(table)


def _take(pages: Iterable[Page[Resource]], limit: int) -> list[Resource]:
    taken: list[Resource] = []
    for page in pages:
        taken.extend(page.items[: limit - len(taken)])
        if len(taken) >= limit:
            break
    return taken


def _walk(client: Client, parts: list[str]) -> tuple[Resource | None, Integration | None]:
    """The node a path names: an integration (then ``None``) or a resource, segment by segment."""
    from cairn.sdk import F

    first, rest = parts[0], parts[1:]
    integrations = client.integrations.list().to_list()
    integration = _named(integrations, first, lambda i: i.name)
    node: Resource | None = None
    if integration is None:
        roots = client.resources.list(filter=~F.parent.is_set() & (F.title == first)).to_list()
        node = _named(roots, first, lambda r: r.title or "")
        if node is None:
            fail(f"no integration or top-level resource named {first!r}")
    walked = [first]
    for segment in rest:
        if node is None:
            assert integration is not None
            scope = (F.integration == integration.id) & ~F.parent.is_set()
        else:
            scope = F.parent == node.id
        candidates = client.resources.list(filter=scope & F.title.contains(segment)).to_list()
        found = _named(candidates, segment, lambda r: r.title or "")
        if found is None:
            fail(f"nothing named {segment!r} in {'/'.join(walked)}")
        node = found
        walked.append(segment)
    return node, integration


def _named(items: list[T], name: str, key: Callable[[T], str]) -> T | None:
    """Exact name first, then the only case-insensitive match."""
    exact = [i for i in items if key(i) == name]
    if exact:
        return exact[0]
    folded = [i for i in items if key(i).casefold() == name.casefold()]
    return folded[0] if len(folded) == 1 else None


@dataclass(frozen=True)
class Entry:
    name: str
    type: str
    children: int | None
    id: str


def _integration_row(integration: Integration) -> Entry:
    return Entry(integration.name, "integration", None, integration.id)


def _resource_row(resource: Resource) -> Entry:
    return Entry(resource.title or resource.id, resource.entity_type, resource.children_count, resource.id)


def search(
    query: Annotated[str, typer.Argument(help="Words to look for (one typo is forgiven).")],
    entity_type: Annotated[str | None, typer.Option("--type", help="Only this entity type.")] = None,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    db: DbOption = None,
    limit: LimitOption = 20,
    as_json: JsonOption = False,
) -> None:
    """Search the catalog: best matches first (exact title, prefix, phrase...), popular ones higher."""
    with connected(url, api_key, db) as client:
        found: list[SearchHit] = []
        page, total = 1, ""
        while len(found) < limit:
            result = client.search.query(query, entity_type=entity_type, page=page, page_size=min(limit, 100))
            total = total or result.count_text()
            found.extend(result.results[: limit - len(found)])
            if page >= result.total_pages:
                break
            page += 1
    if as_json:
        emit_json(found)
        return
    table = listing("title", "type", "match")
    for hit in found:
        r = hit.resource
        table.add_row(r.get("title_full") or r.get("title") or "", r["entity_type"], hit.tier, r["id"])
    out.print(table)
    if not found:
        out.print(f"nothing matches {query!r}", style="dim")
    else:
        # "10,000+" past the server's counting limit.
        out.print(f"{len(found):,} of {total} matches", style="dim")


def lineage(
    resource_id: Annotated[str, typer.Argument(help="The resource's id.")],
    upstream: Annotated[bool, typer.Option("--upstream", help="Only what feeds it.")] = False,
    downstream: Annotated[bool, typer.Option("--downstream", help="Only what it feeds.")] = False,
    depth: Annotated[int, typer.Option("--depth", min=1, max=20, help="Hops to follow.")] = 3,
    columns: Annotated[bool, typer.Option("--columns", help="Column-level lineage.")] = False,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show what feeds a resource and what it feeds, as a tree."""
    from rich.tree import Tree

    direction: Direction = "both" if upstream == downstream else ("upstream" if upstream else "downstream")
    with connected(url, api_key, db) as client:
        graph = client.lineage.graph(
            resource_id, direction=direction, depth=depth, level="column" if columns else "table"
        )
    if as_json:
        emit_json(graph)
        return
    nodes = {n.id: n for n in graph.nodes}
    tree = Tree(_label(nodes, graph.root))
    for side in ("upstream", "downstream"):
        if direction in (side, "both"):
            branch = tree.add(f"[bold]{side}[/bold]")
            _grow(graph, nodes, branch, graph.root, side, {graph.root}, depth)
            if not branch.children:
                branch.add("[dim](none)[/dim]")
    if graph.truncated:
        tree.add("[yellow]... more (the node limit cut the graph short)[/yellow]")
    out.print(tree)


def _label(nodes: dict[str, GraphNode], node_id: str) -> str:
    from rich.markup import escape

    node = nodes.get(node_id)
    if node is None:
        return f"[dim]{node_id}[/dim]"
    return f"{escape(node.title or node.id)} [dim]{node.entity_type} {node.id}[/dim]"


def _grow(
    graph: LineageGraph,
    nodes: dict[str, GraphNode],
    branch: Tree,
    node_id: str,
    side: str,
    path: set[str],
    left: int,
) -> None:
    from cairn.sdk._lineage import downstream_of, upstream_of

    if left == 0:
        return
    following = upstream_of(graph, node_id) if side == "upstream" else downstream_of(graph, node_id)
    for other in sorted(set(following), key=lambda i: _label(nodes, i)):
        if other in path:  # a cycle: show it once, do not follow it
            branch.add(f"{_label(nodes, other)} [yellow](cycle)[/yellow]")
            continue
        child = branch.add(_label(nodes, other))
        _grow(graph, nodes, child, other, side, path | {other}, left - 1)
