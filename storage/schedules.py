"""Each commune's schedule of reminders, escalations and digests, editable at run time, and
the record of the jobs that ran."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Commune, JobRun, Schedule

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
# Set by the system operator (binhyen schedule set), never from a chat: the retention purge.
OPERATOR_JOBS = frozenset({"purge"})


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
    row = await schedule_of(session=session, commune_id=commune_id, job=job)
    assert row is not None
    if cron is not None:
        row.cron = " ".join(cron.split())
    if enabled is not None:
        row.enabled = enabled
    return row


async def schedule_of(*, session: AsyncSession, commune_id: int, job: str) -> Schedule | None:
    return await session.scalar(
        select(Schedule).where(Schedule.commune_id == commune_id, Schedule.job == job)
    )


async def commune_schedule(
    *, session: AsyncSession, commune_id: int, job: str
) -> tuple[Commune, Schedule] | None:
    """The commune and its schedule for a job; None when either is gone."""
    commune = await session.get(Commune, commune_id)
    schedule = await schedule_of(session=session, commune_id=commune_id, job=job)
    if commune is None or schedule is None:
        return None
    return commune, schedule


async def enabled_schedules(*, session: AsyncSession) -> list[tuple[Schedule, Commune]]:
    """Every enabled schedule with its commune, by commune."""
    rows = await session.execute(
        select(Schedule, Commune)
        .join(Commune)
        .where(Schedule.enabled.is_(True))
        .order_by(Schedule.commune_id, Schedule.id)
    )
    return [(schedule, commune) for schedule, commune in rows.all()]


@dataclass(frozen=True)
class Timing:
    """When one job of one commune fires: a crontab in the commune's time zone."""

    commune_id: int
    job: str
    cron: str
    timezone: str


async def enabled_timings(*, session: AsyncSession) -> list[Timing]:
    rows = await session.execute(
        select(Schedule.commune_id, Schedule.job, Schedule.cron, Commune.timezone)
        .join(Commune)
        .where(Schedule.enabled.is_(True))
    )
    return [Timing(*row) for row in rows.all()]


async def claim_run(
    *, session: AsyncSession, commune_id: int, job: str, run_key: str, now: datetime
) -> bool:
    """Record that a job runs for an occasion (run_key); False when it ran for it before.

    Written in a savepoint in the caller's transaction, so the record commits with the work
    it stands for, and a second attempt, here or in another worker, finds it.
    """
    try:
        async with session.begin_nested():
            session.add(JobRun(commune_id=commune_id, job=job, run_key=run_key, ran_at=now))
            await session.flush()
    except IntegrityError:
        return False
    return True


async def has_run(*, session: AsyncSession, commune_id: int, job: str, run_key: str) -> bool:
    """Whether the job ran for that occasion already."""
    found = await session.scalar(
        select(JobRun.id).where(
            JobRun.commune_id == commune_id, JobRun.job == job, JobRun.run_key == run_key
        )
    )
    return found is not None
