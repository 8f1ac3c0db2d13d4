"""APScheduler fires each commune's schedule; one worker at a time leads.

On PostgreSQL the leader holds a session-level advisory lock on its own connection: if the
process dies, PostgreSQL drops the connection and the lock, and another worker takes over
at its next try. On SQLite there is one process, which always leads. When a worker becomes
leader it catches up: whatever fell due while no one was running is done once, late.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from scheduler.crontab import last_fire, parse
from scheduler.jobs import due_jobs, repeat_alerts, run_job
from storage import leader
from storage.retention import Retention
from storage.schedules import commune_schedule, enabled_timings, ensure_defaults
from storage.types import utcnow

log = logging.getLogger(__name__)
LOCK_KEY = 0x62_69_6E_68  # "binh": the advisory lock of the scheduler leader


class LeaderLock:
    """One worker at a time holds it: the scheduler's leader, or the poller of a bot token."""

    def __init__(self, engine: AsyncEngine, key: int = LOCK_KEY, what: str = "scheduler") -> None:
        self.engine = engine
        self.key = key
        self.what = what
        self._conn: AsyncConnection | None = None

    @property
    def shared(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    async def hold(self) -> bool:
        """True while this worker leads: takes the lock if free, checks it if held."""
        if not self.shared:
            return True
        if self._conn is not None:
            try:
                await leader.ping(connection=self._conn)
                return True
            except Exception:
                log.warning("lost the %s lock's connection; trying again", self.what)
                await self.release()
        conn = await self.engine.connect()
        try:
            got = await leader.try_lock(connection=conn, key=self.key)
        except Exception:
            await conn.close()
            raise
        if got:
            self._conn = conn
            return True
        await conn.close()
        return False

    async def release(self) -> None:
        if self._conn is not None:
            try:
                await leader.unlock(connection=self._conn, key=self.key)
            except Exception:
                log.debug("could not unlock; dropping the connection instead", exc_info=True)
            finally:
                # Invalidated, not pooled: a pooled session would go on holding the lock.
                await self._conn.invalidate()
                await self._conn.close()
                self._conn = None


class SchedulerService:
    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        out_dir: Path,
        default_language: str = "vi",
        *,
        on_queued: Callable[[], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
        check_seconds: float = 30,
        retention_days: int = 365,
        alert_repeat: timedelta = timedelta(minutes=10),
        keep: Retention | None = None,
    ) -> None:
        self.keep = keep or Retention()
        self.retention_days = retention_days
        self.alert_repeat = alert_repeat
        self.sessions = sessions
        self.lock = LeaderLock(engine)
        self.out_dir = out_dir
        self.default_language = default_language
        self.on_queued = on_queued
        self.clock = clock
        self.check_seconds = check_seconds
        self.leading = False
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        # Held while a job works: stopping waits for it instead of cancelling it in the middle
        # of a database call (which can leave the connection, and the exit, hanging).
        self._busy = asyncio.Lock()
        self._crons: dict[str, str] = {}

    async def start(self) -> None:
        self.scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=self.check_seconds),
            id="leader",
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
        )
        self.scheduler.start()

    async def stop(self) -> None:
        async with self._busy:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=False)
        await self.lock.release()

    async def tick(self) -> None:
        """Lead if possible; the leader keeps its jobs in step with the schedules table."""
        async with self._busy:
            await self._tick()

    async def _tick(self) -> None:
        try:
            leading = await self.lock.hold()
        except Exception:
            log.exception("could not reach the database for the scheduler lock")
            leading = False
        if leading and not self.leading:
            log.info("this worker now runs the schedules")
            self.leading = True
            await self.catch_up()
        elif not leading and self.leading:
            self.leading = False
            for job_id in list(self._crons):
                self.scheduler.remove_job(job_id)
            self._crons.clear()
        if self.leading:
            await self.sync()
            await self.repeat_alerts()

    async def repeat_alerts(self) -> int:
        """Urgent alerts nobody took in time go once more to every officer and admin."""
        try:
            async with self.sessions() as session, session.begin():
                repeated = await repeat_alerts(
                    session, self.clock(), self.alert_repeat, self.default_language
                )
        except Exception:
            log.exception("could not repeat unacknowledged alerts; trying again shortly")
            return 0
        if repeated:
            log.info("repeated %d unacknowledged urgent alert(s)", repeated)
            self._queued()
        return repeated

    async def catch_up(self) -> list[str]:
        """Each owed job in its own short transaction, so none holds the database long."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            await ensure_defaults(session)
        async with self.sessions() as session:
            due = [(c.id, job, fire) for c, job, fire in await due_jobs(session, now)]
        lines = []
        for commune_id, job, fire in due:
            line = await self._run(commune_id, job, now, fire)
            if line is not None:
                log.info("catch-up: %s", line)
                lines.append(line)
        return lines

    async def sync(self) -> None:
        async with self.sessions() as session, session.begin():
            await ensure_defaults(session)
            timings = await enabled_timings(session=session)
        wanted = {f"{w.commune_id}:{w.job}": w for w in timings}
        for job_id in set(self._crons) - set(wanted):
            self.scheduler.remove_job(job_id)
            del self._crons[job_id]
        for job_id, w in wanted.items():
            if self._crons.get(job_id) == f"{w.cron}@{w.timezone}":
                continue
            tz = ZoneInfo(w.timezone)
            try:
                # Checked again here: a schedule stored before the checks existed may fire
                # every minute, or never.
                cron_trigger = parse(w.cron, tz, self.clock()).trigger(tz)
            except ValueError as error:
                log.error(
                    "schedule %s of commune %s is not used (%s): %r",
                    w.job,
                    w.commune_id,
                    error,
                    w.cron,
                )
                continue
            self.scheduler.add_job(
                self.fire,
                cron_trigger,
                args=[w.commune_id, w.job],
                id=job_id,
                replace_existing=True,
                coalesce=True,
                misfire_grace_time=3600,
            )
            self._crons[job_id] = f"{w.cron}@{w.timezone}"

    async def fire(self, commune_id: int, job: str) -> str | None:
        async with self._busy:
            return await self._fire(commune_id, job)

    async def _fire(self, commune_id: int, job: str) -> str | None:
        if not self.leading:
            return None
        line = await self._run(commune_id, job, self.clock())
        if line is not None:
            log.info("%s", line)
        return line

    async def _run(
        self, commune_id: int, job: str, now: datetime, fire: datetime | None = None
    ) -> str | None:
        """One job of one commune in its own transaction; fire defaults to its latest time."""
        async with self.sessions() as session, session.begin():
            found = await commune_schedule(session=session, commune_id=commune_id, job=job)
            if found is None:
                return None
            commune, schedule = found
            if fire is None:
                fire = last_fire(schedule.cron, ZoneInfo(commune.timezone), now) or now
            line = await run_job(
                session,
                commune,
                job,
                fire,
                now,
                self.out_dir,
                self.default_language,
                self.retention_days,
                self.keep,
            )
        self._queued()
        return line

    def _queued(self) -> None:
        if self.on_queued is not None:
            self.on_queued()
