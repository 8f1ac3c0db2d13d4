"""Tips as their senders see them: found by the sender's pseudonym, never by person."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import OPEN_STATUSES
from storage.models import Commune, Tip


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


async def by_id(*, session: AsyncSession, tip_id: int) -> Tip | None:
    return await session.get(Tip, tip_id)


async def tip_of(*, session: AsyncSession, code: str, reporter_key: str) -> Tip | None:
    """The tip with this code if this sender sent it, whatever its status."""
    return await session.scalar(
        select(Tip).where(Tip.case_code == code, Tip.reporter_key == reporter_key)
    )
