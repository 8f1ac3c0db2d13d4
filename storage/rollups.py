"""Roll-ups for a commune and a period, each one SQL aggregate (no loops over report rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from storage.enums import FIGURES, OPEN_STATUSES, ActivityKind, IncidentCategory, Severity
from storage.models import Activity, Hamlet, Incident, WeeklyReport
from storage.periods import Period
from storage.reports import week_due

PROLONGED_DISPUTE = timedelta(days=30)
_OPEN = [s.value for s in OPEN_STATUSES]

_K = TypeVar("_K")


def change(now: int, before: int) -> float | None:
    """Change against last year in percent; None when there was nothing to compare with."""
    return None if before == 0 else round((now - before) * 100 / before, 1)


def rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part * 100 / whole, 1)


@dataclass(frozen=True)
class CategoryRow:
    category: str
    count: int
    last_year: int

    @property
    def change(self) -> float | None:
        return change(self.count, self.last_year)


async def _incident_counts(
    session: AsyncSession,
    commune_id: int,
    period: Period,
    tz: ZoneInfo,
    by: InstrumentedAttribute[_K],
) -> dict[_K, int]:
    start, end = period.utc(tz)
    rows = await session.execute(
        select(by, func.count())
        .where(
            Incident.commune_id == commune_id,
            Incident.occurred_at >= start,
            Incident.occurred_at < end,
        )
        .group_by(by)
    )
    return dict(rows.tuples().all())


async def incidents_by_category(
    session: AsyncSession, commune_id: int, period: Period, tz: ZoneInfo
) -> list[CategoryRow]:
    """Every category with a count now or last year, in the order of the domain's list.

    Both periods in one statement (one round trip), each part bounded by the index."""

    def part(p: Period, which: int) -> Select[tuple[str, int, int]]:
        start, end = p.utc(tz)
        return (
            select(Incident.category, literal(which), func.count())
            .where(
                Incident.commune_id == commune_id,
                Incident.occurred_at >= start,
                Incident.occurred_at < end,
            )
            .group_by(Incident.category)
        )

    counts: tuple[dict[str, int], dict[str, int]] = ({}, {})
    rows = await session.execute(union_all(part(period, 0), part(period.last_year(), 1)))
    for category, which, n in rows.tuples().all():
        counts[which][category] = int(n)
    now, before = counts
    return [
        CategoryRow(c.value, now.get(c.value, 0), before.get(c.value, 0))
        for c in IncidentCategory
        if now.get(c.value) or before.get(c.value)
    ]


async def incidents_by_hamlet(
    session: AsyncSession, commune_id: int, period: Period, tz: ZoneInfo
) -> dict[int, int]:
    counts = await _incident_counts(session, commune_id, period, tz, Incident.hamlet_id)
    return {int(k): int(v) for k, v in counts.items()}


@dataclass(frozen=True)
class Flags:
    serious_crimes: int
    mass_complaints: int
    prolonged_disputes: int  # open disputes older than 30 days at the period's end
    hotspots: int = 0  # "tụ điểm phức tạp về trật tự xã hội" reported in the period


async def flags(
    session: AsyncSession,
    commune_id: int,
    period: Period,
    tz: ZoneInfo,
    now: datetime,
    hamlet_id: int | None = None,
) -> Flags:
    by_hamlet = await flags_by_hamlet(session, commune_id, period, tz, now)
    chosen = [by_hamlet.get(hamlet_id, Flags(0, 0, 0))] if hamlet_id else by_hamlet.values()
    return Flags(
        sum(f.serious_crimes for f in chosen),
        sum(f.mass_complaints for f in chosen),
        sum(f.prolonged_disputes for f in chosen),
        sum(f.hotspots for f in chosen),
    )


# Figures that add up over a period; households signed and models active are states, kept
# now in the registers (storage.movement), not summed.
FIGURE_COLUMNS = tuple(
    f for f in FIGURES if f not in ("households_total", "households_signed", "models_active")
)


@dataclass
class ActivityFigures:
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> count and sums

    def get(self, kind: str, figure: str = "count") -> int:
        return self.by_kind.get(str(kind), {}).get(figure, 0)

    @property
    def mediation_rate(self) -> float | None:
        return rate(
            self.get(ActivityKind.MEDIATION, "cases_successful"),
            self.get(ActivityKind.MEDIATION, "cases"),
        )


async def activity_figures(
    session: AsyncSession, commune_id: int, period: Period, hamlet_id: int | None = None
) -> ActivityFigures:
    columns = [func.coalesce(func.sum(getattr(Activity, c)), 0) for c in FIGURE_COLUMNS]
    query = (
        select(Activity.kind, func.count(), *columns)
        .where(
            Activity.commune_id == commune_id,
            Activity.held_on >= period.start,
            Activity.held_on < period.end,
        )
        .group_by(Activity.kind)
    )
    if hamlet_id is not None:
        query = query.where(Activity.hamlet_id == hamlet_id)
    figures = ActivityFigures()
    for kind, count, *sums in (await session.execute(query)).all():
        figures.by_kind[kind] = {
            "count": int(count),
            **{c: int(v) for c, v in zip(FIGURE_COLUMNS, sums, strict=True)},
        }
    return figures


@dataclass(frozen=True)
class Compliance:
    hamlet_id: int
    name: str
    weeks: int
    on_time: int
    late: int
    kind: str = "thôn"  # the hamlet's kind (storage.hamlet_kinds)

    @property
    def missing(self) -> int:
        return self.weeks - self.on_time - self.late


async def compliance(
    session: AsyncSession,
    commune_id: int,
    period: Period,
    tz: ZoneInfo,
    until: datetime | None = None,
) -> list[Compliance]:
    """Weekly reports per hamlet for the weeks starting in the period whose deadline
    (Sunday 18:00 local) has passed by until; every week of the period when until is None."""
    mondays = period.mondays()
    if until is not None:
        mondays = [m for m in mondays if week_due(m, tz) <= until]
    report = and_(
        WeeklyReport.hamlet_id == Hamlet.id,
        WeeklyReport.week_start.in_(mondays) if mondays else literal(False),
    )
    on_time = func.coalesce(
        func.sum(case((WeeklyReport.received_at <= WeeklyReport.due_at, 1), else_=0)), 0
    )
    late = func.coalesce(
        func.sum(case((WeeklyReport.received_at > WeeklyReport.due_at, 1), else_=0)), 0
    )
    rows = await session.execute(
        select(Hamlet.id, Hamlet.label, Hamlet.name, on_time, late)
        .outerjoin(WeeklyReport, report)
        .where(Hamlet.commune_id == commune_id)
        .group_by(Hamlet.id, Hamlet.label, Hamlet.name)
        .order_by(Hamlet.name)
    )
    return [
        Compliance(
            i, f"{label[:1].upper()}{label[1:]} {name}", len(mondays), int(ok), int(lt), label
        )
        for i, label, name, ok, lt in rows.all()
    ]


async def flags_by_hamlet(
    session: AsyncSession, commune_id: int, period: Period, tz: ZoneInfo, now: datetime
) -> dict[int, Flags]:
    """Serious crimes and mass complaints in the period, and disputes still open after 30
    days, per hamlet. Two queries, each bounded by an index (the period's incidents; the open
    ones), in one round trip, so the cost follows the period and the open cases, not the
    years of history."""
    start, end = period.utc(tz)

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    in_period = (
        select(
            Incident.hamlet_id,
            literal(0),
            count(Incident.severity == Severity.SERIOUS),
            count(Incident.category == IncidentCategory.MASS_COMPLAINT),
            count(Incident.category == IncidentCategory.HOTSPOT),
        )
        .where(
            Incident.commune_id == commune_id,
            Incident.occurred_at >= start,
            Incident.occurred_at < end,
        )
        .group_by(Incident.hamlet_id)
    )
    open_disputes = (
        select(Incident.hamlet_id, literal(1), func.count(), literal(0), literal(0))
        .where(
            Incident.commune_id == commune_id,
            Incident.status.in_(_OPEN),
            Incident.category == IncidentCategory.DISPUTE,
            Incident.occurred_at < min(end, now) - PROLONGED_DISPUTE,
        )
        .group_by(Incident.hamlet_id)
    )
    rows = (await session.execute(union_all(in_period, open_disputes))).tuples().all()
    prolonged = {h: a for h, which, a, _, _ in rows if which == 1}
    found = {
        h: Flags(int(a), int(b), int(prolonged.pop(h, 0)), int(c))
        for h, which, a, b, c in rows
        if which == 0
    }
    found.update({h: Flags(0, 0, int(n)) for h, n in prolonged.items()})
    return found


async def meetings_by_hamlet(
    session: AsyncSession, commune_id: int, period: Period
) -> dict[int, int]:
    """Team meetings reported as activities plus those counted in weekly reports."""
    activities = (
        select(Activity.hamlet_id.label("hamlet_id"), func.count().label("n"))
        .where(
            Activity.commune_id == commune_id,
            Activity.kind == ActivityKind.MEETING,
            Activity.held_on >= period.start,
            Activity.held_on < period.end,
        )
        .group_by(Activity.hamlet_id)
    )
    weekly = (
        select(
            WeeklyReport.hamlet_id.label("hamlet_id"),
            func.coalesce(func.sum(WeeklyReport.meetings), 0).label("n"),
        )
        .where(
            WeeklyReport.commune_id == commune_id,
            WeeklyReport.week_start >= period.start,
            WeeklyReport.week_start < period.end,
        )
        .group_by(WeeklyReport.hamlet_id)
    )

    both = union_all(activities, weekly).subquery()
    rows = await session.execute(
        select(both.c.hamlet_id, func.sum(both.c.n)).group_by(both.c.hamlet_id)
    )
    return {h: int(n) for h, n in rows.all()}


async def province_incidents(
    session: AsyncSession, province_id: int, period: Period, tz: ZoneInfo
) -> list[tuple[int, str, int]]:
    """(commune id, category, count) for every commune of a province in a period."""
    from storage.models import Commune

    start, end = period.utc(tz)
    rows = await session.execute(
        select(Incident.commune_id, Incident.category, func.count())
        .join(Commune, Commune.id == Incident.commune_id)
        .where(
            Commune.province_id == province_id,
            Incident.occurred_at >= start,
            Incident.occurred_at < end,
        )
        .group_by(Incident.commune_id, Incident.category)
    )
    return [(int(c), str(k), int(n)) for c, k, n in rows.all()]


# The figures of the weekly report that add up over a period.
WEEKLY_FIGURES = (
    "incidents",
    "disputes",
    "complaints",
    "strangers",
    "patrols",
    "outreach_sessions",
    "mediations",
    "mediations_successful",
    "meetings",
)


@dataclass
class WeeklyFigures:
    """Sums of the weekly reports of a period: what hamlet heads typed, week by week."""

    reports: int = 0
    sums: dict[str, int] = field(default_factory=dict)

    def get(self, figure: str) -> int:
        return self.sums.get(figure, 0)


async def weekly_figures(
    session: AsyncSession, commune_id: int, period: Period, hamlet_id: int | None = None
) -> WeeklyFigures:
    """The weekly reports of the weeks starting in the period, summed: one aggregate."""
    columns = [func.coalesce(func.sum(getattr(WeeklyReport, c)), 0) for c in WEEKLY_FIGURES]
    query = select(func.count(), *columns).where(
        WeeklyReport.commune_id == commune_id,
        WeeklyReport.week_start >= period.start,
        WeeklyReport.week_start < period.end,
    )
    if hamlet_id is not None:
        query = query.where(WeeklyReport.hamlet_id == hamlet_id)
    row = (await session.execute(query)).one()
    count, *sums = row
    return WeeklyFigures(int(count), {c: int(v) for c, v in zip(WEEKLY_FIGURES, sums, strict=True)})


async def weekly_complaints_by_hamlet(
    session: AsyncSession, commune_id: int, period: Period
) -> dict[int, int]:
    """Mass complaints counted in weekly reports, per hamlet (a criteria flag)."""
    rows = await session.execute(
        select(WeeklyReport.hamlet_id, func.coalesce(func.sum(WeeklyReport.complaints), 0))
        .where(
            WeeklyReport.commune_id == commune_id,
            WeeklyReport.week_start >= period.start,
            WeeklyReport.week_start < period.end,
        )
        .group_by(WeeklyReport.hamlet_id)
    )
    return {int(h): int(n) for h, n in rows.tuples().all()}
