"""the movement's records: a register of models, commitments by kind, yearly recognitions;
the commune's commitment threshold; activity figures for offenders educated and commendations

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, other: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{other}.id"], name=f"fk_{table}_{column}_{other}", ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "movement_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commune_id", sa.Integer(), nullable=False),
        sa.Column("hamlet_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("kind_text", sa.String(120), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _fk("movement_models", "commune_id", "communes", "CASCADE"),
        _fk("movement_models", "hamlet_id", "hamlets", "SET NULL"),
        _fk("movement_models", "created_by", "people", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_movement_models"),
    )
    op.create_index(
        "ix_movement_models_commune_id_started_on", "movement_models", ["commune_id", "started_on"]
    )
    op.create_table(
        "commitments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commune_id", sa.Integer(), nullable=False),
        sa.Column("hamlet_id", sa.Integer(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("signed", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _fk("commitments", "commune_id", "communes", "CASCADE"),
        _fk("commitments", "hamlet_id", "hamlets", "CASCADE"),
        _fk("commitments", "recorded_by", "people", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_commitments"),
    )
    op.create_index("ix_commitments_commune_id_year", "commitments", ["commune_id", "year"])
    op.create_table(
        "recognitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commune_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("unit_kind", sa.String(16), nullable=False),
        sa.Column("recognised", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _fk("recognitions", "commune_id", "communes", "CASCADE"),
        _fk("recognitions", "recorded_by", "people", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_recognitions"),
        sa.UniqueConstraint(
            "commune_id", "year", "unit_kind", name="uq_recognitions_commune_id_year_unit_kind"
        ),
    )
    with op.batch_alter_table("communes") as batch:
        batch.add_column(
            sa.Column("commitment_threshold", sa.Float(), nullable=False, server_default="100")
        )
    with op.batch_alter_table("activities") as batch:
        batch.add_column(sa.Column("persons_educated", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("commended", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("activities") as batch:
        batch.drop_column("commended")
        batch.drop_column("persons_educated")
    with op.batch_alter_table("communes") as batch:
        batch.drop_column("commitment_threshold")
    op.drop_table("recognitions")
    op.drop_index("ix_commitments_commune_id_year", table_name="commitments")
    op.drop_table("commitments")
    op.drop_index("ix_movement_models_commune_id_started_on", table_name="movement_models")
    op.drop_table("movement_models")
