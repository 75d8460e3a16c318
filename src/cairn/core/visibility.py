"""Who sees which resource: the one rule every read path applies, as a SQL clause.

Every list, get, count, facet, member count, export, history and graph query of resources
adds ``resource_clause(principal)`` to its WHERE, so no path can show (or count) what another
hides. The rule, after the workspace:

- archived and stale resources are hidden unless the caller asks for them;
- viewers and guests see published resources only;
- teams: a resource belongs to the teams in its ``teams`` list, and one with an empty list
  belongs to the default team. Admins see every team. Editors and viewers see a resource
  unless all of its teams are CLOSED teams they are not members of (OPEN teams, the default
  team among them, are open to every member of the workspace). Guests see only resources of
  the teams they were given: an empty list counts as the default team, which a guest sees only
  when given it.

A caller's teams are resolved with its key (``team_scope``), so building the clause needs no
query. Rows are tested by their ``team_set`` number (each distinct ``teams`` list, numbered
once by store/team_sets.py on every write of ``teams``): the clause finds the few sets the
caller may (guests) or may not (editors, viewers) see, in a subquery that runs once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Integer,
    and_,
    bindparam,
    exists,
    false,
    literal,
    or_,
    select,
    union_all,
)

from cairn.core.errors import NotFound
from cairn.core.hierarchy import PATH_KEYS, title_full
from cairn.core.principal import Principal
from cairn.store import ancestor_flags, team_sets
from cairn.store.schema import membership, resource, team, team_set_member

R = resource.c
_TM = team.c
_MS = membership.c
_SM = team_set_member.c


@dataclass(frozen=True)
class TeamScope:
    teams: frozenset[str]
    hidden_teams: frozenset[str]
    default_team: str | None


def team_scope(conn: Connection, workspace_id: str, user_id: str | None) -> TeamScope:
    """The teams a user is in, the CLOSED teams they are not in, and the default team."""
    mine: set[str] = set()
    if user_id is not None:
        mine = set(
            conn.execute(
                select(_MS.container_id).where(
                    _MS.workspace_id == workspace_id, _MS.kind == "team", _MS.user_id == user_id
                )
            ).scalars()
        )
    hidden: set[str] = set()
    default: str | None = None
    for team_id, kind, is_default in conn.execute(
        select(_TM.id, _TM.type, _TM.is_default_team).where(_TM.workspace_id == workspace_id)
    ):
        if is_default:
            default = team_id
        elif kind == "CLOSED" and team_id not in mine:
            hidden.add(team_id)
    return TeamScope(frozenset(mine), frozenset(hidden), default)


def scope_key(principal: Principal) -> tuple[Any, ...]:
    """Everything of a caller that ``resource_clause`` depends on: callers with the same key
    get the same clause, so statements built around it can be cached under it."""
    return (
        principal.workspace_id,
        principal.role,
        principal.teams,
        principal.hidden_teams,
        principal.default_team,
    )


T = TypeVar("T")


class Cached(Generic[T]):
    """Values built once per key (statements, and what holds them), bounded: past ``size`` keys
    it starts over (rare: that many caller scopes and shapes in one process)."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._built: dict[Hashable, T] = {}

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        found = self._built.get(key)
        if found is None:
            found = build()
            if len(self._built) >= self._size:
                self._built.clear()
            self._built[key] = found
        return found

    def __len__(self) -> int:
        return len(self._built)


def _team_set_of(table: FromClause) -> ColumnElement[Any]:
    """The team set number of ``table``'s rows: the table's own column (the resource table, an
    alias, the search documents: 0021_search_doc_team_set); for other tables keyed by resource
    ``pk``, looked up by it (a subquery per row)."""
    if "team_set" in table.c:
        return table.c.team_set
    return select(R.team_set).where(R.pk == table.c.pk).scalar_subquery()


def _sets_with_a_team_in(workspace_id: str, teams: list[str]) -> Any:
    return select(_SM.set_id).where(_SM.workspace_id == workspace_id, _SM.team_id.in_(teams))


