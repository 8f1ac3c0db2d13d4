"""Each commune's schedule of reminders, escalations and digests, editable at run time."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Commune, Schedule

# crontab: minute hour day-of-month month day-of-week, in the commune's time zone.
DEFAULTS: dict[str, str] = {
    "remind": "0 16 * * fri",  # weekly-report reminder, Friday 16:00
    "remind_again": "0 9 * * sat",  # and again Saturday 09:00
    "escalate": "0 18 * * sun",  # officers hear which hamlets are missing, Sunday 18:00
    "digest_weekly": "0 7 * * mon",
    "digest_monthly": "0 7 1 * *",
    "digest_quarterly": "0 7 1 1,4,7,10 *",
    "purge": "0 3 * * *",  # closed tips past their retention, nightly
}


async def ensure_defaults(session: AsyncSession) -> None:
    """Give every commune the default schedule for any job it has none for."""
    existing = set((await session.execute(select(Schedule.commune_id, Schedule.job))).all())
    for commune_id in (await session.scalars(select(Commune.id))).all():
        for job, cron in DEFAULTS.items():
            if (commune_id, job) not in existing:
                session.add(Schedule(commune_id=commune_id, job=job, cron=cron))
    await session.flush()


async def schedules_of(session: AsyncSession, commune_id: int | None = None) -> list[Schedule]:
    query = select(Schedule).order_by(Schedule.commune_id, Schedule.id)
    if commune_id is not None:
        query = query.where(Schedule.commune_id == commune_id)
    return list((await session.scalars(query)).all())


async def set_schedule(
    session: AsyncSession, commune_id: int, job: str, cron: str | None, enabled: bool | None = None
) -> Schedule:
    if job not in DEFAULTS:
        raise ValueError(f"unknown job {job!r}: {', '.join(DEFAULTS)}")
    await ensure_defaults(session)
    row = await session.scalar(
        select(Schedule).where(Schedule.commune_id == commune_id, Schedule.job == job)
    )
    assert row is not None
    if cron is not None:
        row.cron = " ".join(cron.split())
    if enabled is not None:
        row.enabled = enabled
    return row
