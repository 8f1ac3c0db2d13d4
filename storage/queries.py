"""Lookups the chat handlers need on every update."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage.enums import Role
from storage.models import Conversation, Identity, Person
from storage.types import UTCDateTime, rounded, utcnow

# How finely times are kept on rows that name a chat, so that none can be matched to a tip's
# (docs/SECURITY.md, "A copy of the database"): update ids to the hour, a conversation to the
# day, or to ten minutes while a draft is open.
UPDATE_GRAIN = timedelta(hours=1)
IDLE_GRAIN = timedelta(days=1)
DRAFT_GRAIN = timedelta(minutes=10)

# Written out rather than built with insert().on_conflict_do_nothing(), which SQLAlchemy
# cannot cache and so compiles again on every update. The same SQL runs on both databases.
_RECORD_UPDATE = text(
    "INSERT INTO processed_updates (channel, update_key, processed_at) "
    "VALUES (:channel, :update_key, :processed_at) "
    "ON CONFLICT (channel, update_key) DO NOTHING"
).bindparams(bindparam("processed_at", type_=UTCDateTime()))


async def seen_before(session: AsyncSession, channel: str, update_key: str) -> bool:
    """Record an update id; True when it was recorded already (a repeated delivery)."""
    result = await session.execute(
        _RECORD_UPDATE,
        {
            "channel": channel,
            "update_key": update_key,
            "processed_at": rounded(utcnow(), UPDATE_GRAIN),
        },
    )
    return result.rowcount == 0  # type: ignore[attr-defined]


async def chat_for(
    session: AsyncSession,
    *,
    channel: str,
    user_id: str,
    chat_id: str,
    language: str,
) -> tuple[Identity, bool, Conversation]:
    """The sender's account with its person, and the chat's conversation: one round trip.

    The account is created with a resident person on first contact (then True)."""
    row = (
        await session.execute(
            select(Identity, Conversation)
            .options(joinedload(Identity.person))
            .outerjoin(
                Conversation,
                and_(Conversation.channel == channel, Conversation.chat_id == chat_id),
            )
            .where(Identity.channel == channel, Identity.external_id == user_id)
        )
    ).first()
    if row is None:
        identity = await _new_identity(session, channel, user_id, chat_id, language)
        return identity, True, await conversation_for(session, channel, chat_id)
    identity, conv = row
    if identity.blocked_at is not None:
        identity.blocked_at = None  # they wrote to us again: they unblocked the bot
    if conv is None:
        conv = await conversation_for(session, channel, chat_id)
    return identity, False, conv


async def _new_identity(
    session: AsyncSession, channel: str, user_id: str, chat_id: str, language: str
) -> Identity:
    person = Person(role=Role.RESIDENT, language=language)
    session.add(person)
    await session.flush()
    identity = Identity(person=person, channel=channel, external_id=user_id, chat_id=chat_id)
    session.add(identity)
    await session.flush()
    return identity


def touch(conv: Conversation, now: datetime) -> None:
    """Note that the chat was active: to the day, or while a draft is open to ten minutes
    rounded up, which is what the engine's "draft gone stale" check needs (it then fires
    between the timeout and ten minutes after it)."""
    conv.updated_at = (
        rounded(now, DRAFT_GRAIN, up=True) if conv.flow is not None else rounded(now, IDLE_GRAIN)
    )


async def conversation_for(session: AsyncSession, channel: str, chat_id: str) -> Conversation:
    conv = await session.scalar(
        select(Conversation).where(Conversation.channel == channel, Conversation.chat_id == chat_id)
    )
    if conv is None:
        conv = Conversation(channel=channel, chat_id=chat_id, data={}, history=[])
        session.add(conv)
        await session.flush()
    return conv


async def load_person(session: AsyncSession, person_id: int) -> Person:
    person = await session.get(Person, person_id, populate_existing=True)
    assert person is not None
    return person


async def find_identity(
    *, session: AsyncSession, channel: str, external_id: str
) -> Identity | None:
    return await session.scalar(
        select(Identity).where(Identity.channel == channel, Identity.external_id == external_id)
    )


async def add_identity(
    *,
    session: AsyncSession,
    person_id: int,
    channel: str,
    external_id: str,
    chat_id: str,
) -> Identity:
    """Link a chat account to an existing person."""
    identity = Identity(
        person_id=person_id, channel=channel, external_id=external_id, chat_id=chat_id
    )
    session.add(identity)
    await session.flush()
    return identity


async def find_conversation(
    *, session: AsyncSession, channel: str, chat_id: str
) -> Conversation | None:
    """The chat's conversation, if it ever had one (conversation_for creates it)."""
    return await session.scalar(
        select(Conversation).where(Conversation.channel == channel, Conversation.chat_id == chat_id)
    )
