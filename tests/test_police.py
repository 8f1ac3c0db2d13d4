"""The commune police side: the case queue, case handling, anonymous questions, digests,
statistics, criteria and exports; each officer sees their own commune and nothing else."""

from __future__ import annotations

import io
import logging
import zipfile
from datetime import date

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select

from scheduler.digest import collect, queue_digest, render_chart
from storage.enums import Status
from storage.models import Commune, DigestRun, Incident, OutboxMessage, StatusChange, Tip
from storage.periods import containing
from tests.helpers import Chat, make_commune, make_router


async def _report(router, chat_id: str, category: str, severity: str = "Bình thường") -> None:
    await Chat(router, chat_id).report_incident(category, f"{category} ở đầu hẻm", severity)


async def _tip(router, chat_id: str, text: str, commune: str = "Tân Hòa") -> str:
    tipster = Chat(router, chat_id)
    await tipster.command("start")
    await tipster.tap("Gửi tin báo")
    await tipster.tap(commune)
    await tipster.say(text)
    await tipster.tap("Bỏ qua")
    await tipster.tap("Không có ảnh")
    await tipster.tap("Giữ bí mật")
    await tipster.tap("Gửi")
    return tipster.text.split("Mã tin báo: ")[1].split()[0]


async def _outbox_to(sessions, chat_id: str) -> list[str]:
    async with sessions() as session:
        return list(
            (
                await session.scalars(
                    select(OutboxMessage.text)
                    .where(OutboxMessage.chat_id == chat_id)
                    .order_by(OutboxMessage.id)
                )
            ).all()
        )


@pytest.fixture
async def two_communes(sessions):
    a = await make_commune(sessions)
    b = await make_commune(sessions, name="Bình Minh", prefix="b-")
    return a, b


async def test_a_case_goes_from_new_to_closed_and_the_reporter_hears_each_time(
    sessions, clock, two_communes
):
    router = make_router(sessions, clock)
    await _report(router, "member", "Trộm cắp")
    await _report(router, "member", "Cháy", "Khẩn cấp")
    officer = Chat(router, "officer")
    await officer.command("cases")
    assert "đang mở: 2" in officer.text
    first = officer.last[0].flat_buttons()[0]
    assert first.label.startswith("🔴 VV-2")  # the urgent one first
    await officer.tap("VV-1")
    assert "Trộm cắp" in officer.text and "mới" in officer.text
    await officer.tap("Tiếp nhận")
    await officer.tap("Danh sách")
    await officer.tap("VV-1")
    await officer.tap("Đang xử lý")
    await officer.tap("Danh sách")
    await officer.tap("VV-1")
    await officer.tap("Ghi chú")
    await officer.say("Đã xác minh tại hiện trường")
    assert "Đã ghi chú" in officer.text
    await officer.tap("Vụ việc, tin báo đang mở")  # back at the main menu
    await officer.tap("VV-1")
    await officer.tap("Đóng vụ việc")
    await officer.say("Đã thu hồi tài sản, trả lại người bị hại")
    await officer.tap("Đóng vụ việc")
    assert "Đã đóng VV-1" in officer.text
    async with sessions() as session:
        incident = await session.get(Incident, 1)
        history = (
            await session.scalars(
                select(StatusChange.status)
                .where(StatusChange.record_kind == "incident", StatusChange.record_id == 1)
                .order_by(StatusChange.id)
            )
        ).all()
    assert incident.status == Status.CLOSED and incident.outcome.startswith("Đã thu hồi")
    assert history == ["new", "acknowledged", "in_progress", "in_progress", "closed"]
    told = await _outbox_to(sessions, "member")
    assert any("đã tiếp nhận vụ việc VV-1" in m for m in told)
    assert any("đã xử lý xong vụ việc VV-1" in m for m in told)


