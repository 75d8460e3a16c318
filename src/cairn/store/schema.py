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
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR

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
    # The catalog user the key acts for (None: a workspace key with only its role).
    Column("user_id", Id),
)
Index("ix_api_key_user", api_key.c.workspace_id, api_key.c.user_id)

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
    # The number of the resource's ``teams`` list in ``team_set`` (0: no teams), kept with the
    # row by every write of ``teams`` (store/team_sets.py): what the visibility rule tests.
    Column("team_set", Integer, nullable=False, default=0, server_default="0"),
    # Bits saying which of the row's ancestors may be more restricted than the row itself (0:
    # none), kept by store/ancestor_flags.py on every write: reads check the few flagged rows.
    Column("hidden_above", Integer, nullable=False, default=0, server_default="0"),
)
# A named index, not a table constraint (migration 0019_import): on SQLite only an index can be
# dropped, which an import into an empty database does to build it once at the end.
Index("uq_resource_workspace_id", resource.c.workspace_id, resource.c.id, unique=True)

Index(
    "ix_resource_parent",
    resource.c.workspace_id,
    resource.c.parent_id,
    resource.c.external_usage,
    resource.c.archived,
    resource.c.stale,
)
# The list indexes end with what the visibility rule tests (team_set, and published where it
# is not a key column), so a list for any role counts and pages from the index alone.
Index(
    "ix_resource_type_usage",
    resource.c.workspace_id,
    resource.c.entity_type,
    resource.c.external_usage,
    resource.c.archived,
    resource.c.stale,
    resource.c.title,
    resource.c.team_set,
)
# Viewers' and guests' lists (published only) count from this index alone.
Index(
    "ix_resource_type_published",
    resource.c.workspace_id,
    resource.c.entity_type,
    resource.c.published,
    resource.c.archived,
    resource.c.stale,
    resource.c.external_usage,
    resource.c.title,
    resource.c.team_set,
)
Index(
    "ix_resource_usage",
    resource.c.workspace_id,
    resource.c.external_usage,
    resource.c.archived,
    resource.c.stale,
    resource.c.published,
    resource.c.team_set,
)
# What a caller may see, by key: an unfiltered list's count is one range per visible team set
# (no per-entry test), for every role. Sorted pages keep walking ``ix_resource_usage``
# (``store/resources.py`` names it to SQLite's planner, which would otherwise scan and sort).
Index(
    "ix_resource_visible",
    resource.c.workspace_id,
    resource.c.archived,
    resource.c.stale,
    resource.c.team_set,
    resource.c.published,
)
# The flagged rows only (few in most catalogs): whether a workspace has any is one probe. Partial,
# so the planner never weighs it for another query.
Index(
    "ix_resource_hidden_above",
    resource.c.workspace_id,
    resource.c.hidden_above,
    sqlite_where=resource.c.hidden_above != 0,
    postgresql_where=resource.c.hidden_above != 0,
)
Index("ix_resource_integration", resource.c.workspace_id, resource.c.integration_id)
Index("ix_resource_databuilder", resource.c.workspace_id, resource.c.databuilder_id)
Index("ix_resource_title", resource.c.workspace_id, resource.c.title, resource.c.entity_type)

# Each distinct ``teams`` list of a workspace once (``teams_key``: a digest of its sorted ids),
# with its teams: the visibility rule finds the few sets a caller may (not) see here.
team_set = Table(
    "team_set",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, nullable=False),
    Column("teams_key", String(40), nullable=False),
    UniqueConstraint("workspace_id", "teams_key", name="uq_team_set_workspace_id"),
)
team_set_member = Table(
    "team_set_member",
    metadata,
    Column("set_id", Integer, ForeignKey("team_set.id", ondelete="CASCADE"), primary_key=True),
    Column("team_id", Id, primary_key=True),
    Column("workspace_id", Id, nullable=False),
)
Index(
    "ix_team_set_member_team",
    team_set_member.c.workspace_id,
    team_set_member.c.team_id,
    team_set_member.c.set_id,
)

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
# With field and value: a permission check's probe of a resource's teams reads only the index.
Index(
    "ix_resource_member_resource",
    resource_member.c.resource_pk,
    resource_member.c.field,
    resource_member.c.value,
)

