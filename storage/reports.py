"""Writing reports: one place that stores a record with its first status and attachments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import FIGURES, RecordKind, Status
from storage.identity import new_case_code
from storage.models import (
    Activity,
    Attachment,
    Incident,
    StatusChange,
    Tip,
    TipMessage,
    WeeklyReport,
)
from storage.types import utcnow


@dataclass(frozen=True)
class Media:
    channel: str
    file_id: str
    media_type: str
    size_bytes: int | None = None

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Media:
        return cls(value["channel"], value["file_id"], value["media_type"], value.get("size_bytes"))


async def _record(
    session: AsyncSession,
    kind: RecordKind,
    record: Incident | Activity | WeeklyReport | Tip,
    actor_id: int | None,
    media: Sequence[Media],
) -> None:
    session.add(record)
    await session.flush()
    session.add(
        StatusChange(
            record_kind=kind,
            record_id=record.id,
            status=Status.NEW,
            actor_id=actor_id,
            created_at=getattr(record, "received_at", None) or utcnow(),
        )
    )
    _attach(session, kind, record.id, media)


def _attach(
    session: AsyncSession, kind: RecordKind, record_id: int, media: Sequence[Media]
) -> None:
    session.add_all(
        Attachment(
            record_kind=kind,
            record_id=record_id,
            channel=m.channel,
            file_id=m.file_id,
            media_type=m.media_type,
            size_bytes=m.size_bytes,
        )
        for m in media
    )


async def add_incident(
    session: AsyncSession,
    *,
    commune_id: int,
    hamlet_id: int,
    reporter_id: int | None,
    category: str,
    severity: str,
    occurred_at: datetime,
    occurred_precision: str = "exact",
    received_at: datetime,
    place_text: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    description: str | None = None,
    media: Sequence[Media] = (),
) -> Incident:
    incident = Incident(
        commune_id=commune_id,
        hamlet_id=hamlet_id,
        reporter_id=reporter_id,
        category=category,
        severity=severity,
        occurred_at=occurred_at,
        occurred_precision=occurred_precision,
        received_at=received_at,
        place_text=place_text,
        latitude=latitude,
        longitude=longitude,
        description=description,
    )
    await _record(session, RecordKind.INCIDENT, incident, reporter_id, media)
    return incident


async def add_activity(
    session: AsyncSession,
    *,
    commune_id: int,
    hamlet_id: int,
    team_id: int | None = None,
    reporter_id: int | None,
    kind: str,
    held_on: date,
    received_at: datetime,
    description: str | None = None,
    figures: Mapping[str, int | None] = MappingProxyType({}),
    media: Sequence[Media] = (),
) -> Activity:
    """figures: values of the figure columns (storage.enums.FIGURES) by name."""
    unknown = set(figures) - set(FIGURES)
    if unknown:
        raise ValueError(f"not activity figures: {', '.join(sorted(unknown))}")
    activity = Activity(
        commune_id=commune_id,
        hamlet_id=hamlet_id,
        team_id=team_id,
        reporter_id=reporter_id,
        kind=kind,
        held_on=held_on,
        received_at=received_at,
        description=description,
        **figures,
    )
    await _record(session, RecordKind.ACTIVITY, activity, reporter_id, media)
    return activity


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_due(monday: date, tz: ZoneInfo) -> datetime:
    """A week's report is on time until Sunday 18:00, when the officers hear who is missing."""
    return datetime.combine(monday + timedelta(days=6), time(18), tz)


async def weekly_report_for(
    session: AsyncSession, hamlet_id: int, monday: date
) -> WeeklyReport | None:
    return await session.scalar(
        select(WeeklyReport).where(
            WeeklyReport.hamlet_id == hamlet_id, WeeklyReport.week_start == monday
        )
    )


async def own_incident(
    *, session: AsyncSession, incident_id: int, reporter_id: int
) -> Incident | None:
    """An incident, if this person reported it: how a reporter adds to their own report."""
    incident = await session.get(Incident, incident_id)
    return incident if incident is not None and incident.reporter_id == reporter_id else None


