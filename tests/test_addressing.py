"""The demo commune as its people meet it: each is addressed by honorific and name, the
hamlets are the "ấp" of Đồng Nai, roles and dates read as Vietnamese, cases as VV-21."""

from __future__ import annotations

import random
import re

import pytest
from sqlalchemy import select

from storage.demo import seed_demo
from storage.models import Hamlet, OutboxMessage, Person
from tests.helpers import Chat, link, make_router

ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
CHATS = {
    "Nguyễn Văn Hùng": "hung",  # hamlet head of Ấp Phú Mỹ, "ông"
    "Trần Văn Khánh": "khanh",  # team member, no title
    "Trần Quốc Tuấn": "tuan",  # officer, "anh"
    "Lê Minh Đức": "duc",  # admin, "anh"
}


@pytest.fixture
async def demo(sessions, clock):
    async with sessions() as session, session.begin():
        await seed_demo(session, now=clock.now, rng=random.Random(1))
        people = (
            await session.scalars(select(Person).where(Person.full_name.in_(list(CHATS))))
        ).all()
        for person in people:
            await link(session, person, CHATS[person.full_name or ""])
    return make_router(sessions, clock)


async def _outbox_to(sessions, chat_id: str) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage.text)
            .where(OutboxMessage.chat_id == chat_id)
            .order_by(OutboxMessage.id)
        )
        return list(rows.all())


async def test_the_demo_hamlets_are_ap_as_in_dong_nai(sessions, demo):
    async with sessions() as session:
        hamlets = (await session.scalars(select(Hamlet))).all()
    assert {h.label for h in hamlets} == {"ấp"}
    assert "ấp Phú Mỹ" in {h.display_name for h in hamlets}


async def test_a_hamlet_head_is_greeted_and_thanked_by_name(demo):
    head = Chat(demo, "hung")
    await head.command("start")
    assert head.last[0].text == "Chào ông Hùng!"
    assert head.last[1].text == "Ông Hùng muốn báo gì?\n(Ấp Phú Mỹ)"
    await head.tap("Tuần này bình yên")
    await head.tap("Gửi")
    assert "của ấp Phú Mỹ. Cảm ơn ông Hùng." in head.text


async def test_a_person_without_a_title_is_called_by_the_pronoun_their_name_suggests(demo):
    member = Chat(demo, "khanh")
    await member.command("start")
    assert member.last[0].text == "Chào anh Khánh!"
    assert member.last[1].text.startswith("Anh Khánh muốn báo gì?")


async def test_an_officer_is_asked_what_to_see_and_a_resident_learns_whose_channel_this_is(demo):
    officer = Chat(demo, "tuan")
    await officer.command("start")
    assert officer.last[1].text == "Anh Tuấn cần xem gì?\n(Xã Tân Hòa)"
    resident = Chat(demo, "new-resident")
    await resident.command("start")
    welcome = resident.last[0].text
    assert welcome.startswith("Chào ông/bà! ")  # nobody known: the neutral form
    assert "của Công an xã Tân Hòa. Ông/bà có thể gửi tin báo và giấu tên." in welcome
    assert "\nTrưởng ấp và tổ viên tổ bảo vệ an ninh: xin nhờ Công an xã Tân Hòa" in welcome
    assert "đường dẫn" in welcome and "link" not in welcome


async def test_my_data_shows_the_role_language_and_date_in_words(demo):
    head = Chat(demo, "hung")
    await head.command("dulieu")
    text = head.last[0].text
    assert text.startswith("🗂 Dữ liệu hệ thống lưu về ông Hùng:")
    assert "• Vai trò: trưởng ấp" in text and "• Ngôn ngữ: Tiếng Việt" in text
    assert re.search(r"• Từ ngày: \d\d/\d\d/\d{4}", text) and not ISO_DATE.search(text)
    assert "• Tài khoản chat: Telegram (mã hung)" in text
    assert "hamlet_head" not in text


async def test_the_schedule_reads_in_days_hours_and_vietnamese_job_names(demo):
    admin = Chat(demo, "duc")
    await admin.command("lich")
    text = admin.last[0].text
    assert "• Nhắc báo cáo tuần: Thứ Sáu 16:00" in text
    assert "• Xóa tin báo đã đóng quá hạn lưu:" in text
    assert "• Báo Công an xã những nơi chưa gửi báo cáo tuần: Chủ nhật 18:00" in text
    assert "• Báo cáo quý: ngày 1 các tháng 1, 4, 7, 10, 07:00" in text
    assert "schedule." not in text and "* *" not in text and "digest_weekly" not in text


async def test_an_incident_is_named_the_same_way_to_its_reporter_and_the_officer(sessions, demo):
    head = Chat(demo, "hung")
    await head.command("start")
    for step in ("Báo vụ việc", "Trộm cắp", "Vừa xong", "Tại Ấp Phú Mỹ"):
        await head.tap(step)
    await head.say("Mất trộm xe máy")
    await head.photo()
    assert "Đã nhận 1 ảnh." in head.text
    await head.tap("Xong")
    await head.tap("Bình thường")
    await head.tap("Gửi")
    sent = head.last[0].text
    code = re.search(r"vụ việc (VV-\d+)\.", sent).group(1)
    assert sent.endswith("Cảm ơn ông Hùng.")
    alert = (await _outbox_to(sessions, "tuan"))[-1]
    assert alert.startswith(f"📥 Vụ việc mới {code}")
    assert "Ấp: Phú Mỹ" in alert and "Nguyễn Văn Hùng, trưởng ấp" in alert
    officer = Chat(demo, "tuan")
    await officer.command("cases")
    assert officer.button(code).label.endswith("· hôm nay")
    await officer.tap(code)
    assert "📎 1 ảnh đính kèm" in officer.text
    await officer.tap("Tiếp nhận")
    assert f"✅ {code} đã được Trần Quốc Tuấn tiếp nhận lúc" in officer.text
    told = (await _outbox_to(sessions, "hung"))[-1]
    assert re.fullmatch(
        rf"Công an xã đã tiếp nhận vụ việc {code} \(Trộm cắp, \d\d:\d\d \d\d/\d\d\) của ông Hùng\.",
        told,
    )
    await officer.tap("Đóng vụ việc")
    assert f"• Mã vụ việc: {code}" in officer.text or "Mã vụ việc" not in officer.text


async def test_the_weekly_figures_count_hamlets_by_their_kind(demo):
    officer = Chat(demo, "tuan")
    await officer.command("stats", "thang")
    text = officer.last[0].text
    assert " ấp báo cáo đủ, đúng hạn" in text and not re.search(r"\bthôn\b", text)
    assert "(chưa có số liệu cùng kỳ năm trước)" in text and "(0)" not in text


async def test_a_quarter_is_named_as_vietnamese_reports_name_it(demo):
    officer = Chat(demo, "tuan")
    await officer.command("criteria")
    assert officer.last[0].text.startswith("🏅 TIÊU CHÍ AN TOÀN VỀ ANTT — quý IV/2026")
    await officer.command("export", "quy")
    assert "📤 Báo cáo quý IV/2026 (mở bằng Excel)." in officer.text


def test_a_unit_typed_with_a_capital_is_named_in_lower_case_within_a_sentence():
    from storage.models import Commune, Hamlet

    assert Commune(label="Phường", name="Bến Thành").display_name == "phường Bến Thành"
    assert Commune(label="TP.", name="Trà Vinh").display_name == "TP. Trà Vinh"
    assert Hamlet(label="ấp", name="Phú Mỹ").display_name == "ấp Phú Mỹ"
