"""drop columns nothing reads: an incident's people involved (never written), an activity's
status (always "new"), a digest run's finish (always its start) and a job run's note (never
written)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("people_involved")
    with op.batch_alter_table("activities") as batch:
        batch.drop_column("status")
    with op.batch_alter_table("digest_runs") as batch:
        batch.drop_column("finished_at")
    with op.batch_alter_table("job_runs") as batch:
        batch.drop_column("note")


def downgrade() -> None:
    with op.batch_alter_table("job_runs") as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))
    with op.batch_alter_table("digest_runs") as batch:
        batch.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE digest_runs SET finished_at = started_at")
    # Filled for the rows already there, then without a server default, as 0001 made it.
    with op.batch_alter_table("activities") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="new"))
    with op.batch_alter_table("activities") as batch:
        batch.alter_column("status", server_default=None)
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("people_involved", sa.Text(), nullable=True))
