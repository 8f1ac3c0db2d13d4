"""indexes for open cases, standings and a chat's unsent messages

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_incidents_commune_id_status", table_name="incidents")
    op.create_index(
        "ix_incidents_commune_id_status_category_occurred_at",
        "incidents",
        ["commune_id", "status", "category", "occurred_at"],
    )
    op.create_index(
        "ix_tips_commune_id_status_received_at", "tips", ["commune_id", "status", "received_at"]
    )
    op.create_index("ix_outbox_chat_id_status", "outbox", ["chat_id", "status"])
    op.create_index(
        "ix_activities_commune_id_kind_held_on", "activities", ["commune_id", "kind", "held_on"]
    )


def downgrade() -> None:
    op.drop_index("ix_activities_commune_id_kind_held_on", table_name="activities")
    op.drop_index("ix_outbox_chat_id_status", table_name="outbox")
    op.drop_index("ix_tips_commune_id_status_received_at", table_name="tips")
    op.drop_index("ix_incidents_commune_id_status_category_occurred_at", table_name="incidents")
    op.create_index("ix_incidents_commune_id_status", "incidents", ["commune_id", "status"])
