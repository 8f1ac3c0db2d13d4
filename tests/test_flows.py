"""The conversations, driven through the router against the database."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from conversations.events import MediaIn
from locales import t
from storage.enums import Status
from storage.models import (
    Activity,
    Attachment,
    Conversation,
    DutyChat,
    Incident,
    OutboxMessage,
    StatusChange,
    Tip,
    TipMessage,
    WeeklyReport,
)
from tests.helpers import Chat, make_commune, make_router


async def count(sessions, model) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_quiet_week_takes_two_taps(sessions, clock):
    await make_commune(sessions)
    chat = Chat(make_router(sessions, clock), "head")
    await chat.command("start")
    await chat.tap("bình yên")  # tap 1
    assert "bình yên" in chat.text.lower()
    await chat.tap("Gửi")  # tap 2
    assert "Đã gửi báo cáo tuần" in chat.text
    async with sessions() as session:
        report = await session.scalar(select(WeeklyReport))
    assert report.quiet is True and report.incidents == 0
    assert str(report.week_start) == "2026-11-16"  # the Monday of the week, local time


async def test_second_weekly_report_offers_to_amend_the_first(sessions, clock):
    await make_commune(sessions)
    chat = Chat(make_router(sessions, clock), "head")
    await chat.command("start")
    await chat.tap("bình yên")
    await chat.tap("Gửi")
    await chat.tap("Báo cáo tuần")
    assert "đã gửi báo cáo tuần" in chat.text
    await chat.tap("Sửa lại")
    await chat.tap("Có tình hình")
    for _ in range(9):  # incidents, disputes, complaints, strangers, patrols, outreach, …
        await chat.say("2")
    await chat.tap("Bỏ qua")
    await chat.say("Đề nghị tăng cường tuần tra ban đêm")
    assert "Vụ việc: 2" in chat.text
    await chat.tap("Gửi")
    assert "Đã sửa báo cáo tuần" in chat.text
    async with sessions() as session:
        reports = (await session.scalars(select(WeeklyReport))).all()
    assert len(reports) == 1
    assert reports[0].quiet is False and reports[0].patrols == 2 and reports[0].amended_at
    assert reports[0].proposals == "Đề nghị tăng cường tuần tra ban đêm"


async def test_incident_typed_without_diacritics_with_photos_and_location(sessions, clock):
    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        session.add(DutyChat(commune_id=c.id, channel="telegram", chat_id="-100duty"))
    chat = Chat(make_router(sessions, clock), "member")
    await chat.command("start")
    await chat.say("bao vu viec")
    await chat.say("trom cap")
    assert "Xảy ra lúc nào" in chat.text
    await chat.say("hom qua 21h30")
    await chat.send(location=(10.95, 106.82))
    await chat.say("Mất trộm xe máy Honda trước cửa nhà.")
    await chat.photo(1)
    await chat.photo(2)
    assert "Đã nhận 2 ảnh" in chat.text
    await chat.tap("Xong")
    await chat.tap("Khẩn cấp")
    assert "Trộm cắp" in chat.text and "21:30 18/11/2026" in chat.text
    await chat.tap("Gửi")
    assert "báo cáo khẩn, vụ việc VV-1" in chat.text
    async with sessions() as session:
        incident = await session.scalar(select(Incident))
        files = (await session.scalars(select(Attachment))).all()
        alerts = (await session.scalars(select(OutboxMessage))).all()
    assert incident.category == "theft" and incident.severity == "urgent"
    assert (incident.latitude, incident.longitude) == (10.95, 106.82)
    assert incident.occurred_at.isoformat() == "2026-11-18T14:30:00+00:00"
    assert [f.media_type for f in files] == ["photo", "photo"]
    assert [a.chat_id for a in alerts] == ["-100duty"]
    assert "Trộm cắp" in alerts[0].text and alerts[0].buttons[0][0]["data"] == (
        f"a:ack:i:{incident.id}"
    )


async def test_urgent_alert_goes_to_each_officer_without_a_duty_chat(sessions, clock):
    await make_commune(sessions)
    chat = Chat(make_router(sessions, clock), "member")
    await chat.command("start")
    for step in ("Báo vụ việc", "Cháy", "Vừa xong", "Tại Thôn"):
        await chat.tap(step)
    await chat.say("Cháy nhà kho")
    await chat.say("xong")
    await chat.tap("Khẩn cấp")
    await chat.tap("Gửi")
    async with sessions() as session:
        alerts = (await session.scalars(select(OutboxMessage))).all()
    assert [a.chat_id for a in alerts] == ["officer"]


async def test_fire_reminds_of_hotline_114(sessions, clock):
    await make_commune(sessions)
    chat = Chat(make_router(sessions, clock), "member")
    await chat.command("start")
    await chat.tap("Báo vụ việc")
    await chat.tap("Cháy")
    assert "114" in chat.text


async def test_back_cancel_and_edit_from_summary(sessions, clock):
    await make_commune(sessions)
    chat = Chat(make_router(sessions, clock), "member")
    await chat.command("start")
    await chat.tap("Báo vụ việc")
    await chat.tap("Ma túy")
    await chat.tap("Quay lại")
    assert "thuộc loại nào" in chat.text
    await chat.tap("Cờ bạc")
    await chat.tap("Hôm nay")
    await chat.say("Bãi đất trống cạnh cầu")
    await chat.say("Nhóm người tụ tập đánh bài")
    await chat.tap("Không có ảnh")
    await chat.tap("Bình thường")
    assert "Cờ bạc" in chat.text
    await chat.tap("Sửa")
    await chat.tap("Loại vụ việc")
    await chat.tap("Ma túy")
    assert "Xin kiểm tra lại" in chat.text and "Ma túy" in chat.text  # straight back to summary
    await chat.tap("Gửi")
    async with sessions() as session:
        incident = await session.scalar(select(Incident))
    assert incident.category == "drugs" and incident.place_text == "Bãi đất trống cạnh cầu"
    await chat.tap("Báo vụ việc")
    await chat.tap("Hủy")
    assert "Đã hủy" in chat.text
    assert await count(sessions, Incident) == 1


async def test_restart_in_the_middle_continues(sessions, clock):
    await make_commune(sessions)
    first = Chat(make_router(sessions, clock), "member")
    await first.command("start")
    await first.tap("Báo vụ việc")
    await first.tap("Tai nạn")
    # A new router and engine: what a restarted process or a second worker has.
    second = Chat(make_router(sessions, clock), "member")
    replies = await second.say("vua xong")
    assert "Xảy ra ở đâu" in replies[-1].text


async def test_same_update_twice_makes_one_report(sessions, clock):
    await make_commune(sessions)
    chat = Chat(make_router(sessions, clock), "head")
    await chat.command("start")
    await chat.tap("bình yên")
    submit = chat.button("Gửi").data
    await chat.send(callback=submit, update_key="777")
    again = await chat.send(callback=submit, update_key="777")
    assert again, "a repeated delivery still gets an answer"
    assert await count(sessions, WeeklyReport) == 1


async def test_pause_keeps_the_draft_and_offers_to_continue(sessions, clock):
    await make_commune(sessions)
    chat = Chat(make_router(sessions, clock), "member")
    await chat.command("start")
    await chat.tap("Báo vụ việc")
    await chat.tap("Đối tượng khả nghi")
    clock.advance(hours=2)
    await chat.say("2 người lạ đi xe không biển số")
    assert "có muốn làm tiếp báo cáo đó không" in chat.text
    await chat.tap("Tiếp tục")
    # The text typed after the pause was kept and read as the answer it was meant to be.
    assert "Chưa hiểu thời gian" in chat.text
    await chat.tap("Vừa xong")
    assert "Xảy ra ở đâu" in chat.text


async def test_command_in_the_middle_keeps_the_draft(sessions, clock):
    await make_commune(sessions)
    chat = Chat(make_router(sessions, clock), "member")
    await chat.command("start")
    await chat.tap("Báo vụ việc")
    await chat.tap("Ma túy")
    await chat.command("menu")
    assert "có muốn làm tiếp báo cáo đó không" in chat.text
    await chat.tap("Tiếp tục")
    assert "Xảy ra lúc nào" in chat.text


async def test_ambiguous_word_without_diacritics_is_confirmed(sessions, clock):
    await make_commune(sessions)
    chat = Chat(make_router(sessions, clock), "member")
    await chat.command("start")
    await chat.tap("Báo vụ việc")
    await chat.say("chay")
    assert "Có phải ý chị Thu là: Cháy, nổ?" in chat.text
    await chat.tap("Đúng")
    assert "Xảy ra lúc nào" in chat.text and "114" in chat.text


async def test_numbers_and_labels_choose(sessions, clock):
    await make_commune(sessions)
    chat = Chat(make_router(sessions, clock), "member")
    await chat.command("start")
    await chat.say("1")  # menu: the first choice of a team member is the incident report
    assert "thuộc loại nào" in chat.text
    await chat.say("  MA TUY ")
    assert "Xảy ra lúc nào" in chat.text


async def test_unexpected_input_at_every_step_gets_a_hint(sessions, clock):
    await make_commune(sessions)
    chat = Chat(make_router(sessions, clock), "member")
    await chat.command("start")
    weird = [
        {},  # a sticker: nothing the bot reads
        {"text": "x" * 5000},
        {"text": "😀🙏"},
        {"text": "tro\u0302\u0300m ca\u0306\u0301p"},  # NFD
        {"media": MediaIn("photo", "p1", 1000)},
        {"text": "-7"},
        {"text": "²"},  # a digit to str.isdigit, not a number to int()
        {"text": "½"},
        {"location": (0.0, 0.0)},
        {"callback": "o:nowhere:x"},
        {"callback": "garbage"},
    ]
    unexpected = t("vi", "error.unexpected")
    path = ["Báo vụ việc", "Trộm cắp", "Vừa xong", "Tại Thôn", None, "Xong", "Bình thường"]
    for step in path:
        async with sessions() as session:
            before = (
                await session.scalar(select(Conversation).where(Conversation.chat_id == "member"))
            ).step
        for event in weird:
            replies = await chat.send(**event)
            assert replies and all(r.text for r in replies), f"silence at {before} for {event}"
            assert not any(unexpected in r.text for r in replies), f"error at {before}: {event}"
            async with sessions() as session:
                conv = await session.scalar(
                    select(Conversation).where(Conversation.chat_id == "member")
                )
            if conv.step != before:  # an input that was a valid answer: go back to the step
                await chat.tap("Quay lại")
        if step is None:
            await chat.say("Mất xe đạp")
        else:
            await chat.tap(step)
    await chat.tap("Gửi")
    assert await count(sessions, Incident) == 1


async def test_activity_with_figures_checks_them(sessions, clock):
    await make_commune(sessions)
    chat = Chat(make_router(sessions, clock), "member")
    await chat.command("start")
    await chat.tap("Báo hoạt động")
    await chat.tap("Hòa giải")
    await chat.say("18/11")
    await chat.say("5")
    await chat.say("7")
    assert "không thể lớn hơn" in chat.text
    await chat.say("4")
    await chat.tap("Bỏ qua")
    await chat.tap("Không có ảnh")
    assert "Số vụ hòa giải thành: 4" in chat.text
    await chat.tap("Gửi")
    async with sessions() as session:
        activity = await session.scalar(select(Activity))
    assert (activity.kind, activity.cases, activity.cases_successful) == ("mediation", 5, 4)
    assert str(activity.held_on) == "2026-11-18"


async def test_anonymous_tip_and_later_addition(sessions, clock):
    await make_commune(sessions)
    router = make_router(sessions, clock)
    tipster = Chat(router, "555123", user_id="555123")
    replies = await tipster.command("start")
    assert "giấu tên" in replies[0].text
    await tipster.tap("Gửi tin báo")
    await tipster.say("Có điểm bán ma túy ở bãi đất trống")
    await tipster.tap("Bỏ qua")
    await tipster.tap("Không có ảnh")
    await tipster.tap("Giữ bí mật")
    await tipster.tap("Gửi")
    async with sessions() as session:
        tip = await session.scalar(select(Tip))
        notices = (await session.scalars(select(OutboxMessage))).all()
    assert tip.case_code in tipster.text and tip.contact is None
    assert "555123" not in tip.reporter_key
    assert notices and all("555123" not in n.text for n in notices)
    await tipster.tap("Bổ sung")
    await tipster.tap(tip.case_code)
    await tipster.say("Thường bán vào buổi tối")
    await tipster.tap("Không có ảnh")
    await tipster.tap("Gửi")
    async with sessions() as session:
        more = await session.scalar(select(TipMessage))
    assert more.body == "Thường bán vào buổi tối" and more.from_tipster


async def test_officer_acknowledges_and_reporter_is_told(sessions, clock):
    await make_commune(sessions)
    router = make_router(sessions, clock)
    member = Chat(router, "member")
    await member.command("start")
    await member.report_incident("Đánh nhau", "Hai nhóm xô xát")
    async with sessions() as session:
        incident = await session.scalar(select(Incident))
    officer = Chat(router, "officer")
    await officer.send(callback=f"a:ack:i:{incident.id}")
    assert "đã được Trần Quốc Tuấn tiếp nhận" in officer.text
    async with sessions() as session:
        incident = await session.get(Incident, incident.id)
        told = await session.scalar(select(OutboxMessage).where(OutboxMessage.chat_id == "member"))
    assert incident.status == Status.ACKNOWLEDGED
    assert "đã tiếp nhận" in told.text


async def test_forged_callback_on_another_communes_case_is_refused(sessions, clock):
    await make_commune(sessions)
    await make_commune(sessions, name="Bình Minh", prefix="b-")
    router = make_router(sessions, clock)
    member_b = Chat(router, "b-member")
    await member_b.command("start")
    await member_b.report_incident("Ma túy", "Tụ tập sử dụng ma túy", "Nghiêm trọng")
    async with sessions() as session:
        incident = await session.scalar(select(Incident))
    officer_a = Chat(router, "officer")
    await officer_a.send(callback=f"a:ack:i:{incident.id}")
    assert "không có quyền" in officer_a.text
    head_b = Chat(router, "b-head")
    await head_b.send(callback=f"a:ack:i:{incident.id}")
    assert "không có quyền" in head_b.text
    async with sessions() as session:
        assert (await session.get(Incident, incident.id)).status == Status.NEW
        assert (
            await session.scalar(
                select(func.count())
                .select_from(StatusChange)
                .where(StatusChange.status == Status.ACKNOWLEDGED)
            )
            == 0
        )


async def test_resident_cannot_start_a_reporters_flow_by_forged_button(sessions, clock):
    await make_commune(sessions)
    chat = Chat(make_router(sessions, clock), "999")
    await chat.command("start")
    await chat.send(callback="m:incident")
    assert "không dành cho tài khoản" in chat.text
    assert "Báo vụ việc" not in [b.label for r in chat.last for b in r.flat_buttons()]


async def test_language_switch_to_english(sessions, clock):
    await make_commune(sessions)
    chat = Chat(make_router(sessions, clock), "head")
    await chat.command("start")
    await chat.tap("Ngôn ngữ")
    await chat.tap("English")
    assert "Language changed to English" in chat.text
    assert "A quiet week" in next(b.label for r in chat.last for b in r.flat_buttons())


async def test_officer_links_a_duty_group_and_others_cannot(sessions, clock):
    c = await make_commune(sessions)
    router = make_router(sessions, clock)
    group_as_officer = Chat(router, "-100777", user_id="officer", private=False)
    await group_as_officer.command("trucban")
    assert "nhóm trực của xã Tân Hòa" in group_as_officer.text
    group_as_head = Chat(router, "-100888", user_id="head", private=False)
    await group_as_head.command("trucban")
    assert "Chỉ cán bộ" in group_as_head.text
    await group_as_officer.say("chào cả nhóm")  # chatter in a group gets no answer
    assert group_as_officer.last == []
    async with sessions() as session:
        duty = (await session.scalars(select(DutyChat))).all()
    assert [(d.commune_id, d.chat_id) for d in duty] == [(c.id, "-100777")]


async def test_a_bug_in_a_step_is_answered_and_the_draft_kept(sessions, clock, monkeypatch):
    await make_commune(sessions)
    chat = Chat(make_router(sessions, clock), "member")
    await chat.command("start")
    await chat.tap("Báo vụ việc")
    await chat.tap("Ma túy")

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("conversations.engine.read_when", broken)
    await chat.say("18/11 19h30")
    assert "có lỗi" in chat.text
    monkeypatch.undo()
    await chat.say("18/11 19h30")
    assert "Xảy ra ở đâu" in chat.text


async def test_invites_are_single_use_expire_and_guessing_is_limited(sessions, clock):
    from storage import admin
    from storage.models import Person

    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        person = await session.get(Person, c.head)
        code = (await admin.issue_invite(session, person, 14)).code
        old = await admin.issue_invite(session, person, 1)
        old.expires_at = clock() - timedelta(minutes=1)
        old_code = old.code
    router = make_router(sessions, clock)
    first = Chat(router, "new-phone")
    await first.command("start", code)
    assert "Nguyễn Văn Hùng" in first.text
    other = Chat(router, "someone-else")
    await other.command("start", code)
    assert "đã được dùng" in other.text
    await other.command("start", old_code)
    assert "hết hạn" in other.text
    guesser = Chat(router, "guesser")
    for n in range(5):
        await guesser.say(f"ABCD-EFGH-{n:04d}")
        assert "không đúng" in guesser.text
    await guesser.command("start", code)  # even a real code is refused for the next hour
    assert "quá nhiều lần" in guesser.text
    clock.advance(hours=1, minutes=1)
    await guesser.command("start", "ZZZZ-ZZZZ-ZZZZ")
    assert "không đúng" in guesser.text


async def test_moving_the_duty_chat_tells_the_old_group_and_the_admins(sessions, clock):
    from storage import admin
    from storage.models import Commune, OutboxMessage
    from tests.helpers import link

    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        commune = await session.get(Commune, c.id)
        chief = await admin.add_person(
            session, commune=commune, full_name="Lê Minh Đức", role="admin"
        )
        await link(session, chief, "chief")
    router = make_router(sessions, clock)
    await Chat(router, "-100old", user_id="officer", private=False).command("trucban")
    await Chat(router, "-100new", user_id="officer", private=False).command("trucban")
    async with sessions() as session:
        sent = dict(
            (await session.execute(select(OutboxMessage.chat_id, OutboxMessage.text))).all()
        )
    assert "không gửi vào nhóm này nữa" in sent["-100old"]
    assert "Trần Quốc Tuấn vừa chuyển nhóm trực" in sent["chief"]


async def test_wrong_invite_codes_run_out_for_everyone_however_many_accounts_guess(sessions, clock):
    from storage import admin
    from storage.models import Person

    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        person = await session.get(Person, c.head)
        code = (await admin.issue_invite(session, person, 14)).code
    router = make_router(sessions, clock)
    for account in range(25):  # each account stays under its own limit of five
        guesser = Chat(router, f"guesser-{account}")
        for n in range(4):
            await guesser.say(f"ABCD-{account:04d}-{n:04d}")
    latecomer = Chat(router, "latecomer")
    await latecomer.command("start", code)
    assert "quá nhiều lần" in latecomer.text
    clock.advance(hours=1, minutes=1)
    await latecomer.command("start", code)
    assert "Nguyễn Văn Hùng" in latecomer.text
