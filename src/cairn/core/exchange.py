"""Workspace export and import as JSON Lines.

Each line is ``{"kind": ..., "data": {...}}`` where ``data`` is the object exactly as the API
returns it; a line without ``kind`` is a resource. Integrations come first, then resources
with every parent before its children. Import validates each line like the API does, reports
bad lines by number, and lets the good ones land.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from multiprocessing.pool import AsyncResult
from typing import Any, NamedTuple

import orjson
from pydantic import ValidationError
from sqlalchemy import Connection, bindparam, func, literal, select, update
from sqlalchemy.exc import IntegrityError

from cairn.core import collections, visibility
from cairn.core.errors import CairnError, InvalidInput
from cairn.core.hierarchy import PATH_KEYS, title_full
from cairn.core.integrations import IntegrationService, to_integration
from cairn.core.principal import Principal
from cairn.core.resources import ParentInfo, ResourceService, _valid_id, placement
from cairn.models.integrations import IntegrationCreate
from cairn.models.resources import LIST_FIELDS, ResourceWrite
from cairn.store import Store, deferred_indexes, maintenance
from cairn.store import resources as repo
from cairn.store.engine import SQLITE_MMAP_BYTES
from cairn.store.schema import collection, integration, resource, resource_member, search_doc

# An import of at least this many resources ends with fresh planner statistics and a merged
# text index (both cost about a second a table at 1M; smaller imports leave them to later ones).
ANALYZE_AFTER = 10_000

BATCH = 50_000  # lines per write transaction: larger batches rewrite fewer index pages
CHUNK = 1_000  # lines per worker task
KNOWN_IDS_LIMIT = 200_000
# An import of at least a batch into a database with fewer resources than this builds the
# secondary indexes once at the end instead of row by row (store/deferred_indexes.py): rebuilding
# what was there costs next to nothing, and readers of a nearly empty catalog lose little.
DEFER_INDEXES_BELOW = 10_000
UNIQUE_ID_INDEX = "uq_resource_workspace_id"
IMPORT_MMAP_BYTES = 4 << 30
# Filled in once the parent is known (and ``pk`` once the batch is inserted).
_PLACED = (
    "pk",
    "id",
    "entity_type",
    "parent_id",
    "integration_id",
    "title_full",
    "search_metadata",
    "children_count",
)
# Leaf-heavy types are not cached as parents; a nested column's parent is looked up instead.
_UNCACHED_PARENTS = frozenset({"column"})


def export_workspace(store: Store, principal: Principal) -> Iterator[dict[str, Any]]:
    permissions = principal.permissions()
    with store.read() as conn:
        for row in conn.execute(
            select(integration)
            .where(integration.c.workspace_id == principal.workspace_id)
            .order_by(integration.c.pk)
        ):
            yield {"kind": "integration", "data": to_integration(row)}
        for row in _resources_parents_first(conn, principal):
            entity = repo.to_entity(row, permissions)
            visibility.redact(conn, principal, [entity])
            yield {"kind": "resource", "data": entity}
        for record in collections.CollectionService(store).list(principal, conn=conn):
            yield {
                "kind": "collection",
                "data": {
                    "id": record.id,
                    "name": record.name,
                    "codename": record.codename,
                    "external_id": record.external_id,
                    "position": record.position,
                    "collection_type": record.collection_type,
                    "tags": record.labels,
                },
            }


def _resources_parents_first(conn: Connection, principal: Principal) -> Iterator[Any]:
    """Every resource the caller may see; an admin's export is a backup, so it keeps deletions."""
    workspace_id = principal.workspace_id
    r = resource.c
    tree = (
        select(r.pk, literal(0).label("depth"))
        .where(r.workspace_id == workspace_id, r.parent_id.is_(None))
        .cte("tree", recursive=True)
    )
    child = resource.alias("child")
    tree = tree.union_all(
        select(child.c.pk, (tree.c.depth + 1).label("depth"))
        .join(resource, resource.c.pk == tree.c.pk)
        .where(child.c.workspace_id == workspace_id, child.c.parent_id == resource.c.id)
    )
    stmt = (
        select(resource)
        .join(tree, tree.c.pk == r.pk)
        .where(visibility.resource_clause(principal, include_archived=principal.is_admin, include_stale=True))
        .order_by(tree.c.depth, r.pk)
    )
    yield from conn.execution_options(yield_per=BATCH).execute(stmt)


