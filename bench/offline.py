"""A python-telegram-bot request object that answers like the Bot API without a network."""

from __future__ import annotations

import json
import time
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT = {"id": 1, "is_bot": True, "first_name": "Bình Yên", "username": "binhyen_bench_bot"}


class OfflineRequest(BaseRequest):
    def __init__(self) -> None:
        self.calls = 0

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        self.calls += 1
        api = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        if api == "getMe":
            result: Any = BOT
        elif api in ("sendMessage", "sendPhoto", "sendDocument"):
            chat_id = params.get("chat_id", 0)
            assert isinstance(chat_id, int | str)
            chat = int(chat_id)
            result = {
                "message_id": self.calls,
                "date": int(time.time()),
                "chat": {"id": chat, "type": "private"},
                "text": "ok",
            }
        else:
            result = True
        return 200, json.dumps({"ok": True, "result": result}).encode()


def message_update(update_id: int, user: int, text: str) -> dict[str, Any]:
    content: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user, "type": "private"},
            "from": {"id": user, "is_bot": False, "first_name": "B"},
            **content,
        },
    }


def press_update(update_id: int, user: int, data: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(update_id),
            "from": {"id": user, "is_bot": False, "first_name": "B"},
            "chat_instance": "c",
            "data": data,
            "message": {
                "message_id": update_id,
                "date": int(time.time()),
                "chat": {"id": user, "type": "private"},
                "text": "…",
            },
        },
    }
