"""team sets: a resource's teams as one indexed number, for the visibility rule

Revision ID: 0017_trust_team_sets
Revises: 0017_extractions

Visibility joined each candidate row's team rows (``resource_member``) to decide whether
teams hide it: at a million resources that made an editor's or guest's list several times
an admin's. Each distinct ``teams`` list of a workspace becomes a row of ``team_set`` (with
its teams in ``team_set_member``) and every resource carries the number of its set in
``resource.team_set`` (0: no teams). The list indexes end with ``team_set`` (and
``ix_resource_usage`` with the flags the rule tests too), so a non-admin's list filters
inside the same index scan as an admin's. Existing rows are numbered from their team rows.

An index leading with (workspace, archived, stale, team_set) would count an unfiltered list
as one range per visible team set, but with its statistics SQLite's planner stopped walking
``ix_resource_usage`` for the first page (a full scan and sort of a million rows instead).
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_trust_team_sets"
down_revision: str | None = "0017_extractions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {
    "ix_resource_type_usage": (
        ["workspace_id", "entity_type", "external_usage", "archived", "stale", "title"],
        ["team_set"],
    ),
    "ix_resource_type_published": (
        ["workspace_id", "entity_type", "published", "archived", "stale", "external_usage", "title"],
        ["team_set"],
    ),
    "ix_resource_usage": (["workspace_id", "external_usage"], ["archived", "stale", "published", "team_set"]),
}


def upgrade() -> None:
    op.create_table(
        "team_set",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(36), nullable=False),
        sa.Column("teams_key", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_team_set"),
        sa.UniqueConstraint("workspace_id", "teams_key", name="uq_team_set_workspace_id"),
    )
    op.create_table(
        "team_set_member",
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(36), nullable=False),
        sa.Column("workspace_id", sa.String(36), nullable=False),
        sa.ForeignKeyConstraint(
            ["set_id"], ["team_set.id"], name="fk_team_set_member_set_id_team_set", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("set_id", "team_id", name="pk_team_set_member"),
    )
    op.create_index("ix_team_set_member_team", "team_set_member", ["workspace_id", "team_id", "set_id"])
    op.add_column("resource", sa.Column("team_set", sa.Integer(), nullable=False, server_default="0"))
    _number_existing_rows()
    for name, (columns, added) in _INDEXES.items():
        op.drop_index(name, table_name="resource")
        op.create_index(name, "resource", columns + added)
    # Without statistics for the new indexes SQLite's planner can prefer scanning one of them
    # over a narrow lookup (see 0016_perf); both backends get fresh ones.
    op.execute("ANALYZE resource")


def _number_existing_rows() -> None:
    conn = op.get_bind()
    teams_of: dict[int, tuple[str, list[str]]] = {}
    rows = conn.execute(
        sa.text(
            "SELECT m.resource_pk, m.workspace_id, m.value FROM resource_member m"
            " WHERE m.field = 'teams' ORDER BY m.resource_pk"
        )
    )
    for pk, workspace_id, team_id in rows:
        teams_of.setdefault(pk, (workspace_id, []))[1].append(team_id)
    numbers: dict[tuple[str, str], int] = {}
    updates: list[dict[str, int]] = []
    for pk, (workspace_id, teams) in teams_of.items():
        distinct = sorted(set(teams))
        key = (workspace_id, hashlib.sha1("\n".join(distinct).encode()).hexdigest())
        if key not in numbers:
            numbers[key] = conn.execute(
                sa.text("INSERT INTO team_set (workspace_id, teams_key) VALUES (:ws, :key) RETURNING id"),
                {"ws": key[0], "key": key[1]},
            ).scalar_one()
            conn.execute(
                sa.text("INSERT INTO team_set_member (set_id, team_id, workspace_id) VALUES (:s, :t, :ws)"),
                [{"s": numbers[key], "t": team_id, "ws": workspace_id} for team_id in distinct],
            )
        updates.append({"n": numbers[key], "pk": pk})
    for start in range(0, len(updates), 10_000):
        conn.execute(
            sa.text("UPDATE resource SET team_set = :n WHERE pk = :pk"), updates[start : start + 10_000]
        )


def downgrade() -> None:
    for name, (columns, _added) in _INDEXES.items():
        op.drop_index(name, table_name="resource")
        op.create_index(name, "resource", columns)
    op.drop_column("resource", "team_set")
    op.drop_index("ix_team_set_member_team", table_name="team_set_member")
    op.drop_table("team_set_member")
    op.drop_table("team_set")
