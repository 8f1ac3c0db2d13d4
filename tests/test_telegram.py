"""Every flow through the real python-telegram-bot Application, over HTTP to a loopback Bot API."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select

from bot.ingest import Ingest
from bot.telegram import (
    TelegramInbox,
    TelegramPoller,
    TelegramSender,
    build_application,
    set_commands,
)
from bot.web.app import Services, WebConfig, build_web_app
from scheduler.dispatcher import Dispatcher
from storage import admin, cases, inbox
from storage.models import (
    Conversation,
    DutyChat,
    Identity,
    Incident,
    Invite,
    Person,
    Tip,
    WeeklyReport,
)
from tests import fake_telegram as tg
from tests.fake_telegram import TOKEN, FakeBotApi
from tests.helpers import SECRET, TIP_KEYS, make_commune, make_router

HEAD, MEMBER, OFFICER, DUTY = 1001, 1002, 1003, -100500


class Always:
    """The polling lock of the only worker."""

    async def hold(self) -> bool:
        return True


class Harness:
    def __init__(self, api: FakeBotApi, sessions: Any, clock: Any) -> None:
        self.api, self.sessions, self.clock = api, sessions, clock
        self.app: Any = None
        self.last: list[dict[str, Any]] = []

    async def start(self, webhook: dict[str, Any] | None = None, router: Any = None) -> None:
        """The bot as `binhyen run` wires it: polled updates through the inbox."""
        self.router = router or make_router(self.sessions, self.clock)
        self.app = build_application(TOKEN, self.api.base_url, self.router)
        await self.app.initialize()
        await self.app.start()
        self.ingest = Ingest(self.sessions, self.router)
        self.ingest.channels["telegram"] = TelegramInbox(self.app.bot)
        self.tasks: list[asyncio.Task[None]] = []
        if webhook:
            await self.app.updater.start_webhook(**webhook)
        else:
            poller = TelegramPoller(self.app.bot, self.ingest.take, Always(), timeout=1)
            self.tasks.append(asyncio.create_task(poller.run()))
        self.tasks.append(asyncio.create_task(self.ingest.run_forever()))

    async def stop(self) -> None:
        self.ingest.stop()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.app.updater.running:
            await self.app.updater.stop()
        await self.app.stop()
        await self.app.shutdown()

    async def send(self, update: dict[str, Any], chat_id: int) -> list[dict[str, Any]]:
        """Deliver an update; the messages the bot sent that chat in answer."""
        before = len(self.api.sent(chat_id))
        self.api.push(update)
        for _ in range(200):
            await asyncio.sleep(0.02)
            if len(self.api.sent(chat_id)) > before:
                break
        else:
            raise AssertionError(f"no answer in chat {chat_id} to {update}")
        seen = -1
        while seen != len(self.api.sent(chat_id)):  # until the bot has finished answering
            seen = len(self.api.sent(chat_id))
            await asyncio.sleep(0.15)
        self.last = self.api.sent(chat_id)[before:]
        for message in self.last:
            assert len(message["text"]) <= 4096
            for row in self.api.keyboard(message).get("inline_keyboard", []):
                assert all(len(b["callback_data"].encode()) <= 64 for b in row)
        return self.last

    def data(self, label: str) -> str:
        for message in reversed(self.last):
            for row in self.api.keyboard(message).get("inline_keyboard", []):
                for b in row:
                    if label.casefold() in b["text"].casefold():
                        return b["callback_data"]
        raise AssertionError(f"no button {label!r} in {[m['text'][:40] for m in self.last]}")

    async def tap(self, uid: int, label: str) -> list[dict[str, Any]]:
        """Press a button: an inline one sends its data, a reply-keyboard one its text."""
        keys = self.api.keyboard(self.last[-1]).get("keyboard", []) if self.last else []
        for b in (b for row in keys for b in row):
            if label.casefold() in b["text"].casefold():
                return await self.say(uid, b["text"])
        return await self.send(tg.press(uid, self.data(label)), uid)

    async def say(self, uid: int, body: str) -> list[dict[str, Any]]:
        return await self.send(tg.text(uid, body), uid)

    @property
    def text(self) -> str:
        return "\n".join(m["text"] for m in self.last)


@pytest.fixture
async def bot(sessions, clock):
    api = FakeBotApi()
    await api.start()
    harness = Harness(api, sessions, clock)
    await harness.start()
    yield harness
    await harness.stop()
    await api.stop()


async def _invite_and_start(bot: Harness, person_id: int, uid: int) -> None:
    async with bot.sessions() as session, session.begin():
        invite = await admin.issue_invite(session, await session.get(Person, person_id), 14)
    await bot.say(uid, f"/start {invite.code}")


async def test_deep_link_binds_the_chat_and_greets_by_name(bot, sessions):
    c = await make_commune(sessions, prefix="x-")  # linked to other chats; these bind anew
    await _invite_and_start(bot, c.head, HEAD)
    assert "Nguyễn Văn Hùng" in bot.text and "trưởng thôn" in bot.text and "Phú Mỹ" in bot.text
    assert bot.data("bình yên").startswith("m:")
    await bot.say(HEAD, "/start NOTAREALCODE1")
    assert "không đúng" in bot.text


async def test_command_menu_is_set_in_vietnamese(bot):
    await set_commands(bot.app.bot, "vi")
    menus = [p for m, p in bot.api.calls if m == "setMyCommands"]
    vietnamese = next(json.loads(p["commands"]) for p in menus if "language_code" not in p)
    assert {"command": "huy", "description": "Hủy việc đang làm"} in vietnamese
    khmer = next(json.loads(p["commands"]) for p in menus if p.get("language_code") == "km")
    assert {"command": "huy", "description": "បោះបង់កិច្ចការកំពុងធ្វើ"} in khmer


async def test_urgent_incident_with_photos_and_location_in_under_ten_taps(bot, sessions):
    c = await make_commune(sessions, prefix="x-")
    async with sessions() as session, session.begin():
        session.add(DutyChat(commune_id=c.id, channel="telegram", chat_id=str(DUTY)))
    await _invite_and_start(bot, c.member, MEMBER)
    taps = 0
    for label in ("Báo vụ việc", "Trộm cắp", "Vừa xong"):
        await bot.tap(MEMBER, label)
        taps += 1
    where = bot.api.keyboard(bot.last[-1])["keyboard"]
    assert any(b.get("request_location") for row in where for b in row)
    await bot.send(tg.location(MEMBER, 10.9501, 106.8203), MEMBER)
    taps += 1
    await bot.say(MEMBER, "Hai thanh niên giật túi xách rồi chạy về hướng chợ")
    await bot.send(tg.photo(MEMBER, 1), MEMBER)
    await bot.send(tg.photo(MEMBER, 2), MEMBER)
    taps += 2
    for label in ("Xong", "Khẩn cấp", "Gửi"):
        await bot.tap(MEMBER, label)
        taps += 1
    assert taps < 10
    assert "báo cáo khẩn" in bot.text
    async with sessions() as session:
        incident = await session.scalar(select(Incident))
    assert incident.latitude == pytest.approx(10.9501) and incident.severity == "urgent"

    outbox = Dispatcher(sessions, {"telegram": TelegramSender(bot.app.bot)})
    assert (await outbox.run_once()).sent == 1
    alert = bot.api.sent(DUTY)[-1]
    assert "VỤ VIỆC KHẨN" in alert["text"] and "Trộm cắp" in alert["text"]
    ack = bot.api.keyboard(alert)["inline_keyboard"][0][0]["callback_data"]
    await _invite_and_start(bot, c.officer, OFFICER)
    await bot.send(tg.press(OFFICER, ack, cid=DUTY), DUTY)
    assert "tiếp nhận" in bot.text
    await outbox.run_once()
    assert "đã tiếp nhận" in bot.api.sent(MEMBER)[-1]["text"]


async def test_a_burst_of_photos_in_one_chat_loses_none(bot, sessions):
    c = await make_commune(sessions, prefix="x-")
    await _invite_and_start(bot, c.member, MEMBER)
    for label in ("Báo vụ việc", "Khác", "Vừa xong", "Tại Thôn"):
        await bot.tap(MEMBER, label)
    await bot.say(MEMBER, "Ảnh hiện trường")
    before = len(bot.api.sent(MEMBER))
    for n in range(5):  # an album: five updates at once, handled one after another
        bot.api.push(tg.photo(MEMBER, n))
    for _ in range(200):
        if len(bot.api.sent(MEMBER)) >= before + 5:
            break
        await asyncio.sleep(0.02)
    answers = [m["text"] for m in bot.api.sent(MEMBER)[before:]]
    assert [a.split(".")[0] for a in answers] == [f"Đã nhận {n} ảnh" for n in range(1, 6)]


async def test_quiet_week_in_two_taps(bot, sessions):
    c = await make_commune(sessions, prefix="x-")
    await _invite_and_start(bot, c.head, HEAD)
    await bot.tap(HEAD, "bình yên")
    await bot.tap(HEAD, "Gửi")
    assert "Đã gửi báo cáo tuần" in bot.text
    async with sessions() as session:
        assert (await session.scalar(select(WeeklyReport))).quiet


async def test_restart_between_two_answers_continues(bot, sessions):
    c = await make_commune(sessions, prefix="x-")
    await _invite_and_start(bot, c.member, MEMBER)
    await bot.tap(MEMBER, "Báo vụ việc")
    await bot.tap(MEMBER, "Ma túy")
    await bot.stop()
    await bot.start()  # a new Application and engine: only the database remembers
    await bot.say(MEMBER, "hôm qua 22h")
    assert "Xảy ra ở đâu" in bot.text


async def test_the_same_update_twice_stores_one_report(bot, sessions):
    c = await make_commune(sessions, prefix="x-")
    await _invite_and_start(bot, c.head, HEAD)
    await bot.tap(HEAD, "bình yên")
    update = tg.press(HEAD, bot.data("Gửi"))
    update["update_id"] = 90_000
    await bot.send(update, HEAD)
    await bot.send(dict(update), HEAD)  # Telegram delivers it again
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(WeeklyReport)) == 1


async def test_forged_callback_naming_another_communes_case_is_refused(bot, sessions):
    await make_commune(sessions, prefix="a-")
    b = await make_commune(sessions, name="Bình Minh", prefix="b-")
    async with sessions() as session, session.begin():
        hamlet = (await session.get(Person, b.member)).hamlet_id
        from datetime import UTC, datetime

        session.add(
            Incident(
                commune_id=b.id,
                hamlet_id=hamlet,
                category="drugs",
                severity="serious",
                occurred_at=datetime.now(UTC),
            )
        )
    a_officer = await _officer_of_first_commune(sessions)
    await _invite_and_start(bot, a_officer, OFFICER)
    async with sessions() as session:
        incident_id = await session.scalar(select(Incident.id))
    await bot.send(tg.press(OFFICER, f"a:ack:i:{incident_id}"), OFFICER)
    assert "không có quyền" in bot.text
    async with sessions() as session:
        assert (await session.get(Incident, incident_id)).status == "new"


async def _officer_of_first_commune(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(
            select(Person.id).where(Person.role == "officer").order_by(Person.id)
        )


async def test_unexpected_input_gets_a_hint_never_silence(bot, sessions):
    c = await make_commune(sessions, prefix="x-")
    await _invite_and_start(bot, c.member, MEMBER)
    await bot.send(tg.sticker(MEMBER), MEMBER)
    assert bot.text  # answered, with the menu again
    await bot.tap(MEMBER, "Báo vụ việc")
    await bot.send(tg.sticker(MEMBER), MEMBER)
    assert "bấm một nút" in bot.text
    await bot.say(MEMBER, "tro\u0302\u0300m ca\u0306\u0301p")  # NFD from a macOS keyboard
    assert "Xảy ra lúc nào" in bot.text
    await bot.send(tg.photo(MEMBER), MEMBER)
    assert "Chưa hiểu thời gian" in bot.text
    await bot.tap(MEMBER, "Vừa xong")
    await bot.tap(MEMBER, "Tại Thôn")
    await bot.say(MEMBER, "x" * 5000)
    assert "quá giới hạn" in bot.text
    await bot.send(tg.voice(MEMBER), MEMBER)  # a voice note tells what happened
    assert "ảnh, video" in bot.text


async def test_long_summary_is_split_within_telegrams_limit(bot, sessions):
    c = await make_commune(sessions, prefix="x-")
    await _invite_and_start(bot, c.member, MEMBER)
    for label in ("Báo vụ việc", "Khác", "Vừa xong", "Tại Thôn"):
        await bot.tap(MEMBER, label)
    await bot.say(MEMBER, "Sự việc kéo dài. " * 235)  # just under the 4,000 characters allowed
    await bot.tap(MEMBER, "Không có ảnh")
    await bot.tap(MEMBER, "Bình thường")
    assert len(bot.last) == 2 and all(len(m["text"]) <= 4096 for m in bot.last)
    assert "reply_markup" not in bot.last[0] and bot.data("Gửi")


async def test_anonymous_tip_from_an_unregistered_user(bot, sessions):
    await make_commune(sessions, prefix="x-")
    stranger = 7007
    await bot.send(tg.text(stranger, "xin chào"), stranger)  # never pressed Start
    await bot.tap(stranger, "Gửi tin báo")
    await bot.say(stranger, "Có nhóm cho vay nặng lãi ở hẻm 5")
    await bot.tap(stranger, "Bỏ qua")
    await bot.tap(stranger, "Không có ảnh")
    await bot.tap(stranger, "Giữ bí mật")
    await bot.tap(stranger, "Gửi")
    async with sessions() as session:
        tip = await session.scalar(select(Tip))
    assert tip.case_code in bot.text
    assert str(stranger) not in tip.reporter_key and tip.contact is None


async def test_webhook_refuses_a_wrong_secret(sessions, clock):
    api = FakeBotApi()
    await api.start()
    harness = Harness(api, sessions, clock)
    harness.router = make_router(sessions, clock)
    harness.app = build_application(TOKEN, api.base_url, harness.router)
    await harness.app.initialize()
    await harness.app.start()
    await harness.app.bot.set_webhook(
        "https://example.invalid/telegram", secret_token="s3cret-Token"
    )

    ingest = Ingest(sessions, harness.router)
    ingest.channels["telegram"] = TelegramInbox(harness.app.bot)
    web = build_web_app(
        Services(
            WebConfig(SECRET, TIP_KEYS, telegram_secret="s3cret-Token"), sessions, ingest.receive
        )
    )
    try:
        body = {"update_id": 5, **tg.text(HEAD, "/start")}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(web)) as client:
            url = "http://desk/telegram"
            bad = await client.post(
                url, json=body, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            )
            none = await client.post(url, json=body)
            good = await client.post(
                url, json=body, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token"}
            )
        assert (bad.status_code, none.status_code, good.status_code) == (403, 403, 200)
        async with sessions() as session:  # committed to the inbox before the HTTP answer
            assert await inbox.waiting(session=session) == 1
        await ingest.run_once()
        assert len(api.sent(HEAD)) >= 1
        async with sessions() as session:  # answered, then gone from the inbox
            assert await inbox.waiting(session=session) == 0
        set_hook = next(p for m, p in api.calls if m == "setWebhook")
        assert set_hook["secret_token"] == "s3cret-Token"
    finally:
        await harness.app.stop()
        await harness.app.shutdown()
        await api.stop()


async def test_digest_with_its_chart_arrives_in_the_duty_chat_and_export_is_a_file(
    bot, sessions, clock, tmp_path
):
    from io import BytesIO

    from openpyxl import load_workbook

    from scheduler.digest import queue_digest
    from storage.models import Commune
    from storage.periods import containing

    c = await make_commune(sessions, prefix="x-")
    async with sessions() as session, session.begin():
        session.add(DutyChat(commune_id=c.id, channel="telegram", chat_id=str(DUTY)))
    await _invite_and_start(bot, c.member, MEMBER)
    for label in ("Báo vụ việc", "Trộm cắp", "Vừa xong", "Tại Thôn"):
        await bot.tap(MEMBER, label)
    await bot.say(MEMBER, "Mất trộm xe đạp")
    await bot.tap(MEMBER, "Không có ảnh")
    await bot.tap(MEMBER, "Bình thường")
    await bot.tap(MEMBER, "Gửi")
    clock.advance(days=4)  # Monday: last week is complete
    async with sessions() as session, session.begin():
        commune = await session.get(Commune, c.id)
        week = containing("week", date(2026, 11, 19))
        assert await queue_digest(session, commune, "weekly", week, clock(), tmp_path) == 1
    outbox = Dispatcher(sessions, {"telegram": TelegramSender(bot.app.bot)}, clock=clock)
    await outbox.run_once()
    photos = bot.api.uploads(DUTY, "sendPhoto")
    assert len(photos) == 1 and photos[0]["photo"]["body"][:8] == b"\x89PNG\r\n\x1a\n"
    assert "BÁO CÁO TUẦN 16/11 – 22/11/2026" in bot.api.sent(DUTY)[-1]["text"]

    await _invite_and_start(bot, c.officer, OFFICER)
    await bot.say(OFFICER, "/export thang")
    document = bot.api.uploads(OFFICER, "sendDocument")[-1]["document"]
    assert document["filename"].endswith(".xlsx")
    book = load_workbook(BytesIO(document["body"]))
    assert book["Vụ việc"]["I2"].value == "Mất trộm xe đạp"


async def test_an_edited_old_message_is_not_taken_as_an_answer(bot, sessions):
    c = await make_commune(sessions, prefix="x-")
    await _invite_and_start(bot, c.member, MEMBER)
    await bot.tap(MEMBER, "Báo vụ việc")
    first = tg.text(MEMBER, "trộm cắp")
    await bot.send(first, MEMBER)
    assert "Xảy ra lúc nào" in bot.text
    edited = {"edited_message": {**first["message"], "text": "ma túy", "edit_date": 1}}
    await bot.send(edited, MEMBER)
    assert "Tin nhắn đã sửa không được dùng" in bot.text and "Xảy ra lúc nào" in bot.text
    async with sessions() as session:
        conv = await session.scalar(select(Conversation).where(Conversation.chat_id == str(MEMBER)))
    assert conv is not None and conv.data.get("category") == "theft"


async def test_shared_senders_are_never_bound_and_commands_for_other_bots_are_left_alone(
    bot, sessions
):
    c = await make_commune(sessions, prefix="x-")
    async with sessions() as session, session.begin():
        invite = await admin.issue_invite(session, await session.get(Person, c.officer), 14)
    anonymous_admin = tg.text(1087968824, f"/start {invite.code}", cid=DUTY)
    anonymous_admin["message"]["sender_chat"] = tg.chat(DUTY)
    await bot.send(anonymous_admin, DUTY)
    assert "tắt chế độ quản trị ẩn danh" in bot.text
    channel_post = tg.text(136817688, "/cases", cid=DUTY)
    await bot.send(channel_post, DUTY)
    assert "tắt chế độ quản trị ẩn danh" in bot.text
    async with sessions() as session:
        bound = await session.scalar(
            select(func.count()).select_from(Identity).where(Identity.person_id == c.officer)
        )
        redeemed = await session.scalar(select(Invite.redeemed_at).where(Invite.id == invite.id))
    assert bound == 1 and redeemed is None  # only the officer's own earlier account

    await _invite_and_start(bot, c.officer, OFFICER)
    before = len(bot.api.sent(DUTY))
    bot.api.push(tg.text(OFFICER, "/cases@otherbot", cid=DUTY))  # for another bot: no answer
    await bot.send(tg.text(OFFICER, "/cases@binhyen_bot", cid=DUTY), DUTY)
    answers = bot.api.sent(DUTY)[before:]
    assert len(answers) == 1 and "Không có vụ việc" in answers[0]["text"]


async def test_in_a_group_refusals_exports_and_tips_go_to_the_askers_private_chat(bot, sessions):
    c = await make_commune(sessions, prefix="x-")
    async with sessions() as session, session.begin():
        session.add(DutyChat(commune_id=c.id, channel="telegram", chat_id=str(DUTY)))
    await _invite_and_start(bot, c.head, HEAD)
    await _invite_and_start(bot, c.officer, OFFICER)
    group_before = len(bot.api.sent(DUTY))
    await bot.send(tg.press(HEAD, "a:ack:i:1", cid=DUTY), HEAD)  # not an officer
    assert "không có quyền" in bot.text
    await bot.send(tg.text(OFFICER, "/export thang", cid=DUTY), OFFICER)
    assert bot.api.uploads(OFFICER, "sendDocument")  # the workbook, privately
    await bot.send(tg.text(HEAD, "/dulieu", cid=DUTY), HEAD)
    assert "Dữ liệu hệ thống lưu" in bot.text
    assert len(bot.api.sent(DUTY)) == group_before  # the group saw none of it


async def test_start_up_goes_through_5xx_and_a_rejected_token_stops_at_once(sessions, clock):
    from telegram.error import InvalidToken

    from bot.app import until_reached

    api = FakeBotApi()
    await api.start()
    left = {"getMe": 2, "deleteWebhook": 1}

    def flaky(method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        if left.get(method, 0) > 0:
            left[method] -= 1
            return {
                "ok": False,
                "error_code": 502,
                "description": "Bad Gateway",
                "http_status": 502,
            }
        return None

    api.fail = flaky
    app = build_application(TOKEN, api.base_url, make_router(sessions, clock))
    taken: list[dict[str, Any]] = []

    async def take(channel: str, updates: list[dict[str, Any]]) -> None:
        taken.extend(updates)

    try:
        await until_reached("getMe", app.initialize)
        poller = asyncio.create_task(TelegramPoller(app.bot, take, Always(), timeout=1).run())
        api.push(tg.text(HEAD, "/start"))
        for _ in range(100):  # a pause of 1 s after the 502 on deleteWebhook
            if taken:
                break
            await asyncio.sleep(0.05)
        poller.cancel()
        await asyncio.gather(poller, return_exceptions=True)
        assert left == {"getMe": 0, "deleteWebhook": 0} and taken
        await app.shutdown()

        refused = build_application("1:wrong", api.base_url, make_router(sessions, clock))
        before = len(api.calls)
        with pytest.raises(InvalidToken):
            await until_reached("getMe", refused.initialize)
        assert len(api.calls) == before  # one refusal, no retries (a 401 is not recorded)
    finally:
        await api.stop()


async def test_a_hamlet_head_reports_with_one_voice_message_and_an_officer_classifies_it(
    bot, sessions
):
    c = await make_commune(sessions, prefix="v-")
    async with sessions() as session, session.begin():  # the officer is on this phone only
        await session.execute(delete(Identity).where(Identity.chat_id == "v-officer"))
    await _invite_and_start(bot, c.head, HEAD)
    await _invite_and_start(bot, c.officer, OFFICER)
    await bot.send(tg.voice(HEAD), HEAD)  # at the main menu, nothing chosen
    assert "Công an xã sẽ nghe ghi âm" in bot.text
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Incident)) == 0
    await bot.tap(HEAD, "Gửi ghi âm")
    async with sessions() as session:
        incident = await session.scalar(select(Incident))
        files = await cases.files(session=session, record=incident)
    code = f"VV-{incident.id}"
    assert f"Cảm ơn ông Hùng. Công an xã đã nhận ghi âm, mã vụ việc {code}" in bot.text
    assert incident.category == "unclassified" and incident.hamlet_id == c.hamlet_id
    assert [(f.media_type, f.file_id) for f in files] == [("voice", f"voice-{HEAD}")]

    outbox = Dispatcher(sessions, {"telegram": TelegramSender(bot.app.bot)})
    await outbox.run_once()
    alert = bot.api.sent(OFFICER)[-1]
    assert "Loại vụ việc: Ghi âm chưa phân loại" in alert["text"]
    bot.last = [alert]
    await bot.tap(OFFICER, "Tiếp nhận")  # in a private chat the case card follows
    voices = bot.api.uploads(OFFICER, "sendVoice")
    assert [v.get("voice") for v in voices] == [f"voice-{HEAD}"]  # the voice, to listen to
    await bot.tap(OFFICER, "Phân loại")
    assert f"{code}: vụ việc thuộc loại nào?" in bot.text
    await bot.tap(OFFICER, "Trộm cắp")
    assert f"{code}: đã phân loại là «Trộm cắp, cướp giật tài sản»" in bot.text
    assert "Phân loại: Trộm cắp, cướp giật tài sản · Trần Quốc Tuấn" in bot.text
    async with sessions() as session:
        assert (await session.get(Incident, incident.id)).category == "theft"


async def test_a_voice_message_at_the_menu_is_kept_only_after_its_confirmation(bot, sessions):
    c = await make_commune(sessions, prefix="w-")
    await _invite_and_start(bot, c.member, MEMBER)
    await bot.send(tg.voice(MEMBER), MEMBER)
    await bot.tap(MEMBER, "Hủy")
    assert "Đã hủy" in bot.text
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Incident)) == 0