@dataclass
class ImportReport:
    created: Counter[str] = field(default_factory=Counter)
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.created.values())


def parse_timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return _parse_text(value)


@lru_cache(maxsize=4096)
def _parse_text(value: str) -> datetime | None:
    # Cached: an export stamps most lines with a few instants (datetimes are immutable).
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_STAMPS = ("created_at", "updated_at", "archived_at", "stale_at", "multiplayer_last_modified")


# Named tuples, not dataclasses: thousands cross the process boundary per batch, and a tuple
# unpickles three times faster.
class _Prepared(NamedTuple):
    """A resource line validated by a worker: its row as insert parameters, without the columns
    that depend on its parent (those are filled in order, once the parent is known)."""

    number: int
    id: str
    kind: str
    title: str
    parent: str | None
    integration: str | None
    collections: list[str] | None
    own_metadata: dict[str, Any] | None
    archived: bool
    params: list[Any]
    members: list[tuple[str, str]]


class _Line(NamedTuple):
    """A line the importer handles itself, in order (integrations, collections)."""

    number: int
    kind: str
    data: dict[str, Any]


class _Bad(NamedTuple):
    number: int
    message: str


_Item = _Prepared | _Line | _Bad


_Chunk = tuple[int, list[bytes | str]]  # the number of its first line, and the lines


def _prepare_lines(workspace_id: str, dialect: str, chunk: _Chunk) -> list[_Item]:
    """Parse and validate lines like the API does (runs in worker processes: no database)."""
    layout = repo.BulkLayout.of(resource, dialect)
    out: list[_Item] = []
    first, lines = chunk
    for number, raw in enumerate(lines, start=first):
        if not raw.strip():
            continue
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            out.append(_Bad(number, f"not valid JSON: {exc}"))
            continue
        if not isinstance(parsed, dict):
            out.append(_Bad(number, "a line must be a JSON object"))
            continue
        kind = parsed.get("kind", "resource")
        data = parsed.get("data", parsed if "kind" not in parsed else None)
        if not isinstance(data, dict):
            out.append(_Bad(number, "'data' must be a JSON object"))
            continue
        if (
            kind != "resource"
            or data.get("id") == collections.DEFAULT_COLLECTION_ID
            or data.get("entity_type") == "collection"
        ):
            out.append(_Line(number, kind, data))  # rare: the importer handles these lines itself
            continue
        try:
            out.append(_prepare_resource(number, workspace_id, data, layout))
        except ValidationError as exc:
            out.append(_Bad(number, _validation_message(exc)))
        except CairnError as exc:
            out.append(_Bad(number, exc.message))
    return out


def _validation_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "data"
    return f"{where}: {first.get('msg')}"


def _prepare_resource(
    number: int, workspace_id: str, data: dict[str, Any], layout: repo.BulkLayout
) -> _Prepared:
    resource_id = data.get("id")
    if resource_id is not None and (not isinstance(resource_id, str) or not _valid_id(resource_id)):
        raise InvalidInput("id must be a UUID")
    body = ResourceWrite.model_validate(data)
    kind = ResourceService.requested_type(body, None)
    stamps = {name: parse_timestamp(data.get(name)) for name in _STAMPS}
    row = ResourceService.unplaced_row(workspace_id, body, kind, resource_id=resource_id, timestamps=stamps)
    row["definition_version"] = max(1, int(data.get("definition_version") or 1))
    if isinstance(data.get("multiplayer_last_modified_by"), str):
        row["multiplayer_last_modified_by"] = data["multiplayer_last_modified_by"][:36]
    members = [(name, value) for name in LIST_FIELDS for value in row[name]]
    return _Prepared(
        number,
        row["id"],
        kind,
        row["title"],
        body.parent,
        body.integration,
        body.collections,
        body.search_metadata,
        row["archived"],
        layout.params(row),
        members,
    )


def _prepare_chunk(args: tuple[str, str, _Chunk]) -> list[_Item]:
    return _prepare_lines(*args)


