"""The scheduled work, each run recorded so that it happens once per occasion.

A job is asked to run for a fire time (when the schedule said it should run). The record
(a JobRun, or a DigestRun for digests) is written in the transaction that queues the
messages, so a missed tick, a restart or a second worker never sends anything twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.alerts import alert_buttons, alert_text
from conversations.callbacks import MenuPick
from conversations.events import has_buttons
from locales import t, wording
from locales.text import hamlets_word
from scheduler.crontab import last_fire
from scheduler.digest import DIGEST_KINDS, queue_digest
from storage import alerts
from storage.cases import officer_chats
from storage.hamlet_kinds import kinds_of
from storage.media import FOLDER, forget_unreferenced
from storage.models import Commune, Hamlet
from storage.outbox import enqueue
from storage.periods import Period, last_complete
from storage.privacy import purge_closed_tips, rewrite_conversations
from storage.reminders import hamlet_head_chats, missing_hamlets
from storage.reports import week_start
from storage.retention import Retention, purge_bot_state
from storage.schedules import claim_run, enabled_schedules, ensure_defaults

REMINDERS = ("remind", "remind_again")
# How late a reminder or escalation may still go out after a stop; a digest always does.
GRACE = timedelta(hours=12)
LATE = timedelta(minutes=30)


def due_now(job: str, fire: datetime, now: datetime) -> bool:
    """Whether a fire time that has passed should still be acted on."""
    return job.startswith("digest_") or now - fire <= GRACE


async def run_job(
    session: AsyncSession,
    commune: Commune,
    job: str,
    fire: datetime,
    now: datetime,
    out_dir: Path,
    default_language: str = "vi",
    retention_days: int = 365,
    keep: Retention | None = None,
) -> str:
    """Do job for the occasion of fire (idempotent); a line saying what happened."""
    tz = ZoneInfo(commune.timezone)
    if job == "purge":
        purged = await purge_closed_tips(session, now, retention_days, commune.id)
        # For every commune at once: cheap, and the same however often it runs.
        await rewrite_conversations(session)
        kept = keep or Retention()
        gone = await purge_bot_state(session=session, now=now, keep=kept)
        images = forget_old_files(out_dir, now, kept.digest_images_days)
        # The media store sits beside the digests folder, under the data folder.
        files = await forget_unreferenced(
            session=session, root=out_dir.parent / FOLDER, now=now, days=kept.drafts_days
        )
        removed = {**gone, "digest_images": images, "stored_media": files}
        return (
            f"{commune.display_name}: purged {purged} closed tip(s) past retention; "
            + ", ".join(f"{n} {what}" for what, n in removed.items())
        )
    if job.startswith("digest_"):
        kind = job.removeprefix("digest_")
        period = last_complete(DIGEST_KINDS[kind], fire.astimezone(tz).date())
        sent = await queue_digest(
            session,
            commune,
            kind,
            period,
            now,
            out_dir,
            default_language,
            late_note=now - fire > LATE,
        )
        return _digest_line(commune, kind, period, sent)
    monday = week_start(fire.astimezone(tz).date())
    if not await claim_run(
        session=session, commune_id=commune.id, job=job, run_key=monday.isoformat(), now=now
    ):
        return f"{commune.display_name}: {job} for the week of {monday:%d/%m} was done before."
    missing = await missing_hamlets(session=session, commune_id=commune.id, monday=monday)
    week = f"{monday:%d/%m} – {monday + timedelta(days=6):%d/%m/%Y}"
    if job in REMINDERS:
        count = await _remind(session, commune, missing, week, now)
        return (
            f"{commune.display_name}: reminded {count} chat(s) of "
            f"{len(missing)} hamlet(s) without a report for {week}."
        )
    if job == "escalate":
        targets = await officer_chats(
            session=session, commune_id=commune.id, duty_first=True, language=default_language
        )
        kinds = [h.label for h in missing] or await kinds_of(session, commune.id)
        for target in targets:
            key = "escalate.missing" if missing else "escalate.all_in"
            text = t(
                target.language,
                key,
                week=week,
                hamlets=", ".join(h.display_name for h in missing),
                count=len(missing),
                hamlet_word=hamlets_word(target.language, kinds),
            )
            await enqueue(
                session,
                channel=target.channel,
                chat_id=target.chat_id,
                text=text,
                purpose="escalation",
                commune_id=commune.id,
                now=now,
            )
        return (
            f"{commune.display_name}: told {len(targets)} officer chat(s) of "
            f"{len(missing)} missing hamlet(s)."
        )
    raise ValueError(f"unknown job {job!r}")


async def _remind(
    session: AsyncSession, commune: Commune, missing: list[Hamlet], week: str, now: datetime
) -> int:
    """Only the hamlet heads of hamlets still missing a report: those who can act on it."""
    if not missing:
        return 0
    by_id = {h.id: h for h in missing}
    chats = await hamlet_head_chats(session=session, hamlet_ids=list(by_id))
    for chat in chats:
        lang = chat.language
        key = wording(lang, "remind.text", buttons=has_buttons(chat.channel))
        text = t(lang, key, week=week, hamlet=by_id[chat.hamlet_id].display_name)
        buttons = [
            [{"label": t(lang, "menu.weekly_quiet"), "data": MenuPick("weekly_quiet").encode()}],
            [{"label": t(lang, "menu.weekly"), "data": MenuPick("weekly").encode()}],
        ]
        await enqueue(
            session,
            channel=chat.channel,
            chat_id=chat.chat_id,
            text=text,
            buttons=buttons,
            purpose="reminder",
            commune_id=commune.id,
            now=now,
        )
    return len(chats)


def _digest_line(commune: Commune, kind: str, period: Period, sent: int | None) -> str:
    if sent is None:
        return f"{commune.display_name}: {kind} digest {period.label} was queued before."
    if sent == 0:
        return (
            f"{commune.display_name}: {kind} digest {period.label} not queued: no officer "
            "chat is linked yet (an invite, or /trucban in the duty group)."
        )
    return f"{commune.display_name}: {kind} digest {period.label} queued for {sent} chat(s)."


async def due_jobs(
    session: AsyncSession, now: datetime, jobs: tuple[str, ...] | None = None
) -> list[tuple[Commune, str, datetime]]:
    """Every enabled schedule whose latest fire time has passed and is still due."""
    due = []
    for schedule, commune in await enabled_schedules(session=session):
        if jobs is not None and schedule.job not in jobs:
            continue
        fire = last_fire(schedule.cron, ZoneInfo(commune.timezone), now)
        # Nothing is owed for times before the commune was set up (a new install).
        if fire is not None and fire >= commune.created_at and due_now(schedule.job, fire, now):
            due.append((commune, schedule.job, fire))
    return due


async def run_due(
    session: AsyncSession,
    now: datetime,
    out_dir: Path,
    default_language: str = "vi",
    jobs: tuple[str, ...] | None = None,
    retention_days: int = 365,
) -> list[str]:
    """Catch up in one transaction: every job that is due, once."""
    await ensure_defaults(session)
    return [
        await run_job(session, commune, job, fire, now, out_dir, default_language, retention_days)
        for commune, job, fire in await due_jobs(session, now, jobs)
    ]


def forget_old_files(folder: Path, now: datetime, days: int) -> int:
    """Delete chart images older than days from the digests folder; how many."""
    if not folder.is_dir():
        return 0
    cutoff = (now - timedelta(days=days)).timestamp()
    gone = 0
    for path in folder.rglob("*.png"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            gone += 1
    return gone


async def repeat_alerts(
    session: AsyncSession, now: datetime, after: timedelta, default_language: str
) -> int:
    """Alert once more, privately to every officer and admin of the commune, the urgent
    incidents nobody acknowledged in time. Returns how many incidents were repeated."""
    due = await alerts.due_repeats(session=session, now=now, after=after)
    minutes = int(after.total_seconds() // 60)
    for incident, commune in due:
        chats = await officer_chats(
            session=session, commune_id=commune.id, duty_first=False, language=default_language
        )
        reporter = await alerts.reporter(session=session, incident=incident)
        for chat in chats:
            text = alert_text(
                chat.language,
                incident,
                reporter=reporter,
                tz=ZoneInfo(commune.timezone),
                repeat_after_minutes=minutes,
            )
            buttons = [
                [{"label": b.label, "data": b.data} for b in row]
                for row in alert_buttons(chat.language, incident)
            ]
            await enqueue(
                session,
                channel=chat.channel,
                chat_id=chat.chat_id,
                text=text,
                buttons=buttons,
                purpose="alert",
                commune_id=commune.id,
                now=now,
            )
        await alerts.record(session=session, incident_id=incident.id, chats=chats, round=2, now=now)
        incident.alert_repeated_at = now
    return len(due)
