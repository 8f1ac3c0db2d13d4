"""Delivery: outbox messages to many chats against a Bot API on loopback that enforces
Telegram's limits, answering 429 when they are broken; optionally with a random latency
each way (a request reaches the server, and its answer the bot, 20-200 ms after leaving),
so the limits are kept where messages arrive."""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import random
import socket
import time
from collections import Counter, deque
from collections.abc import Iterator
from typing import Any

import httpx
from sqlalchemy import insert
from tornado.httpserver import HTTPServer
from tornado.web import Application, RequestHandler

from bot.app import freeze_startup_objects
from bot.telegram import TelegramSender
from scheduler.dispatcher import Dispatcher
from storage.models import OutboxMessage
from storage.types import utcnow


class StrictApi:
    """30 messages in any second overall, one a second per chat; 429 otherwise."""

    def __init__(self, latency: tuple[float, float] | None = None) -> None:
        self.latency = latency
        self.delivered = 0
        self.last_at = 0.0  # time.monotonic(): one clock for every process of the machine
        self.sent: Counter[str] = Counter()
        self.too_many = 0
        self._recent: deque[float] = deque()
        self._per_chat: dict[str, float] = {}
        self.port = 0
        self._server: HTTPServer | None = None

    def answer(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        now = time.monotonic()
        while self._recent and self._recent[0] <= now - 1.0:
            self._recent.popleft()
        chat = str(params.get("chat_id"))
        if len(self._recent) >= 30 or now - self._per_chat.get(chat, -10.0) < 1.0:
            self.too_many += 1
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests",
                "parameters": {"retry_after": 1},
            }
        self._recent.append(now)
        self._per_chat[chat] = now
        self.sent[str(params.get("text"))] += 1
        self.delivered += 1
        self.last_at = now
        return 200, {
            "ok": True,
            "result": {"message_id": 1, "date": 0, "chat": {"id": int(chat), "type": "private"}},
        }

    async def travel(self) -> None:
        if self.latency is not None:
            await asyncio.sleep(random.uniform(*self.latency))

    async def start(self) -> str:
        api = self

        class Handler(RequestHandler):
            def get(self, method: str) -> None:  # the bench's own question: how far along
                self.write(
                    {
                        "delivered": api.delivered,
                        "last_at": api.last_at,
                        "too_many": api.too_many,
                        "distinct": len(api.sent),
                        "duplicates": sum(n - 1 for n in api.sent.values() if n > 1),
                    }
                )

            async def post(self, method: str) -> None:
                params = {k: self.get_argument(k) for k in self.request.arguments}
                await api.travel()  # on the way to the server
                if method == "getMe":
                    self.write(
                        {
                            "ok": True,
                            "result": {"id": 1, "is_bot": True, "first_name": "b", "username": "b"},
                        }
                    )
                    return
                status, body = api.answer(params)
                await api.travel()  # the answer on its way back
                self.set_status(status)
                self.write(json.dumps(body))

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._server = HTTPServer(Application([(r"/bot[^/]+/(\w+)", Handler)]))
        self._server.listen(self.port, "127.0.0.1")
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()


def _serve(ports: Any, latency: tuple[float, float] | None) -> None:
    """The Bot API in a process of its own, as Telegram's is: the bench's own pauses then
    delay its requests instead of shifting the server's clock."""

    async def serve() -> None:
        api = StrictApi(latency)
        await api.start()
        ports.put(api.port)
        await asyncio.Event().wait()

    asyncio.run(serve())


@contextlib.contextmanager
def strict_api_process(latency: tuple[float, float] | None = None) -> Iterator[str]:
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    process = context.Process(target=_serve, args=(ports, latency), daemon=True)
    process.start()
    try:
        yield f"http://127.0.0.1:{ports.get(timeout=60)}"
    finally:
        process.terminate()
        process.join()


LATENCY = (0.020, 0.200)  # seconds each way, drawn per request and per answer


async def deliver(sessions: Any, messages: int, latency: bool = False) -> dict[str, float]:
    from telegram import Bot
    from telegram.request import HTTPXRequest

    now = utcnow()
    rows = [
        {
            "channel": "telegram",
            "chat_id": str(10_000 + i),
            "text": f"tin {i}",
            "buttons": [],
            "purpose": "bench",
            "status": "pending",
            "attempts": 0,
            "not_before": now,
            "created_at": now,
        }
        for i in range(messages)
    ]
    async with sessions() as session, session.begin():
        for i in range(0, len(rows), 5000):
            await session.execute(insert(OutboxMessage), rows[i : i + 5000])
    with strict_api_process(LATENCY if latency else None) as base:
        async with httpx.AsyncClient(base_url=base) as client:

            async def stats() -> dict[str, Any]:
                return (await client.get("/bot1:bench/stats")).json()

            bot = Bot(
                "1:bench", base_url=f"{base}/bot", request=HTTPXRequest(connection_pool_size=64)
            )
            dispatcher = Dispatcher(sessions, {"telegram": TelegramSender(bot)})
            async with bot:
                del rows
                freeze_startup_objects()  # as `binhyen run` does once started
                began = time.monotonic()
                running = asyncio.create_task(dispatcher.run_forever(idle_seconds=0.05))
                for _ in range(messages * 10 // 30 * 5):  # ten times the minimum, 0.2 s steps
                    await asyncio.sleep(0.2)
                    if (await stats())["delivered"] >= messages:
                        break
                dispatcher.stop()
                await running
            final = await stats()
    elapsed = final["last_at"] - began
    minimum = messages / 30
    return {
        "messages": messages,
        "seconds": elapsed,
        "minimum_s": minimum,
        "over_minimum_pct": (elapsed / minimum - 1) * 100,
        "429s": final["too_many"],
        "429_pct": final["too_many"] / (final["too_many"] + final["delivered"]) * 100,
        "duplicates": final["duplicates"],
        "delivered": final["distinct"],
    }
