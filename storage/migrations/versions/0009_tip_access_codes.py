"""a tipster's access code, and counters of wrong guesses

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tips") as batch:
        batch.add_column(sa.Column("access_locator", sa.String(8), nullable=True))
        batch.add_column(sa.Column("access_hash", sa.String(64), nullable=True))
    op.create_index("ix_tips_access_locator", "tips", ["access_locator"])
    op.create_table(
        "guess_counters",
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name="pk_guess_counters"),
    )


def downgrade() -> None:
    op.drop_table("guess_counters")
    op.drop_index("ix_tips_access_locator", table_name="tips")
    with op.batch_alter_table("tips") as batch:
        batch.drop_column("access_hash")
        batch.drop_column("access_locator")
