"""Who is owed a weekly-report reminder: the hamlets still missing a week's report."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import Role
from storage.models import Hamlet, Identity, Person, WeeklyReport


async def missing_hamlets(*, session: AsyncSession, commune_id: int, monday: date) -> list[Hamlet]:
    """Hamlets of the commune without a weekly report for the week of monday, by name."""
    return list(
        (
            await session.scalars(
                select(Hamlet)
                .outerjoin(
                    WeeklyReport,
                    and_(WeeklyReport.hamlet_id == Hamlet.id, WeeklyReport.week_start == monday),
                )
                .where(Hamlet.commune_id == commune_id, WeeklyReport.id.is_(None))
                .order_by(Hamlet.name)
            )
        ).all()
    )


@dataclass(frozen=True)
class HeadChat:
    """A hamlet head's chat, in their language, and the hamlet they answer for."""

    channel: str
    chat_id: str
    language: str
    hamlet_id: int


async def hamlet_head_chats(
    *, session: AsyncSession, hamlet_ids: Collection[int]
) -> list[HeadChat]:
    """The unblocked chats of the active hamlet heads of these hamlets: those who can send
    the report. Nobody else in the hamlet is reminded."""
    if not hamlet_ids:
        return []
    rows = await session.execute(
        select(Identity.channel, Identity.chat_id, Person.language, Person.hamlet_id)
        .join(Person)
        .where(
            Person.hamlet_id.in_(list(hamlet_ids)),
            Person.role == Role.HAMLET_HEAD,
            Person.active.is_(True),
            Identity.blocked_at.is_(None),
        )
        .order_by(Identity.id)
    )
    return [HeadChat(*row) for row in rows.all()]


@dataclass(frozen=True)
class Unreached:
    """A hamlet whose head a reminder cannot reach: none named, no chat linked, or blocked."""

    hamlet: str
    head: str | None  # None: the hamlet has no active hamlet head
    blocked: bool  # the head's chats all blocked the bot (False: none is linked)


async def unreached_heads(*, session: AsyncSession, hamlets: Collection[Hamlet]) -> list[Unreached]:
    """For these hamlets, each hamlet head without a chat a reminder can go to, and each
    hamlet with no hamlet head, in the hamlets' order."""
    if not hamlets:
        return []
    heads = (
        await session.scalars(
            select(Person)
            .where(
                Person.hamlet_id.in_([h.id for h in hamlets]),
                Person.role == Role.HAMLET_HEAD,
                Person.active.is_(True),
            )
            .order_by(Person.id)
        )
    ).all()
    chats = (
        await session.execute(
            select(Identity.person_id, Identity.blocked_at).where(
                Identity.person_id.in_([p.id for p in heads])
            )
        )
    ).all()
    found: list[Unreached] = []
    for hamlet in hamlets:
        own = [p for p in heads if p.hamlet_id == hamlet.id]
        if not own:
            found.append(Unreached(hamlet.display_name, None, False))
        for head in own:
            states = [blocked for person_id, blocked in chats if person_id == head.id]
            if all(blocked is not None for blocked in states):
                found.append(Unreached(hamlet.display_name, head.full_name or "-", bool(states)))
    return found
