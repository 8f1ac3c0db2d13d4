"""Tips as their senders see them: found by the sender's pseudonym, never by person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import OPEN_STATUSES
from storage.models import Commune, Tip, TipMessage


async def communes(*, session: AsyncSession) -> list[Commune]:
    """Every commune a tip can go to, by name."""
    return list((await session.scalars(select(Commune).order_by(Commune.name))).all())


async def open_tips_of(*, session: AsyncSession, reporter_key: str, limit: int = 8) -> list[Tip]:
    """The sender's tips still open, the newest first: those they may add to."""
    return list(
        (
            await session.scalars(
                select(Tip)
                .where(
                    Tip.reporter_key == reporter_key,
                    Tip.status.in_([s.value for s in OPEN_STATUSES]),
                )
                .order_by(Tip.received_at.desc())
                .limit(limit)
            )
        ).all()
    )


async def sent_since(*, session: AsyncSession, reporter_key: str, since: datetime) -> int:
    """Tips and additions to tips this sender sent since a time."""
    tips = await session.scalar(
        select(func.count())
        .select_from(Tip)
        .where(Tip.reporter_key == reporter_key, Tip.received_at >= since)
    )
    more = await session.scalar(
        select(func.count())
        .select_from(TipMessage)
        .join(Tip, Tip.id == TipMessage.tip_id)
        .where(
            Tip.reporter_key == reporter_key,
            TipMessage.from_tipster.is_(True),
            TipMessage.created_at >= since,
        )
    )
    return int(tips or 0) + int(more or 0)


async def by_id(*, session: AsyncSession, tip_id: int) -> Tip | None:
    return await session.get(Tip, tip_id)


async def tip_of(*, session: AsyncSession, code: str, reporter_key: str) -> Tip | None:
    """The tip with this code if this sender sent it, whatever its status."""
    return await session.scalar(
        select(Tip).where(Tip.case_code == code, Tip.reporter_key == reporter_key)
    )
