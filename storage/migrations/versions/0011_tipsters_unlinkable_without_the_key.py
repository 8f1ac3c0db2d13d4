"""tipsters unlinkable without the key: the pseudonym leaves the accounts, the way back to a
tipster is sealed on the tip, messages to tipsters are ephemeral, times naming a chat coarse

identities.pseudonym (an HMAC of the account, in the same row as the account) made every
tip's sender one join away. It is dropped: the bot computes it from each update instead.
What it was used for besides, finding a tip's chat to send questions and notices to, is now
tips.reply_to, the chat sealed with the tip keys (storage.way_back), which are not in the
database: this migration seals it for every open tip, so it must be given the keys
(`binhyen db upgrade` and `binhyen run` do; a database with no open tip needs none).

Messages already sent or failed to a tipster's chat (questions, notices of their tip) are
deleted; those still waiting become ephemeral (deleted once sent). Times on rows naming a
chat are made coarse as the code now writes them: the day for people, accounts and idle
conversations, ten minutes (rounded up) for open drafts, the hour for update ids.

A downgrade makes the pseudonyms again with the secret key (`binhyen db downgrade` gives
it); the ways back are dropped, the old code finds the chats by pseudonym. Times stay coarse.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from storage.identity import pseudonym
from storage.keyring import Keyring
from storage.way_back import Back, seal

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

tips = sa.table(
    "tips",
    sa.column("id", sa.Integer()),
    sa.column("reporter_key", sa.String()),
    sa.column("status", sa.String()),
    sa.column("reply_to", sa.Text()),
)
identities = sa.table(
    "identities",
    sa.column("id", sa.Integer()),
    sa.column("channel", sa.String()),
    sa.column("external_id", sa.String()),
    sa.column("chat_id", sa.String()),
    sa.column("pseudonym", sa.String()),
)
outbox = sa.table(
    "outbox",
    sa.column("id", sa.Integer()),
    sa.column("channel", sa.String()),
    sa.column("chat_id", sa.String()),
    sa.column("purpose", sa.String()),
    sa.column("status", sa.String()),
    sa.column("ephemeral", sa.Boolean()),
)
conversations = sa.table(
    "conversations",
    sa.column("id", sa.Integer()),
    sa.column("flow", sa.String()),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)

TO_TIPSTERS = ("tip_question", "case_update")
DRAFT_GRAIN = timedelta(minutes=10)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _keys() -> object:
    context = op.get_context()
    return context.config.attributes.get("keys") if context.config is not None else None


def _ways_back(bind: sa.Connection) -> list[sa.Row[tuple[int, str, str]]]:
    """The chat of each open tip, found by the pseudonym (while accounts still have it)."""
    return list(
        bind.execute(
            sa.select(tips.c.id, identities.c.channel, identities.c.chat_id)
            .select_from(tips.join(identities, identities.c.pseudonym == tips.c.reporter_key))
            .where(tips.c.status != "closed")
            .order_by(tips.c.id, identities.c.id)
        ).all()
    )


def _seal_ways_back(
    bind: sa.Connection, rows: list[sa.Row[tuple[int, str, str]]], tip_keys: Keyring | None
) -> None:
    sealed: set[int] = set()
    for tip_id, channel, chat_id in rows:
        if tip_id in sealed:
            continue
        sealed.add(tip_id)
        assert tip_keys is not None
        bind.execute(
            tips.update()
            .where(tips.c.id == tip_id)
            .values(reply_to=seal(tip_keys, tip_id, Back(channel, chat_id)))
        )


def _drop_messages_to_tipsters(bind: sa.Connection) -> None:
    chats = bind.execute(
        sa.select(identities.c.channel, identities.c.chat_id)
        .distinct()
        .select_from(identities.join(tips, identities.c.pseudonym == tips.c.reporter_key))
    ).all()
    for channel, chat_id in chats:
        theirs = sa.and_(
            outbox.c.channel == channel,
            outbox.c.chat_id == chat_id,
            outbox.c.purpose.in_(TO_TIPSTERS),
        )
        bind.execute(outbox.delete().where(theirs, outbox.c.status.in_(("sent", "failed"))))
        bind.execute(outbox.update().where(theirs).values(ephemeral=True))
    # A question goes to no one but a tipster, whoever they are.
    questions = outbox.c.purpose == "tip_question"
    bind.execute(outbox.delete().where(questions, outbox.c.status.in_(("sent", "failed"))))
    bind.execute(outbox.update().where(questions).values(ephemeral=True))


def _truncate(bind: sa.Connection, table: str, column: str, unit: str, where: str = "") -> None:
    """column rounded down to the day or the hour, in SQL (update ids may be many)."""
    if bind.dialect.name == "postgresql":
        value = f"date_trunc('{unit}', {column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
    else:  # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff", in UTC
        value = (
            f"substr({column}, 1, 10) || ' 00:00:00.000000'"
            if unit == "day"
            else f"substr({column}, 1, 13) || ':00:00.000000'"
        )
    condition = f" WHERE {where}" if where else ""
    bind.execute(sa.text(f"UPDATE {table} SET {column} = {value}{condition}"))


def _coarsen(bind: sa.Connection) -> None:
    _truncate(bind, "people", "created_at", "day")
    _truncate(bind, "identities", "created_at", "day")
    _truncate(bind, "identities", "blocked_at", "day", "blocked_at IS NOT NULL")
    _truncate(bind, "processed_updates", "processed_at", "hour")
    _truncate(bind, "conversations", "updated_at", "day", "flow IS NULL")
    drafts = bind.execute(
        sa.select(conversations.c.id, conversations.c.updated_at).where(
            conversations.c.flow.is_not(None)
        )
    ).all()
    for id_, at in drafts:
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        offset = (at - _EPOCH) % DRAFT_GRAIN
        if offset:
            bind.execute(
                conversations.update()
                .where(conversations.c.id == id_)
                .values(updated_at=at - offset + DRAFT_GRAIN)
            )


def upgrade() -> None:
    bind = op.get_bind()
    # Checked before any change: SQLite does not take back a column added before a failure.
    ways_back = _ways_back(bind)
    tip_keys: Keyring | None = getattr(_keys(), "tip_keys", None)
    if ways_back and tip_keys is None:
        raise RuntimeError(
            "open tips need their way back sealed with the tip key: "
            "run 'binhyen db upgrade' where the bot's TIP_KEY or data/tip_keys.txt is"
        )
    with op.batch_alter_table("tips") as batch:
        batch.add_column(sa.Column("reply_to", sa.Text(), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("ephemeral", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    _seal_ways_back(bind, ways_back, tip_keys)
    _drop_messages_to_tipsters(bind)
    _coarsen(bind)
    with op.batch_alter_table("identities") as batch:
        batch.drop_index("ix_identities_pseudonym")
        batch.drop_column("pseudonym")


def downgrade() -> None:
    bind = op.get_bind()
    accounts = bind.execute(
        sa.select(identities.c.id, identities.c.channel, identities.c.external_id)
    ).all()
    secret: bytes | None = getattr(_keys(), "secret", None)
    if accounts and secret is None:
        raise RuntimeError(
            "the accounts' pseudonyms are made with the secret key: "
            "run 'binhyen db downgrade' where the bot's SECRET_KEY or data/secret.key is"
        )
    with op.batch_alter_table("identities") as batch:
        batch.add_column(sa.Column("pseudonym", sa.String(length=64), nullable=True))
    for id_, channel, external_id in accounts:
        assert secret is not None
        bind.execute(
            identities.update()
            .where(identities.c.id == id_)
            .values(pseudonym=pseudonym(secret, channel, external_id))
        )
    with op.batch_alter_table("identities") as batch:
        batch.alter_column("pseudonym", existing_type=sa.String(length=64), nullable=False)
        batch.create_index("ix_identities_pseudonym", ["pseudonym"], unique=False)
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("ephemeral")
    with op.batch_alter_table("tips") as batch:
        batch.drop_column("reply_to")
