"""The web server: webhooks, health, metrics, signing in, and the desk's pages and actions,
through Starlette's TestClient on the test database."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from bot.web.app import Services, WebConfig, build_web_app
from bot.web.auth import sign_init_data
from handlers.router import Router
from storage import admin, reports
from storage.models import (
    Attachment,
    AuditEntry,
    Commune,
    Incident,
    OutboxMessage,
    Person,
    Tip,
)
from tests import fake_telegram as tg
from tests.helpers import SECRET, TIP_KEYS, Chat, link, make_commune, make_router

BOT_TOKEN = "123:abc"


class Desk:
    """The web app on the test database, with what the webhooks delivered."""

    def __init__(self, sessions: Any, clock: Any, router: Router) -> None:
        self.delivered: list[tuple[str, dict[str, Any]]] = []
        self.woken = 0

        async def deliver(channel: str, payload: dict[str, Any]) -> None:
            self.delivered.append((channel, payload))

        def wake() -> None:
            self.woken += 1

        self.app = build_web_app(
            Services(
                config=WebConfig(
                    secret=SECRET,
                    tip_keys=TIP_KEYS,
                    telegram_secret="tg-Secret",
                    zalo_secret="zalo-secret-1",
                    bot_token=BOT_TOKEN,
                ),
                sessions=sessions,
                deliver=deliver,
                clock=clock,
                on_queued=wake,
                leading=lambda: True,
            )
        )
        self.router = router

    def client(self) -> httpx.AsyncClient:
        """In the test's own event loop (asyncpg's connections belong to it)."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(self.app), base_url="http://127.0.0.1:8080"
        )


@pytest.fixture
async def world(sessions, clock):
    c = await make_commune(sessions)
    await make_commune(sessions, name="Bình Minh", prefix="b-")
    async with sessions() as session, session.begin():
        commune = await session.get(Commune, c.id)
        chief = await admin.add_person(
            session, commune=commune, full_name="Trưởng Công an", role="admin"
        )
        await link(session, chief, "admin")
    router = make_router(sessions, clock, desk_url="http://127.0.0.1:8080")
    member = Chat(router, "member")
    await member.report_incident("Trộm cắp", "Mất trộm xe máy", severity="Khẩn")
    return Desk(sessions, clock, router), c


async def link_for(router: Router, chat_id: str) -> str:
    chat = Chat(router, chat_id)
    await chat.command("web")
    found = re.search(r"http://127\.0\.0\.1:8080(/login/\S+)", chat.text)
    assert found, chat.text
    return found.group(1)


async def signed_in(desk: Desk, chat_id: str) -> httpx.AsyncClient:
    client = desk.client()
    path = await link_for(desk.router, chat_id)
    assert (
        await client.get(path)
    ).status_code == 200  # a page with a button: a preview uses nothing
    answer = await client.post(path)
    assert answer.status_code == 303 and answer.headers["location"] == "/cases"
    return client


async def csrf_of(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)


async def test_webhooks_check_the_secret_before_the_body_and_cap_it(world):
    desk, _ = world
    client = desk.client()
    body = {"update_id": 5, **tg.text(1001, "/start")}
    wrong = await client.post(
        "/telegram", json=body, headers={"X-Telegram-Bot-Api-Secret-Token": "x"}
    )
    none = await client.post("/telegram", json=body)
    good = await client.post(
        "/telegram", json=body, headers={"X-Telegram-Bot-Api-Secret-Token": "tg-Secret"}
    )
    big = await client.post(
        "/zalo",
        content=b"{" + b" " * (1024 * 1024 + 10) + b"}",
        headers={"X-Bot-Api-Secret-Token": "zalo-secret-1"},
    )
    zalo = await client.post(
        "/zalo", json={"a": 1}, headers={"X-Bot-Api-Secret-Token": "zalo-secret-1"}
    )
    assert (wrong.status_code, none.status_code, good.status_code) == (403, 403, 200)
    assert (big.status_code, zalo.status_code) == (413, 200)
    assert desk.delivered == [("telegram", body), ("zalo", {"a": 1})]


