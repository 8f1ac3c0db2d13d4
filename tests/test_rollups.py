"""Roll-up figures against fixtures computed by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from storage.cases import queue
from storage.enums import Status
from storage.models import Hamlet, Tip
from storage.periods import containing
from storage.reports import add_activity, add_incident, save_weekly_report
from storage.rollups import (
    activity_figures,
    compliance,
    flags,
    incidents_by_category,
    incidents_by_hamlet,
)
from storage.types import utcnow
from tests.helpers import make_commune

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 08:00 in Vietnam


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


async def _incident(session, c, category, when, **extra):
    return await add_incident(
        session,
        commune_id=c.id,
        hamlet_id=extra.pop("hamlet", c.hamlet_id),
        reporter_id=None,
        category=category,
        severity=extra.pop("severity", "ordinary"),
        occurred_at=when,
        received_at=extra.pop("received_at", None) or utcnow(),
        **extra,
    )


async def test_a_category_from_five_to_three_is_minus_forty_percent(sessions):
    c = await make_commune(sessions)
    quarter = containing("quarter", date(2026, 11, 1))
    async with sessions() as session, session.begin():
        for day in range(5):
            await _incident(session, c, "theft", at(date(2025, 10, 3 + day)))
        for day in range(3):
            await _incident(session, c, "theft", at(date(2026, 10, 3 + day)))
        await _incident(session, c, "drugs", at(date(2026, 12, 31), 23))  # still in Q4 locally
        await _incident(session, c, "drugs", at(date(2027, 1, 1), 1))  # next quarter
    async with sessions() as session:
        rows = await incidents_by_category(session, c.id, quarter, TZ)
    by = {r.category: r for r in rows}
    assert (by["theft"].count, by["theft"].last_year, by["theft"].change) == (3, 5, -40.0)
    assert (by["drugs"].count, by["drugs"].last_year, by["drugs"].change) == (1, 0, None)


async def test_126_of_136_mediations_is_92_6_percent(sessions):
    c = await make_commune(sessions)
    year = containing("year", date(2026, 6, 1))
    async with sessions() as session, session.begin():
        for cases, good in ((100, 95), (36, 31)):
            await add_activity(
                session,
                commune_id=c.id,
                hamlet_id=c.hamlet_id,
                reporter_id=None,
                kind="mediation",
                held_on=date(2026, 3, 1),
                received_at=utcnow(),
                figures={"cases": cases, "cases_successful": good},
            )
        await add_activity(
            session,
            commune_id=c.id,
            hamlet_id=c.hamlet_id,
            reporter_id=None,
            kind="mediation",
            held_on=date(2025, 12, 31),
            received_at=utcnow(),
            figures={"cases": 10, "cases_successful": 0},
        )
        await add_activity(
            session,
            commune_id=c.id,
            hamlet_id=c.hamlet_id,
            reporter_id=None,
            kind="outreach",
            held_on=date(2026, 5, 1),
            received_at=utcnow(),
            figures={"sessions": 2, "attendees": 85},
        )
    async with sessions() as session:
        figures = await activity_figures(session, c.id, year)
    assert figures.get("mediation", "cases") == 136
    assert figures.get("mediation", "cases_successful") == 126
    assert figures.mediation_rate == 92.6
    assert (figures.get("outreach", "sessions"), figures.get("outreach", "attendees")) == (2, 85)


async def test_flags_serious_mass_complaints_and_prolonged_disputes(sessions):
    c = await make_commune(sessions)
    month = containing("month", date(2026, 11, 10))
    async with sessions() as session, session.begin():
        await _incident(session, c, "drugs", at(date(2026, 11, 5)), severity="serious")
        await _incident(session, c, "mass_complaint", at(date(2026, 11, 6)))
        await _incident(session, c, "dispute", at(date(2026, 9, 1)))  # open, 80 days old
        closed = await _incident(session, c, "dispute", at(date(2026, 9, 2)))
        closed.status = Status.CLOSED
        await _incident(session, c, "dispute", at(date(2026, 11, 15)))  # recent: not prolonged
    async with sessions() as session:
        found = await flags(session, c.id, month, TZ, NOW)
    assert (found.serious_crimes, found.mass_complaints, found.prolonged_disputes) == (1, 1, 1)


async def test_reporting_on_time_late_and_missing_per_hamlet(sessions):
    c = await make_commune(sessions)
    month = containing("month", date(2026, 11, 1))  # weeks starting 2, 9, 16, 23 November
    async with sessions() as session, session.begin():
        for monday, sent in (
            (date(2026, 11, 2), at(date(2026, 11, 6))),  # Friday: on time
            (date(2026, 11, 9), at(date(2026, 11, 15), 20)),  # Sunday 20h: late
            (date(2026, 11, 16), at(date(2026, 11, 15), 9)),
        ):
            await save_weekly_report(
                session,
                hamlet_id=c.hamlet_id,
                commune_id=c.id,
                monday=monday,
                reporter_id=None,
                figures={"quiet": True},
                tz=TZ,
                now=sent,
            )
    async with sessions() as session:
        rows = await compliance(session, c.id, month, TZ, until=at(date(2026, 11, 23)))
    by = {r.name: r for r in rows}
    # The week of 23 November is not due until 29 November 18:00: it is not counted yet.
    phu_my = by["Thôn Phú Mỹ"]
    assert (phu_my.weeks, phu_my.on_time, phu_my.late, phu_my.missing) == (3, 2, 1, 0)
    assert (by["Thôn An Lạc"].on_time, by["Thôn An Lạc"].missing) == (0, 3)


async def test_incidents_by_hamlet_and_open_cases_urgent_first(sessions):
    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        other = (await session.get(Hamlet, c.hamlet_id + 1)).id
        old = await _incident(
            session, c, "theft", at(date(2026, 11, 3)), received_at=at(date(2026, 11, 3))
        )
        urgent = await _incident(
            session,
            c,
            "fire",
            at(date(2026, 11, 1)),
            severity="urgent",
            received_at=at(date(2026, 11, 1)),
            hamlet=other,
        )
        session.add(
            Tip(
                case_code="TB-ABC123",
                commune_id=c.id,
                reporter_key="k",
                received_at=at(date(2026, 11, 20)),
            )
        )
        done = await _incident(session, c, "theft", at(date(2026, 11, 4)))
        done.status = Status.CLOSED
    async with sessions() as session:
        counts = await incidents_by_hamlet(
            session, c.id, containing("month", date(2026, 11, 1)), TZ
        )
        cases, total = await queue(session=session, commune_id=c.id, limit=2)
    assert counts == {c.hamlet_id: 2, other: 1}
    assert total == 3
    assert [x.code for x in cases] == [f"VV-{urgent.id}", "TB-ABC123"]
    assert cases[0].age_days(NOW) == 21 and old.id
