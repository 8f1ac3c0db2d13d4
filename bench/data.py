"""Roll-ups at scale: a synthetic province written with bulk inserts, then the queries timed."""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from scheduler.digest import collect
from storage.criteria import criteria_view
from storage.enums import ActivityKind, IncidentCategory, Severity
from storage.models import Activity, Commune, Hamlet, Incident, Province, Tip, WeeklyReport
from storage.periods import containing
from storage.rollups import province_incidents

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
CHUNK = 20_000


async def _bulk(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), CHUNK):
        await conn.execute(insert(table), rows[i : i + CHUNK])


async def build_province(
    engine: Any, communes: int, hamlets_per: int, years: int, per_year: int, seed: int = 1
) -> tuple[int, float]:
    """A province; per_year reports of all kinds a year, for years years back from NOW.
    Returns (rows written, seconds)."""
    rng = random.Random(seed)
    began = time.perf_counter()
    written = 0
    async with engine.begin() as conn:
        province = (
            await conn.execute(insert(Province).values(name="Tỉnh Bench").returning(Province.id))
        ).scalar_one()
        commune_rows = [
            {
                "province_id": province,
                "name": f"Xã {i}",
                "label": "xã",
                "timezone": "Asia/Ho_Chi_Minh",
                "created_at": datetime(2010, 1, 1, tzinfo=UTC),
            }
            for i in range(communes)
        ]
        await _bulk(conn, Commune, commune_rows)
        hamlet_rows = [
            {"commune_id": c + 1, "name": f"Thôn {h}", "label": "thôn", "households": 300}
            for c in range(communes)
            for h in range(hamlets_per)
        ]
        await _bulk(conn, Hamlet, hamlet_rows)
    hamlets = communes * hamlets_per
    categories, kinds = list(IncidentCategory), list(ActivityKind)
    for year in range(years):
        start = NOW - timedelta(days=365 * (year + 1))
        incidents: list[dict[str, Any]] = []
        activities: list[dict[str, Any]] = []
        tips: list[dict[str, Any]] = []
        weekly: list[dict[str, Any]] = []
        for _ in range(int(per_year * 0.4)):
            h = rng.randrange(hamlets)
            at = start + timedelta(seconds=rng.randrange(365 * 86400))
            incidents.append(
                {
                    "commune_id": h // hamlets_per + 1,
                    "hamlet_id": h + 1,
                    "category": rng.choice(categories),
                    "severity": Severity.SERIOUS if rng.random() < 0.01 else Severity.ORDINARY,
                    "occurred_at": at,
                    "received_at": at,
                    "status": "closed",
                    "occurred_precision": "exact",
                }
            )
        for _ in range(int(per_year * 0.4)):
            h = rng.randrange(hamlets)
            day = (start + timedelta(days=rng.randrange(365))).date()
            activities.append(
                {
                    "commune_id": h // hamlets_per + 1,
                    "hamlet_id": h + 1,
                    "kind": rng.choice(kinds),
                    "held_on": day,
                    "received_at": start,
                    "cases": 2,
                    "cases_successful": 1,
                    "attendees": 30,
                    "shifts": 3,
                }
            )
        for _ in range(int(per_year * 0.1)):
            at = start + timedelta(seconds=rng.randrange(365 * 86400))
            tips.append(
                {
                    "case_code": f"TB-{year}-{len(tips)}",
                    "commune_id": rng.randrange(communes) + 1,
                    "reporter_key": "k",
                    "received_at": at,
                    "status": "closed",
                }
            )
        weeks = max(1, int(per_year * 0.1) // hamlets)
        first = start.date() - timedelta(days=start.date().weekday())
        for w in range(min(weeks, 52)):
            monday = first + timedelta(weeks=w)
            due = datetime(monday.year, monday.month, monday.day, 11, tzinfo=UTC) + timedelta(
                days=6
            )
            for h in range(hamlets):
                weekly.append(
                    {
                        "commune_id": h // hamlets_per + 1,
                        "hamlet_id": h + 1,
                        "week_start": monday,
                        "quiet": True,
                        "received_at": due,
                        "due_at": due,
                        "status": "new",
                        "incidents": 0,
                        "disputes": 0,
                        "complaints": 0,
                        "strangers": 0,
                        "patrols": 2,
                        "outreach_sessions": 0,
                        "mediations": 0,
                        "meetings": 1,
                    }
                )
        async with engine.begin() as conn:
            for table, rows in (
                (Incident, incidents),
                (Activity, activities),
                (Tip, tips),
                (WeeklyReport, weekly),
            ):
                await _bulk(conn, table, rows)
                written += len(rows)
    return written, time.perf_counter() - began


async def time_queries(databases: list[Any], repeats: int = 9) -> list[dict[str, float]]:
    """Median milliseconds of one commune's weekly digest figures, its quarterly criteria
    view, and a province-wide quarterly roll-up, on each database (a sessionmaker each).

    The databases take turns, query by query, so that a slow spell of a shared machine falls
    on all of them alike and the ratio between them holds."""
    week = containing("week", date(2026, 11, 16))
    quarter = containing("quarter", date(2026, 9, 1))

    async def digest(session: Any) -> None:
        await collect(session, await session.get(Commune, 7), week, NOW)

    async def criteria(session: Any) -> None:
        await criteria_view(session, 7, quarter, TZ, NOW)

    async def province(session: Any) -> None:
        await province_incidents(session, 1, quarter, TZ)

    results: list[dict[str, float]] = [{} for _ in databases]
    for key, make in (("digest_ms", digest), ("criteria_ms", criteria), ("province_ms", province)):
        samples: list[list[float]] = [[] for _ in databases]
        for _ in range(repeats):
            for i, sessions in enumerate(databases):
                async with sessions() as session:
                    began = time.perf_counter()
                    await make(session)
                    samples[i].append((time.perf_counter() - began) * 1000)
        for result, taken in zip(results, samples, strict=True):
            result[key] = statistics.median(taken)
    return results
