"""Waking the other workers when updates are stored: PostgreSQL's NOTIFY, sent in the
storing transaction (so it arrives once the rows can be claimed), and LISTEN on a
connection of the listener's own. Without it a worker that does not poll finds new updates
only when its own batch ends or its idle second runs out, and the poller keeps them all.
SQLite has one process: nothing to tell.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

log = logging.getLogger(__name__)

CHANNEL = "binhyen_inbox"
_NOTIFY = text(f"SELECT pg_notify('{CHANNEL}', '')")
_PING = text("SELECT 1")


async def announce(*, session: AsyncSession) -> None:
    """Tell every listening worker, once this transaction commits, that rows are waiting."""
    await session.execute(_NOTIFY)


async def listen(
    engine: AsyncEngine, on_notice: Callable[[], None], *, check_seconds: float = 10.0
) -> None:
    """Call on_notice at each notice, until cancelled; a lost connection is opened again,
    with a growing pause (meanwhile the worker's idle second still finds what waits)."""
    pause = 1.0
    while True:
        try:
            async with engine.connect() as conn:
                raw = await conn.get_raw_connection()
                driver: Any = raw.driver_connection

                def heard(*_: object) -> None:
                    on_notice()

                await driver.add_listener(CHANNEL, heard)
                pause = 1.0
                try:
                    on_notice()  # whatever was stored before the listener was there
                    while True:
                        await asyncio.sleep(check_seconds)
                        await conn.execute(_PING)
                        await conn.commit()
                finally:  # the connection goes back to the pool without its listener
                    try:
                        await driver.remove_listener(CHANNEL, heard)
                    except Exception:
                        await conn.invalidate()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("the inbox listener lost its connection (%s); again in %.0f s", exc, pause)
            await asyncio.sleep(pause)
            pause = min(60.0, pause * 2)
