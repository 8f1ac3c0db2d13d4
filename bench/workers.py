"""Two `binhyen run --workers` processes against one: the same backlog of Telegram updates,
fetched by long polling from a loopback Bot API in a process of its own, on a fresh
PostgreSQL schema each time; updates answered per second from the first getUpdates that
carries updates to the last reply."""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import socket
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.conversation import STEPS, seed_reporters
from bench.loopback import LATENCY_S, _answer
from bench.offline import message_update, press_update
from storage.db import make_engine, make_sessionmaker, upgrade

TOKEN = "4242:bench-workers"  # its own polling lock, apart from any other bot on the server
ROLE = "bench_workers"  # its default search_path is its schema: the children need no option
REPLIES = ("sendMessage", "editMessageText", "editMessageReplyMarkup", "sendPhoto")


def backlog(users: list[int], steps: int) -> list[dict[str, Any]]:
    """Each chat's first `steps` steps of the incident flow (/start, then the menu), the
    chats interleaved as Telegram would give them: every chat's first step, then the second."""
    updates: list[dict[str, Any]] = []
    for step in range(steps):
        kind, value = STEPS[step]
        for uid in users:
            make = message_update if kind == "text" else press_update
            updates.append(make(len(updates) + 1, uid, value))
    return updates


def _serve(ports: Any, updates: list[dict[str, Any]], latency: bool, seed: int) -> None:
    """The Bot API: getUpdates gives the backlog (offset and limit as Telegram's, nothing
    until the driver opens it), replies are counted with the time of the last."""
    from tornado.httpserver import HTTPServer
    from tornado.web import Application, RequestHandler

    rng = random.Random(seed)
    opened = asyncio.Event()
    state: dict[str, Any] = {"first": None, "last": None, "replies": 0, "requests": 0}
    state["served"] = 0
    per_chat: dict[int, int] = {}

    async def wait() -> None:
        if latency:
            await asyncio.sleep(rng.uniform(*LATENCY_S))

    class Api(RequestHandler):
        async def post(self, method: str) -> None:
            state["requests"] += 1
            body = self.request.body
            if self.request.headers.get("Content-Type", "").startswith("application/json"):
                params = {k: str(v) for k, v in json.loads(body or b"{}").items()}
            else:
                params = {k: self.get_argument(k) for k in self.request.arguments}
            await wait()
            result: Any
            if method == "getUpdates":
                offset = int(params.get("offset") or 0)
                limit = min(100, int(params.get("limit") or 100))
                if not opened.is_set():  # a long poll, bounded: at most a second
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(opened.wait(), timeout=1.0)
                result = (
                    [u for u in updates[max(0, offset - 1) :][:limit]] if opened.is_set() else []
                )
                if result and state["first"] is None:
                    state["first"] = time.monotonic()
                state["served"] = max(state["served"], result[-1]["update_id"] if result else 0)
            else:
                result = _answer(method, params, state["requests"])
                if method in REPLIES:
                    chat = int(params.get("chat_id") or 0)
                    per_chat[chat] = per_chat.get(chat, 0) + 1
                    state["replies"] += 1
                    state["last"] = time.monotonic()
            await wait()
            self.set_header("Content-Type", "application/json")
            self.write(json.dumps({"ok": True, "result": result}))

    class Control(RequestHandler):
        def get(self, what: str) -> None:
            if what == "open":
                opened.set()
            now = time.monotonic()
            self.write(
                {
                    **state,
                    "now": now,
                    "chats": len(per_chat),
                    "fewest": min(per_chat.values(), default=0),
                }
            )

    async def serve() -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        app = Application([(r"/bot[^/]+/(\w+)", Api), (r"/control/(\w+)", Control)])
        HTTPServer(app).listen(port, "127.0.0.1")
        ports.put(port)
        await asyncio.Event().wait()

    asyncio.run(serve())


@contextlib.contextmanager
def backlog_api(updates: list[dict[str, Any]], latency: bool) -> Iterator[tuple[str, int]]:
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    process = context.Process(target=_serve, args=(ports, updates, latency, 1), daemon=True)
    process.start()
    try:
        yield f"http://127.0.0.1:{ports.get(timeout=60)}", int(process.pid or 0)
    finally:
        process.terminate()
        process.join()


def _control(base: str, what: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base}/control/{what}", timeout=10) as answer:
        return dict(json.loads(answer.read()))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _fresh_schema(pg_url: str) -> tuple[str, Any]:
    """A new schema owned by a role whose search_path is that schema, migrated; the URL
    the children connect with, and an engine on it."""
    admin = make_engine(pg_url)
    async with admin.begin() as conn:
        await conn.execute(text(f"DROP SCHEMA IF EXISTS {ROLE} CASCADE"))
        exists = await conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": ROLE})
        if not exists:
            await conn.execute(text(f"CREATE ROLE {ROLE} LOGIN"))
        await conn.execute(text(f"ALTER ROLE {ROLE} SET search_path = {ROLE}"))
        await conn.execute(text(f"CREATE SCHEMA {ROLE} AUTHORIZATION {ROLE}"))
    await admin.dispose()
    url = make_url(pg_url).set(username=ROLE, password=None)
    child = url.render_as_string(hide_password=False)
    engine = make_engine(child, connect_args={"server_settings": {"search_path": ROLE}})
    await upgrade(engine)
    return child, engine


async def _drop_schema(pg_url: str) -> None:
    admin = make_engine(pg_url)
    async with admin.begin() as conn:
        await conn.execute(text(f"DROP SCHEMA IF EXISTS {ROLE} CASCADE"))
    await admin.dispose()


