"""Personal data: retention of closed tips, what is stored about a person, tip files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from bot.cli import main
from conversations.events import MediaIn
from storage.models import Attachment, StatusChange, Tip, TipMessage
from storage.privacy import purge_closed_tips
from tests.helpers import Chat, make_commune, make_router


async def _tip(router, chat_id: str, media: list[MediaIn] = ()) -> str:
    tipster = Chat(router, chat_id)
    await tipster.command("start")
    await tipster.tap("Gửi tin báo")
    await tipster.say("Có người lạ dò xét nhà vắng chủ")
    await tipster.tap("Bỏ qua")
    for item in media:
        await tipster.send(media=item)
    await tipster.tap("Xong" if media else "Không có ảnh")
    await tipster.tap("Giữ bí mật")
    await tipster.tap("Gửi")
    return tipster.text.split("Mã tin của ông/bà: ")[1].split()[0]


async def test_closed_tips_are_purged_after_the_retention_time(sessions, clock):
    await make_commune(sessions)
    router = make_router(sessions, clock)
    old = await _tip(router, "t-1", [MediaIn("photo", "ph-1", 1000)])
    await _tip(router, "t-2")  # open: kept however old
    officer = Chat(router, "officer")
    async with sessions() as session:
        old_id = await session.scalar(select(Tip.id).where(Tip.case_code == old))
    await officer.send(callback=f"a:close:t:{old_id}")
    await officer.say("Đã xác minh, không có vi phạm")
    await officer.tap("Đóng vụ việc")
    async with sessions() as session, session.begin():
        assert await purge_closed_tips(session, clock() + timedelta(days=30), 365) == 0
    async with sessions() as session, session.begin():
        assert await purge_closed_tips(session, clock() + timedelta(days=366), 365) == 1
    async with sessions() as session:
        assert [t.case_code for t in (await session.scalars(select(Tip))).all()] != [old]
        assert await session.scalar(select(func.count()).select_from(Tip)) == 1
        for model in (Attachment, StatusChange):
            assert (
                await session.scalar(
                    select(func.count())
                    .select_from(model)
                    .where(model.record_kind == "tip", model.record_id == old_id)
                )
                == 0
            )
        assert await session.scalar(select(func.count()).select_from(TipMessage)) == 0


async def test_a_person_sees_their_own_data_including_their_tips(sessions, clock):
    await make_commune(sessions)
    router = make_router(sessions, clock)
    code = await _tip(router, "member")
    member = Chat(router, "member")
    await member.command("dulieu")
    assert "Lê Thị Thu" in member.text and code in member.text
    assert "Tài khoản chat: telegram member" in member.text


def test_the_operator_sees_what_is_stored_but_not_who_sent_tips(cli_db, capsys):
    import asyncio

    from storage.db import make_engine, make_sessionmaker
    from tests.helpers import SECRET  # noqa: F401 - the same secret as the router's

    async def setup() -> None:
        import os

        engine = make_engine(os.environ["DATABASE_URL"])
        sessions = make_sessionmaker(engine)
        await make_commune(sessions)
        clock = lambda: datetime(2026, 11, 19, tzinfo=UTC)  # noqa: E731
        await _tip(make_router(sessions, clock), "member")
        await engine.dispose()

    asyncio.run(setup())
    capsys.readouterr()
    assert main(["person", "show", "2"]) == 0
    out = capsys.readouterr().out
    assert "Lê Thị Thu" in out and "telegram member" in out
    assert "TB-" not in out and "only they can see it" in out


async def test_tip_videos_and_documents_are_not_shown_to_officers(sessions, clock):
    await make_commune(sessions)
    router = make_router(sessions, clock)
    await _tip(
        router,
        "t-3",
        [
            MediaIn("photo", "ph-3", 1000),
            MediaIn("document", "doc-3", 9000),
            MediaIn("video", "vid-3", 90000),
        ],
    )
    officer = Chat(router, "officer")
    await officer.send(callback="a:view:t:1")
    shown = [file_id for r in officer.last for _, file_id in r.media]
    assert shown == ["ph-3"]
    assert "2 tệp (video, tài liệu) không hiển thị" in officer.text


async def test_a_sender_is_limited_to_five_tips_an_hour_and_told_when_to_send_again(
    sessions, clock
):
    await make_commune(sessions)
    router = make_router(sessions, clock)
    for _ in range(5):
        await _tip(router, "busy")
        clock.advance(minutes=5)
    tipster = Chat(router, "busy")
    await tipster.command("start")
    await tipster.tap("Gửi tin báo")
    assert "đã gửi 5 tin báo" in tipster.text and "Xin gửi tiếp sau" in tipster.text
    assert "gọi 113" in tipster.text
    clock.advance(minutes=40)  # an hour after the first
    await tipster.command("start")
    await tipster.tap("Gửi tin báo")
    assert "đã gửi 5 tin báo" not in tipster.text
    await _tip(router, "someone-else")  # others are not held up
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Tip)) == 6


async def test_a_tipsters_place_is_coarsened_and_a_voice_note_is_warned_of(sessions, clock):
    await make_commune(sessions)
    tipster = Chat(make_router(sessions, clock), "tipster")
    await tipster.command("start")
    await tipster.tap("Gửi tin báo")
    await tipster.send(media=MediaIn("voice", "voice-1", 20_000))
    await tipster.send(location=(10.9512345, 106.8245678))
    await tipster.tap("Không có ảnh")
    await tipster.tap("Giữ bí mật")
    assert "giọng nói có thể giúp nhận ra" in tipster.text  # before it is sent
    await tipster.tap("Gửi")
    async with sessions() as session:
        tip = await session.scalar(select(Tip))
    assert (tip.latitude, tip.longitude) == (10.951, 106.825)


async def test_text_typed_on_and_on_at_a_media_step_is_capped(sessions, clock):
    await make_commune(sessions)
    chat = Chat(make_router(sessions, clock, max_text=500), "member")
    await chat.command("start")
    for step in ("Báo vụ việc", "Trộm cắp", "Vừa xong", "Tại Thôn"):
        await chat.tap(step)
    await chat.say("Mất xe máy")
    for _ in range(3):
        await chat.say("Thêm chi tiết " * 20)
    assert "quá giới hạn 500" in chat.text
    async with sessions() as session:
        from storage.models import Conversation

        conv = await session.scalar(select(Conversation).where(Conversation.chat_id == "member"))
    assert len(conv.data["description"]) <= 500


def test_debug_logs_never_hold_library_traffic(caplog):
    import logging

    from bot.cli import QUIET_LOGGERS, configure_logging

    configure_logging("DEBUG")
    for name in QUIET_LOGGERS:
        logging.getLogger(f"{name}.anything").debug("update text: Có người lạ")
    assert "Có người lạ" not in caplog.text


async def test_the_nightly_purge_keeps_the_bots_own_records_only_their_stated_time(
    sessions, clock, tmp_path
):
    import os

    from scheduler.jobs import run_job
    from storage.models import Commune, Conversation, Incident, OutboxMessage, ProcessedUpdate
    from storage.retention import Retention

    await make_commune(sessions)
    router = make_router(sessions, clock)
    member = Chat(router, "member")
    await member.report_incident("Trộm cắp", "Mất xe đạp")  # an officer's alert is queued
    officer = Chat(router, "officer")
    await officer.send(callback="a:close:i:1")
    await officer.say("Đã trả lại xe")
    await officer.tap("Đóng vụ việc")
    head = Chat(router, "head")
    await head.command("start")
    await head.tap("Báo cáo tuần")  # a draft, left paused
    old_chart = tmp_path / "digests" / "old.png"
    old_chart.parent.mkdir()
    old_chart.write_bytes(b"\x89PNG")
    os.utime(old_chart, (0, 0))
    async with sessions() as session, session.begin():
        await session.execute(
            update(OutboxMessage).values(status="sent", sent_at=clock() - timedelta(days=8))
        )
        # Update ids are stamped by the wall clock, not the test's: set back to the test's day.
        await session.execute(update(ProcessedUpdate).values(processed_at=clock()))
    keep = Retention(incident_names_days=30)

    async def purge():
        async with sessions() as session, session.begin():
            commune = await session.scalar(select(Commune))
            return await run_job(
                session, commune, "purge", clock(), clock(), tmp_path / "digests", keep=keep
            )

    clock.advance(days=8)
    said = await purge()
    assert "sent_messages" in said and not old_chart.exists()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert await session.scalar(select(func.count()).select_from(ProcessedUpdate)) == 0
        draft = await session.scalar(select(Conversation).where(Conversation.chat_id == "head"))
        assert draft.flow == "weekly"  # eight days old: kept
        incident = await session.get(Incident, 1)
        assert incident.reporter_id is not None
    clock.advance(days=31)
    await purge()
    async with sessions() as session:
        draft = await session.scalar(select(Conversation).where(Conversation.chat_id == "head"))
        assert draft.flow is None
        incident = await session.get(Incident, 1)
        assert incident.reporter_id is None and incident.description == "Mất xe đạp"


async def test_a_first_tip_starts_with_the_notice_on_personal_data(sessions, clock):
    await make_commune(sessions)
    router = make_router(sessions, clock)
    tipster = Chat(router, "first-timer")
    await tipster.command("start")
    await tipster.tap("Gửi tin báo")
    await tipster.say("Có người lạ dò xét nhà vắng chủ")
    await tipster.tap("Bỏ qua")
    await tipster.tap("Không có ảnh")
    await tipster.tap("Giữ bí mật")
    notice = tipster.text  # the summary, before anything is sent
    assert "Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15" in notice
    assert "Công an xã Tân Hòa nhận và xử lý" in notice
    assert "365 ngày sau khi xử lý xong" in notice
    await tipster.tap("Gửi")
    await tipster.command("dulieu")
    assert "91/2025/QH15" in tipster.text