async def test_assigning_tells_the_assignee(sessions, clock, two_communes):
    router = make_router(sessions, clock)
    await _report(router, "member", "Ma túy")
    async with sessions() as session, session.begin():
        from storage import admin

        commune = await session.get(Commune, 1)
        other = await admin.add_person(
            session, commune=commune, full_name="Nguyễn Thị Thảo", role="officer", title="chị"
        )
        from tests.helpers import link

        await link(session, other, "officer2")
    officer = Chat(router, "officer")
    await officer.send(callback="a:asg:i:1")
    await officer.tap("Nguyễn Thị Thảo")
    assert "Đã giao VV-1 cho Nguyễn Thị Thảo" in officer.text
    assert any("giao cho chị Thảo xử lý VV-1" in m for m in await _outbox_to(sessions, "officer2"))


async def test_a_question_to_an_anonymous_tipster_is_answered_without_revealing_them(
    sessions, clock, two_communes, caplog
):
    caplog.set_level(logging.INFO)  # what the bot logs in production
    router = make_router(sessions, clock)
    code = await _tip(router, "48151623", "Có điểm bán ma túy sau chợ")
    officer = Chat(router, "officer")
    await officer.command("cases")
    await officer.tap(code)
    assert "giữ bí mật danh tính" in officer.text
    await officer.tap("Hỏi người báo tin")
    await officer.say("Thường bán vào giờ nào?")
    await officer.tap("Gửi câu hỏi")
    question = [m for m in await _outbox_to(sessions, "48151623") if "hỏi thêm" in m]
    assert question and "Thường bán vào giờ nào?" in question[0]
    async with sessions() as session:
        row = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.chat_id == "48151623", OutboxMessage.purpose == "tip_question"
            )
        )
    tipster = Chat(router, "48151623")
    await tipster.send(callback=row.buttons[0][0]["data"])
    await tipster.say("Khoảng 22 giờ mỗi tối")
    await tipster.tap("Không có ảnh")
    await tipster.tap("Gửi")
    await officer.command("cases")
    await officer.tap(code)
    assert "Người báo tin: Khoảng 22 giờ mỗi tối" in officer.text
    seen_by_officers = [officer.text, *await _outbox_to(sessions, "officer")]
    async with sessions() as session:
        commune = await session.get(Commune, 1)
        from storage.export import export_csv_zip

        _, archive = await export_csv_zip(
            session, commune, containing("year", date(2026, 1, 1)), "vi", clock()
        )
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        seen_by_officers += [z.read(n).decode("utf-8-sig") for n in z.namelist()]
    seen_by_officers.append(caplog.text)
    for text in seen_by_officers:
        assert "48151623" not in text


async def test_officers_of_one_commune_cannot_see_or_touch_another(sessions, clock, two_communes):
    router = make_router(sessions, clock)
    await _report(router, "b-member", "Đánh nhau", "Khẩn cấp")
    code = await _tip(router, "b-resident", "Tin báo ở xã Bình Minh", "Bình Minh")
    officer_a = Chat(router, "officer")
    await officer_a.command("cases")
    assert "Không có vụ việc" in officer_a.text
    for data in (
        "a:view:i:1",
        "a:ack:i:1",
        "a:st:i:1:resolved",
        "a:asg:i:1",
        "a:asg:i:1:3",
        "a:note:i:1",
        "a:close:i:1",
        "a:view:t:1",
        "a:ask:t:1",
        "a:close:t:1",
        "a:view:x:1",
        "a:view:i:999",
    ):
        replies = await officer_a.send(callback=data)
        assert "không có quyền" in replies[0].text, data
    member_b = Chat(router, "b-member")
    await member_b.send(callback="a:cases:0")
    assert "không có quyền" in member_b.text
    await member_b.command("export")
    assert "không có quyền" in member_b.text
    await officer_a.command("export", "year")
    _, content = officer_a.last[0].document
    book = load_workbook(io.BytesIO(content))
    cells = " ".join(str(c.value) for ws in book for row in ws.iter_rows() for c in row)
    assert "Đánh nhau ở đầu hẻm" not in cells and code not in cells
    async with sessions() as session:
        assert (await session.get(Incident, 1)).status == Status.NEW
        assert (await session.get(Tip, 1)).status == Status.NEW


