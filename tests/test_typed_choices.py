"""Channels without buttons (the console, Zalo): every flow and every officer screen walked by
typing only what the numbered text shows, with every message checked on the way."""

from __future__ import annotations

import io
import itertools
import re
from typing import Any

from sqlalchemy import select

from bot.console import ConsoleSender
from bot.rendering import numbered_text
from conversations.events import Incoming, MediaIn, Reply
from conversations.flows import all_flows
from conversations.matching import Match, match
from scheduler.dispatcher import Dispatcher
from scheduler.limits import Limits
from storage.enums import Channel
from storage.models import Activity, Conversation, Incident, Person, Tip, WeeklyReport
from tests.helpers import Chat, link, make_commune, make_router

# Words about tapping that a person who cannot tap must never read.
TAPPING = re.compile(r"\b(bấm|nút|tap|button)\b", re.IGNORECASE)
_keys = itertools.count(1)


class TypedChat:
    """A chat that sees replies as numbered text and answers by typing. Each response is
    checked: every choice has a number (or is a number, typed as itself), the numbers are the
    ones the router will read, nothing speaks of tapping, and something to choose comes last."""

    def __init__(self, router: Any, sessions: Any, chat_id: str) -> None:
        self.router, self.sessions, self.chat_id = router, sessions, chat_id
        self.replies: list[Reply] = []
        self.flows: set[str] = set()  # every flow this chat was seen in
        self.checked = 0

    async def send(self, **fields: Any) -> str:
        event = Incoming(
            Channel.CONSOLE,
            self.chat_id,
            self.chat_id,
            update_key=f"{self.chat_id}:{next(_keys)}",
            **fields,
        )
        self.replies = await self.router.handle(event)
        await self._check()
        return self.text

    async def say(self, text: str) -> str:
        return await self.send(text=text)

    async def command(self, name: str, args: str = "") -> str:
        return await self.send(command=name, args=args)

    @property
    def text(self) -> str:
        return "\n\n".join(numbered_text(r) for r in self.replies)

    def number(self, label: str) -> str:
        """The number the last message shows next to label."""
        for n, shown in numbered_lines(self.replies[-1]):
            if label.casefold() in shown.casefold():
                return str(n)
        raise AssertionError(f"no numbered {label!r} in:\n{self.text}")

    async def choose(self, label: str) -> str:
        return await self.say(self.number(label))

    async def _check(self) -> None:
        replies = self.replies
        assert replies and replies[-1].buttons, f"a dead end:\n{self.text}"
        assert not any(r.buttons for r in replies[:-1]), "choices in two messages of one answer"
        for reply in replies:
            check_reachable(reply)
            assert not TAPPING.search(numbered_text(reply)), numbered_text(reply)
        async with self.sessions() as session:
            conv = await session.scalar(
                select(Conversation).where(
                    Conversation.channel == Channel.CONSOLE, Conversation.chat_id == self.chat_id
                )
            )
        # What a typed number answers is what the last message shows next to it.
        last = replies[-1]
        by_label = {b.label: b.data for b in last.flat_buttons()}
        shown = [[label, by_label[label]] for _, label in numbered_lines(last)]
        assert conv.menu == shown
        if conv.flow:
            self.flows.add(conv.flow)
        self.checked += 1


def numbered_lines(reply: Reply) -> list[tuple[int, str]]:
    below = numbered_text(reply)[len(reply.text) :]
    return [(int(n), label) for n, label in re.findall(r"^(\d+)\. (.+)$", below, re.MULTILINE)]


def check_reachable(reply: Reply) -> None:
    """Every choice but back, cancel and skip (said as words) has its number in the text, or is
    itself a number that, typed, selects it. Sharing a location is the channel's to explain."""
    text = numbered_text(reply)
    numbers = dict(numbered_lines(reply))
    assert sorted(numbers) == list(range(1, len(numbers) + 1))
    for button in reply.flat_buttons():
        if button.share_location:
            continue
        if button.nav:
            assert button.label in text
        elif button.label not in numbers.values():
            assert button.label.isdecimal() and not numbers, f"{button.label!r} unreachable"
            assert button.label in text
            found = match(button.label, reply.flat_buttons(), ambiguous=frozenset())
            assert isinstance(found, Match) and found.button == button


