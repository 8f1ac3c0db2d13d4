"""The desk in real Chromium (Debian's package, driven by Playwright): an officer signs in by
the link the bot sent over the loopback Telegram server, works an urgent incident to the
end, sees it on the map and downloads an XLSX; an admin deactivates a person. Screenshots
of each page go to tests/artifacts/ (gitignored)."""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import select

from bot.telegram import TelegramSender
from bot.web.app import Services, WebConfig, build_web_app
from scheduler.dispatcher import Dispatcher
from storage import access, admin, desk
from storage.models import Commune, Incident, Person
from tests import fake_telegram as tg
from tests.fake_telegram import FakeBotApi, free_port
from tests.helpers import SECRET, TIP_KEYS, make_commune, make_router
from tests.test_telegram import MEMBER, OFFICER, Harness, _invite_and_start

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() or shutil.which("chromium") is None,
    reason="no Chromium at /usr/bin/chromium (apt-get install -y chromium; .ci/run does)",
)


@pytest.fixture
async def stack(sessions, clock):
    """The bot on the loopback Telegram server, the outbox, and the web server."""
    playwright = pytest.importorskip("playwright.async_api", reason="pip install playwright")
    api = FakeBotApi()
    await api.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    harness = Harness(api, sessions, clock)
    await harness.start(router=make_router(sessions, clock, desk_url=url))
    outbox = Dispatcher(sessions, {"telegram": TelegramSender(harness.app.bot)}, clock=clock)

    async def deliver(channel, payload):
        raise LookupError("no webhook in this test")

    app = build_web_app(
        Services(
            WebConfig(SECRET, TIP_KEYS, public_url=url, tile_url=""),
            sessions,
            deliver,
            clock=clock,
        )
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    async with playwright.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield harness, outbox, browser, url
        await browser.close()
    server.should_exit = True
    await task
    await harness.stop()
    await api.stop()


async def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def test_an_officer_works_an_urgent_incident_in_chromium(stack, sessions):
    harness, outbox, browser, url = stack
    c = await make_commune(sessions, prefix="x-")
    async with sessions() as session, session.begin():
        commune = await session.get(Commune, c.id)
        chief = await admin.add_person(
            session, commune=commune, full_name="Trưởng Công an", role="admin"
        )
        for person_id in (c.member, c.officer, c.head):  # their chats are on the loopback
            await access.unlink_accounts(session=session, person_id=person_id)
    await _invite_and_start(harness, c.member, MEMBER)
    for label in ("Báo vụ việc", "Trộm cắp", "Vừa xong"):
        await harness.tap(MEMBER, label)
    await harness.send(tg.location(MEMBER, 10.9501, 106.8203), MEMBER)
    await harness.say(MEMBER, "Hai thanh niên giật túi xách rồi chạy về hướng chợ")
    for label in ("Không có ảnh", "Khẩn cấp", "Gửi"):
        await harness.tap(MEMBER, label)
    await _invite_and_start(harness, c.officer, OFFICER)
    await harness.say(OFFICER, "/web")
    link = re.search(r"http://127\.0\.0\.1:\d+/login/\S+", harness.text).group(0)

    page = await browser.new_page(viewport={"width": 1366, "height": 768})
    await page.goto(link)
    await shot(page, "signin")
    await page.click("#signin")
    await page.wait_for_url(f"{url}/cases")
    await page.select_option("select[name=urgency]", "urgent")
    await page.fill("input[name=q]", "túi xách")
    await page.click("#filters button.primary")
    await page.wait_for_url(re.compile(r".*urgency=urgent.*"))
    await shot(page, "cases")
    await page.click("text=VV-1")
    await page.wait_for_url(f"{url}/cases/i/1")
    await shot(page, "case-new")
    await page.click("#ack")
    await page.wait_for_url(re.compile(r".*done=ack"))
    await outbox.run_once()
    told = [m["text"] for m in harness.api.sent(MEMBER)]
    assert any("Công an xã đã tiếp nhận vụ việc VV-1" in m for m in told)
    await page.select_option("#assignee-choice", str(chief.id))
    await page.click("#assign")
    await page.wait_for_url(re.compile(r".*done=assign"))
    assert await page.inner_text("#assignee") == "Trưởng Công an"
    await page.select_option("#outcome", "unfounded")
    await page.click("#close")
    await page.wait_for_url(re.compile(r".*done=close"))
    assert await page.inner_text("#state") == "đã đóng"
    await shot(page, "case-closed")
    async with sessions() as session:
        incident = await session.get(Incident, 1)
    assert incident.status == "closed" and incident.outcome == "Không có căn cứ"

    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(f"{url}/map")
    await page.wait_for_selector("#map[data-points='1']")
    assert await page.locator(".leaflet-interactive").count() == 1
    assert errors == []
    await shot(page, "map")
    await page.goto(f"{url}/exports")
    async with page.expect_download() as download_info:
        await page.click("#xlsx")
    download = await download_info.value
    path = ARTIFACTS / download.suggested_filename
    await download.save_as(str(path))
    assert path.read_bytes()[:2] == b"PK"
    await page.goto(f"{url}/figures")
    await shot(page, "figures")
    # In Khmer the desk brings its own Khmer font: a station PC without one still reads it.
    await page.click("text=ភាសាខ្មែរ")
    await page.wait_for_load_state("load")
    await page.evaluate("document.fonts.ready")
    loaded = await page.evaluate(
        """() => [...document.fonts].some(
            f => f.family.includes("Binh Yen Khmer") && f.status === "loaded")"""
    )
    assert loaded, "the page in Khmer did not load the Khmer font"
    assert "ផ្ទាំងការងារ" in await page.title() or "ស្ថិតិ" in await page.inner_text("main")
    await shot(page, "figures-km")

    phone = await browser.new_page(viewport={"width": 390, "height": 844})
    async with sessions() as session, session.begin():
        chief_link = await desk.issue_link(
            session=session, person=await session.get(Person, chief.id), now=harness.clock.now
        )
    await phone.goto(f"{url}/login/{chief_link}")
    await phone.click("#signin")
    await phone.goto(f"{url}/people")
    await shot(phone, "people-phone")
    phone.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    row = phone.locator("tr", has_text="Lê Thị Thu")
    await row.locator("button.danger").click()
    await phone.wait_for_url(re.compile(r".*done=deactivated"))
    async with sessions() as session:
        member = await session.scalar(select(Person).where(Person.id == c.member))
    assert member.active is False
    await phone.goto(f"{url}/audit")
    await shot(phone, "audit-phone")
    assert "Ngừng hoạt động" in await phone.inner_text("main")
