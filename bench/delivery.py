"""Delivery: outbox messages to many chats against a Bot API on loopback that enforces
Telegram's limits, answering 429 when they are broken."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections import Counter, deque
from typing import Any

from sqlalchemy import insert
from tornado.httpserver import HTTPServer
from tornado.web import Application, RequestHandler

from bot.telegram import TelegramSender
from scheduler.dispatcher import Dispatcher
from storage.models import OutboxMessage
from storage.types import utcnow


class StrictApi:
    """30 messages in any second overall, one a second per chat; 429 otherwise."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.delivered = 0
        self.all_sent = asyncio.Event()
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
        if self.delivered >= self.expected:
            self.all_sent.set()
        return 200, {
            "ok": True,
            "result": {"message_id": 1, "date": 0, "chat": {"id": int(chat), "type": "private"}},
        }

    async def start(self) -> str:
        api = self

        class Handler(RequestHandler):
            def post(self, method: str) -> None:
                params = {k: self.get_argument(k) for k in self.request.arguments}
                if method == "getMe":
                    self.write(
                        {
                            "ok": True,
                            "result": {"id": 1, "is_bot": True, "first_name": "b", "username": "b"},
                        }
                    )
                    return
                status, body = api.answer(params)
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


async def deliver(sessions: Any, messages: int) -> dict[str, float]:
    from telegram import Bot
    from telegram.request import HTTPXRequest

    api = StrictApi(messages)
    base = await api.start()
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
    bot = Bot("1:bench", base_url=f"{base}/bot", request=HTTPXRequest(connection_pool_size=64))
    dispatcher = Dispatcher(sessions, {"telegram": TelegramSender(bot)})
    async with bot:
        began = time.perf_counter()
        running = asyncio.create_task(dispatcher.run_forever(idle_seconds=0.05))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(api.all_sent.wait(), timeout=messages)
        elapsed = time.perf_counter() - began
        dispatcher.stop()
        await running
    api.stop()
    minimum = messages / 30
    return {
        "messages": messages,
        "seconds": elapsed,
        "minimum_s": minimum,
        "over_minimum_pct": (elapsed / minimum - 1) * 100,
        "429s": api.too_many,
        "duplicates": sum(n - 1 for n in api.sent.values() if n > 1),
        "delivered": len(api.sent),
    }