async def _console_people(sessions) -> Any:
    c = await make_commune(sessions, prefix="tg-")
    async with sessions() as session, session.begin():
        for person_id, chat in ((c.head, "head"), (c.member, "member"), (c.officer, "officer")):
            await link(session, await session.get(Person, person_id), chat, Channel.CONSOLE)
    return c


async def test_every_flow_and_screen_is_walked_by_typed_numbers_alone(sessions, clock):
    await _console_people(sessions)
    router = make_router(sessions, clock)
    head = TypedChat(router, sessions, "head")

    # The quiet week, by numbers.
    await head.command("start")
    assert "1. 🕊 Tuần này bình yên" in head.text
    await head.choose("Tuần này bình yên")
    await head.choose("Gửi")
    assert "Đã gửi báo cáo tuần" in head.text

    # The full week: "3" where the quick answers are 0, 1, 2, 3, 5 means three, not "2".
    await head.choose("Báo cáo tuần")
    await head.choose("Sửa lại")
    await head.choose("Có tình hình")
    assert "0 · 1 · 2 · 3 · 5" in head.text and "1. 0" not in head.text
    await head.say("3")
    for _ in range(8):  # the rest, and how many mediations succeeded
        await head.say("1")
    await head.say("bỏ qua")  # skip, typed as the word it is shown as
    await head.say("Xin thêm đèn đường")
    assert "Vụ việc: 3" in head.text
    await head.choose("Sửa")
    await head.choose("Vụ việc")
    await head.say("4")
    await head.choose("Gửi")
    assert "Đã sửa báo cáo tuần" in head.text

    # An incident: a word matching several entries, an ambiguous word, a photo, urgency.
    await head.say("bao")
    assert "Ý ông Hùng là mục nào?" in head.text
    await head.choose("Báo vụ việc")
    await head.say("chay")
    assert "Có phải ý ông Hùng là: Cháy, nổ?" in head.text
    await head.choose("Đúng")
    assert "Gõ số thứ tự, hoặc gõ như" in head.text
    await head.say("trời nắng to")
    assert "Xin gõ số thứ tự, hoặc gõ như" in head.text
    await head.choose("Vừa xong")
    assert "Xảy ra ở đâu? Gõ số thứ tự, hoặc gõ địa điểm." in head.text
    assert "Gửi vị trí" not in head.text  # a typed chat cannot share one
    await head.choose("Tại Thôn Phú Mỹ")
    await head.say("Cháy kho rơm sau nhà văn hóa")
    assert "xong gõ Xong" in head.text
    await head.send(media=MediaIn("photo", "console-photo-1", 1000))
    assert "Gửi thêm, hoặc gõ Xong." in head.text
    await head.choose("Xong")
    await head.choose("Khẩn cấp")
    await head.choose("Gửi")
    assert "Đã gửi báo cáo khẩn" in head.text

    # Báo khẩn: the alert goes once the kind and the place are chosen, the rest after.
    await head.choose("Báo khẩn")
    await head.choose("Đánh nhau")
    assert "Ở đâu? Gõ số thứ tự" in head.text
    await head.choose("Tại Thôn Phú Mỹ")
    assert "Đã gửi báo cáo khẩn" in head.text and "gõ Bỏ qua" in head.text
    await head.say("Hai nhóm thanh niên đánh nhau")
    await head.choose("Không có ảnh")
    assert "Đã bổ sung vào VV-" in head.text

    # An activity: quick numbers typed as values, the optional note skipped by its word.
    await head.choose("Báo hoạt động")
    await head.say("tuan tra")
    assert "Hoạt động diễn ra ngày nào? Gõ số thứ tự" in head.text
    await head.choose("Hôm qua")
    await head.say("5")
    await head.say("2")
    assert "hoặc gõ Bỏ qua" in head.text
    await head.say("Bỏ qua")
    await head.choose("Không có ảnh")
    assert "Số ca tuần tra: 5" in head.text and "Số người tham gia: 2" in head.text
    await head.choose("Gửi")

    # A draft left for an hour is offered back; slash commands end with the menu.
    await head.choose("Báo vụ việc")
    clock.advance(hours=1)
    await head.say("xin chào")
    assert "có muốn làm tiếp báo cáo đó không?" in head.text
    await head.command("dulieu")
    assert "Dữ liệu hệ thống lưu" in head.text and "có muốn làm tiếp báo cáo đó không?" in head.text
    await head.choose("Bỏ, làm việc khác")
    await head.command("lich")
    assert "Chỉ quản trị" in head.text or "quản trị" in head.text
    assert "1. 🕊 Tuần này bình yên" in head.text

    # A resident: the welcome asks for a typed code, a tip, an addition, the language.
    resident = TypedChat(router, sessions, "resident-1")
    await resident.say("chào")
    assert "gõ mã mời vào đây" in resident.text and "đường link" not in resident.text
    assert "Xin chọn một việc bên dưới: gõ số thứ tự." in resident.text
    await resident.choose("Gửi tin báo")
    await resident.say("Có người đánh bạc sau chợ mỗi tối")
    assert "Ở đâu? Gõ địa điểm, hoặc gõ Bỏ qua." in resident.text
    await resident.say("Sau chợ")
    await resident.say("xong")
    await resident.choose("Giữ bí mật")
    await resident.choose("Gửi")
    code = re.search(r"TB-\w+", resident.text).group(0)
    await resident.choose("Bổ sung tin")
    await resident.choose(code)
    await resident.say("Thường từ 21 giờ")
    await resident.say("xong")
    await resident.choose("Gửi")
    assert f"Đã bổ sung thông tin cho tin báo {code}" in resident.text

    # The officer: the queue, a case card, acknowledging, assigning, a note, closing.
    officer = TypedChat(router, sessions, "officer")
    await officer.command("start")
    await officer.choose("Vụ việc, tin báo đang mở")
    assert "☰ Menu chính" in officer.text
    await officer.choose("VV-")
    await officer.choose("Tiếp nhận")
    assert "đã được Trần Quốc Tuấn tiếp nhận" in officer.text
    await officer.choose("Giao cán bộ")
    await officer.choose("Trần Quốc Tuấn")
    assert "Đã giao VV-" in officer.text and "1. 🔧 Đang xử lý" in officer.text
    await officer.choose("Ghi chú")
    await officer.say("Đã xác minh tại chỗ")
    assert "Đã ghi chú" in officer.text and "1. 📂 Vụ việc, tin báo đang mở" in officer.text
    await officer.choose("Vụ việc, tin báo đang mở")
    await officer.choose("VV-")
    await officer.choose("Đóng vụ việc")
    await officer.say("Đã dập lửa, không ai bị thương")
    await officer.choose("Đóng vụ việc")
    assert "Đã đóng VV-" in officer.text

    # A question to the anonymous tipster, answered from the console by its number.
    await officer.choose("Vụ việc, tin báo đang mở")
    await officer.choose(code)
    await officer.choose("Hỏi người báo tin")
    await officer.say("Khoảng bao nhiêu người?")
    await officer.choose("Gửi câu hỏi")
    printed = io.StringIO()
    dispatcher = Dispatcher(
        sessions,
        {Channel.CONSOLE: ConsoleSender(sessions, out=printed)},
        clock=clock,
        limits={Channel.CONSOLE: Limits(1000, 0, 1000)},
    )
    await dispatcher.run_once()
    assert "Khoảng bao nhiêu người?" in printed.getvalue()
    assert "1. ✍ Trả lời" in printed.getvalue() and "Trả lời bằng số 1." in printed.getvalue()
    await resident.say("1")
    await resident.say("Khoảng mười người")
    await resident.say("xong")
    await resident.choose("Gửi")
    assert f"Đã bổ sung thông tin cho tin báo {code}" in resident.text

    # Statistics, exports and criteria: every period and format has a number.
    await officer.command("thongke")
    assert "1. Tháng này" in officer.text and "Trả lời bằng số 1–4." in officer.text
    await officer.choose("Quý này")
    assert "BÁO CÁO QUÝ" in officer.text
    await officer.choose("Menu chính")
    await officer.choose("Xuất báo cáo")
    assert officer.replies[0].document[0].endswith(".xlsx")
    await officer.choose("Xuất dạng CSV")
    assert officer.replies[0].document[0].endswith(".zip")
    await officer.choose("Menu chính")
    await officer.choose("Tiêu chí an toàn")
    assert "1. 📂 Vụ việc, tin báo đang mở" in officer.text  # the menu follows
    await officer.command("lich")
    assert "quản trị" in officer.text and "1. 📂 Vụ việc, tin báo đang mở" in officer.text

    # A voice message at the menu: one confirmation, then the officer classifies it.
    await head.send(media=MediaIn("voice", "console-voice-1", 9000))
    assert "Công an xã sẽ nghe ghi âm" in head.text
    await head.choose("Gửi ghi âm")
    voice_code = re.search(r"mã vụ việc (VV-\d+)", head.text).group(1)
    await officer.choose("Vụ việc, tin báo đang mở")
    await officer.choose(voice_code)
    await officer.choose("Phân loại")
    await officer.choose("An ninh chính trị")
    assert f"{voice_code}: đã phân loại là «An ninh chính trị, dân tộc, tôn giáo»" in officer.text

    # The movement's records: a model added and stopped, commitments, a recognition.
    await officer.choose("Menu chính")
    await officer.choose("Thêm mô hình")
    await officer.choose("Tiếng kẻng an ninh")
    await officer.say("Kẻng an ninh xóm Bến")
    await officer.choose("Cả xã")
    assert "Gõ số thứ tự hoặc gõ ngày" in officer.text
    await officer.choose("Hôm nay")
    await officer.say("15")
    await officer.choose("Gửi")
    assert "Đã ghi mô hình «Kẻng an ninh xóm Bến»" in officer.text
    await officer.choose("Cập nhật mô hình")
    await officer.choose("Kẻng an ninh xóm Bến")
    await officer.choose("Cập nhật số thành viên")
    await officer.say("18")
    await officer.choose("Gửi")
    await officer.choose("ký cam kết")
    await officer.choose("Cơ quan")
    await officer.choose("Năm 2026")
    await officer.say("6")
    await officer.say("5")
    await officer.choose("Gửi")
    assert "cơ quan ký cam kết 5/6, năm 2026" in officer.text
    await officer.choose("Công nhận")
    await officer.choose("Trường học")
    await officer.choose("Năm 2025")
    await officer.say("2")
    await officer.say("2")
    await officer.choose("Gửi")
    assert "2/2 trường học đạt chuẩn an toàn về ANTT năm 2025" in officer.text

    # Last, the language: the resident's menu in English.
    await resident.choose("Ngôn ngữ")
    await resident.choose("English")
    assert "Language changed to English" in resident.text and "1. 🔒" in resident.text

    walked = head.flows | resident.flows | officer.flows
    assert walked == set(all_flows()), set(all_flows()) - walked
    async with sessions() as session:
        assert (await session.scalar(select(WeeklyReport))).incidents == 4
        assert (await session.scalar(select(Incident))).category == "fire"
        assert (await session.scalar(select(Activity))).shifts == 5
        assert (await session.scalar(select(Tip))).place_text == "Sau chợ"


