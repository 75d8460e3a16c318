"""Whether a resource has an ancestor more restricted than itself: one number per row.

``resource.hidden_above`` holds bits (0: whoever may see the row may see all its ancestors):

- ``PUBLISHED``: the row is published and some ancestor is not (a viewer sees the row only);
- ``ARCHIVED``: the row is not archived and some ancestor is;
- ``TEAMS``: some ancestor's teams do not include all of the row's (no teams counting as the
  default team), so a caller who sees the row through one of its teams may not see that
  ancestor. It is kept conservatively: set too when the parent's own ``TEAMS`` bit is set.

A row's stored path (``title_full``, the ancestry keys of ``search_metadata``) names every
ancestor, so a read that matches, sorts or groups by it must not do so for a caller who cannot
see one of them. With this number, reads do that exact, per-caller check only for the few rows
whose bits concern the caller (``core/visibility.py: under_hidden_ancestor``); every other row
is known to have nothing hidden above it.

The bits of a row follow from its parent's values and bits alone, so they are written with the
row (``assign``) and, when a write changes what its descendants inherit (published, archived,
teams or parent), refreshed down the subtree, stopping below rows whose bits did not change
(``refresh``). Every write of those columns goes through store/resources.py, which calls these.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, select, update

from cairn.store.schema import resource

PUBLISHED = 1
ARCHIVED = 2
TEAMS = 4
# Columns whose change can change the bits of the row and of its descendants.
INHERITED = frozenset({"published", "archived", "teams", "parent_id"})

R = resource.c
_DEFAULT_TEAM = frozenset({""})  # no teams: the default team (no team id is empty)


@dataclass(frozen=True)
class Node:
    """What a row's children inherit from it."""

    published: bool
    archived: bool
    teams: frozenset[str]
    bits: int


def teams_of(value: Iterable[str] | None) -> frozenset[str]:
    return frozenset(value or ()) or _DEFAULT_TEAM


def bits_below(parent: Node | None, published: bool, archived: bool, teams: frozenset[str]) -> int:
    """The bits of a row with these values under ``parent`` (None: a root, or a missing parent)."""
    if parent is None:
        return 0
    bits = 0
    if published and (not parent.published or parent.bits & PUBLISHED):
        bits |= PUBLISHED
    if not archived and (parent.archived or parent.bits & ARCHIVED):
        bits |= ARCHIVED
    if parent.bits & TEAMS or not parent.teams >= teams:
        bits |= TEAMS
    return bits


_NODE_COLUMNS = (R.pk, R.id, R.parent_id, R.published, R.archived, R.teams, R.hidden_above)


def _node(row: Any) -> Node:
    return Node(bool(row.published), bool(row.archived), teams_of(row.teams), int(row.hidden_above))


def _nodes(
    conn: Connection, workspace_id: str, ids: Iterable[str], pks: Mapping[str, int] | None = None
) -> dict[str, Node]:
    """The nodes of these ids; those in ``pks`` are read by key (a bulk import that has deferred
    the unique id index knows the pks of its parents, and a lookup by id would scan the table)."""
    found: dict[str, Node] = {}
    known = pks or {}
    wanted = sorted(i for i in set(ids) if i not in known)
    by_pk = sorted(known[i] for i in set(ids) if i in known)
    for start in range(0, len(by_pk), 500):
        chunk_pks = by_pk[start : start + 500]
        stmt = select(*_NODE_COLUMNS).where(R.workspace_id == workspace_id, R.pk.in_(chunk_pks))
        found.update((row.id, _node(row)) for row in conn.execute(stmt))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        stmt = select(*_NODE_COLUMNS).where(R.workspace_id == workspace_id, R.id.in_(chunk))
        found.update((row.id, _node(row)) for row in conn.execute(stmt))
    return found


class NewRow(NamedTuple):
    """A row about to be inserted (a named tuple: a bulk insert makes one per row, and a frozen
    dataclass cost about 1 us each)."""

    id: str
    parent_id: str | None
    published: bool
    archived: bool
    teams: frozenset[str]


