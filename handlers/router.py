"""One incoming event: de-duplicated, in one transaction, routed, its replies returned.

The conversation state, the report, the outbox rows and the processed update id are
written together, so that a crash leaves either all of them or none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from conversations.callbacks import CaseAction, OfficerScreen, Screen, decode
from conversations.context import Ctx, EngineConfig
from conversations.engine import Engine
from conversations.events import Incoming, Reply, has_buttons
from handlers.cases import CaseActions
from handlers.commands import handle_command, resident_words
from handlers.onboarding import looks_like_invite, redeem
from handlers.tip_codes import open_by_code
from locales import t, wording
from locales.text import clean
from storage.db import lean_sessions
from storage.enums import Role
from storage.models import Conversation
from storage.queries import arrival, find_conversation, save_conversation, touch
from storage.tip_access import looks_like_code
from storage.types import utcnow

log = logging.getLogger(__name__)


class Router:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        engine: Engine,
        config: EngineConfig,
        *,
        on_queued: Callable[[], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = lean_sessions(sessions)
        # Reads that take long (an officer's statistics, criteria, export) keep to the
        # sessions given, which on SQLite run off the event loop's thread.
        self.long_sessions = sessions
        self.engine = engine
        self.actions = CaseActions(engine)
        engine.actions = self.actions
        self.config = config
        self.on_queued = on_queued
        self.clock = clock
        # SQLite has one writer: waiting here in turn is far cheaper than its busy-retry loop.
        bind = sessions.kw.get("bind")
        self._one_writer = (
            asyncio.Lock()
            if bind is not None and bind.dialect.name == "sqlite"
            else contextlib.nullcontext()
        )
        self.group = GroupCommit(self)

    async def handle(self, event: Incoming) -> list[Reply]:
        """One event in a transaction of its own; its replies once committed."""
        return await self._one(_normalised(event))

    async def handle_batch(self, events: list[Incoming]) -> list[list[Reply]]:
        """Events ready together, in order, in one transaction; each one's replies, returned
        only after the commit. When anything fails (a bug, a conflict, the database) the
        batch is rolled back and replayed one event per transaction, so that one bad event
        costs the others nothing and gets its own error reply. An officer's statistics,
        criteria or export go alone, in their place in the order (_long_read)."""
        results: list[list[Reply]] = []
        run: list[Incoming] = []
        for event in (_normalised(e) for e in events):
            if _long_read(event):
                results += await self._together(run)
                run = []
                results.append(await self._one(event))
            else:
                run.append(event)
        return results + await self._together(run)

    async def _together(self, events: list[Incoming]) -> list[list[Reply]]:
        if len(events) <= 1:
            return [await self._one(e) for e in events]
        try:
            async with self._one_writer, self.sessions() as session, session.begin():
                done = [await self._handle(session, e) for e in events]
        except Exception:
            log.info("a batch of %d updates failed: replaying them one by one", len(events))
            return [await self._one(e) for e in events]
        if any(queued for _, queued in done) and self.on_queued:
            self.on_queued()
        pairs = zip(done, events, strict=True)
        return [[_addressed(r, e) for r in replies] for (replies, _), e in pairs]

    async def _one(self, event: Incoming) -> list[Reply]:
        attempt = waited = 0
        while attempt < 3:
            attempt += 1
            try:
                sessions = self.long_sessions if _long_read(event) else self.sessions
                async with self._one_writer, sessions() as session, session.begin():
                    replies, queued = await self._handle(session, event)
                if queued and self.on_queued:
                    self.on_queued()
                return [_addressed(r, event) for r in replies]
            except (StaleDataError, IntegrityError):
                # Another worker wrote this chat at the same moment: read again and retry.
                log.info("conflict on a %s update, attempt %d", event.channel, attempt)
            except DBAPIError as exc:
                if exc.connection_invalidated and attempt == 1:
                    # A connection that died while idle (a database restart): the pool has
                    # let go of it and of its siblings; the next attempt opens a new one.
                    # This is what a ping before every update used to cost a round trip for.
                    log.info("connection lost on a %s update: trying again", event.channel)
                    continue
                if isinstance(exc, OperationalError) and _locked(exc) and waited < 40:
                    # SQLite's write lock held by another connection (the outbox, the
                    # scheduler) past the short busy timeout: the loop is free again during
                    # the pause, up to about twenty seconds in all, and it is no attempt lost.
                    waited += 1
                    attempt -= 1
                    log.info("database locked on a %s update", event.channel)
                    await asyncio.sleep(min(0.02 * waited, 0.5))
                    continue
                # The database is away: refused, reset, timed out. Chat ids stay out of logs:
                # a tipster's must not be recoverable from them.
                log.exception("database error on a %s update", event.channel)
                break
            except OSError:
                log.exception("database error on a %s update", event.channel)
                break
            except Exception:
                log.exception("unexpected error on a %s update", event.channel)
                lang = self.config.default_language
                key = wording(lang, "error.unexpected", buttons=has_buttons(event.channel))
                return [Reply(t(lang, key), chat_id=event.chat_id)]
        return [Reply(t(self.config.default_language, "error.busy"), chat_id=event.chat_id)]

    async def _handle(self, session: AsyncSession, event: Incoming) -> tuple[list[Reply], int]:
        if event.shared_sender:
            # Nobody to bind: answer a command with how to use the bot, and do nothing else.
            reply = Reply(t(self.config.default_language, "error.shared_sender"))
            return ([reply] if event.command else []), 0
        duplicate, identity, first_contact, conv = await arrival(
            session,
            channel=event.channel,
            user_id=event.user_id,
            chat_id=event.chat_id,
            language=self.config.default_language,
            update_key=str(event.update_key) if event.update_key else None,
        )
        ctx = Ctx(
            session=session,
            event=event,
            person=identity.person,
            identity=identity,
            config=self.config,
            now=self.clock(),
        )
        replies, queued = await self._answer(ctx, conv, duplicate, first_contact)
        await save_conversation(session, conv)
        return replies, queued

    async def _answer(
        self, ctx: Ctx, conv: Conversation, duplicate: bool, first_contact: bool
    ) -> tuple[list[Reply], int]:
        event = ctx.event
        if duplicate:
            return ([self.engine.prompt(ctx, conv)] if event.private else []), 0
        if event.edited:  # a change to an old message is not an answer to today's question
            edited = [Reply(ctx.t("input.edited")), self.engine.prompt(ctx, conv)]
            return (edited if event.private else []), 0
        event = _numbered_answer(conv, event)
        ctx.event = event
        replies = await self._route(ctx, conv)
        if event.private and not any(r.buttons for r in replies):
            # An answer that leaves nothing to choose (/dulieu, /lich, a refusal) is followed by
            # what the chat stands at, the menu or the open question: never a dead end.
            replies.append(self.engine.prompt(ctx, conv))
        if first_contact and event.private and not event.command:
            # Someone who never pressed Start (or who is on Zalo): say what this is first.
            words = await resident_words(ctx)
            replies.insert(0, Reply(ctx.t("start.welcome_resident", **words)))
        conv.menu = last_menu(replies, conv.menu)
        touch(conv, ctx.now)
        replies = [r if r.chat_id or r.lang else replace(r, lang=ctx.lang) for r in replies]
        return replies, ctx.queued

    async def _route(self, ctx: Ctx, conv: Conversation) -> list[Reply]:
        event = ctx.event
        if not ctx.person.active:  # the one check of a revoked person: nothing is done
            return [Reply(ctx.t("error.revoked"))] if event.private else []
        if event.command:
            return await handle_command(ctx, conv, self.engine, self.actions)
        if event.callback and isinstance(decode(event.callback), CaseAction | OfficerScreen):
            return await self.actions(ctx, conv, event.callback)
        if not event.private:
            return []  # group chats: only commands and case buttons, no chatter
        if (
            conv.flow is None
            and event.text
            and ctx.person.role == Role.RESIDENT
            and looks_like_invite(event.text)
        ):
            greeting = await redeem(ctx, conv, event.text)
            return [greeting, self.engine.menu(ctx, conv)]
        if (
            conv.flow is None
            and event.text
            and looks_like_code(event.text)
            and self.engine.allowed(ctx, "tip_add")
        ):
            return await open_by_code(ctx, conv, self.engine, event.text)
        return await self.engine.handle(ctx, conv, event)


_LONG_COMMANDS = frozenset({"stats", "thongke", "criteria", "tieuchi", "export", "xuat"})
_LONG_SCREENS = (Screen.STATS, Screen.CRITERIA, Screen.EXPORT)


def _long_read(event: Incoming) -> bool:
    if event.command:
        return event.command in _LONG_COMMANDS
    pressed = decode(event.callback) if event.callback else None
    return isinstance(pressed, OfficerScreen) and pressed.screen in _LONG_SCREENS


def _locked(exc: OperationalError) -> bool:
    return "database is locked" in str(exc.orig)


class GroupCommit:
    """Events handed in while a batch is being written wait, and go together in the next.

    No timer: the first event of a quiet moment starts at once, alone; under load a batch
    holds whatever arrived while the one before it was being committed. Callers that keep
    one event per chat in flight (python-telegram-bot's per-chat processor) get their order
    kept; events of one chat handed in together run in the order given."""

    def __init__(self, router: Router, most: int = 100) -> None:
        self.router = router
        self.most = most
        self._waiting: list[tuple[Incoming, asyncio.Future[list[Reply]]]] = []
        self._writing = False

    async def handle(self, event: Incoming) -> list[Reply]:
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((event, future))
        if not self._writing:
            self._writing = True
            # Started on the loop's next turn, so that what is ready now joins this batch.
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self.most], self._waiting[self.most :]
                try:
                    results = await self.router.handle_batch([e for e, _ in batch])
                except BaseException as exc:  # handle_batch answers every error it can
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                    continue
                for (_, future), replies in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(replies)
        finally:
            self._writing = False


def _addressed(reply: Reply, event: Incoming) -> Reply:
    """Where a reply goes: its own chat if it names one; the asker's private chat for what is
    private, when asked in a group (a platform's private chat id is the user's id); else here."""
    if reply.chat_id:
        return reply
    if reply.private_only and not event.private:
        return replace(reply, chat_id=event.user_id)
    return replace(reply, chat_id=event.chat_id)


def _normalised(event: Incoming) -> Incoming:
    """Text cleaned on arrival, and "/start x" typed as text read as a command."""
    text = clean(event.text) if event.text is not None else None
    command, args = event.command, event.args
    if text and text.startswith("/") and not command:
        head, _, args = text[1:].partition(" ")
        command, text = head.split("@")[0].lower() or None, None
    return replace(event, text=text, command=command, args=clean(args or ""))


def last_menu(replies: list[Reply], previous: list[list[str]]) -> list[list[str]]:
    """The numbered choices of the last reply with buttons: what a typed number answers."""
    for reply in reversed(replies):
        if reply.buttons:
            return [[b.label, b.data] for b in reply.choices()]
    return previous if not replies else []


async def remember_menu(
    sessions: async_sessionmaker[AsyncSession], channel: str, chat_id: str, reply: Reply
) -> None:
    """After the outbox delivered reply to a chat without buttons: its numbers answer it."""
    if not reply.buttons:
        return
    async with sessions() as session, session.begin():
        conv = await find_conversation(session=session, channel=channel, chat_id=chat_id)
        if conv is not None:
            conv.menu = last_menu([reply], conv.menu)


def _numbered_answer(conv: Conversation, event: Incoming) -> Incoming:
    """A bare number answers the last numbered menu, which may have come from the outbox
    (a reminder, an alert, a question) rather than from the current step."""
    text = (event.text or "").strip()
    if not text.isdecimal() or not conv.menu:
        return event
    index = int(text) - 1
    if 0 <= index < len(conv.menu):
        return replace(event, text=None, callback=conv.menu[index][1])
    return event
