"""The merge engine every connector writes through: create, update in place, stale, unstale.

A source describes what it sees as :class:`Node` objects keyed by a stable ``databuilder_id``.
For each key the engine keeps a ``source_record``: a fingerprint of what the source said last
time and the values it wrote. That gives the re-crawl rules:

- an unchanged node (same fingerprint) is not touched at all, so a re-crawl of an unchanged
  source writes nothing, not even ``updated_at``;
- facts only the source knows (native type, row count, ...) follow the source;
- a protected field (description) is written only while its current value is empty or is what
  some source wrote: once a user edits it in Cairn, sources leave it alone;
- list fields (tags, owners, sources) keep the items users added; the source manages its own;
- a key the source no longer reports becomes stale (never deleted), and unstale if it returns.
"""

from __future__ import annotations

import gc
import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import Connection, Row, and_, func, select, update

from cairn.connectors.model import MERGED_LISTS, PROTECTED_FIELDS, SOURCE_FIELDS, Node, Summary
from cairn.core import audit, extras, history
from cairn.core.errors import CairnError, InvalidInput
from cairn.core.integrations import IntegrationService
from cairn.core.lineage import LineageService
from cairn.core.principal import Principal
from cairn.core.resources import ParentInfo, ResourceService
from cairn.models.common import utc_now
from cairn.models.integrations import IntegrationCreate
from cairn.models.resources import ResourceWrite
from cairn.store import Store
from cairn.store import resources as repo
from cairn.store.schema import integration, resource, resource_detail, resource_version, source_record

S = source_record.c
R = resource.c
_CHUNK = 500


@dataclass
class _Record:
    resource_pk: int
    resource_id: str
    fingerprint: str
    stale: bool


