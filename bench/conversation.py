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
from bot.telegram import build_application
from conversations.context import EngineConfig
from conversations.engine import Engine
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


def _summary(latencies: list[float], elapsed: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "steps_per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
    }


async def full_stack(sessions: Any, users: list[int], *, at_once: bool = True) -> dict[str, float]:
    router = Router(sessions, Engine(all_flows()), EngineConfig(secret=SECRET, tip_keys=TIP_KEYS))
    app = build_application("1:bench", "http://offline.invalid", router, OfflineRequest())
    async with app:
        freeze_startup_objects()  # as `binhyen run` does once started
        latencies, elapsed = await _drive(app, users, UPDATE_IDS, at_once=at_once)
    return _summary(latencies, elapsed)


async def bare_handler(users: list[int]) -> dict[str, float]:
    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, "ok")

    request = OfflineRequest()
    app = (
        ApplicationBuilder()
        .token("1:bare")
        .base_url("http://offline.invalid/bot")
        .request(request)
        .get_updates_request(request)
        .build()
    )
    app.add_handler(TypeHandler(Update, reply))
    async with app:
        freeze_startup_objects()
        latencies, elapsed = await _drive(app, users, UPDATE_IDS)
    return _summary(latencies, elapsed)
