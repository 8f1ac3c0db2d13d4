"""incidents by time, with their commune and category: a province's quarter read from the
index alone, flat however many years lie beside it

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_incidents_occurred_at_commune_id_category",
        "incidents",
        ["occurred_at", "commune_id", "category"],
    )


def downgrade() -> None:
    op.drop_index("ix_incidents_occurred_at_commune_id_category", table_name="incidents")