async def test_stats_chart_is_a_valid_png_and_export_holds_the_digest_figures(
    sessions, clock, two_communes
):
    router = make_router(sessions, clock)
    for category in ("Trộm cắp", "Trộm cắp", "Ma túy"):
        await _report(router, "member", category)
    officer = Chat(router, "officer")
    await officer.command("stats", "thang")
    reply = officer.last[0]
    assert "BÁO CÁO THÁNG 11/2026" in reply.text and "Vụ việc: 3" in reply.text
    image = Image.open(io.BytesIO(reply.photo))
    assert image.format == "PNG" and image.size == (800, 900)
    await officer.command("export", "thang")
    name, content = officer.last[0].document
    assert name.endswith(".xlsx")
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["Tổng hợp", "Vụ việc", "Hoạt động", "Báo cáo tuần", "Tin báo"]
    summary = {row[0]: row[1:] for row in book["Tổng hợp"].iter_rows(values_only=True)}
    assert summary["Trộm cắp, cướp giật tài sản"][0] == 2
    assert summary["Ma túy"][0] == 1 and summary["Tổng cộng"][0] == 3
    incidents = list(book["Vụ việc"].iter_rows(values_only=True))
    assert len(incidents) == 4 and incidents[1][4] == "Trộm cắp, cướp giật tài sản"
    assert incidents[1][1] == "19/11/2026 19:00"  # the commune's time, not UTC


async def test_criteria_view(sessions, clock, two_communes):
    router = make_router(sessions, clock)
    await _report(router, "member", "Ma túy", "Nghiêm trọng")
    officer = Chat(router, "officer")
    await officer.command("criteria")
    text = officer.text
    assert "TIÊU CHÍ AN TOÀN" in text
    assert "❌ Không có trọng án" in text
    assert "Thôn Phú Mỹ: ❌" in text and "trọng án" in text.split("Thôn Phú Mỹ:")[1]
    assert "– 100% hộ gia đình ký cam kết" in text  # no data yet, not "not met"


async def test_weekly_digest_is_queued_once_with_its_chart(sessions, clock, two_communes, tmp_path):
    router = make_router(sessions, clock)
    await _report(router, "member", "Trộm cắp")
    week = containing("week", date(2026, 11, 19))
    clock.advance(days=3, hours=12)  # Monday 07:00: the week is over and due
    async with sessions() as session, session.begin():
        commune = await session.get(Commune, 1)
        assert await queue_digest(session, commune, "weekly", week, clock(), tmp_path) == 1
        assert await queue_digest(session, commune, "weekly", week, clock(), tmp_path) is None
    async with sessions() as session:
        rows = (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "digest"))
        ).all()
        runs = (await session.scalars(select(DigestRun))).all()
        data = await collect(session, await session.get(Commune, 1), week, clock())
    assert len(rows) == 1 and len(runs) == 1
    assert rows[0].chat_id == "officer" and "BÁO CÁO TUẦN" in rows[0].text
    assert "Chưa báo cáo đủ: thôn An Lạc, thôn Phú Mỹ" in rows[0].text
    assert Image.open(rows[0].media_path).format == "PNG"
    assert render_chart(data, "en")[:8] == b"\x89PNG\r\n\x1a\n"


async def test_control_characters_typed_are_dropped_and_old_ones_do_not_break_the_export(
    sessions, clock, two_communes
):
    router = make_router(sessions, clock)
    await Chat(router, "member").report_incident("Trộm cắp", "Mất xe\x00 máy\x0b\r\nđầu hẻm")
    async with sessions() as session:
        incident = await session.get(Incident, 1)
        assert incident.description == "Mất xe máy\nđầu hẻm"
        incident.description = "Lưu từ trước\x0b"  # saved before arrival dropped them
        await session.commit()
    officer = Chat(router, "officer")
    await officer.command("export", "thang")
    _, content = officer.last[0].document
    rows = list(load_workbook(io.BytesIO(content))["Vụ việc"].iter_rows(values_only=True))
    assert "Lưu từ trước" in rows[1]