def assign(
    conn: Connection, workspace_id: str, rows: Sequence[NewRow], parent_pks: Mapping[str, int] | None = None
) -> list[int]:
    """The bits of rows about to be inserted (their parents stored, or among ``rows``);
    ``parent_pks``: the pks of stored parents where the caller knows them."""
    batch = {row.id: row for row in rows}
    outside = {r.parent_id for r in rows if r.parent_id is not None and r.parent_id not in batch}
    known = _nodes(conn, workspace_id, outside, parent_pks) if outside else {}
    bits: dict[str, int] = {}
    # What a row of the batch passes on, made once for all its children.
    passed: dict[str, Node] = {}

    def parent_of(item: NewRow) -> Node | None:
        parent_id = item.parent_id
        if parent_id is None:
            return None
        if parent_id in batch and parent_id in bits:
            node = passed.get(parent_id)
            if node is None:
                above = batch[parent_id]
                node = passed[parent_id] = Node(above.published, above.archived, above.teams, bits[parent_id])
            return node
        return known.get(parent_id)

    def resolve(row: NewRow) -> int:
        if row.id in bits:
            return bits[row.id]
        parent_id = row.parent_id
        if parent_id is None or parent_id not in batch or parent_id in bits:
            # The usual case (parents come first): the parent is stored or already resolved.
            found = bits[row.id] = bits_below(parent_of(row), row.published, row.archived, row.teams)
            return found
        # Parents first, iteratively: a batch can hold a deep chain (nested columns, documents).
        chain = [row]
        while True:
            parent_id = chain[-1].parent_id
            if parent_id is None or parent_id not in batch or parent_id in bits:
                break
            if len(chain) > len(batch):  # a cycle among new rows cannot be placed; treat as a root
                break
            chain.append(batch[parent_id])
        for item in reversed(chain):
            if item.id in bits:
                continue
            bits[item.id] = bits_below(parent_of(item), item.published, item.archived, item.teams)
        return bits[row.id]

    return [resolve(row) for row in rows]


_SET_BITS = update(resource).where(R.pk == bindparam("flag_pk")).values(hidden_above=bindparam("flag_bits"))


def refresh(conn: Connection, pks: Iterable[int]) -> int:
    """Recompute the bits of these rows (whose inherited values may have changed) and of their
    descendants, top-down; returns how many rows changed."""
    wanted = sorted(set(pks))
    dirty: dict[str, list[Any]] = {}
    for start in range(0, len(wanted), 500):
        stmt = select(R.workspace_id, *_NODE_COLUMNS).where(R.pk.in_(wanted[start : start + 500]))
        for row in conn.execute(stmt):
            dirty.setdefault(row.workspace_id, []).append(row)
    changed = 0
    for workspace_id, rows in dirty.items():
        changed += _refresh_workspace(conn, workspace_id, rows)
    return changed


def _refresh_workspace(conn: Connection, workspace_id: str, rows: list[Any]) -> int:
    dirty_ids = {row.id for row in rows}
    roots = [row for row in rows if row.parent_id not in dirty_ids]
    parents = _nodes(conn, workspace_id, {r.parent_id for r in roots if r.parent_id is not None})
    updates: list[dict[str, int]] = []
    level: list[tuple[Any, Node | None]] = [(row, parents.get(row.parent_id or "")) for row in roots]
    seen: set[str] = set()
    while level:
        below: dict[str, Node] = {}  # rows whose children must be looked at, with what they pass on
        for row, parent in level:
            if row.id in seen:  # a cycle in stored parent links: stop rather than loop
                continue
            seen.add(row.id)
            node = _node(row)
            bits = bits_below(parent, node.published, node.archived, node.teams)
            if bits != node.bits:
                updates.append({"flag_pk": row.pk, "flag_bits": bits})
            if bits != node.bits or row.id in dirty_ids:
                below[row.id] = Node(node.published, node.archived, node.teams, bits)
        level = []
        ids = sorted(below)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            stmt = select(*_NODE_COLUMNS).where(R.workspace_id == workspace_id, R.parent_id.in_(chunk))
            level.extend((row, below[row.parent_id]) for row in conn.execute(stmt))
    for start in range(0, len(updates), 1000):
        conn.execute(_SET_BITS, updates[start : start + 1000])
    return len(updates)
