"""A Zalo Bot API server on loopback, answering as the platform does (errors with HTTP 200)."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.web import Application, RequestHandler

from tests.fake_telegram import free_port

TOKEN = "2411:zalo-test-secret"


@dataclass
class FakeZaloApi:
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    fail: Any = None  # (method, payload) -> an error answer, or None
    webhook: str = ""
    # Files served by a temporary address, as Zalo serves photos: name -> (type, bytes).
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._arrived = asyncio.Event()
        self._server: HTTPServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        api = self

        class Handler(RequestHandler):
            async def post(self, token: str, method: str) -> None:
                payload = json.loads(self.request.body or b"{}")
                if token != TOKEN:  # Zalo answers errors with HTTP 200 and ok: false
                    self.write({"ok": False, "error_code": 401, "description": "Unauthorized"})
                    return
                answer = await api.handle(method, payload)
                if answer.get("slow"):  # a slow answer, then the normal one
                    await asyncio.sleep(answer["slow"])
                    answer = await api.handle(method, payload, failures=False)
                self.write(answer)

        class Files(RequestHandler):
            def get(self, name: str) -> None:
                if name not in api.files:
                    self.set_status(404)
                    return
                kind, body = api.files[name]
                self.set_header("Content-Type", kind)
                self.write(body)

        self.port = free_port()
        routes = [(r"/bot([^/]+)/(\w+)", Handler), (r"/files/(.+)", Files)]
        self._server = HTTPServer(Application(routes))
        self._server.listen(self.port, "127.0.0.1")

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()

    async def handle(
        self, method: str, payload: dict[str, Any], failures: bool = True
    ) -> dict[str, Any]:
        if failures and self.fail is not None and (failure := self.fail(method, payload)):
            return failure
        self.calls.append((method, payload))
        if method == "getMe":
            return {"ok": True, "result": {"id": "bot1", "account_name": "binhyen.bot"}}
        if method == "getUpdates":
            if self.webhook:
                return {"ok": False, "error_code": 400, "description": "webhook is set"}
            if not self.updates:
                self._arrived.clear()
                try:
                    await asyncio.wait_for(
                        self._arrived.wait(), timeout=min(float(payload.get("timeout", 1)), 0.5)
                    )
                except TimeoutError:
                    return {"ok": False, "error_code": 408, "description": "Request timeout"}
            return {"ok": True, "result": self.updates.pop(0)}  # one update a call
        if method == "sendMessage":
            text = str(payload.get("text", ""))
            if not 1 <= len(text) <= 2000:
                return {"ok": False, "error_code": 400, "description": "text length 1..2000"}
            return {
                "ok": True,
                "result": {"message_id": f"m{len(self.calls)}", "date": int(time.time() * 1000)},
            }
        if method in ("deleteWebhook", "setWebhook", "sendPhoto", "sendChatAction"):
            if method == "setWebhook":
                self.webhook = payload.get("url", "")
            if method == "deleteWebhook":
                self.webhook = ""
            return {"ok": True, "result": True}
        return {"ok": False, "error_code": 404, "description": "Not Found"}

    def push(self, update: dict[str, Any]) -> None:
        self.updates.append(update)
        self._arrived.set()

    def sent(self, chat_id: str) -> list[str]:
        return [p["text"] for m, p in self.calls if m == "sendMessage" and p["chat_id"] == chat_id]


_ids = itertools.count(1)


def update(user: str, event: str, wrapped: bool = False, **message: Any) -> dict[str, Any]:
    body = {
        "event_name": event,
        "message": {
            "message_id": message.pop("message_id", f"mid{next(_ids)}"),
            "date": int(time.time() * 1000),
            "chat": {
                "id": message.pop("chat_id", user),
                "chat_type": message.pop("chat_type", "PRIVATE"),
            },
            "from": {"id": user, "display_name": "Hùng", "is_bot": False},
            **message,
        },
    }
    return {"ok": True, "result": body} if wrapped else body


def text(user: str, body: str, **extra: Any) -> dict[str, Any]:
    return update(user, "message.text.received", text=body, **extra)


def image(user: str, url: str) -> dict[str, Any]:
    return update(user, "message.image.received", photo_url=url)