async def _until(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"{what}: not within {seconds:.0f} s")


def _cpu_by_process() -> dict[int, tuple[str, float]]:
    """Every process's (name, user + system CPU seconds so far), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            head, tail = (entry / "stat").read_text().rsplit(")", 1)
            fields = tail.split()
            found[int(entry.name)] = (
                head.split("(", 1)[1],
                (int(fields[11]) + int(fields[12])) / tick,
            )
    return found


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine so far, from /proc/stat."""
    numbers = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = numbers[3] + numbers[4]
    return float(sum(numbers) - idle), float(sum(numbers))


def _said(log: Path) -> str:
    return log.read_text(errors="replace")


def _cpu_shares(
    before: dict[int, tuple[str, float]],
    after: dict[int, tuple[str, float]],
    groups: dict[int, str],
) -> dict[str, float]:
    """CPU seconds spent between two snapshots: the named processes, PostgreSQL, the rest."""
    spent: dict[str, float] = {}
    for pid, (name, seconds) in after.items():
        used = seconds - before.get(pid, (name, 0.0))[1]
        group = groups.get(pid) or ("PostgreSQL" if name.startswith("postgres") else "other")
        spent[group] = spent.get(group, 0.0) + used
    return spent


async def one_run(
    pg_url: str, workers: int, chats: int, steps: int, *, latency: bool, limit_s: float = 600
) -> dict[str, Any]:
    """`binhyen run --workers N` through the whole backlog; its rate and where the CPU went."""
    child_url, engine = await _fresh_schema(pg_url)
    sessions = make_sessionmaker(engine)
    users = await seed_reporters(sessions, chats)
    updates = backlog(users, steps)
    folder = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    log = folder / "bot.log"
    try:
        with backlog_api(updates, latency) as (base, server_pid):
            env = {
                **os.environ,
                "DATABASE_URL": child_url,
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": base,
                "TELEGRAM_WEBHOOK_URL": "",
                "ZALO_BOT_TOKEN": "",
                "DATA_DIR": str(folder),
                "SECRET_KEY": "bench-secret",
                "SEED_DEMO_ON_FIRST_RUN": "false",
                "WEB_PORT": str(_free_port()),
                "WEB_LISTEN": "127.0.0.1",
                "LOG_LEVEL": "INFO",
            }
            with log.open("ab") as out:
                process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bot.cli",
                    "run",
                    "--workers",
                    str(workers),
                    env=env,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=out,
                    stderr=asyncio.subprocess.STDOUT,
                )
            try:
                result = await _measure(
                    process, log, base, server_pid, engine, workers, len(updates), steps, limit_s
                )
            finally:
                process.send_signal(signal.SIGINT)  # Ctrl-C: every worker stops
                try:
                    await asyncio.wait_for(process.wait(), 30)
                except TimeoutError:
                    process.kill()
                    await process.wait()
    finally:
        await engine.dispose()
        await _drop_schema(pg_url)
        shutil.rmtree(folder, ignore_errors=True)
    return {"workers": workers, "chats": chats, **result}


async def _measure(
    process: asyncio.subprocess.Process,
    log: Path,
    base: str,
    server_pid: int,
    engine: Any,
    workers: int,
    backlog_size: int,
    steps: int,
    limit_s: float,
) -> dict[str, Any]:
    async def ready() -> bool:
        if process.returncode is not None:
            raise RuntimeError(f"binhyen run stopped: {_said(log)[-2000:]}")
        said = _said(log)
        return said.count("Telegram channel running") >= workers and (
            "this worker polls Telegram" in said
        )

    await _until(ready, 120, "the workers up")
    await asyncio.sleep(1.0)  # the last worker's processor and outbox under way
    said = _said(log)
    groups = {process.pid: "binhyen", server_pid: "Bot API loopback", os.getpid(): "driver"}
    groups |= {
        int(p): "binhyen workers" for p in re.findall(r"worker \d+ started \(process (\d+)\)", said)
    }
    cpu_before = _cpu_by_process()
    machine_before = _machine_busy()
    _control(base, "open")
    seen = {"replies": -1, "at": 0.0}

    async def done() -> bool:
        stats = _control(base, "stats")
        if stats["replies"] != seen["replies"]:
            seen.update(replies=stats["replies"], at=time.monotonic())
        if stats["served"] < backlog_size or stats["fewest"] < steps:
            return False
        async with engine.connect() as conn:
            left = await conn.scalar(text("SELECT count(*) FROM inbox"))
        return left == 0 and time.monotonic() - seen["at"] > 1.0  # and nothing more comes

    await _until(done, limit_s, "every update answered")
    stats = _control(base, "stats")
    spent = _cpu_shares(cpu_before, _cpu_by_process(), groups)
    busy, total = (a - b for a, b in zip(_machine_busy(), machine_before, strict=True))
    seconds = stats["last"] - stats["first"]
    return {
        "updates": backlog_size,
        "replies": stats["replies"],
        "seconds": seconds,
        "per_s": backlog_size / seconds,
        "cpu_s": spent,
        # The whole machine (both cores) busy, from the backlog opened to the end seen.
        "machine_busy_pct": 100 * busy / total if total else 0.0,
    }


async def compare(
    pg_url: str, chats: int, steps: int, *, latency: bool, rounds: int = 1
) -> list[dict[str, Any]]:
    """One worker and two in turns, 1 2 2 1 … so that a load on the machine that grows or
    falls during the sitting weighs on both alike."""
    order = [n for r in range(rounds) for n in ((1, 2) if r % 2 == 0 else (2, 1))]
    return [await one_run(pg_url, n, chats, steps, latency=latency) for n in order]
