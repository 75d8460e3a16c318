"""Team sets: each distinct ``teams`` list of a workspace's resources, numbered once.

A resource row carries the number of its team set in ``resource.team_set`` (0: no teams, i.e.
the default team), written with the row on every path that writes ``teams``. Visibility then
tests one integer column of the row (or of an index) against the few sets a caller may or may
not see, instead of joining the resource's team rows for every candidate row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cairn.store.schema import team_set, team_set_member

NO_TEAMS = 0
S = team_set.c


def key_of(teams: Iterable[str]) -> str | None:
    """The set's identity: a digest of its sorted, distinct team ids (None for no teams)."""
    distinct = sorted(set(teams))
    if not distinct:
        return None
    return hashlib.sha1("\n".join(distinct).encode()).hexdigest()


def ids_for(conn: Connection, workspace_id: str, team_lists: Sequence[Sequence[str] | None]) -> list[int]:
    """The team set number of each ``teams`` list, creating the sets not seen before.

    Concurrent writers creating the same set meet on the unique key: the loser's insert does
    nothing and it reads the winner's row, which commits with its members.
    """
    keys = [key_of(teams) if teams else None for teams in team_lists]
    wanted = {key: teams for key, teams in zip(keys, team_lists, strict=True) if key is not None}
    known = _known(conn, workspace_id, list(wanted))
    missing = [key for key in wanted if key not in known]
    if missing:
        dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        for key in missing:
            created = conn.execute(
                dialect_insert(team_set)
                .values(workspace_id=workspace_id, teams_key=key)
                .on_conflict_do_nothing(index_elements=["workspace_id", "teams_key"])
                .returning(S.id)
            ).scalar_one_or_none()
            if created is not None:
                conn.execute(
                    team_set_member.insert(),
                    [
                        {"set_id": created, "workspace_id": workspace_id, "team_id": team_id}
                        for team_id in sorted(set(wanted[key] or ()))
                    ],
                )
        known.update(_known(conn, workspace_id, missing))
    return [NO_TEAMS if key is None else known[key] for key in keys]


def _known(conn: Connection, workspace_id: str, keys: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        stmt = select(S.teams_key, S.id).where(S.workspace_id == workspace_id, S.teams_key.in_(chunk))
        found.update({key: int(set_id) for key, set_id in conn.execute(stmt)})
    return found
