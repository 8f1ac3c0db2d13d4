"""The rate limiter keeps Telegram's limits where messages arrive, under a varying latency:
a simulation in virtual time of a Bot API that answers 429 past 30 messages in any second or
a second message to one chat within a second, reached 20-200 ms after a send and answering
20-200 ms later."""

from __future__ import annotations

import heapq
import itertools
import random
from collections import deque
from dataclasses import dataclass, field

from scheduler.limits import Limits, RateLimiter


@dataclass
class Strict:
    """Telegram's limits where messages arrive."""

    recent: deque[float] = field(default_factory=deque)
    last_to: dict[str, float] = field(default_factory=dict)
    arrivals: list[tuple[float, str]] = field(default_factory=list)
    too_many: int = 0

    def accepts(self, at: float, chat: str) -> bool:
        while self.recent and self.recent[0] <= at - 1.0:
            self.recent.popleft()
        if len(self.recent) >= 30 or at - self.last_to.get(chat, -10.0) < 1.0:
            self.too_many += 1
            return False
        self.recent.append(at)
        self.last_to[chat] = at
        self.arrivals.append((at, chat))
        return True


def deliver(messages: list[str], latency: tuple[float, float], seed: int = 7) -> Strict:
    """Send messages (a chat id each, in order per chat) as the dispatcher does: one send at a
    time per chat, the next only once the last is answered, a 429 tried again after its
    retry_after. Returns the server's record."""
    rnd = random.Random(seed)
    now = 0.0
    limiter = RateLimiter(Limits(), clock=lambda: now)
    server = Strict()
    waiting: dict[str, deque[str]] = {}
    for chat in messages:
        waiting.setdefault(chat, deque()).append(chat)
    ready = deque(waiting)  # chats with nothing in flight
    answers: list[tuple[float, int, str, float, bool]] = []
    n = 0
    while ready or answers:
        # The next chat's slot, unless an answer comes first.
        slot = min((now + limiter.delay(c, False) for c in ready), default=float("inf"))
        if answers and answers[0][0] <= slot:
            now, _, chat, sent_at, ok = heapq.heappop(answers)
            if ok:
                limiter.answered(chat, sent_at)
                waiting[chat].popleft()
            else:
                limiter.too_many(chat, 1.0)
            if waiting[chat]:
                ready.append(chat)
            continue
        chat = min(ready, key=lambda c: limiter.delay(c, False))
        now = slot
        ready.remove(chat)
        limiter.reserve(chat, False)
        arrival = now + rnd.uniform(*latency)
        ok = server.accepts(arrival, chat)
        n += 1
        heapq.heappush(answers, (arrival + rnd.uniform(*latency), n, chat, now, ok))
    return server


def test_under_a_varying_latency_few_429s_and_no_chat_gets_two_messages_within_a_second():
    chats = ["busy"] * 10 + [str(i) for i in range(1500)]
    server = deliver(chats, (0.020, 0.200))
    assert len(server.arrivals) == len(chats)  # every message, once
    assert server.too_many < len(chats) / 100
    busy = [at for at, chat in server.arrivals if chat == "busy"]
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(busy))


def test_without_latency_nothing_is_spaced_wider():
    chats = [str(i) for i in range(600)]
    server = deliver(chats, (0.0, 0.0))
    assert server.too_many == 0
    span = server.arrivals[-1][0] - server.arrivals[0][0]
    assert span <= 599 / 30 * (1 + Limits().slack) + 1e-6


def _measured(limiter: RateLimiter, clock: list[float], trips: list[float]) -> None:
    for i, trip in enumerate(trips):
        sent = clock[0]
        clock[0] += trip
        limiter.answered(f"c{i}", sent)


def test_a_chat_waits_from_the_answer_less_the_shortest_trip():
    clock = [0.0]
    limiter = RateLimiter(Limits(), clock=lambda: clock[0])
    _measured(limiter, clock, [0.05, 0.30])
    limiter.reserve("x", False)
    sent = clock[0]
    clock[0] += 0.40  # a slow one: it may have arrived as late as 0.35 s after leaving
    limiter.answered("x", sent)
    assert abs(limiter.delay("x", False) - (1.0 - 0.05)) < 1e-9


def test_a_429_spaces_every_send_wider_within_the_measured_spread_and_successes_undo_it():
    clock = [0.0]
    limiter = RateLimiter(Limits(), clock=lambda: clock[0])
    limiter.too_many("a", 1.0)
    assert limiter.margin == 0  # nothing measured: no reason to think sends bunch
    assert limiter.delay("a", False) == 1.0  # its retry_after is honoured
    _measured(limiter, clock, [0.04 + 0.36 * (i % 10) / 9 for i in range(100)])
    spread = limiter.spread()
    assert 0.1 < spread < 0.2  # half the spread of round trips of 40-400 ms
    for _ in range(10):
        limiter.too_many("b", 1.0)
    assert limiter.margin == spread  # never beyond what the latency can explain
    _measured(limiter, clock, [0.04 + 0.36 * (i % 10) / 9 for i in range(600)])
    assert 0 < limiter.margin < spread / 2
    _measured(limiter, clock, [0.04 + 0.36 * (i % 10) / 9 for i in range(400)])
    assert limiter.margin == 0