# The full-text index (migration 0012_search), kept by triggers on ``resource`` so every write
# path updates it in its own transaction. PostgreSQL: this table (weights: A title, B
# title_full, C description, D definition). SQLite: the contentless FTS5 table ``resource_fts``
# (rowid = resource.pk; columns title, title_full, description, definition), a virtual table
# SQLAlchemy cannot describe.
resource_search = Table(
    "resource_search",
    metadata,
    Column("resource_pk", Pk, ForeignKey("resource.pk", ondelete="CASCADE"), primary_key=True),
    Column("vector", TSVECTOR().with_variant(Text(), "sqlite"), nullable=False),
    Column("is_column", Boolean, nullable=False, server_default=text("false")),
)
# A small pending list (migration 0017_search_gin): every lexeme probe scans it.
Index(
    "ix_resource_search_vector",
    resource_search.c.vector,
    postgresql_using="gin",
    postgresql_with={"gin_pending_list_limit": 256},
)
# The lane without columns (migration 0019_search; SQLite: the FTS5 table
# ``resource_fts_entities``): pages and facets of other resources never visit column matches.
Index(
    "ix_resource_search_entities",
    resource_search.c.vector,
    postgresql_using="gin",
    postgresql_with={"gin_pending_list_limit": 256},
    postgresql_where=~resource_search.c.is_column,
)

# One narrow row per resource with what a search reads of each match (migration
# 0012_search_doc, kept by triggers on ``resource``): the visibility columns (``team_set`` since
# 0021_search_doc_team_set; the ancestry flags and parent the search path guard reads since
# 0022_search_doc_ancestry), facet values, the ranking boost and the title/path words the
# ranking tiers test.
search_doc = Table(
    "search_doc",
    metadata,
    Column("pk", Pk, ForeignKey("resource.pk", ondelete="CASCADE"), primary_key=True),
    Column("workspace_id", Id, nullable=False),
    Column("entity_type", String(32), nullable=False),
    Column("published", Boolean, nullable=False),
    Column("archived", Boolean, nullable=False),
    Column("stale", Boolean, nullable=False),
    Column("integration_id", Id),
    Column("database", Str),
    Column("schema", Str),
    Column("boost", Float, nullable=False),
    Column("title_key", Str, nullable=False),
    Column("title_words", Str, nullable=False),
    Column("path_words", Str, nullable=False),
    Column("team_set", Integer, nullable=False, default=0, server_default="0"),
    Column("hidden_above", Integer, nullable=False, default=0, server_default="0"),
    Column("parent_id", Id),
)
# The columns whose title is exactly a query, best boost first (migration 0019_search): the top
# of a page of column matches without visiting every column that matches.
Index(
    "ix_search_doc_title_key",
    search_doc.c.title_key,
    search_doc.c.entity_type,
    search_doc.c.boost.desc(),
    search_doc.c.pk,
)

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

# ---- the rest of the Secoda surface (tags, people, custom properties, runs, audit, limits) ----

# Label-style tags (``/tag/tags``); a resource's ``tags`` list holds their ids.
tag = Table(
    "tag",
    metadata,
    Column("pk", Pk, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, ForeignKey("workspace.id"), nullable=False),
    Column("id", Id, nullable=False),
    Column("name", Str, nullable=False),
    Column("description", Text),
    Column("color", String(32)),
    Column("integration_id", Id),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("workspace_id", "id", name="uq_tag_workspace_id"),
    UniqueConstraint("workspace_id", "name", name="uq_tag_name"),
)