def _sets_with_a_team_outside(workspace_id: str, teams: list[str]) -> Any:
    return select(_SM.set_id).where(_SM.workspace_id == workspace_id, _SM.team_id.not_in(teams))


def teams_can_hide(principal: Principal) -> bool:
    """Whether ``team_clause`` hides anything from this caller, without building it (building
    the clause costs more than a hot read's query)."""
    if principal.is_admin:
        return False
    return principal.is_guest or bool(principal.hidden_teams)


def team_clause(principal: Principal, table: FromClause = resource) -> ColumnElement[bool] | None:
    """The teams part of the rule for ``table``'s rows, or None when it cannot hide anything.

    The caller's teams pick the team sets it may see (a small subquery, run once) and rows are
    kept by ``team_set IN (those)``, tested inside the list indexes, which carry ``team_set``.
    """
    if not teams_can_hide(principal):
        return None
    ws = principal.workspace_id
    no_teams = select(literal(team_sets.NO_TEAMS, Integer))
    sets: list[Any] = []
    if principal.is_guest:
        mine = sorted(principal.teams)
        if mine:
            sets.append(_sets_with_a_team_in(ws, mine))
        if principal.default_team is not None and principal.default_team in principal.teams:
            sets.append(no_teams)
    else:
        # Visible unless every team is a hidden one: no teams, or some team not hidden.
        sets += [no_teams, _sets_with_a_team_outside(ws, sorted(principal.hidden_teams))]
    if not sets:
        return false()
    return _team_set_of(table).in_(sets[0] if len(sets) == 1 else union_all(*sets))


def resource_clause(
    principal: Principal,
    *,
    include_archived: bool = False,
    include_stale: bool = False,
    table: FromClause = resource,
    path_filter: bool = False,
) -> ColumnElement[bool]:
    """What the caller may see of the ``resource`` table (or of an alias of it, for joins).

    ``path_filter``: the query filters on a path field, which a resource under a hidden
    ancestor must not match (see ``under_hidden_ancestor``).
    """
    conditions = _row_conditions(
        table, principal.workspace_id, include_archived, include_stale, principal.sees_drafts
    )
    teams = team_clause(principal, table)
    if teams is not None:
        conditions.append(teams)
    if path_filter:
        under_hidden = under_hidden_ancestor(principal, table)
        if under_hidden is not None:
            conditions.append(~under_hidden)
    return and_(*conditions)


def _row_conditions(
    table: FromClause, workspace_id: Any, include_archived: bool, include_stale: bool, sees_drafts: bool
) -> list[ColumnElement[bool]]:
    c = table.c
    conditions: list[ColumnElement[bool]] = [c.workspace_id == workspace_id]
    if not include_archived:
        conditions.append(c.archived.is_(False))
    if not include_stale:
        conditions.append(c.stale.is_(False))
    if not sees_drafts:
        conditions.append(c.published.is_(True))
    return conditions


# Every statement built around the rule: list pages and counts, a resource by id, collections,
# the redaction's ancestry. Building a select (and its cache key) cost more than running it on
# the hot paths (a page of columns, a collection by name, one resource).
STATEMENTS: Cached[Any] = Cached()


