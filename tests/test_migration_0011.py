"""Migration 0011 on a database as it was: open tips get their way back sealed with the tip
keys, the pseudonyms leave the accounts, messages already sent to tipsters go, and times on
rows naming a chat become coarse; a downgrade makes the pseudonyms again."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import way_back
from storage.db import MigrationKeys, downgrade, make_engine, upgrade
from storage.identity import pseudonym
from storage.keyring import Keyring
from storage.types import UTCDateTime

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
SECRET = b"the bot's secret"
KEYS = Keyring.generate()
AT = datetime(2026, 11, 19, 12, 34, 56, 789_000, tzinfo=UTC)
USER = "5550001234"


def _table(name: str, *columns: tuple[str, Any]) -> sa.TableClause:
    return sa.table(name, *(sa.column(n, t) for n, t in columns))


S, N, B, J = sa.String(), sa.Integer(), sa.Boolean(), sa.JSON()
T = UTCDateTime()
TABLES = {
    "provinces": _table("provinces", ("id", N), ("name", S), ("label", S)),
    "communes": _table(
        "communes",
        ("id", N),
        ("province_id", N),
        ("name", S),
        ("label", S),
        ("timezone", S),
        ("created_at", T),
    ),
    "people": _table(
        "people", ("id", N), ("role", S), ("language", S), ("active", B), ("created_at", T)
    ),
    "identities": _table(
        "identities",
        ("id", N),
        ("person_id", N),
        ("channel", S),
        ("external_id", S),
        ("chat_id", S),
        ("pseudonym", S),
        ("created_at", T),
    ),
    "tips": _table(
        "tips",
        ("id", N),
        ("case_code", S),
        ("commune_id", N),
        ("reporter_key", S),
        ("received_at", T),
        ("status", S),
        ("reply_to", S),
    ),
    "outbox": _table(
        "outbox",
        ("id", N),
        ("channel", S),
        ("chat_id", S),
        ("text", S),
        ("buttons", J),
        ("purpose", S),
        ("status", S),
        ("attempts", N),
        ("not_before", T),
        ("created_at", T),
    ),
    "conversations": _table(
        "conversations",
        ("id", N),
        ("channel", S),
        ("chat_id", S),
        ("flow", S),
        ("data", J),
        ("state", J),
        ("history", J),
        ("menu", J),
        ("paused", B),
        ("updated_at", T),
        ("failed_codes", N),
        ("version", N),
    ),
    "processed_updates": _table(
        "processed_updates", ("channel", S), ("update_key", S), ("processed_at", T)
    ),
}
KEY = pseudonym(SECRET, "telegram", USER)
ROWS: dict[str, list[dict[str, Any]]] = {
    "provinces": [{"id": 1, "name": "Đồng Nai", "label": "tỉnh"}],
    "communes": [
        {
            "id": 1,
            "province_id": 1,
            "name": "Tân Hòa",
            "label": "xã",
            "timezone": "Asia/Ho_Chi_Minh",
            "created_at": AT,
        }
    ],
    "people": [{"id": 1, "role": "resident", "language": "vi", "active": True, "created_at": AT}],
    "identities": [
        {
            "id": 1,
            "person_id": 1,
            "channel": "telegram",
            "external_id": USER,
            "chat_id": "90817263",
            "pseudonym": KEY,
            "created_at": AT,
        }
    ],
    "tips": [
        {
            "id": 1,
            "case_code": "TB-OPEN01",
            "commune_id": 1,
            "reporter_key": KEY,
            "received_at": AT,
            "status": "new",
        },
        {
            "id": 2,
            "case_code": "TB-DONE01",
            "commune_id": 1,
            "reporter_key": KEY,
            "received_at": AT,
            "status": "closed",
        },
    ],
    "outbox": [
        {"id": 1, "chat_id": "90817263", "purpose": "tip_question", "status": "sent"},
        {"id": 2, "chat_id": "90817263", "purpose": "case_update", "status": "pending"},
        {"id": 3, "chat_id": "officer", "purpose": "tip", "status": "sent"},
    ],
    "conversations": [
        {"id": 1, "chat_id": "90817263", "flow": None},
        {"id": 2, "chat_id": "drafting", "flow": "incident"},
    ],
    "processed_updates": [{"channel": "telegram", "update_key": "77", "processed_at": AT}],
}
for row in ROWS["outbox"]:
    row.update(
        channel="telegram", text="TB-OPEN01", buttons=[], attempts=1, not_before=AT, created_at=AT
    )
for row in ROWS["conversations"]:
    row.update(
        channel="telegram",
        data={},
        state={},
        history=[],
        menu=[],
        paused=False,
        updated_at=AT,
        failed_codes=0,
        version=1,
    )


async def _select(engine: AsyncEngine, table: str, *columns: str) -> list[tuple[Any, ...]]:
    t = TABLES[table]
    async with engine.connect() as conn:
        result = await conn.execute(sa.select(*(t.c[c] for c in columns)).order_by(t.c[columns[0]]))
        return [tuple(r) for r in result.all()]


async def _migrates(engine: AsyncEngine) -> None:
    await upgrade(engine, "0010")
    async with engine.begin() as conn:
        for name, rows in ROWS.items():
            await conn.execute(TABLES[name].insert(), rows)
    with pytest.raises(RuntimeError, match="sealed with the tip key"):
        await upgrade(engine)  # an open tip, and no key to seal its way back with
    await upgrade(engine, keys=MigrationKeys(tip_keys=KEYS))

    [(open_id, sealed), (_, none)] = await _select(engine, "tips", "id", "reply_to")
    assert way_back.unseal(KEYS, open_id, sealed) == way_back.Back("telegram", "90817263")
    assert none is None and "90817263" not in sealed
    async with engine.connect() as conn:
        columns = await conn.run_sync(
            lambda c: [x["name"] for x in inspect(c).get_columns("identities")]
        )
        ephemeral = (await conn.execute(text("SELECT id, ephemeral FROM outbox ORDER BY id"))).all()
    assert "pseudonym" not in columns
    assert [(i, bool(e)) for i, e in ephemeral] == [(2, True), (3, False)]
    day, hour = (
        AT.replace(hour=0, minute=0, second=0, microsecond=0),
        AT.replace(minute=0, second=0, microsecond=0),
    )
    assert await _select(engine, "people", "created_at") == [(day,)]
    assert await _select(engine, "identities", "created_at") == [(day,)]
    assert await _select(engine, "processed_updates", "processed_at") == [(hour,)]
    assert await _select(engine, "conversations", "id", "updated_at") == [
        (1, day),
        (2, AT.replace(minute=40, second=0, microsecond=0)),  # an open draft: ten minutes, up
    ]

    await downgrade(engine, "0011")  # the migrations after it need no key
    with pytest.raises(RuntimeError, match="secret key"):
        await downgrade(engine, "0010")
    await downgrade(engine, "0010", keys=MigrationKeys(secret=SECRET))
    assert await _select(engine, "identities", "pseudonym") == [(KEY,)]


async def test_the_migration_seals_open_tips_and_drops_pseudonyms_on_sqlite(tmp_path: Path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        await _migrates(engine)
    finally:
        await engine.dispose()


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL: set TEST_DATABASE_URL")
async def test_the_migration_seals_open_tips_and_drops_pseudonyms_on_postgresql():
    admin = make_engine(PG_URL)
    async with admin.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS anon_check CASCADE"))
        await conn.execute(text("CREATE SCHEMA anon_check"))
    engine = make_engine(PG_URL, connect_args={"server_settings": {"search_path": "anon_check"}})
    try:
        await _migrates(engine)
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS anon_check CASCADE"))
        await admin.dispose()
