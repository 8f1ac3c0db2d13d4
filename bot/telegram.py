"""Telegram through python-telegram-bot: updates in as neutral events, replies out as keyboards."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import MessageLimit
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    ContextTypes,
    TypeHandler,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot.chatlocks import ChatLocks
from bot.ingest import Handover, PollLock, Undelivered
from conversations.callbacks import fits
from conversations.events import Button, Incoming, MediaIn, Reply
from handlers.commands import MENU_COMMANDS
from handlers.router import Router
from locales import available_languages, t
from locales.text import split_text
from scheduler.dispatcher import DeliveryError
from storage import media
from storage.enums import Channel

log = logging.getLogger(__name__)


# Durations as timedelta now, as the next major version of python-telegram-bot will have them.
os.environ.setdefault("PTB_TIMEDELTA", "1")


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Updates of one chat one at a time, in order; different chats concurrently."""

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks = ChatLocks()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        key = chat.id if chat else None
        async with self._locks(key):
            await coroutine

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


# Accounts that stand for many people: every anonymous group admin, and channel posts.
SHARED_SENDERS = frozenset({1087968824, 136817688})


def to_event(update: Update, bot_username: str | None = None) -> Incoming | None:
    """The neutral event of a Telegram update; None for updates with no one to answer, and
    for commands addressed to another bot ("/start@otherbot")."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return None
    message = update.effective_message
    base: dict[str, Any] = {
        "channel": Channel.TELEGRAM,
        "chat_id": str(chat.id),
        "user_id": str(user.id),
        "update_key": str(update.update_id),
        "private": chat.type == "private",
        "edited": update.edited_message is not None,
        "shared_sender": user.is_bot
        or user.id in SHARED_SENDERS
        or (message is not None and message.sender_chat is not None),
    }
    if update.callback_query is not None:
        return Incoming(**base, callback=update.callback_query.data or "")
    if message is None:
        return None
    if message.text is not None:
        text = message.text
        if (
            message.entities
            and message.entities[0].type == "bot_command"
            and (message.entities[0].offset == 0)
        ):
            length = message.entities[0].length
            command, _, addressee = text[1:length].partition("@")
            if addressee and bot_username and addressee.lower() != bot_username.lower():
                return None  # a command for another bot in the same group
            return Incoming(**base, command=command.lower(), args=text[length:].strip())
        return Incoming(**base, text=text)
    media = _media(message)
    if media is not None:
        return Incoming(**base, media=media)
    if message.location is not None:
        return Incoming(**base, location=(message.location.latitude, message.location.longitude))
    return Incoming(**base)  # a sticker, a contact, a poll…: answered with a hint


def _media(message: Message) -> MediaIn | None:
    caption = message.caption
    if message.photo:
        largest = message.photo[-1]
        return MediaIn("photo", largest.file_id, largest.file_size, caption)
    for kind in ("video", "voice", "audio", "video_note", "document"):
        item = getattr(message, kind)
        if item is not None:
            name = "video" if kind == "video_note" else kind
            return MediaIn(name, item.file_id, item.file_size, caption)
    return None


def keyboard(reply: Reply) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    """Inline buttons, or a reply keyboard when one button shares the location."""
    if not reply.buttons:
        return None
    if any(b.share_location for b in reply.flat_buttons()):
        rows = [
            [KeyboardButton(b.label, request_location=b.share_location) for b in row]
            for row in reply.buttons
        ]
        return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)
    return inline_keyboard(reply.buttons)


def inline_keyboard(rows: list[list[Button]]) -> InlineKeyboardMarkup:
    for b in (b for row in rows for b in row):
        if not fits(b.data):
            raise ValueError(f"button data does not fit Telegram's limit: {b.data!r}")
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rows]
    )


def _calls(bot: Bot, chat_id: str, reply: Reply) -> list[Callable[[], Awaitable[object]]]:
    """The API calls of a reply, in order; each is one part of it."""
    calls: list[Callable[[], Awaitable[object]]] = []
    if reply.photo is not None:
        calls.append(partial(bot.send_photo, chat_id=chat_id, photo=reply.photo))
    for kind, given in reply.media:  # attachments of a case: Telegram's file id, or stored
        file_id: str | Path = media.stored_path(given) if media.is_stored(given) else given
        methods: dict[str, Callable[..., Awaitable[object]]] = {
            "photo": bot.send_photo,
            "video": bot.send_video,
            "voice": bot.send_voice,
            "audio": bot.send_audio,
        }
        method = methods.get(kind, bot.send_document)
        calls.append(partial(method, chat_id, file_id))
    parts = split_text(reply.text or "…", MessageLimit.MAX_TEXT_LENGTH)
    for i, part in enumerate(parts):
        markup = keyboard(reply) if i == len(parts) - 1 else None
        calls.append(partial(bot.send_message, chat_id=chat_id, text=part, reply_markup=markup))
    if reply.document is not None:
        name, content = reply.document
        calls.append(partial(bot.send_document, chat_id=chat_id, document=content, filename=name))
    return calls


def _before_text(reply: Reply) -> int:
    """How many of a reply's parts come before its text (an image, case attachments)."""
    return (reply.photo is not None) + len(reply.media)


