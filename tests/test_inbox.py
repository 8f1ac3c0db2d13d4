"""The inbox: updates kept until answered, each chat's in order, replies that fail retried
through the outbox without repeating the parts already delivered."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.ingest import Ingest
from bot.telegram import TelegramInbox, TelegramPoller, TelegramSender, build_application
from conversations.events import Incoming, Reply
from scheduler.dispatcher import Dispatcher
from scheduler.limits import Limits
from storage import inbox, outbox
from storage.models import InboxUpdate, OutboxMessage
from storage.types import utcnow
from tests import fake_telegram as tg
from tests.fake_telegram import TOKEN, FakeBotApi
from tests.helpers import make_commune, make_router
from tests.test_telegram import Always

PG = bool(os.environ.get("TEST_DATABASE_URL"))


async def _receive(session, channel: str, key: str, chat: str, text: str = "") -> bool:
    return await inbox.receive(
        session,
        channel=channel,
        update_key=key,
        chat=chat,
        payload={"text": text},
        now=utcnow(),
    )


async def test_an_update_is_kept_once_and_each_chat_is_claimed_whole_and_in_order(sessions):
    now = utcnow()
    async with sessions() as session, session.begin():
        assert await _receive(session, "telegram", "1", "A", "a1")
        assert not await _receive(session, "telegram", "1", "A", "a1")  # delivered again
        assert await _receive(session, "telegram", "2", "B", "b1")
        assert await _receive(session, "telegram", "3", "A", "a2")
        assert await _receive(session, "zalo", "1", "A", "zalo a")  # another channel's id 1
    lease = now + timedelta(seconds=15)
    async with sessions() as session, session.begin():
        first = await inbox.claim(session=session, now=now, lease_until=lease, chats=1)
    assert [r.payload["text"] for r in first] == ["a1", "a2"]  # the whole chat, in order
    async with sessions() as session, session.begin():
        second = await inbox.claim(session=session, now=now, lease_until=lease, chats=5)
        await _receive(session, "telegram", "4", "A", "a3")
    assert sorted(r.payload["text"] for r in second) == ["b1", "zalo a"]
    async with sessions() as session, session.begin():
        # A's rows are held: its new update waits for them, so its order holds.
        assert await inbox.claim(session=session, now=now, lease_until=lease) == []
        await inbox.done(session=session, ids=[r.id for r in first])
    async with sessions() as session, session.begin():
        third = await inbox.claim(session=session, now=now, lease_until=lease)
    assert [r.payload["text"] for r in third] == ["a3"]
    later = now + timedelta(seconds=16)  # the worker holding B died: its lease ran out
    async with sessions() as session, session.begin():
        again = await inbox.claim(
            session=session, now=later, lease_until=later + timedelta(seconds=15)
        )
    assert sorted(r.payload["text"] for r in again) == ["a3", "b1", "zalo a"]
    assert {r.attempts for r in again} == {2}


async def test_an_update_that_fails_again_and_again_is_dropped(sessions):
    now = utcnow()
    async with sessions() as session, session.begin():
        await _receive(session, "telegram", "9", "C", "poison")
    for attempt in range(inbox.MAX_ATTEMPTS + 1):
        at = now + timedelta(minutes=attempt)
        async with sessions() as session, session.begin():
            rows = await inbox.claim(session=session, now=at, lease_until=at + timedelta(seconds=5))
        assert len(rows) == (1 if attempt < inbox.MAX_ATTEMPTS else 0)
    async with sessions() as session:
        assert await inbox.waiting(session=session) == 0


@pytest.mark.skipif(not PG, reason="row locks are PostgreSQL's: set TEST_DATABASE_URL")
async def test_two_workers_claiming_at_once_never_take_the_same_chat(sessions):
    now = utcnow()
    async with sessions() as session, session.begin():
        for i in range(6):
            await _receive(session, "telegram", str(i), f"chat{i % 3}", f"m{i}")
    lease = now + timedelta(seconds=15)
    async with sessions() as one, one.begin():
        mine = await inbox.claim(session=one, now=now, lease_until=lease, chats=2)
        async with sessions() as two, two.begin():  # while the first has not committed
            theirs = await inbox.claim(session=two, now=now, lease_until=lease, chats=5)
    assert len(mine) == 4 and len(theirs) == 2
    assert not {r.chat_key for r in mine} & {r.chat_key for r in theirs}


# --- through the real Telegram client --------------------------------------------------


class Running:
    """The inbox and the outbox at work against a loopback Bot API."""

    def __init__(self, api: FakeBotApi, sessions: Any, router: Any) -> None:
        self.api, self.sessions = api, sessions
        self.app = build_application(TOKEN, api.base_url, router)
        self.dispatcher = Dispatcher(
            sessions, {}, limits={"telegram": Limits(30, 0.05, 20)}, batch=10
        )
        self.ingest = Ingest(sessions, router, on_handed_over=self.dispatcher.wake)
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self, poll: bool = True) -> None:
        await self.app.initialize()
        self.dispatcher.senders["telegram"] = TelegramSender(self.app.bot)
        self.ingest.channels["telegram"] = TelegramInbox(self.app.bot)
        if poll:
            poller = TelegramPoller(self.app.bot, self.ingest.take, Always(), timeout=1)
            self.tasks.append(asyncio.create_task(poller.run()))
            self.tasks.append(asyncio.create_task(self.ingest.run_forever()))
            self.tasks.append(asyncio.create_task(self.dispatcher.run_forever(idle_seconds=0.2)))

    async def stop(self) -> None:
        self.ingest.stop()
        self.dispatcher.stop()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.app.shutdown()

    def texts(self, chat: int) -> list[str]:
        return [m["text"] for m in self.api.sent(chat)]


@pytest.fixture
async def loopback():
    api = FakeBotApi()
    await api.start()
    yield api
    await api.stop()


async def _until(condition, seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def _settled(counts, quiet: float = 2.0, seconds: float = 30.0) -> None:
    """Until nothing more arrives for `quiet` seconds (the outbox retries after 1-2 s)."""
    last, since = counts(), 0.0
    for _ in range(int(seconds / 0.1)):
        await asyncio.sleep(0.1)
        since = 0.0 if counts() != last else since + 0.1
        last = counts()
        if since >= quiet:
            return
    raise AssertionError("still sending")


def _error(code: int) -> dict[str, Any]:
    if code == 429:
        return {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
            "http_status": 429,
        }
    return {
        "ok": False,
        "error_code": code,
        "description": "Internal Server Error",
        "http_status": code,
    }


async def test_a_429_and_a_500_on_replies_are_retried_and_every_reply_arrives_in_order(
    sessions, clock, loopback
):
    await make_commune(sessions)
    reference, limited, broken = 7001, 7002, 7003
    sends: dict[int, int] = {}

    def flaky(method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        if method != "sendMessage":
            return None
        chat = int(params["chat_id"])
        sends[chat] = sends.get(chat, 0) + 1
        if chat == limited and sends[chat] == 1:
            return _error(429)
        if chat == broken and sends[chat] in (1, 3):  # the direct reply, then its first retry
            return _error(500)
        return None

    loopback.fail = flaky
    bot = Running(loopback, sessions, make_router(sessions, clock))
    await bot.start()
    try:
        # Each chat writes the same, a message every 0.3 s: later replies are ready while
        # the first failed ones wait for their retry, and must not overtake them.
        for body in ("/start", "/ngonngu", "xin chào", "/menu", "/huy"):
            for uid in (reference, limited, broken):
                loopback.push(tg.text(uid, body))
            await asyncio.sleep(0.3)
        await _until(lambda: len(bot.texts(limited)) >= 5 and len(bot.texts(broken)) >= 5)
        await _settled(lambda: [len(bot.texts(c)) for c in (reference, limited, broken)])
        expected = bot.texts(reference)
        assert len(expected) >= 5
        assert bot.texts(limited) == expected
        assert bot.texts(broken) == expected
        failed = sorted(str(p["chat_id"]) for _, p, _ in loopback.failures)
        assert failed == sorted([str(limited), str(broken), str(broken)])
    finally:
        await bot.stop()
    async with sessions() as session:  # nothing of the conversations stays behind
        assert await inbox.waiting(session=session) == 0
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


LONG = "\n\n".join(f"Phần {i}. " + "chữ " * 700 for i in range(1, 6))


class FiveParts:
    """A router whose every answer is one reply in five parts."""

    async def handle(self, event: Incoming) -> list[Reply]:
        return [Reply(LONG, chat_id=event.chat_id)]

    async def handle_batch(self, events: list[Incoming]) -> list[list[Reply]]:
        return [await self.handle(e) for e in events]


def _parts_sent(api: FakeBotApi, chat: int) -> list[str]:
    return [t.split(".")[0] for t in (m["text"] for m in api.sent(chat))]


def _429_on_part_three(chat: int):
    seen = {"n": 0}

    def fail(method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        if method == "sendMessage" and int(params["chat_id"]) == chat:
            seen["n"] += 1
            if seen["n"] == 3:
                return _error(429)
        return None

    return fail


async def test_a_five_part_reply_with_a_429_on_part_three_sends_parts_one_and_two_once(
    sessions, loopback
):
    chat = 7100
    loopback.fail = _429_on_part_three(chat)
    bot = Running(loopback, sessions, FiveParts())
    await bot.start(poll=False)
    try:
        update = {"update_id": 1, **tg.text(chat, "xin chào")}
        await bot.ingest.receive("telegram", update)
        assert await bot.ingest.run_once() == 1
        assert _parts_sent(loopback, chat) == ["Phần 1", "Phần 2"]
        async with sessions() as session:
            row = await session.scalar(select(OutboxMessage))
            assert row.purpose == outbox.REPLY and row.parts_sent == 2
            assert await inbox.waiting(session=session) == 0
        await asyncio.sleep(1.1)  # the 429's retry_after
        await bot.dispatcher.run_once()
        assert _parts_sent(loopback, chat) == [f"Phần {i}" for i in range(1, 6)]
        async with sessions() as session:  # sent: the handed-over reply is gone
            assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    finally:
        await bot.stop()


async def test_a_five_part_outbox_message_with_a_429_on_part_three_resends_only_the_rest(
    sessions, loopback
):
    chat = 7200
    loopback.fail = _429_on_part_three(chat)
    bot = Running(loopback, sessions, FiveParts())
    await bot.start(poll=False)
    try:
        async with sessions() as session, session.begin():
            await outbox.enqueue(session, channel="telegram", chat_id=str(chat), text=LONG)
        first = await bot.dispatcher.run_once()
        assert first.retried == 1 and _parts_sent(loopback, chat) == ["Phần 1", "Phần 2"]
        await asyncio.sleep(1.1)
        second = await bot.dispatcher.run_once()
        assert second.sent == 1
        assert _parts_sent(loopback, chat) == [f"Phần {i}" for i in range(1, 6)]
    finally:
        await bot.stop()


async def test_an_update_stays_in_the_inbox_until_it_is_answered(sessions, clock, loopback):
    """The inbox holds raw updates (account ids, a tip's text) only while they are handled."""
    await make_commune(sessions)
    bot = Running(loopback, sessions, make_router(sessions, clock))
    await bot.start(poll=False)
    try:
        tip = {"update_id": 77, **tg.text(7300, "có người lạ hay đến nhà số 5")}
        await bot.ingest.receive("telegram", tip)
        async with sessions() as session:
            row = await session.scalar(select(InboxUpdate))
            assert row.payload["message"]["from"]["id"] == 7300  # the raw update, as received
            assert "7300" not in row.chat_key  # the chat is a hash for its partition
        await bot.ingest.run_once()
        assert bot.texts(7300)
        async with sessions() as session:
            assert await inbox.waiting(session=session) == 0
    finally:
        await bot.stop()


async def test_when_the_inbox_cannot_store_an_update_it_is_handled_before_it_is_confirmed(
    sessions, clock, loopback, monkeypatch
):
    await make_commune(sessions)

    async def refused(*args: Any, **kwargs: Any) -> bool:
        raise ConnectionRefusedError("the database is away")

    monkeypatch.setattr(inbox, "receive", refused)
    bot = Running(loopback, sessions, make_router(sessions, clock))
    await bot.start()
    try:
        loopback.push(tg.text(7400, "/start"))
        await _until(lambda: bool(bot.texts(7400)))
        # Confirmed only after the answer: the next getUpdates asks past it.
        await _until(lambda: not loopback.updates, seconds=5)
    finally:
        await bot.stop()
    assert len([t for t in bot.texts(7400) if "Bình Yên" in t or "báo" in t]) >= 1


async def test_a_zalo_reply_refused_for_a_moment_arrives_through_the_outbox_with_its_numbers(
    sessions, clock
):
    from bot.zalo import ZaloClient, ZaloInbox, ZaloSender
    from tests import fake_zalo as zl
    from tests.fake_zalo import FakeZaloApi

    api = FakeZaloApi()
    await api.start()
    await make_commune(sessions, prefix="x-")
    refused = {"left": 1}

    def quota(method: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if method == "sendMessage" and refused["left"]:
            refused["left"] -= 1
            return {"ok": False, "error_code": 429, "description": "quota"}
        return None

    api.fail = quota
    client = ZaloClient(zl.TOKEN, api.base_url)
    dispatcher = Dispatcher(sessions, {"zalo": ZaloSender(client, sessions)})
    ingest = Ingest(sessions, make_router(sessions, clock), on_handed_over=dispatcher.wake)
    ingest.channels["zalo"] = ZaloInbox(client)
    try:
        await ingest.receive("zalo", zl.text("zu-1", "/start"))
        await ingest.run_once()
        assert api.sent("zu-1") == []  # refused: handed over, due after Zalo's pause
        async with sessions() as session, session.begin():
            rows = (await session.scalars(select(OutboxMessage))).all()
            assert len(rows) == 2 and {r.purpose for r in rows} == {outbox.REPLY}
            for row in rows:
                row.not_before = utcnow()  # the pause is over
        await dispatcher.run_once()
        assert len(api.sent("zu-1")) == 2
        menu = api.sent("zu-1")[-1]
        assert "1. " in menu and "Trả lời bằng số" in menu  # the numbers as first rendered
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    finally:
        await client.close()
        await api.stop()


@pytest.mark.skipif(not PG, reason="NOTIFY and LISTEN are PostgreSQL's: set TEST_DATABASE_URL")
async def test_a_worker_that_does_not_poll_hears_of_stored_updates_at_once(
    sessions, clock, loopback
):
    """The poller's process stores; another worker, whose idle look at the inbox is two
    minutes away, is told by PostgreSQL and answers within seconds."""
    await make_commune(sessions)
    poller = Running(loopback, sessions, make_router(sessions, clock))
    other = Running(loopback, sessions, make_router(sessions, clock))
    other.ingest.idle_seconds = 120
    await poller.start(poll=False)
    await other.start(poll=False)
    other.tasks.append(asyncio.create_task(other.ingest.run_forever()))
    try:
        await asyncio.sleep(2)  # its listener is up
        await poller.ingest.store("telegram", [{**tg.text(7301, "/start"), "update_id": 73011}])
        await _until(lambda: other.texts(7301), seconds=30)
    finally:
        await other.stop()
        await poller.stop()
