"""Drafts saved before the engine kept its bookkeeping apart from the answers continue where
they were: rows written as the previous release wrote them, then the chat driven to the end.
And the migration that moves such rows, both ways."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from conversations.callbacks import OptionPick
from storage.db import alembic_config, downgrade, make_engine, upgrade
from storage.models import Attachment, Conversation, Incident
from tests.helpers import Chat, make_commune, make_router

WHEN = {"at": "2026-11-19T18:40:00+07:00", "precision": "exact"}  # 11:40 UTC, clock - 20 min
VOICE = {"channel": "telegram", "file_id": "voice-1", "media_type": "voice", "size_bytes": 8000}
PHOTO = {"channel": "telegram", "file_id": "photo-1", "media_type": "photo", "size_bytes": 50000}


async def old_row(sessions: Any, clock: Any, chat_id: str, **fields: Any) -> None:
    """A conversation as the previous release wrote it: no state of its own (the column's
    default), the engine's keys among the answers in data."""
    values = {
        "channel": "telegram",
        "chat_id": chat_id,
        "history": [],
        "paused": False,
        "menu": [],
        "updated_at": clock(),
        "failed_codes": 0,
        "version": 3,
        **fields,
    }
    async with sessions() as session, session.begin():
        await session.execute(insert(Conversation).values(**values))


async def stored(sessions: Any, chat_id: str) -> Conversation:
    async with sessions() as session:
        return await session.scalar(select(Conversation).where(Conversation.chat_id == chat_id))


async def the_incident(sessions: Any) -> tuple[Incident, list[str]]:
    async with sessions() as session:
        incident = await session.scalar(select(Incident))
        files = (await session.scalars(select(Attachment).order_by(Attachment.id))).all()
    return incident, [f.file_id for f in files]


async def test_an_old_draft_standing_at_where_continues_to_the_report(sessions, clock):
    await make_commune(sessions)
    await old_row(
        sessions,
        clock,
        "member",
        flow="incident",
        step="where",
        data={"category": "theft", "when": WHEN, "__done": ["category", "when"]},
        history=["category", "when"],
    )
    chat = Chat(make_router(sessions, clock), "member")
    await chat.say("Trước cổng chợ")
    conv = await stored(sessions, "member")
    assert conv.step == "description"
    assert conv.data == {"category": "theft", "when": WHEN, "where": {"text": "Trước cổng chợ"}}
    assert conv.state == {"done": ["category", "when", "where"]}
    await chat.say("Mất xe máy")
    await chat.tap("Không có ảnh")
    await chat.tap("Bình thường")
    assert "Trộm cắp" in chat.text and "18:40 19/11/2026" in chat.text
    await chat.tap("Quay lại")  # back through the history the old row had, then forward again
    await chat.tap("Bình thường")
    await chat.tap("Gửi")
    incident, files = await the_incident(sessions)
    assert incident.category == "theft" and incident.occurred_precision == "exact"
    assert incident.occurred_at == datetime(2026, 11, 19, 11, 40, tzinfo=UTC)
    assert incident.place_text == "Trước cổng chợ" and incident.description == "Mất xe máy"
    assert files == []
    assert (await stored(sessions, "member")).flow is None


async def test_an_old_paused_draft_replays_what_was_held_when_continued(sessions, clock):
    await make_commune(sessions)
    await old_row(
        sessions,
        clock,
        "member",
        flow="incident",
        step="description",
        paused=True,
        data={
            "category": "suspicious",
            "when": WHEN,
            "where": {"lat": 10.95, "lon": 106.82},
            "__done": ["category", "when", "where"],
            "__held": {"text": "Hai người lạ đi xe không biển số", "media": None, "location": None},
        },
        history=["category", "when", "where"],
    )
    chat = Chat(make_router(sessions, clock), "member")
    await chat.command("menu")
    assert "có muốn làm tiếp báo cáo đó không" in chat.text
    await chat.tap("Tiếp tục")
    assert "Đã nhận" not in chat.text and "ảnh" in chat.text  # the held text was the answer
    await chat.tap("Không có ảnh")
    await chat.tap("Bình thường")
    await chat.tap("Gửi")
    incident, _ = await the_incident(sessions)
    assert incident.category == "suspicious" and incident.description == (
        "Hai người lạ đi xe không biển số"
    )
    assert (incident.latitude, incident.longitude) == (10.95, 106.82)


