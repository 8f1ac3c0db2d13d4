"""PostgreSQL's session-level advisory locks, which elect the one worker that leads (the
scheduler) or sends (the outbox of each channel).

Held by a connection, not a transaction: the lock lasts while the connection does, and
PostgreSQL drops it when the connection dies.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

_TRY_LOCK = text("SELECT pg_try_advisory_lock(:key)")
_UNLOCK = text("SELECT pg_advisory_unlock(:key)")
_PING = text("SELECT 1")


async def try_lock(*, connection: AsyncConnection, key: int) -> bool:
    """Take the lock if it is free; True when this connection holds it.

    Commits, so the connection does not sit idle in a transaction while it holds the lock.
    """
    got = await connection.scalar(_TRY_LOCK, {"key": key})
    await connection.commit()
    return bool(got)


async def unlock(*, connection: AsyncConnection, key: int) -> None:
    await connection.execute(_UNLOCK, {"key": key})
    await connection.commit()


async def ping(*, connection: AsyncConnection) -> None:
    """Raises when the connection, and with it the lock, is gone."""
    await connection.execute(_PING)


class LeaderLock:
    """One advisory lock, held on a connection of its own; on SQLite (one process) always held."""

    def __init__(self, engine: AsyncEngine, key: int, name: str) -> None:
        self.engine = engine
        self.key = key
        self.name = name
        self._conn: AsyncConnection | None = None

    @property
    def shared(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    async def hold(self) -> bool:
        """True while this worker leads: takes the lock if free, checks it if held."""
        if not self.shared:
            return True
        if self._conn is not None:
            try:
                await ping(connection=self._conn)
                return True
            except Exception:
                log.warning("lost the connection holding %s; trying again", self.name)
                await self.release()
        conn = await self.engine.connect()
        try:
            got = await try_lock(connection=conn, key=self.key)
        except Exception:
            await conn.close()
            raise
        if got:
            self._conn = conn
            return True
        await conn.close()
        return False

    async def release(self) -> None:
        if self._conn is not None:
            try:
                await unlock(connection=self._conn, key=self.key)
            except Exception:
                log.debug("could not unlock; dropping the connection instead", exc_info=True)
            finally:
                # Invalidated, not pooled: a pooled session would go on holding the lock.
                await self._conn.invalidate()
                await self._conn.close()
                self._conn = None
