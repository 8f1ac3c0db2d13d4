"""Sends the outbox: claims due rows, hands them to the channel's sender, records the outcome.

It knows no platform library: bot/ gives it one sender per channel at start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.enums import OutboxStatus
from storage.models import Identity, OutboxMessage
from storage.types import utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8


class DeliveryError(Exception):
    """A send that failed: retry later (after retry_after when given), or never (permanent)."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
        blocked: bool = False,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent or blocked
        self.blocked = blocked


class Sender(Protocol):
    async def send(
        self,
        chat_id: str,
        text: str,
        buttons: list[list[dict[str, Any]]],
        media: tuple[str, str] | None = None,
    ) -> None:
        """Send one message; media is (kind, file path) of an image to send with it."""


@dataclass
class Outcome:
    sent: int = 0
    failed: int = 0
    retried: int = 0


class Dispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        senders: dict[str, Sender],
        *,
        clock: Callable[[], datetime] = utcnow,
        batch: int = 50,
        stuck_after: timedelta = timedelta(minutes=5),
    ) -> None:
        self.sessions = sessions
        self.senders = senders
        self.clock = clock
        self.batch = batch
        self.stuck_after = stuck_after
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def _claim(self) -> list[OutboxMessage]:
        now = self.clock()
        async with self.sessions() as session, session.begin():
            # A row left "sending" by a process that died is due again (at least once).
            await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.status == OutboxStatus.SENDING,
                    OutboxMessage.not_before < now - self.stuck_after,
                )
                .values(status=OutboxStatus.PENDING)
            )
            rows = (
                await session.scalars(
                    select(OutboxMessage)
                    .where(
                        OutboxMessage.status == OutboxStatus.PENDING,
                        OutboxMessage.not_before <= now,
                        OutboxMessage.channel.in_(list(self.senders)),
                    )
                    .order_by(OutboxMessage.id)
                    .limit(self.batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                row.status, row.not_before = OutboxStatus.SENDING, now
                row.attempts += 1
            return list(rows)

    async def run_once(self) -> Outcome:
        outcome = Outcome()
        for row in await self._claim():
            try:
                media = (row.media_kind, row.media_path) if row.media_path else None
                await self.senders[row.channel].send(
                    row.chat_id, row.text, row.buttons, media=media
                )
            except DeliveryError as exc:
                await self._failed(row, exc, outcome)
                continue
            except Exception as exc:  # a sender bug must not stop the outbox
                log.exception("sender %s failed on outbox row %s", row.channel, row.id)
                await self._failed(row, DeliveryError(repr(exc)), outcome)
                continue
            async with self.sessions() as session, session.begin():
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row.id)
                    .values(status=OutboxStatus.SENT, sent_at=self.clock(), last_error=None)
                )
            outcome.sent += 1
        return outcome

    async def _failed(self, row: OutboxMessage, exc: DeliveryError, outcome: Outcome) -> None:
        final = exc.permanent or row.attempts >= MAX_ATTEMPTS
        delay = exc.retry_after if exc.retry_after is not None else min(600, 2**row.attempts)
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(
                    status=OutboxStatus.FAILED if final else OutboxStatus.PENDING,
                    not_before=self.clock() + timedelta(seconds=delay),
                    last_error=str(exc)[:500],
                )
            )
            if exc.blocked:
                await session.execute(
                    update(Identity)
                    .where(Identity.channel == row.channel, Identity.chat_id == row.chat_id)
                    .values(blocked_at=self.clock())
                )
        if final:
            outcome.failed += 1
            log.warning("outbox row %s to %s:%s failed: %s", row.id, row.channel, row.chat_id, exc)
        else:
            outcome.retried += 1

    async def run_forever(self, idle_seconds: float = 2.0) -> None:
        while True:
            try:
                outcome = await self.run_once()
            except Exception:
                log.exception("outbox pass failed; trying again shortly")
                outcome = Outcome()
            if outcome.sent or outcome.retried:
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=idle_seconds)
            except TimeoutError:
                pass
