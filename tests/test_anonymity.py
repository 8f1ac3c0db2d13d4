"""A tipster stays anonymous to whoever holds a copy of the database: played here by an
attacker who reads every row of every table and joins them every way, after a tip has been
sent, acknowledged, questioned and answered, and the outbox has delivered it all."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, String, Text, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduler.dispatcher import Dispatcher
from storage import cases, way_back
from storage.identity import pseudonym
from storage.keyring import Keyring
from storage.models import Identity, OutboxMessage, Tip
from storage.types import UTCDateTime
from tests.helpers import SECRET, TIP_KEYS, Chat, make_commune, make_router

USER, CHAT = "5550001234", "90817263"  # the tipster's Telegram account and chat
TIP_TEXT = "Điểm đánh bạc sau nhà văn hóa ấp"
QUESTION = "Thường tụ tập lúc mấy giờ?"
ANSWER = "Khoảng chín giờ tối thứ bảy"
# The tables a tip's own rows live in: its code may appear there, and nowhere else but in
# what officers were sent.
TIP_TABLES = {"tips", "tip_messages", "status_history", "attachments"}
# The rows that name the tipster's account: the account, its person, its chat's state.
ACCOUNT_TABLES = {"identities", "conversations", "people"}


class Recorder:
    """A channel that keeps what it was given to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, list[list[dict[str, Any]]], bool]] = []

    async def send(self, chat_id, text, buttons, media=None, ephemeral=False) -> None:
        self.sent.append((chat_id, text, buttons, ephemeral))

    def to(self, chat_id: str) -> list[tuple[str, list[list[dict[str, Any]]]]]:
        return [(text, buttons) for chat, text, buttons, _ in self.sent if chat == chat_id]


async def _send_tip(router) -> str:
    tipster = Chat(router, CHAT, user_id=USER)
    await tipster.command("start")
    await tipster.tap("Gửi tin báo")
    await tipster.say(TIP_TEXT)
    await tipster.tap("Bỏ qua")
    await tipster.tap("Không có ảnh")
    await tipster.tap("Giữ bí mật")
    await tipster.tap("Gửi")
    return tipster.text.split("Mã tin báo: ")[1].split()[0]


