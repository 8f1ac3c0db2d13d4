"""Conversation throughput: the incident flow through the whole stack, against a bare handler."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from typing import Any

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, TypeHandler

from bench.offline import OfflineRequest, message_update, press_update
from bot.app import freeze_startup_objects
from bot.chatlocks import ChatLocks
from bot.telegram import build_application, send_reply
from conversations.context import EngineConfig
from conversations.engine import Engine
from conversations.events import Incoming, Reply
from conversations.flows import all_flows
from handlers.router import Router
from storage import admin
from storage.enums import Role, TeamKind
from storage.keyring import Keyring
from storage.models import Identity

STEPS = [
    ("text", "/start"),
    ("press", "m:incident"),
    ("press", "o:category:theft"),
    ("press", "o:when:now"),
    ("text", "Đầu hẻm 3, gần chợ"),
    ("text", "Mất trộm xe máy trước cửa nhà"),
    ("press", "o:media:__done"),
    ("press", "o:severity:ordinary"),
    ("press", "o:__summary:submit"),
]
SECRET = b"bench"
TIP_KEYS = Keyring((bytes(32),))
# One sequence for every run in the process: a repeated update id would be a duplicate.
UPDATE_IDS = itertools.count(1)


async def seed_reporters(sessions: Any, chats: int) -> list[int]:
    async with sessions() as session, session.begin():
        commune = await admin.create_commune(
            session, province="Đồng Nai", name="Bench", hamlets=["Phú Mỹ"]
        )
        hamlet = commune.hamlets[0]
        team = await admin.add_team(session, hamlet, "Tổ bảo vệ", TeamKind.SECURITY)
        users = []
        for i in range(chats):
            person = await admin.add_person(
                session,
                commune=commune,
                full_name=f"Tổ viên {i}",
                role=Role.TEAM_MEMBER,
                hamlet=hamlet,
                team=team,
            )
            uid = 100_000 + i
            session.add(
                Identity(
                    person_id=person.id,
                    channel="telegram",
                    external_id=str(uid),
                    chat_id=str(uid),
                )
            )
            users.append(uid)
    return users


async def _drive(
    app: Any, users: list[int], ids: Any, *, at_once: bool = True
) -> tuple[list[float], float]:
    """Every chat through the flow: all at once, or one chat after another (no queueing)."""
    latencies: list[float] = []

    async def chat(uid: int) -> None:
        for kind, value in STEPS:
            raw = (message_update if kind == "text" else press_update)(next(ids), uid, value)
            update = Update.de_json(raw, app.bot)
            start = time.perf_counter()
            await app.process_update(update)
            latencies.append(time.perf_counter() - start)

    began = time.perf_counter()
    if at_once:
        await asyncio.gather(*(chat(u) for u in users))
    else:
        for user in users:
            await chat(user)
    return latencies, time.perf_counter() - began


async def _open_loop(app: Any, users: list[int], ids: Any, rate: float, seconds: float) -> Any:
    """Updates offered at a fixed rate, whatever the bot is doing (the next chat's next step
    every 1/rate seconds, chats in turn); latency from the offer to the last reply sent. A
    chat's next step waits for its previous one, as python-telegram-bot's processor does."""
    locks = ChatLocks()
    latencies: list[float] = []
    count = min(int(rate * seconds), len(users) * len(STEPS))
    loop = asyncio.get_running_loop()
    tasks = []

    async def offer(uid: int, step: int, at: float) -> None:
        await asyncio.sleep(max(0.0, at - loop.time()))
        kind, value = STEPS[step]
        raw = (message_update if kind == "text" else press_update)(next(ids), uid, value)
        async with locks(uid):
            await app.process_update(Update.de_json(raw, app.bot))
        latencies.append(loop.time() - at)

    began = loop.time() + 0.1
    for n in range(count):
        uid, step = users[n % len(users)], n // len(users)
        tasks.append(asyncio.create_task(offer(uid, step, began + n / rate)))
    await asyncio.gather(*tasks)
    return latencies, loop.time() - began


def _summary(latencies: list[float], elapsed: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "steps_per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000,
    }


class Recorder:
    """The router's replies to one chat, step by step: what the same-calls handler sends."""

    def __init__(self, router: Router, uid: int) -> None:
        self.router, self.chat = router, str(uid)
        self.steps: list[list[Reply]] = []
        self._handle = router.group.handle
        router.group.handle = self  # type: ignore[method-assign]

    async def __call__(self, event: Incoming) -> list[Reply]:
        replies = await self._handle(event)
        if event.chat_id == self.chat:
            self.steps.append(replies)
        return replies


def _full_app(sessions: Any, request: Any, base_url: str) -> tuple[Any, Router]:
    router = Router(sessions, Engine(all_flows()), EngineConfig(secret=SECRET, tip_keys=TIP_KEYS))
    return build_application("1:bench", base_url, router, request), router


async def full_stack(
    sessions: Any,
    users: list[int],
    *,
    at_once: bool = True,
    request: Any = None,
    base_url: str = "http://offline.invalid",
    record: bool = False,
) -> dict[str, Any]:
    app, router = _full_app(sessions, request or OfflineRequest(), base_url)
    recorder = Recorder(router, users[0]) if record else None
    async with app:
        freeze_startup_objects()  # as `binhyen run` does once started
        latencies, elapsed = await _drive(app, users, UPDATE_IDS, at_once=at_once)
    result: dict[str, Any] = _summary(latencies, elapsed)
    if recorder is not None:
        result["replies"] = recorder.steps
    return result


async def open_loop(
    sessions: Any, users: list[int], rate: float, seconds: float
) -> dict[str, float]:
    app, _ = _full_app(sessions, OfflineRequest(), "http://offline.invalid")
    async with app:
        freeze_startup_objects()
        latencies, elapsed = await _open_loop(app, users, UPDATE_IDS, rate, seconds)
    return {"offered_per_s": rate, **_summary(latencies, elapsed)}


def _bare_app(request: Any, base_url: str, reply: Any) -> Any:
    app = (
        ApplicationBuilder()
        .token("1:bare")
        .base_url(f"{base_url}/bot")
        .request(request)
        .get_updates_request(request)
        .build()
    )
    app.add_handler(TypeHandler(Update, reply))
    return app


async def bare_handler(
    users: list[int], *, request: Any = None, base_url: str = "http://offline.invalid"
) -> dict[str, float]:
    """A handler that sends one plain text, whatever it is sent."""

    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, "ok")

    app = _bare_app(request or OfflineRequest(), base_url, reply)
    async with app:
        freeze_startup_objects()
        latencies, elapsed = await _drive(app, users, UPDATE_IDS)
    return _summary(latencies, elapsed)


async def same_calls_handler(
    users: list[int],
    replies: list[list[Reply]],
    *,
    request: Any = None,
    base_url: str = "http://offline.invalid",
) -> dict[str, float]:
    """A handler with no database that makes the full stack's Bot API calls: it answers
    each button press and sends, for each step, the texts and keyboards the stack sent
    (recorded from it), through the same sending code."""
    step: dict[int, int] = {}

    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:
            await update.callback_query.answer()
        chat = update.effective_chat
        if chat is None:
            return
        n = step.get(chat.id, 0)
        step[chat.id] = n + 1
        for sent in replies[n % len(replies)]:
            await send_reply(context.bot, str(chat.id), sent)

    app = _bare_app(request or OfflineRequest(), base_url, reply)
    async with app:
        freeze_startup_objects()
        latencies, elapsed = await _drive(app, users, UPDATE_IDS)
    return _summary(latencies, elapsed)
