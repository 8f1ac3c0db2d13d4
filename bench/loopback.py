"""A Bot API on loopback, in a process of its own, that answers after a random 20–200 ms
each way: python-telegram-bot's own httpx client then waits on the network as it does for
Telegram's, instead of on an in-process stand-in."""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import random
import socket
import time
from collections.abc import Iterator
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.web import Application, RequestHandler

from bench.offline import BOT

LATENCY_S = (0.020, 0.200)  # each way


def _answer(method: str, params: dict[str, str], count: int) -> Any:
    if method == "getMe":
        return BOT
    if method in ("sendMessage", "sendPhoto", "sendDocument"):
        chat = int(params.get("chat_id") or 0)
        return {
            "message_id": count,
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private"},
            "text": "ok",
        }
    return True


def _serve(ports: Any, seed: int) -> None:
    rng = random.Random(seed)
    count = 0

    class Handler(RequestHandler):
        async def post(self, method: str) -> None:
            nonlocal count
            count += 1
            await asyncio.sleep(rng.uniform(*LATENCY_S))  # the request on its way in
            body = self.request.body
            if self.request.headers.get("Content-Type", "").startswith("application/json"):
                params = {k: str(v) for k, v in json.loads(body or b"{}").items()}
            else:
                params = {k: self.get_argument(k) for k in self.request.arguments}
            result = _answer(method, params, count)
            await asyncio.sleep(rng.uniform(*LATENCY_S))  # the answer on its way back
            self.set_header("Content-Type", "application/json")
            self.write(json.dumps({"ok": True, "result": result}))

    async def serve() -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        HTTPServer(Application([(r"/bot[^/]+/(\w+)", Handler)])).listen(port, "127.0.0.1")
        ports.put(port)
        await asyncio.Event().wait()

    asyncio.run(serve())


@contextlib.contextmanager
def slow_api_process(seed: int = 1) -> Iterator[str]:
    """The base URL of a Bot API with latency, running until the block ends."""
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    process = context.Process(target=_serve, args=(ports, seed), daemon=True)
    process.start()
    try:
        yield f"http://127.0.0.1:{ports.get(timeout=60)}"
    finally:
        process.terminate()
        process.join()
