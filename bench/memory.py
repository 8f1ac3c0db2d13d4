"""Memory: resident size of `binhyen run` idle, and with many conversations in flight."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from typing import Any

from bench.conversation import SECRET, STEPS, TIP_KEYS, seed_reporters
from bench.databases import discard, fresh_db
from conversations.context import EngineConfig
from conversations.engine import Engine
from conversations.events import Incoming
from conversations.flows import all_flows
from handlers.router import Router


def rss_mb(pid: int | None = None) -> float:
    with open(f"/proc/{pid or os.getpid()}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def idle_run_mb(seconds: float = 6.0) -> float:
    """`binhyen run` (console, demo commune on SQLite, scheduler and outbox running), idle."""
    folder = tempfile.mkdtemp()
    env = {
        **os.environ,
        "DATA_DIR": folder,
        "DATABASE_URL": "",
        "TELEGRAM_BOT_TOKEN": "",
        "ZALO_BOT_TOKEN": "",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=folder,
    )
    try:
        time.sleep(seconds)
        return rss_mb(process.pid)
    finally:
        process.kill()
        process.wait()


def in_flight_fresh(conversations: int) -> dict[str, float]:
    """`in_flight` in a new process on a new SQLite file, so that what earlier benchmarks
    left in this one does not count in its 'before'."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_in_flight_on_new_db, conversations).result()


def _in_flight_on_new_db(conversations: int) -> dict[str, float]:
    async def measure() -> dict[str, float]:
        engine, sessions = await fresh_db(None)
        try:
            return await in_flight(sessions, conversations)
        finally:
            await discard(engine)

    return asyncio.run(measure())


async def in_flight(sessions: Any, conversations: int) -> dict[str, float]:
    """Resident size before and after `conversations` chats stop half-way through a report."""
    users = await seed_reporters(sessions, conversations)
    router = Router(sessions, Engine(all_flows()), EngineConfig(secret=SECRET, tip_keys=TIP_KEYS))
    before = rss_mb()
    for start in range(0, len(users), 500):

        async def half(uid: int) -> None:
            for kind, value in STEPS[:4]:
                event = Incoming("telegram", str(uid), str(uid))
                if value == "/start":
                    event = replace(event, command="start")
                elif kind == "press":
                    event = replace(event, callback=value)
                else:
                    event = replace(event, text=value)
                await router.handle(event)

        await asyncio.gather(*(half(u) for u in users[start : start + 500]))
    after = rss_mb()
    return {
        "conversations": conversations,
        "rss_before_mb": before,
        "rss_after_mb": after,
        "per_1000_kb": (after - before) * 1024 / (conversations / 1000),
    }