class _Pool:
    """Worker processes that validate chunks of lines ahead of the writer, results in order.

    At most ``window`` chunks are in flight, so a large file is never read into memory whole.
    """

    def __init__(self, workers: int, window: int) -> None:
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        self._pool = multiprocessing.get_context(method).Pool(workers)
        self._window = window
        self._queue: deque[AsyncResult[list[_Item]]] = deque()

    def submit(self, args: tuple[str, str, _Chunk]) -> Iterator[list[_Item]]:
        self._queue.append(self._pool.apply_async(_prepare_chunk, (args,)))
        while len(self._queue) > self._window:
            yield self._queue.popleft().get()

    def drain(self) -> Iterator[list[_Item]]:
        while self._queue:
            yield self._queue.popleft().get()

    def close(self) -> None:
        self._pool.terminate()
        self._pool.join()


@dataclass
class _Batch:
    """What one write transaction collects before its insert."""

    existing: set[str]
    rows: list[list[Any]] = field(default_factory=list)
    members: list[list[tuple[str, str]]] = field(default_factory=list)
    # id -> (its insert parameters, what a child needs from it) for the rows of this batch
    pending: dict[str, tuple[list[Any], ParentInfo | None]] = field(default_factory=dict)
    children: Counter[str] = field(default_factory=Counter)
    collection_rows: list[dict[str, Any]] = field(default_factory=list)
    collection_lines: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def default_workers() -> int:
    """Validation workers beside the writer: one per core, at most two (the writer is the limit)."""
    return max(1, min(2, os.cpu_count() or 1))