async def test_healthz_and_metrics_answer(world):
    desk, _ = world
    client = desk.client()
    health = (await client.get("/healthz")).json()
    assert health["database"] == "ok" and health["scheduler_leader"] is True
    assert health["outbox"]["pending"] >= 1  # the urgent alert to the officers
    text = (await client.get("/metrics")).text
    assert 'binhyen_outbox_messages{status="pending"}' in text
    age = re.search(r"^binhyen_oldest_unacknowledged_urgent_seconds (\S+)$", text, re.M)
    assert age and float(age.group(1)) >= 0
    assert "binhyen_step_seconds_bucket" in text


async def test_a_link_signs_in_once_within_ten_minutes(world, clock):
    desk, _ = world
    path = await link_for(desk.router, "officer")
    client = desk.client()
    assert (await client.post(path)).status_code == 303
    again = await desk.client().post(path)
    assert again.status_code == 403 and "đã được dùng hoặc đã hết hạn" in again.text
    late = await link_for(desk.router, "officer")
    clock.advance(minutes=11)
    assert (await desk.client().post(late)).status_code == 403
    assert (await desk.client().get("/cases")).headers["location"] == "/signin"


async def test_only_officers_and_admins_get_a_link_and_only_privately(world):
    desk, _ = world
    head = Chat(desk.router, "head")
    await head.command("web")
    assert "chỉ dành cho cán bộ" in head.text and "/login/" not in head.text
    group = Chat(desk.router, "duty-group", user_id="officer", private=False)
    await group.command("web")
    assert "/login/" not in group.text


async def test_the_case_list_filters_and_shows_only_the_own_commune(world, sessions):
    desk, _ = world
    client = await signed_in(desk, "officer")
    page = await client.get("/cases")
    assert "VV-1" in page.text and "Vụ việc, tin báo" in page.text
    assert "VV-1" not in (await client.get("/cases?category=fire")).text
    assert "VV-1" in (await client.get("/cases?q=xe+m%C3%A1y&urgency=urgent")).text
    other = await signed_in(desk, "b-officer")
    assert "VV-1" not in (await other.get("/cases")).text
    assert (await other.get("/cases/i/1")).status_code == 404
    assert "Khẩn" not in (await other.get("/cases/i/1")).text


async def test_acknowledge_assign_close_from_the_desk_tell_the_reporter_as_the_chat_does(
    world, sessions
):
    desk, _ = world
    client = await signed_in(desk, "officer")
    token = await csrf_of(client, "/cases/i/1")
    assert (await client.post("/cases/i/1/ack", data={"csrf": token})).status_code == 303
    assert (
        (await client.post("/cases/i/1/ack", data={"csrf": token}))
        .headers["location"]
        .endswith("done=already")
    )
    async with sessions() as session:
        chief = await session.scalar(select(Person).where(Person.full_name == "Trưởng Công an"))
    (await client.post("/cases/i/1/assign", data={"csrf": token, "assignee": str(chief.id)}))
    (await client.post("/cases/i/1/note", data={"csrf": token, "note": "Đã đến hiện trường"}))
    (await client.post("/cases/i/1/close", data={"csrf": token, "outcome": "mediated"}))
    page = (await client.get("/cases/i/1")).text
    assert "Hòa giải thành" in page and "Đã đến hiện trường" in page and "đã đóng" in page
    async with sessions() as session:
        incident = await session.get(Incident, 1)
        to_member = (
            await session.scalars(
                select(OutboxMessage.text).where(OutboxMessage.chat_id == "member")
            )
        ).all()
        to_chief = (
            await session.scalars(
                select(OutboxMessage.text).where(OutboxMessage.chat_id == "admin")
            )
        ).all()
        logged = (await session.scalars(select(AuditEntry.action))).all()
    assert incident.status == "closed" and incident.assignee_id == chief.id
    assert any("đã tiếp nhận vụ việc VV-1" in m for m in to_member)
    assert any("đã xử lý xong vụ việc VV-1" in m for m in to_member)
    assert any("giao cho" in m and "xử lý VV-1" in m for m in to_chief)
    assert {"ack", "assign", "note", "close"} <= set(logged)
    assert desk.woken >= 3
    chat = Chat(desk.router, "officer")
    await chat.send(callback="a:view:i:1")
    assert "đã đóng" in chat.text  # the chat sees the same state


async def test_every_change_needs_the_csrf_token(world, sessions):
    desk, _ = world
    client = await signed_in(desk, "officer")
    assert (await client.post("/cases/i/1/ack")).status_code == 403
    assert (await client.post("/cases/i/1/ack", data={"csrf": "0" * 64})).status_code == 403
    async with sessions() as session:
        assert (await session.get(Incident, 1)).status == "new"


