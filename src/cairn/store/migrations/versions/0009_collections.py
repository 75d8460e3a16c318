"""collections: codename, external id, order, type and labels; the Default collection

Revision ID: 0009_collections
Revises: 0008_list_indexes
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009_collections"
down_revision: str | None = "0008_list_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
Str = sa.String().with_variant(sa.String(collation="C"), "postgresql")
Pk = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DEFAULT_ID = "00000000-0000-0000-0000-000000000000"


def upgrade() -> None:
    op.create_table(
        "collection",
        sa.Column("resource_pk", Pk, nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("codename", Str, nullable=False),
        sa.Column("external_id", Str, nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("collection_type", sa.String(length=16), nullable=True),
        sa.Column("labels", Json, nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_pk"],
            ["resource.pk"],
            name=op.f("fk_collection_resource_pk_resource"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("resource_pk", name=op.f("pk_collection")),
        sa.UniqueConstraint("workspace_id", "codename", name="uq_collection_codename"),
        sa.UniqueConstraint("workspace_id", "external_id", name="uq_collection_external_id"),
    )
    op.create_index("ix_collection_position", "collection", ["workspace_id", "position"])
    op.create_table(
        "workspace_state",
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("collections_modified_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_workspace_state_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_workspace_state")),
    )
    # Collections made before this revision get a codename and a place in the order; every
    # workspace gets its Default collection.
    conn = op.get_bind()
    now = datetime.now(UTC)
    resource = sa.table(
        "resource",
        *(sa.column(n) for n in ("pk", "workspace_id", "id", "entity_type", "title")),
    )
    collection = sa.table(
        "collection",
        *(sa.column(n) for n in ("resource_pk", "workspace_id", "codename", "position")),
        sa.column("labels", Json),
    )
    taken: dict[str, set[str]] = {}
    positions: dict[str, int] = {}
    rows = conn.execute(
        sa.select(resource.c.pk, resource.c.workspace_id, resource.c.title)
        .where(resource.c.entity_type == "collection")
        .order_by(resource.c.pk)
    ).all()
    for row in rows:
        names = taken.setdefault(row.workspace_id, {"default"})
        base = "".join(ch if ch.isalnum() else "_" for ch in (row.title or "collection").lower()).strip("_")
        codename = base or "collection"
        n = 2
        while codename in names:
            codename = f"{base}_{n}"
            n += 1
        names.add(codename)
        positions[row.workspace_id] = positions.get(row.workspace_id, 0) + 1
        conn.execute(
            collection.insert().values(
                resource_pk=row.pk,
                workspace_id=row.workspace_id,
                codename=codename,
                position=positions[row.workspace_id],
                labels=[],
            )
        )
    for (workspace_id,) in conn.execute(sa.text("SELECT id FROM workspace")).all():
        conn.execute(
            sa.text(
                "INSERT INTO resource (workspace_id, id, entity_type, title, title_full, title_cased, "
                "definition_version, children_count, published, archived, pii, verified, stale, "
                "forced_unstale_by_user, internal_usage, external_usage, search_metadata, display_metadata, "
                "owners, owners_groups, collections, tags, teams, subscribers, bookmarked_by, internal_users, "
                "external_users, sources, multiplayers, created_at, updated_at) VALUES (:ws, :id, 'collection', "
                "'Default', 'Default', 'default', 1, 0, true, false, false, false, false, false, 0, 0, "
                "'{\"type\": \"collection\"}', '{}', '[]', '[]', '[]', '[]', '[]', '[]', '[]', '[]', '[]', '[]', '[]', "
                ":now, :now)"
            ),
            {"ws": workspace_id, "id": DEFAULT_ID, "now": now},
        )
        pk = conn.execute(
            sa.text("SELECT pk FROM resource WHERE workspace_id = :ws AND id = :id"),
            {"ws": workspace_id, "id": DEFAULT_ID},
        ).scalar_one()
        conn.execute(
            collection.insert().values(
                resource_pk=pk, workspace_id=workspace_id, codename="default", position=0, labels=[]
            )
        )


def downgrade() -> None:
    op.execute(f"DELETE FROM resource WHERE id = '{DEFAULT_ID}' AND entity_type = 'collection'")
    op.drop_table("workspace_state")
    op.drop_index("ix_collection_position", table_name="collection")
    op.drop_table("collection")
