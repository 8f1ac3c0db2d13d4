"""PostgreSQL's session-level advisory locks, which elect the one worker that leads.

Held by a connection, not a transaction: the lock lasts while the connection does, and
PostgreSQL drops it when the connection dies.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

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
