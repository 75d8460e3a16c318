"""Table definitions shared by SQLite and PostgreSQL (SQLAlchemy Core).

Every row carries ``workspace_id``: tenancy is enforced by the queries, and every index starts
with it. Resources have an integer surrogate key (``pk``) for compact link rows and for the
full-text index, and a public UUID ``id`` unique within the workspace.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

from cairn.models.resources import LIST_FIELDS

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Json = JSON().with_variant(JSONB(), "postgresql")
# Text sorts and compares byte-wise on both backends, so pages and filters agree.
Str = String().with_variant(String(collation="C"), "postgresql")
Id = String(36)
Pk = BigInteger().with_variant(Integer(), "sqlite")
Timestamp = DateTime(timezone=True)

organization = Table(
    "organization",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", Str, nullable=False),
    Column("created_at", Timestamp, nullable=False),
)

workspace = Table(
    "workspace",
    metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", Id, ForeignKey("organization.id"), nullable=False),
    Column("name", Str, nullable=False),
    Column("created_at", Timestamp, nullable=False),
)

api_key = Table(
    "api_key",
    metadata,
    Column("id", Id, primary_key=True),
    Column("workspace_id", Id, ForeignKey("workspace.id"), nullable=False),
    Column("name", Str, nullable=False),
    Column("role", String(16), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", Timestamp, nullable=False),
    Column("last_used_at", Timestamp),
    Column("expires_at", Timestamp),
    Column("revoked_at", Timestamp),
)

integration = Table(
    "integration",
    metadata,
    Column("pk", Pk, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, ForeignKey("workspace.id"), nullable=False),
    Column("id", Id, nullable=False),
    Column("name", Str, nullable=False),
    Column("type", Str, nullable=False),
    Column("credentials", Json, nullable=False),
    Column("teams", Json, nullable=False),
    Column("properties", Json, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("workspace_id", "id", name="uq_integration_workspace_id"),
)


resource = Table(
    "resource",
    metadata,
    Column("pk", Pk, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, ForeignKey("workspace.id"), nullable=False),
    Column("id", Id, nullable=False),
    Column("entity_type", String(32), nullable=False),
    Column("native_type", Str),
    Column("icon", Str),
    Column("title", Str),
    Column("title_full", Str),
    Column("title_cased", Str),
    Column("description", Text),
    Column("definition", Text),
    Column("definition_version", Integer, nullable=False, default=1),
    Column("parent_id", Id),
    Column("integration_id", Id),
    Column("children_count", Integer, nullable=False, default=0),
    Column("published", Boolean, nullable=False, default=False),
    Column("archived", Boolean, nullable=False, default=False),
    Column("archived_at", Timestamp),
    Column("pii", Boolean, nullable=False, default=False),
    Column("verified", Boolean, nullable=False, default=False),
    Column("stale", Boolean, nullable=False, default=False),
    Column("stale_at", Timestamp),
    Column("forced_unstale_by_user", Boolean, nullable=False, default=False),
    Column("url", Text),
    Column("internal_usage", BigInteger, nullable=False, default=0),
    Column("external_usage", BigInteger, nullable=False, default=0),
    Column("row_count", BigInteger),
    Column("byte_size", BigInteger),
    Column("databuilder_id", Str),
    Column("external_updated_at", Timestamp),
    Column("search_metadata", Json, nullable=False),
    Column("display_metadata", Json, nullable=False),
    *(Column(name, Json, nullable=False) for name in LIST_FIELDS),
    Column("multiplayer_last_modified_by", Id),
    Column("multiplayer_last_modified", Timestamp),
    Column("question_status", Str),
    Column("question_priority", Str),
    Column("question_answered_by", Str),
    Column("question_assigned_to", Str),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("workspace_id", "id", name="uq_resource_workspace_id"),
)

Index(
    "ix_resource_parent",
    resource.c.workspace_id,
    resource.c.parent_id,
    resource.c.external_usage,
    resource.c.archived,
    resource.c.stale,
)
Index(
    "ix_resource_type_usage",
    resource.c.workspace_id,
    resource.c.entity_type,
    resource.c.external_usage,
    resource.c.archived,
    resource.c.stale,
    resource.c.title,
)
Index("ix_resource_usage", resource.c.workspace_id, resource.c.external_usage)
Index("ix_resource_integration", resource.c.workspace_id, resource.c.integration_id)
Index("ix_resource_databuilder", resource.c.workspace_id, resource.c.databuilder_id)
Index("ix_resource_title", resource.c.workspace_id, resource.c.title)

resource_member = Table(
    "resource_member",
    metadata,
    Column(
        "resource_pk",
        Pk,
        ForeignKey("resource.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("workspace_id", Id, nullable=False),
    Column("field", String(24), nullable=False),
    Column("value", Str, nullable=False),
)
Index(
    "ix_resource_member_lookup",
    resource_member.c.workspace_id,
    resource_member.c.field,
    resource_member.c.value,
    resource_member.c.resource_pk,
)
# Each list field is kept as JSON on the row (what reads return) and mirrored here (what
# filters and membership counts use).
Index("ix_resource_member_resource", resource_member.c.resource_pk)

# One row per change of a resource; ``snapshot`` is the state after the change.
resource_version = Table(
    "resource_version",
    metadata,
    Column("pk", Pk, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, nullable=False),
    Column("resource_id", Id, nullable=False),
    Column("version", Integer, nullable=False),
    Column("event", String(16), nullable=False),
    Column("actor_id", Id),
    Column("actor_name", Str),
    Column("at", Timestamp, nullable=False),
    Column("changes", Json, nullable=False),
    Column("snapshot", Json, nullable=False),
    UniqueConstraint("workspace_id", "resource_id", "version", name="uq_resource_version_version"),
)

# What a collection has beyond the resource it is (its resource row carries name/title,
# description, owners...): Kontent.ai identity and order, DataForce type and labels.
collection = Table(
    "collection",
    metadata,
    Column("resource_pk", Pk, ForeignKey("resource.pk", ondelete="CASCADE"), primary_key=True),
    Column("workspace_id", Id, nullable=False),
    Column("codename", Str, nullable=False),
    Column("external_id", Str),
    Column("position", Integer, nullable=False),
    Column("collection_type", String(16)),
    Column("labels", Json, nullable=False),
    UniqueConstraint("workspace_id", "codename", name="uq_collection_codename"),
    UniqueConstraint("workspace_id", "external_id", name="uq_collection_external_id"),
)
Index("ix_collection_position", collection.c.workspace_id, collection.c.position)

workspace_state = Table(
    "workspace_state",
    metadata,
    Column("workspace_id", Id, ForeignKey("workspace.id"), primary_key=True),
    Column("collections_modified_at", Timestamp),
)
