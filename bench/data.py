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
from storage.enums import OPEN_STATUSES, ActivityKind, IncidentCategory, Severity, Status
from storage.models import Activity, Commune, Hamlet, Incident, Province, Tip, WeeklyReport
from storage.periods import containing
from storage.rollups import province_incidents

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
CHUNK = 20_000


async def _bulk(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    keys = {k for row in rows for k in row}  # rows of several shapes: one shape for all
    rows = [{k: row.get(k) for k in keys} for row in rows]
    for i in range(0, len(rows), CHUNK):
        await conn.execute(insert(table), rows[i : i + CHUNK])


async def build_province(
    engine: Any, communes: int, hamlets_per: int, years: int, per_year: int, seed: int = 1
) -> tuple[int, float]:
    """A province; per_year incidents, activities and tips a year, for years years back from
    NOW (with one year: last year's third quarter too), plus every hamlet's weekly report
    every week and its commitment and model figures every quarter. Returns (rows written,
    seconds)."""
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
    categories, kinds = list(IncidentCategory), [k for k in ActivityKind if k not in STANDING]
    spans = [(NOW - timedelta(days=365 * (y + 1)), 365, 1.0) for y in range(years)]
    if years == 1:  # last year's quarter too, which the criteria view compares with
        spans.append((datetime(2025, 7, 1, tzinfo=UTC), 92, 0.25))
    for start, days, share in spans:
        rows = _year(rng, start, days, int(per_year * share), communes, hamlets_per, categories)
        rows[Activity] += _standing(rng, start, days, hamlets, hamlets_per, kinds)
        rows[WeeklyReport] += _weekly(rng, start, days, hamlets, hamlets_per)
        async with engine.begin() as conn:
            for table, batch in rows.items():
                await _bulk(conn, table, batch)
                written += len(batch)
    return written, time.perf_counter() - began


# What a real commune files beside its incidents: commitments (households signed) and
# self-management models, reported a few times a year by every hamlet.
STANDING = (ActivityKind.COMMITMENT, ActivityKind.MODEL)


def _year(
    rng: random.Random,
    start: datetime,
    days: int,
    reports: int,
    communes: int,
    hamlets_per: int,
    categories: list[IncidentCategory],
) -> dict[Any, list[dict[str, Any]]]:
    """Incidents (40%), activities (40%) and tips (10%) of `reports`, spread over the days;
    those of the last sixty days before NOW partly still open."""
    hamlets = communes * hamlets_per
    kinds = [k for k in ActivityKind if k not in STANDING]
    incidents: list[dict[str, Any]] = []
    activities: list[dict[str, Any]] = []
    tips: list[dict[str, Any]] = []
    recent = NOW - timedelta(days=60)
    for _ in range(int(reports * 0.4)):
        h = rng.randrange(hamlets)
        at = start + timedelta(seconds=rng.randrange(days * 86400))
        open_ = at > recent and rng.random() < 0.3
        incidents.append(
            {
                "commune_id": h // hamlets_per + 1,
                "hamlet_id": h + 1,
                "category": rng.choice(categories),
                "severity": Severity.SERIOUS if rng.random() < 0.01 else Severity.ORDINARY,
                "occurred_at": at,
                "received_at": at,
                "status": rng.choice(OPEN_STATUSES) if open_ else Status.CLOSED,
                "occurred_precision": "exact",
            }
        )
    for _ in range(int(reports * 0.4)):
        h = rng.randrange(hamlets)
        activities.append(
            {
                "commune_id": h // hamlets_per + 1,
                "hamlet_id": h + 1,
                "kind": rng.choice(kinds),
                "held_on": (start + timedelta(days=rng.randrange(days))).date(),
                "received_at": start,
                "cases": 2,
                "cases_successful": 1,
                "attendees": 30,
                "shifts": 3,
            }
        )
    for _ in range(int(reports * 0.1)):
        at = start + timedelta(seconds=rng.randrange(days * 86400))
        tips.append(
            {
                "case_code": f"TB-{start:%Y%m%d}-{len(tips)}",
                "commune_id": rng.randrange(communes) + 1,
                "reporter_key": "k",
                "received_at": at,
                "status": Status.NEW if at > recent and rng.random() < 0.3 else Status.CLOSED,
            }
        )
    return {Incident: incidents, Activity: activities, Tip: tips, WeeklyReport: []}


def _standing(
    rng: random.Random, start: datetime, days: int, hamlets: int, hamlets_per: int, kinds: Any
) -> list[dict[str, Any]]:
    """Every hamlet's commitment figures and model records, once a quarter."""
    rows = []
    for h in range(hamlets):
        for quarter in range(max(1, days // 91)):
            day = (start + timedelta(days=quarter * 91 + rng.randrange(91))).date()
            base = {"commune_id": h // hamlets_per + 1, "hamlet_id": h + 1, "received_at": start}
            signed = rng.randrange(250, 301)
            rows.append(
                {
                    **base,
                    "kind": ActivityKind.COMMITMENT,
                    "held_on": day,
                    "households_signed": signed,
                    "households_total": 300,
                }
            )
            rows.append(
                {
                    **base,
                    "kind": ActivityKind.MODEL,
                    "held_on": day,
                    "models_active": rng.randrange(0, 4),
                    "models_new": rng.randrange(0, 2),
                }
            )
    return rows


def _weekly(
    rng: random.Random, start: datetime, days: int, hamlets: int, hamlets_per: int
) -> list[dict[str, Any]]:
    """Every hamlet's weekly report, every week, most of them quiet, some late."""
    rows = []
    first = start.date() - timedelta(days=start.date().weekday())
    for w in range(days // 7):
        monday = first + timedelta(weeks=w)
        due = datetime(monday.year, monday.month, monday.day, 11, tzinfo=UTC) + timedelta(days=6)
        for h in range(hamlets):
            quiet = rng.random() < 0.7
            late = rng.random() < 0.1
            rows.append(
                {
                    "commune_id": h // hamlets_per + 1,
                    "hamlet_id": h + 1,
                    "week_start": monday,
                    "quiet": quiet,
                    "received_at": due + timedelta(days=1 if late else -1),
                    "due_at": due,
                    "status": "new",
                    "incidents": 0 if quiet else rng.randrange(1, 4),
                    "disputes": 0 if quiet else rng.randrange(0, 2),
                    "complaints": 0,
                    "strangers": rng.randrange(0, 3),
                    "patrols": rng.randrange(1, 5),
                    "outreach_sessions": rng.randrange(0, 2),
                    "mediations": 0 if quiet else rng.randrange(0, 2),
                    "meetings": 1,
                }
            )
    return rows


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