async def test_officers_are_refused_admin_pages_and_admins_deactivate(world, sessions):
    desk, c = world
    officer = await signed_in(desk, "officer")
    for path in ("/people", "/schedules", "/audit"):
        assert (await officer.get(path)).status_code == 403, path
    chief = await signed_in(desk, "admin")
    for path in ("/people", "/schedules", "/audit", "/map", "/figures", "/exports"):
        assert (await chief.get(path)).status_code == 200, path
    token = await csrf_of(chief, "/people")
    other = await signed_in(desk, "b-officer")
    async with sessions() as session:
        b_officer = await session.scalar(select(Person).where(Person.commune_id != c.id))
    refused = await chief.post(f"/people/{b_officer.id}/deactivate", data={"csrf": token})
    assert refused.status_code == 404
    done = await chief.post(f"/people/{c.officer}/deactivate", data={"csrf": token})
    assert done.status_code == 303
    assert (await officer.get("/cases")).headers[
        "location"
    ] == "/signin"  # its session ended at once
    assert (await other.get("/cases")).status_code == 200


async def test_a_schedule_is_set_in_days_and_hours(world):
    desk, _ = world
    chief = await signed_in(desk, "admin")
    token = await csrf_of(chief, "/schedules")
    page = await chief.post(
        "/schedules", data={"csrf": token, "job": "remind", "when": "thu6 15:30"}
    )
    assert "Thứ Sáu 15:30" in page.text


async def test_a_session_ends_after_the_idle_time_and_on_sign_out(world, clock):
    desk, _ = world
    client = await signed_in(desk, "officer")
    clock.advance(minutes=29)
    assert (await client.get("/cases")).status_code == 200
    clock.advance(minutes=31)
    assert (await client.get("/cases")).status_code == 303
    client = await signed_in(desk, "officer")
    token = await csrf_of(client, "/cases")
    cookie = client.cookies.get("binhyen_desk")
    assert (await client.post("/signout", data={"csrf": token})).status_code == 303
    stale = desk.client()
    stale.cookies.set("binhyen_desk", cookie)
    assert (await stale.get("/cases")).status_code == 303


async def test_mini_app_init_data_must_carry_telegram_s_signature(world, clock):
    desk, _ = world
    fields = {
        "auth_date": str(int(clock.now.timestamp())),
        "user": json.dumps({"id": "officer"}),
        "query_id": "q1",
    }
    client = desk.client()
    forged = sign_init_data(fields, "999:wrong")
    assert (await client.post("/miniapp/auth", data={"init_data": forged})).status_code == 403
    tampered = sign_init_data(fields, BOT_TOKEN).replace("q1", "q2")
    assert (await client.post("/miniapp/auth", data={"init_data": tampered})).status_code == 403
    good = await client.post("/miniapp/auth", data={"init_data": sign_init_data(fields, BOT_TOKEN)})
    assert good.status_code == 200 and good.json()["ok"]
    assert (await client.get("/cases")).status_code == 200


async def test_geojson_has_incidents_with_coordinates_and_never_a_tip(world, sessions, clock):
    desk, c = world
    async with sessions() as session, session.begin():
        incident = await session.get(Incident, 1)
        incident.latitude, incident.longitude = 10.95, 106.82
        session.add(
            Tip(
                commune_id=c.id,
                description="x",
                latitude=10.9,
                longitude=106.8,
                case_code="TB-AAAA11",
                reporter_key="k",
                received_at=clock.now,
            )
        )
    client = await signed_in(desk, "officer")
    data = (await client.get("/export/geojson?period=month")).json()
    assert [f["properties"]["code"] for f in data["features"]] == ["VV-1"]
    assert data["features"][0]["geometry"]["coordinates"] == [106.82, 10.95]
    xlsx = await client.get("/export/xlsx?period=month")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert "attachment" in xlsx.headers["content-disposition"]
    async with sessions() as session:
        exports = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "export")
        )
    assert exports == 2


async def test_pages_carry_the_security_headers(world):
    desk, _ = world
    answer = await desk.client().get("/signin")
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'self' https://web.telegram.org" in csp
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"
    assert "<script>" not in answer.text


