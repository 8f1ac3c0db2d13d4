"""A Bot API server on loopback: enough of Telegram for the real client to run against."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.web import Application, RequestHandler

TOKEN = "123456:TEST-token"
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Bình Yên",
    "username": "binhyen_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class FakeBotApi:
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    port: int = 0

    # Decides a failure for a call (an error answer), or None to answer normally.
    fail: Any = None
    failures: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)

    # getUpdates answered 409 because another one came in while it waited (two pollers),
    # to a client still connected: a killed process's poll is not one.
    conflicts: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._arrived = asyncio.Event()
        self._poll_gen = 0
        self._superseded = asyncio.Event()
        self._ids = itertools.count(1)
        self._messages = itertools.count(1)
        self._server: HTTPServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        api = self

        class Handler(RequestHandler):
            async def post(self, token: str, method: str) -> None:
                await self._answer(token, method)

            async def get(self, token: str, method: str) -> None:
                await self._answer(token, method)

            async def _answer(self, token: str, method: str) -> None:
                params = {k: self.get_argument(k) for k in self.request.arguments}
                for name, files in self.request.files.items():  # multipart uploads
                    params[name] = {"filename": files[0].filename, "body": files[0].body}
                if self.request.headers.get("Content-Type", "").startswith("application/json"):
                    params = json.loads(self.request.body or b"{}")
                if token != TOKEN:
                    self.set_status(401)
                    self.write({"ok": False, "error_code": 401, "description": "Unauthorized"})
                    return
                answer = await api.handle(method, params)
                if answer.get("slow"):
                    await asyncio.sleep(answer["slow"])
                    answer = await api.handle(method, params, failures=False)
                if answer.get("drop"):  # the connection breaks before any answer
                    self.request.connection.stream.close()
                    return
                if answer.get("error_code") == 409 and not self.request.connection.stream.closed():
                    api.conflicts.append(params)
                if answer.get("http_status"):
                    self.set_status(answer.pop("http_status"))
                self.write(answer)

        self.port = free_port()
        app = Application([(r"/bot([^/]+)/(\w+)", Handler)])
        self._server = HTTPServer(app)
        self._server.listen(self.port, "127.0.0.1")

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()

    # --- the API ---------------------------------------------------------------------

    async def handle(
        self, method: str, params: dict[str, Any], failures: bool = True
    ) -> dict[str, Any]:
        if self.fail is not None and failures:
            failure = self.fail(method, params)
            if failure is not None:
                self.failures.append((method, params, failure))
                return failure
        self.calls.append((method, params))
        if method == "getMe":
            return {"ok": True, "result": BOT_USER}
        if method == "getUpdates":
            result = await self._get_updates(params)
            if result is None:  # as Telegram does: a newer getUpdates ends this one
                return {
                    "ok": False,
                    "error_code": 409,
                    "description": "Conflict: terminated by other getUpdates request",
                    "http_status": 409,
                }
            return {"ok": True, "result": result}
        if method == "sendMessage":
            chat_id = int(params["chat_id"])
            return {
                "ok": True,
                "result": {
                    "message_id": next(self._messages),
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                    "from": BOT_USER,
                    "text": params.get("text", ""),
                },
            }
        if method in ("sendPhoto", "sendDocument", "sendVoice", "sendVideo", "sendAudio"):
            chat_id = int(params["chat_id"])
            return {
                "ok": True,
                "result": {
                    "message_id": next(self._messages),
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                    "from": BOT_USER,
                    "document": {"file_id": "sent-doc", "file_unique_id": "sd"},
                },
            }
        if method in (
            "answerCallbackQuery",
            "setMyCommands",
            "deleteWebhook",
            "setWebhook",
            "close",
            "logOut",
        ):
            return {"ok": True, "result": True}
        if method == "getWebhookInfo":
            return {
                "ok": True,
                "result": {"url": "", "has_custom_certificate": False, "pending_update_count": 0},
            }
        return {"ok": False, "error_code": 404, "description": "Not Found: method not found"}

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]] | None:
        """The updates from the offset on (those before it are confirmed and dropped); None
        when a newer getUpdates came while this one waited."""
        self._poll_gen += 1
        gen = self._poll_gen
        self._superseded.set()  # the one waiting, if any, ends
        self._superseded = superseded = asyncio.Event()
        offset = int(params.get("offset") or 0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates:
            self._arrived.clear()
            arrived = asyncio.ensure_future(self._arrived.wait())
            ended = asyncio.ensure_future(superseded.wait())
            await asyncio.wait(
                [arrived, ended],
                timeout=min(float(params.get("timeout") or 0), 1.0),
                return_when=asyncio.FIRST_COMPLETED,
            )
            arrived.cancel()
            ended.cancel()
            if gen != self._poll_gen:
                return None
            if not self.updates:
                return []
        return list(self.updates)

    # --- what tests use --------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        update.setdefault("update_id", next(self._ids))
        self.updates.append(update)
        self._arrived.set()
        return update

    def sent(self, chat_id: int | str | None = None) -> list[dict[str, Any]]:
        return [
            p
            for m, p in self.calls
            if m == "sendMessage" and (chat_id is None or str(p["chat_id"]) == str(chat_id))
        ]

    def uploads(self, chat_id: int | str, method: str) -> list[dict[str, Any]]:
        return [p for m, p in self.calls if m == method and str(p["chat_id"]) == str(chat_id)]

    def keyboard(self, message: dict[str, Any]) -> dict[str, Any]:
        markup = message.get("reply_markup")
        return json.loads(markup) if isinstance(markup, str) else (markup or {})


_msg_ids = itertools.count(10_000)


def user(uid: int, name: str = "Hùng") -> dict[str, Any]:
    return {"id": uid, "is_bot": False, "first_name": name, "language_code": "vi"}


def chat(cid: int) -> dict[str, Any]:
    return (
        {"id": cid, "type": "private"}
        if cid > 0
        else {"id": cid, "type": "group", "title": "Trực ban"}
    )


def message(uid: int, cid: int | None = None, **content: Any) -> dict[str, Any]:
    return {
        "message": {
            "message_id": next(_msg_ids),
            "date": int(time.time()),
            "chat": chat(cid if cid is not None else uid),
            "from": user(uid),
            **content,
        }
    }


def text(uid: int, body: str, cid: int | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"text": body}
    if body.startswith("/"):
        length = len(body.split()[0])
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return message(uid, cid, **content)


def photo(uid: int, n: int = 1) -> dict[str, Any]:
    sizes = [
        {
            "file_id": f"small-{n}-{uid}",
            "file_unique_id": f"s{n}",
            "width": 90,
            "height": 90,
            "file_size": 1200,
        },
        {
            "file_id": f"photo-{n}-{uid}",
            "file_unique_id": f"p{n}",
            "width": 1280,
            "height": 960,
            "file_size": 180_000,
        },
    ]
    return message(uid, photo=sizes)


def voice(uid: int) -> dict[str, Any]:
    return message(
        uid,
        voice={
            "file_id": f"voice-{uid}",
            "file_unique_id": "v1",
            "duration": 7,
            "mime_type": "audio/ogg",
            "file_size": 21_000,
        },
    )


def location(uid: int, lat: float, lon: float) -> dict[str, Any]:
    return message(uid, location={"latitude": lat, "longitude": lon})


def sticker(uid: int) -> dict[str, Any]:
    return message(
        uid,
        sticker={
            "file_id": "st",
            "file_unique_id": "st",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        },
    )


def press(uid: int, data: str, cid: int | None = None) -> dict[str, Any]:
    return {
        "callback_query": {
            "id": str(next(_msg_ids)),
            "from": user(uid),
            "chat_instance": "ci",
            "data": data,
            "message": {
                "message_id": next(_msg_ids),
                "date": int(time.time()),
                "chat": chat(cid if cid is not None else uid),
                "text": "…",
            },
        }
    }
