"""Sends the outbox: claims due rows, hands them to the channel's sender within the channel's
rate limits, and records the outcome.

The rows are claimed and updated by storage.outbox (which explains why no row is sent twice,
and why delivery is at least once); here are the rate limits, one queue per chat so that a
chat's messages keep their order, and the chats sent to concurrently. Each step runs in a
transaction of its own.

Several workers on one PostgreSQL send through one set of limits: for each channel (one bot
token) only the worker holding that channel's advisory lock (storage.leader, as the scheduler
leader is elected) claims and sends its rows, so one limiter paces everything the token
sends. The others take over at their next pass when it dies: PostgreSQL drops its lock with
its connection, and its rows still "sending" are due again after stuck_after.
It knows no platform library: bot/ gives it one sender per channel at start.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from scheduler.limits import Limits, RateLimiter
from storage import outbox
from storage.leader import LeaderLock
from storage.models import OutboxMessage
from storage.types import utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
# Printed by the process that holds the terminal, with no platform limits to share: every
# worker sends its own (a console elsewhere would never see them).
LOCAL_CHANNELS = frozenset({"console"})


class DeliveryError(Exception):
    """A send that failed: retry later (after retry_after when given), or never (permanent)."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
        blocked: bool = False,
        parts_sent: int = 0,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        # The parts of a long message that went out before the failure, counted from the
        # first part of the message (not from where this attempt resumed).
        self.parts_sent = parts_sent
        self.permanent = permanent or blocked
        self.blocked = blocked


class Sender(Protocol):
    async def send(
        self,
        chat_id: str,
        text: str,
        buttons: list[list[dict[str, Any]]],
        media: tuple[str, str] | None = None,
        ephemeral: bool = False,
    ) -> None:
        """Send one message; media is (kind, file path) of an image to send with it. An
        ephemeral message (to a tipster) must leave nothing in the database. A sender that
        splits long messages also takes from_part (the parts already delivered, to skip) and
        raises DeliveryError with parts_sent."""


@dataclass
class Outcome:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    deferred: int = 0


def sender_lock_key(channel: str) -> int:
    """The advisory lock of a channel's one sender, the same in every worker."""
    return zlib.crc32(f"binhyen outbox sender {channel}".encode())


def _resume(row: OutboxMessage) -> dict[str, int]:
    """Where a long message resumes: after the parts already delivered (senders that never
    split a message are not asked)."""
    return {"from_part": row.parts_sent} if row.parts_sent else {}


def is_group(chat_id: str) -> bool:
    return chat_id.startswith("-")  # Telegram groups have negative ids


class Dispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        senders: dict[str, Sender],
        *,
        clock: Callable[[], datetime] = utcnow,
        batch: int = 100,
        limits: dict[str, Limits] | None = None,
        limiters: dict[str, RateLimiter] | None = None,
        stuck_after: timedelta = timedelta(minutes=5),
        engine: AsyncEngine | None = None,
    ) -> None:
        """engine: where the senders' locks are taken (PostgreSQL); None, one process sends."""
        self.sessions = sessions
        self.engine = engine
        self._locks: dict[str, LeaderLock] = {}
        self._leading: set[str] = set()
        self.senders = senders
        self.clock = clock
        self.batch = batch
        self.stuck_after = stuck_after
        self.limits = limits or {}
        self.limiters: dict[str, RateLimiter] = limiters or {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._queues: dict[tuple[str, str], deque[OutboxMessage]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._waiting = 0  # claimed rows not yet given a send slot
        self._sending: set[int] = set()
        self._progress = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Finish the pass under way, then return from run_forever."""
        self._stopping = True
        self._wake.set()

    def limiter(self, channel: str) -> RateLimiter:
        if channel not in self.limiters:
            self.limiters[channel] = RateLimiter(self.limits.get(channel, Limits()))
        return self.limiters[channel]

    async def sending_channels(self) -> list[str]:
        """The channels this worker sends for: all of them, unless another worker on the same
        PostgreSQL holds a channel's sender lock."""
        if self.engine is None:
            return list(self.senders)
        held = [c for c in self.senders if c in LOCAL_CHANNELS]
        for channel in [c for c in self.senders if c not in LOCAL_CHANNELS]:
            lock = self._locks.get(channel)
            if lock is None:
                name = f"the {channel} outbox sender"
                key = sender_lock_key(channel)
                lock = self._locks[channel] = LeaderLock(self.engine, key, name)
            try:
                if await lock.hold():
                    held.append(channel)
            except Exception:
                log.exception("could not reach the database for the %s sender lock", channel)
        for channel in set(held) - self._leading - LOCAL_CHANNELS:
            log.info("this worker now sends the %s outbox", channel)
        self._leading = set(held)
        return held

    async def release(self) -> None:
        """Let another worker send (called once stopped)."""
        for lock in self._locks.values():
            await lock.release()

    async def _claim(self) -> list[OutboxMessage]:
        channels = await self.sending_channels()
        if not channels:
            return []
        now = self.clock()
        async with self.sessions() as session, session.begin():
            return await outbox.claim(
                session=session,
                now=now,
                channels=channels,
                batch=self.batch,
                stuck_before=now - self.stuck_after,
                # Rows this dispatcher still holds are under way, however long they wait.
                held_ids=self._held(),
            )

    async def run_once(self) -> Outcome:
        """One pass: claim a batch and send it all."""
        outcome = Outcome()
        self._start(await self._claim(), outcome)
        while self._tasks:
            await asyncio.wait(set(self._tasks))
        return outcome

    def _start(self, rows: list[OutboxMessage], outcome: Outcome) -> None:
        """Queue rows on their chats; a chat with no sender task under way gets one.

        One task per chat keeps each chat's messages in order; chats go concurrently. A row
        of a chat already being sent to joins the end of that chat's queue."""
        for row in rows:
            key = (row.channel, row.chat_id)
            queue = self._queues.get(key)
            if queue is None:
                queue = self._queues[key] = deque()
                task = asyncio.create_task(self._send_chat(key, queue, outcome))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            queue.append(row)
            self._waiting += 1

    async def _refill(self) -> None:
        """Wait until a third of a batch is left waiting for send slots.

        Claiming the next batch then, while the last rows still go out, leaves no gap in the
        rate limit's slots between batches (a batch of 100 is 3.3 s of Telegram's 30/s)."""
        while self._tasks and self._waiting > self.batch // 3 and not self._stopping:
            self._progress.clear()
            await self._progress.wait()

    async def _send_chat(
        self, key: tuple[str, str], queue: deque[OutboxMessage], outcome: Outcome
    ) -> None:
        try:
            while queue:
                if self._stopping:  # stopping: what has not gone out yet goes back, due now
                    await self._defer(self._take_all(queue), 0)
                    return
                if not await self._send_next(queue, outcome):
                    return
        finally:
            if self._queues.get(key) is queue:
                del self._queues[key]
            self._waiting -= len(queue)
            queue.clear()
            self._progress.set()

    def _held(self) -> list[int]:
        return [*self._sending, *(r.id for q in self._queues.values() for r in q)]

    def _take_all(self, queue: deque[OutboxMessage]) -> list[OutboxMessage]:
        rows = list(queue)
        queue.clear()
        self._waiting -= len(rows)
        return rows

    def _took(self, queue: deque[OutboxMessage]) -> OutboxMessage:
        row = queue.popleft()
        self._waiting -= 1
        self._progress.set()
        return row

    async def _send_next(self, queue: deque[OutboxMessage], outcome: Outcome) -> bool:
        """Send the chat's next row; False when the rest of the chat's queue was handed back."""
        row = queue[0]
        limiter = self.limiter(row.channel)
        if not await limiter.wait(row.chat_id, is_group(row.chat_id)):
            rest = self._take_all(queue)
            await self._defer(rest, limiter.delay(row.chat_id, is_group(row.chat_id)))
            outcome.deferred += len(rest)
            return False
        self._took(queue)
        self._sending.add(row.id)
        try:
            return await self._deliver(row, queue, limiter, outcome)
        finally:
            self._sending.discard(row.id)

    async def _deliver(
        self,
        row: OutboxMessage,
        queue: deque[OutboxMessage],
        limiter: RateLimiter,
        outcome: Outcome,
    ) -> bool:
        sent_at = limiter.clock()
        try:
            media = (row.media_kind or "photo", row.media_path) if row.media_path else None
            await self.senders[row.channel].send(
                row.chat_id,
                row.text,
                row.buttons,
                media=media,
                ephemeral=row.ephemeral,
                **_resume(row),
            )
        except DeliveryError as exc:
            if exc.retry_after is not None:
                limiter.too_many(row.chat_id, exc.retry_after)
            delay = await self._failed(row, exc, outcome)
            if exc.blocked:  # no more attempts at a chat that blocked the bot
                rest = self._take_all(queue)
                await self._give_up(rest, outbox.BLOCKED)
                outcome.failed += len(rest)
                return False
            if not exc.permanent:  # the rest of this chat waits, so the order holds
                rest = self._take_all(queue)
                await self._defer(rest, delay)
                outcome.deferred += len(rest)
                return False
            return True
        except Exception as exc:  # a sender bug must not stop the outbox
            log.exception("sender %s failed on outbox row %s", row.channel, row.id)
            delay = await self._failed(row, DeliveryError(repr(exc)), outcome)
            await self._defer(self._take_all(queue), delay)
            return False
        limiter.answered(row.chat_id, sent_at)
        async with self.sessions() as session, session.begin():
            await outbox.mark_sent(session=session, row_id=row.id, now=self.clock())
        outcome.sent += 1
        return True

    async def _defer(self, rows: list[OutboxMessage], seconds: float) -> None:
        """Give claimed rows back, due later, without counting an attempt."""
        if not rows:
            return
        ids = [r.id for r in rows]
        # Held until given back: a claim meanwhile would take them as left by a dead process.
        self._sending.update(ids)
        try:
            async with self.sessions() as session, session.begin():
                await outbox.defer(
                    session=session, row_ids=ids, until=self.clock() + timedelta(seconds=seconds)
                )
        finally:
            self._sending.difference_update(ids)

    async def _give_up(self, rows: list[OutboxMessage], reason: str) -> None:
        if rows:
            ids = [r.id for r in rows]
            self._sending.update(ids)
            try:
                async with self.sessions() as session, session.begin():
                    await outbox.give_up(session=session, row_ids=ids, reason=reason)
            finally:
                self._sending.difference_update(ids)

    async def _failed(self, row: OutboxMessage, exc: DeliveryError, outcome: Outcome) -> float:
        """Record a failed send; the delay before the row is tried again."""
        final = exc.permanent or row.attempts >= MAX_ATTEMPTS
        delay = exc.retry_after if exc.retry_after is not None else min(600, 2**row.attempts)
        now = self.clock()
        async with self.sessions() as session, session.begin():
            if exc.parts_sent > row.parts_sent:
                row.parts_sent = exc.parts_sent
                await outbox.record_parts(session=session, row_id=row.id, parts_sent=exc.parts_sent)
            await outbox.record_failure(
                session=session,
                row_id=row.id,
                now=now,
                final=final,
                not_before=now + timedelta(seconds=delay),
                error=str(exc),
                blocked_chat=(row.channel, row.chat_id) if exc.blocked else None,
            )
        if final:
            outcome.failed += 1
            log.warning("outbox row %s (%s, %s) failed: %s", row.id, row.channel, row.purpose, exc)
        else:
            outcome.retried += 1
        return delay

    async def run_forever(self, idle_seconds: float = 2.0) -> None:
        while not self._stopping:
            try:
                rows = await self._claim()
            except Exception:
                log.exception("outbox pass failed; trying again shortly")
                rows = []
            if rows:
                self._start(rows, Outcome())
                await self._refill()
                continue
            self._wake.clear()
            waits = [asyncio.ensure_future(self._wake.wait())]
            try:
                await asyncio.wait(
                    [*waits, *self._tasks],
                    timeout=idle_seconds,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                waits[0].cancel()
        while self._tasks:  # the sends under way finish; the rest goes back to the table
            await asyncio.wait(set(self._tasks))
        await self.release()
