"""The inbox: every update as received, written and committed before the platform is told it
arrived (the next getUpdates offset, or the webhook's answer), deleted once handled.

A worker claims the rows of whole chats: a chat is claimed through its oldest row (its head),
with FOR UPDATE SKIP LOCKED on PostgreSQL, so that two workers never take the same chat and
a chat's updates are handled in the order they came. A claim is a lease: a worker that
died leaves its rows to be claimed again once the lease runs out (on SQLite, with its one
process, at the next start). A row handled twice is harmless: the router recognises the
update and answers it with the chat's current prompt.

The rows hold raw updates (account ids, the text of a tip): they are deleted as soon as
the update has been handled and answered, and a row that fails again and again is dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import InboxUpdate

# Attempts after which an update is dropped: it failed to be handled that often.
MAX_ATTEMPTS = 5


def chat_key(channel: str, chat: str) -> str:
    """The partition a row is handled in: a hash of the chat, not the chat id itself."""
    return hashlib.sha256(f"{channel}:{chat}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Received:
    id: int | None  # None: an update handled without being stored (the database was away)
    channel: str
    chat_key: str
    payload: dict[str, Any]
    attempts: int = 1


async def receive(
    session: AsyncSession,
    *,
    channel: str,
    update_key: str,
    chat: str,
    payload: dict[str, Any],
    now: datetime,
) -> bool:
    """Record an update; False when it is in the inbox already (delivered again)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = await session.execute(
        insert(InboxUpdate)
        .values(
            channel=channel,
            update_key=update_key[:64],
            chat_key=chat_key(channel, chat),
            payload=payload,
            received_at=now,
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["channel", "update_key"])
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _free(now: datetime) -> Any:
    return or_(InboxUpdate.claimed_until.is_(None), InboxUpdate.claimed_until < now)


async def claim(
    *,
    session: AsyncSession,
    now: datetime,
    lease_until: datetime,
    chats: int = 100,
    per_chat: int = 20,
) -> list[Received]:
    """The waiting updates of up to `chats` chats, each chat's in order, leased until
    lease_until. A chat whose oldest row another worker holds is left to that worker.
    Updates tried MAX_ATTEMPTS times already are deleted instead."""
    earlier = aliased(InboxUpdate)
    heads = (
        await session.scalars(
            select(InboxUpdate.chat_key)
            .where(
                _free(now),
                ~exists().where(
                    earlier.chat_key == InboxUpdate.chat_key, earlier.id < InboxUpdate.id
                ),
            )
            .order_by(InboxUpdate.id)
            .limit(chats)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not heads:
        return []
    rows = (
        await session.scalars(
            select(InboxUpdate)
            .where(InboxUpdate.chat_key.in_(list(heads)), _free(now))
            .order_by(InboxUpdate.id)
            .limit(chats * per_chat)
            .with_for_update()
        )
    ).all()
    spent = [r.id for r in rows if r.attempts >= MAX_ATTEMPTS]
    taken = [r for r in rows if r.attempts < MAX_ATTEMPTS]
    claimed = [
        Received(r.id, r.channel, r.chat_key, dict(r.payload), r.attempts + 1) for r in taken
    ]
    if spent:
        await done(session=session, ids=spent)
    if taken:
        await session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.id.in_([r.id for r in taken]))
            .values(claimed_until=lease_until, attempts=InboxUpdate.attempts + 1)
        )
    return claimed


async def renew(*, session: AsyncSession, ids: Collection[int], until: datetime) -> None:
    """Keep holding rows still being handled."""
    if ids:
        await session.execute(
            update(InboxUpdate).where(InboxUpdate.id.in_(list(ids))).values(claimed_until=until)
        )


async def done(*, session: AsyncSession, ids: Collection[int]) -> None:
    """Handled and answered: the rows go."""
    if ids:
        await session.execute(delete(InboxUpdate).where(InboxUpdate.id.in_(list(ids))))


async def release_all(*, session: AsyncSession) -> int:
    """Every claim given up: for the one process of a SQLite database, at its start, since
    whatever it held before was held by itself and died with it."""
    result = await session.execute(
        update(InboxUpdate).where(InboxUpdate.claimed_until.is_not(None)).values(claimed_until=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def waiting(*, session: AsyncSession) -> int:
    """Updates received and not yet handled."""
    return int(await session.scalar(select(func.count()).select_from(InboxUpdate)) or 0)
