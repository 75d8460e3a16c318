"""Metadata ingest for an integration: resources keyed by ``databuilder_id``.

One engine serves every source that describes a whole integration at once (the Secoda custom
integration upload in CSV or JSON Lines, dbt artifacts). The file is the truth for that
integration: a record creates or updates the resource with its ``databuilder_id``, resources of
the integration that the file no longer names become stale, and a record that matches the stored
state changes nothing. Everything is validated before anything is written, and the write is one
transaction, so a bad line leaves the catalog as it was.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import ConfigDict, Field, ValidationError
from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from cairn.core import audit
from cairn.core.errors import InvalidInput, NotFound
from cairn.core.hierarchy import (
    ALLOWED_PARENTS,
    PARENT_REQUIRED,
    camel_case,
    canonical_type,
    derive_search_metadata,
    title_full,
)
from cairn.core.lineage import MAX_EDGES_PER_CALL, EdgeSpec, LineageService
from cairn.core.principal import Principal
from cairn.core.records import valid_id
from cairn.models.common import InputModel, ShortText, Text, utc_now
from cairn.models.resources import LIST_FIELDS, EntityTypeName
from cairn.store import Store
from cairn.store import resources as repo
from cairn.store.schema import ingest_state, integration, lineage_edge, resource, resource_detail

R = resource.c
D = resource_detail.c
S = ingest_state.c
_CHUNK = 500

# Parents the Secoda file format names by title instead of by databuilder id (a table's
# ``database`` and ``schema``, a dashboard's ``group``) are made as resources of their own under
# these reserved ids, so they can never collide with an id a file declares.
SYNTHETIC_PREFIX = "cairn:"
# Fields a record carries that are not resource columns; shown on the entity (its details).
DETAIL_FIELDS = ("sort_order", "is_pk", "hidden", "product")


class MetadataResource(InputModel):
    """One resource line of a custom-integration metadata file (Secoda's documented fields)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    entity_type: EntityTypeName
    databuilder_id: ShortText = Field(min_length=1)
    parent_databuilder_id: ShortText | None = None
    title: ShortText | None = None
    description: Text | None = None
    definition: Text | None = None
    external_updated_at: datetime | None = None
    native_type: ShortText | None = None
    sort_order: int | None = None
    type: ShortText | None = None
    is_pk: bool | None = None
    hidden: bool | None = None
    schema_name: ShortText | None = Field(default=None, alias="schema")
    database: ShortText | None = None
    group: ShortText | None = None
    product: ShortText | None = None


class MetadataLineage(InputModel):
    from_databuilder_id: ShortText = Field(min_length=1)
    to_databuilder_id: ShortText = Field(min_length=1)


@dataclass
class Record:
    """A validated resource to ingest (from a file line or built by a connector)."""

    entity_type: str
    databuilder_id: str
    title: str
    parent_databuilder_id: str | None = None
    description: str | None = None
    definition: str | None = None
    native_type: str | None = None
    external_updated_at: datetime | None = None
    details: dict[str, Any] = field(default_factory=dict)
    search_metadata: dict[str, Any] = field(default_factory=dict)
    where: str = ""  # what to name in an error ("resources_file line 3")


@dataclass(frozen=True)
class Link:
    """A lineage edge between two databuilder ids of the same integration."""

    upstream: str
    downstream: str
    where: str = ""


@dataclass
class IngestResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    lineage: int = 0
    ids: dict[str, str] = field(default_factory=dict)  # databuilder id -> resource id

    def summary(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "stale": self.stale,
            "lineage": self.lineage,
        }


# ---- parsing -----------------------------------------------------------------------------------


def _problem(where: str, exc: ValidationError) -> InvalidInput:
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first.get("loc", ())) or "line"
    return InvalidInput(f"{where}: {loc}: {first.get('msg')}", field=where.split(" ")[0])


def _lines(data: bytes, name: str) -> Iterator[tuple[int, bytes]]:
    for number, raw in enumerate(data.splitlines(), start=1):
        if raw.strip():
            yield number, raw


def parse_resources_jsonl(data: bytes, name: str = "resources_file") -> list[Record]:
    records: list[Record] = []
    validate = MetadataResource.model_validate_json
    for number, raw in _lines(data, name):
        where = f"{name} line {number}"
        try:
            records.append(to_record(validate(raw), where))
        except ValidationError as exc:
            raise _problem(where, exc) from exc
    return records