def test_every_key_a_template_names_is_in_every_catalogue():
    from pathlib import Path

    from locales import available_languages, catalogue

    folder = Path(__file__).resolve().parent.parent / "bot" / "web" / "templates"
    named = set()
    for template in folder.glob("*.html"):
        named |= set(re.findall(r"""t\(["']([a-z_]+\.[a-z0-9_.]+)["']""", template.read_text()))
    verbs = (
        "ack",
        "already",
        "status",
        "assign",
        "note",
        "close",
        "ask",
        "deactivated",
        "imported",
    )
    named = {k for k in named if not k.endswith((".", "_"))}  # families, listed below
    named |= {f"web.done_{v}" for v in verbs}
    named |= {f"web.period_{k}" for k in ("week", "month", "quarter", "year")}
    actions = ("sign_in", "view_tip", "export", "deactivate", "schedule", "roster", "invites")
    actions += (*verbs[:1], *verbs[2:7])
    named |= {f"web.audit_{a}" for a in actions}
    assert len(named) > 80
    for lang in available_languages():
        have = set(catalogue(lang))
        missing = sorted(k for k in named if k not in have)
        assert not missing, f"{lang} lacks {missing}"


async def test_the_officer_menu_has_a_button_for_the_desk(world):
    desk, _ = world
    chat = Chat(desk.router, "officer")
    await chat.command("menu")
    await chat.tap("Bàn làm việc")
    assert "/login/" in chat.text and "10 phút" in chat.text


async def test_a_roster_with_a_bad_row_imports_nobody_and_a_good_one_everyone(world, sessions):
    desk, _ = world
    chief = await signed_in(desk, "admin")
    token = await csrf_of(chief, "/people")
    bad = "full_name,role,hamlet\nPhạm Văn An,tổ viên,Phú Mỹ\nLê Văn Bình,phó thủ tướng,Phú Mỹ\n"
    refused = await chief.post(
        "/people/roster",
        data={"csrf": token},
        files={"roster": ("roster.csv", bad.encode(), "text/csv")},
    )
    assert refused.status_code == 400 and "Chưa nhập ai" in refused.text
    assert "Dòng 3" in refused.text
    async with sessions() as session:
        before = await session.scalar(select(func.count()).select_from(Person))
    good = "full_name,role,hamlet\nPhạm Văn An,tổ viên,Phú Mỹ\n"
    done = await chief.post(
        "/people/roster",
        data={"csrf": token},
        files={"roster": ("roster.csv", good.encode(), "text/csv")},
    )
    assert done.status_code == 303
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == before + 1
    page = await chief.get("/people")
    assert "Phạm Văn An" in page.text


async def test_the_language_switch_shows_the_desk_in_english(world):
    desk, _ = world
    client = await signed_in(desk, "officer")
    assert "Vụ việc, tin báo" in (await client.get("/cases")).text
    switched = await client.get("/lang?to=en&next=/cases")
    assert switched.headers["location"] == "/cases"
    page = (await client.get("/cases")).text
    assert "Cases and tips" in page and 'lang="en"' in page
    assert (await client.get("/lang?to=en&next=//evil.example")).headers["location"] == "/cases"


async def test_figures_show_each_hamlet_s_weekly_reports_week_by_week(world, sessions, clock):
    desk, c = world
    client = await signed_in(desk, "officer")
    page = (await client.get("/figures?period=month")).text
    assert "Báo cáo tuần theo thôn" in page and "<th>09/11</th>" in page
    assert "<th>23/11</th>" not in page  # a week still to come has no column
    row = re.search(r"<tr><td>Thôn Phú Mỹ</td>(.*?)</tr>", page).group(1)
    # 02/11 and 09/11 are past their Sunday deadline with no report; 16/11 is not due yet.
    assert row.count('class="mark-no"') == 2 and row.count('class="mark-due"') == 1
    async with sessions() as session, session.begin():
        await reports.save_weekly_report(
            session,
            hamlet_id=c.hamlet_id,
            commune_id=c.id,
            monday=date(2026, 11, 16),
            reporter_id=c.head,
            figures={"quiet": True},
            tz=ZoneInfo("Asia/Ho_Chi_Minh"),
            now=clock.now,
        )
    page = (await client.get("/figures?period=month")).text
    row = re.search(r"<tr><td>Thôn Phú Mỹ</td>(.*?)</tr>", page).group(1)
    assert row.count('class="mark-ok"') == 1  # this week's report is in before its deadline
    assert "<img" in page and (await client.get("/figures/chart.png")).content[:4] == b"\x89PNG"


