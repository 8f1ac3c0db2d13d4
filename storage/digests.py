"""Digest runs: one row per commune, kind and period, so that each digest goes out once."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DigestRun
from storage.periods import Period


async def queued_before(
    *, session: AsyncSession, commune_id: int, kind: str, period_start: date
) -> bool:
    return (
        await session.scalar(
            select(DigestRun.id).where(
                DigestRun.commune_id == commune_id,
                DigestRun.kind == kind,
                DigestRun.period_start == period_start,
            )
        )
        is not None
    )


async def record_run(
    *,
    session: AsyncSession,
    commune_id: int,
    kind: str,
    period: Period,
    now: datetime,
    late: bool = False,
) -> bool:
    """Write the run; False when another worker wrote it first (the row is unique per
    commune, kind and period). Only the savepoint is undone then, not the caller's work."""
    try:
        async with session.begin_nested():
            session.add(
                DigestRun(
                    commune_id=commune_id,
                    kind=kind,
                    period_start=period.start,
                    period_end=period.end,
                    started_at=now,
                    note="late" if late else None,
                )
            )
            await session.flush()
    except IntegrityError:
        return False
    return True