async def test_an_assignment_shows_on_the_card_and_the_assigner_hears_of_an_unreachable_one(
    sessions, clock, two_communes
):
    router = make_router(sessions, clock)
    await _report(router, "member", "Ma túy")
    async with sessions() as session, session.begin():
        from storage import admin

        commune = await session.get(Commune, 1)
        await admin.add_person(  # on the roster, but never opened the bot
            session, commune=commune, full_name="Nguyễn Thị Thảo", role="officer", title="chị"
        )
    officer = Chat(router, "officer")
    await officer.send(callback="a:asg:i:1")
    await officer.tap("Nguyễn Thị Thảo")
    assert "Đã giao VV-1 cho Nguyễn Thị Thảo" in officer.text
    assert "Nguyễn Thị Thảo chưa kết nối với Bình Yên" in officer.text
    # The case follows, with its assignee and the assignment in its history, and its buttons.
    assert "Cán bộ xử lý: Nguyễn Thị Thảo" in officer.text
    assert "Giao cho Nguyễn Thị Thảo · Trần Quốc Tuấn" in officer.text
    assert officer.button("Đóng vụ việc")
    await officer.tap("Ghi chú")
    await officer.say("Đã xác minh tại chỗ")
    await officer.send(callback="a:view:i:1")
    assert "📝 Ghi chú · Trần Quốc Tuấn — Đã xác minh tại chỗ" in officer.text


async def test_closing_offers_the_usual_outcomes_and_still_takes_any_typed(sessions, clock):
    await make_commune(sessions)
    router = make_router(sessions, clock)
    await _report(router, "member", "Mâu thuẫn")
    await _report(router, "member", "Trộm cắp")
    officer = Chat(router, "officer")
    await officer.send(callback="a:close:i:1")
    offered = [b.label for r in officer.last for b in r.flat_buttons()]
    assert {
        "Chuyển cơ quan điều tra",
        "Xử phạt vi phạm hành chính",
        "Hòa giải thành",
        "Không có căn cứ",
    } <= set(offered)
    await officer.tap("Hòa giải thành")
    assert "Hòa giải thành" in officer.text  # in the summary
    await officer.tap("Đóng vụ việc")
    await officer.send(callback="a:close:i:2")
    await officer.say("hoa giai thanh")  # typed without diacritics: the same outcome
    await officer.tap("Đóng vụ việc")
    async with sessions() as session:
        outcomes = [(await session.get(Incident, i)).outcome for i in (1, 2)]
    assert outcomes == ["Hòa giải thành", "Hòa giải thành"]


async def test_case_pages_go_round_and_keep_newer_and_older_in_place(sessions, clock):
    await make_commune(sessions)
    router = make_router(sessions, clock)
    for _ in range(7):
        clock.advance(minutes=1)
        await _report(router, "member", "Trộm cắp")
    officer = Chat(router, "officer")
    await officer.command("cases")
    assert "trang 1/2" in officer.text
    first = [b.label for b in officer.last[0].flat_buttons()]
    assert first[5:7] == ["◀ Mới hơn", "Cũ hơn ▶"] and first[0].startswith("VV-7")
    await officer.tap("Cũ hơn")
    assert "trang 2/2" in officer.text
    assert [b.label for b in officer.last[0].flat_buttons()][2:4] == ["◀ Mới hơn", "Cũ hơn ▶"]
    await officer.tap("Cũ hơn")  # round to the newest again
    assert "trang 1/2" in officer.text
    await officer.send(callback="a:cases:40")  # past the end: the last page
    assert "trang 2/2" in officer.text