def statement_for(
    principal: Principal,
    key: Hashable,
    build: Callable[[ColumnElement[bool]], T],
    *,
    include_archived: bool = False,
    include_stale: bool = False,
    path_filter: bool = False,
    scoped: bool = False,
) -> T:
    """``build(resource_clause(principal, ...))``, built once per ``key``, flags and caller scope.

    Callers always pass ``{"ws": principal.workspace_id}`` and name the workspace as
    ``bindparam("ws")`` in what they build: when teams hide nothing (and no path filter needs
    the hidden-ancestor test) the rule names it that way too, and one statement serves every
    workspace and every caller of the same flags; otherwise the statement is the caller
    scope's own (``scope_key``), its rule written with the workspace's id. ``scoped``: what
    ``build`` adds depends on the caller (a path sort's hidden-ancestor test), so the statement
    is always the caller scope's own.
    """
    shared = not scoped and not teams_can_hide(principal) and (principal.is_admin or not path_filter)
    scope: Hashable = principal.sees_drafts if shared else scope_key(principal)
    cache_key = (key, include_archived, include_stale, path_filter, shared, scope)

    def make() -> T:
        if shared:
            conditions = _row_conditions(
                resource, bindparam("ws"), include_archived, include_stale, principal.sees_drafts
            )
            return build(and_(*conditions))
        clause = resource_clause(
            principal, include_archived=include_archived, include_stale=include_stale, path_filter=path_filter
        )
        return build(clause)

    built: T = STATEMENTS.get(cache_key, make)
    return built


def visible_ids(
    conn: Connection,
    principal: Principal,
    ids: list[str],
    *,
    include_archived: bool = False,
    include_stale: bool = False,
) -> set[str]:
    """Which of these resource ids the caller may see (for paths that name resources by id)."""
    found: set[str] = set()
    wanted = list(dict.fromkeys(ids))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(
            conn.execute(
                select(R.id).where(
                    resource_clause(
                        principal, include_archived=include_archived, include_stale=include_stale
                    ),
                    R.id.in_(chunk),
                )
            ).scalars()
        )
    return found


def require_visible(
    conn: Connection,
    principal: Principal,
    pk: int,
    *,
    include_archived: bool = False,
    include_stale: bool = False,
) -> None:
    """Writes reach only what the caller can read: anything else does not exist for them."""
    if principal.is_admin:
        return
    clause = resource_clause(principal, include_archived=include_archived, include_stale=include_stale)
    stmt = select(R.pk).where(R.pk == pk, clause)
    if conn.execute(stmt).first() is None:
        raise NotFound("Not found.")


def visible_row(
    conn: Connection,
    principal: Principal,
    resource_id: str,
    *,
    include_archived: bool = False,
    include_stale: bool = True,
) -> Any:
    """One resource by id if the caller may see it (stale ones stay reachable by id), else None."""
    stmt = statement_for(
        principal, "row_by_id", _row_by_id, include_archived=include_archived, include_stale=include_stale
    )
    return conn.execute(stmt, {"ws": principal.workspace_id, "rid": resource_id}).first()


def _row_by_id(visible: ColumnElement[bool]) -> Any:
    return select(resource).where(visible, R.id == bindparam("rid"))


# search_metadata keys that name a resource's ancestors (the ancestor's type, or its cluster).
_ANCESTRY_KEYS = PATH_KEYS | {"cluster", "database", "schema", "table"}


def hidden_among(conn: Connection, principal: Principal, ids: list[str | None]) -> set[str]:
    """Which of these resource ids the caller may not see."""
    wanted = [i for i in dict.fromkeys(ids) if i]
    if principal.is_admin or not wanted:
        return set()
    return set(wanted) - visible_ids(conn, principal, wanted, include_stale=True)


@dataclass(frozen=True)
class _Ancestor:
    parent_id: str | None
    title: str | None
    entity_type: str
    visible: bool


def _ancestry(conn: Connection, principal: Principal, ids: list[str]) -> dict[str, _Ancestor]:
    """These resources and their ancestors, with whether the caller may see each: one recursive
    query up the parent links, which goes on above a resource only while it is visible and
    flagged (``hidden_above``): redaction stops at the nearest hidden ancestor, and nothing
    above a visible, unflagged one is hidden."""
    stmt = STATEMENTS.get(("ancestry", scope_key(principal)), lambda: _ancestry_statement(principal))
    return {
        row.id: _Ancestor(row.parent_id, row.title, row.entity_type, bool(row.visible))
        for row in conn.execute(stmt, {"ws": principal.workspace_id, "ids": ids})
    }


