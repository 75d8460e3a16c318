"""surface: label tags, users, teams, groups, custom properties, details, runs, audit log, rate limits

Revision ID: 0004_surface
Revises: 0010_covering_indexes
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import uuid4

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_surface"
down_revision: str | None = "0010_covering_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
Str = sa.String().with_variant(sa.String(collation="C"), "postgresql")
Pk = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Id = sa.String(length=36)
Ts = sa.DateTime(timezone=True)

SIDEBAR = {
    "home": True,
    "catalog": True,
    "documents": True,
    "questions": True,
    "glossary": True,
    "collections": True,
}


def _workspace_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id"], ["workspace.id"], name=op.f(f"fk_{table}_workspace_id_workspace")
    )


def upgrade() -> None:
    op.create_table(
        "tag",
        sa.Column("pk", Pk, autoincrement=True, nullable=False),
        sa.Column("workspace_id", Id, nullable=False),
        sa.Column("id", Id, nullable=False),
        sa.Column("name", Str, nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("color", sa.String(length=32), nullable=True),
        sa.Column("integration_id", Id, nullable=True),
        sa.Column("created_at", Ts, nullable=False),
        sa.Column("updated_at", Ts, nullable=False),
        _workspace_fk("tag"),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_tag")),
        sa.UniqueConstraint("workspace_id", "id", name="uq_tag_workspace_id"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_tag_name"),
    )
    op.create_table(
        "catalog_user",
        sa.Column("pk", Pk, autoincrement=True, nullable=False),
        sa.Column("workspace_id", Id, nullable=False),
        sa.Column("id", Id, nullable=False),
        sa.Column("email", Str, nullable=False),
        sa.Column("email_key", Str, nullable=False),
        sa.Column("first_name", Str, nullable=False),
        sa.Column("last_name", Str, nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("is_service_account", sa.Boolean(), nullable=False),
        sa.Column("profile_picture", sa.Text(), nullable=True),
        sa.Column("last_login", Ts, nullable=True),
        sa.Column("created_at", Ts, nullable=False),
        sa.Column("updated_at", Ts, nullable=False),
        _workspace_fk("catalog_user"),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_catalog_user")),
        sa.UniqueConstraint("workspace_id", "id", name="uq_catalog_user_workspace_id"),
        sa.UniqueConstraint("workspace_id", "email_key", name="uq_catalog_user_email"),
    )
    op.create_table(
        "team",
        sa.Column("pk", Pk, autoincrement=True, nullable=False),
        sa.Column("workspace_id", Id, nullable=False),
        sa.Column("id", Id, nullable=False),
        sa.Column("name", Str, nullable=False),
        sa.Column("icon", Str, nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("type", sa.String(length=8), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("is_default_team", sa.Boolean(), nullable=False),
        sa.Column("onboarding_completed", sa.Boolean(), nullable=False),
        sa.Column("sidebar_settings", Json, nullable=False),
        sa.Column("created_at", Ts, nullable=False),
        sa.Column("updated_at", Ts, nullable=False),
        _workspace_fk("team"),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_team")),
        sa.UniqueConstraint("workspace_id", "id", name="uq_team_workspace_id"),
    )
    op.create_table(
        "user_group",
        sa.Column("pk", Pk, autoincrement=True, nullable=False),
        sa.Column("workspace_id", Id, nullable=False),
        sa.Column("id", Id, nullable=False),
        sa.Column("name", Str, nullable=False),
        sa.Column("icon", Str, nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("snowflake_role", Str, nullable=True),
        sa.Column("created_at", Ts, nullable=False),
        sa.Column("updated_at", Ts, nullable=False),
        _workspace_fk("user_group"),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_user_group")),
        sa.UniqueConstraint("workspace_id", "id", name="uq_user_group_workspace_id"),
    )
    op.create_table(
        "membership",
        sa.Column("workspace_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("container_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.UniqueConstraint("workspace_id", "kind", "container_id", "user_id", name="uq_membership_member"),
    )
    op.create_index("ix_membership_user", "membership", ["workspace_id", "user_id"])
    op.create_table(
        "custom_property",
        sa.Column("pk", Pk, autoincrement=True, nullable=False),
        sa.Column("workspace_id", Id, nullable=False),
        sa.Column("id", Id, nullable=False),
        sa.Column("name", Str, nullable=False),
        sa.Column("entity_types", Json, nullable=False),
        sa.Column("value_type", sa.String(length=32), nullable=False),
        sa.Column("integration_id", Id, nullable=True),
        sa.Column("created_at", Ts, nullable=False),
        sa.Column("updated_at", Ts, nullable=False),
        _workspace_fk("custom_property"),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_custom_property")),
        sa.UniqueConstraint("workspace_id", "id", name="uq_custom_property_workspace_id"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_custom_property_name"),
    )
    op.create_table(
        "custom_property_value",
        sa.Column("property_pk", Pk, nullable=False),
        sa.Column("resource_pk", Pk, nullable=False),
        sa.Column("workspace_id", Id, nullable=False),
        sa.Column("value", Json, nullable=False),
        sa.Column("created_at", Ts, nullable=False),
        sa.Column("updated_at", Ts, nullable=False),
        sa.ForeignKeyConstraint(
            ["property_pk"],
            ["custom_property.pk"],
            name=op.f("fk_custom_property_value_property_pk_custom_property"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resource_pk"],
            ["resource.pk"],
            name=op.f("fk_custom_property_value_resource_pk_resource"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("property_pk", "resource_pk", name="uq_custom_property_value_pair"),
    )
    op.create_index("ix_custom_property_value_resource", "custom_property_value", ["resource_pk"])
    op.create_table(
        "resource_detail",
        sa.Column("resource_pk", Pk, nullable=False),
        sa.Column("workspace_id", Id, nullable=False),
        sa.Column("data", Json, nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_pk"],
            ["resource.pk"],
            name=op.f("fk_resource_detail_resource_pk_resource"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("resource_pk", name=op.f("pk_resource_detail")),
    )
    op.create_table(
        "run",
        sa.Column("pk", Pk, autoincrement=True, nullable=False),
        sa.Column("resource_pk", Pk, nullable=False),
        sa.Column("workspace_id", Id, nullable=False),
        sa.Column("id", Id, nullable=False),
        sa.Column("run_key", Str, nullable=False),
        sa.Column("name", Str, nullable=False),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("started_at", Ts, nullable=True),
        sa.Column("finished_at", Ts, nullable=True),
        sa.Column("details", Json, nullable=False),
        sa.Column("created_at", Ts, nullable=False),
        sa.Column("updated_at", Ts, nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_pk"], ["resource.pk"], name=op.f("fk_run_resource_pk_resource"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_run")),
        sa.UniqueConstraint("resource_pk", "run_key", name="uq_run_key"),
    )
    op.create_index("ix_run_resource_started", "run", ["resource_pk", "started_at"])
    op.create_table(
        "audit_event",
        sa.Column("pk", Pk, autoincrement=True, nullable=False),
        sa.Column("workspace_id", Id, nullable=False),
        sa.Column("id", Id, nullable=False),
        sa.Column("created_at", Ts, nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("resource_type", sa.String(length=32), nullable=False),
        sa.Column("resource_id", Str, nullable=True),
        sa.Column("resource_title", Str, nullable=True),
        sa.Column("performer_id", Id, nullable=True),
        sa.Column("performer_name", Str, nullable=True),
        sa.Column("details", Json, nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_audit_event")),
    )
    op.create_index("ix_audit_event_time", "audit_event", ["workspace_id", "created_at"])
    op.create_table(
        "rate_window",
        sa.Column("workspace_id", Id, nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("minute", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "scope", "minute", name=op.f("pk_rate_window")),
    )
    # Every workspace made before this revision gets its default "General" team.
    conn = op.get_bind()
    now = datetime.now(UTC)
    workspace = sa.table("workspace", sa.column("id"))
    team = sa.table(
        "team",
        *(
            sa.column(name)
            for name in (
                "workspace_id",
                "id",
                "name",
                "icon",
                "description",
                "type",
                "archived",
                "is_default_team",
                "onboarding_completed",
                "created_at",
                "updated_at",
            )
        ),
        sa.column("sidebar_settings", Json),
    )
    for (workspace_id,) in conn.execute(sa.select(workspace.c.id)).all():
        conn.execute(
            team.insert().values(
                workspace_id=workspace_id,
                id=str(uuid4()),
                name="General",
                icon=None,
                description="Everyone in the workspace",
                type="OPEN",
                archived=False,
                is_default_team=True,
                onboarding_completed=True,
                sidebar_settings=SIDEBAR,
                created_at=now,
                updated_at=now,
            )
        )


def downgrade() -> None:
    for table in (
        "rate_window",
        "audit_event",
        "run",
        "resource_detail",
        "custom_property_value",
        "custom_property",
        "membership",
        "user_group",
        "team",
        "catalog_user",
        "tag",
    ):
        op.drop_table(table)
