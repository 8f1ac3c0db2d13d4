"""Zalo Bot Platform over httpx: the API client, updates in as neutral events, replies out as
numbered text (Zalo has no buttons), and long polling (the webhook is served by bot.web)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chatlocks import ChatLocks
from bot.rendering import numbered_text
from conversations.events import Button, Incoming, MediaIn, Reply
from handlers.router import Router, remember_menu
from locales import t
from locales.text import split_text
from scheduler.dispatcher import DeliveryError
from storage import media
from storage.enums import Channel
from storage.types import utcnow

log = logging.getLogger(__name__)
TEXT_LIMIT = 2000  # characters per sendMessage


class ZaloError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description


class ZaloClient:
    """Every answer is {"ok": bool, "result"…}; errors can come with HTTP 200, so ok decides."""

    def __init__(self, token: str, base_url: str, http: httpx.AsyncClient | None = None) -> None:
        self.url = f"{base_url.rstrip('/')}/bot{token}"
        self.http = http or httpx.AsyncClient(timeout=httpx.Timeout(20, read=60))

    async def call(
        self, method: str, payload: dict[str, Any] | None = None, wait: float | None = None
    ) -> Any:
        try:
            response = await self.http.post(
                f"{self.url}/{method}", json=payload or {}, timeout=wait
            )
        except httpx.TimeoutException as exc:
            raise ZaloError(408, "Request timeout") from exc
        except httpx.HTTPError as exc:
            raise ZaloError(0, f"network: {exc}") from exc
        try:
            body = response.json()
        except ValueError as exc:
            raise ZaloError(response.status_code, response.text[:200]) from exc
        if not body.get("ok"):
            code = int(body.get("error_code") or response.status_code or 0)
            raise ZaloError(code, str(body.get("description", "")))
        return body.get("result")

    async def send_message(self, chat_id: str, text: str) -> None:
        for part in split_text(text or "…", TEXT_LIMIT):
            await self.call("sendMessage", {"chat_id": chat_id, "text": part})

    async def close(self) -> None:
        await self.http.aclose()


def to_event(raw: dict[str, Any]) -> Incoming | None:
    """A Zalo update, wrapped in {"ok", "result"} or not, as a neutral event."""
    wrapped = raw.get("result")
    update: dict[str, Any] = wrapped if isinstance(wrapped, dict) else raw
    message = update.get("message") or {}
    chat, sender = message.get("chat") or {}, message.get("from") or {}
    if not chat.get("id") or sender.get("is_bot"):
        return None
    base: dict[str, Any] = {
        "channel": Channel.ZALO,
        "chat_id": str(chat["id"]),
        "user_id": str(sender.get("id") or chat["id"]),
        "update_key": str(message.get("message_id") or "") or None,
        "private": chat.get("chat_type", "PRIVATE") != "GROUP",
    }
    event = update.get("event_name", "")
    if event == "message.text.received":
        return Incoming(**base, text=str(message.get("text") or ""))
    if event == "message.image.received":
        url = message.get("photo_url") or message.get("photo")
        if url:
            return Incoming(**base, media=MediaIn("photo", str(url), None, message.get("caption")))
    if event == "message.voice.received":
        url = message.get("voice_url") or message.get("url") or message.get("voice")
        if url:
            return Incoming(**base, media=MediaIn("voice", str(url), None, None))
    return Incoming(**base)  # a sticker or another kind: answered with a hint


def render(reply: Reply, lang: str) -> str:
    """Numbered text; what Zalo cannot carry (sharing a location, a file) is said in words."""
    lang = reply.lang or lang
    text = numbered_text(reply, lang)
    if any(b.share_location for b in reply.flat_buttons()):
        text += "\n" + t(lang, "zalo.no_location")
    if reply.document is not None or reply.photo is not None:
        text += "\n" + t(lang, "zalo.no_files")
    return text


class ZaloTransport:
    def __init__(
        self,
        client: ZaloClient,
        router: Router,
        language: str = "vi",
        store: media.MediaStore | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.router = router
        self.language = language
        self._locks = ChatLocks()

    async def handle(self, raw: dict[str, Any]) -> None:
        """One update: handled in order within its chat, every reply sent."""
        event = to_event(raw)
        if event is None:
            return
        event = await self.keep_media(event)
        async with self._locks(event.chat_id):
            for reply in await self.router.handle(event):
                await self.send_reply(reply.chat_id or event.chat_id, reply)

    async def keep_media(self, event: Incoming) -> Incoming:
        """Zalo's address of a photo or a voice note is temporary: the file itself is kept."""
        if self.store is None or event.media is None or not event.media.file_id.startswith("http"):
            return event
        try:
            stored = await self.store.fetch(event.media.file_id, utcnow())
        except media.Refused as exc:
            log.warning("a Zalo %s was not kept: %s", event.media.media_type, exc)
            return dataclasses.replace(event, media=None)  # answered as content not understood
        return dataclasses.replace(event, media=dataclasses.replace(event.media, file_id=stored))

    async def send_reply(self, chat_id: str, reply: Reply) -> None:
        for kind, url in reply.media:
            if kind == "photo" and url.startswith("http"):
                await self.client.call("sendPhoto", {"chat_id": chat_id, "photo": url})
        await self.client.send_message(chat_id, render(reply, self.language))

    async def poll(self, seconds: int = 30) -> None:
        """Long polling (the webhook is removed first: the two exclude each other).

        It survives any failure of its own, retrying with a growing pause; only a rejected
        token stops it, with one line saying which setting to fix."""
        backoff = 1.0
        webhook_removed = False
        while True:
            try:
                if not webhook_removed:
                    await self.client.call("deleteWebhook")
                    webhook_removed = True
                result = await self.client.call(
                    "getUpdates", {"timeout": seconds}, wait=seconds + 10
                )
                backoff = 1.0
            except ZaloError as exc:
                if exc.code == 408 or "timeout" in exc.description.lower():
                    continue  # an idle poll: normal
                if exc.code == 401:
                    log.error("Zalo refused ZALO_BOT_TOKEN (401): check it; Zalo polling stops")
                    return
                log.warning("Zalo polling failed (%s); retrying in %.0f s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(60.0, backoff * 2)
                continue
            except Exception:  # a bug of ours must not leave the bot deaf
                log.exception("Zalo polling failed; retrying in %.0f s", backoff)
                await asyncio.sleep(backoff)
                backoff = min(60.0, backoff * 2)
                continue
            updates = result if isinstance(result, list) else [result] if result else []
            for update in updates:
                try:
                    await self.handle(update)
                except Exception:
                    log.exception("a Zalo update could not be handled")


class ZaloSender:
    """The outbox's sender for Zalo: numbered text, and the numbers remembered for the chat."""

    def __init__(
        self, client: ZaloClient, sessions: async_sessionmaker[AsyncSession], language: str = "vi"
    ) -> None:
        self.client = client
        self.sessions = sessions
        self.language = language

    async def send(
        self,
        chat_id: str,
        text: str,
        buttons: list[list[dict[str, Any]]],
        media: tuple[str, str] | None = None,
        ephemeral: bool = False,
    ) -> None:
        # The numbers of a message to a tipster would be remembered on their chat, naming the
        # tip: such a message goes without them (its text says how to answer from the menu).
        rows = (
            [] if ephemeral else [[Button(b["label"], b["data"]) for b in row] for row in buttons]
        )
        # Zalo takes images by public URL only: a chart on disk is mentioned, not sent.
        reply = Reply(text, rows, photo=b"" if media else None)
        try:
            await self.client.send_message(chat_id, render(reply, self.language))
        except ZaloError as exc:
            if exc.code == 429:
                raise DeliveryError("429 quota", retry_after=30) from exc
            if exc.code in (401, 403):
                raise DeliveryError(
                    f"{exc.code} {exc.description}", blocked=exc.code == 403, permanent=True
                ) from exc
            if exc.code == 400:
                raise DeliveryError(f"400 {exc.description}", permanent=True) from exc
            raise DeliveryError(str(exc)) from exc
        await remember_menu(self.sessions, Channel.ZALO, chat_id, reply)
