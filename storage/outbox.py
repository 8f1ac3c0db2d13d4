"""The outbox: messages that are not immediate replies, written with the change that causes them.

scheduler.dispatcher sends them: it claims due rows here, sends them within the channels'
rate limits, and records each outcome here, every step in a transaction of its own.

Rows are claimed with FOR UPDATE SKIP LOCKED and marked "sending" before anything is sent,
so two dispatchers (two workers on one PostgreSQL) never send one row twice. A row left
"sending" by a process that died is due again after a while: delivery is at least once.

An ephemeral row (a message to a tipster) is deleted instead of being marked sent, and
deleted too when it fails for good: no row is left that ties a tipster's chat to a tip's code,
a question or a time. The question stays under the tip, where the tipster reads it with the
tip's secret code.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.enums import OutboxStatus
from storage.models import Identity, OutboxMessage
from storage.types import rounded, utcnow

BLOCKED = "blocked by the user"
# A direct reply the platform did not take at once (429, 5xx, the network), handed over to be
# sent in order through the same limits. Deleted once sent: it is conversation text.
REPLY = "reply"


async def enqueue(
    session: AsyncSession,
    *,
    channel: str,
    chat_id: str,
    text: str,
    buttons: list[list[dict[str, Any]]] | None = None,
    purpose: str = "notice",
    commune_id: int | None = None,
    now: datetime | None = None,
    ephemeral: bool = False,
) -> OutboxMessage:
    now = now or utcnow()
    message = OutboxMessage(
        channel=channel,
        chat_id=chat_id,
        text=text,
        buttons=buttons or [],
        purpose=purpose,
        commune_id=commune_id,
        created_at=now,
        not_before=now,
        ephemeral=ephemeral,
    )
    session.add(message)
    await session.flush()
    return message


async def claim(
    *,
    session: AsyncSession,
    now: datetime,
    channels: Collection[str],
    batch: int,
    stuck_before: datetime,
    held_ids: Collection[int] = (),
) -> list[OutboxMessage]:
    """Due rows of the given channels, oldest first, marked "sending" with one more attempt.

    A row still "sending" since before stuck_before was left by a process that died: it is
    due again, unless its id is in held_ids (rows the caller still holds, however long they
    wait for a send slot). Rows locked by another dispatcher are skipped (SKIP LOCKED), so
    each row goes to one dispatcher; the caller commits to let the others see the claim.
    Rows for a chat that blocked the bot are marked failed instead (ephemeral ones deleted)
    and not returned.
    """
    earlier = aliased(OutboxMessage)
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.not_before < stuck_before,
            # Only the caller's channels: rows of another channel may be another worker's,
            # held however long they wait (the one sender of that channel).
            OutboxMessage.channel.in_(list(channels)),
            OutboxMessage.id.not_in(list(held_ids)),
        )
        .values(status=OutboxStatus.PENDING)
    )
    rows = (
        await session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.not_before <= now,
                OutboxMessage.channel.in_(list(channels)),
                # A chat's message waits while an earlier one is being sent or waits for a
                # retry: each chat gets its messages in order.
                ~exists().where(
                    earlier.channel == OutboxMessage.channel,
                    earlier.chat_id == OutboxMessage.chat_id,
                    earlier.id < OutboxMessage.id,
                    or_(
                        earlier.status == OutboxStatus.SENDING,
                        and_(
                            earlier.status == OutboxStatus.PENDING,
                            earlier.not_before > now,
                        ),
                    ),
                ),
            )
            .order_by(OutboxMessage.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    ).all()
    blocked = await _blocked_chats(session=session, chat_ids={r.chat_id for r in rows})
    claimed = []
    for row in rows:
        if (row.channel, row.chat_id) in blocked:  # they blocked the bot: stop writing
            if row.ephemeral:
                await session.delete(row)
            else:
                row.status, row.last_error = OutboxStatus.FAILED, BLOCKED
            continue
        row.status, row.not_before = OutboxStatus.SENDING, now
        row.attempts += 1
        claimed.append(row)
    return claimed


async def _blocked_chats(*, session: AsyncSession, chat_ids: set[str]) -> set[tuple[str, str]]:
    """(channel, chat id) of those of the chats whose account blocked the bot."""
    if not chat_ids:
        return set()
    rows = await session.execute(
        select(Identity.channel, Identity.chat_id).where(
            Identity.blocked_at.is_not(None), Identity.chat_id.in_(chat_ids)
        )
    )
    return {(channel, chat_id) for channel, chat_id in rows.all()}


async def _drop_ephemeral(session: AsyncSession, row_ids: Collection[int]) -> None:
    await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.id.in_(list(row_ids)),
            or_(OutboxMessage.ephemeral.is_(True), OutboxMessage.purpose == REPLY),
        )
    )


async def mark_sent(*, session: AsyncSession, row_id: int, now: datetime) -> None:
    """Sent: marked so, or deleted when ephemeral."""
    await _drop_ephemeral(session, [row_id])
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(status=OutboxStatus.SENT, sent_at=now, last_error=None)
    )


async def defer(*, session: AsyncSession, row_ids: Collection[int], until: datetime) -> None:
    """Give claimed rows back, due at until, without counting an attempt."""
    if not row_ids:
        return
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(row_ids)))
        .values(
            status=OutboxStatus.PENDING,
            attempts=OutboxMessage.attempts - 1,
            not_before=until,
        )
    )


async def give_up(*, session: AsyncSession, row_ids: Collection[int], reason: str) -> None:
    """Mark claimed rows failed without trying them: they will not be sent (ephemeral ones
    are deleted)."""
    if not row_ids:
        return
    await _drop_ephemeral(session, row_ids)
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(row_ids)))
        .values(status=OutboxStatus.FAILED, last_error=reason)
    )


async def record_failure(
    *,
    session: AsyncSession,
    row_id: int,
    now: datetime,
    final: bool,
    not_before: datetime,
    error: str,
    blocked_chat: tuple[str, str] | None = None,
) -> None:
    """Record a failed send: failed for good when final (an ephemeral row is deleted), else
    due again at not_before.

    blocked_chat, (channel, chat id), marks the chat's accounts as having blocked the bot
    (noted to the day): later claims fail that chat's rows instead of sending them.
    """
    if final:
        await _drop_ephemeral(session, [row_id])
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(
            status=OutboxStatus.FAILED if final else OutboxStatus.PENDING,
            not_before=not_before,
            last_error=error[:500],
        )
    )
    if blocked_chat is not None:
        channel, chat_id = blocked_chat
        await session.execute(
            update(Identity)
            .where(Identity.channel == channel, Identity.chat_id == chat_id)
            .values(blocked_at=rounded(now, timedelta(days=1)))
        )


# --- direct replies handed over -----------------------------------------------------------


async def hand_over_reply(
    session: AsyncSession,
    *,
    channel: str,
    chat_id: str,
    text: str,
    buttons: list[list[dict[str, Any]]],
    parts_sent: int,
    now: datetime,
    not_before: datetime,
) -> None:
    """A direct reply, or what is left of it, to be sent by the outbox after not_before."""
    message = await enqueue(
        session,
        channel=channel,
        chat_id=chat_id,
        text=text,
        buttons=buttons,
        purpose=REPLY,
        now=now,
    )
    message.parts_sent, message.not_before = parts_sent, not_before


async def replies_waiting(
    *, session: AsyncSession, channel: str, chat_ids: Collection[str]
) -> set[str]:
    """The chats with a handed-over reply not yet sent: a later reply must queue behind it."""
    if not chat_ids:
        return set()
    rows = await session.scalars(
        select(OutboxMessage.chat_id).where(
            OutboxMessage.channel == channel,
            OutboxMessage.chat_id.in_(list(chat_ids)),
            OutboxMessage.purpose == REPLY,
            OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
        )
    )
    return set(rows.all())


async def record_parts(*, session: AsyncSession, row_id: int, parts_sent: int) -> None:
    """Parts of a long message delivered before a send failed: a retry sends the rest."""
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.id == row_id).values(parts_sent=parts_sent)
    )


# --- for the administrator ----------------------------------------------------------------


@dataclass
class Overview:
    counts: dict[str, int]  # every status, with 0 for those no row has
    failed: list[OutboxMessage]  # the latest failures first


async def overview(*, session: AsyncSession, failed_limit: int = 50) -> Overview:
    """How many messages are in each state, and the latest that failed."""
    counts = {status.value: 0 for status in OutboxStatus}
    rows = await session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    counts.update({status: count for status, count in rows.all()})
    failed = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(OutboxMessage.id.desc())
        .limit(failed_limit)
    )
    return Overview(counts, list(failed.all()))


async def retry_failed(*, session: AsyncSession, now: datetime) -> int:
    """Every failed message pending again, due now, with its attempts counted afresh."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.FAILED)
        .values(status=OutboxStatus.PENDING, attempts=0, not_before=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
