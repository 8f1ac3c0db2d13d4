"""Lookups the chat handlers need on every update."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage.enums import Role
from storage.identity import pseudonym
from storage.models import Conversation, Identity, Person, ProcessedUpdate
from storage.types import utcnow


async def seen_before(session: AsyncSession, channel: str, update_key: str) -> bool:
    """Record an update id; True when it was recorded already (a repeated delivery).

    One statement, INSERT … ON CONFLICT DO NOTHING, on both databases: no savepoint."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(ProcessedUpdate)
        .values(channel=channel, update_key=update_key, processed_at=utcnow())
        .on_conflict_do_nothing(index_elements=["channel", "update_key"])
    )
    return result.rowcount == 0


async def identity_for(
    session: AsyncSession,
    *,
    channel: str,
    user_id: str,
    chat_id: str,
    secret: bytes,
    language: str,
) -> tuple[Identity, bool]:
    """The chat account, created with a resident person on first contact (then True)."""
    identity = await session.scalar(
        select(Identity)
        .options(joinedload(Identity.person))  # the person comes along: one round trip
        .where(Identity.channel == channel, Identity.external_id == user_id)
    )
    if identity is not None:
        if identity.blocked_at is not None:
            identity.blocked_at = None  # they wrote to us again: they unblocked the bot
        return identity, False
    person = Person(role=Role.RESIDENT, language=language)
    session.add(person)
    await session.flush()
    identity = Identity(
        person=person,
        channel=channel,
        external_id=user_id,
        chat_id=chat_id,
        pseudonym=pseudonym(secret, channel, user_id),
    )
    session.add(identity)
    await session.flush()
    return identity, True


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
