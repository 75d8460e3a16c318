"""API keys may belong to a catalog user

Revision ID: 0015_trust
Revises: 0012_search

A key tied to a user acts with the lesser of its own role and the user's, and sees what the
user's teams see (guests only their teams). Workspace keys (no user) keep working as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_trust"
down_revision: str | None = "0012_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_key") as batch:
        batch.add_column(sa.Column("user_id", sa.String(36), nullable=True))
    op.create_index("ix_api_key_user", "api_key", ["workspace_id", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_api_key_user", table_name="api_key")
    with op.batch_alter_table("api_key") as batch:
        batch.drop_column("user_id")
