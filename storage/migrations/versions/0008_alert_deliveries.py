"""where urgent alerts went, and when one was repeated

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name="fk_alert_deliveries_incident_id_incidents",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alert_deliveries"),
    )
    op.create_index("ix_alert_deliveries_incident_id", "alert_deliveries", ["incident_id"])
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("alert_repeated_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_incidents_status_received_at", "incidents", ["status", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_incidents_status_received_at", table_name="incidents")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("alert_repeated_at")
    op.drop_index("ix_alert_deliveries_incident_id", table_name="alert_deliveries")
    op.drop_table("alert_deliveries")
