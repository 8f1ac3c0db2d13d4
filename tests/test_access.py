"""The access matrix: every role against every action, by button data a client could forge."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage import admin
from storage.models import Commune, Conversation, Hamlet, Identity, Person
from tests.helpers import Chat, link, make_commune, make_router

REPORTERS = {"team_member", "team_lead", "hamlet_head"}
OFFICERS_A = {"officer", "admin"}
ACTIONS = {  # data -> the roles allowed
    "m:incident": REPORTERS,
    "m:activity": REPORTERS,
    "m:weekly_quiet": {"hamlet_head"},
    "m:weekly": {"hamlet_head"},
    "m:tip": {"resident", *REPORTERS},
    "m:language": {"resident", *REPORTERS, *OFFICERS_A, "officer_b"},
    "a:cases:0": OFFICERS_A | {"officer_b"},  # each officer sees their own commune's queue
    "a:view:i:1": OFFICERS_A,
    "a:ack:i:1": OFFICERS_A,
    "a:st:i:1:in_progress": OFFICERS_A,
    "a:asg:i:1": OFFICERS_A,
    "a:note:i:1": OFFICERS_A,
    "a:close:i:1": OFFICERS_A,
    "a:view:t:1": OFFICERS_A,
    "a:ask:t:1": OFFICERS_A,
    "a:close:t:1": OFFICERS_A,
    "a:stats:week": OFFICERS_A | {"officer_b"},
    "a:crit": OFFICERS_A | {"officer_b"},
    "a:export:month": OFFICERS_A | {"officer_b"},
    "a:desk": OFFICERS_A | {"officer_b"},  # a sign-in link to the web desk
    "a:reply:t:1": {"resident"},  # only the tipster who sent tip 1
}
ROLES = ("resident", "team_member", "team_lead", "hamlet_head", "officer", "admin", "officer_b")
REFUSALS = ("không dành cho tài khoản", "không có quyền", "chưa có tin báo nào")


@pytest.fixture
async def world(sessions, clock):
    c = await make_commune(sessions)
    await make_commune(sessions, name="Bình Minh", prefix="b-")
    async with sessions() as session, session.begin():
        commune = await session.get(Commune, c.id)
        hamlet = await session.get(Hamlet, c.hamlet_id)
        lead = await admin.add_person(
            session, commune=commune, full_name="Tổ trưởng", role="team_lead", hamlet=hamlet
        )
        chief = await admin.add_person(
            session, commune=commune, full_name="Trưởng Công an", role="admin"
        )
        await link(session, lead, "team_lead")
        await link(session, chief, "admin")
    router = make_router(sessions, clock)
    member = Chat(router, "member")
    await member.command("start")
    await member.report_incident("Trộm cắp", "Mất trộm")
    resident = Chat(router, "resident")
    await resident.command("start")
    await resident.tap("Gửi tin báo")
    await resident.tap("Tân Hòa")
    await resident.say("Tin báo")
    await resident.tap("Bỏ qua")
    await resident.tap("Không có ảnh")
    await resident.tap("Giữ bí mật")
    await resident.tap("Gửi")
    return router


CHATS = {
    "resident": "resident",
    "team_member": "member",
    "team_lead": "team_lead",
    "hamlet_head": "head",
    "officer": "officer",
    "admin": "admin",
    "officer_b": "b-officer",
}


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_can_do_exactly_what_it_may(world, sessions, role):
    chat = Chat(world, CHATS[role])
    await chat.command("start")
    for data, allowed in ACTIONS.items():
        replies = await chat.send(callback=data)
        text = "\n".join(r.text for r in replies)
        refused = any(word in text for word in REFUSALS)
        assert refused is (role not in allowed), f"{role} {data}: {text[:120]}"
        if data == "a:cases:0" and role == "officer_b":
            assert "Không có vụ việc" in text  # their own, empty queue: nothing of commune A
        await chat.send(callback="n:cancel")  # leave any flow the action started
    async with sessions() as session:
        conv = await session.scalar(select(Conversation).where(Conversation.chat_id == CHATS[role]))
    assert conv.flow is None


# The web desk, by the same rules: (method, path) -> the roles that get the page.
WEB_ROUTES = {
    ("GET", "/cases"): OFFICERS_A | {"officer_b"},
    ("GET", "/cases/i/1"): OFFICERS_A,
    ("GET", "/cases/t/1"): OFFICERS_A,
    ("POST", "/cases/i/1/note"): OFFICERS_A,
    ("POST", "/cases/t/1/ask"): OFFICERS_A,
    ("GET", "/map"): OFFICERS_A | {"officer_b"},
    ("GET", "/figures"): OFFICERS_A | {"officer_b"},
    ("GET", "/export/xlsx"): OFFICERS_A | {"officer_b"},
    ("GET", "/people"): {"admin"},
    ("GET", "/schedules"): {"admin"},
    ("GET", "/audit"): {"admin"},
}


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_gets_exactly_the_desk_pages_it_may(world, sessions, clock, role):
    from storage import desk as desk_service
    from tests.test_web import Desk, csrf_of

    web = Desk(sessions, clock, world)
    client = web.client()
    async with sessions() as session, session.begin():
        person = await session.scalar(
            select(Person).join(Identity).where(Identity.chat_id == CHATS[role])
        )
        token = await desk_service.issue_link(session=session, person=person, now=clock())
    if token is None:  # no desk for those who do not handle cases
        assert not OFFICERS_A & {role} and role != "officer_b"
        return
    assert (await client.post(f"/login/{token}")).status_code == 303
    csrf = await csrf_of(client, "/cases")
    for (method, path), allowed in WEB_ROUTES.items():
        if method == "GET":
            answer = await client.get(path)
        else:
            answer = await client.post(path, data={"csrf": csrf, "note": "x", "question": "x"})
        ok = answer.status_code in (200, 303)
        assert ok is (role in allowed), f"{role} {method} {path}: {answer.status_code}"
