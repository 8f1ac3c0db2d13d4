"""Limits on guessing secret codes: wrong guesses counted per key and in all, per window,
in the database so that every worker and every chat shares them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import GuessCounter


async def _counter(
    session: AsyncSession, scope: str, key: str, now: datetime, window: timedelta
) -> GuessCounter:
    counter = await session.get(GuessCounter, (scope, key), with_for_update=True)
    if counter is None:
        counter = GuessCounter(scope=scope, key=key, window_start=now, count=0)
        session.add(counter)
    elif now - counter.window_start >= window:
        counter.window_start, counter.count = now, 0
    return counter


async def exhausted(
    *, session: AsyncSession, scope: str, key: str, now: datetime, limit: int, window: timedelta
) -> bool:
    """Whether key has used up its wrong guesses for the window."""
    counter = await session.scalar(
        select(GuessCounter).where(GuessCounter.scope == scope, GuessCounter.key == key)
    )
    return counter is not None and now - counter.window_start < window and counter.count >= limit


async def wrong(
    *, session: AsyncSession, scope: str, key: str, now: datetime, window: timedelta
) -> None:
    counter = await _counter(session, scope, key, now, window)
    counter.count += 1
    await session.flush()