async def test_an_old_draft_with_a_voice_note_and_a_photo_keeps_both(sessions, clock):
    await make_commune(sessions)
    await old_row(
        sessions,
        clock,
        "member",
        flow="incident",
        step="media",
        data={
            "category": "fire",
            "when": {"at": "2026-11-18T12:00:00+07:00", "precision": "day"},
            "where": {"choice": "hamlet"},
            "description": {"voice": VOICE},
            "media": [PHOTO],
            "__done": ["category", "when", "where", "description"],
        },
        history=["category", "when", "where", "description"],
    )
    chat = Chat(make_router(sessions, clock), "member")
    await chat.say("xong")  # no more files
    await chat.tap("Bình thường")
    assert "Nội dung: gửi bằng ghi âm" in chat.text and "ghi âm: 1 ghi âm, 1 ảnh" in chat.text
    assert "18/11/2026" in chat.text and "Phú Mỹ" in chat.text
    await chat.tap("Gửi")
    incident, files = await the_incident(sessions)
    assert incident.category == "fire" and incident.occurred_precision == "day"
    assert incident.description == "gửi bằng ghi âm" and incident.place_text == "thôn Phú Mỹ"
    assert files == ["voice-1", "photo-1"]


async def test_an_old_draft_asking_did_you_mean_takes_the_yes(sessions, clock):
    await make_commune(sessions)
    await old_row(
        sessions,
        clock,
        "member",
        flow="incident",
        step="__confirm",
        data={
            "__done": [],
            "__pending": {
                "data": OptionPick("category", "fire").encode(),
                "label": "Cháy, nổ",
                "back_to": "category",
            },
        },
    )
    chat = Chat(make_router(sessions, clock), "member")
    await chat.say("Đúng")
    assert "Xảy ra lúc nào" in chat.text and "114" in chat.text
    conv = await stored(sessions, "member")
    assert conv.data == {"category": "fire"}
    assert conv.state == {"done": ["category"]}


# --- the migration ------------------------------------------------------------------------

PG_URL = os.environ.get("TEST_DATABASE_URL", "")


def _before_the_move() -> str:
    """The revision before the one that moves the state (found by its title, so that the test
    holds when migrations are renumbered)."""
    scripts = ScriptDirectory.from_config(alembic_config())
    move = next(s for s in scripts.walk_revisions() if s.doc.startswith("conversation engine"))
    assert isinstance(move.down_revision, str)
    return move.down_revision


OLD_DATA = {
    "category": "theft",
    "when": WHEN,
    "__done": ["category", "when"],
    "__held": {"text": "chợ", "media": None, "location": None},
}
ROWS = {  # chat: (flow, data)
    "open": ("incident", OLD_DATA),
    "idle": (None, {}),
}


async def _rows(engine: AsyncEngine, *columns: str) -> dict[str, tuple[Any, ...]]:
    async with engine.connect() as conn:
        result = await conn.execute(
            text(f"SELECT chat_id, {', '.join(columns)} FROM conversations ORDER BY chat_id")
        )
        rows = result.all()
    return {row[0]: tuple(_json(v) for v in row[1:]) for row in rows}


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def _migrates_both_ways(engine: AsyncEngine) -> None:
    before = _before_the_move()
    await upgrade(engine, before)
    async with engine.begin() as conn:
        for chat, (flow, data) in ROWS.items():
            await conn.execute(
                text(
                    "INSERT INTO conversations (channel, chat_id, flow, step, data, history, "
                    "paused, menu, updated_at, failed_codes, version) VALUES ('telegram', "
                    ":chat, :flow, 'where', :data, '[]', false, '[]', :now, 0, 2)"
                ),
                {"chat": chat, "flow": flow, "data": json.dumps(data), "now": datetime.now(UTC)},
            )
    await upgrade(engine)
    assert await _rows(engine, "data", "state", "version") == {
        "idle": ({}, {}, 2),
        "open": (
            {"category": "theft", "when": WHEN},
            {
                "done": ["category", "when"],
                "held": {"text": "chợ", "media": None, "location": None},
            },
            3,  # a worker holding the row as it was fails its write and reads again
        ),
    }
    await downgrade(engine, before)
    assert await _rows(engine, "data", "version") == {"idle": ({}, 2), "open": (OLD_DATA, 4)}


async def test_the_migration_moves_the_state_out_of_old_rows_and_back_on_sqlite(tmp_path: Path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        await _migrates_both_ways(engine)
    finally:
        await engine.dispose()


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL: set TEST_DATABASE_URL")
async def test_the_migration_moves_the_state_out_of_old_rows_and_back_on_postgresql():
    admin = make_engine(PG_URL)
    async with admin.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS state_check CASCADE"))
        await conn.execute(text("CREATE SCHEMA state_check"))
    engine = make_engine(PG_URL, connect_args={"server_settings": {"search_path": "state_check"}})
    try:
        await _migrates_both_ways(engine)
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS state_check CASCADE"))
        await admin.dispose()