async def add_incident_details(
    *,
    session: AsyncSession,
    incident: Incident,
    description: str | None,
    media: Sequence[Media] = (),
) -> None:
    """The account and the files of an incident whose alert went before them."""
    if description:
        incident.description = description
    _attach(session, RecordKind.INCIDENT, incident.id, media)
    await session.flush()


async def incidents_between(
    *, session: AsyncSession, hamlet_id: int, start: datetime, end: datetime
) -> list[Incident]:
    """A hamlet's incidents that happened in [start, end), the oldest first."""
    return list(
        (
            await session.scalars(
                select(Incident)
                .where(
                    Incident.hamlet_id == hamlet_id,
                    Incident.occurred_at >= start,
                    Incident.occurred_at < end,
                )
                .order_by(Incident.occurred_at, Incident.id)
            )
        ).all()
    )


async def save_weekly_report(
    session: AsyncSession,
    *,
    hamlet_id: int,
    commune_id: int,
    monday: date,
    reporter_id: int | None,
    figures: dict[str, Any],
    tz: ZoneInfo,
    now: datetime | None = None,
) -> tuple[WeeklyReport, bool]:
    """One report per hamlet per week: a second one amends the first. Returns (report, amended)."""
    existing = await weekly_report_for(session, hamlet_id, monday)
    if existing is not None:
        for key, value in figures.items():
            setattr(existing, key, value)
        existing.reporter_id = reporter_id
        existing.amended_at = now or utcnow()
        session.add(
            StatusChange(
                record_kind=RecordKind.WEEKLY,
                record_id=existing.id,
                status=existing.status,
                actor_id=reporter_id,
                note="amended",
            )
        )
        return existing, True
    report = WeeklyReport(
        hamlet_id=hamlet_id,
        commune_id=commune_id,
        week_start=monday,
        reporter_id=reporter_id,
        due_at=week_due(monday, tz),
        received_at=now or utcnow(),
        **figures,
    )
    await _record(session, RecordKind.WEEKLY, report, reporter_id, [])
    return report, False


TIP_PLACE_DECIMALS = 3  # about 100 m: where it happened, not the tipster's doorstep


def coarse(degrees: float | None) -> float | None:
    """A tipster's shared position, coarsened before it is stored."""
    return None if degrees is None else round(degrees, TIP_PLACE_DECIMALS)


async def add_tip(
    session: AsyncSession,
    *,
    commune_id: int,
    hamlet_id: int | None = None,
    reporter_key: str,
    description: str | None = None,
    place_text: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    contact: str | None = None,
    received_at: datetime,
    media: Sequence[Media] = (),
) -> Tip:
    for _ in range(5):
        code = new_case_code()
        if await session.scalar(select(Tip.id).where(Tip.case_code == code)) is None:
            break
    else:  # pragma: no cover - 32^6 codes; five collisions in a row means something else is wrong
        raise IntegrityError("case code", None, Exception("no free case code"))
    tip = Tip(
        case_code=code,
        commune_id=commune_id,
        hamlet_id=hamlet_id,
        reporter_key=reporter_key,
        description=description,
        place_text=place_text,
        latitude=coarse(latitude),
        longitude=coarse(longitude),
        contact=contact,
        received_at=received_at,
    )
    await _record(session, RecordKind.TIP, tip, None, media)
    return tip


async def add_tip_message(
    session: AsyncSession,
    tip: Tip,
    body: str,
    *,
    from_tipster: bool,
    officer_id: int | None = None,
    media: Sequence[Media] = (),
) -> TipMessage:
    message = TipMessage(tip_id=tip.id, body=body, from_tipster=from_tipster, officer_id=officer_id)
    session.add(message)
    _attach(session, RecordKind.TIP, tip.id, media)
    await session.flush()
    return message
