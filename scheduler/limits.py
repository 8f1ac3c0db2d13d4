"""Sending within a channel's limits: overall per second, per chat, per group per minute."""

from __future__ import annotations

import asyncio
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
        interval = (1 + self.limits.slack) / self.limits.per_second
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
