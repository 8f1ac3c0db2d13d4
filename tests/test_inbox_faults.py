"""Nothing received is lost: real `binhyen run` processes killed with SIGKILL during a backlog,
with Telegram and Zalo long polling, and two processes sharing one bot token.
Run alone with `pytest -m fault`."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from storage import inbox
from tests import fake_telegram as tg
from tests import fake_zalo as zl
from tests.fake_telegram import FakeBotApi
from tests.fake_zalo import FakeZaloApi
from tests.helpers import make_commune
from tests.test_faults import Bot

pytestmark = pytest.mark.fault
BACKLOG = 40
PG = bool(os.environ.get("TEST_DATABASE_URL"))


def _bot(db_url: str, api: FakeBotApi, data: Path, name: str = "bot") -> Bot:
    data.mkdir(exist_ok=True)
    bot = Bot(db_url, api, data)
    bot.env["INBOX_LEASE_SECONDS"] = "2"  # a dead worker's rows are free again soon
    bot.log = data / f"{name}.log"
    return bot


def _zalo_bot(db_url: str, api: FakeZaloApi, data: Path) -> Bot:
    bot = Bot(db_url, FakeBotApi(), data)
    bot.env.update(
        {
            "TELEGRAM_BOT_TOKEN": "",
            "ZALO_BOT_TOKEN": zl.TOKEN,
            "ZALO_API_BASE_URL": api.base_url,
            "ZALO_WEBHOOK_URL": "",
            "INBOX_LEASE_SECONDS": "2",
        }
    )
    return bot


async def _until(condition, seconds: float = 60.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def _left_in_inbox(sessions) -> int:
    async with sessions() as session:
        return await inbox.waiting(session=session)


async def _inbox_emptied(sessions, seconds: float = 20.0) -> None:
    """Each row goes once its update is answered: soon after the last answer."""
    for _ in range(int(seconds / 0.1)):
        if await _left_in_inbox(sessions) == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{await _left_in_inbox(sessions)} updates left in the inbox")


@pytest.fixture
async def telegram_api():
    api = FakeBotApi()
    await api.start()
    yield api
    await api.stop()


async def test_killed_during_a_backlog_with_telegram_polling_every_message_is_answered(
    sessions, db_url, tmp_path, telegram_api
):
    api = telegram_api
    await make_commune(sessions)
    # Replies take a while, so that the kill falls with most of the backlog fetched and
    # confirmed to Telegram by the old updater's rules, but not yet answered.
    api.fail = lambda method, params: {"slow": 0.3} if method == "sendMessage" else None
    bot = _bot(db_url, api, tmp_path)
    await bot.start()
    users = [60_000 + i for i in range(BACKLOG)]
    try:
        await _until(lambda: any(m == "getUpdates" for m, _ in api.calls))
        for uid in users[: BACKLOG // 2]:
            api.push(tg.text(uid, "/start"))
            await asyncio.sleep(0.02)
        await _until(lambda: len(api.sent()) >= 3)
        for uid in users[BACKLOG // 2 :]:  # the backlog goes on arriving
            api.push(tg.text(uid, "/start"))
            await asyncio.sleep(0.02)
        await bot.kill()
        answered_before = {u for u in users if api.sent(u)}
        assert len(answered_before) < BACKLOG, "the kill came too late to prove anything"
        await bot.start()
        await _until(lambda: all(api.sent(u) for u in users))
        await _inbox_emptied(sessions)  # nothing of the updates is kept
    finally:
        await bot.stop()
    for uid in users:
        assert any("Bình Yên" in m["text"] or "báo" in m["text"] for m in api.sent(uid)), uid


async def test_killed_during_a_backlog_with_zalo_polling_every_message_is_answered(
    sessions, db_url, tmp_path
):
    api = FakeZaloApi()
    await api.start()
    await make_commune(sessions, prefix="x-")
    # Replies are slow until the kill, far slower than the kill takes, so that the kill falls
    # with answers still to come however loaded the machine; after it they are quick.
    api.fail = lambda method, payload: {"slow": 2.0} if method == "sendMessage" else None
    bot = _zalo_bot(db_url, api, tmp_path)
    users = [f"zu-{i}" for i in range(BACKLOG)]
    half = BACKLOG // 2
    for user in users[:half]:  # waiting at Zalo before the bot starts
        api.push(zl.text(user, "/start"))

    def polls() -> int:
        return sum(1 for m, _ in api.calls if m == "getUpdates")

    await bot.start()
    try:
        # Zalo gives each update once: the kill comes when all of the first half has been
        # fetched and the poller has asked again, which it does only once the last is stored.
        # (An update on its way at the very moment of a crash is lost to any client.)
        await _until(lambda: not api.updates)
        fetched = polls()
        await _until(lambda: polls() > fetched)
        await bot.kill()
        api.fail = None
        answered_before = {u for u in users if api.sent(u)}
        assert len(answered_before) < half, "the kill came too late to prove anything"
        await asyncio.sleep(1)  # the dead poller's last request ends, empty, at the server
        for user in users[half:]:
            api.push(zl.text(user, "/start"))
        await bot.start()
        await _until(lambda: all(api.sent(u) for u in users))
        await _inbox_emptied(sessions)  # nothing of the updates is kept
    finally:
        await bot.stop()
        await api.stop()


async def test_killed_during_a_backlog_with_the_telegram_webhook_every_message_is_answered(
    sessions, db_url, tmp_path, telegram_api
):
    """Telegram delivers a webhook's update again until it gets a 200: the web server answers
    only once the update is committed, so every update it confirmed is answered after a kill,
    and the others are delivered again to the new process."""
    import httpx

    api = telegram_api
    await make_commune(sessions)
    api.fail = lambda method, params: {"slow": 2.0} if method == "sendMessage" else None
    port = tg.free_port()
    bot = _bot(db_url, api, tmp_path)
    bot.env.update(
        {
            "TELEGRAM_WEBHOOK_URL": "https://binhyen.example/telegram",
            "TELEGRAM_WEBHOOK_SECRET": "hook-secret-1",
            "WEB_PORT": str(port),
            "WEB_LISTEN": "127.0.0.1",
        }
    )
    users = [61_000 + i for i in range(BACKLOG)]
    updates = {uid: {**tg.text(uid, "/start"), "update_id": 900_000 + uid} for uid in users}
    confirmed: set[int] = set()
    url = f"http://127.0.0.1:{port}/telegram"
    headers = {"X-Telegram-Bot-Api-Secret-Token": "hook-secret-1"}

    async def telegram_delivers(client: httpx.AsyncClient, uid: int) -> None:
        while True:  # as Telegram does: again after any answer but a 2xx, or none
            try:
                answer = await client.post(url, json=updates[uid], headers=headers)
                if answer.status_code == 200:
                    confirmed.add(uid)
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)

    await bot.start()
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            await _until(lambda: any(m == "setWebhook" for m, _ in api.calls))
            deliveries = []
            for uid in users:  # the backlog: each update on its way, none waiting for another
                deliveries.append(asyncio.create_task(telegram_delivers(client, uid)))
                await asyncio.sleep(0.01)
            await _until(lambda: len(confirmed) >= BACKLOG // 2)
            await bot.kill()
            api.fail = None
            confirmed_at_kill = set(confirmed)
            answered_at_kill = {u for u in users if api.sent(u)}
            await bot.start()
            await asyncio.wait_for(asyncio.gather(*deliveries), 60)
        assert confirmed_at_kill - answered_at_kill, "the kill came too late to prove anything"
        await _until(lambda: all(api.sent(u) for u in users))
        await _inbox_emptied(sessions)
    finally:
        await bot.stop()
    for uid in users:
        assert any("Bình Yên" in m["text"] or "báo" in m["text"] for m in api.sent(uid)), uid


def _polls(bot: Bot) -> int:
    return bot.log.read_text(errors="replace").count("this worker polls Telegram")


@pytest.mark.skipif(not PG, reason="several workers need PostgreSQL: set TEST_DATABASE_URL")
async def test_two_processes_poll_one_token_without_conflict_and_one_takes_over(
    sessions, db_url, tmp_path, telegram_api
):
    api = telegram_api
    await make_commune(sessions)
    one = _bot(db_url, api, tmp_path / "one", "one")
    two = _bot(db_url, api, tmp_path / "two", "two")
    await one.start()
    await two.start()
    try:
        await _until(lambda: _polls(one) + _polls(two) == 1)
        await asyncio.sleep(3)  # the other tries the lock in the meantime, and stands by
        assert _polls(one) + _polls(two) == 1
        first = [61_000 + i for i in range(10)]
        for uid in first:
            api.push(tg.text(uid, "/start"))
        await _until(lambda: all(api.sent(u) for u in first))
        poller, other = (one, two) if _polls(one) else (two, one)
        await poller.kill()
        then = [62_000 + i for i in range(10)]
        for uid in then:
            api.push(tg.text(uid, "/start"))
        await _until(lambda: all(api.sent(u) for u in then), seconds=20)
        assert _polls(other) == 1  # the one left took over
        await _inbox_emptied(sessions)
    finally:
        await one.stop()
        await two.stop()
    assert api.conflicts == []  # never two getUpdates at once: no 409


@pytest.mark.skipif(not PG, reason="several workers need PostgreSQL: set TEST_DATABASE_URL")
async def test_run_with_two_workers_answers_everyone_and_starts_a_dead_worker_again(
    sessions, db_url, tmp_path, telegram_api
):
    api = telegram_api
    await make_commune(sessions)
    bot = _bot(db_url, api, tmp_path)
    log = bot.log
    parent = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        "--workers",
        "2",
        env=bot.env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=log.open("ab"),
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await _until(lambda: "worker 1 started" in log.read_text(errors="replace"))
        await _until(lambda: log.read_text(errors="replace").count("polls Telegram") == 1)
        first = [63_000 + i for i in range(10)]
        for uid in first:
            api.push(tg.text(uid, "/start"))
        await _until(lambda: all(api.sent(u) for u in first))
        child = int(re.search(r"worker 1 started \(process (\d+)\)", log.read_text()).group(1))
        os.kill(child, signal.SIGKILL)
        await _until(lambda: "starting it again" in log.read_text(errors="replace"))
        then = [64_000 + i for i in range(10)]
        for uid in then:
            api.push(tg.text(uid, "/start"))
        await _until(lambda: all(api.sent(u) for u in then), seconds=20)
        await _until(lambda: log.read_text(errors="replace").count("worker 1 started") == 2)
        await _inbox_emptied(sessions)
        parent.send_signal(signal.SIGINT)  # Ctrl-C: every worker stops
        assert await asyncio.wait_for(parent.wait(), timeout=30) in (0, 130)
        await asyncio.sleep(0.5)
        pids = re.findall(r"worker 1 started \(process (\d+)\)", log.read_text())
        for pid in pids:
            with pytest.raises(ProcessLookupError):
                os.kill(int(pid), 0)
    finally:
        if parent.returncode is None:
            parent.kill()
            await parent.wait()
    assert api.conflicts == []


def test_workers_are_refused_on_sqlite_with_the_reason(cli_db, monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{cli_db / 'one.db'}")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:x")
    assert main(["run", "--workers", "2"]) == 1
    assert "PostgreSQL" in capsys.readouterr().err