def undelivered(sent: int, exc: TelegramError) -> Undelivered:
    """A failed call as the inbox sees it: 429, 5xx and the network are worth a retry."""
    if isinstance(exc, RetryAfter):
        after = exc.retry_after
        seconds = after.total_seconds() if isinstance(after, timedelta) else float(after)
        return Undelivered(sent, "429 Too Many Requests", transient=True, retry_after=seconds)
    if isinstance(exc, BadRequest | Forbidden | InvalidToken):
        return Undelivered(sent, f"{exc.message}", transient=False)
    return Undelivered(sent, f"network: {exc}", transient=isinstance(exc, NetworkError))


async def send_reply(bot: Bot, chat_id: str, reply: Reply, from_part: int = 0) -> None:
    """Every part of a reply from from_part on; Undelivered names how many went out."""
    calls = _calls(bot, chat_id, reply)
    for i in range(from_part, len(calls)):
        try:
            await calls[i]()
        except TelegramError as exc:
            raise undelivered(i, exc) from exc


class TelegramSender:
    """The outbox's sender for Telegram, mapping API errors to retry or give up."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(
        self,
        chat_id: str,
        text: str,
        buttons: list[list[dict[str, Any]]],
        media: tuple[str, str] | None = None,
        ephemeral: bool = False,
        from_part: int = 0,
    ) -> None:
        rows = [[Button(b["label"], b["data"]) for b in row] for row in buttons]
        photo = None
        if media is not None and from_part == 0:
            photo = await asyncio.to_thread(Path(media[1]).read_bytes)
        elif media is not None:
            photo = b""  # sent already: only its place among the parts counts
        try:
            await send_reply(self.bot, chat_id, Reply(text, rows, photo=photo), from_part)
        except Undelivered as failed:
            exc = failed.__cause__
            sent = failed.sent
            if isinstance(exc, RetryAfter):
                raise DeliveryError(
                    "429 Too Many Requests", retry_after=failed.retry_after, parts_sent=sent
                ) from exc
            if isinstance(exc, Forbidden):
                raise DeliveryError(f"403 {exc.message}", blocked=True) from exc
            if isinstance(exc, BadRequest):
                raise DeliveryError(f"400 {exc.message}", permanent=True) from exc
            raise DeliveryError(f"network: {exc}", parts_sent=sent) from exc


class TelegramInbox:
    """Telegram updates for the inbox: raw JSON in, replies out with the bot."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def keys(self, payload: dict[str, Any]) -> tuple[str, str] | None:
        update_id = payload.get("update_id")
        chat = raw_chat(payload)
        if update_id is None or chat is None:
            return None
        return str(update_id), chat

    def event(self, payload: dict[str, Any]) -> Incoming | None:
        update = Update.de_json(payload, self.bot)
        return to_event(update, self.bot.username) if update is not None else None

    async def acknowledge(self, payload: dict[str, Any]) -> None:
        query = payload.get("callback_query")
        if isinstance(query, dict) and query.get("id"):
            await self.bot.answer_callback_query(str(query["id"]))

    async def deliver(self, chat_id: str, reply: Reply) -> None:
        await send_reply(self.bot, chat_id, reply)

    def handover(self, reply: Reply, sent: int) -> Handover | None:
        parts = len(split_text(reply.text or "…", MessageLimit.MAX_TEXT_LENGTH))
        text_sent = max(0, sent - _before_text(reply))
        if text_sent >= parts:
            if reply.document is not None:
                log.warning("a file could not be sent and is not kept to be sent again")
            return None
        if sent < _before_text(reply):
            log.warning("an image could not be sent and is not kept; its text is sent again")
        buttons = [[{"label": b.label, "data": b.data} for b in row] for row in reply.buttons]
        return Handover(reply.text or "…", buttons, text_sent)