class Importer:
    """Streams lines into a workspace in batches, one write transaction per batch.

    Worker processes parse and validate lines (the pure part); this process places each row
    under its parent (in file order, from an in-memory map of the parents seen so far), checks
    what needs the database, and inserts each batch with one ``executemany``.
    """

    def __init__(
        self,
        store: Store,
        principal: Principal,
        *,
        batch_size: int = BATCH,
        workers: int | None = None,
        chunk_size: int = CHUNK,
    ) -> None:
        principal.require_write()
        if batch_size < 1:
            raise InvalidInput("batch size must be 1 or more", field="batch_size")
        self.store = store
        self.principal = principal
        self.batch_size = batch_size
        self.chunk_size = max(1, chunk_size)
        self.workers = default_workers() if workers is None else workers
        self.resources = ResourceService(store)
        self.integrations = IntegrationService(store)
        self.report = ImportReport()
        self._layout = repo.BulkLayout.of(resource, store.dialect)
        self._at = {name: self._layout.index[name] for name in _PLACED}
        self._parents: dict[str, ParentInfo] = {}
        self._new_collections: set[str] = set()
        # Every id of the workspace, while it is small enough to hold (a new catalog): then a
        # duplicate is found in memory instead of by one index probe per line.
        self._known_ids: set[str] | None = None
        self._integration_ids: set[str] | None = None
        self._analyzed_at = 1000
        self._indexes_decided = False
        # (parent id, kind, integration) -> what such a child inherits (see ``_place``)
        self._inherited: dict[tuple[str, str, str | None], tuple[str | None, dict[str, Any], str]] = {}
        self._deferred: list[str] = []
        # While the unique id index is deferred: the largest pk this import has accounted for
        # (rows above it were added by other writers, whose ids it must learn before inserting).
        self._seen_pk: int | None = None
        # The pk of every cached parent once inserted: children counts of parents in earlier
        # batches are updated by key, which needs no index on ids.
        self._pks: dict[str, int] = {}
        self._lock = ExitStack()

    def run(
        self, lines: Iterable[str | bytes], progress: Callable[[int], None] | None = None
    ) -> ImportReport:
        if self.store.dialect == "sqlite":
            # A bulk load touches index pages all over the file; a larger page cache for this
            # connection keeps the random UUID index inserts from thrashing, and the whole file
            # mapped saves a copy of every page each CREATE INDEX scan reads (the server's own
            # connections keep the smaller map; this one gets it back when the import ends).
            with self.store.write() as conn:
                conn.exec_driver_sql("PRAGMA cache_size=-262144")
                conn.exec_driver_sql(f"PRAGMA mmap_size={IMPORT_MMAP_BYTES}")
        try:
            return self._run(lines, progress)
        finally:
            if self.store.dialect == "sqlite":
                with self.store.write() as conn:
                    conn.exec_driver_sql(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")

    def _run(self, lines: Iterable[str | bytes], progress: Callable[[int], None] | None) -> ImportReport:
        with self.store.read() as conn:
            self._known_ids = repo.all_ids_up_to(conn, self.principal.workspace_id, KNOWN_IDS_LIMIT)
        pool: _Pool | None = None
        batch: list[_Item] = []
        # A bulk load allocates millions of short-lived containers and creates no cycles worth
        # collecting: the collector's passes over the parent map cost about 8% of the writer.
        collecting = gc.isenabled()
        gc.disable()

        def take(items: list[_Item]) -> None:
            nonlocal batch
            for item in items:
                if isinstance(item, _Bad):
                    self.report.errors.append((item.number, item.message))
                    continue
                batch.append(item)
                if len(batch) >= self.batch_size:
                    if not self._indexes_decided:
                        self._defer_indexes()
                    self._flush(batch)
                    self._refresh_statistics()
                    if progress:
                        progress(len(batch))
                    batch = []

        try:
            for number, chunk in enumerate(self._chunks(lines, self.chunk_size)):
                args = (self.principal.workspace_id, self.store.dialect, chunk)
                if number == 0 or self.workers == 0:
                    take(_prepare_lines(*args))  # small imports never start a pool
                    continue
                if pool is None:
                    # Room for a whole batch ahead, so workers keep going while a batch is written.
                    window = self.batch_size // self.chunk_size + 2 * self.workers + 2
                    pool = _Pool(self.workers, window=window)
                for items in pool.submit(args):
                    take(items)
            if pool is not None:
                for items in pool.drain():
                    take(items)
            if batch:
                self._flush(batch)
                if progress:
                    progress(len(batch))
        finally:
            if pool is not None:
                pool.close()
            if collecting:
                gc.enable()
            with self._lock:
                if self._deferred:
                    # Also when the import fails half-way: the batches that landed are indexed
                    # now, not at the next start.
                    with deferred_indexes.sorting_threads(self.store), self.store.write() as conn:
                        deferred_indexes.restore(conn)
        if self.report.total >= ANALYZE_AFTER:
            # Fresh statistics let the planner pick the narrow indexes after a bulk load, and
            # one text index segment makes every term lookup one seek.
            with self.store.write() as conn:
                maintenance.refresh(conn)
        self.report.errors.sort(key=lambda error: error[0])
        return self.report

    def _defer_indexes(self) -> None:
        """Before the first full batch: into a (nearly) empty SQLite database, drop the secondary
        indexes of the tables the import fills; ``run`` builds them when it ends."""
        self._indexes_decided = True
        if self.store.dialect != "sqlite":
            return
        # Held from before the drop until the build: a start meanwhile leaves the build to us.
        self._lock.enter_context(deferred_indexes.import_lock(self.store))
        with self.store.write() as conn:
            held = conn.execute(
                select(func.count()).select_from(select(resource.c.pk).limit(DEFER_INDEXES_BELOW).subquery())
            ).scalar_one()
            if held < DEFER_INDEXES_BELOW:
                # The unique id index too when every id of the workspace is in memory to check
                # against (that is how a new catalog starts): its random-UUID inserts were the
                # largest cost left per row. Read again under the write lock, with the largest pk,
                # so that nobody else's row slips between the two.
                unique: tuple[str, ...] = ()
                if self._known_ids is not None:
                    known = repo.all_ids_up_to(conn, self.principal.workspace_id, KNOWN_IDS_LIMIT)
                    if known is not None:
                        self._known_ids = known
                        self._seen_pk = repo.allocate_pks(conn, 1)[0] - 1
                        unique = (UNIQUE_ID_INDEX,)
                # search_doc too: its title-key index takes each row at a random place, and the
                # pages it dirties made every commit rewrite most of it.
                tables = (resource.name, resource_member.name, search_doc.name)
                self._deferred = deferred_indexes.defer(conn, tables, unique)
                if UNIQUE_ID_INDEX not in self._deferred:
                    self._seen_pk = None
        if not self._deferred:
            self._lock.close()

    @staticmethod
    def _chunks(lines: Iterable[str | bytes], size: int) -> Iterator[_Chunk]:
        first = 1
        chunk: list[bytes | str] = []
        for raw in lines:
            chunk.append(raw)
            if len(chunk) >= size:
                yield first, chunk
                first += len(chunk)
                chunk = []
        if chunk:
            yield first, chunk

    def _refresh_statistics(self) -> None:
        """PostgreSQL plans a growing table from its last statistics: without a fresh ANALYZE the
        id lookups of a bulk load turn into sequential scans. Refresh them as the table doubles."""
        if self.store.dialect != "postgresql" or self.report.total < self._analyzed_at * 2:
            return
        with self.store.write() as conn:
            conn.exec_driver_sql("ANALYZE resource")
            conn.exec_driver_sql("ANALYZE resource_member")
        self._analyzed_at = max(self.report.total, 1)

    def _flush(self, batch: list[_Item]) -> None:
        if self._known_ids is None:
            self._write(batch)
            return
        errors, created = len(self.report.errors), self.report.created.copy()
        parents, collection_ids = len(self._parents), set(self._new_collections)
        pks, seen_pk = len(self._pks), self._seen_pk
        integration_ids = None if self._integration_ids is None else set(self._integration_ids)
        try:
            added = self._write(batch)
        except IntegrityError:
            # Another writer added a resource with an id of this file since the import started:
            # forget what this batch did and check ids against the database from now on.
            del self.report.errors[errors:]
            self.report.created = created
            for key in list(self._parents)[parents:]:
                del self._parents[key]
            for key in list(self._pks)[pks:]:
                del self._pks[key]
            self._seen_pk = seen_pk
            self._new_collections = collection_ids
            self._integration_ids = integration_ids
            self._known_ids = None
            self._write(batch)
            return
        self._known_ids.update(added)

    def _write(self, batch: list[_Item]) -> Iterable[str]:
        """One write transaction for a batch; returns the ids it added."""
        ws = self.principal.workspace_id
        with self.store.write() as conn:
            if self._seen_pk is not None and self._known_ids is not None:
                # Without the unique index nothing else refuses a duplicate of an id another
                # writer added meanwhile (its pk is above ours): learn those ids first.
                self._known_ids.update(
                    conn.execute(
                        select(resource.c.id).where(
                            resource.c.pk > self._seen_pk, resource.c.workspace_id == ws
                        )
                    ).scalars()
                )
            if self._known_ids is not None:
                existing = self._known_ids
            else:
                claimed = [item.id for item in batch if isinstance(item, _Prepared)]
                claimed += [
                    item.data["id"]
                    for item in batch
                    if isinstance(item, _Line)
                    and item.kind == "resource"
                    and isinstance(item.data.get("id"), str)
                ]
                existing = repo.existing_resource_ids(conn, ws, claimed)
            state = _Batch(existing)
            for item in batch:
                try:
                    if isinstance(item, _Prepared):
                        self._place(conn, item, state)
                    elif isinstance(item, _Line):
                        self._line(conn, item, state)
                except ValidationError as exc:
                    self.report.errors.append((item.number, _validation_message(exc)))
                except CairnError as exc:
                    self.report.errors.append((item.number, exc.message))
            if self._seen_pk is not None:
                with deferred_indexes.unguarded(conn):
                    repo.insert_params(conn, state.rows, state.members, ws, self._pks)
                self._seen_pk = repo.allocate_pks(conn, 1)[0] - 1
            else:
                repo.insert_params(conn, state.rows, state.members, ws, self._pks)
            pk_at = self._at["pk"]
            for rid, (params, info) in state.pending.items():
                if info is not None:
                    self._pks[rid] = params[pk_at]
            for row in state.collection_rows:
                row["pk"] = state.pending[row["id"]][0][pk_at]
                collections.attach(conn, ws, row)
            for number, data in state.collection_lines:
                try:
                    self._collection_details(conn, data)
                except CairnError as exc:
                    self.report.errors.append((number, exc.message))
            self.report.created["resource"] += len(state.rows)
            by_pk = [{"key": self._pks[pid], "n": n} for pid, n in state.children.items() if pid in self._pks]
            by_id = [{"pid": pid, "n": n} for pid, n in state.children.items() if pid not in self._pks]
            if by_pk:
                conn.execute(
                    update(resource)
                    .where(resource.c.pk == bindparam("key"))
                    .values(children_count=resource.c.children_count + bindparam("n")),
                    by_pk,
                )
            if by_id:
                conn.execute(
                    update(resource)
                    .where(resource.c.workspace_id == ws, resource.c.id == bindparam("pid"))
                    .values(children_count=resource.c.children_count + bindparam("n")),
                    by_id,
                )
        return state.pending.keys()

    def _add(
        self,
        state: _Batch,
        params: list[Any],
        members: list[tuple[str, str]],
        info: ParentInfo | None,
        archived: bool,
    ) -> None:
        state.rows.append(params)
        state.members.append(members)
        state.pending[info.id if info else params[self._at["id"]]] = (params, info)
        parent_id = params[self._at["parent_id"]]
        if parent_id is not None and not archived:
            # Counted on the parent's own row when it is in this batch; one UPDATE per parent
            # of an earlier batch.
            parent_row = state.pending.get(parent_id)
            if parent_row is not None:
                parent_row[0][self._at["children_count"]] += 1
            else:
                state.children[parent_id] += 1

    def _line(self, conn: Connection, item: _Line, state: _Batch) -> None:
        kind, data = item.kind, item.data
        if kind == "integration":
            self._integration(conn, data)
            self.report.created["integration"] += 1
        elif kind == "collection":
            state.collection_lines.append((item.number, data))
            self.report.created["collection"] += 1
        elif kind == "resource" and data.get("id") == collections.DEFAULT_COLLECTION_ID:
            self._default_collection(conn, data)
            self.report.created["resource"] += 1
        elif kind == "resource":
            row = self._resource(conn, data, state)
            state.collection_rows.append(row)
            members = [(name, value) for name in LIST_FIELDS for value in row[name]]
            self._add(state, self._layout.params(row), members, None, row["archived"])
        else:
            raise InvalidInput(f"unknown kind {kind!r}")

    def _place(self, conn: Connection, item: _Prepared, state: _Batch) -> None:
        """Check what a worker could not (parent, integration, collections, duplicates) and
        fill in the columns that come from the parent."""
        parent = self._find_parent(conn, item.parent, state)
        if item.integration is not None or item.collections:
            self._check_refs(conn, item.integration, item.collections)
        if item.id in state.existing or item.id in self._parents or item.id in state.pending:
            raise InvalidInput(f"a resource with id {item.id} already exists")
        kind = item.kind
        params = item.params
        at = self._at
        if parent is not None and not item.own_metadata and kind not in PATH_KEYS:
            # Siblings of one kind inherit the same metadata (a table's columns): derive and
            # encode it once per parent instead of once per row.
            key = (parent.id, kind, item.integration)
            inherited = self._inherited.get(key)
            if inherited is None:
                if len(self._inherited) >= KNOWN_IDS_LIMIT:
                    self._inherited.clear()
                place = placement(kind, item.title, parent, item.integration, None)
                inherited = (
                    place.integration_id,
                    place.search_metadata,
                    orjson.dumps(place.search_metadata).decode(),
                )
                self._inherited[key] = inherited
            integration_id, metadata, metadata_json = inherited
            full = title_full(item.title, parent.title_full)
        else:
            place = placement(kind, item.title, parent, item.integration, item.own_metadata)
            integration_id, metadata, full = place.integration_id, place.search_metadata, place.title_full
            metadata_json = orjson.dumps(metadata).decode()
        params[at["parent_id"]] = parent.id if parent is not None else None
        params[at["integration_id"]] = integration_id
        params[at["title_full"]] = full
        params[at["search_metadata"]] = metadata_json
        params[at["children_count"]] = 0  # counted below, as its children are placed
        if kind in _UNCACHED_PARENTS:
            # Rarely a parent (a nested column): built from its row if a child asks.
            self._add(state, params, item.members, None, item.archived)
            return
        info = ParentInfo(item.id, kind, full, metadata, integration_id)
        self._parents[item.id] = info
        self._add(state, params, item.members, info, item.archived)

    def _find_parent(
        self,
        conn: Connection,
        parent_id: str | None,
        state: _Batch,
    ) -> ParentInfo | None:
        if parent_id is None:
            return None
        parent = self._parents.get(parent_id)
        if parent is None and parent_id in state.pending:
            params, parent = state.pending[parent_id]
            if parent is None:
                at = self._at
                parent = ParentInfo(
                    parent_id,
                    params[at["entity_type"]],
                    params[at["title_full"]],
                    orjson.loads(params[at["search_metadata"]]),
                    params[at["integration_id"]],
                )
        if parent is None and _valid_id(parent_id):
            row = repo.get_row(conn, self.principal.workspace_id, parent_id)
            parent = ParentInfo.of(row) if row is not None else None
        if parent is None:
            raise InvalidInput(f"parent {parent_id} does not exist (parents must come before children)")
        return parent

    def _check_refs(self, conn: Connection, integration_id: str | None, ids: list[str] | None) -> None:
        if integration_id is not None and integration_id not in self._known_integrations(conn):
            raise InvalidInput(f"integration {integration_id} does not exist")
        if ids:
            stored = [c for c in ids if c not in self._new_collections]
            self.resources._check_collections(conn, self.principal.workspace_id, stored)

    def _resource(
        self,
        conn: Connection,
        data: dict[str, Any],
        state: _Batch,
    ) -> dict[str, Any]:
        """A collection line of kind ``resource`` (rare; it needs its collection row too)."""
        resource_id = data.get("id")
        if resource_id is not None and (not isinstance(resource_id, str) or not _valid_id(resource_id)):
            raise InvalidInput("id must be a UUID")
        body = ResourceWrite.model_validate(data)
        kind = self.resources.requested_type(body, None)
        parent = self._find_parent(conn, body.parent, state)
        self._check_refs(conn, body.integration, body.collections)
        if resource_id is not None and (
            resource_id in self._parents or resource_id in state.pending or resource_id in state.existing
        ):
            raise InvalidInput(f"a resource with id {resource_id} already exists")
        stamps = {name: parse_timestamp(data.get(name)) for name in _STAMPS}
        row = self.resources.new_row(
            self.principal.workspace_id, body, kind, parent, resource_id=resource_id, timestamps=stamps
        )
        row["definition_version"] = max(1, int(data.get("definition_version") or 1))
        if isinstance(data.get("multiplayer_last_modified_by"), str):
            row["multiplayer_last_modified_by"] = data["multiplayer_last_modified_by"][:36]
        self._parents[row["id"]] = ParentInfo(
            row["id"], kind, row["title_full"], row["search_metadata"], row["integration_id"]
        )
        self._new_collections.add(row["id"])
        return row

    def _integration(self, conn: Connection, data: dict[str, Any]) -> None:
        integration_id = data.get("id")
        if not isinstance(integration_id, str) or not _valid_id(integration_id):
            raise InvalidInput("integration id must be a UUID")
        exists = conn.execute(
            select(integration.c.pk).where(
                integration.c.workspace_id == self.principal.workspace_id, integration.c.id == integration_id
            )
        ).first()
        if exists:
            raise InvalidInput(f"integration {integration_id} already exists")
        body = IntegrationCreate.model_validate(data)
        self.integrations.create_in(conn, self.principal, body, integration_id=integration_id)
        self._known_integrations(conn).add(integration_id)

    def _default_collection(self, conn: Connection, data: dict[str, Any]) -> None:
        """Every workspace has the Default collection already: take over its name and text."""
        body = ResourceWrite.model_validate(
            {k: data[k] for k in ("title", "description", "icon") if k in data}
        )
        self.resources.update_in(conn, self.principal, collections.DEFAULT_COLLECTION_ID, body)

    def _collection_details(self, conn: Connection, data: dict[str, Any]) -> None:
        """A ``collection`` line restores what the resource line cannot carry."""
        collection_id = data.get("id")
        row = (
            isinstance(collection_id, str)
            and _valid_id(collection_id)
            and repo.get_row(conn, self.principal.workspace_id, collection_id)
        )
        if not row or row.entity_type != "collection":
            raise InvalidInput(
                f"collection {collection_id} does not exist (its resource line must come first)"
            )
        codename = collections.check_codename(data.get("codename"))
        external_id = data.get("external_id")
        if external_id is not None:
            collections.check_external_id(external_id)
        labels = data.get("tags") or []
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise InvalidInput("tags must be a list of strings")
        position = data.get("position")
        values: dict[str, Any] = {
            "codename": codename,
            "external_id": external_id,
            "collection_type": data.get("collection_type")
            if data.get("collection_type") in ("model", "dataset")
            else None,
            "labels": labels,
        }
        if isinstance(position, int) and not isinstance(position, bool):
            values["position"] = position
        try:
            with conn.begin_nested():
                conn.execute(update(collection).where(collection.c.resource_pk == row.pk).values(**values))
        except IntegrityError as exc:
            raise InvalidInput(
                f"codename or external_id of collection {collection_id} is already used"
            ) from exc

    def _known_integrations(self, conn: Connection) -> set[str]:
        if self._integration_ids is None:
            self._integration_ids = set(
                conn.execute(
                    select(integration.c.id).where(integration.c.workspace_id == self.principal.workspace_id)
                ).scalars()
            )
        return self._integration_ids
