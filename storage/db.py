"""Engines, sessions and migrations."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.keyring import Keyring

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # A failed statement is logged without its values: they can be a tip's text.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # The pool's rollback on return costs a trip to aiosqlite's thread on every
        # transaction; _rollback_if_open below skips it when the commit already ended it.
        kwargs.setdefault("pool_reset_on_return", None)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "reset", _rollback_if_open)
        _pragmas(engine, busy_ms=30_000)
        return engine
    # No pre-ping: it cost three round trips of eight on every update. A connection found
    # dead fails its statement, and the router runs the update again on a fresh one.
    return create_async_engine(url, **kwargs)


def _pragmas(engine: AsyncEngine, *, busy_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        # WAL with NORMAL: a commit survives the process dying (a crash, SIGKILL); only an
        # OS crash or power loss may lose the last commits. FULL fsyncs every answer and
        # costs ~10 ms each. Production runs on PostgreSQL, which stays fully durable.
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        # A deleted row (a message to a tipster, once sent) is overwritten in the file,
        # not left in a free page for anyone holding a copy to read.
        cur.execute("PRAGMA secure_delete=ON")
        cur.close()


def _rollback_if_open(dbapi_conn: Any, _record: Any, _state: Any) -> None:
    if dbapi_conn.driver_connection.in_transaction:  # read off sqlite3: no thread trip
        dbapi_conn.rollback()


def _rollback_inline(dbapi_conn: Any, _record: Any, _state: Any) -> None:
    if dbapi_conn.in_transaction:
        dbapi_conn.rollback()


# How long the loop may wait for SQLite's write lock held by another connection (the
# outbox, the scheduler, another process) before the router tries again after a pause.
INLINE_BUSY_MS = 200
_lean: weakref.WeakKeyDictionary[Any, async_sessionmaker[AsyncSession]] = (
    weakref.WeakKeyDictionary()
)


def lean_sessions(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """The sessions for the per-update transaction.

    On a SQLite file: one writer connection through the standard sqlite3 module on the event
    loop's thread (storage.inline_sqlite), with a short busy timeout; everything else (digests,
    exports, the outbox) keeps the aiosqlite engine, off the loop. Elsewhere: sessions."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine) or bind.url.drivername != "sqlite+aiosqlite":
        return sessions
    if not bind.url.database or bind.url.database == ":memory:":
        return sessions  # a database in memory is one connection's own: nothing to share
    known = _lean.get(bind.sync_engine)
    if known is not None:
        return known
    import storage.inline_sqlite  # noqa: F401  (registers the dialect)

    inline = create_async_engine(
        bind.url.set(drivername="sqlite+inline"),
        pool_size=1,
        max_overflow=0,
        pool_reset_on_return=None,
        hide_parameters=True,
        connect_args={"timeout": INLINE_BUSY_MS / 1000},
    )
    event.listen(inline.sync_engine, "reset", _rollback_inline)
    _pragmas(inline, busy_ms=INLINE_BUSY_MS)
    # Closed with the engine it serves (its connection would otherwise outlive it).
    event.listen(bind.sync_engine, "engine_disposed", lambda _e: inline.sync_engine.dispose())
    maker = async_sessionmaker(inline, expire_on_commit=False)
    _lean[bind.sync_engine] = maker
    return maker


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@dataclass(frozen=True)
class MigrationKeys:
    """The keys a migration of data may need, which are not in the database: the tip keys
    to seal the way back to tipsters (0011), the secret key to make pseudonyms again when
    going back before it."""

    tip_keys: Keyring | None = None
    secret: bytes | None = None


def alembic_config(
    connection: Connection | None = None, keys: MigrationKeys | None = None
) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    cfg.attributes["keys"] = keys or MigrationKeys()
    return cfg


def _upgrade(connection: Connection, revision: str, keys: MigrationKeys | None) -> None:
    command.upgrade(alembic_config(connection, keys), revision)


def _downgrade(connection: Connection, revision: str, keys: MigrationKeys | None) -> None:
    command.downgrade(alembic_config(connection, keys), revision)


async def upgrade(
    engine: AsyncEngine, revision: str = "head", *, keys: MigrationKeys | None = None
) -> None:
    """Bring the schema to revision (the bot does this on every start)."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, revision, keys)


async def downgrade(
    engine: AsyncEngine, revision: str, *, keys: MigrationKeys | None = None
) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_downgrade, revision, keys)
