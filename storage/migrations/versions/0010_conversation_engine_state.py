"""conversation engine state: the engine's bookkeeping in a column of its own, apart from
the answers

Until now a conversation's data held, beside the flow's answers, the engine's "__done",
"__pending" and "__held". They move to conversations.state as "done", "pending" and
"held" (the values unchanged); a downgrade puts them back, so that drafts open at either
moment continue where they were.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The keys as they were in data, and as they are in state.
MOVED = {"__done": "done", "__pending": "pending", "__held": "held"}

conversations = sa.table(
    "conversations",
    sa.column("id", sa.Integer()),
    sa.column("flow", sa.String()),
    sa.column("data", sa.JSON()),
    sa.column("state", sa.JSON()),
    sa.column("version", sa.Integer()),
)

Split = tuple[dict[str, Any], dict[str, Any]]


def _split(data: dict[str, Any], state: dict[str, Any]) -> Split:
    return (
        {k: v for k, v in data.items() if k not in MOVED},
        {**state, **{new: data[old] for old, new in MOVED.items() if old in data}},
    )


def _join(data: dict[str, Any], state: dict[str, Any]) -> Split:
    return (
        {**data, **{old: state[new] for old, new in MOVED.items() if new in state}},
        {},
    )


def _rewrite(move: Callable[[dict[str, Any], dict[str, Any]], Split]) -> None:
    """Each open conversation rewritten by move; its version goes up, so that a worker
    holding the old row fails its write and reads again."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            conversations.c.id, conversations.c.data, conversations.c.state, conversations.c.version
        ).where(conversations.c.flow.is_not(None))
    ).all()
    for id_, data, state, version in rows:
        new_data, new_state = move(data or {}, state or {})
        if (new_data, new_state) == (data or {}, state or {}):
            continue
        bind.execute(
            conversations.update()
            .where(conversations.c.id == id_)
            .values(data=new_data, state=new_state, version=(version or 0) + 1)
        )


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(
            sa.Column("state", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    _rewrite(_split)


def downgrade() -> None:
    _rewrite(_join)
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("state")
