"""Two `binhyen run` workers on one PostgreSQL share one bot token's Telegram limits: the
loopback Bot API answers 429 past 30 messages in any second, or a second message to one chat
within a second, as Telegram does."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import insert

from storage.models import OutboxMessage
from storage.types import utcnow
from tests.fake_telegram import FakeBotApi
from tests.test_faults import Bot, _until
from tests.test_limits import Strict

pytestmark = pytest.mark.fault


class TelegramLimits(Strict):
    """The fail hook of a FakeBotApi: 429 for a send past Telegram's limits."""

    def __call__(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        if not method.startswith("send") or self.accepts(time.monotonic(), str(params["chat_id"])):
            return None
        return {
            "http_status": 429,
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        }


async def queue(sessions, prefix: str, chats: int, each: int, first: int = 0) -> None:
    now = utcnow()
    rows = [
        {
            "channel": "telegram",
            "chat_id": str(70_000 + c),
            "text": f"{prefix} {c}.{n}",
            "buttons": [],
            "purpose": "limits",
            "status": "pending",
            "attempts": 0,
            "not_before": now,
            "created_at": now,
        }
        for n in range(first, first + each)
        for c in range(chats)
    ]
    async with sessions() as session, session.begin():
        await session.execute(insert(OutboxMessage), rows)


async def test_two_workers_send_within_one_set_of_limits_and_one_takes_over(
    sessions, db_url, tmp_path
):
    if not db_url.startswith("postgresql"):
        pytest.skip("several workers share one database on PostgreSQL only")
    limits = TelegramLimits()
    api = FakeBotApi(fail=limits)
    await api.start()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = Bot(db_url, api, tmp_path / "a"), Bot(db_url, api, tmp_path / "b")

    def running(bot: Bot) -> bool:
        return bot.log.exists() and "Telegram channel running" in bot.log.read_text()

    def delivered(prefix: str) -> Counter[str]:
        return Counter(
            p["text"] for m, p in api.calls if m == "sendMessage" and p["text"].startswith(prefix)
        )

    try:
        await first.start()  # one after the other: the first one migrates the database
        await _until(lambda: running(first), 60)
        await second.start()
        await _until(lambda: running(second), 60)
        # 150 messages to 90 chats, 30 of them with three messages in a row.
        await queue(sessions, "tin", 90, 1)
        await queue(sessions, "tin", 30, 2, first=1)
        await _until(lambda: len(delivered("tin ")) == 150, 60)
        assert set(delivered("tin ").values()) == {1}
        # Two limiters of their own would offer 60 a second and meet dozens of 429s.
        assert limits.too_many <= 2
        sender = [b for b in (first, second) if "sends the telegram outbox" in b.log.read_text()]
        assert len(sender) == 1
        other = second if sender[0] is first else first

        await sender[0].kill()  # PostgreSQL drops its lock with its connection
        await queue(sessions, "sau", 40, 1)
        await _until(lambda: len(delivered("sau ")) == 40, 60)
        assert set(delivered("sau ").values()) == {1}
        assert "sends the telegram outbox" in other.log.read_text()
    finally:
        await first.stop()
        await second.stop()
        await api.stop()
