"""Prometheus metrics of the bot process, on a registry of its own (one per app, so that
tests may build several). The outbox and the oldest waiting alert are read at each scrape."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from conversations.events import Incoming, Reply
from scheduler.dispatcher import DeliveryError, Sender


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = Counter(
            "binhyen_updates_handled",
            "Updates handled, by channel",
            ["channel"],
            registry=self.registry,
        )
        self.step_seconds = Histogram(
            "binhyen_step_seconds",
            "Time to handle one update, commit included",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "binhyen_outbox_429",
            "Sends the platform answered with 429, by channel",
            ["channel"],
            registry=self.registry,
        )
        self.snapshot: dict[str, Any] = {"outbox": {}, "oldest_urgent_seconds": 0.0}
        self.registry.register(_Snapshot(self))


class _Snapshot(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        outbox = GaugeMetricFamily(
            "binhyen_outbox_messages", "Outbox messages by status", labels=["status"]
        )
        for status, count in sorted(self.metrics.snapshot["outbox"].items()):
            outbox.add_metric([status], count)
        yield outbox
        yield GaugeMetricFamily(
            "binhyen_oldest_unacknowledged_urgent_seconds",
            "Age of the oldest urgent incident nobody has acknowledged (0: none)",
            value=self.metrics.snapshot["oldest_urgent_seconds"],
        )


def age_seconds(since: datetime | None, now: datetime) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0


class TimedRouter:
    """The router as the channels see it, each update counted and timed."""

    def __init__(self, router: Any, metrics: Metrics) -> None:
        self.router = router
        self.metrics = metrics

    async def handle(self, event: Incoming) -> list[Reply]:
        started = time.perf_counter()
        try:
            return list(await self.router.handle(event))
        finally:
            self.metrics.step_seconds.observe(time.perf_counter() - started)
            self.metrics.updates.labels(event.channel).inc()

    async def handle_batch(self, events: list[Incoming]) -> list[list[Reply]]:
        started = time.perf_counter()
        try:
            return list(await self.router.handle_batch(events))
        finally:
            for event in events:  # a batch shares its commit: each event its share of it
                self.metrics.step_seconds.observe((time.perf_counter() - started) / len(events))
                self.metrics.updates.labels(event.channel).inc()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.router, name)


class CountingSender:
    """An outbox sender whose 429 answers are counted."""

    def __init__(self, sender: Sender, channel: str, metrics: Metrics) -> None:
        self.sender = sender
        self.channel = channel
        self.metrics = metrics

    async def send(
        self,
        chat_id: str,
        text: str,
        buttons: list[list[dict[str, Any]]],
        media: tuple[str, str] | None = None,
        ephemeral: bool = False,
    ) -> None:
        try:
            await self.sender.send(chat_id, text, buttons, media, ephemeral)
        except DeliveryError as exc:
            if str(exc).startswith("429"):
                self.metrics.rate_limited.labels(self.channel).inc()
            raise
