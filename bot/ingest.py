"""Updates in through the inbox, replies out with a hand-over to the outbox when they fail.

Every update a poller fetches, or a webhook is given (`receive`), is written to the inbox
and committed before the platform is told it arrived: a process killed at any moment loses
nothing. The processor claims whole chats from the inbox (storage.inbox), runs their
updates through the router in order, answers button presses, sends the replies and deletes
the rows. Left over after a crash, a row is run again; the router knows the update and
answers with the chat's current prompt, so a reply lost in the crash is sent again.

A reply the platform does not take at once (429, 5xx, a network error) is handed over to
the outbox, which sends it within the same rate limits, resuming a long message after the
parts already delivered; the chat's later replies queue behind it until it has gone.

Written here rather than taken from python-telegram-bot's Updater, which confirms updates
on its next getUpdates whether or not they were handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from conversations.events import Incoming, Reply
from handlers.router import Router
from storage import inbox, inbox_notice, outbox
from storage.inbox import Received
from storage.types import utcnow

log = logging.getLogger(__name__)


class Undelivered(Exception):
    """A reply not (wholly) delivered: `sent` of its parts went out before the failure."""

    def __init__(
        self, sent: int, reason: str, *, transient: bool, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.sent = sent
        self.transient = transient
        self.retry_after = retry_after


@dataclass(frozen=True)
class Handover:
    """What the outbox sends of a reply: its text, buttons, and the parts already sent."""

    text: str
    buttons: list[list[dict[str, Any]]]
    parts_sent: int


class PollLock(Protocol):
    """Held by the one worker that polls a bot token (scheduler.service.LeaderLock)."""

    async def hold(self) -> bool: ...


class InboxChannel(Protocol):
    """What the inbox needs of a channel."""

    def keys(self, payload: dict[str, Any]) -> tuple[str, str] | None:
        """(update key, chat) of a raw update; None for one that names no chat."""

    def event(self, payload: dict[str, Any]) -> Incoming | None:
        """The neutral event, or None for an update nobody answers."""

    async def acknowledge(self, payload: dict[str, Any]) -> None:
        """Whatever the platform wants at once (a button press answered)."""

    async def deliver(self, chat_id: str, reply: Reply) -> None:
        """Send a reply; raise Undelivered when it did not all go."""

    def handover(self, reply: Reply, sent: int) -> Handover | None:
        """The rest of a reply of which `sent` parts went, for the outbox; None when nothing
        the outbox can carry is left."""


@dataclass
class Ingest:
    sessions: async_sessionmaker[AsyncSession]
    router: Router
    channels: dict[str, InboxChannel] = field(default_factory=dict)
    on_handed_over: Callable[[], None] | None = None
    lease: timedelta = timedelta(seconds=15)
    clock: Callable[[], datetime] = utcnow
    chats_per_claim: int = 100
    batches_at_once: int = 4
    idle_seconds: float = 1.0

    def __post_init__(self) -> None:
        bind = self.sessions.kw.get("bind")
        self._engine: AsyncEngine | None = bind
        # Several workers share the inbox on PostgreSQL only: they wake each other there.
        self._shared = bind is not None and bind.dialect.name == "postgresql"
        self._wake = asyncio.Event()
        self._stopping = False
        self._batches: set[asyncio.Task[None]] = set()
        self._held: set[int] = set()

    # --- in ----------------------------------------------------------------------------

    async def receive(self, channel: str, payload: dict[str, Any]) -> None:
        """A webhook's update: written and committed (then the webhook may answer 200)."""
        await self.store(channel, [payload])

    async def store(self, channel: str, payloads: list[dict[str, Any]]) -> None:
        """Updates written to the inbox in one transaction; raises if they could not be."""
        source = self.channels[channel]
        now = self.clock()
        async with self.sessions() as session, session.begin():
            for payload in payloads:
                keys = source.keys(payload)
                if keys is None:
                    continue
                update_key, chat = keys
                await inbox.receive(
                    session,
                    channel=channel,
                    update_key=update_key,
                    chat=chat,
                    payload=payload,
                    now=now,
                )
            if self._shared:
                await inbox_notice.announce(session=session)
        self.wake()

    async def take(self, channel: str, payloads: list[dict[str, Any]]) -> None:
        """For a poller: the updates stored, or, when the database cannot take them, handled
        at once (the router then answers that nothing could be saved). Either way they may
        be acknowledged when this returns."""
        try:
            await self.store(channel, payloads)
        except Exception:
            log.exception("the inbox could not store %d %s update(s)", len(payloads), channel)
            source = self.channels[channel]
            rows = []
            for payload in payloads:
                keys = source.keys(payload)
                if keys is not None:
                    rows.append(Received(None, channel, inbox.chat_key(channel, keys[1]), payload))
            await self.process(rows)

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    # --- processing ----------------------------------------------------------------------

    async def recover(self) -> int:
        """At the start of the one process of a SQLite database: what it held when it died
        is free again. (On PostgreSQL other workers may hold rows: leases run out instead.)"""
        bind = self.sessions.kw.get("bind")
        if bind is None or bind.dialect.name != "sqlite":
            return 0
        async with self.sessions() as session, session.begin():
            return await inbox.release_all(session=session)

    async def run_once(self) -> int:
        """Claim a batch and process it all; the number of updates claimed."""
        rows = await self._claim()
        if rows:
            await self._process_held(rows)
        return len(rows)

    async def _claim(self) -> list[Received]:
        now = self.clock()
        async with self.sessions() as session, session.begin():
            rows = await inbox.claim(
                session=session,
                now=now,
                lease_until=now + self.lease,
                chats=self.chats_per_claim,
            )
        self._held.update(r.id for r in rows if r.id is not None)
        return rows

    async def _process_held(self, rows: list[Received]) -> None:
        try:
            await self.process(rows)
        finally:
            self._held.difference_update(r.id for r in rows if r.id is not None)

    async def run_forever(self) -> None:
        """Claim and process until stopped; a few batches at once, each chat in one of them."""
        await self.recover()
        renewing = asyncio.create_task(self._renew_forever())
        listening = (
            asyncio.create_task(inbox_notice.listen(self._engine, self.wake))
            if self._shared and self._engine is not None
            else None
        )
        try:
            while not self._stopping:
                self._wake.clear()
                rows: list[Received] = []
                if len(self._batches) < self.batches_at_once:
                    try:
                        rows = await self._claim()
                    except Exception:
                        log.exception("the inbox could not be read; trying again shortly")
                if rows:
                    task = asyncio.create_task(self._process_held(rows))
                    self._batches.add(task)
                    task.add_done_callback(self._batches.discard)
                    continue
                wake = asyncio.ensure_future(self._wake.wait())
                try:
                    await asyncio.wait(
                        [wake, *self._batches],
                        timeout=self.idle_seconds,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                finally:
                    wake.cancel()
            if self._batches:
                await asyncio.wait(set(self._batches))
        finally:
            for helper in (renewing, listening):
                if helper is not None:
                    helper.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await helper

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            if not self._held:
                continue
            try:
                async with self.sessions() as session, session.begin():
                    await inbox.renew(
                        session=session, ids=set(self._held), until=self.clock() + self.lease
                    )
            except Exception:
                log.exception("could not renew the inbox lease")

    async def process(self, rows: list[Received]) -> None:
        """One claimed batch: button presses answered, every update through the router (each
        chat's in order), the replies sent, the rows deleted."""
        known = [r for r in rows if r.channel in self.channels]
        await asyncio.gather(*(self._acknowledge(r) for r in known))
        events = [(r, await self._event(r)) for r in known]
        answers = await self._handle([e for _, e in events if e is not None])
        replies: dict[tuple[str, str], list[Reply]] = {}
        for row, event in events:
            for reply in answers.pop(0) if event is not None else []:
                target = reply.chat_id or (event.chat_id if event else "")
                replies.setdefault((row.channel, target), []).append(reply)
        await self._send_all(replies)
        stored = [r.id for r in rows if r.id is not None]
        if stored:
            async with self.sessions() as session, session.begin():
                await inbox.done(session=session, ids=stored)

    async def _event(self, row: Received) -> Incoming | None:
        """The update as an event; a channel that keeps media (Zalo's temporary addresses)
        keeps it first."""
        channel = self.channels[row.channel]
        event = channel.event(row.payload)
        keep = getattr(channel, "keep_media", None)
        return await keep(event) if event is not None and keep is not None else event

    async def _acknowledge(self, row: Received) -> None:
        try:
            await self.channels[row.channel].acknowledge(row.payload)
        except Exception:
            log.debug("could not acknowledge a %s update", row.channel, exc_info=True)

    async def _handle(self, events: list[Incoming]) -> list[list[Reply]]:
        """The router's replies to each event, in the events' order: the batch in one
        transaction (Router.handle_batch: group commit, replayed one by one on an error)."""
        return await self.router.handle_batch(events)

    # --- out -----------------------------------------------------------------------------

    async def _send_all(self, replies: dict[tuple[str, str], list[Reply]]) -> None:
        """Each chat's replies in order, chats at the same time; a chat with a handed-over
        reply still unsent gets all of its replies through the outbox, behind it."""
        if not replies:
            return
        queued: set[tuple[str, str]] = set()
        try:
            async with self.sessions() as session:
                for channel in {c for c, _ in replies}:
                    chats = [chat for c, chat in replies if c == channel]
                    for chat in await outbox.replies_waiting(
                        session=session, channel=channel, chat_ids=chats
                    ):
                        queued.add((channel, chat))
        except Exception:  # the database is away: the replies go directly, or not at all
            log.warning("could not check the outbox for waiting replies", exc_info=True)
        await asyncio.gather(
            *(self._send_chat(key, rs, key in queued) for key, rs in replies.items())
        )

    async def _send_chat(self, key: tuple[str, str], replies: list[Reply], queued: bool) -> None:
        channel, chat_id = key
        source = self.channels[channel]
        for i, reply in enumerate(replies):
            if queued:
                await self._hand_over(key, replies[i:], sent=0, retry_after=0.0)
                return
            try:
                await source.deliver(chat_id, reply)
            except Undelivered as exc:
                if exc.transient:
                    log.info("a %s reply was not taken (%s); the outbox sends it", channel, exc)
                    await self._hand_over(
                        key, replies[i:], sent=exc.sent, retry_after=exc.retry_after
                    )
                    return
                log.warning("a %s reply could not be delivered: %s", channel, exc)
            except Exception:
                log.exception("a %s reply failed", channel)

    async def _hand_over(
        self,
        key: tuple[str, str],
        replies: list[Reply],
        *,
        sent: int,
        retry_after: float | None,
    ) -> None:
        channel, chat_id = key
        source = self.channels[channel]
        now = self.clock()
        due = now + timedelta(seconds=retry_after if retry_after is not None else 1)
        try:
            async with self.sessions() as session, session.begin():
                for i, reply in enumerate(replies):
                    rest = source.handover(reply, sent if i == 0 else 0)
                    if rest is None:
                        continue
                    await outbox.hand_over_reply(
                        session,
                        channel=channel,
                        chat_id=chat_id,
                        text=rest.text,
                        buttons=rest.buttons,
                        parts_sent=rest.parts_sent,
                        now=now,
                        not_before=due,
                    )
        except Exception:
            log.exception("%d %s replies could not be handed to the outbox", len(replies), channel)
            return
        if self.on_handed_over is not None:
            self.on_handed_over()
