"""Faults with real processes: `binhyen run` killed with SIGKILL and started again, against
a Bot API server on loopback. Run alone with `pytest -m fault`."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from storage.models import OutboxMessage, Person
from storage.types import utcnow
from tests import fake_telegram as tg
from tests.fake_telegram import TOKEN, FakeBotApi
from tests.helpers import link, make_commune

pytestmark = pytest.mark.fault
USER = 4242


class Bot:
    """`binhyen run` as a child process, with the test's database and Bot API."""

    def __init__(self, db_url: str, api: FakeBotApi, data: Path) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "DATA_DIR": str(data),
            "SECRET_KEY": "test-secret",
            "SEED_DEMO_ON_FIRST_RUN": "false",
            "OUTBOX_STUCK_SECONDS": "2",
            "TELEGRAM_WEBHOOK_URL": "",
            "LOG_LEVEL": "INFO",
        }
        self.process: asyncio.subprocess.Process | None = None
        self.log = data / "bot.log"

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self.log.open("ab"),
            stderr=asyncio.subprocess.STDOUT,
        )

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            await self.kill()


async def _until(condition, seconds: float = 30.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


@pytest.fixture
async def running(sessions, db_url, tmp_path):
    api = FakeBotApi()
    await api.start()
    bot = Bot(db_url, api, tmp_path)
    yield api, bot
    await bot.stop()
    await api.stop()


async def _answer(api: FakeBotApi, update: dict) -> str:
    before = len(api.sent(USER))
    api.push(update)
    await _until(lambda: len(api.sent(USER)) > before)
    await asyncio.sleep(0.3)
    return "\n".join(m["text"] for m in api.sent(USER)[before:])


async def test_killed_between_two_answers_the_conversation_continues(sessions, running):
    api, bot = running
    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        await link(session, await session.get(Person, c.member), str(USER))
    await bot.start()
    assert "muốn báo gì" in await _answer(api, tg.text(USER, "/start"))
    await _answer(api, tg.press(USER, "m:incident"))
    assert "Xảy ra lúc nào" in await _answer(api, tg.press(USER, "o:category:theft"))
    await bot.kill()  # SIGKILL: no chance to save anything more
    await bot.start()
    assert "Xảy ra ở đâu" in await _answer(api, tg.text(USER, "hôm qua 21h"))


async def test_killed_in_the_middle_of_an_outbox_batch_every_message_arrives(sessions, running):
    api, bot = running
    await make_commune(sessions)
    now = utcnow()
    messages = 150
    async with sessions() as session, session.begin():
        await session.execute(
            insert(OutboxMessage),
            [
                {
                    "channel": "telegram",
                    "chat_id": str(50_000 + i),
                    "text": f"tin {i}",
                    "buttons": [],
                    "purpose": "fault",
                    "status": "pending",
                    "attempts": 0,
                    "not_before": now,
                    "created_at": now,
                }
                for i in range(messages)
            ],
        )

    def delivered() -> Counter[str]:  # this test's messages (the scheduler may send its own)
        return Counter(
            p["text"] for m, p in api.calls if m == "sendMessage" and p["text"].startswith("tin ")
        )

    await bot.start()
    await _until(lambda: len(delivered()) >= 40)
    await bot.kill()
    before_kill = set(delivered())
    killed_at = len(before_kill)
    await bot.start()

    async def statuses() -> Counter[str]:
        async with sessions() as session:
            return Counter(
                (
                    await session.scalars(
                        select(OutboxMessage.status).where(OutboxMessage.purpose == "fault")
                    )
                ).all()
            )

    for _ in range(600):  # until every row is marked sent (reclaimed rows go out again)
        if await statuses() == {"sent": messages}:
            break
        await asyncio.sleep(0.1)
    assert await statuses() == {"sent": messages}
    counts = delivered()
    assert set(counts) == {f"tin {i}" for i in range(messages)}  # nothing lost
    twice = {text for text, n in counts.items() if n > 1}
    # At least once: only a message already sent when its worker died may arrive again, and
    # only once more; nothing sent after the restart is ever repeated.
    assert twice <= before_kill, twice - before_kill
    assert max(counts.values()) <= 2
    assert killed_at < messages


async def test_killed_while_digests_are_being_made_each_is_queued_once(sessions, running):
    from storage.models import DigestRun

    api, bot = running
    c = await make_commune(sessions)  # set up long ago: digests are owed for past periods
    async with sessions() as session, session.begin():
        await link(session, await session.get(Person, c.officer), "4343")
    for delay in (0.4, 0.9, 1.5):  # killed at different points of start-up and catch-up
        await bot.start()
        await asyncio.sleep(delay)
        await bot.kill()
    await bot.start()

    def photos() -> list[dict]:
        return [p for m, p in api.calls if m == "sendPhoto" and str(p["chat_id"]) == "4343"]

    await _until(lambda: len(photos()) >= 3, seconds=60)
    await asyncio.sleep(1)
    async with sessions() as session:
        runs = Counter((await session.scalars(select(DigestRun.kind))).all())
        rows = Counter(
            (
                await session.scalars(
                    select(OutboxMessage.chat_id).where(OutboxMessage.purpose == "digest")
                )
            ).all()
        )
    assert runs == {"weekly": 1, "monthly": 1, "quarterly": 1}
    assert rows == {"4343": 3, "officer": 3}  # each of the officer's two chats, once a kind
    texts = [p["text"] for m, p in api.calls if m == "sendMessage" and str(p["chat_id"]) == "4343"]
    for title in ("BÁO CÁO TUẦN", "BÁO CÁO THÁNG", "BÁO CÁO QUÝ"):
        assert any(title in text for text in texts), title


def _cluster() -> list[str] | None:
    """The local PostgreSQL cluster's control command, when this machine has one."""
    import shutil

    versions = Path("/etc/postgresql")
    if shutil.which("pg_ctlcluster") is None or not versions.is_dir() or os.geteuid() != 0:
        return None
    return ["pg_ctlcluster", "--skip-systemctl-redirect", sorted(os.listdir(versions))[0], "main"]


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL") or _cluster() is None,
    reason="stops and starts the local PostgreSQL: needs TEST_DATABASE_URL, "
    "pg_ctlcluster and root (.ci/run has them)",
)
async def test_postgresql_going_away_the_person_is_told_and_the_bot_recovers(sessions, running):
    from storage.models import Conversation

    api, bot = running
    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        await link(session, await session.get(Person, c.member), str(USER))
    await bot.start()
    await _answer(api, tg.text(USER, "/start"))
    await _answer(api, tg.press(USER, "m:incident"))
    assert "Xảy ra lúc nào" in await _answer(api, tg.press(USER, "o:category:drugs"))
    control = _cluster()
    assert control is not None
    proc = await asyncio.create_subprocess_exec(*control[:1], *control[1:], "stop")
    assert await proc.wait() == 0
    try:
        answer = await _answer(api, tg.text(USER, "hôm qua 21h"))
        assert "chưa lưu được câu trả lời" in answer and "gửi lại" in answer
    finally:
        proc = await asyncio.create_subprocess_exec(*control, "start")
        assert await proc.wait() == 0
    for _ in range(100):  # the server takes a moment to accept connections again
        try:
            async with sessions() as session:
                conv = await session.scalar(
                    select(Conversation).where(Conversation.chat_id == str(USER))
                )
            break
        except Exception:
            await asyncio.sleep(0.2)
    assert conv.step == "when"  # the answer that could not be saved left nothing behind
    assert "Xảy ra ở đâu" in await _answer(api, tg.text(USER, "hôm qua 21h"))
