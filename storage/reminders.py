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