async def _dump(sessions: async_sessionmaker[AsyncSession]) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table the database has (read from the database, not the model)."""
    async with sessions() as session:
        conn = await session.connection()
        meta = MetaData()
        await conn.run_sync(lambda c: meta.reflect(bind=c))
        rows = {}
        for table in meta.sorted_tables:
            result = await conn.execute(select(table))
            rows[table.name] = [dict(r) for r in result.mappings().all()]
        return rows


def _found(value: Any, needle: str) -> bool:
    return value is not None and needle in str(value)


async def _the_story(sessions, clock, recorder: Recorder):
    """A tip sent, acknowledged, questioned and answered, everything delivered."""
    await make_commune(sessions)
    router = make_router(sessions, clock)
    outbox = Dispatcher(sessions, {"telegram": recorder}, clock=clock)
    bystander = Chat(router, "70605040", user_id="4440009999")  # a resident who sends no tip
    await bystander.command("start")
    clock.advance(minutes=3, seconds=17, microseconds=250_000)
    code = await _send_tip(router)
    clock.advance(minutes=7, seconds=41)
    officer = Chat(router, "officer")
    await officer.command("cases")
    await officer.tap(code)
    await officer.tap("Tiếp nhận")
    await officer.tap("Hỏi người báo tin")
    await officer.say(QUESTION)
    await officer.tap("Gửi câu hỏi")
    await outbox.run_once()
    told = recorder.to(CHAT)
    assert [text.split("\n")[0] for text, _ in told] == [
        f"Công an xã đã tiếp nhận tin báo {code} của ông/bà.",
        f"Công an xã hỏi thêm về tin báo {code} của ông/bà:",
    ]
    assert QUESTION in told[1][0]
    clock.advance(minutes=12, seconds=5)
    tipster = Chat(router, CHAT, user_id=USER)
    await tipster.send(callback=told[1][1][0][0]["data"])  # the question's answer button
    await tipster.say(ANSWER)
    await tipster.tap("Không có ảnh")
    await tipster.tap("Gửi")
    assert "Đã bổ sung thông tin cho tin báo" in tipster.text
    await outbox.run_once()
    await officer.command("cases")
    await officer.tap(code)
    assert f"Người báo tin: {ANSWER}" in officer.text  # the answer came back
    return router, code


async def test_a_copy_of_the_database_does_not_tell_who_sent_a_tip(sessions, clock):
    recorder = Recorder()
    _, code = await _the_story(sessions, clock, recorder)
    rows = await _dump(sessions)
    tip = next(r for r in rows["tips"] if r["case_code"] == code)
    key = tip["reporter_key"]
    officer_chats = {"officer", "head", "member"}

    # The old join is gone: no account carries the pseudonym its tips are keyed by.
    assert "pseudonym" not in rows["identities"][0]
    for table, found in rows.items():
        for row in found:
            values = [v for v in row.values() if v is not None]
            named = [v for v in values if _found(v, USER) or _found(v, CHAT)]
            if named:  # the account and the chat name themselves, and nothing of the tip
                assert table in ACCOUNT_TABLES, (table, row)
                for needle in (code, key, tip["access_locator"], TIP_TEXT, QUESTION, ANSWER):
                    assert not any(_found(v, needle) for v in values), (table, row, needle)
                assert not any(_found(v, "a:reply") or _found(v, ":t:") for v in values)
            if any(_found(v, key) for v in values):
                assert table == "tips", (table, row)
            if any(_found(v, code) or _found(v, QUESTION) or _found(v, ANSWER) for v in values):
                # outside the tip's own rows, only in what officers were sent
                assert table in TIP_TABLES or (
                    table == "outbox" and row["chat_id"] in officer_chats
                ), (table, row)
    assert not any(r["chat_id"] == CHAT or r["ephemeral"] for r in rows["outbox"]), (
        "messages to the tipster are deleted once sent"
    )

    # Every time on a row naming the tipster is a day, not a moment a tip can be matched to.
    identity = next(r for r in rows["identities"] if r["external_id"] == USER)
    person = next(r for r in rows["people"] if r["id"] == identity["person_id"])
    conversation = next(r for r in rows["conversations"] if r["chat_id"] == CHAT)
    for row in (identity, person, conversation):
        for name, value in row.items():
            if isinstance(value, datetime):
                moment = UTCDateTime().process_result_value(value, None)  # type: ignore[arg-type]
                assert (moment.hour, moment.minute, moment.second, moment.microsecond) == (
                    0,
                    0,
                    0,
                    0,
                ), (name, value)
    assert conversation["flow"] is None and not conversation["data"]
    for update in rows["processed_updates"]:
        moment = UTCDateTime().process_result_value(update["processed_at"], None)  # type: ignore[arg-type]
        assert (moment.minute, moment.second, moment.microsecond) == (0, 0, 0)

    # The attacker's SQL: each string or time column of the tipster's account rows joined
    # with each of the tip's rows. Nothing matches.
    async with sessions() as session:
        conn = await session.connection()
        meta = MetaData()
        await conn.run_sync(lambda c: meta.reflect(bind=c))
        t = meta.tables
        mine = {
            "identities": t["identities"].c.external_id == USER,
            "people": t["people"].c.id == identity["person_id"],
            "conversations": t["conversations"].c.chat_id == CHAT,
        }
        tip_rows = {
            "tips": t["tips"].c.id == tip["id"],
            "tip_messages": t["tip_messages"].c.tip_id == tip["id"],
            "status_history": and_(
                t["status_history"].c.record_kind == "tip",
                t["status_history"].c.record_id == tip["id"],
            ),
        }
        joins = 0
        for a, where_a in mine.items():
            for b, where_b in tip_rows.items():
                for ca in t[a].columns:
                    for cb in t[b].columns:
                        texts = all(isinstance(c.type, String | Text) for c in (ca, cb))
                        times = all(isinstance(c.type, DateTime) for c in (ca, cb))
                        if not (texts or times):
                            continue
                        matches = await conn.scalar(
                            select(func.count())
                            .select_from(t[a].join(t[b], ca == cb))
                            .where(where_a, where_b)
                        )
                        joins += 1
                        assert matches == 0, f"{a}.{ca.name} = {b}.{cb.name}"
        assert joins > 50


async def test_with_the_keys_and_the_database_a_tip_leads_to_its_chat(sessions, clock):
    """The trust that remains (docs/SECURITY.md): either key with a copy of the database."""
    _, code = await _the_story(sessions, clock, Recorder())
    async with sessions() as session:
        tip = await session.scalar(select(Tip).where(Tip.case_code == code))
        accounts = (await session.scalars(select(Identity))).all()
    assert way_back.unseal(TIP_KEYS, tip.id, tip.reply_to) == way_back.Back("telegram", CHAT)
    assert way_back.unseal(Keyring.generate(), tip.id, tip.reply_to) is None
    by_secret = [
        a for a in accounts if pseudonym(SECRET, a.channel, a.external_id) == tip.reporter_key
    ]
    assert [a.external_id for a in by_secret] == [USER]
    wrong_secret = [
        a for a in accounts if pseudonym(b"guess", a.channel, a.external_id) == tip.reporter_key
    ]
    assert wrong_secret == []


async def test_closing_a_tip_tells_the_tipster_then_deletes_the_way_back(sessions, clock):
    recorder = Recorder()
    router, code = await _the_story(sessions, clock, recorder)
    officer = Chat(router, "officer")
    await officer.command("cases")
    await officer.tap(code)
    await officer.tap("Đóng")
    await officer.say("Đã triệt phá điểm đánh bạc")
    await officer.tap("Đóng vụ việc")
    async with sessions() as session:
        tip = await session.scalar(select(Tip).where(Tip.case_code == code))
        assert tip.status == "closed" and tip.reply_to is None
        assert await cases.reporter_chats(session=session, record=tip, keys=TIP_KEYS) == []
    await Dispatcher(sessions, {"telegram": recorder}, clock=clock).run_once()
    told = recorder.to(CHAT)[-1][0]
    assert told == f"Công an xã đã xử lý xong tin báo {code}. Cảm ơn ông/bà đã báo tin."
    async with sessions() as session:
        left = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.chat_id == CHAT)
        )
    assert left == 0


async def test_a_draft_is_kept_to_ten_minutes_and_goes_stale_after_the_timeout(sessions, clock):
    await make_commune(sessions)
    router = make_router(sessions, clock)
    clock.now = datetime(2026, 11, 19, 12, 1, 30, tzinfo=UTC)
    tipster = Chat(router, CHAT, user_id=USER)
    await tipster.command("start")
    await tipster.tap("Gửi tin báo")
    rows = await _dump(sessions)
    conversation = next(r for r in rows["conversations"] if r["chat_id"] == CHAT)
    noted = UTCDateTime().process_result_value(conversation["updated_at"], None)  # type: ignore[arg-type]
    assert noted == datetime(2026, 11, 19, 12, 10, tzinfo=UTC)  # rounded up to ten minutes
    clock.advance(minutes=30)  # 30 minutes after the last answer: not stale yet
    await tipster.say(TIP_TEXT)
    assert "báo cáo đang làm dở" not in tipster.text
    clock.advance(minutes=41)
    await tipster.say("Sau chợ")  # typed: a stale draft is not answered unasked
    assert "báo cáo đang làm dở" in tipster.text  # stale: the draft is kept, and the person chooses


def test_person_show_reads_the_same_for_a_tipster_and_for_anyone(cli_db, capsys):
    """The operator's view of a resident who sent a tip (with a question to them still
    waiting in the outbox, and a second tip half written) and of one who only said hello."""
    import asyncio
    import os

    from bot.cli import main
    from storage.db import make_engine, make_sessionmaker
    from tests.conftest import Clock

    async def setup() -> tuple[int, int]:
        engine = make_engine(os.environ["DATABASE_URL"])
        sessions = make_sessionmaker(engine)
        await make_commune(sessions)
        router = make_router(sessions, Clock(datetime.now(UTC)))
        bystander = Chat(router, "70605040", user_id="4440009999")
        await bystander.command("start")
        code = await _send_tip(router)
        officer = Chat(router, "officer")
        await officer.command("cases")
        await officer.tap(code)
        await officer.tap("Hỏi người báo tin")
        await officer.say(QUESTION)
        await officer.tap("Gửi câu hỏi")
        tipster = Chat(router, CHAT, user_id=USER)
        await tipster.command("start")
        await tipster.tap("Gửi tin báo")  # another tip, begun
        async with sessions() as session:
            ids = {
                i.external_id: i.person_id for i in (await session.scalars(select(Identity))).all()
            }
            waiting = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.chat_id == CHAT)
            )
        await engine.dispose()
        assert waiting == 1
        return ids[USER], ids["4440009999"]

    tipster_id, bystander_id = asyncio.run(setup())
    capsys.readouterr()
    shown = {}
    for person_id, account in ((tipster_id, USER), (bystander_id, "4440009999")):
        assert main(["person", "show", str(person_id)]) == 0
        shown[account] = capsys.readouterr().out.replace(account, "ACCOUNT")
    assert "ACCOUNT" in shown[USER] and "Tin nhắn hệ thống đã gửi" in shown[USER]
    assert shown[USER] == shown["4440009999"]


async def test_postgresql_transaction_ids_stop_tying_a_chat_to_its_tip_overnight(sessions, clock):
    """PostgreSQL's xmin: the tipster's conversation and the tip's first history row are
    written in one transaction; the nightly purge rewrites every conversation together."""
    from sqlalchemy import text

    from scheduler.jobs import run_job
    from storage.models import Commune

    if sessions.kw["bind"].dialect.name != "postgresql":
        import pytest

        pytest.skip("transaction ids on rows are PostgreSQL's: set TEST_DATABASE_URL")
    c = await make_commune(sessions)
    router = make_router(sessions, clock)
    bystander = Chat(router, "70605040", user_id="4440009999")
    await bystander.command("start")
    await _send_tip(router)

    async def same_transaction() -> bool:
        async with sessions() as session:
            chat = await session.scalar(
                text("SELECT xmin::text FROM conversations WHERE chat_id = :c"), {"c": CHAT}
            )
            tip = await session.scalar(
                text(
                    "SELECT xmin::text FROM status_history WHERE record_kind = 'tip' "
                    "AND status = 'new'"
                )
            )
        return chat == tip

    assert await same_transaction()  # what the nightly rewrite is for
    async with sessions() as session, session.begin():
        commune = await session.get(Commune, c.id)
        await run_job(session, commune, "purge", clock(), clock(), Path("."))
    assert not await same_transaction()
