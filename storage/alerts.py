"""Urgent alerts: where each went, and which are still waiting for someone to take them.

An urgent incident alerts the duty chats (or each officer) at once. If nobody acknowledges
it within a set time it is alerted once more, privately to every active officer and admin
of the commune. Every chat an alert went to is recorded, so that "who was told" has an
answer, and a commune whose alerts reach nobody can be found and named.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.cases import Chat, officer_chats
from storage.enums import Severity, Status
from storage.models import AlertDelivery, Commune, Incident, Person

# An alert older than this is not repeated any more: by then it is a case, not an alarm.
REPEAT_WINDOW = timedelta(days=1)


async def record(
    *,
    session: AsyncSession,
    incident_id: int,
    chats: Sequence[Chat],
    round: int,
    now: datetime,
) -> None:
    session.add_all(
        AlertDelivery(
            incident_id=incident_id,
            round=round,
            channel=chat.channel,
            chat_id=chat.chat_id,
            created_at=now,
        )
        for chat in chats
    )
    await session.flush()


async def deliveries(*, session: AsyncSession, incident_id: int) -> list[tuple[int, Chat]]:
    """(round, chat) of every chat an incident's alert went to, in order."""
    rows = await session.execute(
        select(AlertDelivery.round, AlertDelivery.channel, AlertDelivery.chat_id)
        .where(AlertDelivery.incident_id == incident_id)
        .order_by(AlertDelivery.id)
    )
    return [(r, Chat(channel, chat_id, "")) for r, channel, chat_id in rows.tuples().all()]


async def due_repeats(
    *, session: AsyncSession, now: datetime, after: timedelta
) -> list[tuple[Incident, Commune]]:
    """Urgent incidents still new after the wait, not yet alerted a second time, with their
    commune (for its time zone)."""
    rows = await session.execute(
        select(Incident, Commune)
        .join(Commune, Commune.id == Incident.commune_id)
        .where(
            Incident.status == Status.NEW,
            Incident.received_at <= now - after,
            Incident.received_at > now - REPEAT_WINDOW,
            Incident.severity != Severity.ORDINARY,
            Incident.alert_repeated_at.is_(None),
        )
        .order_by(Incident.id)
        .with_for_update(of=Incident, skip_locked=True)
    )
    return list(rows.tuples().all())


async def unreachable_communes(*, session: AsyncSession, language: str) -> list[Commune]:
    """Communes where an urgent alert would reach nobody: no duty chat and no officer or
    admin with a chat that has not blocked the bot."""
    found = []
    for commune in (await session.scalars(select(Commune).order_by(Commune.id))).all():
        chats = await officer_chats(
            session=session, commune_id=commune.id, duty_first=True, language=language
        )
        if not chats:
            found.append(commune)
    return found


async def reporter(*, session: AsyncSession, incident: Incident) -> Person | None:
    if incident.reporter_id is None:
        return None
    return await session.get(Person, incident.reporter_id)
