"""deferred indexes: what a bulk import dropped, to be built again (also after a crash)

Revision ID: 0018_importer
Revises: 0018_listpath
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_importer"
down_revision: str | None = "0018_listpath"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deferred_index",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_deferred_index")),
    )


def downgrade() -> None:
    # Indexes a crashed import left unbuilt are built before the table that names them goes.
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        present = {
            row[0] for row in bind.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'")
        }
        for name, definition in bind.exec_driver_sql("SELECT name, definition FROM deferred_index").all():
            if name not in present:
                bind.exec_driver_sql(definition)
    op.drop_table("deferred_index")