def fingerprint(node: Node) -> str:
    payload = [
        node.entity_type,
        node.title,
        node.parent,
        node.target_id,
        node.fields,
        node.lists,
        node.details,
    ]
    return hashlib.sha1(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _same(current: Any, new: Any) -> bool:
    if isinstance(current, datetime) and isinstance(new, datetime):
        return _utc(current) == _utc(new)
    return bool(current == new)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _chunks(values: Sequence[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield list(values[start : start + _CHUNK])


def ensure_integration(
    store: Store, principal: Principal, *, name: str, kind: str, credentials: dict[str, Any]
) -> str:
    """The workspace's integration of this name and type, created on first use."""
    principal.require_write()
    with store.write() as conn:
        return _ensure_integration(conn, store, principal, name=name, kind=kind, credentials=credentials)


def _ensure_integration(
    conn: Connection, store: Store, principal: Principal, *, name: str, kind: str, credentials: dict[str, Any]
) -> str:
    row = conn.execute(
        select(integration.c.id, integration.c.credentials, integration.c.pk)
        .where(
            integration.c.workspace_id == principal.workspace_id,
            integration.c.name == name,
            integration.c.type == kind,
        )
        .order_by(integration.c.pk)
        .limit(1)
    ).first()
    if row is not None:
        if credentials and row.credentials != credentials:
            conn.execute(
                update(integration)
                .where(integration.c.pk == row.pk)
                .values(credentials=credentials, updated_at=utc_now())
            )
        return str(row.id)
    body = IntegrationCreate(name=name, type=kind, credentials=credentials)
    created = IntegrationService(store).create_in(conn, principal, body)
    return str(created["id"])


class Merger:
    """Writes nodes of one integration; ``apply`` once per batch (one transaction each), then ``finish``."""

    def __init__(
        self,
        store: Store,
        principal: Principal,
        integration_id: str,
        *,
        source: str,
        keys: Iterable[str] | None = None,
    ) -> None:
        """``keys`` limits what is loaded to the records a partial source (an event) can touch;
        a crawl loads them all, since ``finish`` stales what it did not see."""
        principal.require_write()
        self.store = store
        self.principal = principal
        self.integration_id = integration_id
        self.source = source
        self.summary = Summary(integration=integration_id)
        self.seen: set[str] = set()
        # Keys whose resource this run created or changed (lineage is recomputed only around them).
        self.touched: set[str] = set()
        self.ids: dict[str, str] = {}
        self._parents: dict[str, ParentInfo] = {}
        self._records: dict[str, _Record] = {}
        stmt = (
            select(S.databuilder_id, S.resource_pk, S.fingerprint, S.stale, R.id)
            .join(resource, R.pk == S.resource_pk)
            .where(S.workspace_id == principal.workspace_id, S.integration_id == integration_id)
        )
        with store.read() as conn:
            statements = (
                [stmt] if keys is None else [stmt.where(S.databuilder_id.in_(c)) for c in _chunks(list(keys))]
            )
            for statement in statements:
                for key, pk, fp, stale, rid in conn.execute(statement):
                    self._records[key] = _Record(pk, rid, fp, stale)
                    self.ids[key] = rid

    # ---- one batch ---------------------------------------------------------------------

    def apply(self, nodes: Sequence[Node]) -> None:
        fresh: list[tuple[Node, str]] = []
        changed: list[tuple[Node, str, _Record | None, int]] = []
        for node in nodes:
            if node.key in self.seen:
                continue
            self.seen.add(node.key)
            fp = fingerprint(node)
            record = self._records.get(node.key)
            if record is None:
                fresh.append((node, fp))
            elif record.fingerprint == fp and not record.stale:
                self.summary.unchanged += 1
            else:
                changed.append((node, fp, record, record.resource_pk))
        if not fresh and not changed:
            return
        # A batch builds tens of thousands of small dicts that live until it commits: the cyclic
        # collector would rescan them again and again for nothing (there are no cycles).
        collecting = gc.isenabled()
        gc.disable()
        try:
            with self.store.write() as conn:
                fresh = self._adopt(conn, fresh, changed)
                if changed:
                    self._update_all(conn, changed)
                if fresh:
                    self._create_all(conn, fresh)
        finally:
            if collecting:
                gc.enable()

    def _adopt(
        self,
        conn: Connection,
        fresh: list[tuple[Node, str]],
        changed: list[tuple[Node, str, _Record | None, int]],
    ) -> list[tuple[Node, str]]:
        """New keys that already have a resource (a merge target, or an earlier import with the
        same ``databuilder_id``) update it instead of creating a second one."""
        ws = self.principal.workspace_id
        targets = [n.target_id for n, _ in fresh if n.target_id]
        by_target = {r.id: r.pk for r in repo.get_rows(conn, ws, targets).values()}
        plain = [n.key for n, _ in fresh if not n.target_id]
        by_key: dict[str, int] = {}
        for chunk in _chunks(plain):
            stmt = select(R.databuilder_id, R.pk).where(
                R.workspace_id == ws, R.integration_id == self.integration_id, R.databuilder_id.in_(chunk)
            )
            by_key.update({row[0]: row[1] for row in conn.execute(stmt)})
        remaining: list[tuple[Node, str]] = []
        for node, fp in fresh:
            if node.target_id:
                pk = by_target.get(node.target_id)
                if pk is None:
                    self.summary.errors.append(f"{node.key}: merge target {node.target_id} does not exist")
                    continue
                changed.append((node, fp, None, pk))
            elif node.key in by_key:
                changed.append((node, fp, None, by_key[node.key]))
            else:
                remaining.append((node, fp))
        return remaining

    def _update_all(self, conn: Connection, items: list[tuple[Node, str, _Record | None, int]]) -> None:
        pks = [pk for *_, pk in items]
        rows: dict[int, Row[Any]] = {}
        for chunk in _chunks(pks):
            rows.update({r.pk: r for r in conn.execute(select(resource).where(R.pk.in_(chunk)))})
        written: dict[tuple[int, str], dict[str, Any]] = {}
        others: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for chunk in _chunks(pks):
            stmt = select(S.resource_pk, S.integration_id, S.databuilder_id, S.written).where(
                S.workspace_id == self.principal.workspace_id, S.resource_pk.in_(chunk)
            )
            for pk, integration_id, key, values in conn.execute(stmt):
                if integration_id == self.integration_id:
                    written[(pk, key)] = values or {}
                else:
                    others[pk].append(values or {})
        details = extras.details_of(conn, pks)
        now = utc_now()
        for node, fp, record, pk in items:
            row = rows.get(pk)
            if row is None:
                continue
            self.ids[node.key] = row.id
            if node.entity_type != row.entity_type and node.target_id is None:
                self.summary.errors.append(
                    f"{node.key}: a {node.entity_type} in the source, a {row.entity_type} in the catalog"
                )
                continue
            before = written.get((pk, node.key), {})
            values, after = self._changes(node, row, before, others.get(pk, []))
            if row.archived:
                # Deleted in Cairn: a user's delete wins over the source until they restore it.
                values = {}
            elif record is not None and record.stale and row.stale:
                values.update(stale=False, stale_at=None)
                self.summary.unstaled += 1
            detail_changes = (
                self._detail_changes(node, before, details.get(pk, {})) if not row.archived else {}
            )
            if detail_changes:
                after["details"] = sorted(node.details)
                extras.set_details(conn, self.principal.workspace_id, pk, detail_changes)
            if values or detail_changes:
                values["updated_at"] = now
                self._write(conn, row, values)
                self.summary.updated += 1
                self.touched.add(node.key)
            else:
                self.summary.unchanged += 1
            if node.target_id is None:
                self._parents[node.key] = ParentInfo.of(row)
            self._save_record(conn, node, fp, pk, after, exists=(pk, node.key) in written, now=now)
            self._records[node.key] = _Record(pk, row.id, fp, False)

    def _changes(
        self, node: Node, row: Row[Any], before: dict[str, Any], others: list[dict[str, Any]]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        values: dict[str, Any] = {}
        after: dict[str, Any] = {}
        if node.target_id is None:
            for name in SOURCE_FIELDS:
                if name in node.fields and not _same(getattr(row, name), node.fields[name]):
                    values[name] = node.fields[name]
        for name in PROTECTED_FIELDS:
            if name not in node.fields:
                continue
            new, current = node.fields[name], getattr(row, name)
            source_values = {before.get(name), *(o.get(name) for o in others)}
            if current != new and (current in (None, "") or current in source_values):
                values[name] = new
            after[name] = new
        for name in MERGED_LISTS:
            if name not in node.lists:
                continue
            new_items = list(dict.fromkeys(node.lists[name]))
            previous = set(before.get(name) or [])
            current_items = list(getattr(row, name) or [])
            kept = [i for i in current_items if i not in previous or i in new_items]
            merged = kept + [i for i in new_items if i not in kept]
            if merged != current_items:
                values[name] = merged
            after[name] = new_items
        return values, after

    @staticmethod
    def _detail_changes(node: Node, before: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
        if node.target_id is not None:
            return {}
        changes = {k: v for k, v in node.details.items() if current.get(k) != v}
        for key in before.get("details") or []:
            if key not in node.details and key in current:
                changes[key] = None
        return changes

    def _save_record(
        self,
        conn: Connection,
        node: Node,
        fp: str,
        pk: int,
        written: dict[str, Any],
        *,
        exists: bool,
        now: datetime,
    ) -> None:
        ws = self.principal.workspace_id
        values = {"resource_pk": pk, "fingerprint": fp, "written": written, "stale": False, "seen_at": now}
        if exists:
            conn.execute(
                update(source_record)
                .where(
                    S.workspace_id == ws,
                    S.integration_id == self.integration_id,
                    S.databuilder_id == node.key,
                )
                .values(**values)
            )
        else:
            conn.execute(
                source_record.insert().values(
                    workspace_id=ws, integration_id=self.integration_id, databuilder_id=node.key, **values
                )
            )

    def _create_all(self, conn: Connection, items: list[tuple[Node, str]]) -> None:
        ws = self.principal.workspace_id
        missing = {
            n.parent
            for n, _ in items
            if n.parent is not None and n.parent not in self._parents and n.parent in self._records
        }
        wanted = [self._records[k].resource_pk for k in missing]
        for chunk in _chunks(wanted):
            for row in conn.execute(select(resource).where(R.pk.in_(chunk))):
                if row.databuilder_id in missing:
                    self._parents[row.databuilder_id] = ParentInfo.of(row)
        now = utc_now()
        rows: list[dict[str, Any]] = []
        new_by_id: dict[str, dict[str, Any]] = {}
        bumps: Counter[str] = Counter()
        meta: list[tuple[Node, str, dict[str, Any]]] = []
        stamps: dict[str, datetime | None] = {"created_at": now, "updated_at": now}
        for node, fp in items:
            parent = None
            if node.parent is not None:
                parent = self._parents.get(node.parent)
                if parent is None:
                    self.summary.errors.append(f"{node.key}: its parent {node.parent} was not written")
                    continue
            try:
                body = ResourceWrite.model_validate(
                    {
                        "title": node.title,
                        "integration": self.integration_id,
                        "databuilder_id": node.key,
                        "published": node.published,
                        **node.fields,
                        **node.lists,
                    }
                )
                values = ResourceService.new_row(ws, body, node.entity_type, parent, timestamps=stamps)
            except (ValidationError, CairnError) as exc:
                self.summary.errors.append(f"{node.key}: {_reason(exc)}")
                continue
            rows.append(values)
            new_by_id[values["id"]] = values
            if parent is not None:
                if parent.id in new_by_id:
                    new_by_id[parent.id]["children_count"] += 1
                else:
                    bumps[parent.id] += 1
            self._parents[node.key] = ParentInfo.of(_Obj(values))
            written = {name: node.fields[name] for name in PROTECTED_FIELDS if name in node.fields}
            written.update({name: node.lists[name] for name in MERGED_LISTS if name in node.lists})
            if node.details:
                written["details"] = sorted(node.details)
            meta.append((node, fp, written))
        if not rows:
            return
        repo.insert_rows(conn, rows)
        for parent_id, delta in bumps.items():
            repo.bump_children(conn, ws, parent_id, delta)
        detail_rows = []
        record_rows = []
        version_rows = []
        for values, (node, fp, written) in zip(rows, meta, strict=True):
            self.ids[node.key] = values["id"]
            self._records[node.key] = _Record(values["pk"], values["id"], fp, False)
            if node.details:
                detail_rows.append({"resource_pk": values["pk"], "workspace_id": ws, "data": node.details})
            record_rows.append(
                {
                    "workspace_id": ws,
                    "integration_id": self.integration_id,
                    "databuilder_id": node.key,
                    "resource_pk": values["pk"],
                    "fingerprint": fp,
                    "written": written,
                    "stale": False,
                    "seen_at": now,
                }
            )
            snap = history.snapshot(repo.to_entity(values, {}))
            version_rows.append(
                {
                    "workspace_id": ws,
                    "resource_id": values["id"],
                    "version": 1,
                    "event": "created",
                    "actor_id": self.principal.key_id,
                    "actor_name": self.principal.name,
                    "at": now,
                    "changes": {k: {"old": None, "new": v} for k, v in snap.items() if v is not None},
                    "snapshot": snap,
                }
            )
        if detail_rows:
            repo.executemany(conn, resource_detail, detail_rows)
        # Both have an identity key, which the driver-level path (every column) would send as NULL.
        conn.execute(source_record.insert(), record_rows)
        conn.execute(resource_version.insert(), version_rows)
        self.summary.created += len(rows)
        self.touched.update(node.key for node, _, _ in meta)

    # ---- the end of a crawl ------------------------------------------------------------

    def finish(self, in_scope: Callable[[str], bool]) -> Summary:
        """Stale what the source no longer reports (only keys ``in_scope`` says it looked at)."""
        gone = [
            (key, record)
            for key, record in self._records.items()
            if key not in self.seen and not record.stale and in_scope(key)
        ]
        if gone:
            self._stale(gone)
        with self.store.write() as conn:
            audit.record(
                conn,
                self.principal,
                event="ingested",
                resource_type="integration",
                resource_id=self.integration_id,
                resource_title=self.source,
                details={
                    k: v for k, v in self.summary.as_dict().items() if k not in ("errors", "integration")
                }
                | {"errors": len(self.summary.errors)},
            )
        return self.summary

    def _stale(self, gone: list[tuple[str, _Record]]) -> None:
        ws = self.principal.workspace_id
        now = utc_now()
        with self.store.write() as conn:
            for chunk in _chunks(gone):
                pks = [record.resource_pk for _, record in chunk]
                rows = {r.pk: r for r in conn.execute(select(resource).where(R.pk.in_(pks)))}
                for _key, record in chunk:
                    row = rows.get(record.resource_pk)
                    record.stale = True
                    if row is None or row.archived or row.stale or row.forced_unstale_by_user:
                        continue
                    self._write(conn, row, {"stale": True, "stale_at": now, "updated_at": now})
                    self.summary.staled += 1
                keys = [key for key, _ in chunk]
                conn.execute(
                    update(source_record)
                    .where(
                        and_(
                            S.workspace_id == ws,
                            S.integration_id == self.integration_id,
                            S.databuilder_id.in_(keys),
                        )
                    )
                    .values(stale=True)
                )

    def _write(self, conn: Connection, row: Row[Any], values: dict[str, Any]) -> None:
        """Update one resource and record the change as a version."""
        ws = self.principal.workspace_id
        repo.update_row(conn, row.pk, ws, values)
        fresh = repo.get_row(conn, ws, row.id)
        history.record(
            conn,
            self.principal,
            resource_id=row.id,
            event="updated",
            before=repo.to_entity(row, {}),
            after=repo.to_entity(fresh, {}) if fresh is not None else None,
        )

    def resource_id(self, key: str) -> str | None:
        return self.ids.get(key)


class _Obj:
    """Attribute access over a new row's dict, for :meth:`ParentInfo.of`."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {first.get('msg')}"
    if isinstance(exc, CairnError):
        return exc.message
    return str(exc)


def replace_lineage(
    store: Store,
    principal: Principal,
    origin: str,
    planned: Sequence[tuple[str, list[str]]],
    summary: Summary,
) -> int:
    """Make ``origin``'s upstream set of each downstream exactly the one given (one transaction).

    Unchanged sets write nothing; a resource that is not visible (stale, deleted) is skipped.
    Returns how many edges the source now asserts.
    """
    service = LineageService(store)
    count = 0
    with store.write() as conn:
        for downstream, upstreams in planned:
            try:
                service.replace_upstreams_in(conn, principal, downstream, origin, upstreams)
            except InvalidInput as exc:
                summary.errors.append(f"lineage of {downstream}: {exc.message}")
                continue
            count += len(set(upstreams))
    return count


def tables_by_title(
    conn: Connection, workspace_id: str, titles: Iterable[str], *, exclude_integration: str | None = None
) -> dict[str, Any]:
    """Catalog tables by lower-cased ``title_full`` (``db.schema.table``), other sources' only."""
    names = list(dict.fromkeys(t.lower() for t in titles))
    found: dict[str, Any] = {}
    for chunk in _chunks(names):
        stmt = select(R.id, R.pk, R.title_full, R.integration_id).where(
            R.workspace_id == workspace_id,
            R.entity_type == "table",
            R.archived.is_(False),
            func.lower(R.title_full).in_(chunk),
        )
        if exclude_integration is not None:
            stmt = stmt.where(R.integration_id != exclude_integration)
        for row in conn.execute(stmt.order_by(R.pk)):
            found.setdefault(row.title_full.lower(), row)
    return found


def columns_of(conn: Connection, workspace_id: str, table_ids: Sequence[str]) -> dict[str, dict[str, str]]:
    """Column ids of tables: table id -> lower-cased column title -> column id."""
    out: dict[str, dict[str, str]] = {}
    for chunk in _chunks(list(table_ids)):
        stmt = select(R.id, R.parent_id, R.title).where(
            R.workspace_id == workspace_id, R.entity_type == "column", R.parent_id.in_(chunk)
        )
        for row in conn.execute(stmt):
            out.setdefault(row.parent_id, {})[(row.title or "").lower()] = row.id
    return out
