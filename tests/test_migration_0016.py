"""Migration 0016 on a database as it was: the households signed and the models counted in
activity reports move into the registers, so the criteria read the same figures after it."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import make_engine, upgrade
from storage.types import UTCDateTime

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
AT = datetime(2026, 11, 19, 12, 0, tzinfo=UTC)
S, N, D, T = sa.String(), sa.Integer(), sa.Date(), UTCDateTime()


def _table(name: str, *columns: tuple[str, Any]) -> sa.TableClause:
    return sa.table(name, *(sa.column(n, t) for n, t in columns))


PROVINCES = _table("provinces", ("id", N), ("name", S), ("label", S))
COMMUNES = _table(
    "communes",
    ("id", N),
    ("province_id", N),
    ("name", S),
    ("label", S),
    ("timezone", S),
    ("created_at", T),
)
HAMLETS = _table("hamlets", ("id", N), ("commune_id", N), ("name", S), ("label", S))
ACTIVITY = _table(
    "activities",
    ("id", N),
    ("commune_id", N),
    ("hamlet_id", N),
    ("kind", S),
    ("held_on", D),
    ("received_at", T),
    ("households_signed", N),
    ("households_total", N),
    ("models_active", N),
    ("models_new", N),
)


def _activity(i: int, hamlet: int, kind: str, day: date, **figures: int) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": i,
        "commune_id": 1,
        "hamlet_id": hamlet,
        "kind": kind,
        "held_on": day,
        "received_at": AT,
    }
    for name in ("households_signed", "households_total", "models_active", "models_new"):
        row[name] = figures.get(name)
    return row


ROWS = [
    _activity(1, 1, "commitment", date(2025, 6, 1), households_signed=300, households_total=400),
    _activity(2, 1, "commitment", date(2026, 3, 1), households_signed=350, households_total=400),
    _activity(3, 1, "commitment", date(2026, 9, 1), households_signed=398, households_total=400),
    _activity(4, 2, "commitment", date(2026, 4, 1), households_signed=120, households_total=150),
    _activity(5, 1, "model", date(2025, 5, 1), models_active=2, models_new=0),
    _activity(6, 1, "model", date(2026, 4, 1), models_active=3, models_new=1),
    _activity(7, 2, "patrol", date(2026, 4, 1)),
]


async def _migrates(engine: AsyncEngine) -> None:
    await upgrade(engine, "0012")
    async with engine.begin() as conn:
        await conn.execute(PROVINCES.insert(), [{"id": 1, "name": "Đồng Nai", "label": "tỉnh"}])
        await conn.execute(
            COMMUNES.insert(),
            [
                {
                    "id": 1,
                    "province_id": 1,
                    "name": "Tân Hòa",
                    "label": "xã",
                    "timezone": "Asia/Ho_Chi_Minh",
                    "created_at": AT,
                }
            ],
        )
        await conn.execute(
            HAMLETS.insert(),
            [
                {"id": 1, "commune_id": 1, "name": "Phú Mỹ", "label": "ấp"},
                {"id": 2, "commune_id": 1, "name": "An Lạc", "label": "ấp"},
            ],
        )
        await conn.execute(ACTIVITY.insert(), ROWS)
    await upgrade(engine)
    async with engine.connect() as conn:
        signed = (
            await conn.execute(
                text(
                    "SELECT hamlet_id, year, kind, signed, total FROM commitments"
                    " ORDER BY year, hamlet_id"
                )
            )
        ).all()
        models = (
            await conn.execute(
                text(
                    "SELECT hamlet_id, kind, kind_text, started_on, active FROM movement_models"
                    " ORDER BY id"
                )
            )
        ).all()
        threshold = await conn.scalar(text("SELECT commitment_threshold FROM communes"))
    # The largest figures of each hamlet and year, as the criteria read them before.
    assert [tuple(r) for r in signed] == [
        (1, 2025, "households", 300, 400),
        (1, 2026, "households", 398, 400),
        (2, 2026, "households", 120, 150),
    ]
    # Three models in Phú Mỹ: one new on the day of 2026's report, two already running.
    starts = [str(r.started_on)[:10] for r in models]
    assert starts == ["2024-01-01", "2024-01-01", "2026-04-01"]
    assert {(r.hamlet_id, r.kind, r.kind_text, bool(r.active)) for r in models} == {
        (1, "other", "từ báo cáo hoạt động", True)
    }
    assert threshold == 100


async def test_commitment_and_model_reports_move_into_the_registers_on_sqlite(tmp_path: Path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        await _migrates(engine)
    finally:
        await engine.dispose()


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL: set TEST_DATABASE_URL")
async def test_commitment_and_model_reports_move_into_the_registers_on_postgresql():
    admin = make_engine(PG_URL)
    async with admin.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS records_check CASCADE"))
        await conn.execute(text("CREATE SCHEMA records_check"))
    engine = make_engine(PG_URL, connect_args={"server_settings": {"search_path": "records_check"}})
    try:
        await _migrates(engine)
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS records_check CASCADE"))
        await admin.dispose()