def parse_lineages_jsonl(data: bytes, name: str = "lineages_file") -> list[Link]:
    links: list[Link] = []
    for number, raw in _lines(data, name):
        where = f"{name} line {number}"
        try:
            line = MetadataLineage.model_validate_json(raw)
        except ValidationError as exc:
            raise _problem(where, exc) from exc
        links.append(Link(line.from_databuilder_id, line.to_databuilder_id, where))
    return links


_CSV_BOOLEANS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


def parse_resources_csv(data: bytes, name: str = "file") -> list[Record]:
    """A CSV with a header row naming the same fields as the JSON Lines format."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{name} must be UTF-8 text", field=name) from exc
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "databuilder_id" not in reader.fieldnames:
        raise InvalidInput(
            f"{name} needs a header row with at least entity_type and databuilder_id", field=name
        )
    records: list[Record] = []
    try:
        for row in reader:
            where = f"{name} line {reader.line_num}"
            cleaned: dict[str, Any] = {}
            for key, value in row.items():
                if key is None or value is None or value == "":
                    continue
                if key in ("is_pk", "hidden"):
                    cleaned[key] = _CSV_BOOLEANS.get(value.strip().lower(), value)
                else:
                    cleaned[key] = value
            try:
                records.append(to_record(MetadataResource.model_validate(cleaned), where))
            except ValidationError as exc:
                raise _problem(where, exc) from exc
    except csv.Error as exc:
        raise InvalidInput(f"{name} is not valid CSV: {exc}", field=name) from exc
    return records


def to_record(line: MetadataResource, where: str) -> Record:
    kind = canonical_type(line.entity_type)
    details = {k: getattr(line, k) for k in DETAIL_FIELDS if getattr(line, k) is not None}
    metadata: dict[str, Any] = {}
    parent = line.parent_databuilder_id
    if kind == "table" and line.database and line.schema_name and parent is None:
        parent = synthetic_id("schema", f"{line.database}.{line.schema_name}")
    if kind == "dashboard" and line.group and parent is None:
        parent = synthetic_id("dashboard_group", line.group)
    if line.schema_name:
        metadata["schema"] = line.schema_name
    if line.database:
        metadata["database"] = line.database
    return Record(
        entity_type=kind,
        databuilder_id=line.databuilder_id,
        # Secoda's format makes the title optional; the last part of the id is what it names.
        title=line.title or line.databuilder_id.rsplit(".", 1)[-1],
        parent_databuilder_id=parent,
        description=line.description,
        definition=line.definition,
        # A column's ``type`` is its data type, which Cairn shows as the native type.
        native_type=line.native_type or line.type,
        external_updated_at=line.external_updated_at,
        details=details,
        search_metadata=metadata,
        where=where,
    )


def synthetic_id(kind: str, name: str) -> str:
    return f"{SYNTHETIC_PREFIX}{kind}:{name}"


def synthesize_parents(records: Sequence[Record]) -> list[Record]:
    """The database, schema and dashboard-group records that file lines name by title."""
    declared = {r.databuilder_id for r in records}
    made: dict[str, Record] = {}
    for record in records:
        parent = record.parent_databuilder_id
        if parent is None or parent in declared or parent in made or not parent.startswith(SYNTHETIC_PREFIX):
            continue
        kind, _, name = parent[len(SYNTHETIC_PREFIX) :].partition(":")
        if kind == "schema":
            database, _, schema = name.partition(".")
            db_id = synthetic_id("database", database)
            if db_id not in declared and db_id not in made:
                made[db_id] = Record("database", db_id, database, where=record.where)
            made[parent] = Record("schema", parent, schema, parent_databuilder_id=db_id, where=record.where)
        elif kind == "dashboard_group":
            made[parent] = Record("dashboard_group", parent, name, where=record.where)
    return list(made.values())


# ---- the engine --------------------------------------------------------------------------------

_COMPARED = (
    "entity_type",
    "title",
    "title_full",
    "title_cased",
    "description",
    "definition",
    "native_type",
    "parent_id",
    "external_updated_at",
    "search_metadata",
    "stale",
)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _same(name: str, stored: Any, wanted: Any) -> bool:
    if name == "external_updated_at":
        return _utc(stored) == _utc(wanted)
    return bool(stored == wanted)


class MetadataIngest:
    """Applies a set of records to one integration (see the module docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def run(
        self,
        principal: Principal,
        integration_id: str,
        records: Sequence[Record],
        links: Sequence[Link] = (),
        *,
        source: str = "import_metadata",
        origin: str = "import",
    ) -> IngestResult:
        principal.require_write()
        with no_gc():
            return self._run(principal, integration_id, records, links, source=source, origin=origin)

    def _run(
        self,
        principal: Principal,
        integration_id: str,
        records: Sequence[Record],
        links: Sequence[Link],
        *,
        source: str,
        origin: str,
    ) -> IngestResult:
        order = self.prepare(records)
        with self.store.write() as conn:
            self.require_integration(conn, principal, integration_id)
            result = self.apply_in(conn, principal, integration_id, order, links, origin=origin)
            audit.record(
                conn,
                principal,
                event="imported",
                resource_type="integration",
                resource_id=integration_id,
                details={"source": source, **result.summary()},
            )
        return result

    @staticmethod
    def require_integration(conn: Connection, principal: Principal, integration_id: str) -> None:
        found = (
            valid_id(integration_id)
            and conn.execute(
                select(integration.c.pk).where(
                    integration.c.workspace_id == principal.workspace_id, integration.c.id == integration_id
                )
            ).first()
        )
        if not found:
            raise NotFound(f"integration {integration_id} does not exist", field="integration_id")

    @staticmethod
    def prepare(records: Sequence[Record]) -> list[Record]:
        """The records with the parents they name by title, parents before children.

        An unknown parent, a duplicate id, a wrong parent type or a cycle is a 400.
        """
        for record in records:
            for value in (record.databuilder_id, record.title, record.parent_databuilder_id):
                if value is not None and "\x00" in value:
                    raise InvalidInput(f"{record.where}: text must not contain NUL characters", field="file")
        records = [*synthesize_parents(records), *records]
        by_id: dict[str, Record] = {}
        for record in records:
            if record.databuilder_id in by_id:
                raise InvalidInput(
                    f"{record.where}: databuilder_id '{record.databuilder_id}' appears twice",
                    field=record.where.split(" ")[0] or "databuilder_id",
                )
            by_id[record.databuilder_id] = record
        depth: dict[str, int] = {}
        for record in records:
            chain: list[str] = []
            node: Record | None = record
            while node is not None and node.databuilder_id not in depth:
                if node.databuilder_id in chain:
                    raise InvalidInput(
                        f"{node.where}: parent_databuilder_id makes a cycle", field="parent_databuilder_id"
                    )
                chain.append(node.databuilder_id)
                parent_id = node.parent_databuilder_id
                if parent_id is None:
                    node = None
                    continue
                parent = by_id.get(parent_id)
                if parent is None:
                    raise InvalidInput(
                        f"{node.where}: parent_databuilder_id '{parent_id}' is not in the file",
                        field="parent_databuilder_id",
                    )
                _check_parent(node, parent.entity_type)
                node = parent
            base = depth[node.databuilder_id] + 1 if node is not None else 0
            for offset, name in enumerate(reversed(chain)):
                depth[name] = base + offset
        for record in records:
            if record.parent_databuilder_id is None:
                _check_parent(record, None)
        return sorted(records, key=lambda r: depth[r.databuilder_id])

    def apply_in(
        self,
        conn: Connection,
        principal: Principal,
        integration_id: str,
        ordered: Sequence[Record],
        links: Sequence[Link] = (),
        *,
        origin: str = "import",
    ) -> IngestResult:
        ws = principal.workspace_id
        existing = _existing(conn, ws, integration_id)
        result = IngestResult()
        now = utc_now()
        template = _row_template(ws, integration_id, now)
        cased: dict[str, str] = {}  # column titles repeat across tables
        inserts: list[dict[str, Any]] = []
        detail_inserts: list[dict[str, Any]] = []
        digests: list[dict[str, Any]] = []
        to_compare: list[tuple[Record, dict[str, Any], dict[str, Any], str]] = []
        touched_parents: set[str] = set()
        context: dict[str, tuple[str, str, dict[str, Any]]] = {}  # id -> (resource id, title_full, metadata)
        seen: set[str] = set()
        deleted: set[str] = set()
        for record in ordered:
            seen.add(record.databuilder_id)
            parent = context.get(record.parent_databuilder_id) if record.parent_databuilder_id else None
            full = title_full(record.title, parent[1] if parent else None)
            metadata = derive_search_metadata(
                record.entity_type, record.title, parent[2] if parent else None, record.search_metadata
            )
            parent_id = parent[0] if parent else None
            wanted: dict[str, Any] = {
                "entity_type": record.entity_type,
                "title": record.title,
                "title_full": full,
                "title_cased": cased.get(record.title)
                or cased.setdefault(record.title, camel_case(record.title)),
                "description": record.description,
                "definition": record.definition,
                "native_type": record.native_type,
                "parent_id": parent_id,
                "external_updated_at": record.external_updated_at,
                "search_metadata": metadata,
                "stale": False,
            }
            digest = _digest(wanted, record.details)
            stored = existing.get(record.databuilder_id)
            if stored is None:
                row = {**template, **wanted, "id": str(uuid.uuid4()), "databuilder_id": record.databuilder_id}
                inserts.append(row)
                if record.details:
                    detail_inserts.append({"resource_pk": None, "workspace_id": ws, "data": record.details})
                    row["_details"] = detail_inserts[-1]
                digests.append({"resource_pk": None, "workspace_id": ws, "digest": digest, "synced_at": now})
                row["_digest"] = digests[-1]
                if parent_id:
                    touched_parents.add(parent_id)
                resource_id = row["id"]
                result.created += 1
            else:
                resource_id = stored["id"]
                if stored["archived"]:
                    # A resource someone deleted stays deleted; the file no longer revives it.
                    deleted.add(record.databuilder_id)
                    result.unchanged += 1
                elif (
                    stored["digest"] == digest
                    and not stored["stale"]
                    and _utc(stored["updated_at"]) == _utc(stored["synced_at"])
                ):
                    result.unchanged += 1  # what this record asks for is what the last ingest wrote
                else:
                    to_compare.append((record, wanted, stored, digest))
            context[record.databuilder_id] = (resource_id, full, metadata)
            result.ids[record.databuilder_id] = resource_id

        if inserts:
            if conn.dialect.name == "sqlite" and len(inserts) > 10_000:
                # A bulk load touches index pages all over the file (random UUIDs): a larger page
                # cache for this connection keeps it from thrashing, as the importer does.
                conn.exec_driver_sql("PRAGMA cache_size=-262144")
            repo.insert_rows(conn, inserts)
            for row in inserts:
                for key in ("_details", "_digest"):
                    side = row.pop(key, None)
                    if side is not None:
                        side["resource_pk"] = row["pk"]
            if detail_inserts:
                repo.executemany(conn, resource_detail, detail_inserts)
        changes, detail_changes = self._compare(conn, to_compare, now, touched_parents, result)
        replaced = [
            {
                "resource_pk": stored["pk"],
                "workspace_id": ws,
                "digest": digest,
                "synced_at": stored["synced_at"],
            }
            for _, _, stored, digest in to_compare
        ]
        _apply_changes(conn, changes)
        _apply_detail_changes(conn, ws, detail_changes)
        _store_digests(conn, digests, replaced)
        gone = [
            row["pk"]
            for key, row in existing.items()
            if key not in seen and not row["stale"] and not row["archived"]
        ]
        for start in range(0, len(gone), _CHUNK):
            conn.execute(
                update(resource)
                .where(R.pk.in_(gone[start : start + _CHUNK]))
                .values(stale=True, stale_at=now, updated_at=now)
            )
        result.stale = len(gone)
        recount_children(conn, ws, touched_parents)
        types = {r.databuilder_id: r.entity_type for r in ordered}
        result.lineage = self.apply_links_in(
            conn, principal, integration_id, result, links, origin=origin, types=types, deleted=deleted
        )
        return result

    @staticmethod
    def _compare(
        conn: Connection,
        candidates: list[tuple[Record, dict[str, Any], dict[str, Any], str]],
        now: datetime,
        touched_parents: set[str],
        result: IngestResult,
    ) -> tuple[list[dict[str, Any]], list[tuple[int, dict[str, Any] | None, bool]]]:
        """Field by field, for the records whose digest or resource changed since the last ingest."""
        pks = [stored["pk"] for _, _, stored, _ in candidates]
        rows = _full_rows(conn, pks)
        details = _details(conn, pks)
        changes: list[dict[str, Any]] = []
        detail_changes: list[tuple[int, dict[str, Any] | None, bool]] = []
        for record, wanted, light, _ in candidates:
            stored = rows[light["pk"]]
            diff = {k: v for k, v in wanted.items() if not _same(k, stored[k], v)}
            old_details = details.get(light["pk"])
            details_changed = (old_details or {}) != record.details
            if not diff and not details_changed:
                light["synced_at"] = stored["updated_at"]  # nothing written: still as it was
                result.unchanged += 1
                continue
            light["synced_at"] = now
            diff["updated_at"] = now
            if "stale" in diff:
                diff["stale_at"] = None
            if "parent_id" in diff:
                touched_parents.update(p for p in (stored["parent_id"], wanted["parent_id"]) if p)
            changes.append({"_pk": light["pk"], **diff})
            if details_changed:
                detail_changes.append((light["pk"], record.details or None, old_details is not None))
            result.updated += 1
        return changes, detail_changes

    def apply_links_in(
        self,
        conn: Connection,
        principal: Principal,
        integration_id: str,
        result: IngestResult,
        links: Sequence[Link],
        *,
        origin: str,
        types: dict[str, str],
        deleted: set[str],
    ) -> int:
        """The file's lineage becomes this origin's edges into the integration's resources.

        Both ends must be resources the records named; an edge the file no longer lists is
        removed, so a re-import of the same file changes nothing.
        """
        ids = result.ids
        wanted: dict[str, list[str]] = {}
        for link in links:
            for end in (link.upstream, link.downstream):
                if end not in ids:
                    raise InvalidInput(
                        f"{link.where}: databuilder id '{end}' is not a resource of this import",
                        field=link.where.split(" ")[0] or "lineage",
                    )
            if link.upstream == link.downstream:
                raise InvalidInput(f"{link.where}: a resource cannot be its own upstream", field="lineage")
            if (types[link.upstream] == "column") != (types[link.downstream] == "column"):
                raise InvalidInput(
                    f"{link.where}: a column-level edge joins two columns "
                    f"({types[link.upstream]} -> {types[link.downstream]})",
                    field=link.where.split(" ")[0] or "lineage",
                )
            if link.upstream in deleted or link.downstream in deleted:
                continue
            ups = wanted.setdefault(ids[link.downstream], [])
            if ids[link.upstream] not in ups:
                ups.append(ids[link.upstream])
        lineage = LineageService(self.store)
        specs = [EdgeSpec(up, down, origin) for down, ups in wanted.items() for up in ups]
        for start in range(0, len(specs), MAX_EDGES_PER_CALL):
            lineage.add_edges_in(conn, principal, specs[start : start + MAX_EDGES_PER_CALL])
        # Downstreams of this integration whose stored edges of this origin the file dropped.
        up, down = resource.alias("up"), resource.alias("down")
        stored = conn.execute(
            select(down.c.id, up.c.id)
            .select_from(lineage_edge)
            .join(down, down.c.pk == lineage_edge.c.downstream_pk)
            .join(up, up.c.pk == lineage_edge.c.upstream_pk)
            .where(
                lineage_edge.c.workspace_id == principal.workspace_id,
                lineage_edge.c.origin == origin,
                down.c.integration_id == integration_id,
            )
        ).all()
        # Only downstreams the file still names and that are visible can be re-pointed; edges
        # into resources that went stale or were deleted stay, hidden with them.
        live = set(ids.values()) - {ids[d] for d in deleted}
        dropped = {d for d, u in stored if u not in wanted.get(d, ()) and d in live}
        for downstream in sorted(dropped):
            lineage.replace_upstreams_in(conn, principal, downstream, origin, wanted.get(downstream, []))
        return len(specs)


@contextmanager
def no_gc() -> Iterator[None]:
    """A bulk ingest builds hundreds of thousands of small containers, none of them cyclic:
    the cyclic collector would rescan them again and again for nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_parent(record: Record, parent_type: str | None) -> None:
    allowed = ALLOWED_PARENTS[record.entity_type]
    if parent_type is None:
        if record.entity_type in PARENT_REQUIRED:
            raise InvalidInput(
                f"{record.where}: a {record.entity_type} needs parent_databuilder_id "
                f"(a {' or '.join(sorted(allowed))})",
                field="parent_databuilder_id",
            )
        return
    if parent_type not in allowed:
        raise InvalidInput(
            f"{record.where}: a {record.entity_type} cannot be placed under a {parent_type}",
            field="parent_databuilder_id",
        )


def _existing(conn: Connection, workspace_id: str, integration_id: str) -> dict[str, dict[str, Any]]:
    """The integration's resources by databuilder id, with what the last ingest left on them."""
    stmt = (
        select(R.pk, R.id, R.databuilder_id, R.archived, R.stale, R.updated_at, S.digest, S.synced_at)
        .outerjoin(ingest_state, S.resource_pk == R.pk)
        .where(
            R.workspace_id == workspace_id, R.integration_id == integration_id, R.databuilder_id.is_not(None)
        )
    )
    result = conn.execute(stmt)
    names = list(result.keys())
    key = names.index("databuilder_id")
    return {row[key]: dict(zip(names, row, strict=True)) for row in result}


def _full_rows(conn: Connection, pks: Sequence[int]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    columns = [R.pk, R.updated_at, *(R[name] for name in _COMPARED)]
    for start in range(0, len(pks), _CHUNK):
        for row in conn.execute(select(*columns).where(R.pk.in_(list(pks[start : start + _CHUNK])))):
            found[row.pk] = dict(row._mapping)
    return found


def _digest(wanted: dict[str, Any], details: dict[str, Any]) -> str:
    payload = orjson.dumps([wanted, details], option=orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z)
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


def _store_digests(conn: Connection, created: list[dict[str, Any]], replaced: list[dict[str, Any]]) -> None:
    """Digests of new resources are inserted (the foreign key's cascade leaves none behind for
    a pk); those of compared resources replace their old ones."""
    pks = [r["resource_pk"] for r in replaced]
    for start in range(0, len(pks), _CHUNK):
        conn.execute(delete(ingest_state).where(S.resource_pk.in_(pks[start : start + _CHUNK])))
    if created or replaced:
        repo.executemany(conn, ingest_state, created + replaced)


def _details(conn: Connection, pks: Sequence[int]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    if not pks:
        return found
    # One query for the integration rather than chunks of pks: details are sparse.
    ordered = sorted(pks)
    low, high = ordered[0], ordered[-1]
    wanted = set(pks)
    stmt = select(D.resource_pk, D.data).where(D.resource_pk >= low, D.resource_pk <= high)
    for pk, data in conn.execute(stmt):
        if pk in wanted:
            found[pk] = data or {}
    return found


def _row_template(workspace_id: str, integration_id: str, now: datetime) -> dict[str, Any]:
    template: dict[str, Any] = {
        "workspace_id": workspace_id,
        "integration_id": integration_id,
        "definition_version": 1,
        "children_count": 0,
        # Metadata an integration brings in is visible to every role, like Secoda's extractions.
        "published": True,
        "archived": False,
        "pii": False,
        "verified": False,
        "forced_unstale_by_user": False,
        "internal_usage": 0,
        "external_usage": 0,
        "display_metadata": {},
        "created_at": now,
        "updated_at": now,
    }
    for name in LIST_FIELDS:
        template[name] = []
    return template


def _apply_changes(conn: Connection, changes: list[dict[str, Any]]) -> None:
    # Group by the set of changed columns: one executemany per shape.
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        shapes.setdefault(tuple(sorted(k for k in change if k != "_pk")), []).append(change)
    for columns, rows in shapes.items():
        stmt = update(resource).where(R.pk == bindparam("_pk")).values({c: bindparam(c) for c in columns})
        conn.execute(stmt, rows)


def _apply_detail_changes(
    conn: Connection, workspace_id: str, changes: list[tuple[int, dict[str, Any] | None, bool]]
) -> None:
    for pk, data, had in changes:
        if data is None:
            conn.execute(delete(resource_detail).where(D.resource_pk == pk))
        elif had:
            conn.execute(update(resource_detail).where(D.resource_pk == pk).values(data=data))
        else:
            conn.execute(insert(resource_detail).values(resource_pk=pk, workspace_id=workspace_id, data=data))


def recount_children(conn: Connection, workspace_id: str, parent_ids: Iterable[str]) -> None:
    """Set ``children_count`` of these resources from their visible children."""
    ids = sorted(parent_ids)
    child = resource.alias("child")
    counted = (
        select(func.count())
        .where(child.c.workspace_id == workspace_id, child.c.parent_id == R.id, child.c.archived.is_(False))
        .scalar_subquery()
    )
    for start in range(0, len(ids), _CHUNK):
        conn.execute(
            update(resource)
            .where(R.workspace_id == workspace_id, R.id.in_(ids[start : start + _CHUNK]))
            .values(children_count=counted)
        )
