"""Every flow on Zalo through the real httpx client against a loopback Zalo Bot API."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.web.app import Services, WebConfig, build_web_app
from bot.zalo import ZaloClient, ZaloError, ZaloSender, ZaloTransport
from scheduler.dispatcher import Dispatcher
from scheduler.limits import Limits, RateLimiter
from storage import admin
from storage.identity import pretty_invite
from storage.models import Attachment, Commune, DutyChat, Incident, Person, WeeklyReport
from tests import fake_zalo as zl
from tests.fake_zalo import TOKEN, FakeZaloApi
from tests.helpers import SECRET, TIP_KEYS, make_commune, make_router

HEAD = "6ede9afa66b88fe6d6a9"


class ZaloChat:
    def __init__(self, api: FakeZaloApi, transport: ZaloTransport, user: str) -> None:
        self.api, self.transport, self.user = api, transport, user
        self.last: list[str] = []

    async def send(self, update: dict[str, Any]) -> list[str]:
        before = len(self.api.sent(self.user))
        await self.transport.handle(update)
        self.last = self.api.sent(self.user)[before:]
        assert self.last, f"no answer to {update}"
        return self.last

    async def say(self, body: str) -> list[str]:
        return await self.send(zl.text(self.user, body))

    @property
    def text(self) -> str:
        return "\n".join(self.last)

    def number(self, label: str) -> str:
        """The number a numbered menu gives label."""
        for line in self.last[-1].splitlines():
            head, _, rest = line.partition(". ")
            if head.isdigit() and label.casefold() in rest.casefold():
                return head
        raise AssertionError(f"no choice {label!r} in {self.last[-1]!r}")

    async def choose(self, label: str) -> list[str]:
        return await self.say(self.number(label))


@pytest.fixture
async def zalo(sessions, clock):
    api = FakeZaloApi()
    await api.start()
    client = ZaloClient(TOKEN, api.base_url)
    transport = ZaloTransport(client, make_router(sessions, clock))
    yield api, client, transport
    await client.close()
    await api.stop()


async def _invite(sessions, person_id: int) -> str:
    async with sessions() as session, session.begin():
        invite = await admin.issue_invite(session, await session.get(Person, person_id), 14)
    return pretty_invite(invite.code)


async def test_a_hamlet_head_redeems_a_code_reports_a_quiet_week_and_an_incident(zalo, sessions):
    api, _, transport = zalo
    c = await make_commune(sessions, prefix="x-")
    head = ZaloChat(api, transport, HEAD)
    await head.say("Xin chào")
    assert "mã mời" in head.text
    await head.say((await _invite(sessions, c.head)).lower())  # typed, in lower case
    assert "Nguyễn Văn Hùng" in head.text and "1. 🕊 Tuần này bình yên" in head.text
    await head.say("1")
    assert "1. ✅ Gửi: tuần này bình yên" in head.text and "Trả lời bằng số" in head.text
    await head.say("1")
    assert "Đã gửi báo cáo tuần" in head.text
    await head.choose("Báo vụ việc")
    await head.say("trom cap")
    assert "Xảy ra lúc nào? Gõ số thứ tự" in head.text and "Bấm nút" not in head.text
    await head.choose("Vừa xong")
    assert "Zalo chưa gửi được vị trí" in head.text and "Gửi vị trí" not in head.text
    await head.say("Đầu hẻm 3, gần chợ")
    await head.say("Mất trộm xe máy lúc nửa đêm")
    await head.send(zl.image(HEAD, "https://photo.zdn.vn/abc.jpg"))
    assert "Đã nhận 1 ảnh" in head.text
    await head.say("xong")
    await head.choose("Bình thường")
    await head.choose("Gửi")
    assert "Đã gửi báo cáo vụ việc" in head.text
    async with sessions() as session:
        incident = await session.scalar(select(Incident))
        photo = await session.scalar(select(Attachment))
        report = await session.scalar(select(WeeklyReport))
    assert incident.place_text == "Đầu hẻm 3, gần chợ" and incident.category == "theft"
    assert (photo.channel, photo.file_id) == ("zalo", "https://photo.zdn.vn/abc.jpg")
    assert report.quiet


async def test_a_message_delivered_twice_stores_one_report(zalo, sessions):
    api, _, transport = zalo
    c = await make_commune(sessions, prefix="x-")
    head = ZaloChat(api, transport, HEAD)
    await head.say(await _invite(sessions, c.head))
    await head.say("1")
    again = zl.text(HEAD, "1", message_id="same-message")
    await head.send(again)
    await head.send(dict(again))  # the webhook delivered it again
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(WeeklyReport)) == 1


async def test_stickers_and_unsupported_events_get_a_polite_answer(zalo, sessions):
    api, _, transport = zalo
    await make_commune(sessions, prefix="x-")
    chat = ZaloChat(api, transport, "u-1")
    await chat.send(zl.update("u-1", "message.sticker.received", sticker="abc"))
    assert "chưa đọc được loại tin này" in chat.text
    await chat.send(zl.update("u-1", "message.unsupported.received"))
    assert "chưa đọc được loại tin này" in chat.text


async def test_webhook_refuses_a_missing_or_wrong_secret_and_stores_nothing(zalo, sessions):
    api, _, transport = zalo
    await make_commune(sessions, prefix="x-")

    async def deliver(channel, payload):
        await transport.handle(payload)

    app = build_web_app(
        Services(WebConfig(SECRET, TIP_KEYS, zalo_secret="s3cret-zalo-token"), sessions, deliver)
    )
    body = zl.text("u-2", "xin chào")
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app)) as http:
            url = "http://desk/zalo"
            none = await http.post(url, json=body)
            wrong = await http.post(url, json=body, headers={"X-Bot-Api-Secret-Token": "nope"})
            async with sessions() as session:
                stored = await session.scalar(select(func.count()).select_from(Person))
            good = await http.post(
                url,
                json={"ok": True, "result": body},  # wrapped form
                headers={"X-Bot-Api-Secret-Token": "s3cret-zalo-token"},
            )
    finally:
        pass
    assert (none.status_code, wrong.status_code, good.status_code) == (403, 403, 200)
    assert stored == 3  # only the commune's own people: the refused calls stored nothing
    assert api.sent("u-2")


async def test_long_polling_removes_the_webhook_and_takes_idle_timeouts_in_stride(zalo, sessions):
    api, _, transport = zalo
    await make_commune(sessions, prefix="x-")
    api.webhook = "https://old.example/zalo"
    poller = asyncio.create_task(transport.poll(seconds=1))
    try:
        await asyncio.sleep(1.2)  # at least one idle poll ends with 408
        api.push(zl.text("u-3", "/start"))
        for _ in range(100):
            if api.sent("u-3"):
                break
            await asyncio.sleep(0.05)
    finally:
        poller.cancel()
    assert ("deleteWebhook", {}) in api.calls
    assert "Bình Yên" in "Bình Yên" and "tin báo" in api.sent("u-3")[0]


async def test_errors_with_http_200_are_errors(zalo):
    api, client, _ = zalo
    with pytest.raises(ZaloError) as caught:
        await client.call("noSuchMethod")
    assert caught.value.code == 404
    bad = ZaloClient("0:wrong", api.base_url)
    with pytest.raises(ZaloError) as caught:
        await bad.call("getMe")
    await bad.close()
    assert caught.value.code == 401


async def test_the_weekly_digest_reaches_officers_on_zalo_in_two_messages(
    zalo, sessions, clock, tmp_path
):
    from scheduler.digest import queue_digest
    from storage.periods import containing

    api, client, _ = zalo
    c = await make_commune(sessions, prefix="x-")
    async with sessions() as session, session.begin():
        commune = await session.get(Commune, c.id)
        session.add(DutyChat(commune_id=c.id, channel="zalo", chat_id="officers-group"))
        for n in range(70):  # enough hamlets for a long list of missing reports
            await admin.add_hamlet(session, commune, f"Số {n} ven sông Đồng Nai")
    clock.advance(days=4)
    async with sessions() as session, session.begin():
        commune = await session.get(Commune, c.id)
        await queue_digest(
            session, commune, "weekly", containing("week", date(2026, 11, 19)), clock(), tmp_path
        )
    vt_limits = {"zalo": RateLimiter(Limits(5, 1, 20), lambda: 0.0)}
    dispatcher = Dispatcher(
        sessions, {"zalo": ZaloSender(client, sessions)}, clock=clock, limiters=vt_limits
    )
    await dispatcher.run_once()
    parts = api.sent("officers-group")
    assert len(parts) == 2 and all(len(p) <= 2000 for p in parts)
    assert parts[0].startswith("📊 BÁO CÁO TUẦN") and sum(map(len, parts)) > 2000
    assert "Zalo chưa nhận được tài liệu" in parts[-1]


async def test_an_officer_acknowledges_an_alert_on_zalo_by_number(zalo, sessions, clock):
    api, client, transport = zalo
    c = await make_commune(sessions, prefix="x-")
    officer = ZaloChat(api, transport, "officer-zalo")
    await officer.say(await _invite(sessions, c.officer))
    member = ZaloChat(api, transport, "member-zalo")
    await member.say(await _invite(sessions, c.member))
    for step in ("Báo vụ việc", "Cháy", "Vừa xong", "Tại Thôn"):
        await member.choose(step)
    await member.say("Cháy kho rơm")
    await member.say("xong")
    await member.choose("Khẩn cấp")
    await member.choose("Gửi")
    dispatcher = Dispatcher(
        sessions,
        {"zalo": ZaloSender(client, sessions)},
        clock=clock,
        limiters={"zalo": RateLimiter(Limits(5, 0, 20), lambda: 0.0)},
    )
    await dispatcher.run_once()
    alert = api.sent("officer-zalo")[-1]
    assert "VỤ VIỆC KHẨN" in alert and "1. ✋ Tiếp nhận" in alert
    assert alert.endswith("Trả lời bằng số 1.")  # one choice: no range "1–1"
    await officer.say("1")
    assert "đã được Trần Quốc Tuấn tiếp nhận" in officer.text


async def test_tip_activity_voice_and_language_on_zalo(zalo, sessions):
    from storage.models import Activity, Tip

    api, _, transport = zalo
    c = await make_commune(sessions, prefix="x-")
    member = ZaloChat(api, transport, "member-z")
    await member.say(await _invite(sessions, c.member))
    await member.choose("Báo hoạt động")
    await member.say("tuan tra")  # a label without diacritics
    await member.choose("Hôm qua")
    await member.say("6")
    await member.say("4")
    await member.send(
        zl.update("member-z", "message.voice.received", voice_url="https://voice.zdn.vn/v1.aac")
    )
    await member.say("xong")
    assert "Số ca tuần tra: 6" in member.text
    await member.choose("Gửi")
    resident = ZaloChat(api, transport, "resident-z")
    await resident.say("chao")
    await resident.choose("Ngôn ngữ")
    await resident.choose("English")
    assert "Language changed to English" in resident.text
    await resident.choose("Send a tip")
    await resident.say("Gambling every night behind the market")
    await resident.say("Behind the market")
    await resident.say("done")
    await resident.choose("Keep me anonymous")
    await resident.choose("Send")
    assert "Your case code: TB-" in resident.text
    async with sessions() as session:
        activity = await session.scalar(select(Activity))
        tip = await session.scalar(select(Tip))
        voice = await session.scalar(select(Attachment).where(Attachment.media_type == "voice"))
    assert (activity.kind, activity.shifts, activity.people_count) == ("patrol", 6, 4)
    assert voice.file_id == "https://voice.zdn.vn/v1.aac" and voice.record_kind == "activity"
    assert tip.place_text == "Behind the market" and "resident-z" not in tip.reporter_key


async def test_an_officer_on_zalo_reaches_every_period_and_format_by_number(zalo, sessions):
    api, _, transport = zalo
    c = await make_commune(sessions, prefix="x-")
    officer = ZaloChat(api, transport, "officer-z")
    await officer.say(await _invite(sessions, c.officer))
    await officer.say("/thongke")
    assert "1. Tháng này\n2. Quý này\n3. Năm nay\n4. ☰ Menu chính" in officer.text
    assert "Trả lời bằng số 1–4." in officer.text
    await officer.choose("Năm nay")
    assert "BÁO CÁO NĂM" in officer.text
    await officer.choose("Menu chính")
    await officer.choose("Xuất báo cáo")
    assert "Zalo chưa nhận được tài liệu" in officer.text and "1. Xuất dạng CSV" in officer.text
    await officer.choose("Xuất dạng CSV")
    assert "1. Xuất dạng Excel" in officer.text


async def test_answers_that_end_an_exchange_on_zalo_are_followed_by_the_menu(zalo, sessions):
    api, _, transport = zalo
    c = await make_commune(sessions, prefix="x-")
    officer = ZaloChat(api, transport, "officer-z")
    await officer.say(await _invite(sessions, c.officer))
    for command, said in (
        ("/dulieu", "Dữ liệu hệ thống lưu"),
        ("/lich", "Chỉ quản trị"),
        ("/tieuchi", "TIÊU CHÍ AN TOÀN"),
        ("/vuviec", "Không có vụ việc hay tin báo nào đang mở"),
    ):
        await officer.say(command)
        assert said in officer.text, command
        assert "1. 📂 Vụ việc, tin báo đang mở" in officer.last[-1], command
    await officer.say("1")  # the number answers the menu that followed
    assert "Không có vụ việc hay tin báo nào đang mở" in officer.text


async def test_a_question_reaches_a_zalo_tipster_without_numbers_and_is_answered(
    zalo, sessions, clock
):
    """Zalo has no buttons: numbers a message came with are remembered on the chat. A
    question to a tipster comes without them (remembered, they would name the tip); the
    tipster answers from the menu."""
    from conversations.callbacks import decode
    from storage.models import Conversation
    from tests.helpers import Chat

    api, client, transport = zalo
    await make_commune(sessions, prefix="x-")
    tipster = ZaloChat(api, transport, "tipster-z")
    await tipster.say("chao")
    await tipster.choose("Gửi tin báo")
    await tipster.say("Có người lạ dò xét nhà vắng chủ")
    await tipster.say("bo qua")
    await tipster.say("xong")
    await tipster.choose("Giữ bí mật")
    await tipster.choose("Gửi")
    code = tipster.text.split("Mã tin báo: ")[1].split()[0]

    async def menu() -> list[Any]:
        async with sessions() as session:
            conv = await session.scalar(
                select(Conversation).where(Conversation.chat_id == "tipster-z")
            )
            return conv.menu

    before = await menu()
    officer = Chat(transport.router, "x-officer")
    await officer.command("cases")
    await officer.tap(code)
    await officer.tap("Hỏi người báo tin")
    await officer.say("Người lạ đi xe gì?")
    await officer.tap("Gửi câu hỏi")
    dispatcher = Dispatcher(
        sessions,
        {"zalo": ZaloSender(client, sessions)},
        clock=clock,
        limiters={"zalo": RateLimiter(Limits(5, 0, 20), lambda: 0.0)},
    )
    await dispatcher.run_once()
    question = api.sent("tipster-z")[-1]
    assert "Người lạ đi xe gì?" in question and "Bổ sung tin đã báo" in question
    assert "1." not in question
    assert await menu() == before
    assert not any(decode(data).__class__.__name__ == "CaseAction" for _, data in before)
    await tipster.choose("Bổ sung tin đã báo")
    await tipster.choose(code)
    await tipster.say("Xe máy màu đỏ")
    await tipster.say("xong")
    await tipster.choose("Gửi")
    assert f"Đã bổ sung thông tin cho tin báo {code}" in tipster.text
    await officer.command("cases")
    await officer.tap(code)
    assert "Người báo tin: Xe máy màu đỏ" in officer.text


async def test_long_polling_survives_failures_at_start_and_stops_only_on_a_rejected_token(
    zalo, sessions, caplog
):
    api, _, transport = zalo
    await make_commune(sessions, prefix="x-")
    failures = {"deleteWebhook": 2, "getUpdates": 1}

    def flaky(method: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if failures.get(method, 0) > 0:
            failures[method] -= 1
            return {"ok": False, "error_code": 500, "description": "Internal error"}
        return None

    api.fail = flaky
    poller = asyncio.create_task(transport.poll(seconds=1))
    try:
        api.push(zl.text("u-9", "/start"))
        for _ in range(200):  # 1 + 2 + 4 seconds of backoff at most
            if api.sent("u-9"):
                break
            await asyncio.sleep(0.05)
    finally:
        poller.cancel()
    assert api.sent("u-9"), "the poller went deaf after a failed start"
    assert failures == {"deleteWebhook": 0, "getUpdates": 0}

    api.fail = lambda method, payload: {"ok": False, "error_code": 401, "description": "x"}
    await asyncio.wait_for(transport.poll(seconds=1), timeout=5)  # returns: nothing to retry
    assert "ZALO_BOT_TOKEN" in caplog.text