def raw_chat(payload: dict[str, Any]) -> str | None:
    """The chat of a raw update: its message's, or its sender's for one without a message."""
    for name, value in payload.items():
        if name == "update_id" or not isinstance(value, dict):
            continue
        for holder in (value, value.get("message")):
            chat = holder.get("chat") if isinstance(holder, dict) else None
            if isinstance(chat, dict) and chat.get("id") is not None:
                return str(chat["id"])
        sender = value.get("from") or value.get("user")
        if isinstance(sender, dict) and sender.get("id") is not None:
            return str(sender["id"])
    return None


class TelegramPoller:
    """Long polling that acknowledges only what the inbox holds: the updates of each
    getUpdates are stored (or, with the database away, handled) before the next one asks
    past them. Only the worker holding the token's lock polls; the others stand by and one
    takes over within seconds when it dies."""

    def __init__(
        self,
        bot: Bot,
        take: Callable[[str, list[dict[str, Any]]], Awaitable[None]],
        lock: PollLock,
        *,
        timeout: int = 30,
        standby_seconds: float = 2.0,
    ) -> None:
        self.bot = bot
        self.take = take
        self.lock = lock
        self.timeout = timeout
        self.standby_seconds = standby_seconds
        self.polling = False

    async def run(self) -> None:
        offset: int | None = None
        backoff = 1.0
        while True:
            try:
                leading = await self.lock.hold()
            except Exception:
                # With the database away no other worker can take the lock either: the
                # poller goes on, so that the person is told nothing could be saved.
                log.exception("could not reach the database for the polling lock")
                leading = self.polling
            if not leading:
                if self.polling:
                    # The offset is kept: the next poll, whenever this worker leads again,
                    # confirms what it took (a lower offset than another poller's is harmless).
                    log.info("another worker polls Telegram now")
                    self.polling = False
                await asyncio.sleep(self.standby_seconds)
                continue
            try:
                if not self.polling:
                    await self.bot.delete_webhook(drop_pending_updates=False)
                    self.polling = True
                    log.info("this worker polls Telegram")
                updates = await self.bot.get_updates(offset=offset, timeout=self.timeout)
                backoff = 1.0
            except InvalidToken:
                log.error("Telegram refused TELEGRAM_BOT_TOKEN; Telegram polling stops")
                return
            except TimedOut:
                continue  # an idle poll
            except (TelegramError, OSError) as exc:  # Conflict: another poller, for a moment
                seconds = backoff
                if isinstance(exc, RetryAfter):
                    after = exc.retry_after
                    seconds = after.total_seconds() if isinstance(after, timedelta) else after
                log.warning("Telegram polling failed (%s); retrying in %.0f s", exc, seconds)
                await asyncio.sleep(seconds)
                backoff = min(60.0, backoff * 2)
                continue
            if not updates:
                continue
            try:
                await self.take(Channel.TELEGRAM, [u.to_dict() for u in updates])
            except Exception:  # not confirmed: Telegram gives them again
                log.exception("Telegram updates could not be taken; asking again")
                await asyncio.sleep(backoff)
                backoff = min(60.0, backoff * 2)
                continue
            offset = updates[-1].update_id + 1


def build_application(
    token: str, base_url: str, router: Router, request: BaseRequest | None = None
) -> Application:
    """The bot; request replaces the HTTP client (benchmarks pass one that stays offline)."""
    base = base_url.rstrip("/")
    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .request(
            request or HTTPXRequest(connection_pool_size=64, read_timeout=15, write_timeout=15)
        )
        .get_updates_request(request or HTTPXRequest(read_timeout=40))
        .concurrent_updates(PerChatUpdateProcessor(256))
        .build()
    )

    async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        event = to_event(update, context.bot.username if context.bot else None)
        if update.callback_query is not None:
            try:
                await update.callback_query.answer()
            except TelegramError:
                log.debug("could not answer callback query", exc_info=True)
        if event is None:
            return
        # Through group commit: updates that queued while the last batch was being written
        # share one transaction, committed before any of their replies is sent.
        for reply in await router.group.handle(event):
            await send_reply(context.bot, reply.chat_id or event.chat_id, reply)

    app.add_handler(TypeHandler(Update, on_update))
    app.add_error_handler(_log_error)
    return app


async def _log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("error while handling a Telegram update", exc_info=context.error)


async def set_commands(bot: Bot, default_language: str) -> None:
    """The command menu, in the default language and in every other catalogue's."""
    for lang in available_languages():
        commands = [BotCommand(c, t(lang, f"commands.{c}")) for c in MENU_COMMANDS]
        code = None if lang == default_language else lang
        await bot.set_my_commands(commands, language_code=code)