def _ancestry_statement(principal: Principal) -> Any:
    ws = principal.workspace_id
    mask = ancestry_mask(principal)
    wanted: Any = bindparam("ids", expanding=True)

    def columns(table: FromClause) -> list[Any]:
        visible = resource_clause(principal, include_stale=True, table=table)
        go_on = and_(visible, _flagged(table, mask)) if mask else false()
        c = table.c
        return [c.id, c.parent_id, c.title, c.entity_type, visible.label("visible"), go_on.label("go_on")]

    up = (
        select(*columns(resource))
        .where(R.workspace_id == ws, R.id.in_(wanted))
        .cte("ancestry", recursive=True)
    )
    above = resource.alias("ancestry_row")
    up = up.union(
        select(*columns(above)).where(above.c.workspace_id == ws, above.c.id == up.c.parent_id, up.c.go_on)
    )
    return select(up.c.id, up.c.parent_id, up.c.title, up.c.entity_type, up.c.visible)


def hidden_paths(conn: Connection, principal: Principal, ids: Sequence[str]) -> set[str]:
    """Of these resource ids, those hidden from the caller or under a hidden ancestor: a visible
    resource whose parent is one of them is under an ancestor the caller may not see."""
    if principal.is_admin or not ids:
        return set()
    chain = _ancestry(conn, principal, list(dict.fromkeys(ids)))
    hidden: set[str] = set()
    for start in ids:
        node: str | None = start
        for _ in range(64):
            ancestor = chain.get(node) if node is not None else None
            if ancestor is None:
                break  # the chain ends above a visible, unflagged one: nothing hidden
            if not ancestor.visible:
                hidden.add(start)
                break
            node = ancestor.parent_id
        else:
            hidden.add(start)  # still flagged that far up: treated as hidden (never a leak)
    return hidden


def hidden_above_bits(row: Any) -> int:
    """A resource row's ``hidden_above`` bits; every bit when the row does not carry them (a dict
    built elsewhere), so that it is looked at."""
    bits = row.get("hidden_above") if isinstance(row, dict) else getattr(row, "hidden_above", None)
    return -1 if bits is None else int(bits)


def redact(
    conn: Connection, principal: Principal, entities: list[dict[str, Any]], bits: Sequence[int] | None = None
) -> None:
    """A visible resource under a hidden ancestor does not name it: no parent id when the parent
    is hidden, and its path (``title_full``, the ancestry keys of ``search_metadata``) starts
    below the nearest hidden ancestor, however far up that one is.

    ``bits``: the ``hidden_above`` bits of ``entities``' rows (same order, see
    ``hidden_above_bits``); only those whose bits concern the caller can have anything hidden
    above them, so only they are looked at.
    """
    if principal.is_admin:
        return  # an admin sees everything (and a scan page's thousand parents need not be read)
    if bits is not None:
        mask = ancestry_mask(principal)
        entities = [e for e, b in zip(entities, bits, strict=True) if b & mask]
    parents = [p for p in dict.fromkeys(e.get("parent") for e in entities) if p]
    if not parents:
        return
    chain = _ancestry(conn, principal, parents)
    for entity in entities:
        below: list[_Ancestor] = []  # the visible ancestors under the nearest hidden one, nearest first
        parent = entity.get("parent")
        while parent in chain and len(below) < 64:
            ancestor = chain[parent]
            if not ancestor.visible:
                break
            below.append(ancestor)
            parent = ancestor.parent_id
        else:
            continue  # every ancestor visible (or the chain ends): nothing to hide
        if not below:
            entity["parent"] = None
        path: str | None = None
        for title in [a.title or "" for a in reversed(below)] + [entity.get("title") or ""]:
            path = title_full(title, path)
        entity["title_full"] = path
        kept = {a.entity_type for a in below}
        metadata = entity.get("search_metadata") or {}
        entity["search_metadata"] = {
            k: v for k, v in metadata.items() if k not in _ANCESTRY_KEYS or k in kept
        }


# How far up ``under_hidden_ancestor`` follows flagged ancestors one by one; a row whose
# ancestors are still flagged that far up is treated as under a hidden one (never a leak).
_CHAIN_DEPTH = 6


