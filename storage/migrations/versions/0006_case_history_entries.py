"""case history entries: a note and an assignment are entries of their own

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("status_history") as batch:
        batch.add_column(sa.Column("entry", sa.String(16), nullable=False, server_default="status"))
        batch.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_status_history_assignee_id_people",
            "people",
            ["assignee_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("status_history") as batch:
        batch.drop_constraint("fk_status_history_assignee_id_people", type_="foreignkey")
        batch.drop_column("assignee_id")
        batch.drop_column("entry")