async def test_an_admin_prints_invites_for_those_not_linked(world, sessions):
    desk, c = world
    async with sessions() as session, session.begin():
        commune = await session.get(Commune, c.id)
        await admin.add_person(session, commune=commune, full_name="Võ Văn Mới", role="officer")
    chief = await signed_in(desk, "admin")
    token = await csrf_of(chief, "/people")
    sheet = (await chief.post("/people/invites", data={"csrf": token})).text
    assert "Võ Văn Mới" in sheet and "https://t.me/" in sheet and "data:image/svg+xml" in sheet
    assert "Nguyễn Văn Hùng" not in sheet  # linked already
    officer = await signed_in(desk, "officer")
    own = await csrf_of(officer, "/cases")
    refused = await officer.post("/people/invites", data={"csrf": own})
    assert refused.status_code == 403 and "chỉ dành cho quản trị" in refused.text


async def test_a_photo_sent_from_the_console_is_named_not_shown_as_a_broken_image(world, sessions):
    desk, _ = world
    async with sessions() as session, session.begin():
        where = (Attachment.record_kind == "incident", Attachment.record_id == 1)
        n = await session.scalar(select(func.count()).select_from(Attachment).where(*where))
        session.add(
            Attachment(
                record_kind="incident",
                record_id=1,
                channel="console",
                file_id="photo-console-1",
                media_type="photo",
            )
        )
    client = await signed_in(desk, "officer")
    page = (await client.get("/cases/i/1")).text
    assert "không có tệp để xem" in page and f"/cases/i/1/media/{n}" not in page
    assert (await client.get(f"/cases/i/1/media/{n}")).status_code == 404


async def test_a_tip_s_history_and_messages_read_in_one_list_oldest_first(world, sessions, clock):
    desk, c = world
    from datetime import timedelta

    from storage.models import StatusChange, TipMessage

    async with sessions() as session, session.begin():
        tip = Tip(
            commune_id=c.id,
            description="Có người lạ",
            case_code="TB-BBBB22",
            reporter_key="k2",
            received_at=clock.now,
        )
        session.add(tip)
        await session.flush()
        later = clock.now + timedelta(hours=1)
        session.add_all(
            [
                StatusChange(
                    record_kind="tip", record_id=tip.id, status="new", created_at=clock.now
                ),
                TipMessage(
                    tip_id=tip.id,
                    from_tipster=True,
                    body="Bổ sung: xe màu đỏ",
                    created_at=clock.now,
                ),
                StatusChange(
                    record_kind="tip", record_id=tip.id, status="in_progress", created_at=later
                ),
            ]
        )
    client = await signed_in(desk, "officer")
    page = (await client.get(f"/cases/t/{tip.id}")).text
    history = page[page.index('class="history"') :]
    assert history.index("mới") < history.index("xe màu đỏ") < history.index("đang xử lý")


async def test_the_desk_has_an_icon_for_the_browser_tab(world):
    desk, _ = world
    client = desk.client()
    page = (await client.get("/signin")).text
    assert '<link rel="icon" href="/static/favicon.svg"' in page
    probe = await client.get("/favicon.ico", follow_redirects=True)
    assert probe.status_code == 200 and b"<svg" in probe.content


async def test_before_a_month_s_first_monday_the_weekly_table_still_lists_the_hamlets(world, clock):
    desk, _ = world
    clock.advance(days=12)  # Tuesday 1 December: the month's first Monday is the 7th
    client = await signed_in(desk, "officer")
    page = (await client.get("/figures?period=month")).text
    assert "12/2026" in page and "<tr><td>Thôn Phú Mỹ</td></tr>" in page


@pytest.mark.parametrize("channel", ["zalo", "console"])
async def test_an_officer_gets_a_sign_in_link_on_zalo_and_in_the_console(world, sessions, channel):
    desk, c = world
    async with sessions() as session, session.begin():
        officer = await session.get(Person, c.officer)
        await link(session, officer, f"{channel}-officer", channel=channel)
    chat = Chat(desk.router, f"{channel}-officer", channel=channel)
    await chat.command("web")
    path = re.search(r"http://127\.0\.0\.1:8080(/login/\S+)", chat.text).group(1)
    client = desk.client()
    page = await client.get(path)
    assert page.status_code == 200 and 'id="signin"' in page.text
