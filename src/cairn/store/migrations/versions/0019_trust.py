"""ancestor flags: which resources have an ancestor more restricted than themselves

Revision ID: 0019_trust
Revises: 0019_search

A resource's stored path (``title_full``, the ancestry keys of ``search_metadata``) names every
ancestor; a search that matched it, a sort by it, or a path filter let a caller find the name of
a hidden schema through the tables under it that it may see. ``resource.hidden_above`` (bits,
see store/ancestor_flags.py) marks the rows with an ancestor that is unpublished, archived or
in teams that do not cover the row's, so reads check exactly, per caller, only those rows. A
partial index holds the flagged rows alone. Existing rows are computed here, parents first.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_trust"
down_revision: str | None = "0019_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The bits of store/ancestor_flags.py, repeated so that this migration never changes with it.
PUBLISHED = 1
ARCHIVED = 2
TEAMS = 4


def upgrade() -> None:
    op.add_column("resource", sa.Column("hidden_above", sa.Integer(), nullable=False, server_default="0"))
    _flag_existing_rows()
    op.create_index(
        "ix_resource_hidden_above",
        "resource",
        ["workspace_id", "hidden_above"],
        sqlite_where=sa.text("hidden_above != 0"),
        postgresql_where=sa.text("hidden_above != 0"),
    )


def _flag_existing_rows() -> None:
    conn = op.get_bind()
    # A resource in no team is in the default team: the empty string stands for it.
    teams: dict[int, set[str]] = {}
    for pk, team_id in conn.execute(
        sa.text("SELECT resource_pk, value FROM resource_member WHERE field = 'teams'")
    ):
        teams.setdefault(pk, set()).add(team_id)
    nodes: dict[tuple[str, str], tuple[int, str | None, bool, bool]] = {}
    for pk, workspace_id, rid, parent_id, published, archived in conn.execute(
        sa.text("SELECT pk, workspace_id, id, parent_id, published, archived FROM resource")
    ):
        nodes[(workspace_id, rid)] = (pk, parent_id, bool(published), bool(archived))
    bits: dict[tuple[str, str], int] = {}
    updates: list[dict[str, int]] = []
    for key in nodes:
        chain = [key]
        while True:  # up to the first computed ancestor (or a root), then down again
            parent_id = nodes[chain[-1]][1]
            parent = (key[0], parent_id) if parent_id is not None else None
            if parent is None or parent not in nodes or parent in bits or len(chain) > len(nodes):
                break
            chain.append(parent)
        for item in reversed(chain):
            if item in bits:
                continue
            pk, parent_id, published, archived = nodes[item]
            parent = (item[0], parent_id) if parent_id is not None else None
            value = 0
            if parent is not None and parent in nodes and parent in bits:
                ppk, _, ppublished, parchived = nodes[parent]
                pbits = bits[parent]
                mine = teams.get(pk) or {""}
                if published and (not ppublished or pbits & PUBLISHED):
                    value |= PUBLISHED
                if not archived and (parchived or pbits & ARCHIVED):
                    value |= ARCHIVED
                if pbits & TEAMS or not (teams.get(ppk) or {""}) >= mine:
                    value |= TEAMS
            bits[item] = value
            if value:
                updates.append({"b": value, "pk": pk})
    for start in range(0, len(updates), 10_000):
        conn.execute(
            sa.text("UPDATE resource SET hidden_above = :b WHERE pk = :pk"), updates[start : start + 10_000]
        )


def downgrade() -> None:
    # A bulk import may have the index deferred (store/deferred_indexes.py): then it is not there
    # to drop, and its recorded definition must go with the column it names.
    op.execute("DELETE FROM deferred_index WHERE name = 'ix_resource_hidden_above'")
    op.drop_index("ix_resource_hidden_above", table_name="resource", if_exists=True)
    op.drop_column("resource", "hidden_above")