async def test_a_question_says_tap_on_telegram_and_type_where_there_are_no_buttons(sessions, clock):
    await _console_people(sessions)
    router = make_router(sessions, clock)
    telegram = Chat(router, "tg-member")
    await telegram.command("start")
    await telegram.tap("Báo vụ việc")
    await telegram.tap("Trộm cắp")
    assert "Xảy ra lúc nào? Bấm nút, hoặc gõ như" in telegram.text
    console = TypedChat(router, sessions, "member")
    await console.command("start")
    await console.choose("Báo vụ việc")
    await console.say("trom cap")
    assert "Xảy ra lúc nào? Gõ số thứ tự, hoặc gõ như" in console.text


async def test_on_telegram_too_the_menu_follows_an_answer_with_nothing_to_tap(sessions, clock):
    await _console_people(sessions)
    officer = Chat(make_router(sessions, clock), "tg-officer")
    for command in ("dulieu", "lich", "criteria"):
        replies = await officer.command(command)
        assert len(replies) == 2 and replies[-1].text.startswith("Anh Tuấn cần xem gì?")
    replies = await officer.command("stats")  # a screen with its own choices: one way back
    assert [b.label for b in replies[-1].flat_buttons()][-1] == "☰ Menu chính"
    await officer.tap("Menu chính")
    assert officer.last[-1].text.startswith("Anh Tuấn cần xem gì?")