# Catalog people. They are records (owners, assignees, team members), not login identities:
# API keys authenticate; a key's name is what the audit log shows as the performer.
catalog_user = Table(
    "catalog_user",
    metadata,
    Column("pk", Pk, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, ForeignKey("workspace.id"), nullable=False),
    Column("id", Id, nullable=False),
    Column("email", Str, nullable=False),
    Column("email_key", Str, nullable=False),  # lower-cased: emails are unique regardless of case
    Column("first_name", Str, nullable=False),
    Column("last_name", Str, nullable=False),
    Column("role", String(16), nullable=False),
    Column("pending", Boolean, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("is_service_account", Boolean, nullable=False),
    Column("profile_picture", Text),
    Column("last_login", Timestamp),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("workspace_id", "id", name="uq_catalog_user_workspace_id"),
    UniqueConstraint("workspace_id", "email_key", name="uq_catalog_user_email"),
)

team = Table(
    "team",
    metadata,
    Column("pk", Pk, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, ForeignKey("workspace.id"), nullable=False),
    Column("id", Id, nullable=False),
    Column("name", Str, nullable=False),
    Column("icon", Str),
    Column("description", Text),
    Column("type", String(8), nullable=False),
    Column("archived", Boolean, nullable=False),
    Column("is_default_team", Boolean, nullable=False),
    Column("onboarding_completed", Boolean, nullable=False),
    Column("sidebar_settings", Json, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("workspace_id", "id", name="uq_team_workspace_id"),
)

user_group = Table(
    "user_group",
    metadata,
    Column("pk", Pk, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, ForeignKey("workspace.id"), nullable=False),
    Column("id", Id, nullable=False),
    Column("name", Str, nullable=False),
    Column("icon", Str),
    Column("description", Text),
    Column("snowflake_role", Str),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("workspace_id", "id", name="uq_user_group_workspace_id"),
)

# Who is in which team or group (``kind`` is "team" or "group").
membership = Table(
    "membership",
    metadata,
    Column("workspace_id", Id, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("container_id", Id, nullable=False),
    Column("user_id", Id, nullable=False),
    UniqueConstraint("workspace_id", "kind", "container_id", "user_id", name="uq_membership_member"),
)
Index("ix_membership_user", membership.c.workspace_id, membership.c.user_id)

custom_property = Table(
    "custom_property",
    metadata,
    Column("pk", Pk, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, ForeignKey("workspace.id"), nullable=False),
    Column("id", Id, nullable=False),
    Column("name", Str, nullable=False),
    Column("entity_types", Json, nullable=False),
    Column("value_type", String(32), nullable=False),
    Column("integration_id", Id),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("workspace_id", "id", name="uq_custom_property_workspace_id"),
    UniqueConstraint("workspace_id", "name", name="uq_custom_property_name"),
)

custom_property_value = Table(
    "custom_property_value",
    metadata,
    Column("property_pk", Pk, ForeignKey("custom_property.pk", ondelete="CASCADE"), nullable=False),
    Column("resource_pk", Pk, ForeignKey("resource.pk", ondelete="CASCADE"), nullable=False),
    Column("workspace_id", Id, nullable=False),
    Column("value", Json, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("property_pk", "resource_pk", name="uq_custom_property_value_pair"),
)
Index("ix_custom_property_value_resource", custom_property_value.c.resource_pk)

# Fields only some entity types have (a reply's accepted_answer, an event property's type,
# a dbt test's status), kept beside the resource row and merged into the entity on read.
resource_detail = Table(
    "resource_detail",
    metadata,
    Column("resource_pk", Pk, ForeignKey("resource.pk", ondelete="CASCADE"), primary_key=True),
    Column("workspace_id", Id, nullable=False),
    Column("data", Json, nullable=False),
)

# Executions recorded on a resource: Airflow task runs on a job, dbt test results on a test.
run = Table(
    "run",
    metadata,
    Column("pk", Pk, primary_key=True, autoincrement=True),
    Column("resource_pk", Pk, ForeignKey("resource.pk", ondelete="CASCADE"), nullable=False),
    Column("workspace_id", Id, nullable=False),
    Column("id", Id, nullable=False),
    Column("run_key", Str, nullable=False),  # what makes a re-sent run the same run
    Column("name", Str, nullable=False),
    Column("status", String(32)),
    Column("started_at", Timestamp),
    Column("finished_at", Timestamp),
    Column("details", Json, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("resource_pk", "run_key", name="uq_run_key"),
)
Index("ix_run_resource_started", run.c.resource_pk, run.c.started_at)

audit_event = Table(
    "audit_event",
    metadata,
    Column("pk", Pk, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, nullable=False),
    Column("id", Id, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("event", String(32), nullable=False),
    Column("resource_type", String(32), nullable=False),
    Column("resource_id", Str),
    Column("resource_title", Str),
    Column("performer_id", Id),
    Column("performer_name", Str),
    Column("details", Json, nullable=False),
)
Index("ix_audit_event_time", audit_event.c.workspace_id, audit_event.c.created_at)

# Write counters per workspace and minute, shared by every server process through the database.
rate_window = Table(
    "rate_window",
    metadata,
    Column("workspace_id", Id, primary_key=True),
    Column("scope", String(16), primary_key=True),
    Column("minute", BigInteger, primary_key=True),
    Column("hits", Integer, nullable=False),
)

# A directed lineage edge between two resources (tables, views, jobs, dashboards, or two columns).
# Ends are resource pks, so a purge cascades and graph walks join integers; ``id`` is the edge as
# seen from upstream (Secoda direction DOWNSTREAM) and ``reverse_id`` the generated reverse view.
lineage_edge = Table(
    "lineage_edge",
    metadata,
    Column("pk", Pk, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, ForeignKey("workspace.id"), nullable=False),
    Column("id", Id, nullable=False),
    Column("reverse_id", Id, nullable=False),
    Column("upstream_pk", Pk, ForeignKey("resource.pk", ondelete="CASCADE"), nullable=False),
    Column("downstream_pk", Pk, ForeignKey("resource.pk", ondelete="CASCADE"), nullable=False),
    Column("level", String(8), nullable=False),
    Column("origin", String(16), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("workspace_id", "id", name="uq_lineage_edge_workspace_id"),
    UniqueConstraint("workspace_id", "reverse_id", name="uq_lineage_edge_reverse_id"),
    UniqueConstraint("upstream_pk", "downstream_pk", "origin", name="uq_lineage_edge_ends"),
)
# A walk's hop reads the other end of one level's edges from these alone (migration 0017).
Index(
    "ix_lineage_edge_downstream",
    lineage_edge.c.downstream_pk,
    lineage_edge.c.level,
    lineage_edge.c.upstream_pk,
)
Index(
    "ix_lineage_edge_upstream", lineage_edge.c.upstream_pk, lineage_edge.c.level, lineage_edge.c.downstream_pk
)

# The last artifacts an integration uploaded (dbt's manifest and run_results), kept so that
# ``trigger`` can run the extraction again without a new upload.
integration_artifact = Table(
    "integration_artifact",
    metadata,
    Column("workspace_id", Id, primary_key=True),
    Column("integration_id", Id, primary_key=True),
    Column("name", String(32), primary_key=True),
    Column("content", Text, nullable=False),
    Column("uploaded_at", Timestamp, nullable=False),
)

# What the last ingest wrote for a resource: a digest of the values its source record asked for
# and the resource's ``updated_at`` right after. A re-ingest whose record has the same digest,
# of a resource nobody changed since, has nothing to compare or write.
ingest_state = Table(
    "ingest_state",
    metadata,
    Column("resource_pk", Pk, ForeignKey("resource.pk", ondelete="CASCADE"), primary_key=True),
    Column("workspace_id", Id, nullable=False),
    Column("digest", String(32), nullable=False),
    Column("synced_at", Timestamp, nullable=False),
)

# ---- connectors ----

# One row per (integration, source path) a connector wrote: which resource it maps to, a
# fingerprint of what the source said last time (an unchanged source writes nothing), the
# values it wrote (a field whose current value differs from every source's was written by a
# user and is left alone), and whether the source last found it missing (stale).
source_record = Table(
    "source_record",
    metadata,
    Column("pk", Pk, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, nullable=False),
    Column("integration_id", Id, nullable=False),
    Column("databuilder_id", Str, nullable=False),
    Column("resource_pk", Pk, ForeignKey("resource.pk", ondelete="CASCADE"), nullable=False),
    Column("fingerprint", String(40), nullable=False),
    Column("written", Json, nullable=False),
    Column("stale", Boolean, nullable=False),
    Column("seen_at", Timestamp, nullable=False),
    UniqueConstraint("workspace_id", "integration_id", "databuilder_id", name="uq_source_record_key"),
)
Index("ix_source_record_resource", source_record.c.resource_pk)

# ---- extractions ----

# One row per ingest of an integration (an import_metadata upload, a dbt sync, an Airflow run
# log, a connector crawl): when, who, how it ended and what it changed. The catalog tables say
# what is there now; this says how it got there, and why the last sync failed.
extraction = Table(
    "extraction",
    metadata,
    Column("pk", Pk, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, nullable=False),
    Column("id", Id, nullable=False, unique=True),
    Column("integration_id", Id),
    Column("source", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("actor", Str, nullable=False),
    Column("started_at", Timestamp, nullable=False),
    Column("finished_at", Timestamp, nullable=False),
    Column("summary", Json, nullable=False),
    Column("error", Text),
)
Index("ix_extraction_started", extraction.c.workspace_id, extraction.c.started_at)
Index(
    "ix_extraction_integration",
    extraction.c.workspace_id,
    extraction.c.integration_id,
    extraction.c.started_at,
)

# ---- bulk loads ----

# The secondary indexes a bulk import into an (almost) empty SQLite database dropped, with the
# statement that builds each again (store/deferred_indexes.py). Written in the transaction that
# drops them and emptied in the one that builds them, so after a crash this table says what is
# missing, and the store builds it when it next migrates.
deferred_index = Table(
    "deferred_index",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("table_name", String(64), nullable=False),
    Column("definition", Text, nullable=False),
)
