"""Sending within a channel's limits: overall per second, per chat, per group per minute.

The limits hold where messages arrive, not where they leave. A request takes a varying time
to reach the platform, so sends spaced evenly on this side arrive bunched on the other:

- per chat, the next message leaves only once the last one is answered, and its interval is
  counted from then, less the shortest round trip seen (the last one arrived at the latest
  one shortest trip before its answer, the next one arrives at the earliest that much after
  leaving);
- overall, the slots are spaced wider by a margin that grows on each 429 (its retry_after
  is honoured for the chat it names) and shrinks again while sends go through, never beyond
  the spread of the one-way times measured (how much two sends can move closer on the way).

Written here because the platform libraries leave rate limits to the application (python-
telegram-bot's AIORateLimiter counts send times in one process, and retries in place, which
breaks a chat's order with the outbox).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    per_second: float = 30.0  # all chats together
    per_chat_interval: float = 1.0  # seconds between two messages to one chat
    group_per_minute: int = 20  # messages into one group chat per minute
    # How late a send may wake, or arrive, without costing its slot: the slots are spaced
    # by (1 + slack) / per_second, so no second ever holds more than per_second sends.
    slack: float = 0.03
    # How fast the latency margin moves: up by this share of the measured spread on a 429,
    # down by it over two hundred sends that go through.
    adapt: float = 0.25


TELEGRAM = Limits()


class RateLimiter:
    """Reserves send slots. Single-threaded asyncio: a check and its reservation never
    interleave with another task's, so concurrent senders never overshoot."""

    def __init__(
        self,
        limits: Limits,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limits = limits
        self.clock = clock
        self.sleep = sleep
        self._next_any = 0.0
        self._next_chat: dict[str, float] = {}
        self._group_sent: dict[str, deque[float]] = {}
        self._trips: deque[float] = deque(maxlen=200)  # recent round trips, seconds
        self.margin = 0.0  # extra spacing of the overall slots, in seconds per second

    def spread(self) -> float:
        """How much closer two sends may arrive than they left: the spread of one-way times,
        taken as half the spread of recent round trips (5th to 95th percentile)."""
        if len(self._trips) < 20:
            return 0.0
        cuts = statistics.quantiles(self._trips, n=20)
        return (cuts[-1] - cuts[0]) / 2

    def answered(self, chat_id: str, sent_at: float) -> None:
        """A send to chat_id that left at sent_at (clock time) was just answered, with success."""
        now = self.clock()
        self._trips.append(now - sent_at)
        shortest = min(self._trips)
        after = now + self.limits.per_chat_interval - shortest
        self._next_chat[chat_id] = max(self._next_chat.get(chat_id, 0.0), after)
        spread = self.spread()
        self.margin = min(spread, max(0.0, self.margin - self.limits.adapt * spread / 200))

    def too_many(self, chat_id: str, retry_after: float) -> None:
        """A 429: the chat waits retry_after, and every send is spaced a little wider."""
        self.pause(chat_id, retry_after)
        spread = self.spread()
        self.margin = min(spread, self.margin + self.limits.adapt * spread)

    def delay(self, chat_id: str, group: bool) -> float:
        """Seconds until chat_id may be sent to."""
        now = self.clock()
        ready = max(self._next_any, self._next_chat.get(chat_id, 0.0))
        window = self._group_sent.get(chat_id)
        if group and window is not None:
            while window and window[0] <= now - 60:
                window.popleft()
            if len(window) >= self.limits.group_per_minute:
                ready = max(ready, window[0] + 60)
        return max(0.0, ready - now)

    def reserve(self, chat_id: str, group: bool) -> None:
        now = self.clock()
        # From the slot itself, not from now: a wake-up a little late costs nothing later.
        # After a pause (further behind than the slack) the slots start again from now.
        interval = (1 + self.limits.slack + self.margin) / self.limits.per_second
        slot = self._next_any if self._next_any >= now - self.limits.slack else now
        self._next_any = slot + interval
        self._next_chat[chat_id] = now + self.limits.per_chat_interval
        if group:
            self._group_sent.setdefault(chat_id, deque()).append(now)

    async def wait(self, chat_id: str, group: bool, most: float = 5.0) -> bool:
        """Wait for a slot and take it; False (nothing taken) when it is further than most."""
        while (delay := self.delay(chat_id, group)) > 0:
            if delay > most:
                return False
            await self.sleep(delay)
        self.reserve(chat_id, group)
        return True

    def pause(self, chat_id: str, seconds: float) -> None:
        """After a 429 for one chat: that chat waits; the others go on."""
        self._next_chat[chat_id] = max(self._next_chat.get(chat_id, 0.0), self.clock() + seconds)
