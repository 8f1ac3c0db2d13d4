"""The data model keeps times in UTC and holds one weekly report per hamlet and week."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError

from storage.models import Incident, WeeklyReport
from tests.helpers import make_commune


async def test_times_come_back_timezone_aware_in_utc(sessions):
    c = await make_commune(sessions)
    vietnam = timezone(timedelta(hours=7))
    async with sessions() as session, session.begin():
        session.add(
            Incident(
                commune_id=c.id,
                hamlet_id=c.hamlet_id,
                category="theft",
                severity="ordinary",
                occurred_at=datetime(2026, 11, 20, 19, 30, tzinfo=vietnam),
            )
        )
    async with sessions() as session:
        incident = await session.scalar(select(Incident))
    assert incident.occurred_at == datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
    assert incident.occurred_at.tzinfo is not None


async def test_naive_times_are_refused(sessions):
    c = await make_commune(sessions)
    with pytest.raises(StatementError, match="naive datetime"):
        async with sessions() as session, session.begin():
            session.add(
                Incident(
                    commune_id=c.id,
                    hamlet_id=c.hamlet_id,
                    category="theft",
                    severity="ordinary",
                    occurred_at=datetime(2026, 11, 20, 19),
                )
            )


async def test_one_weekly_report_per_hamlet_and_week(sessions):
    c = await make_commune(sessions)
    monday = date(2026, 11, 16)
    async with sessions() as session, session.begin():
        session.add(
            WeeklyReport(commune_id=c.id, hamlet_id=c.hamlet_id, week_start=monday, quiet=True)
        )
    with pytest.raises(IntegrityError):
        async with sessions() as session, session.begin():
            session.add(
                WeeklyReport(commune_id=c.id, hamlet_id=c.hamlet_id, week_start=monday, quiet=False)
            )