def ancestry_mask(principal: Principal) -> int:
    """The ``hidden_above`` bits that can hide an ancestor from this caller (0: none can)."""
    if principal.is_admin:
        return 0
    mask = ancestor_flags.ARCHIVED
    if not principal.sees_drafts:
        mask |= ancestor_flags.PUBLISHED
    if teams_can_hide(principal):
        mask |= ancestor_flags.TEAMS
    return mask


def _flagged(table: FromClause, mask: int) -> ColumnElement[bool]:
    flagged: ColumnElement[bool] = table.c.hidden_above.op("&")(mask) != 0
    return flagged


def has_flagged(conn: Connection, principal: Principal) -> bool:
    """Whether any resource of the workspace has an ancestor that may be hidden from the caller
    (one probe of the partial index ``ix_resource_hidden_above``)."""
    mask = ancestry_mask(principal)
    if not mask:
        return False
    probe = select(R.pk).where(
        R.workspace_id == principal.workspace_id, R.hidden_above != 0, _flagged(resource, mask)
    )
    return conn.execute(probe.limit(1)).first() is not None


def _hidden_above(principal: Principal, row: FromClause, mask: int) -> ColumnElement[bool]:
    """Whether one of ``row``'s ancestors is hidden from the caller: the parent links followed
    up, by joins, only while the ancestor reached is flagged (above a visible, unflagged one
    nothing is hidden); an ancestor still flagged ``_CHAIN_DEPTH`` levels up counts as hidden."""
    ws = principal.workspace_id
    chain = [resource.alias(f"ancestor_{depth}") for depth in range(1, _CHAIN_DEPTH + 1)]
    joined: Any = chain[0]
    for below, above in zip(chain, chain[1:], strict=False):
        joined = joined.outerjoin(
            above, and_(above.c.workspace_id == ws, above.c.id == below.c.parent_id, _flagged(below, mask))
        )
    hidden = [
        and_(a.c.pk.is_not(None), ~resource_clause(principal, include_stale=True, table=a)) for a in chain
    ]
    return exists(
        select(literal(1))
        .select_from(joined)
        .where(
            chain[0].c.workspace_id == ws,
            chain[0].c.id == row.c.parent_id,
            or_(*hidden, _flagged(chain[-1], mask)),
        )
    )


def under_hidden_ancestor(principal: Principal, table: FromClause = resource) -> ColumnElement[bool] | None:
    """Whether a resource (a row of ``table``: the resource table, an alias, or a table keyed
    by resource ``pk`` such as the search documents) has an ancestor the caller may not see
    (None: nothing can be hidden from this caller).

    A read that matches, sorts or groups by a path field (``filters.PATH_FIELDS``) must not do so for
    such a resource: its stored path names the hidden ancestor. Only rows whose
    ``hidden_above`` bits concern the caller are looked at (store/ancestor_flags.py); for them
    the parent links are followed up while the ancestors are visible and flagged too (an
    unflagged visible ancestor has nothing hidden above it).
    """
    mask = ancestry_mask(principal)
    if not mask:
        return None
    if "parent_id" in table.c:
        return and_(_flagged(table, mask), _hidden_above(principal, table, mask))
    row = resource.alias("flagged_row")
    return exists().where(row.c.pk == table.c.pk, _flagged(row, mask), _hidden_above(principal, row, mask))


def redact_history(conn: Connection, principal: Principal, versions: list[dict[str, Any]]) -> None:
    """Versions name old and new parents: hidden ones read as null."""
    parents: list[str | None] = []
    for version in versions:
        change = (version.get("changes") or {}).get("parent") or {}
        parents += [change.get("old"), change.get("new")]
    hidden = hidden_among(conn, principal, parents)
    for version in versions:
        change = (version.get("changes") or {}).get("parent")
        if change:
            for side in ("old", "new"):
                if change.get(side) in hidden:
                    change[side] = None
