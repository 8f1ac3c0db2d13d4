"""A revoked person can do nothing: the operator deactivates someone, unlinks an account,
revokes an invite or a duty chat, and each takes effect at once."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.cli import main
from storage import access, admin
from storage.models import Commune, DutyChat, Incident, Schedule
from storage.queries import load_person
from tests.helpers import Chat, link, make_commune, make_router


async def test_a_deactivated_officer_can_do_nothing(sessions, clock):
    c = await make_commune(sessions)
    router = make_router(sessions, clock)
    await Chat(router, "member").report_incident("Ma túy", "Có người lạ bán hàng", "Khẩn cấp")
    duty_group = Chat(router, "-100777", user_id="officer", private=False)
    await duty_group.command("trucban")
    async with sessions() as session, session.begin():
        revoked = await access.deactivate(session=session, person_id=c.officer)
    assert revoked is not None and revoked.accounts == 1

    officer = Chat(router, "officer")
    await officer.command("cases")
    assert "Vụ việc, tin báo đang mở" not in officer.text
    await officer.send(callback="a:ack:i:1")  # a button left in the chat
    assert "không có quyền" in officer.text
    await officer.send(callback="a:export:month:xlsx")
    assert not any(r.document for r in officer.last or [])
    # The duty chat cannot be pointed at another group by the revoked officer.
    await Chat(router, "-100999", user_id="officer", private=False).command("trucban")
    async with sessions() as session:
        duty = (await session.scalars(select(DutyChat))).all()
        incident = await session.get(Incident, 1)
    assert [d.chat_id for d in duty] == ["-100777"]
    assert incident is not None and incident.status == "new"


async def test_an_inactive_person_whose_account_is_still_linked_is_refused_everything(
    sessions, clock
):
    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        commune = await session.get(Commune, c.id)
        chief = await admin.add_person(
            session, commune=commune, full_name="Lê Minh Đức", role="admin"
        )
        await link(session, chief, "chief")
        (await load_person(session, chief.id)).active = False
        (await load_person(session, c.head)).active = False
    router = make_router(sessions, clock)
    chief_chat = Chat(router, "chief")
    await chief_chat.command("lich", "remind 0 8 * * 1")
    assert "đã bị thu hồi" in chief_chat.text
    head = Chat(router, "head")
    for step in ("start", "menu"):
        await head.command(step)
        assert "đã bị thu hồi" in head.text and not head.last[0].buttons
    await head.say("1")
    await head.say("Tuần này bình yên")
    assert "đã bị thu hồi" in head.text
    async with sessions() as session:
        cron = await session.scalar(select(Schedule.cron).where(Schedule.job == "remind"))
    assert cron in (None, "0 16 * * fri")
    # In a group, a revoked person's message is not even answered.
    assert await Chat(router, "-100555", user_id="head", private=False).command("cases") == []


def _run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_the_operator_revokes_people_invites_accounts_and_duty_chats(cli_db, capsys, monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "binhyen_tanhoa_bot")
    assert (
        _run(
            capsys,
            "commune",
            "add",
            "--province",
            "Đồng Nai",
            "--name",
            "Tân Hòa",
            "--hamlet",
            "Phú Mỹ",
        )[0]
        == 0
    )
    _run(capsys, "person", "add", "--commune", "Tân Hòa", "--role", "officer", "Trần Quốc Tuấn")
    _, listing = _run(capsys, "list")
    person_id = re.search(r"người \[(\d+)\] Trần Quốc Tuấn", listing).group(1)
    code, out = _run(capsys, "invite", "--person", person_id)
    assert code == 0
    typed = re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", out).group(0)
    code, out = _run(capsys, "invite", "revoke", "--code", typed.lower())
    assert code == 0 and "Đã thu hồi 1 mã mời chưa dùng" in out
    _run(capsys, "invite", "--person", person_id)
    code, out = _run(capsys, "person", "deactivate", person_id)
    assert (
        code == 0
        and "Đã ngừng hoạt động tài khoản của Trần Quốc Tuấn" in out
        and "thu hồi 1 mã mời" in out
    )
    code, out = _run(capsys, "duty", "list")
    assert code == 0 and "Chưa có nhóm trực ban nào được liên kết" in out
    code, out = _run(capsys, "duty", "unlink", "--commune", "Tân Hòa")
    assert code == 0 and "đã gỡ 0 nhóm trực ban" in out
    code, out = _run(capsys, "identity", "unlink", "--person", person_id)
    assert code == 0 and "Đã gỡ 0 tài khoản chat" in out
