"""Input that means what it says: a negative or oversized number, a time to come, an
impossible date and one long ago each get an answer that says what is wrong, and the draft
goes on."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import Incident, WeeklyReport
from tests.helpers import Chat, make_commune, make_router


async def test_numbers_a_report_cannot_hold_are_answered_for_what_they_are(sessions, clock):
    await make_commune(sessions)
    chat = Chat(make_router(sessions, clock), "head")
    await chat.command("start")
    await chat.tap("Báo cáo tuần")
    await chat.tap("Có tình hình")
    await chat.say("-1")
    assert "Số không được âm" in chat.text
    await chat.say("99999999999")
    assert "Số quá lớn" in chat.text
    await chat.say("99999")  # a slip of the finger: no hamlet has that many in a week
    assert "Xin gõ một số từ 0 đến 500" in chat.text
    await chat.say("3")
    for _ in range(8):  # the rest, and how many mediations succeeded
        await chat.say("1")
    await chat.tap("Bỏ qua")
    await chat.say("Không")
    await chat.tap("Gửi")
    async with sessions() as session:
        report = await session.scalar(select(WeeklyReport))
    assert report is not None and report.incidents == 3  # not 1: "-1" never picked button 1


async def test_times_to_come_impossible_or_long_ago_are_answered_and_confirmed(sessions, clock):
    await make_commune(sessions)  # the clock: Thursday 19:00 in Vietnam
    chat = Chat(make_router(sessions, clock), "member")
    await chat.command("start")
    await chat.tap("Báo vụ việc")
    await chat.tap("Trộm cắp")
    await chat.say("hôm nay 23h")
    assert "chưa tới" in chat.text
    for tomorrow in ("ngày mai 8h", "ngay mai 8h", "sáng mai", "7h toi mai"):  # not today
        await chat.say(tomorrow)
        assert "chưa tới" in chat.text, tomorrow
        assert "Xảy ra lúc nào" in chat.text and "Xảy ra ở đâu" not in chat.text, tomorrow
    await chat.say("31/02 9h")
    assert "không có" in chat.text
    await chat.say("01/01/0001 1h")
    assert "không có" in chat.text
    await chat.say("01/01/1900 10h")
    assert "10:00 01/01/1900" in chat.text and "hơn một năm trước" in chat.text
    await chat.tap("Không")  # a slip: asked again
    assert "Xảy ra lúc nào" in chat.text
    await chat.say("2 giờ trước")
    assert "Xảy ra ở đâu" in chat.text
    await chat.tap("Quay lại")
    await chat.say("20/11/2024 8h")
    await chat.tap("Đúng")  # it was that long ago
    assert "Xảy ra ở đâu" in chat.text
    await chat.tap("Tại Thôn")
    await chat.say("Mất xe máy")
    await chat.tap("Không có ảnh")
    await chat.tap("Bình thường")
    await chat.tap("Gửi")
    async with sessions() as session:
        incident = await session.scalar(select(Incident))
    assert incident is not None
    assert incident.occurred_at.astimezone(clock().tzinfo).year == 2024


async def test_words_typed_at_the_menu_begin_a_report_instead_of_being_lost(sessions, clock):
    await make_commune(sessions)
    router = make_router(sessions, clock)
    head = Chat(router, "head")
    await head.command("start")
    await head.say("co trom vao nha ong Tu dem qua")
    assert "Ông Hùng có muốn báo nội dung vừa gõ không?" in head.text
    await head.tap("Báo vụ việc với nội dung này")
    assert "Vụ việc thuộc loại nào?" in head.text
    await head.tap("Trộm cắp")
    await head.say("hôm qua 22h")
    await head.tap("Tại Thôn")
    assert "Chuyện gì đã xảy ra?" not in head.text  # the words typed are the account
    await head.tap("Không có ảnh")
    await head.tap("Bình thường")
    assert "co trom vao nha ong Tu dem qua" in head.text  # in the summary
    await head.tap("Gửi")
    async with sessions() as session:
        incident = await session.scalar(select(Incident))
    assert incident is not None and incident.description == "co trom vao nha ong Tu dem qua"

    # Declined: back to the menu, and a later report starts empty.
    await head.say("nha ong Ba mat con bo")
    await head.tap("Không, về menu")
    await head.tap("Báo vụ việc")
    await head.tap("Trộm cắp")
    await head.say("hôm qua 22h")
    await head.tap("Tại Thôn")
    assert "Chuyện gì đã xảy ra?" in head.text

    # A resident can only send a tip; a greeting is answered with the menu.
    resident = Chat(router, "someone")
    for word in ("xin chào", "xong", "Bỏ qua"):  # a greeting, or a word for another step
        await resident.say(word)
        assert "muốn báo nội dung" not in resident.text, word
    await resident.say("co nguoi la hay dung truoc cong truong")
    offered = [b.label for r in resident.last for b in r.flat_buttons()]
    assert "✉️ Gửi tin báo với nội dung này" in offered
    assert "🚨 Báo vụ việc với nội dung này" not in offered


async def test_a_quiet_week_after_an_incident_is_confirmed_once_naming_it(sessions, clock):
    await make_commune(sessions)
    router = make_router(sessions, clock)
    await Chat(router, "member").report_incident("Trộm cắp", "Mất xe đạp")
    head = Chat(router, "head")
    await head.command("start")
    await head.tap("bình yên")
    assert "đã báo vụ việc: VV-1 (Trộm cắp)" in head.text
    await head.tap("Vẫn xác nhận")
    await head.tap("Gửi")
    async with sessions() as session:
        report = await session.scalar(select(WeeklyReport))
    assert report is not None and report.quiet is True
    # The full report says what Bình Yên already knows when it asks for the number.
    await head.tap("Báo cáo tuần")
    await head.tap("Sửa lại")
    await head.tap("Có tình hình")
    assert "đã ghi nhận 1 vụ việc" in head.text and "VV-1" in head.text


async def test_a_summary_with_nothing_to_change_offers_no_edit(sessions, clock):
    await make_commune(sessions)
    head = Chat(make_router(sessions, clock), "head")
    await head.command("start")
    await head.tap("bình yên")
    labels = [b.label for r in head.last for b in r.flat_buttons()]
    assert "✅ Gửi: tuần này bình yên" in labels and "✏ Sửa" not in labels
    await head.send(callback="o:__summary:edit")  # an old button: the summary again
    assert "Tình hình bình yên" in head.text


@pytest.mark.parametrize(
    "typed", ["20h ở trung tâm thương mại", "8h tối nhà chị Mai", "mãi 11h đêm", "lúc ban mai 6h"]
)
def test_mai_within_other_words_or_a_name_is_no_tomorrow(typed):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from conversations.parse import read_when

    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    now = datetime(2026, 11, 19, 23, 50, tzinfo=tz)  # Thursday 23:50
    found = read_when(typed, now.astimezone(UTC), tz, "vi")
    assert not isinstance(found, str), found
    assert found.at.date() == now.date()
