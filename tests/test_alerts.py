"""An urgent alert must reach someone: nobody acknowledges it in time, and it goes once more
to every officer and admin of the commune, privately, with whom to call."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from scheduler.jobs import repeat_alerts
from storage import access, admin, alerts
from storage.models import Commune, Incident, OutboxMessage
from storage.queries import load_person
from tests.helpers import Chat, link, make_commune, make_router

WAIT = timedelta(minutes=10)


async def _texts_to(sessions, chat_id: str) -> list[str]:
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


async def _repeat(sessions, clock) -> int:
    async with sessions() as session, session.begin():
        return await repeat_alerts(session, clock(), WAIT, "vi")


async def test_an_urgent_alert_nobody_takes_goes_again_once_to_every_officer_and_admin(
    sessions, clock
):
    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        commune = await session.get(Commune, c.id)
        chief = await admin.add_person(
            session, commune=commune, full_name="Lê Minh Đức", role="admin", phone="0912345678"
        )
        await link(session, chief, "chief")
    router = make_router(sessions, clock)
    member = Chat(router, "member")
    await member.report_incident("Cháy, nổ", "Cháy kho rơm sau nhà", severity="Khẩn cấp")
    await member.report_incident("Trộm cắp", "Mất xe đạp")  # ordinary: never repeated

    clock.advance(minutes=9)
    assert await _repeat(sessions, clock) == 0  # not yet
    clock.advance(minutes=2)
    assert await _repeat(sessions, clock) == 1
    assert await _repeat(sessions, clock) == 0  # once only

    for chat in ("officer", "chief"):
        repeated = [m for m in await _texts_to(sessions, chat) if "CHƯA AI TIẾP NHẬN" in m]
        assert len(repeated) == 1, chat
        text = repeated[0]
        assert "VV-1" in text and "sau 10 phút" in text and "Cháy kho rơm" in text
        assert "Lê Thị Thu" in text  # who reported, to call back
        assert "Số khẩn cấp: 114 hoặc 113." in text  # fire: 114 first
    async with sessions() as session:
        went = await alerts.deliveries(session=session, incident_id=1)
    assert {(r, chat.chat_id) for r, chat in went if r == 2} == {(2, "officer"), (2, "chief")}


async def test_an_acknowledged_alert_is_not_repeated(sessions, clock):
    await make_commune(sessions)
    router = make_router(sessions, clock)
    await Chat(router, "member").report_incident("Đánh nhau", "Đánh nhau ở chợ", "Khẩn cấp")
    officer = Chat(router, "officer")
    await officer.send(callback="a:ack:i:1")
    clock.advance(minutes=30)
    assert await _repeat(sessions, clock) == 0
    assert not [m for m in await _texts_to(sessions, "officer") if "CHƯA AI" in m]


async def test_a_commune_whose_alerts_reach_nobody_is_found(sessions):
    await make_commune(sessions)  # its officer has a chat
    async with sessions() as session, session.begin():
        await admin.create_commune(session, province="Đồng Nai", name="Phú Lợi", hamlets=["Ấp 1"])
    async with sessions() as session:
        names = [c.name for c in await alerts.unreachable_communes(session=session, language="vi")]
    assert names == ["Phú Lợi"]


async def test_an_urgent_report_that_reaches_no_officer_says_so_with_the_number_to_call(
    sessions, clock
):
    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        await access.unlink_accounts(session=session, person_id=c.officer)  # nobody linked
    member = Chat(make_router(sessions, clock), "member")
    await member.report_incident("Cháy, nổ", "Cháy nhà kho", severity="Khẩn cấp")
    assert "chưa có cán bộ nào nhận được cảnh báo" in member.text
    assert "gọi ngay 114 hoặc 113" in member.text and "VV-1" in member.text
    assert "đã được báo ngay" not in member.text


async def test_an_urgent_alert_carries_the_reporters_phone_a_map_and_is_recorded(sessions, clock):
    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        (await load_person(session, c.member)).phone = "0987654321"
    member = Chat(make_router(sessions, clock), "member")
    await member.command("start")
    for step in ("Báo vụ việc", "Đánh nhau", "Vừa xong"):
        await member.tap(step)
    await member.send(location=(10.95123, 106.82456))
    await member.say("Hai nhóm đánh nhau trước quán")
    await member.tap("Không có ảnh")
    await member.tap("Khẩn cấp")
    await member.tap("Gửi")
    assert "gọi ngay 113" in member.text
    alert = (await _texts_to(sessions, "officer"))[-1]
    assert "Lê Thị Thu, tổ viên (0987654321)" in alert
    assert "openstreetmap.org/?mlat=10.95123&mlon=106.82456" in alert
    assert "Số khẩn cấp: 113." in alert
    async with sessions() as session:
        went = await alerts.deliveries(session=session, incident_id=1)
    assert [(r, chat.chat_id) for r, chat in went] == [(1, "officer")]


async def test_an_urgent_report_alerts_in_three_taps_and_takes_the_details_after(sessions, clock):
    await make_commune(sessions)
    member = Chat(make_router(sessions, clock), "member")
    await member.command("start")
    await member.tap("Báo khẩn")  # 1
    await member.tap("Cháy, nổ")  # 2
    await member.tap("Tại Thôn")  # 3: the alert goes now
    assert "Đã gửi báo cáo khẩn, vụ việc VV-1" in member.text
    assert "gọi ngay 114 hoặc 113" in member.text
    alert = (await _texts_to(sessions, "officer"))[-1]
    assert "VỤ VIỆC KHẨN VV-1" in alert and "Cháy, nổ" in alert
    await member.say("Cháy kho rơm nhà ông Bảy, lửa lan sang nhà bên")
    await member.photo()
    await member.tap("Xong")
    assert "Đã bổ sung vào VV-1" in member.text
    more = (await _texts_to(sessions, "officer"))[-1]
    assert "Bổ sung cho vụ việc khẩn VV-1 (1 ảnh" in more and "lửa lan sang" in more
    async with sessions() as session:
        incident = await session.get(Incident, 1)
    assert incident is not None and incident.severity == "urgent"
    assert incident.description == "Cháy kho rơm nhà ông Bảy, lửa lan sang nhà bên"

    # Going back to change the kind updates the same case; cancelling says the alert is out.
    await member.tap("Báo khẩn")
    await member.tap("Đánh nhau")
    await member.tap("Tại Thôn")
    await member.tap("Quay lại")
    await member.tap("Quay lại")
    await member.tap("Trộm cắp")
    await member.tap("Tại Thôn")
    assert "Đã cập nhật VV-2" in member.text
    await member.tap("Hủy")
    assert "Cảnh báo VV-2 đã gửi đi" in member.text
    async with sessions() as session:
        second = await session.get(Incident, 2)
        third = await session.get(Incident, 3)
    assert second is not None and second.category == "theft" and third is None
