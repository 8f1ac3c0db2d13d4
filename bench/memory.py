"""Memory: resident size of `binhyen run` idle, and with many conversations in flight."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
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


def idle_run_mb(seconds: float = 6.0, *, telegram: bool = False) -> float:
    """`binhyen run` idle on the demo commune on SQLite, with its scheduler, outbox and web
    desk (listening on a free port, its /healthz answered before the wait): the console
    chat, or with `telegram`, long polling a loopback Bot API that has nothing to give."""
    from bench.workers import backlog_api

    with backlog_api([], latency=False) if telegram else contextlib.nullcontext(("", 0)) as api:
        folder = tempfile.mkdtemp()
        port = _free_port()
        env = {
            **os.environ,
            "DATA_DIR": folder,
            "DATABASE_URL": "",
            "TELEGRAM_BOT_TOKEN": "4242:bench-memory" if telegram else "",
            "TELEGRAM_API_BASE_URL": api[0],
            "TELEGRAM_WEBHOOK_URL": "",
            "ZALO_BOT_TOKEN": "",
            "WEB_PORT": str(port),
            "WEB_LISTEN": "127.0.0.1",
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
            _until_healthy(port, process)
            time.sleep(seconds)
            return rss_mb(process.pid)
        finally:
            process.kill()
            process.wait()
            shutil.rmtree(folder, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _until_healthy(port: int, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    """Until the web desk answers /healthz: the measure is of a process with it listening."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"binhyen run stopped (exit {process.returncode})")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered, if not healthy (the database was still being made)
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"the web desk did not listen on port {port} in {seconds:.0f} s")


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
